/**
 * Salesforce records read back for two-way sync, as CRM-neutral changes (pure): a Contact edited
 * by sales (FirstName, the mapped customer level, the WhatsApp_Marketing_Opt_Out__c checkbox), a
 * reply an agent wrote as a Task (WhatsApp_Reply__c checked, `Description` the text, `WhoId` the
 * contact), a Case or Opportunity closed. And the catch-up's page cut ({@link cutCatchUp}).
 *
 * Times: a field change is dated by the record's LastModifiedDate (a user's or an API's write);
 * the catch-up reads and orders by SystemModstamp (indexed, moved by every write, system ones
 * too), which is also the event's time and part of its id — the same record read twice without
 * a change in between gives the same event (`catchup:<id>:<SystemModstamp ms>`, `read:` from
 * resolve), deduplicated by the sync side. A reply is identified by its Task alone
 * (`reply:<task id>`): our status write-back moves the Task's SystemModstamp, and the reply must
 * not be sent twice (the sync side keys the send by the Task id as well).
 *
 * `ours`: the record's LastModifiedById is the integration user (known: true / false; the
 * integration user not configured: undefined). A reply Task created by the integration user is
 * not an agent's reply.
 */
import { replyStatusText as statusLine, type CrmContactChange, type CrmEvent, type CrmFieldChange, type CrmRecordClosed, type CrmReply, type ReplyStatus } from '../two-way.ts';
import type { SObjectRecord } from './api.ts';
import { CONTACT, parseDateTime } from './fields.ts';
import { TWO_WAY_FIELD } from './inbound.ts';

export interface ChangeSettings {
  /** The Contact field the customer level is mapped to (config/crm/salesforce.json). */
  readonly customerLevelField: string | undefined;
  /** The user this integration writes as (SALESFORCE_INTEGRATION_USER_ID). */
  readonly integrationUserId: string | undefined;
}

export const SYSTEM = {
  lastModifiedDate: 'LastModifiedDate',
  lastModifiedById: 'LastModifiedById',
  systemModstamp: 'SystemModstamp',
  createdDate: 'CreatedDate',
  createdById: 'CreatedById',
} as const;

/** Task.Status once the reply is out (a picklist value every org has). */
export const TASK_DONE_STATUS = 'Completed';
/** The statuses after which the reply Task is done. */
export const DONE_STATUSES: readonly ReplyStatus[] = ['sent', 'delivered', 'read', 'failed'];
/** WhatsApp_Status__c is Text(255). */
export const STATUS_MAX = 255;
const CLOSED_OPPORTUNITY = /^Closed (Won|Lost)$/;

/** What two-way sync reads of each object. */
export function contactFields(settings: ChangeSettings): string[] {
  return ['Id', 'FirstName', ...(settings.customerLevelField ? [settings.customerLevelField] : []), TWO_WAY_FIELD.optOut, CONTACT.bsuid, CONTACT.phone, SYSTEM.lastModifiedDate, SYSTEM.lastModifiedById, SYSTEM.systemModstamp];
}
export const REPLY_FIELDS = ['Id', TWO_WAY_FIELD.reply, 'WhoId', 'Description', TWO_WAY_FIELD.replyStatus, SYSTEM.createdDate, SYSTEM.createdById, SYSTEM.systemModstamp] as const;
export const CASE_FIELDS = ['Id', 'ContactId', 'Status', 'IsClosed', SYSTEM.lastModifiedDate] as const;
export const OPPORTUNITY_FIELDS = ['Id', 'ContactId', 'StageName', SYSTEM.lastModifiedDate] as const;

