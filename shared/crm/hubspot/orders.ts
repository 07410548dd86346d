/**
 * The customer's last order, for "where is my order" answers and replenishment reminders (AU-2,
 * AU-3). HubSpot keeps orders as CRM records (filled by the shop's connector), associated to the
 * contact. Only consistent reads are used — the contact's order associations, a batch read of
 * those orders, then the newest one's line items — never search, which lags writes: an order the
 * shop sent a moment ago is found.
 */
import type { CrmLastOrderResult, CrmOrder } from '#shared/crm/port';
import type { HubSpotApi } from './api.ts';
import { LINE_ITEM, ORDER } from './properties.ts';
import type { CrmRecord } from './schemas.ts';

export interface OrderSettings {
  /** The order property holding the carrier (HubSpot has no standard one). */
  readonly carrierProperty: string;
}

export async function findLastOrder(api: HubSpotApi, contactCrmId: string, settings: OrderSettings): Promise<CrmLastOrderResult> {
  const ids = await api.associatedIds('contacts', contactCrmId, 'orders');
  if (ids.length === 0) return { order: undefined, calls: api.calls };
  const records = await api.batchRead('orders', ids, { properties: [...Object.values(ORDER), settings.carrierProperty] });
  const newest = newestOrder(records);
  if (!newest) return { order: undefined, calls: api.calls };
  const skus = await orderSkus(api, newest.id);
  return { order: toOrder(newest, settings, skus), calls: api.calls };
}

/** The order placed last (by the shop's order time, else HubSpot's); the higher id on a tie. */
export function newestOrder(records: readonly CrmRecord[]): CrmRecord | undefined {
  let best: { record: CrmRecord; at: number } | undefined;
  for (const record of records) {
    const at = placedAt(record);
    if (!best || at > best.at || (at === best.at && Number(record.id) > Number(best.record.id))) best = { record, at };
  }
  return best?.record;
}

/** An order record as the port's order; empty values are absent. */
export function toOrder(record: CrmRecord, settings: OrderSettings, skus: readonly string[] = []): CrmOrder {
  const p = record.properties;
  const text = (name: string) => {
    const value = p[name]?.trim();
    return value ? value : undefined;
  };
  const total = text(ORDER.totalPrice);
  const amount = total === undefined ? undefined : Number(total);
  return {
    crmId: record.id,
    name: text(ORDER.name),
    placedAt: placedAt(record),
    amount: amount !== undefined && Number.isFinite(amount) ? amount : undefined,
    currency: text(ORDER.currency)?.toUpperCase(),
    status: text(ORDER.fulfillmentStatus),
    trackingNumber: text(ORDER.trackingNumber),
    carrier: text(settings.carrierProperty),
    trackingUrl: text(ORDER.trackingUrl),
    skus: skus.length > 0 ? skus : undefined,
  };
}

/** The shop's order time, else when HubSpot got the order; 0 when neither can be read. */
export function placedAt(record: CrmRecord): number {
  for (const value of [record.properties[ORDER.externalCreatedAt], record.properties[ORDER.createdAt], record.createdAt]) {
    const at = timestamp(value);
    if (at !== undefined) return at;
  }
  return 0;
}

/** HubSpot datetimes are ISO 8601 in answers; ms since the epoch are accepted too. */
export function timestamp(value: string | null | undefined): number | undefined {
  if (!value) return undefined;
  const at = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  return Number.isFinite(at) ? at : undefined;
}

/** The distinct SKUs of an order's line items, in the order HubSpot lists them. */
async function orderSkus(api: HubSpotApi, orderId: string): Promise<string[]> {
  const ids = await api.associatedIds('orders', orderId, 'line_items');
  if (ids.length === 0) return [];
  const items = await api.batchRead('line_items', ids, { properties: [LINE_ITEM.sku] });
  const skus = items.map((item) => item.properties[LINE_ITEM.sku]?.trim()).filter((sku): sku is string => !!sku);
  return [...new Set(skus)];
}
