/**
 * Two-way sync on HubSpot against the local HubSpot alone (SY-3, ID-3, ID-5): a sales edit and an
 * agent's reply come back as webhooks signed v3 with the app's client secret — checked here with
 * the receiver's own verify function — and the adapter's catch-up, write-backs, merge and
 * purchases work on the stand-in as on HubSpot.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LOCAL_HUBSPOT_APP_ID, LOCAL_HUBSPOT_CLIENT_SECRET, LOCAL_HUBSPOT_TOKEN, startHubSpotStandIn, type HubSpotStandIn } from '#local/hubspot/stand-in';
import { HubSpotAdapter } from '#shared/crm/hubspot/adapter';
import { parseHubSpotEvents, verifyHubSpotSignature } from '#shared/crm/hubspot/inbound';
import type { CrmContactChange, CrmEvent, CrmReply } from '#shared/crm/two-way';

const LEVEL = 'whatsapp_customer_level';
const DAY_MS = 86_400_000;
let crm: HubSpotStandIn;
let adapter: HubSpotAdapter;
let receiver: Server;
/** Deliveries received: verified, and their events parsed. */
const received: { verified: ReturnType<typeof verifyHubSpotSignature>; events: CrmEvent[]; attempt: number }[] = [];
/** Answers the receiver gives next (then 200). */
const failNext: number[] = [];

