/**
 * The Zoho adapter against the local Zoho CRM (local/zoho): the port's guarantees — idempotent,
 * race-free, number changes, BSUID-only customers, sales-made contacts, messages / deals / tasks
 * once, the token cached and renewed, the calls budget, and Zoho's failures mapped to CrmError.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_ZOHO_CREDENTIALS, startZohoStandIn, type ZohoStandIn } from '#local/zoho/server';
import { CrmError, type CrmContactFields, type CrmContactInput } from '#shared/crm/port';
import { MemoryTokenCache } from '#shared/crm/token-cache';
import { ZohoAdapter, type ZohoAdapterOptions } from '#shared/crm/zoho/adapter';

const SEARCH_LAG_MS = 40;
let crm: ZohoStandIn;
/** One token for the file's adapters, as on AWS (the table): Zoho allows 10 refreshes per 10 minutes. */
const tokens = new MemoryTokenCache();

beforeAll(async () => {
  crm = await startZohoStandIn({ searchLagMs: SEARCH_LAG_MS });
});
afterAll(() => crm.stop());

function adapter(options: Partial<ZohoAdapterOptions> = {}): ZohoAdapter {
  return new ZohoAdapter({ accountsUrl: crm.url, credentials: async () => LOCAL_ZOHO_CREDENTIALS, tokenCache: tokens, backoffBaseMs: 5, rateLimitWaitMs: 5, ...options });
}

const run = Date.now().toString().slice(-7);
let n = 0;
/** Fresh identities per test: the tests share one server without seeing each other. */
function customer(): { contactId: string; bsuid: string; phone: string } {
  n += 1;
  return { contactId: `zc-${run}-${n}`, bsuid: `HK.${run}${String(n).padStart(3, '0')}`, phone: `+8526${run}${String(n).padStart(3, '0')}` };
}
const lag = () => new Promise((resolve) => setTimeout(resolve, SEARCH_LAG_MS * 2));
const contactsWith = (field: 'bsuid' | 'phone', value: string) => crm.contacts().filter((c) => c[field] === value);
const fields = (over: Partial<CrmContactFields> = {}): CrmContactFields => ({ tags: ['vip'], hotWords: { discount: 2 }, frequentEmoji: ['😀'], messageCount: 3, segment: 'active', lastInteractionAt: Date.parse('2026-11-20T09:30:00Z'), ...over });

async function knownContact(): Promise<{ crmId: string; input: CrmContactInput }> {
  const c = customer();
  const input: CrmContactInput = { ...c, profileName: 'Wing Lee' };
  const { crmId } = await adapter().upsertContact(input);
  return { crmId, input: { ...input, knownCrmId: crmId } };
}

