/**
 * Signed, well-formed deliveries holding an event that can never be stored as such (no customer
 * identity, an id over DynamoDB's key limit): the event is kept raw as unprocessable, everything
 * else in the delivery is stored and synced, and Meta gets its 200 — not a 500 it would retry for
 * days. And a delivery of a thousand messages is stored whole, each counted once, in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '#local/stack';
import { DEFAULT_BUSINESS, deliver, envelope, newWamid, textMessage, type Customer } from '#local/webhooks';
import { crmCommunications, messageRow, newCustomer, startSyncStack, waitSynced } from '../helpers/sync-stack.ts';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startSyncStack();
});
afterAll(async () => {
  await stack?.stop();
});

const post = async (payload: unknown) => {
  const response = await deliver(stack.webhookUrl, payload, stack.env['WHATSAPP_APP_SECRET'] ?? '');
  return { status: response.status, body: (await response.json()) as { received?: Record<string, number>; error?: string } };
};
const seconds = (ms: number) => String(Math.floor(ms / 1000));
const rawToday = async (contains: string) =>
  (await stack.runtime.store.rawEvents.on(new Date().toISOString().slice(0, 10))).filter((r) => r.raw.includes(contains));

/** One delivery whose messages are the given ones, in this order, with the customers' contacts. */
function delivery(messages: Record<string, unknown>[], contacts: Customer[]) {
  return envelope(DEFAULT_BUSINESS, {
    contacts: contacts.map((c) => ({ profile: { name: c.name }, ...(c.waId && { wa_id: c.waId }), user_id: c.bsuid })),
    messages,
  });
}
const text = (c: Customer, body: string, wamid = newWamid()) => ({
  ...(c.waId && { from: c.waId }),
  from_user_id: c.bsuid,
  id: wamid,
  timestamp: seconds(Date.now()),
  type: 'text',
  text: { body },
});

describe('poison events in a delivery', () => {
  it('a message with no from, no from_user_id and no matching contact is kept raw; the two good messages beside it are stored and synced; 200', async () => {
    const [a, b] = [newCustomer(), newCustomer()];
    const [good1, good2] = [newWamid(), newWamid()];
    const poisonId = newWamid();
    const poison = { id: poisonId, timestamp: seconds(Date.now()), type: 'text', text: { body: 'who am I?' } };
    const counted = stack.metrics.get('unprocessableEvents');
    const result = await post(delivery([text(a, 'first', good1), poison, text(b, 'second', good2)], [a, b]));
    expect(result.status, JSON.stringify(result.body)).toBe(200);
    expect(result.body.received).toMatchObject({ messages: 2, unprocessable: 1 });
    // Counted in the metric the alarm watches (UnprocessableEvents).
    expect(stack.metrics.get('unprocessableEvents')).toBe(counted + 1);
    await waitSynced(stack, [good1, good2]);
    expect(crmCommunications(stack, good1)).toHaveLength(1);
    expect(crmCommunications(stack, good2)).toHaveLength(1);
    expect(await messageRow(stack, poisonId)).toBeUndefined();
    const kept = await rawToday(poisonId);
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatchObject({ field: 'messages', reason: expect.stringMatching(/no customer identity/) });
    // Meta's retry of the same delivery changes nothing and is answered 200 again.
    expect((await post(delivery([text(a, 'first', good1), poison, text(b, 'second', good2)], [a, b]))).status).toBe(200);
    expect(await rawToday(poisonId)).toHaveLength(1);
  });

  it('a user_id_update with neither a previous BSUID nor a wa_id is kept raw; 200', async () => {
    const current = `HK.${Date.now()}new`;
    const payload = envelope(DEFAULT_BUSINESS, { user_id_update: [{ user_id: { current }, timestamp: seconds(Date.now()) }] });
    const result = await post(payload);
    expect(result.status, JSON.stringify(result.body)).toBe(200);
    expect(result.body.received).toMatchObject({ unprocessable: 1 });
    expect(await rawToday(current)).toHaveLength(1);
  });

  it('a message whose id is 10,000 characters long is kept raw under a hash and answered 200; the good message beside it is stored', async () => {
    const c = newCustomer();
    const longId = `wamid.${'A'.repeat(10_000)}`;
    const good = newWamid();
    const result = await post(delivery([text(c, 'long id', longId), text(c, 'normal', good)], [c]));
    expect(result.status, JSON.stringify(result.body)).toBe(200);
    expect(result.body.received).toMatchObject({ messages: 1, unprocessable: 1 });
    await waitSynced(stack, [good]);
    const kept = await rawToday('long id');
    expect(kept).toHaveLength(1);
    expect(kept[0]!.reason).toMatch(/id is 10006 characters/);
  });
});

describe('an event larger than a table item', () => {
  it('a message of 500 KB (over the 400 KB item limit) is kept raw in full — its JSON in the bucket, a preview in the table — and answered 200', async () => {
    const c = newCustomer();
    const wamid = newWamid();
    const body = `huge ${'x'.repeat(500_000)}`;
    const result = await post(delivery([text(c, body, wamid)], [c]));
    expect(result.status, JSON.stringify(result.body)).toBe(200);
    expect(result.body.received).toMatchObject({ messages: 0, unprocessable: 1 });
    const [kept] = await rawToday(wamid);
    expect(kept).toMatchObject({ reason: expect.stringMatching(/cannot be stored/), rawTruncated: true, rawKey: expect.stringMatching(/^raw\//) });
    expect(kept!.raw.length).toBeLessThan(5000);
    const full = await stack.runtime.store.rawEvents.full(kept!);
    expect(JSON.parse(full)).toMatchObject({ id: wamid, text: { body } });
  });
});

describe('a large delivery', () => {
  it('400 messages from 40 customers in one delivery: every one stored once, each contact counted exactly, each customer synced in order (1,000: npm run bench)', async () => {
    const customers = Array.from({ length: 40 }, () => newCustomer());
    const base = Date.now() - 3_600_000;
    const messages = Array.from({ length: 400 }, (_, i) => {
      const c = customers[i % customers.length]!;
      return { ...text(c, `discount? message ${i}`), timestamp: seconds(base + i * 1000) };
    });
    const result = await post(delivery(messages, customers));
    expect(result.status, JSON.stringify(result.body)).toBe(200);
    expect(result.body.received).toMatchObject({ messages: 400, duplicates: 0, unprocessable: 0 });
    const rows = await waitSynced(stack, messages.map((m) => m.id), 90_000);
    for (const [i, c] of customers.entries()) {
      const mine = rows.filter((_, j) => j % customers.length === i);
      const contact = await stack.runtime.store.contacts.get(mine[0]!.contactId);
      expect(contact).toMatchObject({ bsuid: c.bsuid, inboundCount: 10, hotWords: { discount: 10 } });
      expect(new Set(mine.map((r) => r.contactId)).size).toBe(1);
      // The CRM got them in the order they were sent.
      const synced = mine.map((r) => r.syncedAt!);
      expect([...synced].sort((x, y) => x - y)).toEqual(synced);
    }
    // Delivered again (Meta's retry): nothing new.
    const again = await post(delivery(messages, customers));
    expect(again.body.received).toMatchObject({ messages: 0, duplicates: 400 });
  }, 120_000);
});

describe('a single poison message', () => {
  it('the simulator\'s shape of a message with only a type is still kept raw (no id)', async () => {
    const payload = textMessage(newCustomer(), 'x');
    delete (payload.entry[0]!.changes[0]!.value as unknown as { messages: Record<string, unknown>[] }).messages[0]!['id'];
    expect((await post(payload)).status).toBe(200);
  });
});
