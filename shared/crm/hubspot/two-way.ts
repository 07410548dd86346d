/**
 * Two-way sync on HubSpot (SY-3, ID-3, ID-5), over the adapter's API layer (its error mapping,
 * token refresh, pacing and deadlines):
 * - resolve: the deals a closed-stage webhook names, read with their associated contacts (the
 *   event does not say whose deal it is); contacts by id;
 * - changesSince: the `lastmodifieddate` catch-up — a contacts search, oldest first; each contact
 *   one event dated by its modification time, and a reply of its `whatsapp_reply` not answered yet,
 *   dated (and so identified) by the reply property's own history, as its webhook dates it;
 * - writeFields / writeReplyStatus: a PATCH of the contact;
 * - purchasesSince: orders with their line items' `hs_sku`, as orders.ts reads them. Orders, not
 *   our deals: a deal of ours is an intent seen on WhatsApp, an order is what the shop's connector
 *   says was bought, with its own time; the local stand-in seeds orders the same way;
 * - mergeContacts: HubSpot's merge endpoint.
 */
import { crmField, type FieldMapping } from '../field-mapping.ts';
import { CrmError, type CrmCallOptions } from '../port.ts';
import { replyStatusText as statusLine, type CrmContactChange, type CrmEvent, type CrmFieldChange, type CrmPurchase, type CrmRecordRef, type CrmTwoWay, type ReplyStatus, type TwoWayField } from '../two-way.ts';
import type { HubSpotApi, SearchFilter } from './api.ts';
import { SEARCH_LIMIT } from './api.ts';
import { describe as describeBody } from './http.ts';
import { CLOSED_DEAL_STAGES, DEAL_STAGE_PROPERTY, hubSpotReplyId, TWO_WAY_PROPERTY, userIdOf } from './inbound.ts';
import { placedAt, timestamp } from './orders.ts';
import { CONTACT, LINE_ITEM, ORDER } from './properties.ts';
import type { CrmRecord } from './schemas.ts';

export interface HubSpotTwoWaySettings {
  readonly mapping: FieldMapping;
  /** Now, in ms (tests). */
  readonly now?: () => number;
}

/** HubSpot's contacts modification time (contacts, like deals, carry the older system names). */
const LAST_MODIFIED = 'lastmodifieddate';
/**
 * Search shows a write seconds after it was made: the cursor never moves closer to now than
 * this, so a change the index did not show yet is read by the next catch-up (its event id repeats
 * for a change already read, and is then deduplicated).
 */
export const SEARCH_LAG_MARGIN_MS = 60_000;
/** HubSpot pages a search no further than 10,000 records. */
const MAX_SEARCH_RESULTS = 10_000;
/** Longest status text written (an error from Meta can be long; the property holds more). */
const STATUS_MAX = 1000;

export class HubSpotTwoWay implements CrmTwoWay {
  private readonly levelProperty: string | undefined;
  private readonly now: () => number;

  constructor(
    private readonly api: HubSpotApi,
    settings: HubSpotTwoWaySettings,
  ) {
    this.levelProperty = crmField(settings.mapping, 'customerLevel');
    this.now = settings.now ?? Date.now;
  }

  /** The contact properties a change is read from. */
  private get contactProperties(): string[] {
    return [TWO_WAY_PROPERTY.firstName, ...(this.levelProperty ? [this.levelProperty] : []), TWO_WAY_PROPERTY.optOut, TWO_WAY_PROPERTY.reply, TWO_WAY_PROPERTY.replyStatus, CONTACT.bsuid, CONTACT.phone, LAST_MODIFIED];
  }

