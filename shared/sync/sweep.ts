/**
 * The table is the source of truth for pending work (architecture: Real parts, locally). A
 * message that is stored but not synced — its enqueue failed after the write, or the queue lost
 * it — is found in the pending-sync index and queued again. Harmless for a job still in the
 * queue: SQS drops the duplicate within its deduplication window and the consumer is idempotent.
 */
import { mediaJob, type MediaJobSink } from '../queue/media-jobs.ts';
import { messageSyncJob, type SyncJobSink } from '../queue/sync-jobs.ts';
import type { Store } from '../store/store.ts';

export interface SweepOptions {
  /** Only messages received at least this long ago: younger ones are still on their first way. */
  readonly minAgeMs: number;
  readonly limit: number;
  readonly now: number;
}

export async function requeuePendingSync(store: Pick<Store, 'syncState'>, jobs: SyncJobSink, options: SweepOptions): Promise<number> {
  const pending = await store.syncState.pending(options.now - options.minAgeMs, options.limit);
  for (const message of pending) {
    // One at a time keeps each customer's jobs in arrival order within their FIFO group.
    await jobs.enqueue([messageSyncJob(message.wamid, message.contactId)]);
  }
  return pending.length;
}

/**
 * Media whose work is recorded but not done (its enqueue failed, the function was killed mid-way,
 * a retry is overdue) is queued again (MD-1). A job still in the queue does the same idempotent
 * work at worst; the work item says what is left.
 */
export async function requeuePendingMedia(store: Pick<Store, 'media'>, jobs: MediaJobSink, options: SweepOptions): Promise<number> {
  const pending = await store.media.pending(options.now - options.minAgeMs, options.limit);
  if (pending.length) await jobs.enqueue(pending.map((work) => mediaJob(work.wamid, work.contactId)));
  return pending.length;
}
