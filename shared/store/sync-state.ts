/**
 * The CRM sync state of each message row and the sparse work index over it (gsi2): a stored
 * message waits in the PENDING partition until the CRM has it; one whose last attempt failed is
 * parked in the FAILED partition for a redrive. The table, not the queue, is the source of truth
 * for pending work (architecture: Real parts, locally).
 */
import type { MessageRecord } from '../domain/records.ts';
import type { TableClient } from './client.ts';
import { PENDING_SYNC_SHARDS, keys, type SyncWork } from './keys.ts';
import { dueWork } from './work-index.ts';
import type { MessageStore, StoredMessage } from './messages.ts';

export type SyncWorkItem = Pick<MessageRecord, 'wamid' | 'contactId' | 'receivedAt'>;

export class SyncStateStore {
  constructor(
    private readonly table: TableClient,
    private readonly messages: MessageStore,
  ) {}

  /** Messages stored but not yet synced and due (received, or their retry pause over) before `before` (ms), oldest first. */
  pending(before: number, limit: number): Promise<SyncWorkItem[]> {
    return this.work('PENDING', before, limit);
  }

  /** Messages whose sync failed for good (their job went to the DLQ), oldest first. */
  failed(limit: number): Promise<SyncWorkItem[]> {
    return this.work('FAILED', Number.MAX_SAFE_INTEGER / 2, limit);
  }

  private async work(state: SyncWork, before: number, limit: number): Promise<SyncWorkItem[]> {
    const partitions = Array.from({ length: PENDING_SYNC_SHARDS }, (_, shard) => keys.syncPartition(state, shard));
    const items = await dueWork(this.table, partitions, before, limit, 'wamid, contactId, receivedAt');
    return items.map((item) => ({ wamid: item['wamid'] as string, contactId: item['contactId'] as string, receivedAt: item['receivedAt'] as number }));
  }

  /**
   * Marks the message synced with its id in the CRM of `crm.kind`, beside the ids other CRMs gave
   * it (`message` as read: one customer's jobs run one at a time, so nobody writes the map between).
   */
  async markSynced(message: Pick<MessageRecord, 'wamid' | 'crmIds' | 'crmId'>, crm: { kind: string; id: string }, at: number): Promise<void> {
    const crmIds = { ...(message.crmId && { hubspot: message.crmId }), ...message.crmIds, [crm.kind]: crm.id };
    await this.table.update(keys.message(message.wamid), {
      update: 'SET syncState = :synced, crmIds = :crm, syncedAt = :at REMOVE gsi2pk, gsi2sk, syncError, crmId ADD syncAttempts :one',
      values: { ':synced': 'synced', ':crm': crmIds, ':at': at, ':one': 1 },
    });
  }

  /**
   * A failed attempt with more to come: the error is kept and the row is due again after the
   * pause — the sweep leaves it alone until then (it only re-queues what is overdue).
   */
  async recordRetry(message: Pick<StoredMessage, 'wamid' | 'receivedAt'>, error: string, dueAt: number): Promise<void> {
    const due = keys.syncWork('PENDING', message.wamid, dueAt);
    // A failed condition: synced meanwhile, nothing to record.
    await this.table.update(keys.message(message.wamid), {
      update: 'SET syncError = :error, syncState = :pending, gsi2pk = :pk, gsi2sk = :sk ADD syncAttempts :one',
      condition: 'attribute_exists(pk) AND syncState <> :synced',
      values: { ':error': error.slice(0, 2000), ':pending': 'pending', ':synced': 'synced', ':pk': due.gsi2pk, ':sk': due.gsi2sk, ':one': 1 },
    });
  }

  /**
   * The last attempt failed, or retrying cannot help: the job is in the DLQ, and the message moves
   * from the pending to the failed partition of the work index at the same moment — the sweep
   * leaves it alone, and a redrive finds it even if the DLQ itself was lost.
   */
  async recordFinalFailure(message: Pick<StoredMessage, 'wamid' | 'receivedAt'>, error: string): Promise<void> {
    const failed = keys.syncWork('FAILED', message.wamid, message.receivedAt);
    await this.table.update(keys.message(message.wamid), {
      update: 'SET syncError = :error, syncState = :failed, gsi2pk = :pk, gsi2sk = :sk ADD syncAttempts :one',
      condition: 'attribute_exists(pk) AND syncState <> :synced',
      values: { ':error': error.slice(0, 2000), ':failed': 'failed', ':synced': 'synced', ':pk': failed.gsi2pk, ':sk': failed.gsi2sk, ':one': 1 },
    });
  }

  /** A job sent back from the DLQ: pending again, and back in the pending partition for the sweep. */
  async markRedriven(wamid: string): Promise<boolean> {
    const message = await this.messages.get(wamid);
    if (!message || message.syncState === 'synced') return false;
    const pending = keys.syncWork('PENDING', wamid, message.receivedAt);
    await this.table.update(keys.message(wamid), {
      update: 'SET syncState = :pending, syncAttempts = :zero, gsi2pk = :pk, gsi2sk = :sk',
      values: { ':pending': 'pending', ':zero': 0, ':pk': pending.gsi2pk, ':sk': pending.gsi2sk },
    });
    return true;
  }
}
