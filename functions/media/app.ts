/**
 * The media function (MD-1): each job of the media queue is one media message whose bytes are
 * fetched from WhatsApp and kept in S3 (shared/media/fetch-and-store.ts), the outcome written on
 * the message row. Jobs are handled one by one within the batch (Powertools batch processing):
 * one corrupt image fails alone, never its neighbours.
 *
 * - A final outcome (stored, too_large, failed) is recorded; a failed one — a corrupt image, a
 *   media id Meta no longer has — is also sent to the media DLQ with its reason, where the alarm
 *   sees it and a redrive can try it again.
 * - A passing failure (Meta 5xx/429, S3, a hash that did not match) is retried by SQS after the
 *   queue's visibility timeout; after the last receive it is recorded failed and SQS moves it to
 *   the DLQ itself.
 * - A job whose work item is gone was done already (a repeated delivery): nothing to do.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { fetchAndStore, type FetchAndStoreDeps } from '#shared/media/fetch-and-store';
import { NO_METRICS, type MetricsSink } from '#shared/metric-names';
import { MediaJobSchema } from '#shared/queue/media-jobs';
import { MEDIA_QUEUE } from '#shared/resources';
import type { MediaStore } from '#shared/store/media';

export interface MediaAppDeps extends Omit<FetchAndStoreDeps, 'signal'> {
  readonly store: { readonly media: MediaStore };
  /** The media DLQ: a job failed for good goes there with its reason. */
  readonly deadLetters?: { send(body: string, reason: string): Promise<void> } | undefined;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly metrics?: MetricsSink;
  /** Receives before SQS gives up (the queue's redrive policy). */
  readonly maxReceives?: number;
}

export function createMediaApp(deps: MediaAppDeps) {
  const { logger } = deps;
  const metrics = deps.metrics ?? NO_METRICS;
  const maxReceives = deps.maxReceives ?? MEDIA_QUEUE.maxReceiveCount;

  async function handleRecord(record: SQSRecord): Promise<void> {
    const parsed = MediaJobSchema.safeParse(safeJson(record.body));
    if (!parsed.success) {
      // Not a job of ours: no attempt can succeed, and keeping it would block nothing but the DLQ.
      logger.error('media job not understood; dropped', { messageId: record.messageId, reason: parsed.error.issues[0]?.message });
      return;
    }
    const { wamid } = parsed.data;
    const work = await deps.store.media.get(wamid);
    if (!work) return logger.info('media already stored', { wamid });
    const started = deps.now();
    const result = await fetchAndStore(deps, work);
    if (result.kind === 'retry') {
      const receives = Number(record.attributes.ApproximateReceiveCount ?? '1');
      if (receives < maxReceives) {
        await deps.store.media.recordRetry(wamid, result.reason, deps.now() + MEDIA_QUEUE.visibilityTimeoutSeconds * 1000);
        metrics.add('mediaRetried');
        logger.warn('media fetch failed; retried', { wamid, receives, reason: result.reason });
        throw new Error(result.reason);
      }
      // The last receive: recorded failed; SQS moves the job to the DLQ when this one fails.
      await deps.store.media.complete(wamid, { state: 'failed', reason: `gave up after ${receives} attempts: ${result.reason}`, at: deps.now() });
      metrics.add('mediaFailed');
      logger.error('media lost for now: every attempt failed (in the media DLQ)', { wamid, reason: result.reason });
      throw new Error(result.reason);
    }
    const { outcome } = result;
    await deps.store.media.complete(wamid, outcome);
    if (outcome.state === 'failed') {
      metrics.add('mediaFailed');
      logger.error('media failed', { wamid, reason: outcome.reason });
      await deps.deadLetters?.send(record.body, outcome.reason ?? 'failed');
      return;
    }
    metrics.add(outcome.state === 'stored' ? 'mediaStored' : 'mediaTooLarge');
    metrics.add('mediaBytes', outcome.bytes ?? 0);
    logger.info('media stored', { wamid, state: outcome.state, bytes: outcome.bytes, contentType: outcome.contentType, ms: deps.now() - started, ...(outcome.reason && { reason: outcome.reason }) });
  }

  async function handleQueue(event: SQSEvent): Promise<SQSBatchResponse> {
    return processPartialResponse(event, handleRecord, new BatchProcessor(EventType.SQS), { throwOnFullBatchFailure: false });
  }

  return { handleQueue, handleRecord };
}

function safeJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}
