/**
 * Orders seeded as a shop connector would write them into Salesforce: an Account (Order needs
 * one), the Order with the customer as bill-to contact and the tracking custom fields, one
 * OrderItem per SKU with its Product2. Not an API request: not counted, no faults.
 */
import { CONTACT, ORDER } from '#shared/crm/salesforce/fields';
import { dateOnly } from '#shared/crm/salesforce/fields';
import { failure } from './failures.ts';
import type { LocalSalesforceStore } from './store.ts';

export interface LocalOrderInput {
  /** The contact's Salesforce id, or … */
  readonly contactCrmId?: string;
  /** … the E.164 number in its WhatsApp_Phone__c, Phone or MobilePhone. */
  readonly whatsappPhone?: string;
  readonly name?: string;
  /** When the order was placed (ms); default now. */
  readonly placedAt?: number;
  readonly amount?: number;
  readonly status?: string;
  readonly trackingNumber?: string;
  readonly carrier?: string;
  readonly trackingUrl?: string;
  readonly skus?: readonly string[];
}

export function addOrder(store: LocalSalesforceStore, input: LocalOrderInput): { id: string } {
  if (input === null || typeof input !== 'object') throw failure(400, 'JSON_PARSER_ERROR', 'An order is an object');
  const contact = input.contactCrmId
    ? store.find('Contact', input.contactCrmId)
    : store.list('Contact').find((c) => [c.fields[CONTACT.phone], c.fields.Phone, c.fields.MobilePhone].includes(input.whatsappPhone ?? '\u0000'));
  if (!contact) throw failure(404, 'NOT_FOUND', 'No contact for the order');
  const placedAt = input.placedAt ?? Date.now();
  const skus = input.skus ?? [];
  return store.transaction(() => {
    const account = store.list('Account').find((a) => a.fields.Name === 'WhatsApp shop customers') ?? store.create('Account', { Name: 'WhatsApp shop customers' });
    const given = (values: Record<string, unknown>) => Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined && v !== ''));
    const order = store.create(
      'Order',
      given({
        AccountId: account.Id,
        EffectiveDate: dateOnly(placedAt),
        Status: 'Draft',
        Name: input.name,
        BillToContactId: contact.Id,
        [ORDER.placedAt]: new Date(placedAt).toISOString(),
        [ORDER.fulfillmentStatus]: input.status,
        [ORDER.trackingNumber]: input.trackingNumber,
        [ORDER.carrier]: input.carrier,
        [ORDER.trackingUrl]: input.trackingUrl,
      }),
    );
    const unitPrice = input.amount !== undefined && skus.length ? input.amount / skus.length : input.amount;
    for (const sku of skus.length ? skus : input.amount !== undefined ? [undefined] : []) {
      const product = sku === undefined ? undefined : (store.list('Product2').find((p) => p.fields.ProductCode === sku) ?? store.create('Product2', { Name: sku, ProductCode: sku }));
      store.create('OrderItem', given({ OrderId: order.Id, Product2Id: product?.Id, Quantity: 1, UnitPrice: unitPrice }));
    }
    return { id: order.Id };
  });
}