  /** Deals (closed: for each associated contact) and contacts the refs name; other modules and records gone read as nothing. */
  async resolve(refs: readonly CrmRecordRef[], options: CrmCallOptions = {}): Promise<{ changes: CrmEvent[]; calls: number }> {
    const api = this.api.fork(options.deadline);
    const deals = new Map<string, number>();
    const contacts = new Set<string>();
    for (const ref of refs) {
      const module = moduleOf(ref.module);
      if (ref.operation === 'delete' || ref.operation === 'deletion' || !module) continue;
      for (const id of ref.ids) {
        if (module === 'deals') deals.set(id, Math.max(deals.get(id) ?? 0, ref.at));
        else contacts.add(id);
      }
    }
    const changes: CrmEvent[] = [];
    if (deals.size > 0) changes.push(...(await this.closedDeals(api, deals)));
    if (contacts.size > 0) {
      const records = await api.batchRead('contacts', [...contacts], { properties: this.contactProperties });
      changes.push(...(await this.contactEvents(api, records, 'read')));
    }
    return { changes, calls: api.calls };
  }

  async readContact(crmId: string, options: CrmCallOptions = {}): Promise<{ change: CrmContactChange | undefined; calls: number }> {
    requireId(crmId, 'readContact');
    const api = this.api.fork(options.deadline);
    const record = await api.read('contacts', crmId, { properties: this.contactProperties });
    // A merged-away id reads as its survivor: not this contact's fields any more.
    if (!record || record.id !== crmId) return { change: undefined, calls: api.calls };
    return { change: this.contactChange(record, modifiedAt(record)), calls: api.calls };
  }

  async changesSince(since: number, limit: number, options: CrmCallOptions = {}): Promise<{ events: CrmEvent[]; cursor: number; calls: number }> {
    if (!Number.isFinite(since) || since < 0) throw new CrmError('permanent', `changesSince needs a time in ms, got ${since}`, { crm: 'hubspot' });
    if (!Number.isInteger(limit) || limit < 1) throw new CrmError('permanent', `changesSince needs a positive whole limit, got ${limit}`, { crm: 'hubspot' });
    const api = this.api.fork(options.deadline);
    const records: CrmRecord[] = [];
    let after: string | undefined;
    do {
      const page = await api.search('contacts', {
        filterGroups: [{ filters: [{ propertyName: LAST_MODIFIED, operator: 'GT', value: String(Math.floor(since)) }] }],
        sorts: [{ propertyName: LAST_MODIFIED, direction: 'ASCENDING' }],
        properties: this.contactProperties,
        limit: Math.min(SEARCH_LIMIT, limit - records.length),
        after,
      });
      records.push(...page.results);
      after = page.after;
    } while (after && records.length < limit && Number(after) < MAX_SEARCH_RESULTS);
    const events = await this.contactEvents(api, records, 'catchup');
    const times = records.map(modifiedAt).filter((t) => t > since);
    const last = times.length > 0 ? Math.max(...times) : since;
    const first = times.length > 0 ? Math.min(...times) : since;
    // A full page may have cut records of its last millisecond off: read that millisecond again.
    const full = records.length >= limit && first < last;
    const cursor = Math.max(since, Math.min(full ? last - 1 : last, this.now() - SEARCH_LAG_MARGIN_MS));
    return { events: events.sort((a, b) => a.occurredAt - b.occurredAt), cursor, calls: api.calls };
  }

  async writeFields(crmId: string, values: Readonly<Partial<Record<TwoWayField, string | null>>>, options: CrmCallOptions = {}): Promise<{ calls: number }> {
    requireId(crmId, 'writeFields');
    const properties: Record<string, string> = {};
    for (const [field, value] of Object.entries(values) as [TwoWayField, string | null | undefined][]) {
      if (value === undefined) continue;
      const property = field === 'firstName' ? TWO_WAY_PROPERTY.firstName : this.levelProperty;
      if (!property) throw new CrmError('permanent', `the customer level is not mapped to a HubSpot property (config/crm/hubspot.json): it cannot be written`, { crm: 'hubspot' });
      properties[property] = value ?? '';
    }
    if (Object.keys(properties).length === 0) return { calls: 0 };
    const api = this.api.fork(options.deadline);
    await patchContact(api, crmId, properties, 'two-way fields');
    return { calls: api.calls };
  }

