/**
 * Jobs of a contact that was merged into another: they run in the survivor's FIFO group, so one
 * customer's CRM writes never run in parallel (hardening, defect 4).
 */
import type { SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSyncApp } from '#functions/sync/app';
import type { CrmAdapter } from '#shared/crm/port';
import { shippedIntelligence } from '#shared/domain/intelligence/bundled';
import { messageSyncJob } from '#shared/queue/sync-jobs';
import { newWamid, textMessage } from '#local/webhooks';
import { startHarness, type Harness } from '../helpers/webhook-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.stop();
});

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

function record(body: unknown, group: string): SQSRecord {
  return {
    messageId: `m-${Math.random()}`,
    receiptHandle: 'receipt',
    body: JSON.stringify(body),
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'test', ApproximateFirstReceiveTimestamp: '0', MessageGroupId: group },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:scrm-local-sync.fifo',
    awsRegion: 'us-east-1',
  };
}

describe('jobs of a merged contact', () => {
  it('a job still in the merged contact\'s group is sent on to the survivor\'s group, not synced beside it', async () => {
    const n = Date.now();
    const phone = `8529${String(n % 10_000_000).padStart(7, '0')}`;
    const bsuid = `HK.merge${n}`;
    // A contact known by the phone (and an older BSUID), a BSUID-only contact, then proof they are one.
    const legacyMessage = newWamid();
    const t0 = Date.now();
    await h.post(textMessage({ bsuid }, 'bsuid only', {}), { app: h.appWith({ now: () => t0 }) });
    await h.post(textMessage({ waId: phone, bsuid: `${bsuid}-old` }, 'legacy', { wamid: legacyMessage }), { app: h.appWith({ now: () => t0 + 1000 }) });
    await h.post(textMessage({ waId: phone, bsuid }, 'both', {}), { app: h.appWith({ now: () => t0 + 2000 }) });
    const loser = (await h.runtime.store.messages.get(legacyMessage))!.contactId;
    const survivor = (await h.runtime.store.contacts.get(loser))!.mergedInto!;
    expect(survivor).toBeDefined();

    let crmCalls = 0;
    const crm: CrmAdapter = {
      kind: 'hubspot',
      upsertContact: async () => { crmCalls++; throw new Error('not expected'); },
      logMessage: async () => { crmCalls++; throw new Error('not expected'); },
      createOpportunity: async () => { crmCalls++; throw new Error('not expected'); },
      findLastOrder: async () => { crmCalls++; throw new Error('not expected'); },
      readProfile: async () => { crmCalls++; throw new Error('not expected'); },
      createTask: async () => { crmCalls++; throw new Error('not expected'); },
      limits: { requests: 100, windowMs: 10_000, batchSize: 100 },
      updateContacts: async () => { crmCalls++; throw new Error('not expected'); },
      readContacts: async () => { crmCalls++; throw new Error('not expected'); },
      recordServiceReport: async () => { crmCalls++; throw new Error('not expected'); },
    };
    const sync = createSyncApp({
      store: h.runtime.store,
      crm,
      sqs: h.runtime.clients.sqs,
      jobs: h.runtime.syncQueue,
      queueUrl: h.runtime.config.syncQueueUrl,
      config: { retryDelaySeconds: 1, maxAttempts: 4 },
      logger: silent,
      intelligence: shippedIntelligence(),
    });
    const response = await sync.handle({ Records: [record(messageSyncJob(legacyMessage, loser), loser)] });
    expect(response.batchItemFailures).toEqual([]);
    expect(crmCalls).toBe(0);
    const queue = h.services.fauxqs.inspectQueue(h.services.names.syncQueue)!;
    const rerouted = queue.messages.ready.filter((m) => (JSON.parse(m.body) as { wamid: string }).wamid === legacyMessage && m.messageGroupId === survivor);
    expect(rerouted).toHaveLength(1);
    expect(JSON.parse(rerouted[0]!.body)).toMatchObject({ wamid: legacyMessage, contactId: survivor });
  });
});
