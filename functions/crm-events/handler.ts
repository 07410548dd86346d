import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { shippedAutomation } from '#shared/domain/automation/bundled';
import { cloudWatchMetrics, logger, metrics } from '#shared/observability';
import { ENV } from '#shared/resources';
import { createRuntime, once } from '#shared/runtime';
import { createChannels } from '#shared/whatsapp/outbound/factory';
import { crmEventsApp } from './wiring.ts';

const app = once(async () => {
  const runtime = await createRuntime();
  return crmEventsApp({ runtime, queueUrl: process.env[ENV.crmEventsQueueUrl], roster: shippedAutomation().roster, accountApi: createChannels(runtime.config, runtime.secretSource).accountApi, logger, metrics: cloudWatchMetrics });
});

const isSqsEvent = (event: SQSEvent | APIGatewayProxyEventV2): event is SQSEvent => 'Records' in event && Array.isArray(event.Records);

/** POST /crm-events/{crm} (HTTP API, payload 2.0): receive; the crm-events queue: apply. */
export const handler = middy<SQSEvent | APIGatewayProxyEventV2, SQSBatchResponse | APIGatewayProxyStructuredResultV2>()
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .handler(async (event) => (isSqsEvent(event) ? (await app()).handleQueue(event) : (await app()).handleHttp(event)));