  /**
   * `delivered 2026-12-02T09:00:00.000Z` on the contact's reply status property (`failed …: <error>`):
   * what the agent sees next to the reply they wrote.
   */
  async writeReplyStatus(
    reply: { readonly replyId: string; readonly contactCrmId: string },
    status: ReplyStatus,
    detail: { readonly at: number; readonly wamid?: string | undefined; readonly error?: string | undefined },
    options: CrmCallOptions = {},
  ): Promise<{ calls: number }> {
    requireId(reply.contactCrmId, 'writeReplyStatus');
    if (!Number.isFinite(detail.at)) throw new CrmError('permanent', `the reply status needs its time in ms, got ${detail.at}`, { crm: 'hubspot' });
    const api = this.api.fork(options.deadline);
    await patchContact(api, reply.contactCrmId, { [TWO_WAY_PROPERTY.replyStatus]: replyStatusText(status, detail.at, detail.error) }, 'reply status');
    return { calls: api.calls };
  }

  /** Each line item (SKU) of the orders placed after `since`, for the order's first associated contact. */
  async purchasesSince(since: number, options: CrmCallOptions = {}): Promise<{ purchases: CrmPurchase[]; calls: number }> {
    if (!Number.isFinite(since)) throw new CrmError('permanent', `purchasesSince needs a time in ms, got ${since}`, { crm: 'hubspot' });
    const api = this.api.fork(options.deadline);
    const value = String(Math.floor(since));
    const orders: CrmRecord[] = [];
    let after: string | undefined;
    do {
      const page = await api.search('orders', {
        // Placed after `since` by the shop's time, or (no shop time) by HubSpot's.
        filterGroups: [
          { filters: [{ propertyName: ORDER.externalCreatedAt, operator: 'GT', value }] },
          { filters: [{ propertyName: ORDER.externalCreatedAt, operator: 'NOT_HAS_PROPERTY' }, { propertyName: ORDER.createdAt, operator: 'GT', value }] },
        ] satisfies { filters: SearchFilter[] }[],
        sorts: [{ propertyName: ORDER.createdAt, direction: 'ASCENDING' }],
        properties: [ORDER.externalCreatedAt, ORDER.createdAt, ORDER.totalPrice],
        limit: SEARCH_LIMIT,
        after,
      });
      orders.push(...page.results);
      after = page.after;
    } while (after && Number(after) < MAX_SEARCH_RESULTS);
    if (orders.length === 0) return { purchases: [], calls: api.calls };
    const ids = orders.map((o) => o.id);
    const contactsOf = await api.associatedIdsOfMany('orders', ids, 'contacts');
    const itemsOf = await api.associatedIdsOfMany('orders', ids, 'line_items');
    const itemIds = [...new Set([...itemsOf.values()].flat())];
    const items = new Map((itemIds.length ? await api.batchRead('line_items', itemIds, { properties: [LINE_ITEM.sku, 'price', 'quantity', 'amount'] }) : []).map((i) => [i.id, i]));
    const purchases: CrmPurchase[] = [];
    for (const order of orders) {
      const contactCrmId = contactsOf.get(order.id)?.[0];
      if (!contactCrmId) continue;
      const lineItems = (itemsOf.get(order.id) ?? []).map((id) => items.get(id)).filter((i): i is CrmRecord => i !== undefined);
      const total = numberOf(order.properties[ORDER.totalPrice]);
      for (const item of lineItems) {
        const sku = item.properties[LINE_ITEM.sku]?.trim();
        if (!sku) continue;
        const amount = lineAmount(item) ?? (lineItems.length === 1 ? total : undefined);
        purchases.push({ contactCrmId, sku, at: placedAt(order), ...(amount !== undefined && { amount }) });
      }
    }
    return { purchases, calls: api.calls };
  }

