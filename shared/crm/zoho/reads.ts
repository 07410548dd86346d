/**
 * Reads and the night batch's bulk update:
 * - the customer's names (GET /Contacts/{id});
 * - the last order: the contact's Sales Orders related list, newest by the shop's order time
 *   (custom WhatsApp_Placed_At) or else Created_Time;
 * - contacts read back for reconciliation (GET /Contacts?ids=…, 100 ids per request);
 * - mapped fields updated in batches (PUT /Contacts, 100 records per request), one outcome per
 *   record: a deleted or merged id is `missing`.
 */
import { mapContactFields, type FieldMapping } from '../field-mapping.ts';
import { CrmError, type CrmBulkResult, type CrmContactReadBack, type CrmContactUpdate, type CrmLastOrderResult, type CrmOrder, type CrmProfileResult, type CrmUpdateOutcome } from '../port.ts';
import { BATCH_LIMIT, recordError, type ZohoApi } from './api.ts';
import { zohoValues } from './contacts.ts';
import { CONTACT, CONTACTS_MODULE, ORDER } from './fields.ts';
import { parseZohoTime, text } from './format.ts';
import type { ZohoRecord } from './schemas.ts';

export async function readProfile(api: ZohoApi, contactCrmId: string): Promise<CrmProfileResult> {
  const record = await api.get(CONTACTS_MODULE, contactCrmId, [CONTACT.firstName, CONTACT.lastName]);
  return { firstName: text(record?.[CONTACT.firstName]), lastName: text(record?.[CONTACT.lastName]), calls: api.calls };
}

export interface OrderSettings {
  /** API name of the contact's Sales Orders related list. */
  readonly relatedList: string;
}

/** Related-list pages read at most (200 orders each): a customer with more is not expected. */
const MAX_ORDER_PAGES = 5;
const ORDER_FIELDS = [ORDER.subject, ORDER.status, ORDER.grandTotal, ORDER.currency, ORDER.carrier, ORDER.items, ORDER.trackingNumber, ORDER.trackingUrl, ORDER.placedAt, ORDER.createdTime];

export async function findLastOrder(api: ZohoApi, contactCrmId: string, settings: OrderSettings): Promise<CrmLastOrderResult> {
  let latest: CrmOrder | undefined;
  for (let page = 1; page <= MAX_ORDER_PAGES; page++) {
    const { records, more } = await api.related(CONTACTS_MODULE, contactCrmId, settings.relatedList, ORDER_FIELDS, page);
    for (const record of records) {
      const order = toOrder(record);
      if (!latest || order.placedAt > latest.placedAt) latest = order;
    }
    if (!more) break;
  }
  return { order: latest, calls: api.calls };
}

function toOrder(record: ZohoRecord): CrmOrder {
  const amount = record[ORDER.grandTotal];
  const items = Array.isArray(record[ORDER.items]) ? (record[ORDER.items] as unknown[]) : [];
  // A line item's product lookup carries the product's code (its SKU) when Zoho includes it.
  const skus = items
    .map((item) => (item && typeof item === 'object' ? (item as Record<string, unknown>)['Product_Name'] : undefined))
    .map((product) => (product && typeof product === 'object' ? text((product as Record<string, unknown>)['Product_Code']) : undefined))
    .filter((sku): sku is string => sku !== undefined);
  return {
    crmId: record.id,
    name: text(record[ORDER.subject]),
    placedAt: parseZohoTime(record[ORDER.placedAt]) ?? parseZohoTime(record[ORDER.createdTime]) ?? 0,
    amount: typeof amount === 'number' && Number.isFinite(amount) ? amount : undefined,
    currency: text(record[ORDER.currency]),
    status: text(record[ORDER.status]),
    trackingNumber: text(record[ORDER.trackingNumber]),
    carrier: text(record[ORDER.carrier]),
    trackingUrl: text(record[ORDER.trackingUrl]),
    ...(skus.length > 0 && { skus }),
  };
}

export async function readContacts(api: ZohoApi, crmIds: readonly string[], mapping: FieldMapping): Promise<{ contacts: CrmContactReadBack[]; calls: number }> {
  const mapped = mapping.rules.map((r) => r.field);
  const fields = [...new Set([CONTACT.firstName, CONTACT.lastName, CONTACT.phone, CONTACT.bsuid, ...mapped])];
  const records = await api.getMany(CONTACTS_MODULE, [...new Set(crmIds)], fields);
  const contacts = records.map(
    (r): CrmContactReadBack => ({
      crmId: r.id,
      firstName: text(r[CONTACT.firstName]),
      lastName: text(r[CONTACT.lastName]),
      phone: text(r[CONTACT.phone]),
      bsuid: text(r[CONTACT.bsuid]),
      values: Object.fromEntries(mapped.map((field) => [field, r[field] ?? null])),
    }),
  );
  return { contacts, calls: api.calls };
}

/**
 * One PUT per `batchSize` updates. When a request fails as a whole, the updates of the batches
 * already done stay done: the failed batch and those after it carry the error (a first batch
 * failing throws, nothing having been written).
 */
export async function updateContacts(api: ZohoApi, updates: readonly CrmContactUpdate[], mapping: FieldMapping, batchSize: number): Promise<CrmBulkResult> {
  const size = Math.max(1, Math.min(batchSize, BATCH_LIMIT));
  const outcomes: CrmUpdateOutcome[] = [];
  for (let i = 0; i < updates.length; i += size) {
    const batch = updates.slice(i, i + size);
    try {
      const results = await api.update(
        CONTACTS_MODULE,
        batch.map((u) => ({ ...zohoValues(mapContactFields(u.fields, mapping)), id: u.crmId })),
      );
      outcomes.push(
        ...results.map((result): CrmUpdateOutcome => {
          if (result.ok) return { ok: true };
          if (result.missing) return { ok: false, missing: true };
          return { ok: false, error: recordError(result, 'a contact update') };
        }),
      );
    } catch (error) {
      if (i === 0 || !(error instanceof CrmError)) throw error;
      for (let rest = i; rest < updates.length; rest++) outcomes.push({ ok: false, error });
      break;
    }
  }
  return { outcomes, calls: api.calls };
}
