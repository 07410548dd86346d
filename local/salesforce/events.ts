/**
 * Change Data Capture through Event Relay (SY-3), played by the local org: every committed change
 * of a selected object (Contact, Task, Case, Opportunity) — made through the API by the
 * integration user, or by a sales user or an agent — becomes a change event, put on the partner
 * event bus as Event Relay puts it, and POSTed to `<target>/local/partner-events/salesforce`
 * (the local stack plays the bus → rule → queue from there):
 *
 *   { version: "0", id, "detail-type": "ContactChangeEvent", source: "aws.partner/salesforce.com/<org id>/<relay id>",
 *     account, time, region, resources: [],
 *     detail: { payload: { ChangeEventHeader: { entityName, recordIds, changeType, changeOrigin, transactionKey,
 *               sequenceNumber, commitTimestamp, commitNumber, commitUser, nulledFields, diffFields, changedFields },
 *               …fields }, schemaId, id } }
 *
 * As CDC sends them: a CREATE carries every field set (changedFields empty), an UPDATE only the
 * changed fields (a cleared one null, and in nulledFields) plus LastModifiedDate, a DELETE only
 * the header; Contact's name and mailing address are compound fields (`Name: { FirstName, … }`,
 * changedFields `Name.FirstName`); DateTimes are ISO 8601 in UTC. One event per record change,
 * the changes of one transaction sharing its transactionKey, numbered by sequenceNumber.
 *
 * Sent asynchronously (the API answer does not wait), in order per record, each POST tried a few
 * times with a doubling pause; the same event (same ids) on every try. No target yet, or
 * deliveries paused: the events are dropped (a missed delivery, which the catch-up has to find).
 */
import { randomUUID } from 'node:crypto';
import type { RecordChange, StoredRecord } from './store.ts';

export interface EventRelayOptions {
  /** The org's id (00D…) and the relay's (0YL…): they name the partner event source. */
  readonly orgId: string;
  readonly relayId: string;
  /** The objects selected for Change Data Capture. Default Contact, Task, Case, Opportunity. */
  readonly entities?: readonly string[];
  /** The API version the integration's writes come through (changeOrigin). */
  readonly apiVersion?: string;
  readonly integrationUserId: string;
  /** Tries per POST. Default 4. */
  readonly tries?: number;
  /** Pause before the second try, doubling. Default 100 ms. */
  readonly retryMs?: number;
}

export const RELAYED_ENTITIES = ['Contact', 'Task', 'Case', 'Opportunity'] as const;
export const PARTNER_EVENTS_PATH = '/local/partner-events/salesforce';
const TIMEOUT_MS = 5000;
/** Contact fields change events nest in compound fields: field → [compound, component]. */
const COMPOUND: Readonly<Record<string, Readonly<Record<string, readonly [string, string]>>>> = {
  Contact: {
    Salutation: ['Name', 'Salutation'],
    FirstName: ['Name', 'FirstName'],
    LastName: ['Name', 'LastName'],
    MailingStreet: ['MailingAddress', 'Street'],
    MailingCity: ['MailingAddress', 'City'],
    MailingState: ['MailingAddress', 'State'],
    MailingPostalCode: ['MailingAddress', 'PostalCode'],
    MailingCountry: ['MailingAddress', 'Country'],
  },
};

export type PartnerEvent = Record<string, unknown> & { readonly id: string; readonly detail: { readonly payload: Record<string, unknown>; readonly schemaId: string; readonly id: string } };

export class LocalEventRelay {
  private target: string | undefined;
  private paused = false;
  private sent = 0;
  private failed = 0;
  private commitNumber = 0;
  private readonly entities: ReadonlySet<string>;
  /** Each record's deliveries, in order. */
  private readonly queues = new Map<string, Promise<void>>();

  constructor(private readonly options: EventRelayOptions) {
    this.entities = new Set(options.entities ?? RELAYED_ENTITIES);
  }

  setTarget(url: string): void {
    this.target = url.replace(/\/+$/, '');
  }

  pause(paused: boolean): void {
    this.paused = paused;
  }

  /** POSTs answered 2xx so far. */
  deliveries(): number {
    return this.sent;
  }

  /** Events given up on after every try. */
  failures(): number {
    return this.failed;
  }

  /** Resolves once every event queued so far is delivered or given up. */
  async settled(): Promise<void> {
    while (this.queues.size > 0) await Promise.all(this.queues.values());
  }

  /** A committed transaction: its changes of selected objects, as events, queued per record. */
  publish(changes: readonly RecordChange[]): void {
    const target = this.target;
    if (!target || this.paused) return;
    const relayed = changes.filter((c) => this.entities.has(c.object));
    if (relayed.length === 0) return;
    const transactionKey = randomUUID();
    relayed.forEach((change, i) => {
      const event = this.event(change, transactionKey, i + 1);
      const key = `${change.object}:${change.id}`;
      const queued = (this.queues.get(key) ?? Promise.resolve()).then(() => this.deliver(target, event));
      this.queues.set(key, queued);
      void queued.then(() => {
        if (this.queues.get(key) === queued) this.queues.delete(key);
      });
    });
  }