  /**
   * HubSpot's merge of `loserCrmId` into `survivorCrmId`; the merged record's id (HubSpot's answer
   * says which). A retry after a merge whose answer was lost finds the loser already merged: HubSpot
   * reads a merged-away id as its survivor, which is then the answer.
   */
  async mergeContacts(survivorCrmId: string, loserCrmId: string, options: CrmCallOptions = {}): Promise<{ crmId: string; calls: number }> {
    requireId(survivorCrmId, 'mergeContacts');
    requireId(loserCrmId, 'mergeContacts');
    if (survivorCrmId === loserCrmId) return { crmId: survivorCrmId, calls: 0 };
    const api = this.api.fork(options.deadline);
    const outcome = await api.merge('contacts', survivorCrmId, loserCrmId);
    if (outcome.kind === 'merged') return { crmId: outcome.record.id, calls: api.calls };
    const [survivor, loser] = await Promise.all([api.read('contacts', survivorCrmId, { properties: [] }), api.read('contacts', loserCrmId, { properties: [] })]);
    if (survivor && (!loser || loser.id === survivor.id)) return { crmId: survivor.id, calls: api.calls };
    throw new CrmError('permanent', `HubSpot refused to merge contact ${loserCrmId} into ${survivorCrmId}: ${outcome.status}${describeBody(outcome.body)}`, { crm: 'hubspot', status: outcome.status });
  }

  /** A contact's changes (one event per contact), and its reply not answered yet (one more). */
  private async contactEvents(api: HubSpotApi, records: readonly CrmRecord[], source: 'catchup' | 'read'): Promise<CrmEvent[]> {
    const events: CrmEvent[] = [];
    for (const record of records) {
      const at = modifiedAt(record);
      events.push({ eventId: `${source}:${record.id}:${at}`, occurredAt: at, change: this.contactChange(record, at) });
    }
    // A reply's id is the time its property changed: the property's history says it.
    const replying = records.filter(awaitsAnswer);
    if (replying.length === 0) return events;
    const withHistory = await api.batchRead('contacts', replying.map((r) => r.id), { properties: [TWO_WAY_PROPERTY.reply], propertiesWithHistory: [TWO_WAY_PROPERTY.reply] });
    for (const record of withHistory) {
      const latest = newest(record.propertiesWithHistory?.[TWO_WAY_PROPERTY.reply] ?? []);
      const at = timestamp(latest?.timestamp);
      const text = latest?.value?.trim() ? latest.value : undefined;
      if (!latest || at === undefined || !text) continue;
      const statusAt = replyStatusTime(replying.find((r) => r.id === record.id)?.properties[TWO_WAY_PROPERTY.replyStatus]);
      if (statusAt !== undefined && statusAt >= at) continue;
      const crmUserId = latest.updatedByUserId ?? userIdOf(latest.sourceId);
      const replyId = hubSpotReplyId(record.id, at);
      events.push({ eventId: `${source}-reply:${replyId}`, occurredAt: at, change: { kind: 'reply', replyId, contactCrmId: record.id, text, ...(crmUserId && { crmUserId }), at } });
    }
    return events;
  }

  private contactChange(record: CrmRecord, at: number): CrmContactChange {
    const p = record.properties;
    const value = (name: string) => (p[name] === undefined || p[name] === null || p[name] === '' ? null : p[name]);
    const changes: CrmFieldChange[] = [{ field: 'firstName', value: value(TWO_WAY_PROPERTY.firstName), at }];
    if (this.levelProperty) changes.push({ field: 'customerLevel', value: value(this.levelProperty), at });
    const bsuid = value(CONTACT.bsuid);
    const phone = value(CONTACT.phone);
    return {
      kind: 'contact',
      crmId: record.id,
      changes,
      ...(value(TWO_WAY_PROPERTY.optOut) === 'true' && { optedOutAt: at }),
      ...(bsuid && { bsuid }),
      ...(phone && { phone }),
    };
  }

