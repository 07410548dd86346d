/**
 * Two-way sync on Salesforce against the local org alone (SY-3, ID-3, ID-5): every change —
 * ours through the API, a sales user's edit, an agent's reply — comes back as a Change Data
 * Capture event shaped as Event Relay puts it on EventBridge, parsed here with the receiver's
 * own parser; the adapter's catch-up finds what a missed delivery lost; write-backs, purchases
 * and the SOAP merge (with its retries) work on the stand-in as on Salesforce.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  LOCAL_SALESFORCE_AGENT_USER_ID,
  LOCAL_SALESFORCE_INTEGRATION_USER_ID,
  LOCAL_SALESFORCE_ORG_ID,
  LOCAL_SALESFORCE_RELAY_ID,
  LOCAL_SALESFORCE_SALES_USER_ID,
  startSalesforceStandIn,
  type SalesforceStandIn,
} from '#local/salesforce/server';
import { CrmError } from '#shared/crm/port';
import { SalesforceAdapter, type SalesforceAdapterOptions } from '#shared/crm/salesforce/adapter';
import { parseSalesforceEvent } from '#shared/crm/salesforce/inbound';
import { MemoryTokenCache } from '#shared/crm/token-cache';
import type { CrmContactChange, CrmEvent, CrmRecordRef, CrmReply } from '#shared/crm/two-way';

const LEVEL = 'WhatsApp_Customer_Level__c';
const DAY_MS = 86_400_000;
let crm: SalesforceStandIn;
let receiver: Server;
/** Deliveries received, in order: the EventBridge event and its parsed events. */
const received: { event: Record<string, unknown> & { id: string; detail: { payload: { ChangeEventHeader: Record<string, unknown> } & Record<string, unknown> } }; events: CrmEvent[]; path: string }[] = [];
/** Answers the receiver gives next (then 200). */
const failNext: number[] = [];

function adapter(options: Partial<SalesforceAdapterOptions> = {}): SalesforceAdapter {
  return new SalesforceAdapter({
    loginUrl: crm.env.SALESFORCE_LOGIN_URL!,
    credentials: async () => ({ clientId: crm.env.SALESFORCE_CLIENT_ID!, clientSecret: crm.env.SALESFORCE_CLIENT_SECRET! }),
    tokenCache: new MemoryTokenCache(),
    integrationUserId: crm.env.SALESFORCE_INTEGRATION_USER_ID,
    backoffBaseMs: 5,
    timeoutMs: 2000,
    ...options,
  });
}
let sf: SalesforceAdapter;

