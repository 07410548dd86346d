/**
 * Two-way sync on Salesforce, the pure parts: records → CRM changes (ours by LastModifiedById /
 * CreatedById), the reply status text, the catch-up's page cut — driven through the adapter's
 * changesSince over an in-memory "org" that answers its SOQL with Salesforce's whole-second
 * SystemModstamps, so that no change is skipped or repeated at any page size —, the SOAP merge
 * envelope and answers, the purchases read from Orders, the change events' compound Name, and
 * the local Event Relay's event payloads.
 */
import { describe, expect, it } from 'vitest';
import { LocalEventRelay, changePayload } from '#local/salesforce/events';
import { fieldMapping } from '#shared/crm/mappings';
import type { SalesforceApi, SObjectRecord } from '#shared/crm/salesforce/api';
import { closedEvent, contactChange, contactEvent, cutCatchUp, replyEvent, replyStatusText, soqlSecond, stampedAfter, type Stamped } from '#shared/crm/salesforce/changes';
import { parseSalesforceEvent } from '#shared/crm/salesforce/inbound';
import { purchasesOf, purchasesQuery } from '#shared/crm/salesforce/purchases';
import { elements, faultCode, faultStatus, mergeEnvelope, parseMergeResponse, soapAnswer, xmlEscape } from '#shared/crm/salesforce/soap';
import { SalesforceTwoWay } from '#shared/crm/salesforce/two-way';
import type { CrmContactChange, CrmReply } from '#shared/crm/two-way';
import type { RecordChange, StoredRecord } from '#local/salesforce/store';

const US = '005000000000001AAA';
const SALES = '005000000000002AAA';
const LEVEL = 'WhatsApp_Customer_Level__c';
const settings = { customerLevelField: LEVEL, integrationUserId: US };
const T = Date.parse('2026-12-02T09:00:00.000Z');
const sf = (ms: number) => new Date(ms).toISOString().replace('Z', '+0000');

const contact = (over: Record<string, unknown> = {}): SObjectRecord => ({
  Id: '003000000000001AAA',
  FirstName: 'Mei',
  [LEVEL]: 'gold',
  WhatsApp_Marketing_Opt_Out__c: false,
  WhatsApp_User_Id__c: 'HK.1',
  WhatsApp_Phone__c: '+85291234567',
  LastModifiedDate: sf(T),
  LastModifiedById: SALES,
  SystemModstamp: sf(T + 2000),
  ...over,
});
const task = (over: Record<string, unknown> = {}): SObjectRecord => ({
  Id: '00T000000000001AAA',
  WhatsApp_Reply__c: true,
  WhoId: '003000000000001AAA',
  Description: ' Yes, in stock. ',
  WhatsApp_Status__c: null,
  CreatedDate: sf(T),
  CreatedById: SALES,
  SystemModstamp: sf(T),
  ...over,
});

