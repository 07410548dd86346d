/**
 * The events the generic CRM webhook sends (docs/crm-webhook.md is their reference): one JSON
 * body per event, `{ type, timestamp, data }` (the Standard Webhooks payload convention), and the
 * `webhook-id` each one carries. The id is derived from the event's idempotency key, never
 * random: a resend of the same event has the same id and the receiver (a Zapier / Make scenario)
 * drops it. Pure functions: no I/O, no clock (the caller passes `now`).
 */
import { createHash } from 'node:crypto';
import { mapContactFields, type FieldMapping, type MappedValue } from '#shared/crm/field-mapping';
import type {
  CrmContactFields,
  CrmContactInput,
  CrmContactUpdate,
  CrmMessageInput,
  CrmOpportunityInput,
  CrmServiceReport,
  CrmTaskInput,
} from '#shared/crm/port';

export const EVENT_TYPES = ['contact.upserted', 'contacts.updated', 'message.logged', 'opportunity.created', 'task.created', 'service.report'] as const;
export type WebhookEventType = (typeof EVENT_TYPES)[number];

/**
 * Longest message body sent, in UTF-16 units: WhatsApp's own limit for a text message (4,096),
 * so a real text is never cut; longer (a description of a long document) is cut with
 * `bodyTruncated: true`. 4,096 characters are at most ~16 KB of UTF-8, which keeps a
 * message.logged under the ~20 KB Standard Webhooks recommends.
 */
export const MAX_MESSAGE_BODY_CHARS = 4096;
/** Longest task body and subject sent (the rest is cut, flagged like a message body). */
export const MAX_TASK_TEXT_CHARS = 4096;
/**
 * Largest POST body: far under Zapier's Catch Raw Hook (2 MB raw body), Make's custom webhook
 * (5 MB) and Zapier's Catch Hook (10 MB). A contacts.updated batch over it is split in halves.
 */
export const MAX_POST_BYTES = 256 * 1024;
/** Most contacts in one contacts.updated POST (the port's batch size). */
export const MAX_BATCH_CONTACTS = 100;

/** The idempotency key's hash, as a header-safe id: `msg_` + base64url(sha256) = 47 characters. */
export function webhookId(type: WebhookEventType, key: string): string {
  // The type is part of the hash: an opportunity's id is the wamid of its message, and the
  // opportunity.created must not be taken for a resend of that message.logged.
  return `msg_${createHash('sha256').update(`${type}\n${key}`).digest('base64url')}`;
}

export interface WebhookEvent {
  readonly id: string;
  readonly type: WebhookEventType;
  /** The exact body to sign and send (minified JSON). */
  readonly body: string;
  /** Bytes of the body (UTF-8). */
  readonly bytes: number;
}

