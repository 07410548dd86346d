/**
 * Two-way sync on Salesforce (SY-3, ID-3, ID-5), over the adapter's API layer (its session
 * renewal, error mapping, retries and deadlines). Deliveries are Change Data Capture events
 * through Event Relay (inbound.ts); this is what reads and writes back:
 * - resolve: the records a gap event (GAP_*) or a closed Case / Opportunity without its contact
 *   names, read by id (sObject Collections, 200 at once): Contacts, reply Tasks, Cases, Opportunities;
 * - changesSince: the SystemModstamp catch-up (SOQL reads the database: no index lag), for
 *   events Event Relay missed and for orgs without CDC — Contacts, and reply Tasks whose status
 *   is not written yet, oldest first, cut without splitting a stamp (changes.ts `cutCatchUp`);
 * - readContact: GET of the contact's two-way fields;
 * - writeFields / writeReplyStatus: PATCH of the Contact / the reply Task (its Status Completed
 *   once the reply is sent, delivered, read or has failed);
 * - purchasesSince: Orders with their items' product codes (purchases.ts says why Orders);
 * - mergeContacts: the SOAP API's merge() (merge.ts), the REST API having none.
 * Our own writes are told by LastModifiedById / CreatedById = the integration user
 * (SALESFORCE_INTEGRATION_USER_ID), as the CDC events' commitUser tells them.
 */
import { crmField, type FieldMapping } from '../field-mapping.ts';
import { CrmError, type CrmCallOptions } from '../port.ts';
import type { CrmContactChange, CrmEvent, CrmPurchase, CrmRecordRef, CrmTwoWay, ReplyStatus, TwoWayField } from '../two-way.ts';
import { COLLECTION_LIMIT, type FieldValues, type SalesforceApi, type SObjectRecord } from './api.ts';
import {
  awaitsStatus,
  CASE_FIELDS,
  closedEvent,
  contactChange,
  contactEvent,
  contactFields,
  cutCatchUp,
  DONE_STATUSES,
  OPPORTUNITY_FIELDS,
  REPLY_FIELDS,
  replyEvent,
  replyStatusText,
  soqlSecond,
  stampedAfter,
  stampOf,
  STATUS_MAX,
  SYSTEM,
  TASK_DONE_STATUS,
  type CatchUpList,
  type ChangeSettings,
  type Stamped,
} from './changes.ts';
import { CONTACT, cut, TASK } from './fields.ts';
import { TWO_WAY_FIELD } from './inbound.ts';
import { mergeContacts } from './merge.ts';
import { purchasesSince } from './purchases.ts';
import { isRecordId } from './soql.ts';

export interface SalesforceTwoWaySettings {
  readonly mapping: FieldMapping;
  /** The user this integration writes as (SALESFORCE_INTEGRATION_USER_ID); unknown: `ours` stays undefined. */
  readonly integrationUserId?: string | undefined;
}

/** Contact.FirstName is 40 characters; text fields 255. */
const FIRST_NAME_MAX = 40;
const TEXT_MAX = 255;
/** Rows a boundary second is read with at most (SOQL's first batch). */
const BOUNDARY_ROWS = 2000;

type CatchUpRow = Stamped & { readonly object: 'Contact' | 'Task'; readonly record: SObjectRecord };

export class SalesforceTwoWay implements CrmTwoWay {
  private readonly changes: ChangeSettings;

  constructor(
    private readonly api: SalesforceApi,
    settings: SalesforceTwoWaySettings,
  ) {
    this.changes = { customerLevelField: crmField(settings.mapping, 'customerLevel'), integrationUserId: settings.integrationUserId };
  }

  /** Contacts, reply Tasks and closed Cases / Opportunities the refs name; deletes, other objects and records gone read as nothing. */
  async resolve(refs: readonly CrmRecordRef[], options: CrmCallOptions = {}): Promise<{ changes: CrmEvent[]; calls: number }> {
    const api = this.api.fork(options.deadline);
    const wanted = new Map<ResolvedObject, Map<string, number>>();
    for (const ref of refs) {
      const object = objectOf(ref.module);
      if (!object || /DELETE/i.test(ref.operation)) continue;
      const ids = wanted.get(object) ?? new Map<string, number>();
      for (const id of ref.ids) if (isRecordId(id)) ids.set(id, Math.max(ids.get(id) ?? 0, ref.at));
      wanted.set(object, ids);
    }
    const events: CrmEvent[] = [];
    for (const [object, ids] of wanted) {
      const fields = object === 'Contact' ? contactFields(this.changes) : object === 'Task' ? REPLY_FIELDS : object === 'Case' ? CASE_FIELDS : OPPORTUNITY_FIELDS;
      for (const record of await retrieve(api, object, [...ids.keys()], fields)) {
        const event =
          object === 'Contact' ? contactEvent(record, this.changes, 'read') : object === 'Task' ? (awaitsStatus(record) ? replyEvent(record, this.changes) : undefined) : closedEvent(record, object, ids.get(record.Id) || undefined);
        if (event) events.push(event);
      }
    }
    return { changes: byTime(events), calls: api.calls };
  }