beforeAll(async () => {
  crm = await startSalesforceStandIn({ deliveryRetryMs: 10 });
  sf = adapter();
  receiver = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => {
      const fail = failNext.shift();
      if (fail) return void res.writeHead(fail).end();
      const event = JSON.parse(text) as (typeof received)[number]['event'];
      const parsed = parseSalesforceEvent(event, { customerLevelField: LEVEL, integrationUserId: crm.env.SALESFORCE_INTEGRATION_USER_ID });
      if ('error' in parsed) throw new Error(parsed.error);
      received.push({ event, events: parsed.events, path: req.url ?? '' });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const address = receiver.address();
  crm.twoWay.setDeliveryTarget(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
});
afterAll(async () => {
  await crm?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
});
beforeEach(async () => {
  crm.setFaults([]);
  failNext.length = 0;
  crm.twoWay.pauseDeliveries(false);
  await crm.twoWay.settled();
  received.length = 0;
});

let n = 0;
async function contact(firstName = 'Mei', level?: string): Promise<string> {
  n += 1;
  const { crmId } = await sf.upsertContact({ contactId: `sf-tw-${n}`, bsuid: `HK.sftw${n}`, phone: `+8529100${String(n).padStart(4, '0')}`, profileName: `${firstName} Chan`, ...(level && { fields: { tags: [], hotWords: {}, frequentEmoji: [], messageCount: 1, customerLevel: level } }) });
  return crmId;
}
const header = (r: (typeof received)[number]) => r.event.detail.payload.ChangeEventHeader;
const of = (id: string) => received.filter((r) => (header(r).recordIds as string[]).includes(id));
const contactChanges = (id: string) => of(id).flatMap((r) => r.events.map((e) => e.change)).filter((c): c is CrmContactChange => c.kind === 'contact');

describe('change events from the local org, as Event Relay delivers them', () => {
  it('its env names the integration user the API writes as', () => {
    expect(crm.env).toMatchObject({ SCRM_CRM: 'salesforce', SALESFORCE_INTEGRATION_USER_ID: LOCAL_SALESFORCE_INTEGRATION_USER_ID, SALESFORCE_LOGIN_URL: crm.url });
  });

  it("our create comes back as ours; a sales user's edit at the time given, by that user, with the name nested", async () => {
    const id = await contact('Mei', 'new customer');
    const at = Date.now() - 5000;
    await crm.twoWay.editContact(id, { firstName: 'May', customerLevel: 'gold', optedOut: true }, { at });
    await crm.twoWay.settled();
    const [created, edited] = of(id);
    expect(created?.path).toBe('/local/partner-events/salesforce');
    expect(created?.event).toMatchObject({
      version: '0',
      'detail-type': 'ContactChangeEvent',
      source: `aws.partner/salesforce.com/${LOCAL_SALESFORCE_ORG_ID}/${LOCAL_SALESFORCE_RELAY_ID}`,
      account: expect.stringMatching(/^\d{12}$/),
      time: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
      region: expect.any(String),
      resources: [],
      detail: { schemaId: expect.any(String), id: expect.any(String), payload: { Name: { FirstName: 'Mei', LastName: 'Chan' }, ChangeEventHeader: { entityName: 'Contact', changeType: 'CREATE', commitUser: LOCAL_SALESFORCE_INTEGRATION_USER_ID, changedFields: [] } } },
    });
    expect(contactChanges(id)[0]).toMatchObject({ crmId: id, changes: [{ field: 'firstName', value: 'Mei' }, { field: 'customerLevel', value: 'new customer' }], ours: true });
    expect(header(edited!)).toMatchObject({ changeType: 'UPDATE', commitUser: LOCAL_SALESFORCE_SALES_USER_ID, commitTimestamp: at, changedFields: expect.arrayContaining(['Name.FirstName', LEVEL, 'WhatsApp_Marketing_Opt_Out__c', 'LastModifiedDate']) });
    expect(edited!.events).toEqual([{ eventId: edited!.event.id, occurredAt: at, change: { kind: 'contact', crmId: id, changes: [{ field: 'firstName', value: 'May', at }, { field: 'customerLevel', value: 'gold', at }], optedOutAt: at } }]);
  });

  it('a failed POST is tried again with the same event; one record’s events arrive in order; paused deliveries are dropped', async () => {
    const id = await contact();
    await crm.twoWay.settled();
    received.length = 0;
    failNext.push(500, 503);
    await crm.twoWay.editContact(id, { firstName: 'One' });
    await crm.twoWay.editContact(id, { firstName: 'Two' });
    await crm.twoWay.editContact(id, { firstName: 'Three' });
    await crm.twoWay.settled();
    expect(contactChanges(id).map((c) => c.changes[0]?.value)).toEqual(['One', 'Two', 'Three']);
    const before = crm.twoWay.deliveries();
    crm.twoWay.pauseDeliveries(true);
    await crm.twoWay.editContact(id, { firstName: 'Missed' });
    crm.twoWay.pauseDeliveries(false);
    await crm.twoWay.settled();
    expect(crm.twoWay.deliveries()).toBe(before);
    expect(contactChanges(id).map((c) => c.changes[0]?.value)).not.toContain('Missed');
  });

  it("an agent's reply arrives as a reply with its Task id; our status write-back completes the Task and shows on replies()", async () => {
    const id = await contact();
    const replyId = await crm.twoWay.writeReply(id, 'Yes, the blue kettle is in stock.');
    await crm.twoWay.settled();
    const reply = of(replyId).flatMap((r) => r.events).map((e) => e.change).find((c): c is CrmReply => c.kind === 'reply');
    expect(reply).toMatchObject({ replyId, contactCrmId: id, text: 'Yes, the blue kettle is in stock.', crmUserId: LOCAL_SALESFORCE_AGENT_USER_ID });
    expect(await sf.twoWay.writeReplyStatus({ replyId, contactCrmId: id }, 'queued', { at: Date.parse('2026-12-02T08:59:00.000Z') })).toEqual({ calls: 1 });
    expect(crm.store.find('Task', replyId)?.fields).toMatchObject({ WhatsApp_Status__c: 'queued 2026-12-02T08:59:00.000Z', Status: 'Not Started' });
    await sf.twoWay.writeReplyStatus({ replyId, contactCrmId: id }, 'delivered', { at: Date.parse('2026-12-02T09:00:00.000Z'), wamid: 'wamid.X' });
    expect(crm.twoWay.replies().find((r) => r.id === replyId)).toEqual({ id: replyId, contactId: id, text: 'Yes, the blue kettle is in stock.', status: 'delivered 2026-12-02T09:00:00.000Z' });
    expect(crm.store.find('Task', replyId)?.fields.Status).toBe('Completed');
    await sf.twoWay.writeReplyStatus({ replyId, contactCrmId: id }, 'failed', { at: Date.parse('2026-12-02T09:01:00.000Z'), error: 'outside the 24-hour window' });
    expect(crm.twoWay.replies().find((r) => r.id === replyId)?.status).toBe('failed 2026-12-02T09:01:00.000Z: outside the 24-hour window');
    // Our write-backs come back as Task updates, which are no replies.
    await crm.twoWay.settled();
    expect(of(replyId).flatMap((r) => r.events)).toHaveLength(1);
    await expect(sf.twoWay.writeReplyStatus({ replyId: '00T5g0000009999AAA', contactCrmId: id }, 'sent', { at: Date.now() })).rejects.toMatchObject({ kind: 'permanent', message: expect.stringContaining('is gone') });
  });

  it('a Case closed by an agent comes as a ref (the event does not say whose), which resolve reads for its contact', async () => {
    const id = await contact();
    await sf.logMessage({ wamid: `wamid.case-${n}`, contactCrmId: id, direction: 'inbound', body: 'Broken kettle', timestamp: Date.now(), conversation: { id: `conv-${n}`, subject: 'Broken kettle', tags: ['complaint'], priority: 'high', startedAt: Date.now() } });
    await crm.twoWay.settled();
    received.length = 0;
    crm.closeCase(`conv-${n}`);
    await crm.twoWay.settled();
    const ref = received.flatMap((r) => r.events).find((e) => e.change.kind === 'ref');
    expect(ref?.change).toMatchObject({ kind: 'ref', module: 'Case', operation: 'closed' });
    const { changes } = await sf.twoWay.resolve([ref!.change as CrmRecordRef]);
    expect(changes.map((c) => c.change)).toEqual([{ kind: 'closed', recordType: 'case', recordId: (ref!.change as CrmRecordRef).ids[0], contactCrmId: id, status: 'Closed', at: ref!.occurredAt }]);
  });
});

describe("the adapter's two-way calls on the local org", () => {
  it('changesSince: a change whose delivery was missed is found by the catch-up, with its values, and an unanswered reply', async () => {
    const since = Date.now() - 1;
    const a = await contact('Ann');
    const b = await contact('Bea');
    crm.twoWay.pauseDeliveries(true);
    await crm.twoWay.editContact(b, { customerLevel: 'vip', optedOut: true });
    const replyId = await crm.twoWay.writeReply(a, 'Your order ships today.');
    crm.twoWay.pauseDeliveries(false);
    await crm.twoWay.settled();
    expect(of(b).flatMap((r) => r.events).some((e) => e.change.kind === 'contact' && e.change.changes.some((c) => c.value === 'vip'))).toBe(false);

    const { events, cursor, calls } = await sf.twoWay.changesSince(since, 100);
    expect(calls).toBe(2);
    const ofB = events.find((e) => e.change.kind === 'contact' && e.change.crmId === b);
    expect(ofB?.change).toMatchObject({ kind: 'contact', crmId: b, changes: [{ field: 'firstName', value: 'Bea' }, { field: 'customerLevel', value: 'vip' }], optedOutAt: expect.any(Number), ours: false, bsuid: expect.stringMatching(/^HK\./), phone: expect.stringMatching(/^\+852/) });
    expect(ofB?.eventId).toBe(`catchup:${b}:${ofB?.occurredAt}`);
    expect(events.find((e) => e.change.kind === 'contact' && e.change.crmId === a)?.change).toMatchObject({ ours: true });
    expect(events.find((e) => e.change.kind === 'reply')?.change).toEqual({ kind: 'reply', replyId, contactCrmId: a, text: 'Your order ships today.', crmUserId: LOCAL_SALESFORCE_AGENT_USER_ID, at: expect.any(Number) });
    expect(events.map((e) => e.occurredAt)).toEqual([...events.map((e) => e.occurredAt)].sort((x, y) => x - y));
    expect(cursor).toBeGreaterThanOrEqual(since);

    // Answered: the next catch-up does not offer the reply again; from the cursor on, nothing repeats.
    await sf.twoWay.writeReplyStatus({ replyId, contactCrmId: a }, 'sent', { at: Date.now() });
    expect((await sf.twoWay.changesSince(since, 100)).events.some((e) => e.change.kind === 'reply' && e.change.replyId === replyId)).toBe(false);
    const later = await sf.twoWay.changesSince(cursor, 100);
    expect(later.events.filter((e) => e.eventId === ofB?.eventId)).toEqual([]);
  });

  it('changesSince in pages of one: every change once, the cursor moving on', async () => {
    const since = Date.now() - 1;
    const ids = [await contact('P1'), await contact('P2'), await contact('P3')];
    const seen: string[] = [];
    let from = since;
    for (let page = 0; page < 20; page++) {
      const { events, cursor } = await sf.twoWay.changesSince(from, 1);
      seen.push(...events.flatMap((e) => (e.change.kind === 'contact' ? [e.change.crmId] : [])));
      if (events.length === 0 && cursor === from) break;
      from = cursor;
    }
    expect(seen.filter((id) => ids.includes(id))).toEqual(ids);
  });

  it('resolve reads contacts and reply tasks a gap event names; a deleted record reads as nothing', async () => {
    const a = await contact('Gap');
    const gone = await contact('Gone');
    crm.deleteRecord('Contact', gone);
    const replyId = await crm.twoWay.writeReply(a, 'Back in stock');
    const at = Date.now();
    const { changes, calls } = await sf.twoWay.resolve([
      { kind: 'ref', module: 'Contact', ids: [a, gone], operation: 'GAP_UPDATE', at },
      { kind: 'ref', module: 'Task', ids: [replyId], operation: 'GAP_CREATE', at },
      { kind: 'ref', module: 'Account', ids: ['0015g0000000001AAA'], operation: 'GAP_UPDATE', at },
      { kind: 'ref', module: 'Contact', ids: [a], operation: 'GAP_DELETE', at },
    ]);
    expect(calls).toBe(2);
    expect(changes.map((c) => c.change.kind).sort()).toEqual(['contact', 'reply']);
    expect(changes.find((c) => c.change.kind === 'contact')).toMatchObject({ eventId: expect.stringMatching(new RegExp(`^read:${a}:\\d+$`)), change: { crmId: a, changes: [{ field: 'firstName', value: 'Gap' }, { field: 'customerLevel', value: null }] } });
  });

  it('readContact: the two-way fields as they are now; a deleted contact is undefined', async () => {
    const id = await contact('Read');
    await crm.twoWay.editContact(id, { firstName: 'Reed' }, { at: Date.parse('2026-12-01T10:00:00.000Z') });
    expect(await sf.twoWay.readContact(id)).toEqual({
      change: { kind: 'contact', crmId: id, changes: [{ field: 'firstName', value: 'Reed', at: Date.parse('2026-12-01T10:00:00.000Z') }, { field: 'customerLevel', value: null, at: Date.parse('2026-12-01T10:00:00.000Z') }], bsuid: expect.any(String), phone: expect.any(String), ours: false },
      calls: 1,
    });
    crm.deleteRecord('Contact', id);
    expect(await sf.twoWay.readContact(id)).toEqual({ change: undefined, calls: 1 });
  });

  it('writeFields: the first name cut to 40, the level, a null clearing; ours when read back; a gone contact is a permanent error', async () => {
    const id = await contact();
    expect(await sf.twoWay.writeFields(id, { firstName: 'M'.repeat(50), customerLevel: 'vip' })).toEqual({ calls: 1 });
    expect(crm.contacts().find((c) => c.id === id)).toMatchObject({ firstName: 'M'.repeat(40), fields: { [LEVEL]: 'vip' } });
    expect((await sf.twoWay.readContact(id)).change?.ours).toBe(true);
    await sf.twoWay.writeFields(id, { firstName: null });
    expect(crm.contacts().find((c) => c.id === id)?.firstName).toBeUndefined();
    expect(await sf.twoWay.writeFields(id, {})).toEqual({ calls: 0 });
    crm.deleteRecord('Contact', id);
    const error = await sf.twoWay.writeFields(id, { firstName: 'Late' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrmError);
    expect(error).toMatchObject({ kind: 'permanent', message: expect.stringContaining(`contact ${id} is gone`) });
  });

  it('purchasesSince: each ordered SKU with its contact, time and amount; older orders left out', async () => {
    const id = await contact();
    const at = Date.now() - 5 * DAY_MS;
    await crm.twoWay.addPurchase(id, 'APL-IP15PM', at, 9999);
    await crm.twoWay.addPurchase(id, 'OLD-SKU', Date.now() - 100 * DAY_MS, 5);
    const { purchases, calls } = await sf.twoWay.purchasesSince(Date.now() - 90 * DAY_MS);
    expect(calls).toBe(1);
    expect(purchases.filter((p) => p.contactCrmId === id)).toEqual([{ contactCrmId: id, sku: 'APL-IP15PM', at, amount: 9999 }]);
  });
});

describe('merging contacts with the SOAP API', () => {
  it("merges the loser into the survivor: its tasks re-parented, it deleted, the merge listed; again, the survivor is the answer", async () => {
    const survivor = await contact('Chan Tai Man');
    const loser = await contact('Chan Tai Mun');
    const task = await crm.twoWay.writeReply(loser, 'Hello from the other record');
    expect(await sf.twoWay.mergeContacts(survivor, loser)).toEqual({ crmId: survivor, calls: 1 });
    expect(crm.contacts().map((c) => c.id)).toContain(survivor);
    expect(crm.contacts().map((c) => c.id)).not.toContain(loser);
    expect(crm.store.find('Task', task)?.fields.WhoId).toBe(survivor);
    expect(crm.twoWay.merges()).toContainEqual({ survivorId: survivor, loserId: loser });
    // A retry after a lost answer: refused for the loser gone, checked, done.
    expect(await sf.twoWay.mergeContacts(survivor, loser)).toEqual({ crmId: survivor, calls: 3 });
    expect(crm.twoWay.merges().filter((m) => m.loserId === loser)).toHaveLength(1);
    await crm.twoWay.settled();
    expect(of(loser).map((r) => header(r).changeType)).toContain('DELETE');
  });

  it('an answer lost after the merge committed: the HTTP layer sends it again, and the merge is reported done', async () => {
    const survivor = await contact('Lost');
    const loser = await contact('Lust');
    crm.setFaults([{ operation: 'contact-write', afterCommitDelayMs: 500 }]);
    const merged = await adapter({ timeoutMs: 150, maxTries: 3 }).twoWay.mergeContacts(survivor, loser);
    expect(merged.crmId).toBe(survivor);
    expect(merged.calls).toBeGreaterThanOrEqual(3);
    expect(crm.twoWay.merges().filter((m) => m.loserId === loser)).toEqual([{ survivorId: survivor, loserId: loser }]);
  });

  it('an expired session is renewed (INVALID_SESSION_ID fault); a survivor gone is a permanent error naming it', async () => {
    const survivor = await contact('Sess');
    const loser = await contact('Sass');
    crm.expireTokens();
    expect((await sf.twoWay.mergeContacts(survivor, loser)).crmId).toBe(survivor);
    const other = await contact('Other');
    const third = await contact('Third');
    crm.deleteRecord('Contact', other);
    await expect(sf.twoWay.mergeContacts(other, third)).rejects.toMatchObject({ kind: 'permanent', message: expect.stringContaining(`contact ${other} to merge into is gone`) });
    expect(crm.contacts().map((c) => c.id)).toContain(third);
    await expect(sf.twoWay.mergeContacts('not-an-id', third)).rejects.toMatchObject({ kind: 'permanent' });
  });
});
