/**
 * The local Salesforce org's rules, which the adapter's tests rely on: SOQL as the adapter sends
 * it (and injection-safe literals), Salesforce's validation errors, unique External IDs,
 * Composite all-or-none with references, and sObject Collections' per-record results.
 */
import { describe, expect, it } from 'vitest';
import { inList, literal } from '#shared/crm/salesforce/soql';
import { dispatch } from '#local/salesforce/api';
import { SalesforceFailure } from '#local/salesforce/failures';
import { buildSchema } from '#local/salesforce/schema';
import { parseSoql } from '#local/salesforce/soql';
import { LocalSalesforceStore } from '#local/salesforce/store';

function org() {
  return new LocalSalesforceStore(buildSchema(), { queryLagMs: 0 });
}

function failureOf(fn: () => unknown): { status: number; body: unknown } {
  try {
    fn();
  } catch (error) {
    if (error instanceof SalesforceFailure) return { status: error.status, body: error.body };
    throw error;
  }
  throw new Error('expected a SalesforceFailure');
}

const api = (store: LocalSalesforceStore, method: string, path: string, body?: unknown, query = '') => dispatch(store, '68.0', method, path, new URLSearchParams(query), body);

describe('SOQL', () => {
  it("quotes values with SOQL's escapes, so a value cannot change the query", () => {
    const store = org();
    store.create('Contact', { LastName: "O'Brien", Phone: '+1' });
    const sneaky = "x' OR LastName != null OR LastName = 'y";
    expect(literal("O'Brien\\")).toBe("'O\\'Brien\\\\'");
    expect(store.query(`SELECT Id FROM Contact WHERE ${inList('LastName', [sneaky])}`, '68.0').records).toEqual([]);
    expect(store.query(`SELECT LastName FROM Contact WHERE ${inList('LastName', ["O'Brien"])}`, '68.0').records).toMatchObject([{ LastName: "O'Brien" }]);
  });

  it('runs the identity lookup: IN lists, OR, ORDER BY, LIMIT, case-insensitive text', () => {
    const store = org();
    const a = store.create('Contact', { LastName: 'A', WhatsApp_User_Id__c: 'US.1' });
    const b = store.create('Contact', { LastName: 'B', MobilePhone: '85291234567' });
    store.create('Contact', { LastName: 'C', Phone: '+1999' });
    const soql = `SELECT Id, WhatsApp_User_Id__c FROM Contact WHERE ${inList('WhatsApp_User_Id__c', ['us.1', 'US.2'])} OR ${inList('MobilePhone', ['+85291234567', '85291234567'])} ORDER BY CreatedDate ASC LIMIT 50`;
    const { records, totalSize, done } = store.query(soql, '68.0');
    expect(records.map((r) => r.Id)).toEqual([a.Id, b.Id]);
    expect({ totalSize, done }).toEqual({ totalSize: 2, done: true });
    expect(records[0]).toEqual({ attributes: { type: 'Contact', url: `/services/data/v68.0/sobjects/Contact/${a.Id}` }, Id: a.Id, WhatsApp_User_Id__c: 'US.1' });
  });

  it('reads parent fields and child subqueries, as the order lookup does', () => {
    const store = org();
    const contact = store.create('Contact', { LastName: 'Lee' });
    const account = store.create('Account', { Name: 'Shop' });
    const product = store.create('Product2', { Name: 'Kettle', ProductCode: 'SKU-1' });
    const order = store.create('Order', { AccountId: account.Id, EffectiveDate: '2026-09-01', BillToContactId: contact.Id });
    store.create('OrderItem', { OrderId: order.Id, Product2Id: product.Id, Quantity: 2, UnitPrice: 10 });
    store.create('OrderItem', { OrderId: order.Id, Quantity: 1, UnitPrice: 5 });
    store.create('Order', { AccountId: account.Id, EffectiveDate: '2026-08-01', BillToContactId: contact.Id });
    const { records } = store.query(`SELECT Id, TotalAmount, (SELECT Product2.ProductCode FROM OrderItems) FROM Order WHERE BillToContactId = '${contact.Id}' OR ShipToContactId = '${contact.Id}' ORDER BY EffectiveDate DESC NULLS LAST LIMIT 1`, '68.0');
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ Id: order.Id, TotalAmount: 25, OrderItems: { totalSize: 2, done: true } });
    const items = (records[0]!.OrderItems as { records: { Product2: unknown }[] }).records;
    expect(items.map((i) => i.Product2)).toEqual([expect.objectContaining({ ProductCode: 'SKU-1' }), null]);
  });

  it('answers malformed queries and unknown fields as Salesforce does', () => {
    const store = org();
    expect(failureOf(() => store.query('SELECT Id FROM', '68.0'))).toMatchObject({ status: 400, body: [{ errorCode: 'MALFORMED_QUERY' }] });
    expect(failureOf(() => store.query('SELECT Nope__c FROM Contact', '68.0'))).toMatchObject({ status: 400, body: [{ errorCode: 'INVALID_FIELD' }] });
    expect(failureOf(() => store.query('SELECT Id FROM Nothing', '68.0'))).toMatchObject({ status: 400, body: [{ errorCode: 'INVALID_TYPE' }] });
    expect(() => parseSoql("SELECT Id FROM Contact WHERE LastName = 'open")).toThrow(/unterminated/);
  });

  it('lags writes when told to, as a search index would', async () => {
    const store = new LocalSalesforceStore(buildSchema(), { queryLagMs: 40 });
    store.create('Contact', { LastName: 'Late' });
    expect(store.query("SELECT Id FROM Contact WHERE LastName = 'Late'", '68.0').totalSize).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(store.query("SELECT Id FROM Contact WHERE LastName = 'Late'", '68.0').totalSize).toBe(1);
  });
});