describe('Salesforce records → CRM changes', () => {
  it('a contact: its two-way fields dated by LastModifiedDate, its event by SystemModstamp, the opt-out, identities, not ours', () => {
    const event = contactEvent(contact({ WhatsApp_Marketing_Opt_Out__c: true }), settings, 'catchup');
    expect(event).toEqual({
      eventId: `catchup:003000000000001AAA:${T + 2000}`,
      occurredAt: T + 2000,
      change: { kind: 'contact', crmId: '003000000000001AAA', changes: [{ field: 'firstName', value: 'Mei', at: T }, { field: 'customerLevel', value: 'gold', at: T }], optedOutAt: T, bsuid: 'HK.1', phone: '+85291234567', ours: false },
    });
    expect(contactEvent(contact(), settings, 'read').eventId).toBe(`read:003000000000001AAA:${T + 2000}`);
  });

  it('ours when the integration user modified it last (15- or 18-character ids); unknown without the user; empty values are null', () => {
    expect(contactChange(contact({ LastModifiedById: US }), settings).ours).toBe(true);
    expect(contactChange(contact({ LastModifiedById: US.slice(0, 15) }), settings).ours).toBe(true);
    const unknown = contactChange(contact({ FirstName: null, [LEVEL]: '' }), { customerLevelField: LEVEL, integrationUserId: undefined });
    expect(unknown).not.toHaveProperty('ours');
    expect(unknown.changes).toEqual([{ field: 'firstName', value: null, at: T }, { field: 'customerLevel', value: null, at: T }]);
    expect(contactChange(contact(), { customerLevelField: undefined, integrationUserId: US }).changes.map((c) => c.field)).toEqual(['firstName']);
  });

  it("a reply Task: its text trimmed, its author, its creation time; none when it is ours, not a reply, or has no contact or text", () => {
    expect(replyEvent(task(), settings)).toEqual({ eventId: 'reply:00T000000000001AAA', occurredAt: T, change: { kind: 'reply', replyId: '00T000000000001AAA', contactCrmId: '003000000000001AAA', text: 'Yes, in stock.', crmUserId: SALES, at: T } });
    expect(replyEvent(task({ CreatedById: US }), settings)).toBeUndefined();
    expect(replyEvent(task({ WhatsApp_Reply__c: false }), settings)).toBeUndefined();
    expect(replyEvent(task({ WhoId: null }), settings)).toBeUndefined();
    expect(replyEvent(task({ Description: '  ' }), settings)).toBeUndefined();
  });

  it('a closed Case or a Closed Won / Lost Opportunity on a contact; open ones and ones without a contact are nothing', () => {
    const kase = { Id: '500000000000001AAA', ContactId: '003000000000001AAA', Status: 'Closed', IsClosed: true, LastModifiedDate: sf(T) };
    expect(closedEvent(kase, 'Case')).toEqual({ eventId: `closed:500000000000001AAA:Closed:${T}`, occurredAt: T, change: { kind: 'closed', recordType: 'case', recordId: '500000000000001AAA', contactCrmId: '003000000000001AAA', status: 'Closed', at: T } });
    expect(closedEvent({ ...kase, Status: 'Working', IsClosed: false }, 'Case')).toBeUndefined();
    expect(closedEvent({ ...kase, ContactId: null }, 'Case')).toBeUndefined();
    const deal = { Id: '006000000000001AAA', ContactId: '003000000000001AAA', StageName: 'Closed Won', LastModifiedDate: sf(T) };
    expect(closedEvent(deal, 'Opportunity', T + 5)?.change).toEqual({ kind: 'closed', recordType: 'deal', recordId: '006000000000001AAA', contactCrmId: '003000000000001AAA', status: 'Closed Won', at: T + 5 });
    expect(closedEvent({ ...deal, StageName: 'Negotiation/Review' }, 'Opportunity')).toBeUndefined();
  });

  it('the reply status text: the status and its time, a failure with its error on one line, at most 255 characters', () => {
    expect(replyStatusText('delivered', T)).toBe('delivered 2026-12-02T09:00:00.000Z');
    expect(replyStatusText('sent', T, 'ignored')).toBe('sent 2026-12-02T09:00:00.000Z');
    expect(replyStatusText('failed', T, 'outside the\n 24-hour   window')).toBe('failed 2026-12-02T09:00:00.000Z: outside the 24-hour window');
    const long = replyStatusText('failed', T, 'x'.repeat(400));
    expect(long).toHaveLength(255);
    expect(long.endsWith('…')).toBe(true);
  });
});

