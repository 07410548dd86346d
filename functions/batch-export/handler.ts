import { runtimeStorage } from '#shared/batch/storage-growth';
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { runtimeCrmAdapter } from '#shared/crm/factory';
import type { CrmAdapter } from '#shared/crm/port';
import { shippedIntelligence } from '#shared/domain/intelligence/bundled';
import { cloudWatchMetrics, logger, metrics } from '#shared/observability';
import { createRuntime, once } from '#shared/runtime';
import { crmEventsSender } from '#shared/queue/crm-events';
import { ENV, SECRET_KEYS } from '#shared/resources';
import { ContactInsightsKeeper } from '#shared/sync/insights';
import { createBatchApp, type BatchResult } from './app.ts';

/** The scheduled tasks of the night window (shared/resources.ts SCHEDULES). */
interface ScheduledTask {
  readonly task: string;
  /** Start a new segment refresh even if one finished tonight (a run by hand). */
  readonly fresh?: boolean;
}

const app = once(async () => {
  const runtime = await createRuntime();
  let crm: CrmAdapter | undefined;
  return createBatchApp({
    store: runtime.store,
    syncJobs: runtime.syncQueue,
    mediaJobs: runtime.mediaQueue,
    storage: runtimeStorage(runtime),
    archive: runtime.bucket,
    insights: new ContactInsightsKeeper({ store: runtime.store, intelligence: shippedIntelligence(), events: runtime.events }),
    crm: () => (crm ??= runtimeCrmAdapter(runtime)),
    logger,
    metrics: cloudWatchMetrics,
    secrets: runtime.secretSource,
    exports: runtime.bucket,
    timeZone: runtime.config.automation.timeZone,
    hotWordFamily: shippedIntelligence().hotWordFamily,
    ...twoWayOptions(runtime),
  });
});

export const handler = middy<ScheduledTask, BatchResult>()
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .handler(async (event, context) => (await app()).run(event.task, { remainingMs: () => context.getRemainingTimeInMillis(), ...(event.fresh === true && { fresh: true }) }));

/** The two-way tasks' settings (catch-up queue, public URL, Zoho channel token, auto-merge confidence). */
function twoWayOptions(runtime: Awaited<ReturnType<typeof createRuntime>>) {
  const queueUrl = process.env[ENV.crmEventsQueueUrl];
  const autoMerge = process.env[ENV.duplicateAutoMerge];
  return {
    ...(queueUrl && { crmEvents: crmEventsSender(runtime.clients.sqs, queueUrl) }),
    publicUrl: () => process.env[ENV.publicUrl],
    channelToken: async () => (await runtime.secretSource.current()).crm[SECRET_KEYS.zohoChannelToken],
    ...(autoMerge && { autoMergeAt: Number(autoMerge) }),
  };
}
