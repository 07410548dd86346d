/**
 * The CRM contract (SY-1, SY-2, SY-4): every adapter, run by the whole local stack against its
 * stand-in, passes the same scenarios — a new customer, concurrent first messages, order, a
 * number change, a BSUID-only customer, a sales-made contact, a repeated job, a crash after the
 * CRM wrote, 429, 5xx, and a 4xx to the DLQ and back by redrive. The stand-ins are driven only
 * through the neutral interface (local/crm/stand-in.ts), so a scenario means the same for all.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CrmStandIn, StandInContact } from '#local/crm/stand-in';
import type { LocalStack } from '#local/stack';
import { newWamid, numberChange, textMessage } from '#local/webhooks';
import { messageSyncJob } from '#shared/queue/sync-jobs';
import { CRM_KINDS, type CrmKind } from '#shared/resources';
import { keys } from '#shared/store/keys';
import { messageRow, newBsuid, newCustomer, newPhone, queueDepths, send, startSyncStack, waitSynced, type TestCustomer } from '../helpers/sync-stack.ts';
import { until } from '../helpers/until.ts';

const secondsAgo = (s: number) => Math.floor(Date.now() / 1000) * 1000 - s * 1000;

describe.each(CRM_KINDS.map((kind) => [kind]))('CRM contract: %s', (kind: CrmKind) => {
  let stack: LocalStack;
  let crm: CrmStandIn;
  const synced = new Map<string, number>();

  beforeAll(async () => {
    stack = await startSyncStack({
      // A lost answer is one the adapter stops waiting for after 1 s; automations stay out of the CRM's way.
      env: { SCRM_CRM: kind, CRM_TIMEOUT_MS: '1000', SCRM_LOCAL_AUTOMATIONS: 'off' },
      onSynced: (info) => synced.set(info.wamid, info.calls),
    });
    crm = stack.crmStandIn!;
    expect(crm.kind).toBe(kind);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const contactOf = (customer: TestCustomer): StandInContact[] => crm.contacts().filter((c) => c.bsuid === customer.bsuid || (customer.e164 !== undefined && c.phone === customer.e164));
  /** Each message logged once, on `contactId`, and its row synced with that record's id in this CRM. */
  async function expectLoggedOnce(wamids: readonly string[], contactId: string): Promise<void> {
    for (const wamid of wamids) {
      const logged = crm.messages().filter((m) => m.wamid === wamid);
      expect(logged, `messages logged for ${wamid}`).toHaveLength(1);
      expect(logged[0]!.contactId).toBe(contactId);
      const row = await messageRow(stack, wamid);
      expect(row?.syncState).toBe('synced');
      expect(row?.crmIds?.[kind]).toBe(logged[0]!.id);
    }
  }
  const drained = () =>
    until(async () => {
      const depth = await queueDepths(stack);
      return depth.queued === 0 && depth.inFlight === 0;
    }, 15_000, { what: 'the sync queue to drain' });

  it('a new customer: one contact with the WhatsApp identity and lead source, the message logged once on it, our ids kept by CRM kind', async () => {
    const customer = newCustomer({ name: 'Mei Ling Chan' });
    const wamid = newWamid();
    await send(stack, textMessage(customer, 'Hi, is the blue kettle in stock?', { wamid, at: secondsAgo(1) }));
    const [row] = await waitSynced(stack, [wamid]);

    const contacts = contactOf(customer);
    expect(contacts).toHaveLength(1);
    expect(contacts[0]).toMatchObject({ bsuid: customer.bsuid, phone: customer.e164 });
    if (crm.capabilities.salesContacts) expect(contacts[0]!.leadSource).toBe('WhatsApp');
    await expectLoggedOnce([wamid], contacts[0]!.id);
    expect(crm.messages().find((m) => m.wamid === wamid)?.body).toContain('blue kettle');
    const ours = await stack.runtime.store.contacts.get(row!.contactId);
    expect(ours?.crmIds?.[kind]?.id).toBe(contacts[0]!.id);
    expect(row!.syncedAt! - row!.receivedAt).toBeLessThan(3_000); // SY-1
  });

  it('three first messages of a new customer at once: one contact, three messages', async () => {
    const customer = newCustomer();
    const wamids = [newWamid(), newWamid(), newWamid()];
    const base = secondsAgo(10);
    await Promise.all(wamids.map((wamid, i) => send(stack, textMessage(customer, `first ${i + 1}`, { wamid, at: base + i * 1000 }))));
    await waitSynced(stack, wamids);

    const contacts = contactOf(customer);
    expect(contacts).toHaveLength(1);
    await expectLoggedOnce(wamids, contacts[0]!.id);
  });

  it("logs one customer's messages in the order they arrived", async () => {
    const customer = newCustomer();
    const wamids = Array.from({ length: 5 }, () => newWamid());
    const base = secondsAgo(30);
    for (const [i, wamid] of wamids.entries()) await send(stack, textMessage(customer, `message ${i + 1}`, { wamid, at: base + i * 1000 }));
    await waitSynced(stack, wamids);
    const [contact] = contactOf(customer);
    await expectLoggedOnce(wamids, contact!.id);
    expect(crm.messages().filter((m) => wamids.includes(m.wamid)).map((m) => m.wamid)).toEqual(wamids);
  });

  it('costs at most 2 CRM calls per message for a contact already in the CRM', async () => {
    const customer = newCustomer();
    const first = newWamid();
    await send(stack, textMessage(customer, 'first', { wamid: first, at: secondsAgo(20) }));
    await waitSynced(stack, [first]);
    const later = [newWamid(), newWamid(), newWamid()];
    for (const [i, wamid] of later.entries()) await send(stack, textMessage(customer, `later ${i}`, { wamid, at: secondsAgo(10 - i) }));
    await waitSynced(stack, later);
    // The sync worker reports each outcome after marking the row: the last report may trail the row.
    await until(() => later.every((wamid) => synced.has(wamid)) || undefined, 5_000, { what: 'the sync outcomes reported' });
    for (const wamid of later) expect(synced.get(wamid), wamid).toBeLessThanOrEqual(2);
  });

  it('a number change keeps the same CRM contact and moves it to the new phone and BSUID', async () => {
    const customer = newCustomer({ name: 'Wing Yee Lau' });
    const first = newWamid();
    await send(stack, textMessage(customer, 'Order 1042 please', { wamid: first, at: secondsAgo(30) }));
    await waitSynced(stack, [first]);
    const [before] = contactOf(customer);
    expect(before).toBeDefined();

    const next = newPhone();
    const nextBsuid = newBsuid();
    const change = newWamid();
    await send(stack, numberChange(customer, next.waId, nextBsuid, { wamid: change, at: secondsAgo(20) }));
    const after = newWamid();
    await send(stack, textMessage({ ...customer, waId: next.waId, bsuid: nextBsuid }, 'This is my new number', { wamid: after, at: secondsAgo(10) }));
    await waitSynced(stack, [first, change, after]);

    const now = crm.contacts().filter((c) => c.id === before!.id);
    expect(now[0]).toMatchObject({ phone: next.e164, bsuid: nextBsuid });
    expect(crm.contacts().filter((c) => c.phone === next.e164 || c.bsuid === nextBsuid)).toHaveLength(1);
    await expectLoggedOnce([first, change, after], before!.id);
  });

  it('a customer who shares only a BSUID gets a contact without a WhatsApp phone', async () => {
    const customer = newCustomer({ phone: false, name: 'Kit' });
    const wamid = newWamid();
    await send(stack, textMessage(customer, 'no number shared', { wamid, at: secondsAgo(1) }));
    await waitSynced(stack, [wamid]);
    const contacts = contactOf(customer);
    expect(contacts).toHaveLength(1);
    expect(contacts[0]!.phone).toBeUndefined();
    await expectLoggedOnce([wamid], contacts[0]!.id);
  });

  for (const field of ['phone', 'mobile'] as const) {
    it(`matches a contact the sales team made with the number in the CRM's ${field} field instead of creating a second one`, async (context) => {
      if (!crm.capabilities.salesContacts) return context.skip();
      const customer = newCustomer({ name: 'Tai Man Chan' });
      const salesId = await crm.createSalesContact({ phone: customer.e164!, field, firstName: 'Tai Man', lastName: 'CHAN (Kowloon store)' });
      const wamid = newWamid();
      await send(stack, textMessage(customer, 'Hi, I visited your store yesterday', { wamid, at: secondsAgo(2) }));
      await waitSynced(stack, [wamid]);

      const matched = crm.contacts().filter((c) => c.id === salesId);
      expect(matched[0]).toMatchObject({ bsuid: customer.bsuid, phone: customer.e164, firstName: 'Tai Man', lastName: 'CHAN (Kowloon store)' });
      expect(matched[0]!.leadSource).not.toBe('WhatsApp');
      expect(crm.contacts().filter((c) => c.salesPhones.includes(customer.e164!) || c.phone === customer.e164)).toHaveLength(1);
      await expectLoggedOnce([wamid], salesId);
    });
  }

  it('a repeated job after the message synced makes no CRM request and no second record', async () => {
    const customer = newCustomer();
    const wamid = newWamid();
    await send(stack, textMessage(customer, 'only once please', { wamid, at: secondsAgo(3) }));
    const [row] = await waitSynced(stack, [wamid]);
    await drained();
    crm.resetRequests();
    await stack.runtime.syncQueue.enqueue([messageSyncJob(wamid, row!.contactId)], { redrive: `again-${wamid}` });
    await drained();
    expect(crm.requests()['total'] ?? 0).toBe(0);
    expect(crm.messages().filter((m) => m.wamid === wamid)).toHaveLength(1);
  });

  it('a crash after the CRM wrote (the row never marked synced) logs the message once when the job comes again', async () => {
    const customer = newCustomer();
    const wamid = newWamid();
    await send(stack, textMessage(customer, 'crash after the CRM write', { wamid, at: secondsAgo(3) }));
    const [row] = await waitSynced(stack, [wamid]);
    await stack.runtime.clients.documents.send(
      new UpdateCommand({
        TableName: stack.runtime.store.table.name,
        Key: keys.message(wamid),
        UpdateExpression: 'SET syncState = :pending REMOVE crmIds, syncedAt',
        ExpressionAttributeValues: { ':pending': 'pending' },
      }),
    );
    await stack.runtime.syncQueue.enqueue([messageSyncJob(wamid, row!.contactId)], { redrive: `after-crash-${wamid}` });
    const [again] = await waitSynced(stack, [wamid]);
    expect(again!.crmIds?.[kind]).toBe(row!.crmIds?.[kind]);
    expect(crm.messages().filter((m) => m.wamid === wamid)).toHaveLength(1);
    expect(contactOf(customer)).toHaveLength(1);
  });

  it('a write whose answer is lost (the CRM committed, the adapter timed out) is not written twice', async () => {
    const customer = newCustomer();
    const first = newWamid();
    await send(stack, textMessage(customer, 'warm up', { wamid: first, at: secondsAgo(10) }));
    await waitSynced(stack, [first]);
    crm.setFaults([{ operation: 'message-write', afterCommitDelayMs: 2_500 }]);
    const wamid = newWamid();
    await send(stack, textMessage(customer, 'the answer to this one is lost', { wamid, at: secondsAgo(1) }));
    await waitSynced(stack, [wamid], 20_000);
    const [contact] = contactOf(customer);
    await expectLoggedOnce([first, wamid], contact!.id);
  });

  it('waits out a 429 and syncs once, after the pause the CRM asked for', async () => {
    const customer = newCustomer();
    const warm = newWamid();
    await send(stack, textMessage(customer, 'warm up', { wamid: warm, at: secondsAgo(10) }));
    await waitSynced(stack, [warm]);
    crm.setFaults([{ operation: 'message-write', status: 429, retryAfterSeconds: 1 }]);
    const wamid = newWamid();
    await send(stack, textMessage(customer, 'rate limited once', { wamid, at: secondsAgo(1) }));
    const [row] = await waitSynced(stack, [wamid], 20_000);
    expect(row!.syncedAt! - row!.receivedAt).toBeGreaterThanOrEqual(1_000);
    const [contact] = contactOf(customer);
    await expectLoggedOnce([wamid], contact!.id);
  });

  it('retries a 5xx and syncs once', async () => {
    const customer = newCustomer();
    crm.setFaults([{ operation: 'message-write', status: 503 }]);
    const wamid = newWamid();
    await send(stack, textMessage(customer, 'the CRM hiccups', { wamid, at: secondsAgo(1) }));
    await waitSynced(stack, [wamid], 20_000);
    const [contact] = contactOf(customer);
    await expectLoggedOnce([wamid], contact!.id);
  });

  it('parks a job the CRM rejects (4xx) in the DLQ with the reason kept, and a redrive syncs it once', async () => {
    await drained();
    const deadBefore = (await queueDepths(stack)).deadLetters;
    const customer = newCustomer();
    crm.setFaults([{ operation: 'message-write', status: 400 }]);
    const wamid = newWamid();
    await send(stack, textMessage(customer, 'rejected once', { wamid, at: secondsAgo(1) }));
    const failed = await until(async () => {
      const row = await messageRow(stack, wamid);
      return row?.syncState === 'failed' ? row : undefined;
    }, 10_000, { what: 'the message to be marked failed' });
    expect(failed.syncAttempts).toBe(1);
    expect(failed.syncError).toBeTruthy();
    await until(async () => (await queueDepths(stack)).deadLetters === deadBefore + 1, 5_000, { what: 'the job in the DLQ' });
    expect(crm.messages().filter((m) => m.wamid === wamid)).toHaveLength(0);

    crm.setFaults([]);
    const redriven = await stack.redrive();
    expect(redriven.redriven).toBeGreaterThanOrEqual(1);
    await waitSynced(stack, [wamid], 20_000);
    const [contact] = contactOf(customer);
    await expectLoggedOnce([wamid], contact!.id);
  });
});
