/**
 * Zoho CRM's notification callbacks (Notification API, `/actions/watch`), as CRM-neutral events.
 * Zoho POSTs one JSON body per operation on the channel's modules to the channel's notify_url:
 *
 *   { "server_time": 1718117126473, "query_params": {}, "module": "Contacts",
 *     "resource_uri": "https://www.zohoapis.com/crm/v8/Contacts", "ids": ["5725767000003000064"],
 *     "affected_fields": [...], "operation": "insert" | "update" | "delete",
 *     "channel_id": "1000000068001", "token": "<the channel's token>" }
 *
 * It carries ids only — no values — so each callback becomes one {@link CrmRecordRef} that the
 * adapter reads ({@link CrmTwoWay.resolve}). The only proof that Zoho sent it is the channel's
 * `token` (at most 50 characters, chosen by us when the channel was opened): it is compared in
 * constant time. Pure: no I/O.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { CrmEvent, CrmRecordRef } from '../two-way.ts';

export type ZohoNotificationResult = { readonly events: CrmEvent[] } | { readonly error: string; readonly status: 400 | 401 };

/** Zoho's ids and module API names: digits, and letters / digits / underscores. */
const RECORD_ID = /^\d{1,30}$/;
const API_NAME = /^[A-Za-z][A-Za-z0-9_]{0,99}$/;
/** More ids than Zoho puts in one callback (it notifies per write request, ≤ 100 records) is not a callback. */
const MAX_IDS = 1000;

/**
 * The events of one callback body (parsed JSON, or the raw JSON text), or why it is refused:
 * 401 when the token is missing or not the channel's, 400 when the body is not a Zoho callback.
 */
export function parseZohoNotification(body: unknown, expectedToken: string): ZohoNotificationResult {
  const parsed = typeof body === 'string' ? parseText(body) : body;
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return { error: 'the body is not a JSON object', status: 400 };
  const record = parsed as Record<string, unknown>;
  // The token is checked before anything else is looked at: a caller without it learns nothing.
  const token = record['token'];
  if (!expectedToken) return { error: 'no channel token is configured to check the notification against', status: 401 };
  if (typeof token !== 'string' || token === '') return { error: 'the notification carries no channel token', status: 401 };
  if (!sameToken(token, expectedToken)) return { error: "the notification's token is not this channel's", status: 401 };

  const module = record['module'];
  if (typeof module !== 'string' || !API_NAME.test(module)) return { error: 'module is missing or not a module API name', status: 400 };
  const operation = record['operation'];
  if (typeof operation !== 'string' || !API_NAME.test(operation)) return { error: 'operation is missing or not an operation name', status: 400 };
  const serverTime = record['server_time'];
  if (typeof serverTime !== 'number' || !Number.isSafeInteger(serverTime) || serverTime <= 0) return { error: 'server_time is missing or not epoch milliseconds', status: 400 };
  const channelId = idText(record['channel_id']);
  if (channelId === undefined) return { error: 'channel_id is missing or not a channel id', status: 400 };
  const rawIds = record['ids'];
  if (!Array.isArray(rawIds) || rawIds.length === 0) return { error: 'ids is missing or empty', status: 400 };
  if (rawIds.length > MAX_IDS) return { error: `ids holds more than ${MAX_IDS} records`, status: 400 };
  const ids: string[] = [];
  for (const raw of rawIds) {
    const id = idText(raw);
    if (id === undefined) return { error: 'ids holds a value that is not a record id', status: 400 };
    if (!ids.includes(id)) ids.push(id);
  }
  const fields = affectedFields(record['affected_fields']);
  if (fields === null) return { error: 'affected_fields is not a list of field names', status: 400 };

  const change: CrmRecordRef = { kind: 'ref', module, ids, operation, at: serverTime, ...(fields !== undefined && { fields }) };
  return { events: [{ eventId: notificationEventId(channelId, module, operation, serverTime, ids), occurredAt: serverTime, change }] };
}

/**
 * The same id for the same callback: Zoho redelivers a callback it got no 2xx for with the same
 * channel, module, operation, server_time and ids, so a redelivery deduplicates on this id (the
 * ids sorted: their order in the body carries no meaning).
 */
export function notificationEventId(channelId: string, module: string, operation: string, serverTime: number, ids: readonly string[]): string {
  const digest = createHash('sha256')
    .update([channelId, module, operation, String(serverTime), ...[...ids].sort()].join('\u0000'))
    .digest('hex')
    .slice(0, 32);
  return `zoho:${module}:${operation}:${serverTime}:${digest}`;
}

function parseText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A Zoho id, sent as a string or (a long) as a number. */
function idText(value: unknown): string | undefined {
  const text = typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? String(value) : value;
  return typeof text === 'string' && RECORD_ID.test(text) ? text : undefined;
}

/**
 * The field API names `affected_fields` names, in whichever form Zoho sends them: a list of names,
 * or per record `{ "<id>": ["Field", …] }` — or `{ "<id>": { "Field": value } }` with
 * return_affected_field_values, whose values are dropped here. Undefined when absent or empty
 * (Zoho sends `[]` on an insert: every field is new); null when it is something else.
 */
function affectedFields(value: unknown): string[] | undefined | null {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) return null;
  const names = new Set<string>();
  const add = (name: unknown): boolean => {
    if (typeof name !== 'string' || !API_NAME.test(name)) return false;
    names.add(name);
    return true;
  };
  for (const item of value) {
    if (typeof item === 'string') {
      if (!add(item)) return null;
      continue;
    }
    if (!item || typeof item !== 'object' || Array.isArray(item)) return null;
    for (const perRecord of Object.values(item as Record<string, unknown>)) {
      const list = Array.isArray(perRecord) ? perRecord : perRecord && typeof perRecord === 'object' ? Object.keys(perRecord) : null;
      if (list === null || !list.every(add)) return null;
    }
  }
  return names.size === 0 ? undefined : [...names];
}
