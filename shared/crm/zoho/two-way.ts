/**
 * Two-way sync on Zoho CRM (SY-3, ID-5), over the adapter's API layer (its token cache, error
 * mapping, pacing and deadlines):
 * - resolve: the records a notification names, read by id (GET /{module}?ids=…&fields=…);
 * - changesSince: the Modified_Time catch-up — contacts modified after `since`, oldest first, and
 *   reply Tasks created since, from the module lists (GET /{module} with If-Modified-Since, sorted
 *   by Modified_Time), which read the records themselves: the search index lags writes by seconds
 *   and a catch-up that moved past a change the index did not show yet would lose it;
 * - writeFields / writeReplyStatus: PUT by id;
 * - purchasesSince: won Deals carrying the WhatsApp_SKU our deals carry. Deals rather than
 *   Sales Orders: every edition has Deals (Sales Orders need the inventory modules), and a listed
 *   Sales Order has no line items (Zoho returns Ordered_Items only when one order is read by id);
 * - mergeContacts: Zoho's Merge Records API (merge.ts); watch: the notification channel (watch.ts).
 */
import type { FieldMapping } from '../field-mapping.ts';
import { crmField } from '../field-mapping.ts';
import { CrmError, type CrmCallOptions } from '../port.ts';
import type { CrmContactChange, CrmEvent, CrmPurchase, CrmRecordRef, CrmTwoWay, ReplyStatus, TwoWayField } from '../two-way.ts';
import { recordError, type ZohoApi } from './api.ts';
import { closedDealEvent, contactEvent, contactFields, DEAL_FIELDS, REPLY_FIELDS, replyEvent, type ChangeSettings } from './changes.ts';
import { CONTACT, CONTACTS_MODULE, DEAL, DEAL_WON_STAGE, SYSTEM, TASK, TASK_DONE_STATUS } from './fields.ts';
import { fit, parseZohoTime, text, zohoDateTime } from './format.ts';
import { mergeContacts } from './merge.ts';
import type { ZohoRecord } from './schemas.ts';
import { watchChannel, type ZohoChannel } from './watch.ts';

export interface ZohoTwoWaySettings {
  readonly mapping: FieldMapping;
  /** The Zoho user id this integration writes as (Modified_By of its writes); unknown: `ours` stays undefined. */
  readonly integrationUserId?: string | undefined;
  readonly now: () => number;
}

/** List pages read per catch-up module at most (200 records each, Zoho's page-based limit is 2000). */
const MAX_PAGES = 10;
/** Zoho's lengths: First_Name 40, single lines 255. */
const FIRST_NAME_MAX = 40;
const LINE_MAX = 255;
/** Statuses after which the reply is out: its Task is done. */
const SENT_STATUSES: readonly ReplyStatus[] = ['sent', 'delivered', 'read'];

export class ZohoTwoWay implements CrmTwoWay {
  private readonly changes: ChangeSettings;

  constructor(
    private readonly api: ZohoApi,
    private readonly settings: ZohoTwoWaySettings,
  ) {
    this.changes = { customerLevelField: crmField(settings.mapping, 'customerLevel'), integrationUserId: settings.integrationUserId };
  }

  /** Contacts, reply Tasks and closed Deals the refs name; deletes, other modules and records gone read as nothing. */
  async resolve(refs: readonly CrmRecordRef[], options: CrmCallOptions = {}): Promise<{ changes: CrmEvent[]; calls: number }> {
    const api = this.api.fork(options.deadline);
    const wanted = new Map<string, Map<string, readonly string[] | undefined>>();
    for (const ref of refs) {
      if (ref.operation === 'delete' || ![CONTACTS_MODULE, TASK.module, DEAL.module].includes(ref.module)) continue;
      const ids = wanted.get(ref.module) ?? new Map<string, readonly string[] | undefined>();
      for (const id of ref.ids) {
        // An insert, or a ref without field names, reads every field; several refs of one record widen the set.
        const fields = ref.operation === 'insert' || ref.operation === 'create' || !ref.fields ? undefined : ref.fields;
        const before = ids.has(id) ? ids.get(id) : fields;
        ids.set(id, before === undefined || fields === undefined ? undefined : [...new Set([...before, ...fields])]);
      }
      wanted.set(ref.module, ids);
    }
    const events: CrmEvent[] = [];
    for (const [module, ids] of wanted) {
      const fields = module === CONTACTS_MODULE ? contactFields(this.changes) : module === TASK.module ? REPLY_FIELDS : DEAL_FIELDS;
      for (const record of await api.getMany(module, [...ids.keys()], fields)) {
        const event = module === CONTACTS_MODULE ? contactEvent(record, this.changes, ids.get(record.id)) : module === TASK.module ? replyEvent(record) : closedDealEvent(record);
        if (event) events.push(event);
      }
    }
    return { changes: byTime(events), calls: api.calls };
  }