  /** Closed deals: one change per associated contact, at the stage change's time. */
  private async closedDeals(api: HubSpotApi, deals: ReadonlyMap<string, number>): Promise<CrmEvent[]> {
    const records = await api.batchRead('deals', [...deals.keys()], { properties: [DEAL_STAGE_PROPERTY] });
    const closed = records.filter((d) => CLOSED_DEAL_STAGES.has(d.properties[DEAL_STAGE_PROPERTY] ?? ''));
    if (closed.length === 0) return [];
    const contactsOf = await api.associatedIdsOfMany('deals', closed.map((d) => d.id), 'contacts');
    return closed.flatMap((deal) => {
      const status = deal.properties[DEAL_STAGE_PROPERTY]!;
      const at = deals.get(deal.id) ?? modifiedAt(deal);
      return (contactsOf.get(deal.id) ?? []).map((contactCrmId): CrmEvent => ({
        eventId: `deal:${deal.id}:${status}:${at}:${contactCrmId}`,
        occurredAt: at,
        change: { kind: 'closed', recordType: 'deal', recordId: deal.id, contactCrmId, status, at },
      }));
    });
  }
}

/** The status text on the contact (shared/crm/two-way.ts), at most 1,000 characters. */
export function replyStatusText(status: ReplyStatus, at: number, error?: string): string {
  return statusLine(status, at, error, STATUS_MAX);
}

/** When the status text says its status was reached (undefined: no status, or not ours). */
export function replyStatusTime(text: string | null | undefined): number | undefined {
  const match = /^(?:queued|sent|delivered|read|failed) (\d{4}-\d{2}-\d{2}T[\d:.]+Z)/.exec(text ?? '');
  const at = match?.[1] ? Date.parse(match[1]) : NaN;
  return Number.isFinite(at) ? at : undefined;
}

/** A contact with a reply text whose status is older than the contact's last change (or absent). */
function awaitsAnswer(record: CrmRecord): boolean {
  if (!record.properties[TWO_WAY_PROPERTY.reply]?.trim()) return false;
  const statusAt = replyStatusTime(record.properties[TWO_WAY_PROPERTY.replyStatus]);
  return statusAt === undefined || statusAt < modifiedAt(record);
}

function newest<T extends { readonly timestamp: string }>(entries: readonly T[]): T | undefined {
  let best: { entry: T; at: number } | undefined;
  for (const entry of entries) {
    const at = timestamp(entry.timestamp) ?? -1;
    if (!best || at > best.at) best = { entry, at };
  }
  return best?.entry;
}

/** The record's modification time in ms (0 when HubSpot gave none). */
function modifiedAt(record: CrmRecord): number {
  return timestamp(record.properties[LAST_MODIFIED]) ?? timestamp(record.properties['hs_lastmodifieddate']) ?? timestamp(record.updatedAt) ?? 0;
}

/** `deals`, `Deals`, `deal`, `0-3` → deals; the same for contacts; anything else undefined. */
function moduleOf(module: string): 'deals' | 'contacts' | undefined {
  const m = module.toLowerCase();
  if (m === 'deals' || m === 'deal' || m === '0-3') return 'deals';
  if (m === 'contacts' || m === 'contact' || m === '0-1') return 'contacts';
  return undefined;
}

async function patchContact(api: HubSpotApi, id: string, properties: Readonly<Record<string, string>>, what: string): Promise<void> {
  const outcome = await api.update('contacts', id, properties);
  if (outcome.kind === 'missing') throw new CrmError('permanent', `HubSpot contact ${id} is gone (deleted or merged): its ${what} cannot be written`, { crm: 'hubspot', status: 404, category: 'OBJECT_NOT_FOUND' });
  if (outcome.kind === 'conflict') throw new CrmError('permanent', `HubSpot refused the ${what} of contact ${id} as a duplicate value`, { crm: 'hubspot', status: 409 });
}

function numberOf(value: string | null | undefined): number | undefined {
  if (value === undefined || value === null || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/** The line item's amount, else its price × quantity. */
function lineAmount(item: CrmRecord): number | undefined {
  const amount = numberOf(item.properties['amount']);
  if (amount !== undefined) return amount;
  const price = numberOf(item.properties['price']);
  const quantity = numberOf(item.properties['quantity']) ?? 1;
  return price === undefined ? undefined : price * quantity;
}

function requireId(id: string, what: string): void {
  if (!id?.trim()) throw new CrmError('permanent', `${what} needs the contact's HubSpot id`, { crm: 'hubspot' });
}
