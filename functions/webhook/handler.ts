import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { cloudWatchMetrics, logger, metrics } from '#shared/observability';
import { createRuntimeWith, once } from '#shared/runtime-core';
import { createIngestStore } from '#shared/store/ingest-store';
import { createWebhookApp } from './app.ts';

const app = once(async () => {
  const runtime = await createRuntimeWith(createIngestStore);
  return createWebhookApp({ ...runtime, syncJobs: runtime.syncQueue, logger, metrics: cloudWatchMetrics });
});

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .handler(async (event: APIGatewayProxyEventV2) => (await app()).handle(event));