  async readContact(crmId: string, options: CrmCallOptions = {}): Promise<{ change: CrmContactChange | undefined; calls: number }> {
    requireId(crmId, 'readContact');
    const { changes, calls } = await this.resolve([{ kind: 'ref', module: CONTACTS_MODULE, ids: [crmId], operation: 'update', at: this.settings.now() }], options);
    const change = changes.map((e) => e.change).find((c): c is CrmContactChange => c.kind === 'contact' && c.crmId === crmId);
    return { change, calls };
  }

  /**
   * Contacts modified after `since` and replies created after it, oldest first, at most `limit`.
   * The cursor is the last event's time; a cut never splits one second (Zoho's times have whole
   * seconds), so the next call from the cursor misses nothing.
   */
  async changesSince(since: number, limit: number, options: CrmCallOptions = {}): Promise<{ events: CrmEvent[]; cursor: number; calls: number }> {
    if (!Number.isFinite(since) || since < 0) throw new CrmError('permanent', 'changesSince needs a time (ms) to look from', { crm: 'zoho' });
    if (!Number.isInteger(limit) || limit < 1) throw new CrmError('permanent', 'changesSince needs a limit of at least 1', { crm: 'zoho' });
    const api = this.api.fork(options.deadline);
    const contacts = await this.modifiedSince(api, CONTACTS_MODULE, contactFields(this.changes), since, limit);
    const tasks = await this.modifiedSince(api, TASK.module, REPLY_FIELDS, since, limit);
    // A list read only in part reaches up to its last record: nothing later is reported from the other list either.
    const horizon = Math.min(contacts.complete ? Infinity : contacts.reached, tasks.complete ? Infinity : tasks.reached);
    const all = byTime([
      ...contacts.records.flatMap((r) => contactEvent(r, this.changes) ?? []),
      ...tasks.records.flatMap((r) => replyEvent(r) ?? []).filter((e) => e.occurredAt > since),
    ]);
    // The horizon's own second may go on in the part not read: it is left for the next call.
    const before = all.filter((e) => secondOf(e.occurredAt) < secondOf(horizon));
    const page = cutAt(before.length > 0 || horizon === Infinity ? before : all.filter((e) => e.occurredAt <= horizon), limit);
    return { events: page, cursor: page.at(-1)?.occurredAt ?? since, calls: api.calls };
  }

  async writeFields(crmId: string, values: Readonly<Partial<Record<TwoWayField, string | null>>>, options: CrmCallOptions = {}): Promise<{ calls: number }> {
    requireId(crmId, 'writeFields');
    const record: Record<string, unknown> & { id: string } = { id: crmId };
    if (values.firstName !== undefined) record[CONTACT.firstName] = values.firstName === null ? null : fit(values.firstName, FIRST_NAME_MAX);
    if (values.customerLevel !== undefined) {
      const field = this.changes.customerLevelField;
      if (!field) throw new CrmError('permanent', 'the customer level is not mapped to a Zoho field (config/crm/zoho.json)', { crm: 'zoho' });
      record[field] = values.customerLevel === null ? null : fit(values.customerLevel, LINE_MAX);
    }
    if (Object.keys(record).length === 1) return { calls: 0 };
    const api = this.api.fork(options.deadline);
    await this.updateOne(api, CONTACTS_MODULE, record, `contact ${crmId}`);
    return { calls: api.calls };
  }

  /** `WhatsApp_Status` ← `<status> <ISO time>[ <wamid>][: <error>]`; the Task is Completed once the reply is out. */
  async writeReplyStatus(
    reply: { readonly replyId: string; readonly contactCrmId: string },
    status: ReplyStatus,
    detail: { readonly at: number; readonly wamid?: string | undefined; readonly error?: string | undefined },
    options: CrmCallOptions = {},
  ): Promise<{ calls: number }> {
    requireId(reply.replyId, 'writeReplyStatus');
    if (!Number.isFinite(detail.at)) throw new CrmError('permanent', 'writeReplyStatus needs the time of the status', { crm: 'zoho' });
    const line = `${status} ${new Date(detail.at).toISOString()}${detail.wamid ? ` ${detail.wamid}` : ''}${detail.error ? `: ${detail.error}` : ''}`;
    const api = this.api.fork(options.deadline);
    await this.updateOne(api, TASK.module, { id: reply.replyId, [TASK.replyStatus]: fit(line, LINE_MAX), ...(SENT_STATUSES.includes(status) && { [TASK.status]: TASK_DONE_STATUS }) }, `reply task ${reply.replyId}`);
    return { calls: api.calls };
  }

