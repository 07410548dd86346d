/**
 * CRM sync end to end (SY-1, SY-2, identity rules of whatsapp-identity.md): signed webhooks into
 * the local stack, through the sync queue and the real sync function, into the local HubSpot.
 * Each test runs its own stack. Faults and failures: sync-faults.test.ts.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalStack, LocalStackOptions } from '#local/stack';
import { newWamid, numberChange, textMessage } from '#local/webhooks';
import { messageSyncJob } from '#shared/queue/sync-jobs';
import { keys } from '#shared/store/keys';
import {
  createSalesContact,
  crmCommunications,
  crmContacts,
  crmOf,
  expectLoggedOnce,
  messageRow,
  newCustomer,
  newPhone,
  newBsuid,
  queueDepths,
  send,
  startSyncStack,
  waitSynced,
} from '../helpers/sync-stack.ts';
import { until } from '../helpers/until.ts';

let stack: LocalStack | undefined;

async function start(options: Parameters<typeof startSyncStack>[0] = {}): Promise<LocalStack> {
  stack = await startSyncStack(options);
  return stack;
}

afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

/** Whole seconds, as WhatsApp timestamps are. */
const secondsAgo = (s: number) => Math.floor(Date.now() / 1000) * 1000 - s * 1000;

describe('CRM sync: contact and conversation', () => {
  it('turns a signed webhook into a CRM contact and one WhatsApp communication on it, within 3 s, and stores the CRM ids', async () => {
    const s = await start();
    const customer = newCustomer({ name: 'Mei Ling Chan' });
    const wamid = newWamid();
    const at = secondsAgo(5);
    await send(s, textMessage(customer, 'Is the blue one in stock?', { wamid, at }));

    const [row] = await waitSynced(s, [wamid]);
    const contacts = crmContacts(s);
    expect(contacts).toHaveLength(1);
    const [contact] = contacts;
    expect(contact!.properties).toMatchObject({
      whatsapp_user_id: customer.bsuid,
      whatsapp_phone: customer.e164,
      whatsapp_lead_source: 'WhatsApp',
      firstname: 'Mei',
      lastname: 'Ling Chan',
    });

    const [communication] = await expectLoggedOnce(s, [wamid], contact!.id);
    expect(crmCommunications(s)).toHaveLength(1);
    expect(communication!.properties).toMatchObject({
      hs_communication_channel_type: 'WHATS_APP',
      hs_communication_body: 'Is the blue one in stock?',
      hs_timestamp: new Date(at).toISOString(),
      whatsapp_message_id: wamid,
      whatsapp_direction: 'inbound',
    });
    expect(contact!.communicationIds).toEqual([communication!.id]);

    // Our side keeps the CRM ids: the message row and the contact.
    expect(row).toMatchObject({ syncState: 'synced', crmIds: { hubspot: communication!.id } });
    expect(row!.syncError).toBeUndefined();
    expect(row!.syncedAt! - row!.receivedAt).toBeLessThan(3_000); // SY-1
    const ours = await s.runtime.store.contacts.get(row!.contactId);
    expect(ours?.crmIds?.hubspot).toMatchObject({ id: contact!.id });
  });

  it('makes one CRM contact with three communications when a new customer’s first three messages arrive at once', async () => {
    const s = await start();
    const customer = newCustomer();
    const wamids = [newWamid(), newWamid(), newWamid()];
    const base = secondsAgo(10);
    await Promise.all(wamids.map((wamid, i) => send(s, textMessage(customer, `hello ${i}`, { wamid, at: base + i * 1000 }))));

    const rows = await waitSynced(s, wamids);
    expect(new Set(rows.map((r) => r.contactId)).size).toBe(1);
    const contacts = crmContacts(s);
    expect(contacts).toHaveLength(1);
    expect(contacts[0]!.properties['whatsapp_user_id']).toBe(customer.bsuid);
    await expectLoggedOnce(s, wamids, contacts[0]!.id);
    expect(crmCommunications(s)).toHaveLength(3);
    expect([...contacts[0]!.communicationIds].sort()).toEqual(rows.map((r) => r.crmIds?.hubspot).sort());
  });

  for (const field of ['phone', 'mobilephone'] as const) {
    it(`matches a contact the sales team created with the same number in \`${field}\` instead of creating a second one`, async () => {
      const s = await start();
      const customer = newCustomer({ name: 'Tai Man Chan' });
      // A sales user typed the customer in before the first WhatsApp message.
      const salesId = await createSalesContact(
        s,
        { firstname: 'Tai Man', lastname: 'CHAN (Kowloon store)', email: `${customer.bsuid.toLowerCase()}@example.com`, [field]: customer.e164! },
        field,
      );

      const wamid = newWamid();
      await send(s, textMessage(customer, 'Hi, I visited your store yesterday', { wamid, at: secondsAgo(2) }));
      const [row] = await waitSynced(s, [wamid]);

      const contacts = crmContacts(s);
      expect(contacts.map((c) => c.id)).toEqual([salesId]);
      const [contact] = contacts;
      expect(contact!.properties).toMatchObject({
        whatsapp_user_id: customer.bsuid,
        whatsapp_phone: customer.e164,
        [field]: customer.e164,
        // What sales typed stays; the lead source is first touch, and that was not WhatsApp.
        firstname: 'Tai Man',
        lastname: 'CHAN (Kowloon store)',
      });
      expect(contact!.properties['whatsapp_lead_source']).toBeUndefined();
      await expectLoggedOnce(s, [wamid], salesId);
      expect((await s.runtime.store.contacts.get(row!.contactId))?.crmIds?.hubspot?.id).toBe(salesId);
    });
  }

  it('creates a CRM contact without whatsapp_phone for a customer who shares only a BSUID', async () => {
    const s = await start();
    const customer = newCustomer({ phone: false, name: 'Kit' });
    expect(customer.waId).toBeUndefined();
    const wamid = newWamid();
    await send(s, textMessage(customer, 'Do you ship to Macau?', { wamid, at: secondsAgo(1) }));
    const [row] = await waitSynced(s, [wamid]);

    const contacts = crmContacts(s);
    expect(contacts).toHaveLength(1);
    const [contact] = contacts;
    expect(contact!.properties['whatsapp_user_id']).toBe(customer.bsuid);
    expect(contact!.properties).not.toHaveProperty('whatsapp_phone');
    expect(contact!.properties).not.toHaveProperty('mobilephone');
    expect(contact!.properties).not.toHaveProperty('phone');
    await expectLoggedOnce(s, [wamid], contact!.id);
    const ours = await s.runtime.store.contacts.get(row!.contactId);
    expect(ours?.phone).toBeUndefined();
    expect(ours?.crmIds?.hubspot?.id).toBe(contact!.id);
  });

  it('keeps the same CRM contact through a number change and moves it to the new phone and BSUID', async () => {
    const s = await start();
    const customer = newCustomer({ name: 'Wing Yee Lau' });
    const first = newWamid();
    await send(s, textMessage(customer, 'Order 1042 please', { wamid: first, at: secondsAgo(30) }));
    await waitSynced(s, [first]);
    const [before] = crmContacts(s);
    expect(before).toBeDefined();

    const next = newPhone();
    const nextBsuid = newBsuid();
    const change = newWamid();
    await send(s, numberChange(customer, next.waId, nextBsuid, { wamid: change, at: secondsAgo(20) }));
    const after = newWamid();
    await send(s, textMessage({ ...customer, waId: next.waId, bsuid: nextBsuid }, 'This is my new number', { wamid: after, at: secondsAgo(10) }));

    const rows = await waitSynced(s, [first, change, after]);
    expect(new Set(rows.map((r) => r.contactId)).size).toBe(1);
    const contacts = crmContacts(s);
    expect(contacts.map((c) => c.id)).toEqual([before!.id]);
    expect(contacts[0]!.properties).toMatchObject({ whatsapp_phone: next.e164, whatsapp_user_id: nextBsuid });
    await expectLoggedOnce(s, [first, change, after], before!.id);
    // The old identities are free in the CRM and still lead to the same customer on our side.
    expect(crmContacts(s, 'whatsapp_user_id', customer.bsuid)).toEqual([]);
    const ours = await s.runtime.store.contacts.get(rows[0]!.contactId);
    expect(ours).toMatchObject({ phone: next.e164, bsuid: nextBsuid, crmIds: { hubspot: { id: before!.id } } });
    expect(ours?.previousPhones).toEqual([customer.e164]);
    expect(ours?.previousBsuids).toEqual([customer.bsuid]);
  });
});

