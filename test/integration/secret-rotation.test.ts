/**
 * Tokens rotate (OP-5): a token rotated in the CRM's dashboard and in the secret takes effect
 * without a redeploy — the secret is read with a TTL, and at once after the CRM refuses a token.
 */
import type { Context, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSyncApp } from '#functions/sync/app';
import { createCrmAdapter } from '#shared/crm/factory';
import { setupHubSpot } from '#shared/crm/hubspot/setup';
import { shippedIntelligence } from '#shared/domain/intelligence/bundled';
import { messageSyncJob } from '#shared/queue/sync-jobs';
import type { EnvSecrets } from '#shared/secrets';
import { startLocalHubSpot, type LocalHubSpot } from '#local/hubspot/server';
import { newWamid, textMessage } from '#local/webhooks';
import { startHarness, type Harness } from '../helpers/webhook-harness.ts';

let h: Harness;
let hub: LocalHubSpot;
beforeAll(async () => {
  h = await startHarness({ HUBSPOT_ACCESS_TOKEN: 'token-of-november' });
  hub = await startLocalHubSpot({ token: 'token-of-november', searchLagMs: 0 });
  await setupHubSpot({ baseUrl: hub.url, accessToken: 'token-of-november' });
});
afterAll(async () => {
  await hub.stop();
  await h.stop();
});

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const context = { getRemainingTimeInMillis: () => 50_000 } as unknown as Context;
const record = (body: unknown, group: string): SQSRecord => ({
  messageId: `rotation-${Math.random()}`,
  receiptHandle: 'receipt',
  body: JSON.stringify(body),
  attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'test', ApproximateFirstReceiveTimestamp: '0', MessageGroupId: group },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:scrm-local-sync.fifo',
  awsRegion: 'us-east-1',
});

describe('a rotated CRM token', () => {
  it('takes effect in the same attempt: HubSpot refuses the old token, the secret is read again, the message syncs', async () => {
    const config = { ...h.runtime.config, crm: { ...h.runtime.config.crm, hubspot: { ...h.runtime.config.crm.hubspot, baseUrl: hub.url } } };
    const sync = createSyncApp({
      store: h.runtime.store,
      crm: createCrmAdapter(config, h.runtime.secretSource),
      sqs: h.runtime.clients.sqs,
      jobs: h.runtime.syncQueue,
      queueUrl: h.runtime.config.syncQueueUrl,
      dlqUrl: h.runtime.config.syncDlqUrl,
      config: { retryDelaySeconds: 300, maxAttempts: 4 },
      logger: silent,
      intelligence: shippedIntelligence(),
    });
    const first = newWamid();
    await h.post(textMessage({ bsuid: `HK.rotate${Date.now()}` }, 'before the rotation', { wamid: first }));
    const contactId = (await h.runtime.store.messages.get(first))!.contactId;
    expect((await sync.handle({ Records: [record(messageSyncJob(first, contactId), contactId)] }, context)).batchItemFailures).toEqual([]);

    // The token is rotated: in HubSpot, and in the secret (put-secret-value).
    hub.setToken('token-of-december');
    (h.runtime.secretSource as EnvSecrets).set({ HUBSPOT_ACCESS_TOKEN: 'token-of-december' });

    const second = newWamid();
    await h.post(textMessage({ bsuid: `HK.rotate${Date.now()}b` }, 'after the rotation', { wamid: second }));
    const secondContact = (await h.runtime.store.messages.get(second))!.contactId;
    const response = await sync.handle({ Records: [record(messageSyncJob(second, secondContact), secondContact)] }, context);
    expect(response.batchItemFailures).toEqual([]);
    expect(await h.runtime.store.messages.get(second)).toMatchObject({ syncState: 'synced', syncAttempts: 1 });
  });
});