  async readContact(crmId: string, options: CrmCallOptions = {}): Promise<{ change: CrmContactChange | undefined; calls: number }> {
    requireId(crmId, 'readContact');
    const api = this.api.fork(options.deadline);
    const record = await api.get(CONTACT.object, crmId, contactFields(this.changes), 'two-way contact read');
    return { change: record ? contactChange(record, this.changes) : undefined, calls: api.calls };
  }

  /**
   * Contacts and unanswered reply Tasks stamped after `since`, oldest first, at most `limit`
   * (more only when one stamp holds more); the cursor is where the next call starts without
   * missing anything (changes.ts `cutCatchUp`).
   */
  async changesSince(since: number, limit: number, options: CrmCallOptions = {}): Promise<{ events: CrmEvent[]; cursor: number; calls: number }> {
    if (!Number.isFinite(since) || since < 0) throw new CrmError('permanent', `changesSince needs a time in ms, got ${since}`, { crm: 'salesforce' });
    if (!Number.isInteger(limit) || limit < 1) throw new CrmError('permanent', `changesSince needs a positive whole limit, got ${limit}`, { crm: 'salesforce' });
    const api = this.api.fork(options.deadline);
    const queries = this.catchUpQueries();
    let lists = await Promise.all(queries.map((q) => this.catchUpList(api, q, stampedAfter(since), limit)));
    let page = cutCatchUp(since, limit, lists);
    if (page.kind === 'boundary') {
      const second = Math.floor(page.at / 1000) * 1000;
      const within = `${SYSTEM.systemModstamp} >= ${soqlSecond(second)} AND ${SYSTEM.systemModstamp} < ${soqlSecond(second + 1000)}`;
      lists = await Promise.all(
        lists.map(async (list, i) => {
          if (list.coveredBelow === Infinity) return list;
          const whole = await this.catchUpList(api, queries[i]!, within, BOUNDARY_ROWS);
          return { rows: [...list.rows, ...whole.rows], coveredBelow: Math.max(list.coveredBelow, whole.coveredBelow === Infinity ? second + 1000 : whole.coveredBelow) };
        }),
      );
      page = cutCatchUp(since, limit, lists, true);
    }
    if (page.kind !== 'page') throw new CrmError('transient', 'the Salesforce catch-up could not cut a page', { crm: 'salesforce' });
    const events = page.rows.flatMap((row) => (row.object === 'Contact' ? [contactEvent(row.record, this.changes, 'catchup')] : (replyEvent(row.record, this.changes) ?? [])));
    return { events: byTime(events), cursor: page.cursor, calls: api.calls };
  }

  async writeFields(crmId: string, values: Readonly<Partial<Record<TwoWayField, string | null>>>, options: CrmCallOptions = {}): Promise<{ calls: number }> {
    requireId(crmId, 'writeFields');
    const fields: Record<string, string | null> = {};
    if (values.firstName !== undefined) fields.FirstName = values.firstName === null ? null : cut(values.firstName, FIRST_NAME_MAX);
    if (values.customerLevel !== undefined) {
      const field = this.changes.customerLevelField;
      if (!field) throw new CrmError('permanent', 'the customer level is not mapped to a Salesforce Contact field (config/crm/salesforce.json): it cannot be written', { crm: 'salesforce' });
      fields[field] = values.customerLevel === null ? null : cut(values.customerLevel, TEXT_MAX);
    }
    if (Object.keys(fields).length === 0) return { calls: 0 };
    const api = this.api.fork(options.deadline);
    await update(api, CONTACT.object, crmId, fields, `contact ${crmId}`, 'two-way fields');
    return { calls: api.calls };
  }

  /** WhatsApp_Status__c ← `delivered 2026-…Z` (`failed …: <error>`); the Task Completed once the reply is out or has failed. */
  async writeReplyStatus(
    reply: { readonly replyId: string; readonly contactCrmId: string },
    status: ReplyStatus,
    detail: { readonly at: number; readonly wamid?: string | undefined; readonly error?: string | undefined },
    options: CrmCallOptions = {},
  ): Promise<{ calls: number }> {
    if (!isRecordId(reply.replyId)) throw new CrmError('permanent', `writeReplyStatus needs the reply Task's Salesforce id, got "${reply.replyId}"`, { crm: 'salesforce' });
    if (!Number.isFinite(detail.at)) throw new CrmError('permanent', `the reply status needs its time in ms, got ${detail.at}`, { crm: 'salesforce' });
    const api = this.api.fork(options.deadline);
    const fields = { [TWO_WAY_FIELD.replyStatus]: cut(replyStatusText(status, detail.at, detail.error), STATUS_MAX), ...(DONE_STATUSES.includes(status) && { Status: TASK_DONE_STATUS }) };
    await update(api, TASK.object, reply.replyId, fields, `reply task ${reply.replyId}`, 'reply status');
    return { calls: api.calls };
  }

