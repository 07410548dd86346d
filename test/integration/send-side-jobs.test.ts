/**
 * The send side's schedules: the number health check (OP-2) and the template listing.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSendApp } from '#functions/send/app';
import { startLocalStack, type LocalStack } from '#local/stack';
import { DEFAULT_BUSINESS } from '#local/webhooks';
import { SqsSendQueue } from '#shared/queue/send-jobs';
import { createChannels } from '#shared/whatsapp/outbound/factory';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const BACKUP = '117651463353033';
let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({
    dataDir: null,
    env: { PORT: '0', WHATSAPP_ACCOUNTS: JSON.stringify({ [DEFAULT_BUSINESS.phoneNumberId]: { name: 'Hong Kong', wabaId: DEFAULT_BUSINESS.wabaId, backupPhoneNumberId: BACKUP } }) },
    crmPort: 0,
    logger: silent,
    pollers: false,
    outboxSweepIntervalMs: 3_600_000,
  });
}, 60_000);
afterAll(async () => stack?.stop());

function sender(counted: string[] = []) {
  const runtime = stack.runtime;
  const channels = createChannels(runtime.config, runtime.secretSource);
  return createSendApp({
    store: runtime.store,
    channelFor: channels.channelFor,
    accountApi: channels.accountApi,
    sqs: runtime.clients.sqs,
    queueUrl: stack.services.queueUrls.send,
    jobs: new SqsSendQueue(runtime.clients.sqs, stack.services.queueUrls.send),
    syncJobs: runtime.syncQueue,
    config: runtime.config,
    logger: silent,
    metrics: { add: (metric) => counted.push(metric) },
  });
}

it('three health checks slower than 1.5 s in a row switch the account to its backup number and alarm; a fast one switches it back (OP-2)', async () => {
  const counted: string[] = [];
  const app = sender(counted);
  stack.graph!.setHealthDelay(DEFAULT_BUSINESS.phoneNumberId, 1_600);
  expect((await app.checkHealth())[DEFAULT_BUSINESS.phoneNumberId]).toMatchObject({ slowChecks: 1 });
  expect((await app.checkHealth())[DEFAULT_BUSINESS.phoneNumberId]).toMatchObject({ slowChecks: 2 });
  expect(counted.filter((m) => m === 'numberSwitched')).toHaveLength(0);
  expect((await app.checkHealth())[DEFAULT_BUSINESS.phoneNumberId]).toMatchObject({ slowChecks: 3, switchedTo: BACKUP });
  expect(counted.filter((m) => m === 'numberSlow')).toHaveLength(3);
  expect(counted).toContain('numberSwitched');
  expect(await stack.runtime.store.limits.numberState(DEFAULT_BUSINESS.phoneNumberId)).toMatchObject({ switchedTo: BACKUP, slowChecks: 3 });

  stack.graph!.setHealthDelay(DEFAULT_BUSINESS.phoneNumberId, 0);
  expect((await app.checkHealth())[DEFAULT_BUSINESS.phoneNumberId]).toMatchObject({ slowChecks: 0 });
  expect((await stack.runtime.store.limits.numberState(DEFAULT_BUSINESS.phoneNumberId)).switchedTo).toBeUndefined();
}, 30_000);

it("lists every template of the WABA into the table, and one Meta deleted leaves it", async () => {
  const app = sender();
  stack.graph!.setTemplates([
    { name: 'order_update', language: 'en', category: 'UTILITY', body: 'Hi {{1}}, your order {{2}} is now {{3}}.' },
    { name: 'spring_sale', language: 'en', category: 'MARKETING', body: 'Hi {{first_name}}, {{discount}} off.', quickReplies: ['Stop promotions'] },
  ]);
  expect(await app.syncTemplates()).toEqual({ [DEFAULT_BUSINESS.wabaId]: 2 });
  const sale = await stack.runtime.store.templates.get(DEFAULT_BUSINESS.wabaId, 'spring_sale', 'en');
  expect(sale).toMatchObject({ status: 'APPROVED', category: 'MARKETING', parameterFormat: 'named', bodyParameters: ['first_name', 'discount'], quickReplies: ['Stop promotions'] });
  stack.graph!.setTemplates([{ name: 'order_update', language: 'en', category: 'UTILITY', body: 'Hi {{1}}, your order {{2}} is now {{3}}.' }]);
  await app.syncTemplates();
  expect(await stack.runtime.store.templates.list(DEFAULT_BUSINESS.wabaId)).toHaveLength(1);
});
