/**
 * The Salesforce adapter against the local Salesforce org (local/salesforce): the product's
 * guarantees (one contact per customer, each message / case / opportunity / task once, ≤ 2 calls
 * per message for a known contact) and the failure handling (token renewal, request limits,
 * 5xx, 4xx), through the adapter only — the stand-in is read through its neutral read-outs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CrmError, type CrmContactFields, type CrmConversation, type CrmMessageInput } from '#shared/crm/port';
import { MemoryTokenCache } from '#shared/crm/token-cache';
import { SalesforceAdapter, type SalesforceAdapterOptions } from '#shared/crm/salesforce/adapter';
import { LAST_NAME_PLACEHOLDER } from '#shared/crm/salesforce/fields';
import { startSalesforceStandIn, type SalesforceStandIn } from '#local/salesforce/server';

let sf: SalesforceStandIn;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'salesforce-it-'));
  sf = await startSalesforceStandIn({ dataFile: join(dataDir, 'salesforce.json') });
});
afterAll(async () => {
  await sf?.stop();
  await rm(dataDir, { recursive: true, force: true });
});
beforeEach(() => {
  sf.setFaults([]);
  sf.setRateLimit(undefined);
});

function adapter(options: Partial<SalesforceAdapterOptions> = {}, on: SalesforceStandIn = sf): SalesforceAdapter {
  return new SalesforceAdapter({
    loginUrl: on.env.SALESFORCE_LOGIN_URL!,
    apiVersion: '68.0',
    credentials: async () => ({ clientId: on.env.SALESFORCE_CLIENT_ID!, clientSecret: on.env.SALESFORCE_CLIENT_SECRET! }),
    tokenCache: new MemoryTokenCache(),
    backoffBaseMs: 5,
    timeoutMs: 2000,
    maxInAttemptWaitMs: 200,
    ...options,
  });
}

let sequence = 0;
function customer() {
  sequence += 1;
  const n = `${Date.now() % 1_000_000}${sequence}`.padStart(8, '0');
  return { contactId: `c-${n}`, bsuid: `HK.${n}${sequence}`, phone: `+8529${n.slice(-7)}` };
}

const contactsWith = (bsuid: string) => sf.contacts().filter((c) => c.bsuid === bsuid);
const fields = (overrides: Partial<CrmContactFields> = {}): CrmContactFields => ({ tags: ['price_inquiry'], hotWords: { discount: 2 }, frequentEmoji: ['😀'], messageCount: 3, segment: 'active', ...overrides });

function message(contactCrmId: string, wamid: string, conversation?: CrmConversation): CrmMessageInput {
  return { wamid, contactCrmId, direction: 'inbound', body: 'Is the blue one in stock?', timestamp: Date.parse('2026-09-10T10:00:00Z'), conversation };
}

function conversation(id: string, tags: string[] = ['complaint']): CrmConversation {
  return { id, startedAt: Date.parse('2026-09-10T10:00:00Z'), tags, subject: 'The parcel arrived broken', priority: 'high' };
}

describe('Salesforce contacts', () => {
  it('creates one contact by BSUID with the WhatsApp fields, lead source and names, and finds it again', async () => {
    const c = customer();
    const sfa = adapter();
    const first = await sfa.upsertContact({ ...c, username: 'anna.k', profileName: 'Anna Maria Kowalski', lastInteractionAt: Date.parse('2026-09-10T10:00:00Z'), fields: fields() });
    expect(first).toMatchObject({ created: true, matchedExisting: false });
    const again = await sfa.upsertContact({ ...c, username: 'anna.k', profileName: 'Anna Maria Kowalski' });
    expect(again).toMatchObject({ crmId: first.crmId, created: false });
    const [contact, ...others] = contactsWith(c.bsuid);
    expect(others).toEqual([]);
    expect(contact).toMatchObject({ id: first.crmId, phone: c.phone, firstName: 'Anna', lastName: 'Maria Kowalski', leadSource: 'WhatsApp', salesPhones: [c.phone] });
    expect(contact?.fields).toMatchObject({
      WhatsApp_Username__c: 'anna.k',
      WhatsApp_Contact_Id__c: c.contactId,
      WhatsApp_Segment__c: 'active',
      WhatsApp_Tags__c: 'price_inquiry',
      WhatsApp_Hot_Words__c: 'discount:2',
      WhatsApp_Customer_Level__c: 'new customer',
      WhatsApp_Last_Interaction__c: '2026-09-10T10:00:00.000+0000',
    });
  });

  it('ends two concurrent first upserts of a new customer in one contact', async () => {
    const c = customer();
    const results = await Promise.all([adapter(), adapter(), adapter()].map((a) => a.upsertContact({ ...c, profileName: 'Ravi' })));
    expect(new Set(results.map((r) => r.crmId)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(contactsWith(c.bsuid)).toHaveLength(1);
  });

  it('follows a number change to the same contact and moves it to the new phone and BSUID', async () => {
    const old = customer();
    const first = await adapter().upsertContact(old);
    const next = customer();
    const moved = await adapter().upsertContact({ contactId: old.contactId, bsuid: next.bsuid, phone: next.phone, previousBsuids: [old.bsuid], previousPhones: [old.phone] });
    expect(moved).toMatchObject({ crmId: first.crmId, created: false });
    expect(contactsWith(old.bsuid)).toEqual([]);
    expect(contactsWith(next.bsuid)[0]).toMatchObject({ id: first.crmId, phone: next.phone });
  });

  it('keeps a BSUID-only customer (no phone) without phone fields, and adds the phone once it is known', async () => {
    const c = customer();
    const result = await adapter().upsertContact({ contactId: c.contactId, bsuid: c.bsuid, profileName: 'Mei' });
    expect(result.created).toBe(true);
    expect(contactsWith(c.bsuid)[0]).toMatchObject({ phone: undefined, salesPhones: [], lastName: 'Mei' });
    const withPhone = await adapter().upsertContact({ ...c, knownCrmId: result.crmId });
    expect(withPhone).toMatchObject({ crmId: result.crmId, calls: 1 });
    expect(contactsWith(c.bsuid)[0]?.phone).toBe(c.phone);
  });

  for (const field of ['phone', 'mobile'] as const) {
    it(`matches a contact sales made with the number in ${field === 'phone' ? 'Phone' : 'MobilePhone'} once, keeping what sales typed`, async () => {
      const c = customer();
      const salesId = await sf.createSalesContact({ phone: c.phone, field, firstName: 'Wing', lastName: 'Chan' });
      const matched = await adapter().upsertContact({ ...c, profileName: 'WhatsApp Name' });
      expect(matched).toMatchObject({ crmId: salesId, created: false, matchedExisting: true });
      const later = await adapter().upsertContact({ ...c, profileName: 'WhatsApp Name' });
      expect(later).toMatchObject({ crmId: salesId, matchedExisting: false });
      const contact = sf.contacts().find((x) => x.id === salesId);
      expect(contact).toMatchObject({ bsuid: c.bsuid, phone: c.phone, firstName: 'Wing', lastName: 'Chan', leadSource: 'Phone Inquiry' });
      expect(sf.contacts().filter((x) => x.salesPhones.includes(c.phone) || x.phone === c.phone)).toHaveLength(1);
    });
  }

  it('looks the customer up again when the known contact was deleted in Salesforce', async () => {
    const c = customer();
    const first = await adapter().upsertContact(c);
    sf.deleteRecord('Contact', first.crmId);
    const again = await adapter().upsertContact({ ...c, knownCrmId: first.crmId });
    expect(again.crmId).not.toBe(first.crmId);
    expect(again.created).toBe(true);
    expect(contactsWith(c.bsuid).map((x) => x.id)).toEqual([again.crmId]);
  });

  it('reads the names sales corrected, and no placeholder as a name', async () => {
    const c = customer();
    const nameless = await adapter().upsertContact(c);
    expect(sf.contacts().find((x) => x.id === nameless.crmId)?.lastName).toBe(LAST_NAME_PLACEHOLDER);
    expect(await adapter().readProfile(nameless.crmId)).toEqual({ firstName: undefined, lastName: undefined, calls: 1 });
    sf.store.update('Contact', nameless.crmId, { FirstName: 'Ka Ho', LastName: 'Lee' });
    expect(await adapter().readProfile(nameless.crmId)).toMatchObject({ firstName: 'Ka Ho', lastName: 'Lee' });
    sf.deleteRecord('Contact', nameless.crmId);
    expect(await adapter().readProfile(nameless.crmId)).toMatchObject({ firstName: undefined, lastName: undefined });
  });
});

describe('Salesforce messages and cases', () => {
  it('logs each message once, however often it is sent', async () => {
    const c = customer();
    const { crmId } = await adapter().upsertContact(c);
    const wamid = `wamid.HBgL${c.contactId}+/=`;
    const first = await adapter().logMessage(message(crmId, wamid));
    const repeat = await adapter().logMessage(message(crmId, wamid));
    expect(first).toMatchObject({ created: true, calls: 1 });
    expect(repeat).toMatchObject({ crmId: first.crmId, created: false });
    expect(sf.messages().filter((m) => m.wamid === wamid)).toEqual([{ id: first.crmId, wamid, contactId: crmId, body: 'Is the blue one in stock?' }]);
  });

  it('logs a message once when the answer to its write was lost (retried inside the attempt, or later)', async () => {
    const c = customer();
    const { crmId } = await adapter().upsertContact(c);
    const wamid = `wamid.lost-${c.contactId}`;
    sf.setFaults([{ operation: 'message-write', afterCommitDelayMs: 400 }]);
    const retried = await adapter({ timeoutMs: 150, maxTries: 3 }).logMessage(message(crmId, wamid, conversation(`conv-lost-${c.contactId}`)));
    expect(retried.created).toBe(false); // the first try made it; the retry found it
    sf.setFaults([{ operation: 'message-write', afterCommitDelayMs: 400 }]);
    const wamid2 = `wamid.lost2-${c.contactId}`;
    await expect(adapter({ timeoutMs: 150, maxTries: 1 }).logMessage(message(crmId, wamid2))).rejects.toMatchObject({ kind: 'transient' });
    const later = await adapter().logMessage(message(crmId, wamid2));
    expect(sf.messages().filter((m) => m.wamid === wamid || m.wamid === wamid2).map((m) => m.id).sort()).toEqual([retried.crmId, later.crmId].sort());
    expect(sf.cases().filter((k) => k.conversationId === `conv-lost-${c.contactId}`)).toHaveLength(1);
  });

  it('opens one case per conversation, typed from its tags, and never reopens one the agent closed', async () => {
    const c = customer();
    const { crmId } = await adapter().upsertContact(c);
    const conv = conversation(`conv-${c.contactId}`, ['price_inquiry']);
    await adapter().logMessage(message(crmId, `wamid.a-${c.contactId}`, conv));
    const [opened] = sf.cases().filter((k) => k.conversationId === conv.id);
    expect(opened).toMatchObject({ contactId: crmId, type: 'Price Inquiry', status: 'New', subject: 'The parcel arrived broken', priority: 'High' });
    expect(sf.store.find('Case', opened!.id)?.fields.Origin).toBe('WhatsApp');

    await adapter().logMessage(message(crmId, `wamid.b-${c.contactId}`, { ...conv, tags: ['price_inquiry', 'complaint'], priority: 'medium' }));
    sf.closeCase(conv.id);
    await adapter().logMessage(message(crmId, `wamid.c-${c.contactId}`, { ...conv, tags: ['order_status'] }));
    const cases = sf.cases().filter((k) => k.conversationId === conv.id);
    expect(cases).toEqual([expect.objectContaining({ id: opened!.id, status: 'Closed', type: 'Order Status' })]);
    const onCase = sf.store.list('WhatsApp_Message__c').filter((m) => m.fields.Case__c === opened!.id);
    expect(onCase).toHaveLength(3);
  });

  it('needs at most 2 calls per message for a contact already in Salesforce', async () => {
    const c = customer();
    const sfa = adapter();
    const { crmId } = await sfa.upsertContact(c);
    sf.resetRequests();
    const contact = await sfa.upsertContact({ ...c, knownCrmId: crmId, fields: fields({ messageCount: 4 }) });
    const logged = await sfa.logMessage(message(crmId, `wamid.budget-${c.contactId}`, conversation(`conv-budget-${c.contactId}`)));
    expect(contact.calls + logged.calls).toBeLessThanOrEqual(2);
    expect(sf.requests().total).toBe(2);
  });

  it('refuses a message for a contact deleted in Salesforce as permanent, naming the field and no values', async () => {
    const c = customer();
    const { crmId } = await adapter().upsertContact(c);
    sf.deleteRecord('Contact', crmId);
    const error = await adapter().logMessage(message(crmId, `wamid.gone-${c.contactId}`, conversation(`conv-gone-${c.contactId}`))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrmError);
    expect(error).toMatchObject({ kind: 'permanent', details: { category: 'ENTITY_IS_DELETED' } });
    expect(sf.cases().filter((k) => k.conversationId === `conv-gone-${c.contactId}`)).toEqual([]); // all or none
  });
});

describe('Salesforce opportunities, tasks, orders, reports', () => {
  it('creates the opportunity once, also when the answer to the create was lost', async () => {
    const c = customer();
    const { crmId } = await adapter().upsertContact(c);
    const input = { opportunityId: `wamid.intent-${c.contactId}`, contactCrmId: crmId, sku: 'SKU-42', productName: 'Blue kettle', amount: 399, currency: 'HKD', createdAt: Date.parse('2026-09-10T10:00:00Z') };
    const first = await adapter().createOpportunity(input);
    const again = await adapter().createOpportunity(input);
    expect(first.created).toBe(true);
    expect(again).toMatchObject({ crmId: first.crmId, created: false });
    const record = sf.store.find('Opportunity', first.crmId)!;
    expect(record.fields).toMatchObject({ Name: 'WhatsApp: Blue kettle', StageName: 'Prospecting', CloseDate: '2026-10-10', Amount: 399, WhatsApp_SKU__c: 'SKU-42', LeadSource: 'WhatsApp', ContactId: crmId });

    sf.setFaults([{ operation: 'opportunity-write', afterCommitDelayMs: 400 }]);
    const lost = { ...input, opportunityId: `wamid.intent2-${c.contactId}` };
    const found = await adapter({ timeoutMs: 150 }).createOpportunity(lost);
    expect(found.created).toBe(false);
    expect(sf.opportunities().filter((o) => o.opportunityId === lost.opportunityId).map((o) => o.id)).toEqual([found.crmId]);
  });

  it('creates the follow-up task once per task id and leaves it as sales left it', async () => {
    const c = customer();
    const { crmId } = await adapter().upsertContact(c);
    const input = { taskId: `follow-up:${c.contactId}:2026-W37`, contactCrmId: crmId, subject: 'Call back about the kettle', body: 'Asked twice about the price', dueAt: Date.parse('2026-09-12T09:00:00Z') };
    const first = await adapter().createTask(input);
    sf.store.update('Task', first.crmId, { Status: 'Completed' });
    const again = await adapter().createTask(input);
    expect(again).toMatchObject({ crmId: first.crmId, created: false });
    expect(sf.tasks().filter((t) => t.taskId === input.taskId)).toEqual([{ id: first.crmId, taskId: input.taskId, contactId: crmId, subject: input.subject }]);
    expect(sf.store.find('Task', first.crmId)?.fields).toMatchObject({ Status: 'Completed', ActivityDate: '2026-09-12', WhoId: crmId });
  });

  it('finds the last order with its tracking and SKUs', async () => {
    const c = customer();
    const { crmId } = await adapter().upsertContact(c);
    expect(await adapter().findLastOrder(crmId)).toEqual({ order: undefined, calls: 1 });
    sf.addOrder({ contactCrmId: crmId, name: 'Order 1', placedAt: Date.parse('2026-09-01T08:00:00Z'), amount: 100, skus: ['SKU-1'] });
    sf.addOrder({ whatsappPhone: c.phone, name: 'Order 2', placedAt: Date.parse('2026-09-05T08:00:00Z'), amount: 250, status: 'Shipped', trackingNumber: 'SF123', carrier: 'SF Express', trackingUrl: 'https://track.test/SF123', skus: ['SKU-2', 'SKU-3'] });
    const { order, calls } = await adapter().findLastOrder(crmId);
    expect(calls).toBe(1);
    expect(order).toMatchObject({ name: 'Order 2', placedAt: Date.parse('2026-09-05T08:00:00Z'), amount: 250, status: 'Shipped', trackingNumber: 'SF123', carrier: 'SF Express', trackingUrl: 'https://track.test/SF123' });
    expect([...(order?.skus ?? [])].sort()).toEqual(['SKU-2', 'SKU-3']);
  });

  it('writes the service report once per report id, with the figures as they are now', async () => {
    const report = { reportId: `service-week:2026-W${sequence}`, periodStart: Date.parse('2026-09-07T00:00:00Z'), periodEnd: Date.parse('2026-09-14T00:00:00Z'), medianFirstResponseMs: 272_000, conversations: 40, unanswered: 3 };
    expect(await adapter().recordServiceReport(report)).toEqual({ recorded: true, calls: 1 });
    await adapter().recordServiceReport({ ...report, unanswered: 2 });
    const records = sf.store.list('WhatsApp_Service_Report__c').filter((r) => r.fields.Report_Id__c === report.reportId);
    expect(records.map((r) => r.fields)).toEqual([expect.objectContaining({ Median_First_Response_Seconds__c: 272, Conversations__c: 40, Unanswered__c: 2 })]);
  });
});

describe('Salesforce bulk updates and read-back', () => {
  it('updates 250 contacts in 2 calls, reporting a deleted one as missing', async () => {
    const sfa = adapter();
    const people = await Promise.all(Array.from({ length: 250 }, async () => {
      const c = customer();
      return { ...c, crmId: (await sfa.upsertContact(c)).crmId };
    }));
    sf.deleteRecord('Contact', people[7]!.crmId);
    const result = await adapter().updateContacts([...people.map((p, i) => ({ crmId: p.crmId, contactId: p.contactId, fields: fields({ messageCount: i }) })), { crmId: 'not-a-salesforce-id', contactId: 'x', fields: fields() }]);
    expect(result.calls).toBe(2);
    expect(result.outcomes).toHaveLength(251);
    expect(result.outcomes[7]).toEqual({ ok: false, missing: true });
    expect(result.outcomes[250]).toEqual({ ok: false, missing: true });
    expect(result.outcomes.filter((o) => o.ok)).toHaveLength(249);
    expect(sf.store.find('Contact', people[249]!.crmId)?.fields.WhatsApp_Message_Count__c).toBe(249);

    const read = await adapter().readContacts([people[0]!.crmId, people[7]!.crmId, people[1]!.crmId]);
    expect(read.calls).toBe(1);
    expect(read.contacts.map((x) => x.crmId)).toEqual([people[0]!.crmId, people[1]!.crmId]);
    expect(read.contacts[1]).toMatchObject({ phone: people[1]!.phone, bsuid: people[1]!.bsuid, lastName: undefined, values: { WhatsApp_Message_Count__c: 1, WhatsApp_Segment__c: 'active' } });
  });

  it('fails the rest of a batch with the rate limit instead of hammering on', async () => {
    const sfa = adapter();
    const { crmId } = await sfa.upsertContact(customer());
    sf.setFaults([{ operation: 'contact-write', status: 403 }]);
    const result = await sfa.updateContacts(Array.from({ length: 201 }, () => ({ crmId, contactId: 'c', fields: fields() })));
    expect(result.calls).toBe(1);
    expect(result.outcomes.every((o) => !o.ok && !o.missing && o.error.kind === 'rate_limited')).toBe(true);
  });
});

describe('Salesforce failures', () => {
  it('renews the session once when Salesforce answers INVALID_SESSION_ID', async () => {
    const sfa = adapter();
    const c = customer();
    await sfa.upsertContact(c);
    const before = sf.tokenRequests();
    sf.expireTokens();
    const result = await sfa.upsertContact(c);
    expect(result.created).toBe(false);
    expect(sf.tokenRequests()).toBe(before + 1);
  });

  it('says auth when the client secret is wrong, without the answer', async () => {
    const error = await adapter({ credentials: async () => ({ clientId: sf.env.SALESFORCE_CLIENT_ID!, clientSecret: 'wrong' }) }).upsertContact(customer()).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'auth', details: { status: 400, category: 'invalid_client' } });
    expect(String((error as Error).message)).not.toContain('invalid client credentials');
  });

  it('answers the enforced request limit as rate_limited with a retry time, and reports the API usage', async () => {
    const sfa = adapter();
    const c = customer();
    const { crmId } = await sfa.upsertContact(c);
    expect(sfa.usage()).toMatchObject({ max: 1_000_000 });
    expect(sfa.usage()!.used).toBeGreaterThan(0);
    sf.resetRequests();
    sf.setRateLimit({ requests: 1, windowMs: 60_000 });
    await sfa.upsertContact({ ...c, knownCrmId: crmId });
    const error = await sfa.upsertContact({ ...c, knownCrmId: crmId }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'rate_limited', details: { status: 403, category: 'REQUEST_LIMIT_EXCEEDED', retryAfterMs: 60_000 } });
    expect(sf.requests().rateLimited).toBe(1);
  });

  it('waits out a short 429 inside the attempt', async () => {
    const c = customer();
    sf.setFaults([{ operation: 'contact-read', status: 429, retryAfterSeconds: 0 }]);
    const result = await adapter().upsertContact(c);
    expect(result).toMatchObject({ created: true, calls: 3 });
  });

  it('retries a 5xx inside the attempt, then gives up as transient', async () => {
    const c = customer();
    sf.setFaults([{ operation: 'contact-read', status: 503 }]);
    expect(await adapter().upsertContact(c)).toMatchObject({ created: true, calls: 3 });
    sf.setFaults([{ operation: 'contact-read', status: 500 }, { operation: 'contact-read', status: 502 }, { operation: 'contact-read', dropConnection: true }]);
    await expect(adapter().upsertContact(customer())).rejects.toMatchObject({ kind: 'transient' });
  });

  it('makes a validation 4xx permanent, keeping the code and fields but none of the values Salesforce echoed', async () => {
    const c = customer();
    sf.setFaults([{ operation: 'contact-write', status: 400, body: [{ message: `Phone: data value too large: ${c.phone} Chan Tai Man`, errorCode: 'STRING_TOO_LONG', fields: ['Phone'] }] }]);
    const error = await adapter().upsertContact(c).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'permanent', details: { status: 400, category: 'STRING_TOO_LONG' } });
    expect((error as Error).message).toContain('STRING_TOO_LONG (Phone)');
    expect((error as Error).message).not.toContain(c.phone);
    expect((error as Error).message).not.toContain('Chan');
  });
});

describe('the local Salesforce org', () => {
  it('stays on the oldest contact when an org without Unique on the BSUID holds it twice', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'salesforce-dup-'));
    const loose = await startSalesforceStandIn({ nonUniqueExternalIds: ['Contact.WhatsApp_User_Id__c'], dataFile: join(dir, 'sf.json') });
    try {
      const c = customer();
      const older = loose.store.create('Contact', { LastName: 'One', WhatsApp_User_Id__c: c.bsuid });
      loose.store.create('Contact', { LastName: 'Two', WhatsApp_User_Id__c: c.bsuid });
      const result = await adapter({}, loose).upsertContact(c);
      expect(result).toMatchObject({ crmId: older.Id, created: false });
      expect(loose.contacts().filter((x) => x.bsuid === c.bsuid)).toHaveLength(2);
    } finally {
      await loose.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('lets a lagging query see a sales contact late, but never a contact by its External IDs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'salesforce-lag-'));
    const lagging = await startSalesforceStandIn({ queryLagMs: 300, dataFile: join(dir, 'sf.json') });
    try {
      const old = customer();
      const first = await adapter({}, lagging).upsertContact(old);
      const next = customer();
      const moved = await adapter({}, lagging).upsertContact({ contactId: old.contactId, bsuid: next.bsuid, phone: next.phone, previousBsuids: [old.bsuid], previousPhones: [old.phone] });
      expect(moved).toMatchObject({ crmId: first.crmId, created: false });
      const c = customer();
      const salesId = await lagging.createSalesContact({ phone: c.phone, field: 'mobile', firstName: 'Late', lastName: 'Sales' });
      expect(await adapter({}, lagging).upsertContact(c)).toMatchObject({ crmId: salesId, matchedExisting: true });
    } finally {
      await lagging.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps its records across a restart, and shows them on its home page', async () => {
    const c = customer();
    const { crmId } = await adapter().upsertContact({ ...c, profileName: 'Persisted Person' });
    const restarted = await startSalesforceStandIn({ dataFile: join(dataDir, 'salesforce.json'), port: 0 });
    try {
      expect(restarted.contacts().find((x) => x.id === crmId)).toMatchObject({ bsuid: c.bsuid, lastName: 'Person' });
      const page = await (await fetch(restarted.url)).text();
      expect(page).toContain('Persisted Person');
      expect(page).toContain(c.bsuid);
    } finally {
      await restarted.stop();
    }
  });
});
