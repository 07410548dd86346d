import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { ConfigError } from '#shared/config';
import { cloudWatchMetrics, logger, metrics } from '#shared/observability';
import { ENV } from '#shared/resources';
import { createRuntime, once } from '#shared/runtime';
import { createChannels } from '#shared/whatsapp/outbound/factory';
import { createAutomationApp, type Outcome } from './app.ts';
import { automationDeps } from './wiring.ts';

const app = once(async () => {
  const runtime = await createRuntime();
  if (!runtime.sendQueue) throw new ConfigError(`Invalid configuration: ${ENV.sendQueueUrl} is not set`);
  const channels = createChannels(runtime.config, runtime.secretSource);
  return createAutomationApp(automationDeps({ runtime, sendJobs: runtime.sendQueue, accountApi: channels.accountApi, logger, metrics: cloudWatchMetrics }));
});

const isSqsEvent = (event: SQSEvent | { task: string }): event is SQSEvent => 'Records' in event && Array.isArray(event.Records);

/** Domain events and timers from the automation queue, or a scheduled task (`{task: 'follow-up'}`). */
export const handler = middy<SQSEvent | { task: string }, SQSBatchResponse | Outcome>()
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .handler(async (event, context) => {
    if (isSqsEvent(event)) return (await app()).handle(event, context);
    return (await app()).task(event.task, context);
  });
