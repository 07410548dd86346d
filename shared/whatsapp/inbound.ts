/**
 * Turns a verified webhook payload into business events. Pure: no I/O, no clock.
 * Whatever does not fit becomes an `Unprocessable` event with the raw JSON, never an exception.
 */
import { normalisePhone } from '../phone.ts';
import {
  MESSAGE_TYPES,
  type AccountRef,
  type CustomerRef,
  type IdentityChange,
  type InboundMessage,
  type MediaRef,
  type StatusUpdate,
  type WebhookEvent,
} from '../domain/events.ts';
import {
  ChangeValueSchema,
  UserIdUpdateSchema,
  UserPreferenceSchema,
  WebhookContactSchema,
  WebhookMessageSchema,
  WebhookStatusSchema,
  describeIssues,
  type WebhookContact,
  type WebhookMessage,
  type WebhookPayload,
  type WebhookStatus,
} from './schema.ts';

const MEDIA_KINDS = ['image', 'video', 'audio', 'document', 'sticker'] as const;

/**
 * Longest message or status id kept as such. Meta's wamids are under 100 characters; the row key
 * and the history sort key built from it must stay within DynamoDB's key limits (2,048 and 1,024
 * bytes). A longer id cannot be a row key: its event is kept raw.
 */
export const MAX_MESSAGE_ID_LENGTH = 512;

const idTooLong = (what: string, id: string) =>
  id.length > MAX_MESSAGE_ID_LENGTH ? `${what} id is ${id.length} characters; the limit is ${MAX_MESSAGE_ID_LENGTH}` : undefined;
const KNOWN_TYPES = new Set<string>(MESSAGE_TYPES);

export interface ParseOptions {
  /** Region for phone numbers without a country code (SCRM_DEFAULT_REGION). */
  readonly defaultRegion: string;
}

export function parseWebhook(payload: WebhookPayload, options: ParseOptions): WebhookEvent[] {
  const events: WebhookEvent[] = [];
  for (const entry of payload.entry) {
    for (const change of entry.changes) {
      events.push(...parseChange(entry.id, change.field, change.value, options));
    }
  }
  return events;
}

