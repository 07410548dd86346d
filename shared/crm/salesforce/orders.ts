/**
 * The customer's last order (AU-2, AU-3) from the standard Order object, by one SOQL query on
 * its Contact lookups (bill-to, ship-to, authorised by), with the line items' product codes
 * (the SKUs) in a child subquery. Salesforce has no tracking fields: a shop connector fills the
 * custom ones in fields.ts ORDER; an order without them simply has no tracking yet.
 */
import type { CrmLastOrderResult, CrmOrder } from '../port.ts';
import type { SalesforceApi, SObjectRecord } from './api.ts';
import { ORDER, ORDER_CONTACT_FIELDS, parseDateTime } from './fields.ts';
import { literal } from './soql.ts';

/** Orders read to pick the latest by the shop's placed-at time (EffectiveDate is only a date). */
const CANDIDATES = 5;

const FIELDS = ['Id', 'OrderNumber', 'Name', 'EffectiveDate', 'CreatedDate', 'TotalAmount', 'Status', ORDER.trackingNumber, ORDER.carrier, ORDER.trackingUrl, ORDER.fulfillmentStatus, ORDER.placedAt];

export async function findLastOrder(api: SalesforceApi, contactCrmId: string): Promise<CrmLastOrderResult> {
  const contact = literal(contactCrmId);
  const soql =
    `SELECT ${FIELDS.join(', ')}, (SELECT Product2.ProductCode FROM OrderItems) FROM Order ` +
    `WHERE ${ORDER_CONTACT_FIELDS.map((field) => `${field} = ${contact}`).join(' OR ')} ` +
    `ORDER BY EffectiveDate DESC, CreatedDate DESC LIMIT ${CANDIDATES}`;
  const records = await api.query(soql, 'last order lookup');
  const orders = records.map(toOrder).sort((a, b) => b.placedAt - a.placedAt);
  return { order: orders[0], calls: api.calls };
}

function toOrder(record: SObjectRecord): CrmOrder {
  const text = (field: string) => (typeof record[field] === 'string' && record[field] !== '' ? (record[field] as string) : undefined);
  const amount = typeof record.TotalAmount === 'number' ? record.TotalAmount : undefined;
  const items = (record.OrderItems as { records?: { Product2?: { ProductCode?: unknown } | null }[] } | null | undefined)?.records ?? [];
  const skus = items.map((item) => item.Product2?.ProductCode).filter((sku): sku is string => typeof sku === 'string' && sku !== '');
  return {
    crmId: record.Id,
    name: text('Name') ?? text('OrderNumber'),
    placedAt: parseDateTime(record[ORDER.placedAt]) ?? parseDateTime(record.CreatedDate) ?? parseDateTime(record.EffectiveDate) ?? 0,
    ...(amount !== undefined && { amount }),
    status: text(ORDER.fulfillmentStatus) ?? text('Status'),
    trackingNumber: text(ORDER.trackingNumber),
    carrier: text(ORDER.carrier),
    trackingUrl: text(ORDER.trackingUrl),
    ...(skus.length > 0 && { skus }),
  };
}