describe('the catch-up page cut', () => {
  const row = (id: string, stamp: number): Stamped => ({ id, stamp });
  const ids = (cut: ReturnType<typeof cutCatchUp>) => (cut.kind === 'page' ? cut.rows.map((r) => r.id) : cut);

  it('lists read to their end: every row after `since`, oldest first; the cursor at the last', () => {
    const cut = cutCatchUp(100, 10, [{ rows: [row('a', 100), row('c', 300)], coveredBelow: Infinity }, { rows: [row('b', 200)], coveredBelow: Infinity }]);
    expect(cut).toEqual({ kind: 'page', rows: [row('b', 200), row('c', 300)].sort((x, y) => x.stamp - y.stamp), cursor: 300 });
    expect(cutCatchUp(100, 10, [{ rows: [], coveredBelow: Infinity }])).toEqual({ kind: 'page', rows: [], cursor: 100 });
  });

  it('a list cut by its LIMIT is trusted below its last stamp only: rows of that stamp wait, the other list is cut there too', () => {
    const cut = cutCatchUp(0, 3, [{ rows: [row('a', 10), row('b', 20), row('c', 20)], coveredBelow: 20 }, { rows: [row('x', 15), row('y', 25)], coveredBelow: Infinity }]);
    expect(ids(cut)).toEqual(['a', 'x']);
    expect(cut).toMatchObject({ cursor: 19 });
  });

  it('more rows than the limit: cut before the stamp the limit would split, or that whole stamp when nothing is left before it', () => {
    const lists = [{ rows: [row('a', 10), row('b', 20), row('c', 20), row('d', 30)], coveredBelow: Infinity }];
    expect(cutCatchUp(0, 2, lists)).toEqual({ kind: 'page', rows: [row('a', 10)], cursor: 10 });
    expect(cutCatchUp(10, 1, lists)).toEqual({ kind: 'page', rows: [row('b', 20), row('c', 20)], cursor: 20 });
  });

  it('nothing certain below the cut: the boundary second is read whole first; then it is passed', () => {
    const onlyBoundary = [{ rows: [row('a', 5000), row('b', 5000)], coveredBelow: 5000 }];
    expect(cutCatchUp(4999, 2, onlyBoundary)).toEqual({ kind: 'boundary', at: 5000 });
    expect(cutCatchUp(4999, 2, [{ rows: [row('a', 5000), row('b', 5000), row('c', 5000), row('a', 5000)], coveredBelow: 6000 }], true)).toEqual({ kind: 'page', rows: [row('a', 5000), row('b', 5000), row('c', 5000)], cursor: 5000 });
    expect(cutCatchUp(5000, 2, [{ rows: [row('a', 5000)], coveredBelow: 6000 }], true)).toEqual({ kind: 'page', rows: [], cursor: 5999 });
  });

  it('SOQL literals: whole seconds, starting from the second that holds since + 1 ms', () => {
    expect(soqlSecond(Date.parse('2026-12-02T09:00:00.999Z'))).toBe('2026-12-02T09:00:00Z');
    expect(stampedAfter(Date.parse('2026-12-02T09:00:00.500Z'))).toBe('SystemModstamp >= 2026-12-02T09:00:00Z');
    expect(stampedAfter(Date.parse('2026-12-02T09:00:00.999Z'))).toBe('SystemModstamp >= 2026-12-02T09:00:01Z');
  });
});

/**
 * An org of contacts and reply tasks answering the catch-up's SOQL as Salesforce would: the
 * SystemModstamp conditions, the reply filter, ORDER BY SystemModstamp, Id, LIMIT.
 */
function fakeOrg(records: readonly (SObjectRecord & { object: 'Contact' | 'Task' })[]) {
  const queries: string[] = [];
  const when = (soql: string, op: string) => [...soql.matchAll(new RegExp(`SystemModstamp ${op} (\\S+Z)`, 'g'))].map((m) => Date.parse(m[1]!));
  const api = {
    calls: 0,
    fork() {
      return api;
    },
    async query(soql: string) {
      queries.push(soql);
      api.calls += 1;
      const object = /FROM (\w+)/.exec(soql)![1];
      const limit = Number(/LIMIT (\d+)/.exec(soql)![1]);
      const from = when(soql, '>=');
      const below = when(soql, '<');
      return records
        .filter((r) => r.object === object)
        .filter((r) => object !== 'Task' || (r.WhatsApp_Reply__c === true && r.WhatsApp_Status__c === null))
        .filter((r) => from.every((t) => Date.parse(String(r.SystemModstamp).replace('+0000', 'Z')) >= t) && below.every((t) => Date.parse(String(r.SystemModstamp).replace('+0000', 'Z')) < t))
        .sort((a, b) => String(a.SystemModstamp).localeCompare(String(b.SystemModstamp)) || a.Id.localeCompare(b.Id))
        .slice(0, limit);
    },
  };
  return { api: api as unknown as SalesforceApi, queries };
}

