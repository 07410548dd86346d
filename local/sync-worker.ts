/**
 * The sync function of the local stack on its own thread, with the poller that plays Lambda's
 * SQS event source mapping: as on AWS, a burst of CRM sync work does not hold up the webhook's
 * answers (they would share one event loop otherwise). What the function reports — domain events,
 * metrics, log lines a test reads, synced messages — goes back to the stack by message.
 */
import { mediaLinkKey } from '#shared/media/links';
import { parentPort, workerData } from 'node:worker_threads';
import { createSyncApp, type SyncDeps } from '#functions/sync/app';
import { runtimeCrmAdapter } from '#shared/crm/factory';
import { shippedIntelligence } from '#shared/domain/intelligence/bundled';
import type { DomainEvent } from '#shared/events/bus';
import type { MetricKey } from '#shared/metric-names';
import { logger as defaultLogger } from '#shared/observability';
import { SYNC_QUEUE } from '#shared/resources';
import { createRuntime, type AwsOverrides } from '#shared/runtime';
import { startEventSource } from './event-source.ts';

export interface SyncWorkerData {
  readonly env: Record<string, string | undefined>;
  readonly overrides: AwsOverrides;
  readonly queueUrl: string;
  readonly dlqUrl: string;
  readonly timeoutMs: number;
  readonly concurrency: number;
  /** Log lines go to the stack (a test reads them) instead of this thread's logger. */
  readonly forwardLogs: boolean;
  readonly reportSynced: boolean;
}

export type SyncWorkerMessage =
  | { readonly kind: 'ready' }
  | { readonly kind: 'failed'; readonly message: string }
  | { readonly kind: 'events'; readonly events: readonly DomainEvent[] }
  | { readonly kind: 'metric'; readonly metric: MetricKey; readonly value: number; readonly dimensions?: Record<string, string> }
  | { readonly kind: 'log'; readonly level: 'info' | 'warn' | 'error'; readonly args: unknown[] }
  | { readonly kind: 'synced'; readonly info: Parameters<NonNullable<SyncDeps['onSynced']>>[0] }
  | { readonly kind: 'stopped' };

const data = workerData as SyncWorkerData;
const post = (message: SyncWorkerMessage) => parentPort?.postMessage(message);

/** Values a message can carry: errors as their name and message. */
const cloneable = (args: unknown[]) => JSON.parse(JSON.stringify(args, (_k, v: unknown) => (v instanceof Error ? { name: v.name, message: v.message } : v))) as unknown[];

try {
  const runtime = await createRuntime(data.env, data.overrides);
  const logger: SyncDeps['logger'] = data.forwardLogs
    ? {
        info: (...args: unknown[]) => post({ kind: 'log', level: 'info', args: cloneable(args) }),
        warn: (...args: unknown[]) => post({ kind: 'log', level: 'warn', args: cloneable(args) }),
        error: (...args: unknown[]) => post({ kind: 'log', level: 'error', args: cloneable(args) }),
      }
    : defaultLogger;
  /** The gateway's URL, sent once it listens (media links in the CRM). */
  let publicUrl: string | undefined;
  const sync = createSyncApp({
    store: runtime.store,
    crm: runtimeCrmAdapter(runtime),
    sqs: runtime.clients.sqs,
    jobs: runtime.syncQueue,
    queueUrl: data.queueUrl,
    dlqUrl: data.dlqUrl,
    config: runtime.config.sync,
    logger,
    intelligence: shippedIntelligence(),
    events: { publish: async (events) => post({ kind: 'events', events: events.map((e) => ({ ...e })) }) },
    metrics: { add: (metric, value = 1, dimensions) => post({ kind: 'metric', metric, value, ...(dimensions && { dimensions: { ...dimensions } }) }) },
    ...(data.reportSynced && { onSynced: (info) => post({ kind: 'synced', info }) }),
    mediaLinks: { publicUrl: () => publicUrl, key: async () => mediaLinkKey(await runtime.secretSource.current()) },
  });
  const poller = startEventSource({
    sqs: runtime.clients.sqs,
    queueUrl: data.queueUrl,
    batchSize: SYNC_QUEUE.batchSize,
    concurrency: data.concurrency,
    handler: (event, context) => sync.handle(event, context),
    timeoutMs: data.timeoutMs,
    onError: (error) => logger.warn('sync poller error', { error: String(error) }),
  });
  parentPort?.on('message', (message: { kind: string; url?: string }) => {
    if (message.kind === 'public-url') publicUrl = message.url;
    if (message.kind !== 'stop') return;
    void poller.stop().then(() => {
      runtime.clients.dynamodb.destroy();
      runtime.clients.sqs.destroy();
      post({ kind: 'stopped' });
    });
  });
  post({ kind: 'ready' });
} catch (error) {
  post({ kind: 'failed', message: String(error) });
}
