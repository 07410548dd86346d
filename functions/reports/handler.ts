import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logger } from '#shared/observability';

/** The scheduled report runs (shared/resources.ts SCHEDULES): `daily`, `weekly`. */
interface ReportTask {
  readonly task: string;
}

/**
 * The reports (RP-1…RP-13) are not part of this release: the schedules, permissions and alarms
 * are deployed so that adding them changes no infrastructure. Until then a run says so plainly.
 */
export const handler = middy<ReportTask, { task: string; skipped: string }>()
  .use(injectLambdaContext(logger))
  .handler(async (event) => {
    logger.warn('report not available in this release', { task: event.task });
    return { task: event.task, skipped: 'not available in this release' };
  });
