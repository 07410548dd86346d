import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { ConfigError } from '#shared/config';
import { cloudWatchMetrics, logger, metrics } from '#shared/observability';
import { SqsSendQueue } from '#shared/queue/send-jobs';
import { ENV } from '#shared/resources';
import { createRuntime, once } from '#shared/runtime';
import { createChannels } from '#shared/whatsapp/outbound/factory';
import { createSendApp } from './app.ts';

/** The send side's schedules (shared/resources.ts SCHEDULES, target `send`). */
interface ScheduledTask {
  readonly task: string;
}

const app = once(async () => {
  const runtime = await createRuntime();
  const queueUrl = runtime.config.sendQueueUrl;
  if (!queueUrl) throw new ConfigError(`Invalid configuration: ${ENV.sendQueueUrl} is not set`);
  const channels = createChannels(runtime.config, runtime.secretSource);
  return createSendApp({
    store: runtime.store,
    channelFor: channels.channelFor,
    accountApi: channels.accountApi,
    sqs: runtime.clients.sqs,
    queueUrl,
    jobs: new SqsSendQueue(runtime.clients.sqs, queueUrl),
    syncJobs: runtime.syncQueue,
    config: runtime.config,
    logger,
    metrics: cloudWatchMetrics,
  });
});

type SendApp = Awaited<ReturnType<typeof app>>;

const TASKS = {
  'outbox-sweep': (send: SendApp) => send.sweep(),
  'template-sync': (send: SendApp) => send.syncTemplates(),
  'number-health': (send: SendApp) => send.checkHealth(),
} as const;

const isSqsEvent = (event: SQSEvent | ScheduledTask): event is SQSEvent => 'Records' in event && Array.isArray(event.Records);

/** Send jobs from the FIFO send queue, or a scheduled task of the send side. */
export const handler = middy<SQSEvent | ScheduledTask, SQSBatchResponse | Awaited<ReturnType<(typeof TASKS)[keyof typeof TASKS]>>>()
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .handler(async (event, context) => {
    if (isSqsEvent(event)) return (await app()).handle(event, context);
    const run = Object.hasOwn(TASKS, event.task) ? TASKS[event.task as keyof typeof TASKS] : undefined;
    if (!run) throw new Error(`send: unknown task ${JSON.stringify(event.task)}; the send function runs ${Object.keys(TASKS).join(', ')}`);
    return run(await app());
  });