function parseChange(wabaId: string, field: string, value: unknown, options: ParseOptions): WebhookEvent[] {
  const parsed = ChangeValueSchema.safeParse(value);
  const handled = field === 'messages' || field === 'user_preferences';
  if (!handled || !parsed.success || !parsed.data.metadata) {
    const reason = !handled
      ? `webhook field "${field}" is not handled`
      : parsed.success ? 'change has no metadata.phone_number_id' : describeIssues(parsed.error);
    return [{ kind: 'unprocessable', reason, field, raw: value }];
  }
  const change = parsed.data;
  const meta = change.metadata!;
  const account: AccountRef = {
    wabaId,
    phoneNumberId: meta.phone_number_id,
    displayPhone: meta.display_phone_number,
  };
  const contacts = (change.contacts ?? []).flatMap((c) => {
    const r = WebhookContactSchema.safeParse(c);
    return r.success ? [r.data] : [];
  });

  const events: WebhookEvent[] = [];
  for (const raw of change.messages ?? []) {
    const r = WebhookMessageSchema.safeParse(raw);
    const problem = r.success ? idTooLong('message', r.data.id) : `message: ${describeIssues(r.error)}`;
    events.push(problem || !r.success ? { kind: 'unprocessable', reason: problem!, field, account, raw } : toInboundMessage(r.data, contacts, account, options));
  }
  for (const raw of change.statuses ?? []) {
    const r = WebhookStatusSchema.safeParse(raw);
    const problem = r.success ? idTooLong('status', r.data.id) : `status: ${describeIssues(r.error)}`;
    events.push(problem || !r.success ? { kind: 'unprocessable', reason: problem!, field, account, raw } : toStatusUpdate(r.data, contacts, account, options));
  }
  for (const raw of change.user_preferences ?? []) {
    const r = UserPreferenceSchema.safeParse(raw);
    const value = r.success ? r.data.value.toLowerCase() : undefined;
    if (!r.success || r.data.category !== 'marketing_messages' || (value !== 'stop' && value !== 'resume')) {
      events.push({ kind: 'unprocessable', reason: r.success ? `user_preferences ${r.data.category}=${r.data.value} is not handled` : `user_preferences: ${describeIssues(r.error)}`, field, account, raw });
      continue;
    }
    const contact = contactFor(contacts, r.data.wa_id, r.data.user_id);
    events.push({
      kind: 'preference',
      account,
      at: Number(r.data.timestamp) * 1000,
      customer: { bsuid: r.data.user_id ?? contact?.user_id, parentBsuid: r.data.parent_user_id, phone: phoneOf(r.data.wa_id ?? contact?.wa_id, options), profileName: contact?.profile?.name },
      marketing: value === 'stop' ? 'opted_out' : 'opted_in',
      raw,
    });
  }
  for (const raw of change.user_id_update ?? []) {
    const r = UserIdUpdateSchema.safeParse(raw);
    const current = r.success ? r.data.user_id?.current : undefined;
    if (!r.success || !current) {
      events.push({ kind: 'unprocessable', reason: 'user_id_update without user_id.current', field, account, raw });
      continue;
    }
    const previous = r.data.user_id?.previous;
    events.push({
      kind: 'identity_update',
      account,
      at: r.data.timestamp ? Number(r.data.timestamp) * 1000 : 0,
      customer: { bsuid: previous, phone: phoneOf(r.data.wa_id, options) },
      change: { reason: 'user_id_update', newBsuid: current, previousBsuid: previous },
      raw,
    });
  }
  for (const raw of change.errors ?? []) {
    events.push({ kind: 'unprocessable', reason: 'error notification from Meta', field, account, raw });
  }
  return events;
}

function phoneOf(value: string | undefined, options: ParseOptions) {
  return value ? normalisePhone(value, options.defaultRegion) : undefined;
}

function contactFor(contacts: readonly WebhookContact[], phone: string | undefined, bsuid: string | undefined) {
  return (
    contacts.find((c) => (bsuid && c.user_id === bsuid) || (phone && c.wa_id === phone)) ??
    (contacts.length === 1 ? contacts[0] : undefined)
  );
}

function toInboundMessage(
  m: WebhookMessage,
  contacts: readonly WebhookContact[],
  account: AccountRef,
  options: ParseOptions,
): InboundMessage {
  const contact = contactFor(contacts, m.from, m.from_user_id);
  const identityChange = identityChangeOf(m, options);
  const customer: CustomerRef = {
    // On a user_changed_* system message the sender fields are the OLD identities.
    bsuid: identityChange?.previousBsuid ?? m.from_user_id ?? contact?.user_id,
    parentBsuid: m.from_parent_user_id ?? contact?.parent_user_id,
    phone: phoneOf(m.from ?? contact?.wa_id, options),
    username: contact?.profile?.username,
    profileName: contact?.profile?.name,
  };
  const media = mediaOf(m);
  return {
    kind: 'message',
    wamid: m.id,
    account,
    sentAt: Number(m.timestamp) * 1000,
    type: m.type,
    knownType: KNOWN_TYPES.has(m.type),
    customer,
    summary: summaryOf(m),
    text: textOf(m),
    media,
    referral: m.referral && {
      sourceId: m.referral.source_id,
      sourceType: m.referral.source_type,
      sourceUrl: m.referral.source_url,
      headline: m.referral.headline,
    },
    replyTo: m.context?.id,
    identityChange,
    raw: m,
  };
}

const BSUID_PATTERN = /\b[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}\b/g;