/** A record's SystemModstamp in ms (its LastModifiedDate when the stamp was not read; 0 without either). */
export function stampOf(record: SObjectRecord): number {
  return parseDateTime(record[SYSTEM.systemModstamp]) ?? parseDateTime(record[SYSTEM.lastModifiedDate]) ?? 0;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

function oursOf(userId: unknown, settings: ChangeSettings): boolean | undefined {
  if (settings.integrationUserId === undefined || typeof userId !== 'string') return undefined;
  return sameId(userId, settings.integrationUserId);
}

/** Ids compared as Salesforce does: a 15-character id is the 18-character one without its suffix. */
export function sameId(a: string, b: string): boolean {
  return a.length === b.length ? a === b : a.slice(0, 15) === b.slice(0, 15);
}

/** The contact's two-way fields as the record holds them, dated by its LastModifiedDate. */
export function contactChange(record: SObjectRecord, settings: ChangeSettings): CrmContactChange {
  const at = parseDateTime(record[SYSTEM.lastModifiedDate]) ?? stampOf(record);
  const changes: CrmFieldChange[] = [{ field: 'firstName', value: text(record.FirstName) ?? null, at }];
  if (settings.customerLevelField) changes.push({ field: 'customerLevel', value: text(record[settings.customerLevelField]) ?? null, at });
  const ours = oursOf(record[SYSTEM.lastModifiedById], settings);
  const bsuid = text(record[CONTACT.bsuid]);
  const phone = text(record[CONTACT.phone]);
  return {
    kind: 'contact',
    crmId: record.Id,
    changes,
    ...(record[TWO_WAY_FIELD.optOut] === true && { optedOutAt: at }),
    ...(bsuid && { bsuid }),
    ...(phone && { phone }),
    ...(ours !== undefined && { ours }),
  };
}

export function contactEvent(record: SObjectRecord, settings: ChangeSettings, source: 'catchup' | 'read'): CrmEvent {
  const stamp = stampOf(record);
  return { eventId: `${source}:${record.Id}:${stamp}`, occurredAt: stamp, change: contactChange(record, settings) };
}

/** Whether the reply Task still waits for its status (none written back yet). */
export function awaitsStatus(record: SObjectRecord): boolean {
  return text(record[TWO_WAY_FIELD.replyStatus]) === undefined;
}

/** A Task with WhatsApp_Reply__c checked, on a contact, with text, written by someone else than us: a reply to send. */
export function replyEvent(record: SObjectRecord, settings: ChangeSettings): CrmEvent | undefined {
  if (record[TWO_WAY_FIELD.reply] !== true) return undefined;
  const contactCrmId = text(record.WhoId);
  const body = text(record.Description)?.trim();
  const at = parseDateTime(record[SYSTEM.createdDate]) ?? stampOf(record);
  const author = text(record[SYSTEM.createdById]);
  if (!contactCrmId || !body || !at || oursOf(author, settings) === true) return undefined;
  const change: CrmReply = { kind: 'reply', replyId: record.Id, contactCrmId, text: body, ...(author && { crmUserId: author }), at };
  return { eventId: `reply:${record.Id}`, occurredAt: at, change };
}

/** A closed Case (IsClosed / Status Closed) or a Closed Won / Lost Opportunity on a contact, at `at` (the change's time) or its LastModifiedDate. */
export function closedEvent(record: SObjectRecord, object: 'Case' | 'Opportunity', at?: number): CrmEvent | undefined {
  const status = text(object === 'Case' ? record.Status : record.StageName);
  const closed = object === 'Case' ? record.IsClosed === true || status === 'Closed' : CLOSED_OPPORTUNITY.test(status ?? '');
  const contactCrmId = text(record.ContactId);
  const when = at ?? parseDateTime(record[SYSTEM.lastModifiedDate]);
  if (!closed || !contactCrmId || when === undefined) return undefined;
  const change: CrmRecordClosed = { kind: 'closed', recordType: object === 'Case' ? 'case' : 'deal', recordId: record.Id, contactCrmId, status: status ?? 'Closed', at: when };
  return { eventId: `closed:${record.Id}:${change.status}:${when}`, occurredAt: when, change };
}

/** `delivered 2026-12-02T09:00:00.000Z`, `failed 2026-…Z: <error>`: what the agent sees on the Task (255 characters). */
export function replyStatusText(status: ReplyStatus, at: number, error?: string): string {
  return statusLine(status, at, error, STATUS_MAX);
}

// ---- the catch-up's page -------------------------------------------------------------

/** A record of a catch-up list: its id and SystemModstamp (ms). */
export interface Stamped {
  readonly id: string;
  readonly stamp: number;
}

/**
 * One list the catch-up read (oldest first): every record with a stamp below `coveredBelow` is
 * in `rows` (Infinity: the list was read to its end). A list cut by its LIMIT is covered below
 * its last stamp only — more records of that very stamp may follow the cut.
 */
export interface CatchUpList<T extends Stamped> {
  readonly rows: readonly T[];
  readonly coveredBelow: number;
}

export type CatchUpCut<T extends Stamped> =
  | { readonly kind: 'page'; readonly rows: T[]; readonly cursor: number }
  /** Nothing is certain below the first cut: the caller reads the second of `at` whole, then cuts again. */
  | { readonly kind: 'boundary'; readonly at: number };

/**
 * The rows changed after `since`, oldest first, at most `limit` — never splitting one stamp —
 * and the cursor to ask from next: everything at or before it has been returned. Rows of the
 * lists are merged and cut where every list is still complete; a cut by `limit` falls before the
 * stamp it would split, unless that leaves nothing, when that whole stamp is returned (more than
 * `limit` then, rather than a loop or a skipped change).
 */
export function cutCatchUp<T extends Stamped>(since: number, limit: number, lists: readonly CatchUpList<T>[], boundaryRead = false): CatchUpCut<T> {
  const bound = Math.min(...lists.map((l) => l.coveredBelow));
  const candidates = lists
    .flatMap((l) => l.rows)
    .filter((r) => r.stamp > since && r.stamp < bound)
    .sort((a, b) => a.stamp - b.stamp || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const unique = candidates.filter((r, i) => i === 0 || r.id !== candidates[i - 1]!.id || r.stamp !== candidates[i - 1]!.stamp);
  if (unique.length === 0) {
    if (bound === Infinity) return { kind: 'page', rows: [], cursor: since };
    // Only rows of the cut's own stamp (or none) were read: that second is read whole first.
    if (!boundaryRead) return { kind: 'boundary', at: Math.max(bound, since) };
    return { kind: 'page', rows: [], cursor: Math.max(since, bound - 1) };
  }
  if (unique.length > limit) {
    const splitStamp = unique[limit]!.stamp;
    const kept = unique.slice(0, limit).filter((r) => r.stamp < splitStamp);
    const rows = kept.length > 0 ? kept : unique.filter((r) => r.stamp === splitStamp);
    return { kind: 'page', rows, cursor: rows.at(-1)!.stamp };
  }
  // Every row below the bound is here: the next catch-up may start at the bound.
  return { kind: 'page', rows: unique, cursor: bound === Infinity ? unique.at(-1)!.stamp : Math.max(since, bound - 1) };
}

/** A SOQL DateTime literal of the whole second at or before `ms` (written without fractions): `2026-12-02T09:00:00Z`. */
export function soqlSecond(ms: number): string {
  return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}

/**
 * The SOQL condition of records stamped after `since`: from the second holding `since + 1 ms`
 * (Salesforce keeps whole seconds; the rows of that second at or before `since` are dropped by
 * the caller), so a cursor at a second's last millisecond starts at the next second.
 */
export function stampedAfter(since: number): string {
  return `${SYSTEM.systemModstamp} >= ${soqlSecond(since + 1)}`;
}