/** A deterministic random sequence (tests must not depend on luck). */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

describe('changesSince over an org with whole-second stamps', () => {
  it('asks from the second after the cursor, for contacts and for unanswered reply tasks, oldest first', async () => {
    const { api, queries } = fakeOrg([]);
    const twoWay = new SalesforceTwoWay(api, { mapping: fieldMapping('salesforce'), integrationUserId: US });
    expect(await twoWay.changesSince(Date.parse('2026-12-02T09:00:00.999Z'), 50)).toEqual({ events: [], cursor: Date.parse('2026-12-02T09:00:00.999Z'), calls: 2 });
    expect(queries[0]).toMatch(/^SELECT Id, FirstName, WhatsApp_Customer_Level__c, .*SystemModstamp FROM Contact WHERE SystemModstamp >= 2026-12-02T09:00:01Z ORDER BY SystemModstamp ASC, Id ASC LIMIT 50$/);
    expect(queries[1]).toMatch(/FROM Task WHERE WhatsApp_Reply__c = true AND WhatsApp_Status__c = null AND SystemModstamp >= 2026-12-02T09:00:01Z ORDER BY SystemModstamp ASC, Id ASC LIMIT 50$/);
  });

  it('pages through every change exactly once at any limit, however many share a second, our own reply tasks skipped without stalling', async () => {
    for (let seed = 1; seed <= 40; seed++) {
      const next = random(seed);
      const records = Array.from({ length: 5 + Math.floor(next() * 40) }, (_, i): SObjectRecord & { object: 'Contact' | 'Task' } => {
        const stamp = sf(T + Math.floor(next() * 8) * 1000);
        const id = `${String(i).padStart(3, '0')}${'0'.repeat(12)}AAA`;
        return next() < 0.6
          ? { ...contact({ Id: `003${id}`, SystemModstamp: stamp, LastModifiedDate: stamp }), object: 'Contact' as const }
          : { ...task({ Id: `00T${id}`, SystemModstamp: stamp, CreatedById: next() < 0.2 ? US : SALES }), object: 'Task' as const };
      });
      const limit = 1 + Math.floor(next() * 5);
      const stampOf = new Map(records.map((r) => [r.Id, r['SystemModstamp']]));
      const { api } = fakeOrg(records);
      const twoWay = new SalesforceTwoWay(api, { mapping: fieldMapping('salesforce'), integrationUserId: US });
      const seen: string[] = [];
      let since = T - 1;
      for (let page = 0; ; page++) {
        expect(page, `seed ${seed}: the catch-up does not end`).toBeLessThan(200);
        const { events, cursor } = await twoWay.changesSince(since, limit);
        expect(cursor).toBeGreaterThanOrEqual(since);
        const returned = events.map((e) => (e.change.kind === 'reply' ? (e.change as CrmReply).replyId : (e.change as CrmContactChange).crmId));
        // At most the limit, unless one stamp holds more (a reply is dated by its creation: the stamp is its record's).
        if (events.length > limit) expect(new Set(returned.map((id) => stampOf.get(id))).size).toBe(1);
        seen.push(...returned);
        if (cursor === since && events.length === 0) break;
        since = cursor;
      }
      const expected = records.filter((r) => r.object === 'Contact' || r['CreatedById'] !== US).map((r) => r.Id);
      expect([...seen].sort(), `seed ${seed}, limit ${limit}`).toEqual([...expected].sort());
    }
  });
});

