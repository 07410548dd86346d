/**
 * CRM sync through faults (SY-4): HubSpot failing for a moment, rate limiting, rejecting for good
 * and being down for a while. Every stored message still reaches the CRM exactly once and in
 * order. Each test runs its own stack (1 s between attempts, 4 attempts before the DLQ).
 */
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalHubSpotFault } from '#local/hubspot/server';
import type { LocalStack } from '#local/stack';
import { newWamid, textMessage } from '#local/webhooks';
import {
  crmCommunications,
  crmContacts,
  crmOf,
  expectLoggedOnce,
  health,
  messageRow,
  newCustomer,
  queueDepths,
  send,
  startSyncStack,
  waitSynced,
  type TestCustomer,
} from '../helpers/sync-stack.ts';
import { until } from '../helpers/until.ts';

let stack: LocalStack | undefined;

async function start(options: Parameters<typeof startSyncStack>[0] = {}): Promise<LocalStack> {
  stack = await startSyncStack(options);
  return stack;
}

/** Every log line the stack's functions wrote, as text. */
function capturingLogger() {
  const lines: string[] = [];
  const write = (...args: unknown[]) => lines.push(JSON.stringify(args, (_k, v: unknown) => (v instanceof Error ? { name: v.name, message: v.message } : v)));
  return { logger: { info: write, warn: write, error: write }, text: () => lines.join('\n') };
}

afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

const secondsAgo = (s: number) => Math.floor(Date.now() / 1000) * 1000 - s * 1000;
const COMMUNICATION_CREATE = { method: 'POST', path: /\/communications$/ } as const;