  /**
   * Won deals (Stage Closed Won) with a SKU, changed after `since`. A purchase is dated by the
   * deal's Closing_Date (the day it was won; Modified_Time moves with every later edit), so the
   * same deal read again gives the same purchase: the caller keys purchases by contact, SKU, time.
   */
  async purchasesSince(since: number, options: CrmCallOptions = {}): Promise<{ purchases: CrmPurchase[]; calls: number }> {
    if (!Number.isFinite(since) || since < 0) throw new CrmError('permanent', 'purchasesSince needs a time (ms) to look from', { crm: 'zoho' });
    const api = this.api.fork(options.deadline);
    const deals = await this.modifiedSince(api, DEAL.module, DEAL_FIELDS, since, MAX_PAGES * 200);
    const purchases = deals.records.flatMap((deal): CrmPurchase[] => {
      const sku = text(deal[DEAL.sku]);
      const closed = closedDealEvent(deal);
      if (!sku || !closed || closed.change.kind !== 'closed' || closed.change.status !== DEAL_WON_STAGE) return [];
      const amount = deal[DEAL.amount];
      return [{ contactCrmId: closed.change.contactCrmId, sku, at: parseZohoTime(deal[DEAL.closingDate]) ?? closed.occurredAt, ...(typeof amount === 'number' && Number.isFinite(amount) && { amount }) }];
    });
    return { purchases, calls: api.calls };
  }

  mergeContacts(survivorCrmId: string, loserCrmId: string, options: CrmCallOptions = {}): Promise<{ crmId: string; calls: number }> {
    return mergeContacts(this.api.fork(options.deadline), survivorCrmId, loserCrmId);
  }

  watch(channel: ZohoChannel, options: CrmCallOptions = {}): Promise<{ expiresAt: number; calls: number }> {
    return watchChannel(this.api.fork(options.deadline), channel, this.settings.now());
  }

  /**
   * Records of the module modified after `since` (ms), oldest first, read until `enough` or the
   * list ends; `complete` false when more are left, `reached` the Modified_Time of the last read.
   */
  private async modifiedSince(api: ZohoApi, module: string, fields: readonly string[], since: number, enough: number): Promise<{ records: ZohoRecord[]; complete: boolean; reached: number }> {
    const records: ZohoRecord[] = [];
    let reached = since;
    for (let page = 1; page <= MAX_PAGES; page++) {
      const listed = await api.list(module, fields, { sortBy: 'Modified_Time', sortOrder: 'asc', modifiedSince: zohoDateTime(since), page });
      for (const record of listed.records) {
        const at = parseZohoTime(record[SYSTEM.modifiedTime]) ?? 0;
        reached = Math.max(reached, at);
        // If-Modified-Since has whole seconds: the records of since's own second are compared here.
        if (at > since) records.push(record);
      }
      if (!listed.more) return { records, complete: true, reached };
      if (records.length >= enough) break;
    }
    return { records, complete: false, reached };
  }

  private async updateOne(api: ZohoApi, module: string, record: Record<string, unknown> & { id: string }, what: string): Promise<void> {
    const [result] = await api.update(module, [record]);
    if (!result) throw new CrmError('transient', `Zoho gave no outcome for ${what}`, { crm: 'zoho' });
    if (result.ok) return;
    if (result.missing) throw new CrmError('permanent', `Zoho ${what} is gone (deleted or merged)`, { crm: 'zoho', category: 'INVALID_DATA' });
    throw recordError(result, `the update of ${what}`);
  }
}

function requireId(id: string, what: string): void {
  if (!/^\d{1,30}$/.test(id)) throw new CrmError('permanent', `${what} needs a Zoho record id`, { crm: 'zoho' });
}

function secondOf(ms: number): number {
  return Math.floor(ms / 1000);
}

function byTime(events: CrmEvent[]): CrmEvent[] {
  return events.sort((a, b) => a.occurredAt - b.occurredAt || a.eventId.localeCompare(b.eventId));
}

/** The first `limit` events, less the trailing ones of a second the cut would split (unless that leaves none). */
function cutAt(events: readonly CrmEvent[], limit: number): CrmEvent[] {
  if (events.length <= limit) return [...events];
  const second = (e: CrmEvent) => secondOf(e.occurredAt);
  const boundary = second(events[limit]!);
  const kept = events.slice(0, limit).filter((e) => second(e) < boundary);
  return kept.length > 0 ? kept : events.filter((e) => second(e) === boundary);
}