describe('SOAP merge()', () => {
  it('the envelope: the session in SessionHeader, the master and the loser, everything escaped', () => {
    const xml = mergeEnvelope('00D!abc<&>', 'Contact', '003000000000001AAA', ['003000000000002AAA']);
    expect(xml).toContain('<urn:SessionHeader><urn:sessionId>00D!abc&lt;&amp;&gt;</urn:sessionId></urn:SessionHeader>');
    expect(xml).toContain('<urn:merge><urn:request><urn:masterRecord><urn1:type>Contact</urn1:type><urn1:Id>003000000000001AAA</urn1:Id></urn:masterRecord><urn:recordToMergeIds>003000000000002AAA</urn:recordToMergeIds></urn:request></urn:merge>');
    expect(xml).toContain('xmlns:urn="urn:partner.soap.sforce.com"');
    expect(() => mergeEnvelope('s', 'Contact', '003000000000001AAA', [])).toThrow(/1 or 2/);
    expect(xmlEscape(`a"'b`)).toBe('a&quot;&apos;b');
  });

  it('reads MergeResults, successful or refused with codes and fields only', () => {
    const answer =
      '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><mergeResponse>' +
      '<result><id>003000000000001AAA</id><mergedRecordIds>003000000000002AAA</mergedRecordIds><success>true</success><updatedRelatedIds>00T000000000001AAA</updatedRelatedIds><updatedRelatedIds>500000000000001AAA</updatedRelatedIds></result>' +
      '<result><errors><fields>Id</fields><message>entity is deleted: Mei &lt;Chan&gt;</message><statusCode>ENTITY_IS_DELETED</statusCode></errors><id xsi:nil="true"/><success>false</success></result>' +
      '</mergeResponse></soapenv:Body></soapenv:Envelope>';
    expect(parseMergeResponse(answer)).toEqual([
      { success: true, id: '003000000000001AAA', mergedRecordIds: ['003000000000002AAA'], updatedRelatedIds: ['00T000000000001AAA', '500000000000001AAA'], errors: [] },
      { success: false, id: undefined, mergedRecordIds: [], updatedRelatedIds: [], errors: [{ statusCode: 'ENTITY_IS_DELETED', fields: ['Id'] }] },
    ]);
    expect(parseMergeResponse('<soapenv:Envelope><soapenv:Body/></soapenv:Envelope>')).toBeUndefined();
    expect(soapAnswer(200, answer)).toEqual({ status: 200, body: answer });
  });

  it('a fault is read as the REST status of its code, so sessions are renewed and limits waited out', () => {
    const fault = (code: string) =>
      `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="urn:fault.partner.soap.sforce.com"><soapenv:Body><soapenv:Fault><faultcode>sf:${code}</faultcode><faultstring>${code}: it quotes 'Mei'</faultstring><detail><sf:UnexpectedErrorFault><sf:exceptionCode>${code}</sf:exceptionCode></sf:UnexpectedErrorFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>`;
    expect(faultCode(fault('INVALID_SESSION_ID'))).toBe('INVALID_SESSION_ID');
    expect(soapAnswer(500, fault('INVALID_SESSION_ID'))).toEqual({ status: 401, body: [{ errorCode: 'INVALID_SESSION_ID', fields: [] }] });
    expect(soapAnswer(500, fault('REQUEST_LIMIT_EXCEEDED')).status).toBe(403);
    expect(soapAnswer(500, fault('SERVER_UNAVAILABLE')).status).toBe(503);
    expect(soapAnswer(500, fault('INVALID_TYPE')).status).toBe(400);
    expect(faultCode('<Fault><faultcode>sf:not a code</faultcode></Fault>')).toBe('UNKNOWN_EXCEPTION');
    expect(faultCode('<mergeResponse/>')).toBeUndefined();
    expect(faultStatus('UNKNOWN_EXCEPTION')).toBe(500);
    expect(elements('<a:x k="1">one</a:x><x/><x>two</x>', 'x')).toEqual(['one', '', 'two']);
  });
});

