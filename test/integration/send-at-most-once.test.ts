/**
 * At most once: a send function that dies between Meta's answer and its own record, and a send
 * whose fate Meta never tells, each send nothing twice.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '#local/stack';
import { textMessage } from '#local/webhooks';
import type { WhatsAppChannel } from '#shared/whatsapp/outbound/channel';
import { signBody } from '#shared/whatsapp/signature';
import { sendAppOn } from '../helpers/send-app.ts';
import { until } from '../helpers/until.ts';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ dataDir: null, env: { PORT: '0' }, crmPort: 0, logger: silent, pollers: false, graphStatusDelaysMs: { sent: 50, delivered: 60, read: 70 }, outboxSweepIntervalMs: 3_600_000 });
}, 60_000);
afterAll(async () => stack?.stop());

function senderWith(channel: (real: WhatsAppChannel) => WhatsAppChannel, options: { now?: () => number; counted?: string[] } = {}) {
  return sendAppOn(stack, { channel, ...options });
}

async function queuedReply(waId: string, key: string): Promise<string> {
  const customer = { waId, bsuid: `HK.${waId}`, name: 'Ann' };
  const body = JSON.stringify(textMessage(customer, 'where is my parcel?'));
  await fetch(stack.webhookUrl, { method: 'POST', headers: { 'x-hub-signature-256': signBody(body, 'local-app-secret') }, body });
  const found = (await (await fetch(`${stack.url}/api/contacts?phone=%2B${waId}`, { headers: { authorization: 'Bearer local-api-token' } })).json()) as { contacts: { contactId: string }[] };
  const response = await fetch(`${stack.url}/api/messages`, {
    method: 'POST',
    headers: { authorization: 'Bearer local-api-token', 'idempotency-key': key },
    body: JSON.stringify({ to: { contactId: found.contacts[0]!.contactId }, category: 'service', text: 'It is out for delivery today.' }),
  });
  const answer = (await response.json()) as { id: string; state: string };
  expect(answer.state).toBe('queued');
  return answer.id;
}

it('a crash between Meta\'s answer and our record sends nothing twice: the status webhook settles the row', async () => {
  const id = await queuedReply('85291110001', 'crash-1');
  const crashing = senderWith((real) => ({
    async send(request, signal) {
      await real.send(request, signal);
      throw new Error('the process died before recording the answer');
    },
  }));
  await expect(crashing.process(id, Date.now() + 10_000)).rejects.toThrow(/process died/);
  expect((await stack.runtime.store.outbox.get(id))?.state).toBe('sending');

  // Meta's status webhooks carry our id back: the row gets its wamid and moves on.
  const settled = await until(async () => {
    const row = await stack.runtime.store.outbox.get(id);
    return row?.state === 'read' ? row : undefined;
  });
  expect(settled.wamid).toMatch(/^wamid\./);
  // The sent message joined the conversation (and its CRM log) all the same.
  expect(await stack.runtime.store.messages.get(settled.wamid!)).toMatchObject({ direction: 'outbound', contactId: settled.contactId });

  // The job comes again (SQS redelivers it): nothing is sent again.
  const healthy = senderWith((real) => real);
  await healthy.process(id, Date.now() + 10_000);
  expect(stack.graph!.sends().filter((s) => s.callbackData === id)).toHaveLength(1);
});

it('a send whose fate stays unknown past the settle time is marked unknown and alarmed, never sent again', async () => {
  const id = await queuedReply('85291110002', 'unknown-1');
  const timingOut = senderWith(() => ({ send: async () => ({ ok: false, failure: { kind: 'retry', code: 0, title: 'timed out after the request was sent', outcomeUnknown: true } }) }));
  await timingOut.process(id, Date.now() + 10_000);
  expect((await stack.runtime.store.outbox.get(id))?.state).toBe('sending');

  const counted: string[] = [];
  const later = senderWith((real) => real, { now: () => Date.now() + 11 * 60_000, counted });
  expect(await later.sweep()).toMatchObject({ unknown: 1 });
  expect(counted).toContain('sendOutcomeUnknown');
  const row = await stack.runtime.store.outbox.get(id);
  expect(row).toMatchObject({ state: 'unknown', reason: expect.stringMatching(/not sent again/) });

  await senderWith((real) => real).process(id, Date.now() + 10_000);
  expect(stack.graph!.sends().filter((s) => s.callbackData === id)).toHaveLength(0);
});

it('retries a retryable code at most twice (three calls), then fails with Meta\'s code', async () => {
  const id = await queuedReply('85291110003', 'retry-1');
  stack.graph!.setFault('85291110003', { code: 131000, times: 10 });
  let clock = Date.now();
  const app = senderWith((real) => real, { now: () => clock });
  for (let attempt = 1; attempt <= 3; attempt++) {
    await app.process(id, clock + 10_000).catch((error: Error) => expect(error.name).toBe('ComeBack'));
    clock += 10_000; // past the backoff (2 s, then 8 s)
  }
  expect(await stack.runtime.store.outbox.get(id)).toMatchObject({ state: 'failed', attempts: 3, error: { code: 131000 } });
  expect(stack.graph!.sends().filter((s) => s.callbackData === id)).toHaveLength(3);
});
