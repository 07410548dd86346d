import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createCrmAdapter } from '#shared/crm/factory';
import { shippedIntelligence } from '#shared/domain/intelligence/bundled';
import { logger } from '#shared/observability';
import { createRuntime, once } from '#shared/runtime';
import { createSyncApp } from './app.ts';

const app = once(async () => {
  const runtime = await createRuntime();
  return createSyncApp({
    store: runtime.store,
    crm: createCrmAdapter(runtime.config, runtime.secrets),
    sqs: runtime.clients.sqs,
    jobs: runtime.syncQueue,
    queueUrl: runtime.config.syncQueueUrl,
    dlqUrl: runtime.config.syncDlqUrl,
    config: runtime.config.sync,
    logger,
    intelligence: shippedIntelligence(),
    events: runtime.events,
  });
});

export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger))
  .handler(async (event, context) => (await app()).handle(event, context));
