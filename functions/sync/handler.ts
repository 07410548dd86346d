import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { requireCrmSecrets, runtimeCrmAdapter } from '#shared/crm/factory';
import { shippedIntelligence } from '#shared/domain/intelligence/bundled';
import { cloudWatchMetrics, logger, metrics } from '#shared/observability';
import { mediaLinkKey } from '#shared/media/links';
import { ENV } from '#shared/resources';
import { createRuntime, once } from '#shared/runtime';
import { createSyncApp } from './app.ts';

const app = once(async () => {
  const runtime = await createRuntime();
  requireCrmSecrets(runtime.config, runtime.secrets);
  return createSyncApp({
    store: runtime.store,
    crm: runtimeCrmAdapter(runtime),
    sqs: runtime.clients.sqs,
    jobs: runtime.syncQueue,
    queueUrl: runtime.config.syncQueueUrl,
    dlqUrl: runtime.config.syncDlqUrl,
    config: runtime.config.sync,
    logger,
    intelligence: shippedIntelligence(),
    events: runtime.events,
    metrics: cloudWatchMetrics,
    mediaLinks: { publicUrl: () => process.env[ENV.publicUrl], key: async () => mediaLinkKey(await runtime.secretSource.current()) },
  });
});

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .handler(async (event, context) => (await app()).handle(event, context));
