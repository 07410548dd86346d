/**
 * Item keys of the single table. Every key the code writes is built here.
 *
 * | item      | pk                          | sk        | gsi1 (byContact)                 | gsi2 (pendingSync)            |
 * |-----------|-----------------------------|-----------|----------------------------------|-------------------------------|
 * | contact   | CONTACT#<contactId>         | PROFILE   |                                  |                               |
 * | identity  | IDENTITY#<kind>#<value>     | IDENTITY  |                                  |                               |
 * | message   | MESSAGE#<wamid>             | MESSAGE   | CONTACT#<id> / MSG#<sentAt>#<wamid> | <PENDING|FAILED>#SYNC#<shard> / <at>#<wamid> |
 * | raw event | RAW#<sha256>                | RAW       | RAW#<day> / <receivedAt>         |                               |
 * | conflict  | CONFLICT#<day>              | <at>#<contactId>#<field> |                   |                               |
 * | job run   | JOB#<job>                   | CURRENT   |                                  |                               |
 * | outbound  | OUTBOUND#<our id>           | OUTBOUND  | CONTACT#<id> / MSG#<createdAt>#<our id> | OUTBOX#<shard> / <due>#<our id> (queued, deferred, sending) |
 * | limits    | LIMITS#portfolio            | DAILY     | (hour counts of business-initiated conversations, CP-6) | |
 * | number    | NUMBER#<phone_number_id>    | RATE / STATE | (pacing and API calls; paused, health, backup switch) | |
 * | template  | TEMPLATE#<waba id>          | <name>#<language> |                            |                               |
 * | parcel    | PARCEL#<tracking number>    | PARCEL    | (customer, order, last courier state; AU-2b) |                 |
 * | agents    | AGENTS#round-robin          | LANG#<language> | (round-robin turn, AG-1) |                               |
 * | CRM token | CRMTOKEN#<crm kind>         | TOKEN     | (the OAuth access token shared by all invocations) |     |
 * | CRM link  | CRMLINK#<kind>#<crm id>     | LINK      | (which contact a CRM record is; two-way sync)  |       |
 * | CRM event | CRMEVENT#<kind>#<event id>  | EVENT     | (a CRM change event taken once: queued, applied) |     |
 * | duplicate | DUPLICATES                  | <aId>~<bId> | (a duplicate candidate for review, ID-3)     |       |
 * | merge     | MERGE#<survivor>~<absorbed> | MERGE     | (a merge and what undoing it needs)            |       |
 * | media work| MEDIA#<wamid>               | MEDIA     |                                  | PENDING#MEDIA#<shard> / <due>#<wamid> (media.ts) |
 */
import { createHash } from 'node:crypto';

export type IdentityKind = 'bsuid' | 'parent_bsuid' | 'phone' | 'phone_raw';

export interface IdentityKey {
  readonly kind: IdentityKind;
  readonly value: string;
}

export const PENDING_SYNC_SHARDS = 8;

export type SyncWork = 'PENDING' | 'FAILED';

export const keys = {
  contact: (contactId: string) => ({ pk: `CONTACT#${contactId}`, sk: 'PROFILE' }),
  crmToken: (kind: string) => ({ pk: `CRMTOKEN#${kind}`, sk: 'TOKEN' }),
  crmLink: (kind: string, crmId: string) => ({ pk: `CRMLINK#${kind}#${crmId}`, sk: 'LINK' }),
  crmEvent: (kind: string, eventId: string) => ({ pk: `CRMEVENT#${kind}#${eventId}`, sk: 'EVENT' }),
  duplicatePartition: () => 'DUPLICATES',
  duplicate: (id: string) => ({ pk: 'DUPLICATES', sk: id }),
  merge: (id: string) => ({ pk: `MERGE#${id}`, sk: 'MERGE' }),
  identity: (id: IdentityKey) => ({ pk: `IDENTITY#${id.kind}#${id.value}`, sk: 'IDENTITY' }),
  message: (wamid: string) => ({ pk: `MESSAGE#${wamid}`, sk: 'MESSAGE' }),
  raw: (hash: string) => ({ pk: `RAW#${hash}`, sk: 'RAW' }),
  historyPartition: (contactId: string) => `CONTACT#${contactId}`,
  historySort: (sentAt: number, wamid: string) => `MSG#${new Date(sentAt).toISOString()}#${wamid}`,
  /** Work index partitions: messages waiting for their first sync, or parked after the last attempt. */
  syncPartition: (state: SyncWork, shard: number) => `${state}#SYNC#${shard}`,
  syncWork: (state: SyncWork, wamid: string, receivedAt: number) => ({
    gsi2pk: `${state}#SYNC#${shardOf(wamid)}`,
    gsi2sk: `${new Date(receivedAt).toISOString()}#${wamid}`,
  }),
  jobRun: (job: string) => ({ pk: `JOB#${job}`, sk: 'CURRENT' }),
  /** Our own outbound message, keyed by our id (the wamid is only known once Meta answered). */
  outbound: (id: string) => ({ pk: `OUTBOUND#${id}`, sk: 'OUTBOUND' }),
  /** The portfolio's business-initiated conversations per hour (CP-6). */
  limits: () => ({ pk: 'LIMITS#portfolio', sk: 'DAILY' }),
  numberRate: (phoneNumberId: string) => ({ pk: `NUMBER#${phoneNumberId}`, sk: 'RATE' }),
  numberState: (phoneNumberId: string) => ({ pk: `NUMBER#${phoneNumberId}`, sk: 'STATE' }),
  /** A parcel watched for courier updates (AU-2b): its customer and last state. */
  parcel: (trackingNumber: string) => ({ pk: `PARCEL#${trackingNumber}`, sk: 'PARCEL' }),
  /** The round-robin turn of agents per language (AG-1). */
  roundRobin: (language: string) => ({ pk: 'AGENTS#round-robin', sk: `LANG#${language}` }),
  templatePartition: (wabaId: string) => `TEMPLATE#${wabaId}`,
  template: (wabaId: string, name: string, language: string) => ({ pk: `TEMPLATE#${wabaId}`, sk: `${name}#${language}` }),
  rawDay: (at: number) => `RAW#${new Date(at).toISOString().slice(0, 10)}`,
  /** The raw-events partition of one UTC day, YYYY-MM-DD. */
  rawDayOf: (day: string) => `RAW#${day}`,
  conflictDay: (day: string) => `CONFLICT#${day}`,
  conflict: (day: string, at: number, contactId: string, field: string) => ({
    pk: `CONFLICT#${day}`,
    sk: `${new Date(at).toISOString()}#${contactId}#${field}`,
  }),
};

function shardOf(wamid: string): number {
  return createHash('sha256').update(wamid).digest()[0]! % PENDING_SYNC_SHARDS;
}

/**
 * Our own contact id, derived from the first identity it was created for. Two deliveries that
 * race to create the same new customer compute the same id, so both converge on one contact.
 */
export function contactIdFor(first: IdentityKey): string {
  const digest = createHash('sha256').update(`${first.kind}#${first.value}`).digest('base64url');
  return `ct_${digest.slice(0, 22)}`;
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
