import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { runtimeCrmAdapter } from '#shared/crm/factory';
import type { CrmAdapter } from '#shared/crm/port';
import { shippedIntelligence } from '#shared/domain/intelligence/bundled';
import { cloudWatchMetrics, logger, metrics } from '#shared/observability';
import { createRuntime, once } from '#shared/runtime';
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
    insights: new ContactInsightsKeeper({ store: runtime.store, intelligence: shippedIntelligence(), events: runtime.events }),
    crm: () => (crm ??= runtimeCrmAdapter(runtime)),
    logger,
    metrics: cloudWatchMetrics,
    secrets: runtime.secretSource,
    exports: runtime.bucket,
    timeZone: runtime.config.automation.timeZone,
    hotWordFamily: shippedIntelligence().hotWordFamily,
  });
});

export const handler = middy<ScheduledTask, BatchResult>()
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .handler(async (event, context) => (await app()).run(event.task, { remainingMs: () => context.getRemainingTimeInMillis(), ...(event.fresh === true && { fresh: true }) }));