describe('purchases from Orders', () => {
  const order = (over: Record<string, unknown> = {}): SObjectRecord => ({
    Id: '801000000000001AAA',
    CreatedDate: sf(T),
    WhatsApp_Placed_At__c: sf(T - 3600_000),
    BillToContactId: null,
    ShipToContactId: '003000000000001AAA',
    CustomerAuthorizedById: '003000000000009AAA',
    OrderItems: { totalSize: 3, done: true, records: [{ Product2: { ProductCode: 'KETTLE-BLUE' }, Quantity: 2, UnitPrice: 25 }, { Product2: null, Quantity: 1, UnitPrice: 5 }, { Product2: { ProductCode: ' MUG ' }, UnitPrice: null }] },
    ...over,
  });

  it('one purchase per item with a product code, for the first contact of the order, at the shop time', () => {
    expect(purchasesOf(order(), T - 86_400_000)).toEqual([
      { contactCrmId: '003000000000001AAA', sku: 'KETTLE-BLUE', at: T - 3600_000, amount: 50 },
      { contactCrmId: '003000000000001AAA', sku: 'MUG', at: T - 3600_000 },
    ]);
    expect(purchasesOf(order({ WhatsApp_Placed_At__c: null }), T - 1)[0]?.at).toBe(T);
    expect(purchasesOf(order(), T)).toEqual([]);
    expect(purchasesOf(order({ ShipToContactId: null, CustomerAuthorizedById: null }), 0)).toEqual([]);
    expect(purchasesOf(order({ OrderItems: null }), 0)).toEqual([]);
  });

  it('pages by CreatedDate and Id, from the shop time or the creation', () => {
    expect(purchasesQuery(T + 500)).toBe(
      'SELECT Id, CreatedDate, WhatsApp_Placed_At__c, BillToContactId, ShipToContactId, CustomerAuthorizedById, (SELECT Product2.ProductCode, Quantity, UnitPrice FROM OrderItems) FROM Order ' +
        'WHERE (WhatsApp_Placed_At__c >= 2026-12-02T09:00:00Z OR (WhatsApp_Placed_At__c = null AND CreatedDate >= 2026-12-02T09:00:00Z)) ORDER BY CreatedDate ASC, Id ASC LIMIT 200',
    );
    expect(purchasesQuery(T, { createdDate: '2026-12-03T10:00:00.000+0000', id: "801'x" })).toContain("AND (CreatedDate > 2026-12-03T10:00:00Z OR (CreatedDate = 2026-12-03T10:00:00Z AND Id > '801\\'x'))");
  });
});

describe('change events: the compound Name and changedFields', () => {
  const event = (payload: Record<string, unknown>, header: Record<string, unknown> = {}) => ({
    version: '0',
    id: 'eb-9',
    'detail-type': 'ContactChangeEvent',
    source: 'aws.partner/salesforce.com/00D000000000001/0YL000000000001',
    detail: { payload: { ...payload, ChangeEventHeader: { entityName: 'Contact', recordIds: ['003A'], changeType: 'UPDATE', commitTimestamp: T, commitUser: SALES, ...header } }, schemaId: 's', id: 'e-9' },
  });
  const parse = (e: unknown) => parseSalesforceEvent(e, { customerLevelField: LEVEL, integrationUserId: US });

  it('an update of Name.FirstName is the first name; fields the update does not list are not changes, even as nulls', () => {
    expect(parse(event({ Name: { FirstName: 'May', LastName: null }, [LEVEL]: null, WhatsApp_Marketing_Opt_Out__c: null }, { changedFields: ['Name.FirstName', 'LastModifiedDate'] }))).toEqual({
      events: [{ eventId: 'eb-9', occurredAt: T, change: { kind: 'contact', crmId: '003A', changes: [{ field: 'firstName', value: 'May', at: T }] } }],
    });
  });

  it('a listed field without a value was cleared; a create reports what it carries', () => {
    expect(parse(event({ Name: {} }, { changedFields: ['Name.FirstName'], nulledFields: ['Name.FirstName'] }))).toMatchObject({ events: [{ change: { changes: [{ field: 'firstName', value: null }] } }] });
    expect(parse(event({ Name: { FirstName: 'Mei', LastName: 'Chan' }, [LEVEL]: 'new customer' }, { changeType: 'CREATE', changedFields: [], commitUser: US }))).toMatchObject({
      events: [{ change: { changes: [{ field: 'firstName', value: 'Mei' }, { field: 'customerLevel', value: 'new customer' }], ours: true } }],
    });
  });
});