describe('Zoho contacts', () => {
  it('creates one contact and finds it again: same id, Lead_Source WhatsApp, names from the profile', async () => {
    const c = customer();
    const input: CrmContactInput = { ...c, profileName: 'Mei Ling Chan', username: 'mei', fields: fields() };
    const first = await adapter().upsertContact(input);
    expect(first).toMatchObject({ created: true, matchedExisting: false });
    const second = await adapter().upsertContact(input);
    await lag();
    const third = await adapter().upsertContact(input);
    expect([second.crmId, third.crmId]).toEqual([first.crmId, first.crmId]);
    expect(second.created || third.created).toBe(false);
    const [contact, ...others] = contactsWith('bsuid', c.bsuid);
    expect(others).toEqual([]);
    expect(contact).toMatchObject({ id: first.crmId, phone: c.phone, firstName: 'Mei', lastName: 'Ling Chan', leadSource: 'WhatsApp', salesPhones: [c.phone] });
    expect(contact?.fields).toMatchObject({ WhatsApp_Username: 'mei', WhatsApp_Segment: 'active', WhatsApp_Tags: 'vip', WhatsApp_Hot_Words: 'discount:2', WhatsApp_Last_Interaction: '2026-11-20T09:30:00+00:00', WhatsApp_Customer_Level: 'new customer' });
  });

  it('cuts a long WhatsApp name to the lengths Zoho takes instead of failing the contact', async () => {
    const c = customer();
    const { crmId } = await adapter().upsertContact({ ...c, profileName: `${'F'.repeat(60)} ${'L'.repeat(120)}` });
    const contact = crm.contacts().find((x) => x.id === crmId);
    expect(contact?.firstName).toHaveLength(40);
    expect(contact?.lastName).toHaveLength(80);
  });

  it('resolves concurrent first upserts of one new customer to one contact', async () => {
    const c = customer();
    const results = await Promise.all([1, 2, 3, 4, 5].map(() => adapter().upsertContact({ ...c, profileName: 'Race Winner' })));
    expect(new Set(results.map((r) => r.crmId)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(contactsWith('bsuid', c.bsuid)).toHaveLength(1);
  });

  it('follows a number change to the same contact and moves it to the new phone and BSUID', async () => {
    const before = customer();
    const { crmId } = await adapter().upsertContact({ ...before, profileName: 'Old Number' });
    await lag();
    const after = customer();
    const moved = await adapter().upsertContact({ contactId: before.contactId, bsuid: after.bsuid, phone: after.phone, previousBsuids: [before.bsuid], previousPhones: [before.phone] });
    expect(moved).toMatchObject({ crmId, created: false });
    expect(crm.contacts().find((x) => x.id === crmId)).toMatchObject({ bsuid: after.bsuid, phone: after.phone, lastName: 'Number' });
    expect(contactsWith('phone', before.phone)).toEqual([]);

    // With the id kept from the first sync, one PUT moves it again.
    const again = customer();
    const known = await adapter().upsertContact({ contactId: before.contactId, knownCrmId: crmId, bsuid: again.bsuid, phone: again.phone, previousPhones: [after.phone, before.phone] });
    expect(known).toMatchObject({ crmId, calls: 1 });
    expect(crm.contacts().find((x) => x.id === crmId)?.phone).toBe(again.phone);
  });

  it('serves a BSUID-only customer (no phone) and finds it again after the search index caught up', async () => {
    const { contactId, bsuid } = customer();
    const first = await adapter().upsertContact({ contactId, bsuid, username: 'nophone' });
    await lag();
    const second = await adapter().upsertContact({ contactId, bsuid });
    expect(second).toMatchObject({ crmId: first.crmId, created: false, calls: 2 });
    const [contact] = contactsWith('bsuid', bsuid);
    expect(contact).toMatchObject({ id: first.crmId, lastName: 'nophone', salesPhones: [] });
    expect(contact?.phone).toBeUndefined();
  });

  for (const field of ['phone', 'mobile'] as const) {
    it(`matches a sales-made contact with the number in ${field === 'phone' ? 'Phone' : 'Mobile'} once, keeping its names and lead source`, async () => {
      const c = customer();
      const salesId = await crm.createSalesContact({ phone: c.phone, field, firstName: 'Sales', lastName: 'Typed' });
      const claimed = await adapter().upsertContact({ ...c, profileName: 'WhatsApp Name' });
      expect(claimed).toMatchObject({ crmId: salesId, created: false, matchedExisting: true });
      const again = await adapter().upsertContact({ ...c, profileName: 'WhatsApp Name' });
      expect(again).toMatchObject({ crmId: salesId, matchedExisting: false });
      const contact = crm.contacts().find((x) => x.id === salesId);
      expect(contact).toMatchObject({ bsuid: c.bsuid, phone: c.phone, firstName: 'Sales', lastName: 'Typed', leadSource: 'Cold Call' });
      expect(contactsWith('bsuid', c.bsuid)).toHaveLength(1);
    });
  }

  it('does not claim a contact whose number only starts with the customer’s (Zoho’s search is fuzzy)', async () => {
    const c = customer();
    const other = await crm.createSalesContact({ phone: `${c.phone}9`, field: 'phone', firstName: 'Someone', lastName: 'Else' });
    const result = await adapter().upsertContact({ ...c });
    expect(result).toMatchObject({ created: true, matchedExisting: false });
    expect(result.crmId).not.toBe(other);
  });

  it('finds the customer again when the known id was deleted in Zoho', async () => {
    const c = customer();
    const { crmId } = await adapter().upsertContact(c);
    await lag();
    const result = await adapter().upsertContact({ ...c, knownCrmId: '5725767999999999999' });
    expect(result.crmId).toBe(crmId);
  });
});

describe('Zoho messages, deals, tasks, reports', () => {
  it('logs a message once: a repeat returns the same record', async () => {
    const { crmId } = await knownContact();
    const message = { wamid: `wamid.${run}.${++n}`, contactCrmId: crmId, direction: 'inbound' as const, body: 'Is the blue one in stock?', timestamp: Date.parse('2026-11-20T09:31:00Z') };
    const first = await adapter().logMessage(message);
    const repeat = await adapter().logMessage(message);
    expect(first.created).toBe(true);
    expect(repeat).toMatchObject({ crmId: first.crmId, created: false });
    expect(crm.messages().filter((m) => m.wamid === message.wamid)).toEqual([{ id: first.crmId, wamid: message.wamid, contactId: crmId, body: message.body }]);
  });

  it('logs a message once when the answer to the insert was lost (Zoho wrote it, the client timed out)', async () => {
    const { crmId } = await knownContact();
    const message = { wamid: `wamid.${run}.${++n}`, contactCrmId: crmId, direction: 'outbound' as const, body: 'Yes, it is.', timestamp: Date.now() };
    crm.setFaults([{ operation: 'message-write', afterCommitDelayMs: 400 }]);
    const result = await adapter({ timeoutMs: 150 }).logMessage(message);
    const logged = crm.messages().filter((m) => m.wamid === message.wamid);
    expect(logged).toHaveLength(1);
    expect(result).toMatchObject({ crmId: logged[0]!.id, created: false, calls: 2 });
  });

  it('logs a burst of messages in one insert, each once: replays and known ids resolve to their records', async () => {
    const { crmId } = await knownContact();
    const other = await knownContact();
    const message = (i: number, contactCrmId = crmId) => ({ wamid: `wamid.burst.${run}.${n}.${i}`, contactCrmId, direction: 'inbound' as const, body: `burst ${i}`, timestamp: Date.now() + i });
    n += 1;
    const already = await adapter().logMessage(message(0));
    crm.resetRequests();
    const burst = [message(0), message(1), message(2, other.crmId), { ...message(3), knownCrmId: '5725767000000000042' }, message(1)];
    const result = await adapter().logMessages(burst);
    expect(result.calls).toBe(1);
    expect(crm.requests()['message-write']).toBe(1);
    const logged = (i: number) => crm.messages().filter((m) => m.wamid === burst[i]!.wamid);
    expect(result.crmIds).toEqual([already.crmId, logged(1)[0]!.id, logged(2)[0]!.id, '5725767000000000042', logged(1)[0]!.id]);
    expect([0, 1, 2].map((i) => logged(i).length)).toEqual([1, 1, 1]);
    expect(logged(2)[0]!.contactId).toBe(other.crmId);
    expect(logged(3)).toEqual([]);

    await expect(adapter().logMessages([message(4, '5725767999999999995')])).rejects.toMatchObject({ kind: 'permanent', details: { category: 'INVALID_DATA' } });
    await expect(adapter().logMessages(Array.from({ length: 101 }, (_, i) => message(10 + i)))).rejects.toMatchObject({ kind: 'permanent' });
  });

  it('creates a deal once per opportunity and never resets what sales changed', async () => {
    const { crmId } = await knownContact();
    const opportunity = { opportunityId: `wamid.deal.${run}.${++n}`, contactCrmId: crmId, sku: 'SKU-BLUE', productName: 'Blue kettle', amount: 399, currency: 'HKD', createdAt: Date.parse('2026-11-20T00:00:00Z') };
    const first = await adapter().createOpportunity(opportunity);
    expect(first.created).toBe(true);
    const deal = crm.store.find('Deals', first.crmId)!;
    expect(deal.fields).toMatchObject({ Deal_Name: 'WhatsApp: Blue kettle', Stage: 'Qualification', Closing_Date: '2026-12-20', Amount: 399, Contact_Name: { id: crmId }, WhatsApp_SKU: 'SKU-BLUE', Lead_Source: 'WhatsApp' });
    deal.fields['Stage'] = 'Negotiation/Review';
    const repeat = await adapter().createOpportunity(opportunity);
    expect(repeat).toMatchObject({ crmId: first.crmId, created: false });
    expect(crm.opportunities().filter((o) => o.opportunityId === opportunity.opportunityId)).toHaveLength(1);
    expect(crm.store.find('Deals', first.crmId)?.fields['Stage']).toBe('Negotiation/Review');
  });

  it('creates a follow-up task once per task id, on the contact', async () => {
    const { crmId } = await knownContact();
    const task = { taskId: `follow-up:${run}:${++n}`, contactCrmId: crmId, subject: 'Call back about the kettle', body: 'Asked twice', dueAt: Date.parse('2026-11-23T10:00:00Z') };
    const [a, b] = await Promise.all([adapter().createTask(task), adapter().createTask(task)]);
    expect(b.crmId).toBe(a.crmId);
    expect(crm.tasks().filter((t) => t.taskId === task.taskId)).toEqual([{ id: a.crmId, taskId: task.taskId, contactId: crmId, subject: task.subject }]);
    expect(crm.store.find('Tasks', a.crmId)?.fields).toMatchObject({ Due_Date: '2026-11-23', Status: 'Not Started', Description: 'Asked twice' });
  });

  it('records the week’s service report once per report id', async () => {
    const report = { reportId: `service-week:${run}-W47`, periodStart: Date.parse('2026-11-16T00:00:00Z'), periodEnd: Date.parse('2026-11-23T00:00:00Z'), medianFirstResponseMs: 272_000, conversations: 40, unanswered: 3 };
    expect(await adapter().recordServiceReport(report)).toMatchObject({ recorded: true });
    expect(await adapter().recordServiceReport(report)).toMatchObject({ recorded: true });
    const stored = crm.store.all('WhatsApp_Service_Reports').filter((r) => r.fields['WhatsApp_Report_ID'] === report.reportId);
    expect(stored.map((r) => r.fields)).toEqual([expect.objectContaining({ Median_First_Response_Seconds: 272, Conversations: 40, Unanswered: 3, Period_End: '2026-11-23T00:00:00+00:00' })]);
  });
});

describe('Zoho reads and bulk', () => {
  it('reads the last order with tracking and SKUs, and the names sales keep', async () => {
    const { crmId } = await knownContact();
    crm.addOrder({ contactCrmId: crmId, name: 'Order 1001', placedAt: Date.parse('2026-11-01T00:00:00Z'), amount: 100, currency: 'HKD', status: 'Delivered' });
    const latest = crm.addOrder({ contactCrmId: crmId, name: 'Order 1002', placedAt: Date.parse('2026-11-18T00:00:00Z'), amount: 399, currency: 'HKD', status: 'Shipped', carrier: 'DHL', trackingNumber: 'JD0123', trackingUrl: 'https://track.example/JD0123', skus: ['SKU-BLUE'] });
    const { order, calls } = await adapter().findLastOrder(crmId);
    expect(calls).toBe(1);
    expect(order).toEqual({ crmId: latest, name: 'Order 1002', placedAt: Date.parse('2026-11-18T00:00:00Z'), amount: 399, currency: 'HKD', status: 'Shipped', carrier: 'DHL', trackingNumber: 'JD0123', trackingUrl: 'https://track.example/JD0123', skus: ['SKU-BLUE'] });
    expect((await adapter().findLastOrder((await knownContact()).crmId)).order).toBeUndefined();
    expect(await adapter().readProfile(crmId)).toMatchObject({ firstName: 'Wing', lastName: 'Lee', calls: 1 });
    expect(await adapter().readProfile('5725767999999999998')).toEqual({ firstName: undefined, lastName: undefined, calls: 1 });
  });

  it('updates 150 contacts in two calls and reports an id that is not there as missing', async () => {
    const known = await Promise.all(Array.from({ length: 149 }, () => knownContact()));
    const updates = [...known.map((k) => ({ crmId: k.crmId, contactId: k.input.contactId, fields: fields({ segment: 'dormant', messageCount: 9 }) })), { crmId: '5725767999999999997', contactId: 'gone', fields: fields() }];
    crm.resetRequests();
    const before = crm.routeStats()['PUT /crm/{version}/Contacts'] ?? 0;
    const result = await adapter().updateContacts(updates);
    expect(result.calls).toBe(2);
    expect((crm.routeStats()['PUT /crm/{version}/Contacts'] ?? 0) - before).toBe(2);
    expect(result.outcomes.slice(0, 149).every((o) => o.ok)).toBe(true);
    expect(result.outcomes[149]).toEqual({ ok: false, missing: true });
    expect(crm.contacts().find((c) => c.id === known[0]!.crmId)?.fields).toMatchObject({ WhatsApp_Segment: 'dormant', WhatsApp_Message_Count: 9 });

    const { contacts, calls } = await adapter().readContacts([known[0]!.crmId, known[1]!.crmId, '5725767999999999997']);
    expect(calls).toBe(1);
    expect(contacts.map((c) => c.crmId)).toEqual([known[0]!.crmId, known[1]!.crmId]);
    expect(contacts[0]).toMatchObject({ firstName: 'Wing', lastName: 'Lee', phone: known[0]!.input.phone, bsuid: known[0]!.input.bsuid, values: expect.objectContaining({ WhatsApp_Segment: 'dormant', WhatsApp_Message_Count: 9 }) });
  });

  it('reports the day’s credits from Zoho’s headers', async () => {
    await adapter().readProfile((await knownContact()).crmId);
    const usage = adapter().usage();
    expect(usage).toBeUndefined(); // a fresh adapter has seen no answer yet
    const used = adapter();
    await used.readProfile('5725767999999999998');
    expect(used.usage()).toMatchObject({ max: 50_000 });
    expect(used.usage()!.used).toBeGreaterThan(0);
  });
});

describe('Zoho calls, tokens and failures', () => {
  it('spends at most 2 calls per message for a contact already in the CRM', async () => {
    const { crmId, input } = await knownContact();
    crm.resetRequests();
    const a = adapter();
    const contact = await a.upsertContact({ ...input, fields: fields() });
    const message = await a.logMessage({ wamid: `wamid.${run}.${++n}`, contactCrmId: crmId, direction: 'inbound', body: 'hi', timestamp: Date.now() });
    expect(contact.calls + message.calls).toBe(2);
    expect(crm.requests()['total']).toBe(2);
  });

  it('shares one token between adapters and renews it once on INVALID_TOKEN', async () => {
    const cache = new MemoryTokenCache();
    const before = crm.tokenRefreshes();
    const { crmId } = await knownContact();
    await Promise.all([adapter({ tokenCache: cache }).readProfile(crmId), adapter({ tokenCache: cache }).readProfile(crmId)]);
    expect(crm.tokenRefreshes() - before).toBe(1);
    crm.expireAccessTokens();
    const renewed = await adapter({ tokenCache: cache }).readProfile(crmId);
    expect(renewed).toMatchObject({ firstName: 'Wing', calls: 2 });
    expect(crm.tokenRefreshes() - before).toBe(2);
    crm.expireAccessTokens();
    await adapter().readProfile(crmId); // the file's shared cache gets its token back too
  });

  it('turns a throttled token refresh into rate_limited, and does not ask again within the window', async () => {
    const strict = await startZohoStandIn({ maxRefreshesPerWindow: 1, searchLagMs: 0 });
    try {
      const make = () => new ZohoAdapter({ accountsUrl: strict.url, credentials: async () => LOCAL_ZOHO_CREDENTIALS, tokenCache: new MemoryTokenCache(), backoffBaseMs: 5 });
      const first = make();
      await first.readProfile('5725767000000000001');
      strict.expireAccessTokens();
      const error = await first.readProfile('5725767000000000001').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CrmError);
      expect(error).toMatchObject({ kind: 'rate_limited', details: { crm: 'zoho', category: 'ACCESS_DENIED', retryAfterMs: 600_000 } });
      const refreshes = strict.requests()['token'];
      await expect(first.readProfile('5725767000000000001')).rejects.toMatchObject({ kind: 'rate_limited' });
      expect(strict.requests()['token']).toBe(refreshes);
    } finally {
      await strict.stop();
    }
  });

  it('waits out a 429 (Zoho sends no Retry-After), then gives rate_limited with a retry time', async () => {
    const { crmId } = await knownContact();
    crm.setFaults([{ operation: 'contact-read', status: 429 }]);
    expect(await adapter().readProfile(crmId)).toMatchObject({ firstName: 'Wing', calls: 2 });
    crm.setFaults([429, 429, 429].map((status) => ({ operation: 'contact-read' as const, status })));
    await expect(adapter().readProfile(crmId)).rejects.toMatchObject({ kind: 'rate_limited', details: { status: 429, retryAfterMs: 30_000, category: 'TOO_MANY_REQUESTS' } });

    crm.setFaults([]);
    crm.setRateLimit({ requests: 1, windowMs: 60_000 });
    try {
      const token = (await tokens.get())!.accessToken;
      const call = () => fetch(`${crm.url}/crm/v8/Contacts/${crmId}?fields=Last_Name`, { headers: { authorization: `Zoho-oauthtoken ${token}` } });
      expect((await call()).status).toBe(200);
      const limited = await call();
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBeNull();
      expect(await limited.json()).toMatchObject({ code: 'TOO_MANY_REQUESTS', status: 'error' });
    } finally {
      crm.setRateLimit(undefined);
    }
  });

  it('retries a 5xx of an update; reports a create’s 5xx as outcome unknown and logs the message once', async () => {
    const { crmId, input } = await knownContact();
    crm.setFaults([{ operation: 'contact-write', status: 503 }]);
    expect(await adapter().upsertContact(input)).toMatchObject({ crmId, calls: 2 });

    const message = { wamid: `wamid.${run}.${++n}`, contactCrmId: crmId, direction: 'inbound' as const, body: 'again', timestamp: Date.now() };
    crm.setFaults([{ operation: 'message-write', status: 500 }]);
    expect(await adapter().logMessage(message)).toMatchObject({ created: true, calls: 2 });
    expect(crm.messages().filter((m) => m.wamid === message.wamid)).toHaveLength(1);

    crm.setFaults([500, 500, 500].map((status) => ({ operation: 'contact-read' as const, status })));
    await expect(adapter().readProfile(crmId)).rejects.toMatchObject({ kind: 'transient', details: { status: 500, category: 'INTERNAL_ERROR' } });
  });

  it('makes a 4xx permanent and keeps the answer’s text (it may echo personal data) out of the error', async () => {
    const { crmId, input } = await knownContact();
    crm.setFaults([{ operation: 'contact-write', status: 400, body: { code: 'INVALID_DATA', details: { api_name: 'Phone', value: '+85291234567' }, message: 'Phone +85291234567 of Wing Lee is invalid', status: 'error' } }]);
    const error = await adapter().upsertContact(input).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'permanent', details: { status: 400, category: 'INVALID_DATA' } });
    expect((error as Error).message).toContain('Phone');
    expect((error as Error).message).not.toMatch(/91234567|Wing/);

    // A lookup to a contact that is not there: refused by Zoho per record.
    await expect(adapter().logMessage({ wamid: `wamid.${run}.${++n}`, contactCrmId: '5725767999999999996', direction: 'inbound', body: 'x', timestamp: Date.now() })).rejects.toMatchObject({
      kind: 'permanent',
      details: { category: 'INVALID_DATA' },
    });
    expect(crmId).toBeTruthy();
  });

  it('refuses wrong credentials as auth, after reading them once more', async () => {
    let reads = 0;
    const wrong = new ZohoAdapter({ accountsUrl: crm.url, tokenCache: new MemoryTokenCache(), credentials: async () => ({ ...LOCAL_ZOHO_CREDENTIALS, refreshToken: `stale-${++reads}` }) });
    await expect(wrong.readProfile('5725767000000000001')).rejects.toMatchObject({ kind: 'auth', details: { category: 'invalid_code' } });
    expect(reads).toBe(2);
  });
});
