import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logger } from '#shared/observability';
import { createRuntime, once } from '#shared/runtime';
import { requeuePendingSync } from '#shared/sync/sweep';

/** The scheduled tasks of the night window (shared/resources.ts SCHEDULES). */
interface ScheduledTask {
  readonly task: string;
}

/** Messages younger than this are still on their first way to the CRM. */
const SWEEP_MIN_AGE_MS = 5 * 60_000;
const SWEEP_LIMIT = 5_000;

const runtime = once(() => createRuntime());

export const handler = middy<ScheduledTask, { task: string; requeued?: number; skipped?: string }>()
  .use(injectLambdaContext(logger))
  .handler(async (event) => {
    const { table, syncQueue } = await runtime();
    switch (event.task) {
      case 'sweep':
      case 'batch-sync': {
        const requeued = await requeuePendingSync(table, syncQueue, { minAgeMs: SWEEP_MIN_AGE_MS, limit: SWEEP_LIMIT, now: Date.now() });
        logger.info('pending sync requeued', { task: event.task, requeued });
        return { task: event.task, requeued };
      }
      default:
        // Tasks of later releases (unread export, archive, reconciliation) land here until built.
        logger.warn('scheduled task not available in this release', { task: event.task });
        return { task: event.task, skipped: 'not available in this release' };
    }
  });
