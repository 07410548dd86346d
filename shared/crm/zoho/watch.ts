/**
 * The Zoho notification channel (Notification API, `{api}/crm/v8/actions/watch`): Zoho POSTs a
 * callback to `notify_url` for each create / edit on the channel's modules until
 * `channel_expiry`, at most a week after it was enabled (a later expiry, or none, gets one hour).
 * So a scheduled task renews it well inside the week:
 *   PUT  /actions/watch  update the channel's details (all of them: the ones left out are removed)
 *   POST /actions/watch  enable it, when the update is refused (no such channel: never opened,
 *                        expired, disabled)
 * Both take `{ watch: [{ channel_id, events, channel_expiry, token, notify_url,
 * return_affected_field_values, notify_on_related_action }] }` and answer per channel
 * `{ watch: [{ code: "SUCCESS", details: { events: [{ channel_expiry, resource_name, … }] }, status }] }`
 * (an error entry `{ code, details: { api_name, json_path }, status: "error" }` otherwise).
 */
import * as z from 'zod/mini';
import '../../zod.ts';
import { CrmError } from '../port.ts';
import { DEAL, TASK, CONTACTS_MODULE } from './fields.ts';
import { describe } from './http.ts';
import { zohoDateTime, parseZohoTime } from './format.ts';
import type { ZohoApi } from './api.ts';

export interface ZohoChannel {
  /** A long (digits): Zoho sends it back in every callback. */
  readonly channelId: string;
  /** Sent back in every callback: the proof it comes from Zoho (at most 50 characters). */
  readonly token: string;
  readonly notifyUrl: string;
  readonly expiresAt: number;
}

/** Contacts created (a sales user's own) and edited, replies written as Tasks, deals moved to a stage. */
export const WATCHED_EVENTS = [`${CONTACTS_MODULE}.create`, `${CONTACTS_MODULE}.edit`, `${TASK.module}.create`, `${DEAL.module}.edit`];
/** Zoho's limits: a week at most, a token of 50 characters. */
export const MAX_CHANNEL_MS = 7 * 86_400_000;
export const MAX_TOKEN_LENGTH = 50;
/** Kept off the week's edge: Zoho measures the week from its own clock. */
const EXPIRY_MARGIN_MS = 60_000;

const channelEvent = z.looseObject({ channel_expiry: z.optional(z.string()), resource_name: z.optional(z.string()) });
const watchEntry = z.looseObject({
  code: z.string(),
  status: z.optional(z.string()),
  details: z.optional(z.looseObject({ events: z.optional(z.array(channelEvent)), api_name: z.optional(z.string()) })),
});
const watchAnswer = z.object({ watch: z.array(watchEntry) });
type WatchEntry = z.infer<typeof watchEntry>;

/** Opens or renews the channel; its expiry as Zoho set it. */
export async function watchChannel(api: ZohoApi, channel: ZohoChannel, now: number): Promise<{ expiresAt: number; calls: number }> {
  if (!/^\d{1,19}$/.test(channel.channelId)) throw new CrmError('permanent', 'a Zoho channel id is a number (a long)', { crm: 'zoho' });
  if (!channel.token || channel.token.length > MAX_TOKEN_LENGTH) throw new CrmError('permanent', `a Zoho channel token has 1 to ${MAX_TOKEN_LENGTH} characters`, { crm: 'zoho' });
  if (!/^https?:\/\//.test(channel.notifyUrl)) throw new CrmError('permanent', 'a Zoho notify_url is an http(s) URL', { crm: 'zoho' });
  const expiresAt = Math.min(channel.expiresAt, now + MAX_CHANNEL_MS - EXPIRY_MARGIN_MS);
  if (expiresAt <= now) throw new CrmError('permanent', 'the channel would expire before it is opened', { crm: 'zoho' });
  const body = {
    watch: [
      {
        channel_id: channel.channelId,
        events: WATCHED_EVENTS,
        channel_expiry: zohoDateTime(expiresAt),
        token: channel.token,
        notify_url: channel.notifyUrl,
        // The names of the changed fields let resolve skip an edit of fields we do not sync.
        return_affected_field_values: true,
        notify_on_related_action: false,
      },
    ],
  };
  const updated = await send(api, 'PUT', body);
  const entry = updated.ok ? updated.entry : (await send(api, 'POST', body)).entry;
  if (entry.code !== 'SUCCESS') throw new CrmError('permanent', `Zoho refused the notification channel: ${entry.code}${entry.details?.api_name ? ` (${entry.details.api_name})` : ''}`, { crm: 'zoho', category: entry.code });
  const expiries = (entry.details?.events ?? []).map((e) => parseZohoTime(e.channel_expiry)).filter((t): t is number => t !== undefined);
  return { expiresAt: expiries.length ? Math.min(...expiries) : expiresAt, calls: api.calls };
}

/**
 * The channel's entry of the answer; `ok` false when Zoho refused it (a 400 / 207 carries the
 * entry). An update refused as a whole (a request-level 400: Zoho does not document how it
 * refuses an update of a channel it does not have) reads as refused, so the enable is tried.
 */
async function send(api: ZohoApi, method: 'PUT' | 'POST', body: unknown): Promise<{ ok: boolean; entry: WatchEntry }> {
  const response = await api.http.send({
    method,
    path: '/actions/watch',
    body,
    tolerate: (status, answer) => (status === 400 && method === 'PUT') || ((status === 400 || status === 207) && watchAnswer.safeParse(answer).success),
  });
  const parsed = watchAnswer.safeParse(response.body);
  const entry = parsed.success ? parsed.data.watch[0] : undefined;
  if (entry) return { ok: entry.code === 'SUCCESS', entry };
  if (response.status === 400) return { ok: false, entry: { code: 'REFUSED' } };
  throw new CrmError('transient', `Zoho answered ${method} /actions/watch in an unexpected shape${describe(response.body)}`, { crm: 'zoho', status: response.status });
}