beforeAll(async () => {
  crm = await startHubSpotStandIn({ searchLagMs: 0, deliveryRetryMs: 10 });
  adapter = new HubSpotAdapter({ baseUrl: crm.url, accessToken: LOCAL_HUBSPOT_TOKEN, backoffBaseMs: 5 });
  receiver = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => {
      const fail = failNext.shift();
      if (fail) return void res.writeHead(fail).end();
      const header = (name: string) => (typeof req.headers[name] === 'string' ? (req.headers[name] as string) : undefined);
      const verified = verifyHubSpotSignature({ method: req.method ?? '', uri: `https://${req.headers.host}${req.url}`, body: text, timestamp: header('x-hubspot-request-timestamp'), signature: header('x-hubspot-signature-v3'), secret: LOCAL_HUBSPOT_CLIENT_SECRET, now: Date.now() });
      const body = JSON.parse(text) as { attemptNumber: number }[];
      const parsed = parseHubSpotEvents(body, { customerLevelProperty: LEVEL, appId: LOCAL_HUBSPOT_APP_ID });
      if ('error' in parsed) throw new Error(parsed.error);
      received.push({ verified, events: parsed.events, attempt: body[0]?.attemptNumber ?? -1 });
      res.writeHead(req.url === '/crm-events/hubspot' ? 200 : 404).end();
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
  await crm.twoWay.settled();
  received.length = 0;
});

const run = Date.now().toString().slice(-7);
let n = 0;
async function contact(firstName = 'Mei'): Promise<string> {
  n += 1;
  const { crmId } = await adapter.upsertContact({ contactId: `tw-${run}-${n}`, bsuid: `HK.tw${run}${n}`, phone: `+8529${run}${String(n).padStart(3, '0')}`, profileName: `${firstName} Chan` });
  return crmId;
}
const eventsFor = (id: string) => received.flatMap((r) => r.events).filter((e) => ('crmId' in e.change ? e.change.crmId : 'contactCrmId' in e.change ? e.change.contactCrmId : '') === id);

describe('HubSpot webhooks from the stand-in', () => {
  it('the env points the stack at the app: client secret and app id', () => {
    expect(crm.env).toMatchObject({ HUBSPOT_CLIENT_SECRET: LOCAL_HUBSPOT_CLIENT_SECRET, HUBSPOT_APP_ID: LOCAL_HUBSPOT_APP_ID, HUBSPOT_API_BASE: crm.url });
  });

  it("a sales user's edit is delivered signed v3, at the time given, not ours; our own write comes back as ours", async () => {
    const id = await contact();
    await crm.twoWay.settled();
    // Our create's first name came back marked as our own write.
    expect(eventsFor(id).map((e) => (e.change as CrmContactChange).ours)).toEqual([true]);
    const before = crm.twoWay.deliveries();
    const at = Date.now() - 1000;
    await crm.twoWay.editContact(id, { firstName: 'Wing', customerLevel: 'gold', optedOut: true }, { at, userId: '42' });
    await crm.twoWay.settled();
    expect(crm.twoWay.deliveries()).toBe(before + 1);
    expect(received.every((r) => r.verified.ok)).toBe(true);
    const changes = eventsFor(id).slice(1).map((e) => e.change as CrmContactChange);
    expect(changes).toEqual([
      { kind: 'contact', crmId: id, changes: [{ field: 'firstName', value: 'Wing', at }] },
      { kind: 'contact', crmId: id, changes: [{ field: 'customerLevel', value: 'gold', at }] },
      { kind: 'contact', crmId: id, changes: [], optedOutAt: at },
    ]);
    expect(crm.contacts().find((c) => c.id === id)).toMatchObject({ firstName: 'Wing', fields: { [LEVEL]: 'gold', whatsapp_marketing_opt_out: 'true' } });
    expect(crm.hub.state().contacts.find((c) => c.id === id)?.updatedAt).toBe(new Date(at).toISOString());
  });

  it('a failed POST is tried again with the next attempt number; paused deliveries are dropped', async () => {
    const id = await contact();
    await crm.twoWay.settled();
    received.length = 0;
    failNext.push(500, 503);
    await crm.twoWay.editContact(id, { firstName: 'Retry' });
    await crm.twoWay.settled();
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ attempt: 2, verified: { ok: true } });
    crm.twoWay.pauseDeliveries(true);
    await crm.twoWay.editContact(id, { firstName: 'Missed' });
    crm.twoWay.pauseDeliveries(false);
    await crm.twoWay.settled();
    expect(received).toHaveLength(1);
  });

  it("an agent's reply arrives as a reply with its id; its status written back shows on replies()", async () => {
    const id = await contact();
    const replyId = await crm.twoWay.writeReply(id, 'Yes, the blue kettle is in stock.', { userId: '7' });
    await crm.twoWay.settled();
    const reply = eventsFor(id).map((e) => e.change).find((c): c is CrmReply => c.kind === 'reply');
    expect(reply).toMatchObject({ replyId, contactCrmId: id, text: 'Yes, the blue kettle is in stock.', crmUserId: '7' });
    const { calls } = await adapter.twoWay.writeReplyStatus({ replyId, contactCrmId: id }, 'delivered', { at: Date.parse('2026-12-02T09:00:00.000Z'), wamid: 'wamid.X' });
    expect(calls).toBe(1);
    expect(crm.twoWay.replies().find((r) => r.id === replyId)).toEqual({ id: replyId, contactId: id, text: 'Yes, the blue kettle is in stock.', status: 'delivered 2026-12-02T09:00:00.000Z' });
    await adapter.twoWay.writeReplyStatus({ replyId, contactCrmId: id }, 'failed', { at: Date.parse('2026-12-02T09:01:00.000Z'), error: 'outside the 24-hour window' });
    expect(crm.twoWay.replies().find((r) => r.id === replyId)?.status).toBe('failed 2026-12-02T09:01:00.000Z: outside the 24-hour window');
  });

  it('a deal moved to closed won is read for its contact', async () => {
    const id = await contact();
    const { crmId: dealId } = await adapter.createOpportunity({ opportunityId: `wamid.deal-${run}`, contactCrmId: id, sku: 'KETTLE-BLUE', createdAt: Date.now() });
    await crm.twoWay.settled();
    received.length = 0;
    crm.hub.edit('deals', dealId, { dealstage: 'closedwon' }, { changeSource: 'CRM_UI', sourceId: 'userId:1', userId: 1 });
    await crm.twoWay.settled();
    const ref = received.flatMap((r) => r.events).find((e) => e.change.kind === 'ref');
    expect(ref?.change).toMatchObject({ kind: 'ref', module: 'deals', ids: [dealId] });
    const { changes } = await adapter.twoWay.resolve([ref!.change as Extract<CrmEvent['change'], { kind: 'ref' }>]);
    expect(changes.map((c) => c.change)).toEqual([{ kind: 'closed', recordType: 'deal', recordId: dealId, contactCrmId: id, status: 'closedwon', at: ref!.occurredAt }]);
  });
});