  purchasesSince(since: number, options: CrmCallOptions = {}): Promise<{ purchases: CrmPurchase[]; calls: number }> {
    if (!Number.isFinite(since) || since < 0) throw new CrmError('permanent', `purchasesSince needs a time in ms, got ${since}`, { crm: 'salesforce' });
    return purchasesSince(this.api.fork(options.deadline), since);
  }

  mergeContacts(survivorCrmId: string, loserCrmId: string, options: CrmCallOptions = {}): Promise<{ crmId: string; calls: number }> {
    return mergeContacts(this.api.fork(options.deadline), survivorCrmId, loserCrmId);
  }

  /** The catch-up's two lists: every Contact, and the reply Tasks still without a status. */
  private catchUpQueries(): CatchUpQuery[] {
    return [
      { object: 'Contact', fields: contactFields(this.changes), where: '' },
      { object: 'Task', fields: [...REPLY_FIELDS], where: `${TWO_WAY_FIELD.reply} = true AND ${TWO_WAY_FIELD.replyStatus} = null AND ` },
    ];
  }

  /** One list, oldest first, at most `limit`; covered below its last stamp when the LIMIT cut it. */
  private async catchUpList(api: SalesforceApi, query: CatchUpQuery, stamped: string, limit: number): Promise<CatchUpList<CatchUpRow>> {
    const soql = `SELECT ${query.fields.join(', ')} FROM ${query.object} WHERE ${query.where}${stamped} ORDER BY ${SYSTEM.systemModstamp} ASC, Id ASC LIMIT ${limit}`;
    const records = await api.query(soql, `${query.object.toLowerCase()} catch-up`);
    const rows = records.map((record): CatchUpRow => ({ id: record.Id, stamp: stampOf(record), object: query.object, record }));
    return { rows, coveredBelow: rows.length < limit ? Infinity : (rows.at(-1)?.stamp ?? Infinity) };
  }
}

interface CatchUpQuery {
  readonly object: 'Contact' | 'Task';
  readonly fields: readonly string[];
  /** Conditions before the stamp's, each followed by AND. */
  readonly where: string;
}

type ResolvedObject = 'Contact' | 'Task' | 'Case' | 'Opportunity';

/** A CDC entity name (or a ref's module) → the object resolve reads; others undefined. */
function objectOf(module: string): ResolvedObject | undefined {
  const m = module.replace(/ChangeEvent$/, '').toLowerCase();
  return m === 'contact' ? 'Contact' : m === 'task' ? 'Task' : m === 'case' ? 'Case' : m === 'opportunity' ? 'Opportunity' : undefined;
}

/** The records there of `ids` (sObject Collections, 200 per request). */
async function retrieve(api: SalesforceApi, object: string, ids: readonly string[], fields: readonly string[]): Promise<SObjectRecord[]> {
  const found: SObjectRecord[] = [];
  for (let i = 0; i < ids.length; i += COLLECTION_LIMIT) {
    const records = await api.retrieveCollection(object, ids.slice(i, i + COLLECTION_LIMIT), fields, `${object.toLowerCase()} read-back`);
    found.push(...records.filter((r): r is SObjectRecord => r !== null));
  }
  return found;
}

async function update(api: SalesforceApi, object: string, id: string, fields: FieldValues, record: string, what: string): Promise<void> {
  const outcome = await api.update(object, id, fields, what);
  if (outcome.kind === 'missing') throw new CrmError('permanent', `Salesforce ${record} is gone (deleted or merged): its ${what} cannot be written`, { crm: 'salesforce', status: 404, category: 'ENTITY_IS_DELETED' });
  if (outcome.kind === 'duplicate') throw new CrmError('permanent', `Salesforce refused the ${what} of ${record} as a duplicate value${outcome.field ? ` of ${outcome.field}` : ''}`, { crm: 'salesforce', status: 400, category: 'DUPLICATE_VALUE' });
}

function byTime(events: CrmEvent[]): CrmEvent[] {
  return events.sort((a, b) => a.occurredAt - b.occurredAt || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
}

function requireId(id: string, what: string): void {
  if (!isRecordId(id)) throw new CrmError('permanent', `${what} needs the contact's Salesforce id, got "${id}"`, { crm: 'salesforce' });
}
