import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { logger } from '#shared/observability';

/**
 * Media download and recompression (MD-1) is not part of this release, and the webhook queues no
 * media jobs yet. Should a job arrive anyway, it is reported failed rather than dropped, so it
 * reaches the media DLQ (and its alarm) and can be redriven once the feature ships.
 */
export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger))
  .handler(async (event) => {
    logger.warn('media job received before media processing is available; kept for the DLQ', { records: event.Records.length });
    return { batchItemFailures: event.Records.map((record) => ({ itemIdentifier: record.messageId })) };
  });