describe('the local org’s write rules', () => {
  it('refuses what Salesforce refuses, with its error codes', () => {
    const store = org();
    expect(failureOf(() => store.create('Contact', { FirstName: 'No last name' }))).toMatchObject({ status: 400, body: [{ errorCode: 'REQUIRED_FIELD_MISSING', fields: ['LastName'] }] });
    expect(failureOf(() => store.create('Contact', { LastName: 'x'.repeat(81) }))).toMatchObject({ body: [{ errorCode: 'STRING_TOO_LONG', fields: ['LastName'] }] });
    expect(failureOf(() => store.create('Contact', { LastName: 'X', Nope__c: 1 }))).toMatchObject({ body: [{ errorCode: 'INVALID_FIELD' }] });
    expect(failureOf(() => store.create('Case', { Priority: 'Urgent' }))).toMatchObject({ body: [{ errorCode: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST' }] });
    expect(failureOf(() => store.create('Case', { IsClosed: true }))).toMatchObject({ body: [{ errorCode: 'INVALID_FIELD_FOR_INSERT_UPDATE' }] });
    expect(failureOf(() => store.create('Case', { ContactId: 'not-an-id' }))).toMatchObject({ body: [{ errorCode: 'MALFORMED_ID', fields: ['ContactId'] }] });
    const gone = store.create('Contact', { LastName: 'Gone' });
    store.remove('Contact', gone.Id);
    expect(failureOf(() => store.create('Case', { ContactId: gone.Id }))).toMatchObject({ body: [{ errorCode: 'ENTITY_IS_DELETED', fields: ['ContactId'] }] });
    expect(failureOf(() => store.update('Contact', gone.Id, { LastName: 'Back' }))).toMatchObject({ status: 404, body: [{ errorCode: 'ENTITY_IS_DELETED' }] });
  });

  it('keeps unique External IDs unique, and upserts by them', () => {
    const store = org();
    const first = api(store, 'PATCH', '/sobjects/Contact/WhatsApp_User_Id__c/US.9', { LastName: 'Nine' });
    expect(first).toMatchObject({ status: 201, body: { success: true, created: true } });
    const again = api(store, 'PATCH', '/sobjects/Contact/WhatsApp_User_Id__c/US.9', { FirstName: 'Still' });
    expect(again).toMatchObject({ status: 200, body: { id: (first.body as { id: string }).id, created: false } });
    expect(failureOf(() => store.create('Contact', { LastName: 'Copy', WhatsApp_User_Id__c: 'US.9' }))).toMatchObject({ status: 400, body: [{ errorCode: 'DUPLICATE_VALUE' }] });
    expect(failureOf(() => api(store, 'PATCH', '/sobjects/Contact/WhatsApp_User_Id__c/US.9', { WhatsApp_User_Id__c: 'US.9' }))).toMatchObject({ status: 400 });
    expect(failureOf(() => api(store, 'PATCH', '/sobjects/Contact/LastName/Nine', {}))).toMatchObject({ status: 404, body: [{ errorCode: 'NOT_FOUND' }] });
  });

  it('rolls a Composite with allOrNone back when a subrequest fails, and resolves references', () => {
    const store = org();
    const contact = store.create('Contact', { LastName: 'Lee' });
    const ok = api(store, 'POST', '/composite', {
      allOrNone: true,
      compositeRequest: [
        { method: 'PATCH', url: '/services/data/v68.0/sobjects/Case/WhatsApp_Conversation_Id__c/conv-1', referenceId: 'kase', body: { ContactId: contact.Id, Subject: 'Hi' } },
        { method: 'PATCH', url: '/services/data/v68.0/composite/sobjects/WhatsApp_Message__c/Wamid__c', referenceId: 'msg', body: { allOrNone: true, records: [{ attributes: { type: 'WhatsApp_Message__c' }, Wamid__c: 'w1', Contact__c: contact.Id, Case__c: '@{kase.id}' }] } },
      ],
    });
    const responses = (ok.body as { compositeResponse: { httpStatusCode: number; body: unknown }[] }).compositeResponse;
    expect(responses.map((r) => r.httpStatusCode)).toEqual([201, 200]);
    const kase = store.list('Case')[0]!;
    expect(kase.fields).toMatchObject({ Status: 'New', IsClosed: false });
    expect(store.list('WhatsApp_Message__c')[0]?.fields.Case__c).toBe(kase.Id);

    const failed = api(store, 'POST', '/composite', {
      allOrNone: true,
      compositeRequest: [
        { method: 'PATCH', url: '/services/data/v68.0/sobjects/Case/WhatsApp_Conversation_Id__c/conv-2', referenceId: 'kase', body: { ContactId: contact.Id } },
        { method: 'PATCH', url: '/services/data/v68.0/composite/sobjects/WhatsApp_Message__c/Wamid__c', referenceId: 'msg', body: { allOrNone: true, records: [{ attributes: { type: 'WhatsApp_Message__c' }, Wamid__c: 'w2', Contact__c: 'bad-id', Case__c: '@{kase.id}' }] } },
      ],
    });
    const halted = (failed.body as { compositeResponse: { httpStatusCode: number; body: unknown }[] }).compositeResponse;
    expect(halted.map((r) => r.httpStatusCode)).toEqual([400, 400]);
    expect(halted[0]!.body).toMatchObject([{ errorCode: 'PROCESSING_HALTED' }]);
    expect(store.list('Case')).toHaveLength(1); // conv-2 rolled back
    expect(store.list('WhatsApp_Message__c')).toHaveLength(1);
  });

  it('answers a collection update record by record: done, deleted, never there', () => {
    const store = org();
    const a = store.create('Contact', { LastName: 'A' });
    const b = store.create('Contact', { LastName: 'B' });
    store.remove('Contact', b.Id);
    const never = `${a.Id.slice(0, 5)}zzzzzzzzzz`;
    const answer = api(store, 'PATCH', '/composite/sobjects', {
      allOrNone: false,
      records: [
        { attributes: { type: 'Contact' }, id: a.Id, LastName: 'A2' },
        { attributes: { type: 'Contact' }, id: b.Id, LastName: 'B2' },
        { attributes: { type: 'Contact' }, id: never, LastName: 'C2' },
      ],
    });
    expect(answer.body).toMatchObject([
      { id: a.Id, success: true },
      { success: false, errors: [{ statusCode: 'ENTITY_IS_DELETED' }] },
      { success: false, errors: [{ statusCode: 'INVALID_CROSS_REFERENCE_KEY' }] },
    ]);
    expect(store.find('Contact', a.Id)?.fields.LastName).toBe('A2');
    expect(failureOf(() => api(store, 'PATCH', '/composite/sobjects', { records: Array.from({ length: 201 }, () => ({ attributes: { type: 'Contact' }, id: a.Id })) }))).toMatchObject({ body: [{ errorCode: 'EXCEEDED_ID_LIMIT' }] });
  });
});