function identityChangeOf(m: WebhookMessage, options: ParseOptions): IdentityChange | undefined {
  const system = m.system;
  if (m.type !== 'system' || !system) return undefined;
  if (system.type === 'user_changed_number') {
    return {
      reason: 'user_changed_number',
      newPhone: phoneOf(system.wa_id, options),
      newBsuid: system.user_id,
      previousBsuid: system.previous_user_id ?? m.from_user_id,
    };
  }
  if (system.type === 'user_changed_user_id') {
    // If previous_user_id is missing, the old id may only be written in the body.
    const fromBody = (system.body?.match(BSUID_PATTERN) ?? []).filter((id) => id !== system.user_id);
    return {
      reason: 'user_changed_user_id',
      newBsuid: system.user_id,
      previousBsuid: system.previous_user_id ?? fromBody[0] ?? m.from_user_id,
    };
  }
  return undefined;
}

function mediaOf(m: WebhookMessage): MediaRef | undefined {
  for (const kind of MEDIA_KINDS) {
    const media = m[kind];
    if (media?.id) {
      return { kind, mediaId: media.id, mimeType: media.mime_type, sha256: media.sha256, filename: media.filename };
    }
  }
  return undefined;
}

function textOf(m: WebhookMessage): string | undefined {
  return (
    m.text?.body ??
    m.image?.caption ??
    m.video?.caption ??
    m.document?.caption ??
    m.interactive?.button_reply?.title ??
    m.interactive?.list_reply?.title ??
    m.button?.text ??
    m.order?.text
  );
}

function summaryOf(m: WebhookMessage): string {
  const text = textOf(m);
  switch (m.type) {
    case 'text':
      return text ?? '';
    case 'image':
    case 'video':
    case 'audio':
    case 'document':
    case 'sticker': {
      const name = m.document?.filename ? ` ${m.document.filename}` : '';
      return `[${m.type}${name}]${text ? ` ${text}` : ''}`;
    }
    case 'location': {
      const l = m.location;
      const place = [l?.name, l?.address].filter(Boolean).join(', ');
      return `[location] ${place}${l?.latitude !== undefined ? ` (${l.latitude}, ${l.longitude})` : ''}`.trim();
    }
    case 'contacts':
      return `[contacts] ${m.contacts?.length ?? 0} shared`;
    case 'interactive':
      return text ?? `[interactive ${m.interactive?.type ?? ''}] ${m.interactive?.nfm_reply?.body ?? ''}`.trim();
    case 'button':
      return text ?? '[button]';
    case 'reaction':
      return `[reaction ${m.reaction?.emoji ?? 'removed'}]`;
    case 'order':
      return `[order] ${m.order?.product_items?.length ?? 0} item(s)${text ? `: ${text}` : ''}`;
    case 'system':
      return `[system] ${m.system?.body ?? m.system?.type ?? ''}`.trim();
    default: {
      const error = m.errors?.[0];
      return `[${m.type}]${error ? ` ${error.code ?? ''} ${error.title ?? ''}`.trimEnd() : ''}`;
    }
  }
}

function toStatusUpdate(
  s: WebhookStatus,
  contacts: readonly WebhookContact[],
  account: AccountRef,
  options: ParseOptions,
): StatusUpdate {
  const contact = contactFor(contacts, s.recipient_id, s.recipient_user_id);
  return {
    kind: 'status',
    wamid: s.id,
    account,
    status: s.status,
    at: Number(s.timestamp) * 1000,
    recipient: {
      bsuid: s.recipient_user_id ?? contact?.user_id,
      parentBsuid: s.parent_recipient_user_id ?? s.recipient_parent_user_id ?? contact?.parent_user_id,
      phone: phoneOf(s.recipient_id ?? contact?.wa_id, options),
      username: contact?.profile?.username,
    },
    errors: (s.errors ?? []).map((e) => ({ code: e.code, title: e.title, message: e.message })),
    pricing: s.pricing && {
      billable: s.pricing.billable,
      pricingModel: s.pricing.pricing_model,
      category: s.pricing.category,
      type: s.pricing.type,
    },
    callbackData: s.biz_opaque_callback_data,
    raw: s,
  };
}