  /** The EventBridge event Event Relay puts on the partner bus for one record change. */
  event(change: RecordChange, transactionKey: string, sequenceNumber: number): PartnerEvent {
    const { payload, changedFields, nulledFields } = changePayload(change);
    const api = change.userId === this.options.integrationUserId;
    this.commitNumber = Math.max(this.commitNumber + 1, change.at * 1000);
    const header = {
      entityName: change.object,
      recordIds: [change.id],
      changeType: change.type,
      changeOrigin: api ? `com/salesforce/api/rest/${this.options.apiVersion ?? '68.0'};client=local-scrm` : '',
      transactionKey,
      sequenceNumber,
      commitTimestamp: change.at,
      commitNumber: this.commitNumber,
      commitUser: change.userId,
      nulledFields,
      diffFields: [],
      changedFields,
    };
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': `${change.object}ChangeEvent`,
      source: `aws.partner/salesforce.com/${this.options.orgId}/${this.options.relayId}`,
      account: '000000000000',
      time: `${new Date(change.at).toISOString().slice(0, 19)}Z`,
      region: 'us-east-1',
      resources: [],
      detail: { payload: { ...payload, ChangeEventHeader: header }, schemaId: schemaIdOf(change.object), id: randomUUID() },
    };
  }

  private async deliver(target: string, event: PartnerEvent): Promise<void> {
    const tries = this.options.tries ?? 4;
    const body = JSON.stringify(event);
    for (let attempt = 0; attempt < tries; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, (this.options.retryMs ?? 100) * 2 ** (attempt - 1)));
      try {
        const response = await fetch(`${target}${PARTNER_EVENTS_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(TIMEOUT_MS) });
        await response.arrayBuffer();
        if (response.ok) {
          this.sent += 1;
          return;
        }
        // Any other answer is tried again, as EventBridge retries a failed target.
      } catch {
        // Unreachable or too slow: tried again.
      }
    }
    this.failed += 1;
  }
}

/** The changed fields as the event carries them (compound fields nested), and the header's field lists. */
export function changePayload(change: RecordChange): { payload: Record<string, unknown>; changedFields: string[]; nulledFields: string[] } {
  const payload: Record<string, unknown> = {};
  const changedFields: string[] = [];
  const nulledFields: string[] = [];
  if (change.type === 'DELETE' || !change.after) return { payload, changedFields, nulledFields };
  const after = change.after;
  const compound = COMPOUND[change.object] ?? {};
  const put = (field: string, value: unknown, listed: boolean) => {
    const nested = compound[field];
    const name = nested ? `${nested[0]}.${nested[1]}` : field;
    if (nested) {
      const holder = (payload[nested[0]] as Record<string, unknown> | undefined) ?? {};
      holder[nested[1]] = eventValue(value);
      payload[nested[0]] = holder;
    } else {
      payload[field] = eventValue(value);
    }
    if (listed) changedFields.push(name);
    if (listed && (value === null || value === undefined)) nulledFields.push(name);
  };
  if (change.type === 'CREATE' || change.type === 'UNDELETE') {
    for (const [field, value] of Object.entries(after.fields)) if (value !== null && value !== undefined) put(field, value, false);
    for (const [field, value] of Object.entries(systemFields(after))) put(field, value, false);
    return { payload, changedFields, nulledFields };
  }
  const before = change.before?.fields ?? {};
  const names = new Set([...Object.keys(before), ...Object.keys(after.fields)]);
  for (const field of names) {
    if (JSON.stringify(before[field] ?? null) !== JSON.stringify(after.fields[field] ?? null)) put(field, after.fields[field] ?? null, true);
  }
  put('LastModifiedDate', after.LastModifiedDate, true);
  if (change.before?.LastModifiedById !== after.LastModifiedById) put('LastModifiedById', after.LastModifiedById, true);
  return { payload, changedFields, nulledFields };
}

function systemFields(record: StoredRecord): Record<string, unknown> {
  return { CreatedDate: record.CreatedDate, CreatedById: record.CreatedById, LastModifiedDate: record.LastModifiedDate, LastModifiedById: record.LastModifiedById };
}

/** DateTimes in UTC ISO 8601 (`2026-09-10T10:00:00.000Z`), the rest as stored. */
function eventValue(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+0000$/.test(value)) return value.replace('+0000', 'Z');
  return value;
}

/** A stable id per object's event schema (Salesforce's are base64url hashes). */
function schemaIdOf(object: string): string {
  return Buffer.from(`${object}ChangeEvent-schema-v1`).toString('base64url').slice(0, 22);
}
