/**
 * HubSpot's webhooks of a project-based app (SY-3), pure: the v3 signature and the events.
 *
 * Signature v3 (HubSpot "Validating requests"): `X-HubSpot-Signature-v3` is
 * base64(HMAC-SHA256(client secret, method + URI + body + `X-HubSpot-Request-Timestamp`)), the
 * URI as HubSpot called it (`https://` + Host + path and query); a timestamp more than 5 minutes
 * away is refused, so a captured delivery cannot be replayed later.
 *
 * Events are a JSON array; each names its subscription (`object.propertyChange` with
 * `objectTypeId` 0-1 for contacts, 0-3 for deals, or the legacy `contact.propertyChange` /
 * `deal.propertyChange`), the record (`objectId`), the property and its new value, when
 * (`occurredAt`, ms) and who (`changeSource`, `sourceId`: `userId:<id>` for a person, the app's id
 * for an integration).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod/mini';
import '../../zod.ts';
import type { CrmChange, CrmEvent, CrmFieldChange } from '../two-way.ts';

/** The contact properties two-way sync reads and writes besides the mapped ones. */
export const TWO_WAY_PROPERTY = {
  firstName: 'firstname',
  /** An agent's reply to the customer, written on the contact (a textarea property). */
  reply: 'whatsapp_reply',
  /** The reply's delivery status, written back by us. */
  replyStatus: 'whatsapp_reply_status',
  /** Sales noted that the customer wants no marketing (a checkbox). */
  optOut: 'whatsapp_marketing_opt_out',
} as const;

export const MAX_SIGNATURE_AGE_MS = 5 * 60_000;

export function verifyHubSpotSignature(input: { method: string; uri: string; body: string; timestamp: string | undefined; signature: string | undefined; secret: string; now: number }): { ok: true } | { ok: false; reason: string } {
  if (!input.signature) return { ok: false, reason: 'X-HubSpot-Signature-v3 header is missing' };
  if (!input.timestamp) return { ok: false, reason: 'X-HubSpot-Request-Timestamp header is missing' };
  const at = Number(input.timestamp);
  if (!Number.isFinite(at)) return { ok: false, reason: `X-HubSpot-Request-Timestamp "${input.timestamp.slice(0, 40)}" is not milliseconds` };
  if (Math.abs(input.now - at) > MAX_SIGNATURE_AGE_MS) return { ok: false, reason: `the request timestamp is ${Math.round(Math.abs(input.now - at) / 1000)} s away from now (at most ${MAX_SIGNATURE_AGE_MS / 1000} s): stale or replayed` };
  const expected = createHmac('sha256', input.secret).update(`${input.method.toUpperCase()}${decodeUri(input.uri)}${input.body}${input.timestamp}`).digest();
  const given = Buffer.from(input.signature, 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'X-HubSpot-Signature-v3 does not match the request' };
  return { ok: true };
}

/** HubSpot signs the URI with these characters decoded (its docs list them). */
function decodeUri(uri: string): string {
  return uri.replace(/%3A/gi, ':').replace(/%2F/gi, '/').replace(/%3F/gi, '?').replace(/%40/gi, '@').replace(/%21/gi, '!').replace(/%24/gi, '$').replace(/%27/gi, "'").replace(/%28/gi, '(').replace(/%29/gi, ')').replace(/%2A/gi, '*').replace(/%2C/gi, ',').replace(/%3B/gi, ';');
}

const id = z.union([z.string().check(z.minLength(1)), z.number()]);
const EventSchema = z.looseObject({
  eventId: id,
  occurredAt: z.number(),
  subscriptionType: z.string(),
  objectId: id,
  objectTypeId: z.optional(z.string()),
  propertyName: z.optional(z.string()),
  propertyValue: z.optional(z.nullable(z.union([z.string(), z.number(), z.boolean()]))),
  changeSource: z.optional(z.string()),
  sourceId: z.optional(z.nullable(z.string())),
  appId: z.optional(id),
});
const BodySchema = z.array(EventSchema).check(z.minLength(1), z.maxLength(1000));

const CLOSED_STAGES = new Set(['closedwon', 'closedlost']);

export function parseHubSpotEvents(body: unknown, options: { customerLevelProperty: string; appId?: string | undefined }): { events: CrmEvent[] } | { error: string } {
  const parsed = BodySchema.safeParse(body);
  if (!parsed.success) return { error: `not HubSpot webhook events: ${parsed.error.issues.map((i) => `${i.path.map(String).join('.') || 'body'}: ${i.message}`).join('; ')}` };
  const events: CrmEvent[] = [];
  for (const e of parsed.data) {
    const type = e.subscriptionType;
    const isContact = type === 'contact.propertyChange' || (type === 'object.propertyChange' && e.objectTypeId === '0-1');
    const isDeal = type === 'deal.propertyChange' || (type === 'object.propertyChange' && e.objectTypeId === '0-3');
    if ((!isContact && !isDeal) || !e.propertyName) continue;
    const raw = e.propertyValue;
    const value = raw === undefined || raw === null || raw === '' ? null : String(raw);
    const objectId = String(e.objectId);
    const byUser = e.sourceId?.startsWith('userId:') ? e.sourceId.slice('userId:'.length) : undefined;
    const ours = options.appId !== undefined && (e.sourceId === options.appId || e.sourceId === `appId:${options.appId}` || String(e.appId ?? '') === options.appId && e.changeSource === 'INTEGRATION') ? true : undefined;
    let change: CrmChange | undefined;
    if (isContact) {
      const field: CrmFieldChange['field'] | undefined = e.propertyName === TWO_WAY_PROPERTY.firstName ? 'firstName' : e.propertyName === options.customerLevelProperty ? 'customerLevel' : undefined;
      if (field) change = { kind: 'contact', crmId: objectId, changes: [{ field, value, at: e.occurredAt }], ...(ours && { ours }) };
      else if (e.propertyName === TWO_WAY_PROPERTY.optOut && value === 'true') change = { kind: 'contact', crmId: objectId, changes: [], optedOutAt: e.occurredAt, ...(ours && { ours }) };
      else if (e.propertyName === TWO_WAY_PROPERTY.reply && value !== null && !ours) change = { kind: 'reply', replyId: `${objectId}:${e.occurredAt}`, contactCrmId: objectId, text: value, ...(byUser && { crmUserId: byUser }), at: e.occurredAt };
    } else if (e.propertyName === 'dealstage' && value !== null && CLOSED_STAGES.has(value)) {
      // The event does not say whose deal it is: the adapter reads its associated contact.
      events.push({ eventId: String(e.eventId), occurredAt: e.occurredAt, change: { kind: 'ref', module: 'deals', ids: [objectId], operation: 'closed', at: e.occurredAt } });
      continue;
    }
    if (change) events.push({ eventId: String(e.eventId), occurredAt: e.occurredAt, change });
  }
  return { events };
}