describe('CRM sync through faults', () => {
  it('syncs exactly once when the CRM answers 500, then 429 with Retry-After 1, then 200, and waits out the Retry-After', async () => {
    const s = await start();
    crmOf(s).setFaults([
      { ...COMMUNICATION_CREATE, status: 500 },
      { ...COMMUNICATION_CREATE, status: 429, retryAfterSeconds: 1 },
    ]);
    const customer = newCustomer();
    const wamid = newWamid();
    await send(s, textMessage(customer, 'flaky CRM', { wamid, at: secondsAgo(1) }));

    const [row] = await waitSynced(s, [wamid]);
    const [contact] = crmContacts(s);
    await expectLoggedOnce(s, [wamid], contact!.id);
    expect(crmCommunications(s)).toHaveLength(1);
    // Three creates reached the CRM: the 500, the 429 and the one that worked, after the pause asked for.
    expect(crmOf(s).stats()['POST /crm/objects/{version}/communications']).toBe(3);
    expect(row!.syncedAt! - row!.receivedAt).toBeGreaterThanOrEqual(1_000);
  });

  it('retries a job after the queue’s pause when the CRM fails a whole attempt, and syncs it once', async () => {
    const s = await start();
    // More 5xx than one attempt tries (3): the attempt fails and the job comes back after 1 s.
    crmOf(s).setFaults(Array.from({ length: 3 }, () => ({ ...COMMUNICATION_CREATE, status: 503 })));
    const customer = newCustomer();
    const wamid = newWamid();
    await send(s, textMessage(customer, 'retry me', { wamid, at: secondsAgo(1) }));

    const failed = await until(async () => {
      const row = await messageRow(s, wamid);
      return row?.syncAttempts === 1 && row.syncState === 'pending' && row.syncError ? row : undefined;
    }, 5_000, { what: 'the failed first attempt to be recorded' });
    expect(failed.syncError).toMatch(/503/);

    const [row] = await waitSynced(s, [wamid]);
    const [contact] = crmContacts(s);
    await expectLoggedOnce(s, [wamid], contact!.id);
    expect(crmCommunications(s)).toHaveLength(1);
    expect(row!.syncError).toBeUndefined();
    expect(row!.syncedAt! - row!.receivedAt).toBeGreaterThanOrEqual(1_000);
    expect((await queueDepths(s)).deadLetters).toBe(0);
  });

  it('parks a job the CRM rejects for good in the DLQ with the reason on the message, and a redrive then syncs it once', async () => {
    const s = await start();
    const rejection = 'Property values were not valid: hs_communication_body is required by the account’s validation rules';
    crmOf(s).setFaults([
      {
        ...COMMUNICATION_CREATE,
        status: 400,
        body: { status: 'error', message: rejection, correlationId: 'c0ffee00-0000-4000-8000-000000000000', category: 'VALIDATION_ERROR' },
      },
    ]);
    const customer = newCustomer();
    const wamid = newWamid();
    await send(s, textMessage(customer, 'rejected once', { wamid, at: secondsAgo(1) }));

    // Straight to the DLQ: a validation error is not retried.
    const failed = await until(async () => {
      const row = await messageRow(s, wamid);
      return row?.syncState === 'failed' ? row : undefined;
    }, 5_000, { what: 'the message to be marked failed' });
    expect(failed.syncError).toContain(rejection);
    expect(failed.syncAttempts).toBe(1);
    await until(async () => (await health(s)).parts.sqs.deadLetters === 1, 5_000, { what: '/health to report 1 dead letter' });
    expect(await queueDepths(s)).toEqual({ queued: 0, inFlight: 0, deadLetters: 1 });

    // The dead letter is this job, with the CRM's reason; looked at without taking it (visibility 0).
    const peek = await s.runtime.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: s.services.queueUrls.syncDlq, MaxNumberOfMessages: 10, VisibilityTimeout: 0, MessageAttributeNames: ['All'] }),
    );
    expect(peek.Messages).toHaveLength(1);
    const [dead] = peek.Messages!;
    expect(JSON.parse(dead!.Body!)).toMatchObject({ kind: 'message', wamid, contactId: failed.contactId });
    expect(dead!.MessageAttributes?.['error']?.StringValue).toContain(rejection);
    expect(crmCommunications(s)).toHaveLength(0);

    // The cause is fixed (the fault was consumed; clear anything left) and an operator redrives.
    crmOf(s).setFaults([]);
    expect(await s.redrive()).toEqual({ redriven: 1, alreadySynced: 0, malformed: 0 });

    const [row] = await waitSynced(s, [wamid]);
    expect(row!.syncError).toBeUndefined();
    const [contact] = crmContacts(s);
    await expectLoggedOnce(s, [wamid], contact!.id);
    expect(crmCommunications(s)).toHaveLength(1);
    expect(await queueDepths(s)).toEqual({ queued: 0, inFlight: 0, deadLetters: 0 });
  });

  it('waits out rate limits that outlast one attempt (and the retry pause) without a second attempt, DLQ or reordering', async () => {
    const s = await start();
    // Three Retry-After pauses (3 s, longer than the 1 s retry pause) are waited out inside the
    // attempt; the fourth 429 ends it and the job comes back after the CRM's Retry-After.
    crmOf(s).setFaults(Array.from({ length: 4 }, () => ({ ...COMMUNICATION_CREATE, status: 429, retryAfterSeconds: 1 })));
    const customer = newCustomer();
    const wamids = Array.from({ length: 5 }, () => newWamid());
    const base = secondsAgo(60);
    for (const [i, wamid] of wamids.entries()) {
      await send(s, textMessage(customer, `rate limited ${i + 1}`, { wamid, at: base + i * 1000 }));
    }

    const limited = await until(async () => {
      const row = await messageRow(s, wamids[0]!);
      return row?.syncAttempts === 1 && row.syncError ? row : undefined;
    }, 8_000, { what: 'the rate-limited attempt to be recorded' });
    expect(limited.syncState).toBe('pending');
    expect(limited.syncError).toMatch(/rate limit/i);

    const rows = await waitSynced(s, wamids);
    expect(rows[0]!.syncAttempts).toBe(2); // the failed attempt and the one that synced, not one per redelivery
    expect(rows[0]!.syncedAt! - rows[0]!.receivedAt).toBeGreaterThanOrEqual(4_000);
    const [contact] = crmContacts(s);
    const logged = await expectLoggedOnce(s, wamids, contact!.id);
    const byCreation = [...logged].sort((a, b) => Number(a.id) - Number(b.id));
    expect(byCreation.map((c) => c.properties['whatsapp_message_id'])).toEqual(wamids);
    expect(crmOf(s).stats()['POST /crm/objects/{version}/communications']).toBe(4 + wamids.length);
    expect((await queueDepths(s)).deadLetters).toBe(0);
  });

  it('moves a job to the DLQ after 4 failed attempts with the error kept, and a redrive syncs it once when the CRM is back', async () => {
    const s = await start();
    const crm = crmOf(s);
    crm.setFaults(Array.from({ length: 10_000 }, () => ({ status: 503 })));
    const customer = newCustomer();
    const wamid = newWamid();
    await send(s, textMessage(customer, 'CRM down for long', { wamid, at: secondsAgo(1) }));

    const failed = await until(async () => {
      const row = await messageRow(s, wamid);
      return row?.syncState === 'failed' ? row : undefined;
    }, 12_000, { what: 'the message to be marked failed after its last attempt' });
    expect(failed.syncAttempts).toBe(4);
    expect(failed.syncError).toMatch(/503/);
    await until(async () => (await health(s)).parts.sqs.deadLetters === 1, 5_000, { what: 'the job to reach the DLQ' });
    expect(crmCommunications(s)).toHaveLength(0);

    crm.setFaults([]);
    expect(await s.redrive()).toEqual({ redriven: 1, alreadySynced: 0, malformed: 0 });
    const [row] = await waitSynced(s, [wamid]);
    expect(row!.syncError).toBeUndefined();
    const [contact] = crmContacts(s);
    await expectLoggedOnce(s, [wamid], contact!.id);
    expect(await queueDepths(s)).toEqual({ queued: 0, inFlight: 0, deadLetters: 0 });
  });

  it('loses nothing while the CRM is down and syncs each of the 10 messages that arrived meanwhile exactly once when it is back', async () => {
    const s = await start();
    const crm = crmOf(s);
    // Every request fails while the CRM is down; cleared when it comes back.
    const outage: LocalHubSpotFault[] = Array.from({ length: 10_000 }, () => ({ status: 503 }));
    crm.setFaults(outage);

    const customers: TestCustomer[] = [newCustomer(), newCustomer({ phone: false }), newCustomer()];
    const plan = [4, 3, 3].map((count, c) => ({
      customer: customers[c]!,
      wamids: Array.from({ length: count }, () => newWamid()),
    }));
    const base = secondsAgo(60);
    // The webhook keeps answering 200: the CRM is not on its path.
    await Promise.all(
      plan.map(async ({ customer, wamids }) => {
        for (const [i, wamid] of wamids.entries()) await send(s, textMessage(customer, `during the outage ${i + 1}`, { wamid, at: base + i * 1000 }));
      }),
    );
    const all = plan.flatMap((p) => p.wamids);
    expect(all).toHaveLength(10);

    // Down across two retry rounds: each customer's first job failed twice (2 of its 4 attempts).
    await until(
      async () => {
        const firsts = await Promise.all(plan.map((p) => messageRow(s, p.wamids[0]!)));
        return firsts.every((row) => (row?.syncAttempts ?? 0) >= 2);
      },
      8_000,
      { what: 'two failed attempts per customer during the outage' },
    );
    expect(crmCommunications(s)).toHaveLength(0);
    expect(crmContacts(s)).toHaveLength(0);
    crm.setFaults([]); // the CRM is back

    const rows = await waitSynced(s, all, 10_000);
    expect(rows.every((r) => r.syncState === 'synced')).toBe(true);
    const communications = crmCommunications(s);
    expect(communications).toHaveLength(10);
    expect(new Set(communications.map((c) => c.properties['whatsapp_message_id']))).toEqual(new Set(all));
    expect(crmContacts(s)).toHaveLength(3);
    for (const { customer, wamids } of plan) {
      const [contact, ...others] = crmContacts(s, 'whatsapp_user_id', customer.bsuid);
      expect(others).toEqual([]);
      const logged = await expectLoggedOnce(s, wamids, contact!.id);
      // …and in the order they were sent.
      const byCreation = [...logged].sort((a, b) => Number(a.id) - Number(b.id));
      expect(byCreation.map((c) => c.properties['whatsapp_message_id'])).toEqual(wamids);
    }
    expect(await queueDepths(s)).toEqual({ queued: 0, inFlight: 0, deadLetters: 0 });
  });

  it('keeps one customer’s order when the first message’s sync fails and is retried while later ones wait', async () => {
    const s = await start();
    // The first create fails a whole attempt; the later messages must not overtake it.
    crmOf(s).setFaults(Array.from({ length: 3 }, () => ({ ...COMMUNICATION_CREATE, status: 502 })));
    const customer = newCustomer();
    const wamids = Array.from({ length: 5 }, () => newWamid());
    const base = secondsAgo(60);
    for (const [i, wamid] of wamids.entries()) {
      await send(s, textMessage(customer, `in order ${i + 1}`, { wamid, at: base + i * 1000 }));
    }
    await waitSynced(s, wamids);

    expect((await messageRow(s, wamids[0]!))?.syncAttempts).toBe(2); // failed once, then synced
    const [contact] = crmContacts(s);
    const logged = await expectLoggedOnce(s, wamids, contact!.id);
    const byCreation = [...logged].sort((a, b) => Number(a.id) - Number(b.id));
    expect(byCreation.map((c) => c.properties['whatsapp_message_id'])).toEqual(wamids);
    expect(byCreation.map((c) => Date.parse(c.properties['hs_timestamp']!))).toEqual(wamids.map((_, i) => base + i * 1000));
  });
});

