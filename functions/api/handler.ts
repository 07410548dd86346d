import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ConfigError } from '#shared/config';
import { cloudWatchMetrics, logger, metrics } from '#shared/observability';
import { SqsSendQueue } from '#shared/queue/send-jobs';
import { ENV } from '#shared/resources';
import { createRuntime, once } from '#shared/runtime';
import { createChannels } from '#shared/whatsapp/outbound/factory';
import { shippedAutomation, shippedStores } from '#shared/domain/automation/bundled';
import { createApiApp } from './app.ts';
import { runtimeCrmAdapter } from '#shared/crm/factory';
import type { CrmAdapter } from '#shared/crm/port';

const app = once(async () => {
  const runtime = await createRuntime();
  const queueUrl = runtime.config.sendQueueUrl;
  if (!queueUrl) throw new ConfigError(`Invalid configuration: ${ENV.sendQueueUrl} is not set`);
  if (!runtime.events) throw new ConfigError(`Invalid configuration: ${ENV.eventBusName} is not set (orders, parcels and resolved conversations go to the automations through the event bus)`);
  const channels = createChannels(runtime.config, runtime.secretSource);
  let crm: CrmAdapter | undefined;
  return createApiApp({
    store: runtime.store,
    secretSource: runtime.secretSource,
    jobs: new SqsSendQueue(runtime.clients.sqs, queueUrl),
    accountApi: channels.accountApi,
    config: runtime.config,
    roster: shippedAutomation().roster,
    events: runtime.events,
    syncJobs: runtime.syncQueue,
    crm: runtime.config.crm.kind === 'none' ? undefined : () => (crm ??= runtimeCrmAdapter(runtime)),
    media: runtime.bucket,
    linkBaseUrl: () => process.env[ENV.linkBaseUrl] ?? process.env[ENV.publicUrl],
    storeIds: new Set(shippedStores().map((shop) => shop.id)),
    timeZone: runtime.config.automation.timeZone ?? shippedAutomation().config.timeZone,
    logger,
    metrics: cloudWatchMetrics,
  });
});

/** The SCRM API: HTTP API routes ANY /api/{proxy+}, GET /media/{wamid} and POST /courier-events (payload format 2.0). */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .handler(async (event: APIGatewayProxyEventV2) => (await app()).handle(event));