describe('CRM sync: order and cost', () => {
  it('logs one customer’s messages in the CRM in the order they were sent', async () => {
    const s = await start();
    const customer = newCustomer();
    const wamids = Array.from({ length: 5 }, () => newWamid());
    const base = secondsAgo(60);
    for (const [i, wamid] of wamids.entries()) {
      await send(s, textMessage(customer, `message ${i + 1}`, { wamid, at: base + i * 1000 }));
    }
    await waitSynced(s, wamids);

    const [contact] = crmContacts(s);
    const logged = await expectLoggedOnce(s, wamids, contact!.id);
    const byCreation = crmCommunications(s).sort((a, b) => Number(a.id) - Number(b.id));
    expect(byCreation.map((c) => c.properties['whatsapp_message_id'])).toEqual(wamids);
    expect(byCreation.map((c) => c.properties['hs_communication_body'])).toEqual(wamids.map((_, i) => `message ${i + 1}`));
    const times = logged.map((c) => Date.parse(c.properties['hs_timestamp']!));
    expect(times).toEqual(wamids.map((_, i) => base + i * 1000));
    const created = byCreation.map((c) => Date.parse(c.createdAt));
    expect(created).toEqual([...created].sort((a, b) => a - b));
  });

  it('costs at most 2 CRM calls per message for a contact already in the CRM', async () => {
    const synced: { wamid: string; calls: number }[] = [];
    const onSynced: LocalStackOptions['onSynced'] = (info) => synced.push({ wamid: info.wamid, calls: info.calls });
    const s = await start({ onSynced });
    const customer = newCustomer();
    const first = newWamid();
    await send(s, textMessage(customer, 'first', { wamid: first, at: secondsAgo(30) }));
    await waitSynced(s, [first]);

    const crm = crmOf(s);
    crm.resetStats();
    const burst = Array.from({ length: 6 }, () => newWamid());
    const base = secondsAgo(20);
    await Promise.all(burst.map((wamid, i) => send(s, textMessage(customer, `burst ${i}`, { wamid, at: base + i * 1000 }))));
    await waitSynced(s, burst);

    const stats = crm.stats();
    expect(stats['total'], JSON.stringify(stats)).toBeLessThanOrEqual(2 * burst.length);
    expect(stats['POST /crm/objects/{version}/communications']).toBe(burst.length);
    const perMessage = synced.filter((x) => burst.includes(x.wamid));
    expect(perMessage).toHaveLength(burst.length);
    for (const x of perMessage) expect(x.calls, x.wamid).toBeLessThanOrEqual(2);
    const [contact] = crmContacts(s);
    await expectLoggedOnce(s, [first, ...burst], contact!.id);
  });
});

