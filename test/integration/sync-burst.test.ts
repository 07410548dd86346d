/**
 * Burst batching (SY-5): a reply storm of known customers is synced through the batch endpoints
 * — one batch update of the contacts, one batch create of the messages — and still exactly once
 * and in order, also when a batch fails or holds a message the CRM already has.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalStack } from '#local/stack';
import { DEFAULT_BUSINESS, deliver, envelope, newWamid, textMessage } from '#local/webhooks';
import { messageSyncJob } from '#shared/queue/sync-jobs';
import { keys } from '#shared/store/keys';
import { crmCommunications, crmContacts, crmOf, expectLoggedOnce, newCustomer, send, startSyncStack, waitSynced, type TestCustomer } from '../helpers/sync-stack.ts';

let stack: LocalStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

const secondsAgo = (s: number) => Math.floor(Date.now() / 1000) * 1000 - s * 1000;
const BATCH_CREATE = 'POST /crm/objects/{version}/communications/batch/create';
const BATCH_UPDATE = 'POST /crm/objects/{version}/contacts/batch/update';

/** Customers whose first message is synced (they are known to the CRM). */
async function knownCustomers(s: LocalStack, count: number): Promise<TestCustomer[]> {
  const customers = Array.from({ length: count }, () => newCustomer());
  const first: string[] = [];
  for (const c of customers) {
    const wamid = newWamid();
    first.push(wamid);
    await send(s, textMessage(c, 'hello', { wamid, at: secondsAgo(60) }));
  }
  await waitSynced(s, first, 20_000);
  return customers;
}

/** One signed delivery with a reply from each customer (a campaign reply storm). */
async function storm(s: LocalStack, customers: readonly TestCustomer[], text: string): Promise<string[]> {
  const at = String(Math.floor(secondsAgo(5) / 1000));
  const messages = customers.map((c) => ({ from: c.waId, from_user_id: c.bsuid, id: newWamid(), timestamp: at, type: 'text', text: { body: text } }));
  const response = await deliver(s.webhookUrl, envelope(DEFAULT_BUSINESS, { contacts: customers.map((c) => ({ profile: { name: c.name }, wa_id: c.waId, user_id: c.bsuid })), messages }), s.env['WHATSAPP_APP_SECRET'] ?? '');
  expect(response.status).toBe(200);
  return messages.map((m) => m.id);
}

describe('burst batching', () => {
  it('syncs a storm of 40 replies from known customers through the batch endpoints, each message once, on its contact', async () => {
    const s = (stack = await startSyncStack());
    const customers = await knownCustomers(s, 40);
    crmOf(s).resetStats();
    const wamids = await storm(s, customers, 'Thanks, got it');
    await waitSynced(s, wamids, 20_000);

    const stats = crmOf(s).stats();
    expect(stats[BATCH_CREATE], JSON.stringify(stats)).toBeGreaterThanOrEqual(1);
    expect(stats[BATCH_UPDATE]).toBeGreaterThanOrEqual(1);
    // Far fewer requests than one message at a time (2 each).
    expect(stats['total']!).toBeLessThan(wamids.length);
    for (const [i, wamid] of wamids.entries()) {
      const [contact] = crmContacts(s, 'whatsapp_user_id', customers[i]!.bsuid);
      await expectLoggedOnce(s, [wamid], contact!.id);
    }
    expect(crmCommunications(s)).toHaveLength(80);
  });

  it('a batch the CRM refuses is logged one message at a time: nothing lost, nothing twice', async () => {
    const s = (stack = await startSyncStack());
    const customers = await knownCustomers(s, 15);
    crmOf(s).setFaults([{ method: 'POST', path: /\/communications\/batch\/create$/, status: 400 }]);
    const wamids = await storm(s, customers, 'second reply');
    await waitSynced(s, wamids, 20_000);
    for (const wamid of wamids) expect(crmCommunications(s, wamid)).toHaveLength(1);
    expect(crmCommunications(s)).toHaveLength(30);
  });

  it('a burst holding a message the CRM already has (a crash after the write) logs the others and finds that one', async () => {
    const s = (stack = await startSyncStack());
    const customers = await knownCustomers(s, 12);
    // The first customer's reply is synced, then its row is reset as if the sync died after the CRM write.
    const early = newWamid();
    await send(s, textMessage(customers[0]!, 'early reply', { wamid: early, at: secondsAgo(30) }));
    const [row] = await waitSynced(s, [early]);
    await s.runtime.clients.documents.send(
      new UpdateCommand({ TableName: s.runtime.store.table.name, Key: keys.message(early), UpdateExpression: 'SET syncState = :p REMOVE crmIds, syncedAt', ExpressionAttributeValues: { ':p': 'pending' } }),
    );
    crmOf(s).resetStats();
    const wamids = await storm(s, customers.slice(1), 'a reply');
    await s.runtime.syncQueue.enqueue([messageSyncJob(early, row!.contactId)], { redrive: 'after-crash' });
    const rows = await waitSynced(s, [early, ...wamids], 20_000);
    expect(rows[0]!.crmIds?.hubspot).toBe(row!.crmIds?.hubspot);
    for (const wamid of [early, ...wamids]) expect(crmCommunications(s, wamid)).toHaveLength(1);
  });
});