describe('the local Event Relay: what a change event carries', () => {
  const record = (fields: Record<string, unknown>, over: Partial<StoredRecord> = {}): StoredRecord => ({
    Id: '0035g0000000001AAA',
    object: 'Contact',
    fields,
    CreatedDate: sf(T),
    LastModifiedDate: sf(T + 1000),
    SystemModstamp: sf(T + 1000),
    CreatedById: US,
    LastModifiedById: SALES,
    ...over,
  });
  const update = (before: Record<string, unknown>, after: Record<string, unknown>): RecordChange => ({
    object: 'Contact',
    id: '0035g0000000001AAA',
    type: 'UPDATE',
    before: record(before, { LastModifiedById: US }),
    after: record(after),
    userId: SALES,
    at: T + 1000,
  });

  it('an update: the changed fields only, the name nested, a cleared field null and in nulledFields', () => {
    expect(changePayload(update({ FirstName: 'Mei', LastName: 'Chan', MailingCity: 'Kowloon', [LEVEL]: 'gold' }, { FirstName: 'May', LastName: 'Chan', MailingCity: 'Kowloon' }))).toEqual({
      payload: { Name: { FirstName: 'May' }, [LEVEL]: null, LastModifiedDate: '2026-12-02T09:00:01.000Z', LastModifiedById: SALES },
      changedFields: ['Name.FirstName', LEVEL, 'LastModifiedDate', 'LastModifiedById'],
      nulledFields: [LEVEL],
    });
  });

  it('a create carries every field set and the system fields, with no changedFields; a delete the header alone', () => {
    const created = changePayload({ object: 'Contact', id: '0035g0000000001AAA', type: 'CREATE', after: record({ FirstName: 'Mei', LastName: 'Chan', Phone: null }), userId: US, at: T });
    expect(created).toEqual({ payload: { Name: { FirstName: 'Mei', LastName: 'Chan' }, CreatedDate: '2026-12-02T09:00:00.000Z', CreatedById: US, LastModifiedDate: '2026-12-02T09:00:01.000Z', LastModifiedById: SALES }, changedFields: [], nulledFields: [] });
    expect(changePayload({ object: 'Contact', id: '0035g0000000001AAA', type: 'DELETE', before: record({}), userId: US, at: T })).toEqual({ payload: {}, changedFields: [], nulledFields: [] });
  });

  it('the EventBridge envelope Event Relay puts on the partner bus, which the receiver parses; API writes are the integration user', () => {
    const relay = new LocalEventRelay({ orgId: '00D5g00000LOCALEAA', relayId: '0YL5g00000LOCALAAA', integrationUserId: US });
    const e = relay.event(update({ FirstName: 'Mei' }, { FirstName: 'May' }), 'tx-1', 2);
    expect(e).toMatchObject({
      version: '0',
      'detail-type': 'ContactChangeEvent',
      source: 'aws.partner/salesforce.com/00D5g00000LOCALEAA/0YL5g00000LOCALAAA',
      account: expect.stringMatching(/^\d{12}$/),
      time: '2026-12-02T09:00:01Z',
      region: 'us-east-1',
      resources: [],
      detail: {
        schemaId: expect.any(String),
        id: expect.any(String),
        payload: { ChangeEventHeader: { entityName: 'Contact', recordIds: ['0035g0000000001AAA'], changeType: 'UPDATE', transactionKey: 'tx-1', sequenceNumber: 2, commitTimestamp: T + 1000, commitUser: SALES, changeOrigin: '' } },
      },
    });
    expect(parse(e)).toEqual({ events: [{ eventId: e.id, occurredAt: T + 1000, change: { kind: 'contact', crmId: '0035g0000000001AAA', changes: [{ field: 'firstName', value: 'May', at: T + 1000 }] } }] });
    const ours = relay.event({ ...update({ FirstName: 'Mei' }, { FirstName: 'Mai' }), userId: US }, 'tx-2', 1);
    expect(ours.detail.payload['ChangeEventHeader']).toMatchObject({ commitUser: US, changeOrigin: expect.stringMatching(/^com\/salesforce\/api\/rest\//) });
    expect(parse(ours)).toMatchObject({ events: [{ change: { ours: true } }] });
  });

  function parse(e: unknown) {
    return parseSalesforceEvent(e, { customerLevelField: LEVEL, integrationUserId: US });
  }
});
