import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { cloudWatchMetrics, logger, metrics } from '#shared/observability';
import { ENV } from '#shared/resources';
import { createRuntime, once } from '#shared/runtime';
import { mediaApp } from './wiring.ts';

const app = once(async () => mediaApp({ runtime: await createRuntime(), dlqUrl: process.env[ENV.mediaDlqUrl], logger, metrics: cloudWatchMetrics }));

/** The media queue (MD-1): each job's media fetched from WhatsApp and kept in S3. */
export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .handler(async (event) => (await app()).handleQueue(event));