function event(type: WebhookEventType, key: string, occurredAt: number, data: Record<string, unknown>): WebhookEvent {
  const body = JSON.stringify({ type, timestamp: iso(occurredAt), data });
  return { id: webhookId(type, key), type, body, bytes: Buffer.byteLength(body, 'utf8') };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function optionalIso(ms: number | undefined): string | undefined {
  return ms === undefined || !Number.isFinite(ms) ? undefined : iso(ms);
}

/** The text cut to `max` UTF-16 units without splitting a surrogate pair. */
export function truncate(text: string, max: number): { text: string; truncated: boolean } {
  if (text.length <= max) return { text, truncated: false };
  let end = max;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return { text: text.slice(0, end), truncated: true };
}

/** The mapped fields as the webhook sends them: datetime values as ISO 8601 text, not ms. */
export function webhookFields(fields: CrmContactFields, mapping: FieldMapping): Record<string, MappedValue> {
  const mapped = mapContactFields(fields, mapping);
  const out: Record<string, MappedValue> = {};
  for (const [name, value] of Object.entries(mapped.values)) {
    out[name] = mapped.datetimeFields.has(name) && typeof value === 'number' ? iso(value) : value;
  }
  return out;
}

/** Hash of the data part: a contact's state. The same state → the same id; a change → a new event. */
function stateKey(data: unknown): string {
  return createHash('sha256').update(JSON.stringify(data)).digest('base64url');
}

export function contactUpserted(input: CrmContactInput, mapping: FieldMapping, now: number): WebhookEvent {
  const data = {
    contactId: input.contactId,
    bsuid: input.bsuid,
    phone: input.phone,
    previousBsuids: input.previousBsuids?.length ? input.previousBsuids : undefined,
    previousPhones: input.previousPhones?.length ? input.previousPhones : undefined,
    username: input.username,
    profileName: input.profileName,
    lastInteractionAt: optionalIso(input.lastInteractionAt),
    leadSource: 'WhatsApp',
    // Absent: this upsert is about the identity only; a receiver keeps the fields it has.
    fields: input.fields ? webhookFields(input.fields, mapping) : undefined,
  };
  return event('contact.upserted', `${input.contactId}\n${stateKey(data)}`, now, data);
}

/** One contacts.updated event for these updates (the caller keeps them ≤ MAX_BATCH_CONTACTS). */
export function contactsUpdated(updates: readonly CrmContactUpdate[], mapping: FieldMapping, now: number): WebhookEvent {
  const contacts = updates.map((u) => ({ contactId: u.contactId, fields: webhookFields(u.fields, mapping) }));
  const data = { count: contacts.length, contacts };
  return event('contacts.updated', stateKey(data), now, data);
}

/**
 * The updates as contacts.updated events of at most `maxContacts` each and at most `maxBytes`
 * (a batch over it is halved until it fits). An update too big on its own comes back in
 * `tooLarge` (by index) instead of in an event.
 */
export function contactsUpdatedBatches(
  updates: readonly CrmContactUpdate[],
  mapping: FieldMapping,
  now: number,
  limits: { readonly maxContacts: number; readonly maxBytes: number } = { maxContacts: MAX_BATCH_CONTACTS, maxBytes: MAX_POST_BYTES },
): { batches: { event: WebhookEvent; indexes: number[] }[]; tooLarge: number[] } {
  const batches: { event: WebhookEvent; indexes: number[] }[] = [];
  const tooLarge: number[] = [];
  const place = (indexes: number[]) => {
    const built = contactsUpdated(indexes.map((i) => updates[i]!), mapping, now);
    if (built.bytes <= limits.maxBytes) {
      batches.push({ event: built, indexes });
      return;
    }
    if (indexes.length === 1) {
      tooLarge.push(indexes[0]!);
      return;
    }
    const half = Math.ceil(indexes.length / 2);
    place(indexes.slice(0, half));
    place(indexes.slice(half));
  };
  for (let start = 0; start < updates.length; start += limits.maxContacts) {
    const indexes: number[] = [];
    for (let i = start; i < Math.min(updates.length, start + limits.maxContacts); i += 1) indexes.push(i);
    place(indexes);
  }
  return { batches, tooLarge };
}

export function messageLogged(input: CrmMessageInput): WebhookEvent {
  const body = truncate(input.body, MAX_MESSAGE_BODY_CHARS);
  const conversation = input.conversation && {
    id: input.conversation.id,
    startedAt: iso(input.conversation.startedAt),
    tags: input.conversation.tags,
    subject: input.conversation.subject,
    priority: input.conversation.priority,
    resolvedAt: optionalIso(input.conversation.resolvedAt),
  };
  const data = {
    wamid: input.wamid,
    contactId: input.contactCrmId,
    direction: input.direction,
    body: body.text,
    bodyTruncated: body.truncated || undefined,
    bodyLength: body.truncated ? input.body.length : undefined,
    timestamp: iso(input.timestamp),
    conversation,
  };
  return event('message.logged', input.wamid, input.timestamp, data);
}

export function opportunityCreated(input: CrmOpportunityInput): WebhookEvent {
  const data = {
    opportunityId: input.opportunityId,
    contactId: input.contactCrmId,
    sku: input.sku,
    productName: input.productName,
    amount: input.amount,
    currency: input.currency,
    createdAt: iso(input.createdAt),
  };
  return event('opportunity.created', input.opportunityId, input.createdAt, data);
}

export function taskCreated(input: CrmTaskInput, now: number): WebhookEvent {
  const subject = truncate(input.subject, MAX_TASK_TEXT_CHARS);
  const body = input.body === undefined ? undefined : truncate(input.body, MAX_TASK_TEXT_CHARS);
  const data = {
    taskId: input.taskId,
    contactId: input.contactCrmId,
    subject: subject.text,
    body: body?.text,
    truncated: subject.truncated || body?.truncated || undefined,
    dueAt: iso(input.dueAt),
    ownerId: input.ownerId,
  };
  return event('task.created', input.taskId, now, data);
}

export function serviceReport(report: CrmServiceReport, now: number): WebhookEvent {
  const data = {
    reportId: report.reportId,
    periodStart: iso(report.periodStart),
    periodEnd: iso(report.periodEnd),
    // null rather than absent: a no-code mapping of the field then shows "no value", not an error.
    medianFirstResponseMs: report.medianFirstResponseMs ?? null,
    conversations: report.conversations,
    unanswered: report.unanswered,
  };
  return event('service.report', report.reportId, now, data);
}