describe('CRM sync: repeated jobs', () => {
  /** Waits until the sync queue has taken and finished every job in it. */
  const drained = (s: LocalStack) =>
    until(
      async () => {
        const depth = await queueDepths(s);
        return depth.queued === 0 && depth.inFlight === 0;
      },
      10_000,
      { what: 'the sync queue to drain' },
    );

  it('creates no second communication when the same sync job comes again after the message synced', async () => {
    const s = await start();
    const customer = newCustomer();
    const wamid = newWamid();
    await send(s, textMessage(customer, 'only once please', { wamid, at: secondsAgo(3) }));
    const [row] = await waitSynced(s, [wamid]);
    const crm = crmOf(s);
    crm.resetStats();

    await s.runtime.syncQueue.enqueue([messageSyncJob(wamid, row!.contactId)], { redrive: 'x' });
    await drained(s);

    expect(crmCommunications(s, wamid)).toHaveLength(1);
    expect(crmCommunications(s)).toHaveLength(1);
    expect(crm.stats()['total'] ?? 0).toBe(0); // a synced message is skipped before any CRM call
    expect(await messageRow(s, wamid)).toMatchObject({ syncState: 'synced', crmIds: row!.crmIds, syncedAt: row!.syncedAt });
  });

  it('creates no second communication when a repeated job finds the message not marked synced (a crash after the CRM write)', async () => {
    const s = await start();
    const customer = newCustomer();
    const wamid = newWamid();
    await send(s, textMessage(customer, 'crash after the CRM write', { wamid, at: secondsAgo(3) }));
    const [row] = await waitSynced(s, [wamid]);

    // As if the sync function died after HubSpot created the communication, before it stored the id.
    await s.runtime.clients.documents.send(
      new UpdateCommand({
        TableName: s.runtime.store.table.name,
        Key: keys.message(wamid),
        UpdateExpression: 'SET syncState = :pending REMOVE crmIds, syncedAt',
        ExpressionAttributeValues: { ':pending': 'pending' },
      }),
    );
    await s.runtime.syncQueue.enqueue([messageSyncJob(wamid, row!.contactId)], { redrive: 'after-crash' });
    const [again] = await waitSynced(s, [wamid]);

    expect(crmCommunications(s, wamid)).toHaveLength(1);
    expect(again!.crmIds?.hubspot).toBe(row!.crmIds?.hubspot);
    expect(crmContacts(s)).toHaveLength(1);
  });
});
