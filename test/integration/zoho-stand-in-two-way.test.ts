/**
 * Two-way sync on Zoho against the local Zoho CRM alone: the adapter opens the notification
 * channel, a sales user's edit comes back as a callback that parses and resolves, and the
 * catch-up, write-backs, merge and purchases work on the stand-in as on Zoho.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LOCAL_ZOHO_CREDENTIALS, startZohoStandIn, type ZohoStandIn } from '#local/zoho/server';
import { LOCAL_USER } from '#local/zoho/store';
import type { CrmRecordRef } from '#shared/crm/two-way';
import { MemoryTokenCache } from '#shared/crm/token-cache';
import { ZohoAdapter } from '#shared/crm/zoho/adapter';
import { parseZohoNotification } from '#shared/crm/zoho/inbound';

const TOKEN = 'channel-token-for-tests';
const DAY_MS = 86_400_000;
let crm: ZohoStandIn;
let adapter: ZohoAdapter;
let receiver: Server;
let receiverUrl: string;
/** Callback bodies received, by path. */
const received: { path: string; body: Record<string, unknown> }[] = [];

beforeAll(async () => {
  crm = await startZohoStandIn({ searchLagMs: 20 });
  adapter = new ZohoAdapter({ accountsUrl: crm.url, credentials: async () => LOCAL_ZOHO_CREDENTIALS, tokenCache: new MemoryTokenCache(), backoffBaseMs: 5, rateLimitWaitMs: 5, integrationUserId: LOCAL_USER.id });
  receiver = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => {
      received.push({ path: req.url ?? '/', body: JSON.parse(text) as Record<string, unknown> });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const address = receiver.address();
  receiverUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  await adapter.twoWay.watch({ channelId: '1000000068001', token: TOKEN, notifyUrl: `${receiverUrl}/crm-events/zoho`, expiresAt: Date.now() + 6 * DAY_MS });
});
afterAll(async () => {
  await crm.stop();
  await new Promise((resolve) => receiver.close(resolve));
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

/** The refs of the callbacks received for this record. */
function refsFor(id: string): CrmRecordRef[] {
  return received.flatMap(({ body }) => {
    const parsed = parseZohoNotification(body, TOKEN);
    if ('error' in parsed) throw new Error(parsed.error);
    return parsed.events.map((e) => e.change as CrmRecordRef).filter((ref) => ref.ids.includes(id));
  });
}

async function raw(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const form = new URLSearchParams({ grant_type: 'refresh_token', client_id: LOCAL_ZOHO_CREDENTIALS.clientId, client_secret: LOCAL_ZOHO_CREDENTIALS.clientSecret, refresh_token: LOCAL_ZOHO_CREDENTIALS.refreshToken });
  const grant = (await (await fetch(`${crm.url}/oauth/v2/token`, { method: 'POST', body: form })).json()) as { access_token: string };
  const response = await fetch(`${crm.url}/crm/v8${path}`, { method, headers: { authorization: `Zoho-oauthtoken ${grant.access_token}`, 'content-type': 'application/json' }, ...(body !== undefined && { body: JSON.stringify(body) }) });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

describe('Zoho notification channel', () => {
  it('a sales edit is called back with the channel token, parses, and resolves to the change', async () => {
    const id = await contact();
    const before = crm.twoWay.deliveries();
    await crm.twoWay.editContact(id, { firstName: 'Wing', customerLevel: 'gold' });
    await crm.twoWay.settled();
    expect(crm.twoWay.deliveries()).toBeGreaterThan(before);
    const edits = refsFor(id).filter((ref) => ref.operation === 'update');
    expect(edits).toEqual([expect.objectContaining({ module: 'Contacts', ids: [id], fields: expect.arrayContaining(['First_Name', 'WhatsApp_Customer_Level']) })]);
    expect(received.every((r) => r.path === '/crm-events/zoho' && r.body['token'] === TOKEN && r.body['channel_id'] === '1000000068001')).toBe(true);

    const { changes, calls } = await adapter.twoWay.resolve(edits);
    expect(calls).toBe(1);
    expect(changes).toEqual([expect.objectContaining({ change: expect.objectContaining({ kind: 'contact', crmId: id, ours: false, changes: [expect.objectContaining({ field: 'firstName', value: 'Wing' }), expect.objectContaining({ field: 'customerLevel', value: 'gold' })] }) })]);
  });

  it("resolves our own write as ours, an opt-out with its time, and a reply Task as a reply", async () => {
    const id = await contact();
    await crm.twoWay.settled();
    const created = refsFor(id);
    expect(created.map((r) => r.operation)).toContain('insert');
    const own = await adapter.twoWay.resolve(created);
    expect(own.changes[0]?.change).toMatchObject({ kind: 'contact', crmId: id, ours: true });

    received.length = 0;
    const at = Date.now() - 60_000;
    await crm.twoWay.editContact(id, { optedOut: true }, { at });
    const replyId = await crm.twoWay.writeReply(id, 'Your order ships today');
    await crm.twoWay.settled();
    const resolved = await adapter.twoWay.resolve([...refsFor(id), ...refsFor(replyId)]);
    expect(resolved.changes.map((e) => e.change)).toEqual([
      expect.objectContaining({ kind: 'contact', crmId: id, optedOutAt: Math.floor(at / 1000) * 1000 + 999 }),
      expect.objectContaining({ kind: 'reply', replyId, contactCrmId: id, text: 'Your order ships today', crmUserId: expect.any(String) }),
    ]);
  });

  it('sends nothing while paused, and nothing to an expired channel', async () => {
    const id = await contact();
    await crm.twoWay.settled();
    received.length = 0;
    crm.twoWay.pauseDeliveries(true);
    await crm.twoWay.editContact(id, { firstName: 'Paused' });
    await crm.twoWay.settled();
    crm.twoWay.pauseDeliveries(false);
    expect(refsFor(id)).toEqual([]);

    const opened = await raw('POST', '/actions/watch', { watch: [{ channel_id: '1000000068009', events: ['Contacts.all'], channel_expiry: new Date(Date.now() + 1500).toISOString(), token: 'short', notify_url: `${receiverUrl}/short-lived` }] });
    expect(opened.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1600));
    await crm.twoWay.editContact(id, { firstName: 'Later' });
    await crm.twoWay.settled();
    expect(received.filter((r) => r.path === '/short-lived')).toEqual([]);
    expect(refsFor(id)).toHaveLength(1);
    expect((await raw('DELETE', '/actions/watch?channel_ids=1000000068009')).status).toBe(200);
  });

  it('renews the channel by updating it, caps the expiry at a week, and refuses bad channels as Zoho does', async () => {
    const renewed = await adapter.twoWay.watch({ channelId: '1000000068001', token: TOKEN, notifyUrl: `${receiverUrl}/crm-events/zoho`, expiresAt: Date.now() + 30 * DAY_MS });
    expect(renewed.calls).toBe(1);
    expect(renewed.expiresAt).toBeLessThanOrEqual(Date.now() + 7 * DAY_MS);
    expect(renewed.expiresAt).toBeGreaterThan(Date.now() + 6 * DAY_MS);
    const opened = await adapter.twoWay.watch({ channelId: '1000000068002', token: 'another', notifyUrl: `${receiverUrl}/other`, expiresAt: Date.now() + DAY_MS });
    expect(opened.calls).toBe(2);
    await expect(adapter.twoWay.watch({ channelId: 'abc', token: TOKEN, notifyUrl: receiverUrl, expiresAt: Date.now() + DAY_MS })).rejects.toThrow(/channel id/);

    const tooLong = await raw('POST', '/actions/watch', { watch: [{ channel_id: '1000000068003', events: ['Contacts.edit'], token: 'x'.repeat(51), notify_url: receiverUrl }] });
    expect(tooLong).toMatchObject({ status: 400, body: { watch: [{ code: 'INVALID_DATA', details: { api_name: 'token' }, status: 'error' }] } });
    const noUrl = await raw('POST', '/actions/watch', { watch: [{ channel_id: '1000000068003', events: ['Contacts.edit'] }] });
    expect(noUrl.body).toMatchObject({ watch: [{ code: 'MANDATORY_NOT_FOUND', details: { api_name: 'notify_url', json_path: '$.watch[0].notify_url' } }] });
    const badEvent = await raw('POST', '/actions/watch', { watch: [{ channel_id: '1000000068003', events: ['Contacts.explode'], notify_url: receiverUrl }] });
    expect(badEvent.body).toMatchObject({ watch: [{ code: 'INVALID_DATA', details: { api_name: 'events' } }] });
    // More than a week ahead: Zoho's default of one hour.
    const far = await raw('POST', '/actions/watch', { watch: [{ channel_id: '1000000068004', events: ['Deals.edit'], notify_url: receiverUrl, channel_expiry: new Date(Date.now() + 8 * DAY_MS).toISOString() }] });
    const expiry = Date.parse(String(((far.body['watch'] as Record<string, unknown>[])[0]?.['details'] as { events: { channel_expiry: string }[] }).events[0]?.channel_expiry));
    expect(expiry).toBeLessThanOrEqual(Date.now() + 3_600_000);
    const update = await raw('PUT', '/actions/watch', { watch: [{ channel_id: '1000000068099', events: ['Deals.edit'], notify_url: receiverUrl }] });
    expect(update).toMatchObject({ status: 400, body: { watch: [{ code: 'INVALID_DATA', details: { api_name: 'channel_id' } }] } });
    await raw('DELETE', '/actions/watch?channel_ids=1000000068002,1000000068004');
  });
});

describe('Zoho two-way reads and writes', () => {
  it('catches up by Modified_Time: contacts and replies after since, oldest first, with stable ids', async () => {
    const first = await contact();
    const second = await contact();
    const since = Date.now() - 10 * 60_000;
    await crm.twoWay.editContact(first, { firstName: 'Early' }, { at: since + 60_000 });
    await crm.twoWay.editContact(second, { customerLevel: 'vip' }, { at: since + 120_000 });
    const replyId = await crm.twoWay.writeReply(first, 'Thanks!');
    const found = await adapter.twoWay.changesSince(since, 1000);
    const mine = found.events.filter((e) => [first, second, replyId].includes(e.change.kind === 'contact' ? e.change.crmId : e.change.kind === 'reply' ? e.change.replyId : ''));
    expect(mine.map((e) => e.eventId)).toEqual([`catchup:${first}:${since + 60_000 - ((since + 60_000) % 1000)}`, `catchup:${second}:${since + 120_000 - ((since + 120_000) % 1000)}`, expect.stringMatching(new RegExp(`^catchup:${replyId}:`))]);
    expect(found.cursor).toBe(found.events.at(-1)?.occurredAt);
    const later = await adapter.twoWay.changesSince(found.cursor, 1000);
    expect(later.events.map((e) => e.eventId)).not.toContain(mine[0]?.eventId);
    const firstOnly = await adapter.twoWay.changesSince(since, 1);
    expect(firstOnly.events.length).toBeGreaterThanOrEqual(1);
    await expect(adapter.twoWay.changesSince(since, 0)).rejects.toThrow(/limit/);
  });

  it('writes two-way fields and a reply status (the Task done once sent)', async () => {
    const id = await contact();
    await adapter.twoWay.writeFields(id, { firstName: 'Ka Yan', customerLevel: null });
    expect(crm.contacts().find((c) => c.id === id)).toMatchObject({ firstName: 'Ka Yan', fields: { WhatsApp_Customer_Level: null } });
    expect(await adapter.twoWay.writeFields(id, {})).toEqual({ calls: 0 });
    const replyId = await crm.twoWay.writeReply(id, 'Hello');
    await adapter.twoWay.writeReplyStatus({ replyId, contactCrmId: id }, 'delivered', { at: Date.parse('2026-12-02T09:00:00Z'), wamid: 'wamid.1' });
    expect(crm.twoWay.replies().find((r) => r.id === replyId)).toMatchObject({ status: 'delivered', text: 'Hello' });
    const task = crm.store.find('Tasks', replyId);
    expect(task?.fields).toMatchObject({ WhatsApp_Status: 'delivered 2026-12-02T09:00:00.000Z wamid.1', Status: 'Completed' });
    await expect(adapter.twoWay.writeReplyStatus({ replyId: '5725767999999999999', contactCrmId: id }, 'sent', { at: Date.now() })).rejects.toThrow(/gone/);
  });

  it('merges with Zoho (the master survives, related records move), again without harm', async () => {
    const survivor = await contact('Keep');
    const loser = await contact('Lose');
    const replyId = await crm.twoWay.writeReply(loser, 'On the loser');
    expect(await adapter.twoWay.mergeContacts(survivor, loser)).toMatchObject({ crmId: survivor });
    expect(crm.contacts().map((c) => c.id)).not.toContain(loser);
    expect(crm.twoWay.merges()).toContainEqual({ survivorId: survivor, loserId: loser });
    expect(crm.twoWay.replies().find((r) => r.id === replyId)?.contactId).toBe(survivor);
    expect(await adapter.twoWay.mergeContacts(survivor, loser)).toMatchObject({ crmId: survivor });
    await expect(adapter.twoWay.mergeContacts(survivor, survivor)).rejects.toThrow(/different/);
  });

  it('reads purchases from won deals with a SKU, dated by the closing day', async () => {
    const id = await contact();
    const at = Date.parse('2026-11-20T15:30:00Z');
    await crm.twoWay.addPurchase(id, 'SKU-42', at, 199);
    const { purchases } = await adapter.twoWay.purchasesSince(at - DAY_MS);
    expect(purchases).toContainEqual({ contactCrmId: id, sku: 'SKU-42', at: Date.parse('2026-11-20T00:00:00Z'), amount: 199 });
    // Our own purchase-intent deals (Qualification) are no purchases.
    await adapter.createOpportunity({ opportunityId: `intent-${run}`, contactCrmId: id, sku: 'SKU-7', createdAt: Date.now() });
    expect((await adapter.twoWay.purchasesSince(Date.now() - 60_000)).purchases.filter((p) => p.sku === 'SKU-7')).toEqual([]);
  });
});