describe('personal data in CRM errors', () => {
  it('a CRM error body holding a phone and an e-mail appears neither in the logs, nor on the message row, nor on the DLQ message', async () => {
    const logs = capturingLogger();
    const s = await start({ logger: logs.logger });
    const phone = '+85291234567';
    const email = 'jane.doe@example.com';
    crmOf(s).setFaults([
      {
        method: 'POST',
        path: /\/contacts$/,
        status: 400,
        body: {
          status: 'error',
          category: 'VALIDATION_ERROR',
          correlationId: 'c0ffee',
          message: `Property values were not valid: [{"isValid":false,"message":"Email ${email} is not valid for contact ${phone} (Jane Doe)","error":"INVALID_EMAIL","name":"email"}]`,
        },
      },
    ]);
    const wamid = newWamid();
    await send(s, textMessage(newCustomer(), 'hello', { wamid, at: secondsAgo(1) }));
    const row = await until(async () => {
      const r = await messageRow(s, wamid);
      return r?.syncState === 'failed' ? r : undefined;
    }, 10_000, { what: 'the job to be parked in the DLQ' });
    const dlq = await s.runtime.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: s.services.queueUrls.syncDlq, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'] }));
    const parked = JSON.stringify(dlq.Messages ?? []);
    expect(dlq.Messages).toHaveLength(1);
    for (const [where, text] of [['row', JSON.stringify(row)], ['DLQ', parked], ['logs', logs.text()]] as const) {
      expect(text, where).not.toContain(email);
      expect(text, where).not.toContain('91234567');
      expect(text, where).not.toContain('Jane Doe');
    }
    // What is kept says what happened, without the customer's data.
    expect(row.syncError).toMatch(/HubSpot 400 VALIDATION_ERROR/);
  });
});
