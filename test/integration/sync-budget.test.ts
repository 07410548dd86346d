/**
 * The sync function inside its time budget (hardening, defect 7): a slow CRM cannot make the
 * function run past its timeout; jobs it had no time to start go back unstarted, without an
 * attempt counted; a malformed job goes to the DLQ at once and blocks nobody; the redrive
 * counts what it cannot parse instead of failing on it.
 */
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedriveApp } from '#functions/retry/app';
import { createSyncApp } from '#functions/sync/app';
import { HubSpotAdapter } from '#shared/crm/hubspot/adapter';
import { setupHubSpot } from '#shared/crm/hubspot/setup';
import { shippedIntelligence } from '#shared/domain/intelligence/bundled';
import { messageSyncJob } from '#shared/queue/sync-jobs';
import { startLocalHubSpot, type LocalHubSpot } from '#local/hubspot/server';
import { newWamid, textMessage } from '#local/webhooks';
import { startHarness, type Harness } from '../helpers/webhook-harness.ts';

const TOKEN = 'budget-token';
let h: Harness;
let hub: LocalHubSpot;
beforeAll(async () => {
  h = await startHarness();
  hub = await startLocalHubSpot({ token: TOKEN, searchLagMs: 0 });
  await setupHubSpot({ baseUrl: hub.url, accessToken: TOKEN });
});
afterAll(async () => {
  await hub.stop();
  await h.stop();
});

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const contextWith = (remainingMs: number): Context => {
  const end = Date.now() + remainingMs;
  return { getRemainingTimeInMillis: () => end - Date.now() } as unknown as Context;
};
let n = 0;
function record(body: string, group: string): SQSRecord {
  n++;
  return {
    messageId: `budget-${n}`,
    receiptHandle: `receipt-${n}`,
    body,
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'test', ApproximateFirstReceiveTimestamp: '0', MessageGroupId: group, MessageDeduplicationId: `dedup-${n}` },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:scrm-local-sync.fifo',
    awsRegion: 'us-east-1',
  };
}
const syncApp = (crm = new HubSpotAdapter({ baseUrl: hub.url, accessToken: TOKEN, backoffBaseMs: 5 })) =>
  createSyncApp({
    store: h.runtime.store,
    crm,
    sqs: h.runtime.clients.sqs,
    jobs: h.runtime.syncQueue,
    queueUrl: h.runtime.config.syncQueueUrl,
    dlqUrl: h.runtime.config.syncDlqUrl,
    config: { retryDelaySeconds: 300, maxAttempts: 4 },
    logger: silent,
    intelligence: shippedIntelligence(),
    // Scaled down from the production 3 s / 5 s so that the test runs in seconds.
    budget: { reserveMs: 1000, minStartMs: 1000 },
  });

async function storedJobs(count: number) {
  const jobs: { wamid: string; contactId: string }[] = [];
  for (let i = 0; i < count; i++) {
    const wamid = newWamid();
    await h.post(textMessage({ bsuid: `HK.budget${Date.now()}${i}`, name: `Budget ${i}` }, 'hello', { wamid }));
    jobs.push({ wamid, contactId: (await h.runtime.store.messages.get(wamid))!.contactId });
  }
  return jobs;
}

describe('the time budget of one invocation', () => {
  it('a CRM that takes 1.5 s a call: with 6 s left, the started jobs end in time and the others go back unstarted, no attempt counted', async () => {
    const jobs = await storedJobs(6);
    hub.setFaults(Array.from({ length: 60 }, () => ({ delayMs: 1500, status: 503 })));
    const started = Date.now();
    const response = await syncApp().handle({ Records: jobs.map((j) => record(JSON.stringify(messageSyncJob(j.wamid, j.contactId)), j.contactId)) }, contextWith(6000));
    const took = Date.now() - started;
    hub.setFaults([]);
    expect(took).toBeLessThan(6000);
    expect(response.batchItemFailures).toHaveLength(6);
    const rows = await Promise.all(jobs.map((j) => h.runtime.store.messages.get(j.wamid)));
    const attempted = rows.filter((r) => (r?.syncAttempts ?? 0) > 0);
    // At least one ran (and failed within the budget); the rest were never started.
    expect(attempted.length).toBeGreaterThanOrEqual(1);
    expect(attempted.length).toBeLessThan(6);
    for (const row of rows) expect(row?.syncAttempts ?? 0).toBeLessThanOrEqual(1);
  });
});

describe('jobs that are not jobs', () => {
  it('a malformed sync job goes to the DLQ at once and the jobs after it in its group go on', async () => {
    const [job] = await storedJobs(1);
    const group = job!.contactId;
    const response = await syncApp().handle(
      { Records: [record('{"v": 1, "kind": "message"', group), record(JSON.stringify(messageSyncJob(job!.wamid, group)), group)] },
      contextWith(50_000),
    );
    expect(response.batchItemFailures).toEqual([]);
    expect((await h.runtime.store.messages.get(job!.wamid))?.syncState).toBe('synced');
    const dlq = await h.runtime.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: h.runtime.config.syncDlqUrl!, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }));
    expect((dlq.Messages ?? []).map((m) => m.Body)).toContain('{"v": 1, "kind": "message"');
  });

  it('the redrive skips and counts a DLQ body it cannot parse', async () => {
    await h.runtime.clients.sqs.send(
      new SendMessageCommand({ QueueUrl: h.runtime.config.syncDlqUrl!, MessageBody: 'not json at all', MessageGroupId: 'g', MessageDeduplicationId: `bad-${Date.now()}` }),
    );
    const redrive = createRedriveApp({ sqs: h.runtime.clients.sqs, dlqUrl: h.runtime.config.syncDlqUrl!, jobs: h.runtime.syncQueue, store: h.runtime.store, logger: silent });
    const result = await redrive.redrive();
    expect(result.malformed).toBeGreaterThanOrEqual(1);
  });
});