describe("the adapter's two-way calls on the stand-in", () => {
  it('changesSince: contacts modified after a time, oldest first, with values, identities and an unanswered reply', async () => {
    const since = Date.now() - 1;
    const a = await contact('Ann');
    const b = await contact('Bea');
    await crm.twoWay.editContact(b, { customerLevel: 'vip', optedOut: true }, { at: Date.now() + 5 });
    const replyId = await crm.twoWay.writeReply(a, 'Your order ships today.');
    const { events, cursor, calls } = await adapter.twoWay.changesSince(since, 100);
    expect(calls).toBe(2);
    const mine = events.filter((e) => ['contact', 'reply'].includes(e.change.kind) && [a, b].includes('crmId' in e.change ? e.change.crmId : (e.change as CrmReply).contactCrmId));
    const contactOf = (id: string) => mine.find((e) => e.change.kind === 'contact' && e.change.crmId === id)!;
    expect(contactOf(b).change).toMatchObject({ kind: 'contact', crmId: b, changes: [{ field: 'firstName', value: 'Bea' }, { field: 'customerLevel', value: 'vip' }], optedOutAt: contactOf(b).occurredAt, phone: expect.stringMatching(/^\+852/), bsuid: expect.stringMatching(/^HK\./) });
    expect(contactOf(a).eventId).toBe(`catchup:${a}:${contactOf(a).occurredAt}`);
    expect(mine.find((e) => e.change.kind === 'reply')?.change).toMatchObject({ kind: 'reply', replyId, contactCrmId: a, text: 'Your order ships today.', crmUserId: '1' });
    expect(events.map((e) => e.occurredAt)).toEqual([...events.map((e) => e.occurredAt)].sort((x, y) => x - y));
    expect(cursor).toBeGreaterThanOrEqual(since);
    // Answered: the next catch-up does not offer the reply again.
    await adapter.twoWay.writeReplyStatus({ replyId, contactCrmId: a }, 'sent', { at: Date.now() });
    const again = await adapter.twoWay.changesSince(since, 100);
    expect(again.events.some((e) => e.change.kind === 'reply' && e.change.replyId === replyId)).toBe(false);
    // A small limit pages and stops there.
    expect((await adapter.twoWay.changesSince(since, 1)).events.filter((e) => e.change.kind === 'contact')).toHaveLength(1);
    await expect(adapter.twoWay.changesSince(since, 0)).rejects.toThrow(/positive whole limit/);
  });

  it('writeFields: first name and customer level, null clears; a contact gone is a clear error', async () => {
    const id = await contact();
    expect(await adapter.twoWay.writeFields(id, { firstName: 'May', customerLevel: 'gold' })).toEqual({ calls: 1 });
    expect(crm.contacts().find((c) => c.id === id)).toMatchObject({ firstName: 'May', fields: { [LEVEL]: 'gold' } });
    await adapter.twoWay.writeFields(id, { customerLevel: null });
    expect(crm.contacts().find((c) => c.id === id)?.fields[LEVEL]).toBeUndefined();
    expect(await adapter.twoWay.writeFields(id, {})).toEqual({ calls: 0 });
    await expect(adapter.twoWay.writeFields('999999999', { firstName: 'X' })).rejects.toThrow(/gone/);
  });

  it('mergeContacts: the loser is gone, its records move to the survivor, a retry answers the survivor', async () => {
    const survivor = await contact('Chan');
    const loser = await contact('Chun');
    const { crmId: message } = await adapter.logMessage({ wamid: `wamid.merge-${run}`, contactCrmId: loser, direction: 'inbound', body: 'hello', timestamp: Date.now() });
    const merged = await adapter.twoWay.mergeContacts(survivor, loser);
    expect(merged.crmId).toBe(survivor);
    expect(crm.contacts().some((c) => c.id === loser)).toBe(false);
    expect(crm.twoWay.merges()).toContainEqual({ survivorId: survivor, loserId: loser });
    expect(crm.messages().find((m) => m.id === message)?.contactId).toBe(survivor);
    expect((await adapter.twoWay.mergeContacts(survivor, loser)).crmId).toBe(survivor);
    expect(await adapter.twoWay.mergeContacts(survivor, survivor)).toEqual({ crmId: survivor, calls: 0 });
  });

  it('purchasesSince: each SKU of the orders placed after a time, for the contact, with the amount', async () => {
    const id = await contact();
    const since = Date.now() - 90 * DAY_MS;
    await crm.twoWay.addPurchase(id, 'APL-IP15PM', Date.now() - 30 * DAY_MS, 9999);
    await crm.twoWay.addPurchase(id, 'OLD-SKU', Date.now() - 100 * DAY_MS, 5);
    const { purchases } = await adapter.twoWay.purchasesSince(since);
    const mine = purchases.filter((p) => p.contactCrmId === id);
    expect(mine).toEqual([{ contactCrmId: id, sku: 'APL-IP15PM', at: expect.any(Number), amount: 9999 }]);
    expect(Math.abs(mine[0]!.at - (Date.now() - 30 * DAY_MS))).toBeLessThan(60_000);
  });
});
