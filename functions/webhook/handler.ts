import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, SNSEvent } from 'aws-lambda';
import { ConfigError } from '#shared/config';
import { cloudWatchMetrics, logger, metrics } from '#shared/observability';
import { ENV } from '#shared/resources';
import { createRuntimeWith, once } from '#shared/runtime-core';
import { createIngestStore } from '#shared/store/ingest-store';
import { createWebhookApp } from './app.ts';

const app = once(async () => {
  const runtime = await createRuntimeWith(createIngestStore);
  // Without the bus the automations would never hear of a message: fail at start, naming it.
  if (!runtime.events) throw new ConfigError(`Invalid configuration: ${ENV.eventBusName} is not set (customer messages go to the automations through the event bus)`);
  return createWebhookApp({ ...runtime, syncJobs: runtime.syncQueue, sendJobs: runtime.sendQueue, mediaJobs: runtime.mediaQueue, logger, metrics: cloudWatchMetrics });
});

const isSns = (event: APIGatewayProxyEventV2 | SNSEvent): event is SNSEvent => 'Records' in event && event.Records[0]?.EventSource === 'aws:sns';

/** Meta's webhook through API Gateway, or (IN-7) End User Messaging Social's SNS topic. */
export const handler = middy<APIGatewayProxyEventV2 | SNSEvent, APIGatewayProxyStructuredResultV2 | void>()
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .handler(async (event) => {
    if (isSns(event)) {
      await (await app()).receiveSns(event);
      return;
    }
    return (await app()).handle(event);
  });
