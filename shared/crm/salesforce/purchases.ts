/**
 * What customers bought (ID-3): the standard Order with its OrderItems' Product2.ProductCode (the
 * SKU), as orders.ts reads a customer's last order and as a shop connector writes orders into
 * Salesforce. Orders rather than Closed Won Opportunities: an Opportunity of ours is an intent
 * seen on WhatsApp (its WhatsApp_SKU__c is what was asked about, its CloseDate a guess), an Order
 * is what the shop says was bought, at the time it was placed; OpportunityLineItems would also
 * need products and price books set up for sales' own deals. The local stand-in seeds purchases
 * as Orders the same way.
 *
 * An order is placed at WhatsApp_Placed_At__c (the shop's time), else its CreatedDate; its
 * customer is the bill-to contact, else ship-to, else the authorising contact. One purchase per
 * item with a product code, its amount UnitPrice × Quantity. Read in pages of 200 by keyset
 * (CreatedDate, Id) — an OFFSET stops at 2,000 and a query's later batches would need
 * nextRecordsUrl — up to {@link MAX_ORDERS}.
 */
import type { CrmPurchase } from '../two-way.ts';
import type { SalesforceApi, SObjectRecord } from './api.ts';
import { ORDER, ORDER_CONTACT_FIELDS, parseDateTime } from './fields.ts';
import { soqlSecond } from './changes.ts';
import { literal } from './soql.ts';

const PAGE = 200;
/** Orders read per call at most (50 pages). */
export const MAX_ORDERS = 10_000;

const FIELDS = ['Id', 'CreatedDate', ORDER.placedAt, ...ORDER_CONTACT_FIELDS];

/** The SOQL of one page: orders placed from `since`'s second on, after the keyset `after`. */
export function purchasesQuery(since: number, after?: { readonly createdDate: string; readonly id: string }): string {
  const from = soqlSecond(since);
  const placed = `(${ORDER.placedAt} >= ${from} OR (${ORDER.placedAt} = null AND CreatedDate >= ${from}))`;
  const keyset = after ? ` AND (CreatedDate > ${soqlDateTimeOf(after.createdDate)} OR (CreatedDate = ${soqlDateTimeOf(after.createdDate)} AND Id > ${literal(after.id)}))` : '';
  return `SELECT ${FIELDS.join(', ')}, (SELECT Product2.ProductCode, Quantity, UnitPrice FROM OrderItems) FROM ${ORDER.object} WHERE ${placed}${keyset} ORDER BY CreatedDate ASC, Id ASC LIMIT ${PAGE}`;
}

/** A DateTime Salesforce answered (`2026-12-02T09:00:00.000+0000`) as a SOQL literal. */
function soqlDateTimeOf(value: string): string {
  const ms = parseDateTime(value);
  if (ms === undefined) throw new Error(`not a Salesforce DateTime: ${value}`);
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

export async function purchasesSince(api: SalesforceApi, since: number): Promise<{ purchases: CrmPurchase[]; calls: number }> {
  const purchases: CrmPurchase[] = [];
  let after: { createdDate: string; id: string } | undefined;
  for (let read = 0; read < MAX_ORDERS; read += PAGE) {
    const orders = await api.query(purchasesQuery(since, after), 'orders since');
    purchases.push(...orders.flatMap((order) => purchasesOf(order, since)));
    const last = orders.at(-1);
    if (orders.length < PAGE || !last || typeof last.CreatedDate !== 'string') break;
    after = { createdDate: last.CreatedDate, id: last.Id };
  }
  return { purchases, calls: api.calls };
}

/** An order's purchases: one per item with a product code, when it was placed after `since` for a contact. */
export function purchasesOf(order: SObjectRecord, since: number): CrmPurchase[] {
  const at = parseDateTime(order[ORDER.placedAt]) ?? parseDateTime(order.CreatedDate);
  const contactCrmId = ORDER_CONTACT_FIELDS.map((f) => order[f]).find((v): v is string => typeof v === 'string' && v !== '');
  if (at === undefined || at <= since || !contactCrmId) return [];
  const items = (order.OrderItems as { records?: readonly Record<string, unknown>[] } | null | undefined)?.records ?? [];
  return items.flatMap((item): CrmPurchase[] => {
    const sku = (item.Product2 as { ProductCode?: unknown } | null | undefined)?.ProductCode;
    if (typeof sku !== 'string' || sku.trim() === '') return [];
    const price = typeof item.UnitPrice === 'number' ? item.UnitPrice : undefined;
    const quantity = typeof item.Quantity === 'number' ? item.Quantity : 1;
    return [{ contactCrmId, sku: sku.trim(), at, ...(price !== undefined && { amount: price * quantity }) }];
  });
}
