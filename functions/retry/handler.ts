import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { ConfigError } from '#shared/config';
import { logger } from '#shared/observability';
import { createRuntime, once } from '#shared/runtime';
import { createRedriveApp, type RedriveResult } from './app.ts';

/** Invoked on demand (`aws lambda invoke`, the console): `{ "max": 500 }` redrives at most 500 jobs. */
interface RedriveRequest {
  readonly max?: number;
}

const app = once(async () => {
  const runtime = await createRuntime();
  if (!runtime.config.syncDlqUrl) throw new ConfigError('Invalid configuration: SCRM_SYNC_DLQ_URL is required by the retry function');
  return createRedriveApp({
    sqs: runtime.clients.sqs,
    dlqUrl: runtime.config.syncDlqUrl,
    jobs: runtime.syncQueue,
    store: runtime.store,
    logger,
    crmKind: runtime.config.crm.kind,
  });
});

export const handler = middy<RedriveRequest | undefined, RedriveResult>()
  .use(injectLambdaContext(logger))
  .handler(async (event) => {
    const max = event?.max;
    if (max !== undefined && (!Number.isInteger(max) || max < 1)) throw new Error(`"max" must be a positive whole number, got ${JSON.stringify(max)}`);
    return (await app()).redrive({ ...(max !== undefined && { max }) });
  });
