/**
 * Media work (MD-1): one item per media message, `MEDIA#<wamid>` / `MEDIA`, written before the
 * message is acknowledged and kept in the work index (gsi2, `PENDING#MEDIA#<shard>`) until its
 * media is stored — the same durability as the CRM sync: the queue only carries the news, the
 * table is the truth, and the media sweep queues again whatever is overdue (a lost enqueue, a
 * function killed mid-way).
 *
 * The outcome lands on the message row (`media.state`, `media.s3Key`, `media.bytes`, …) first and
 * the work item goes second; a crash between the two redoes the job, which is idempotent (the
 * same S3 key, the same row fields).
 */
import { createHash } from 'node:crypto';
import { TABLE } from '../resources.ts';
import type { TableClient } from './client.ts';
import { keys } from './keys.ts';
import { dueWork } from './work-index.ts';

export const PENDING_MEDIA_SHARDS = 4;

/** What a media job needs to fetch and store one message's media. */
export interface MediaWork {
  readonly wamid: string;
  readonly contactId: string;
  readonly phoneNumberId: string;
  readonly mediaId: string;
  readonly kind: string;
  readonly mimeType?: string | undefined;
  /** The webhook's sha256 (base64). */
  readonly sha256?: string | undefined;
  readonly filename?: string | undefined;
  /** The message's time, ms (stored media keys and the archive are by month). */
  readonly sentAt: number;
  readonly receivedAt: number;
}

export type MediaState = 'stored' | 'failed' | 'too_large';

/** The outcome written on the message row's `media`. */
export interface MediaOutcome {
  readonly state: MediaState;
  readonly s3Key?: string | undefined;
  readonly bytes?: number | undefined;
  readonly contentType?: string | undefined;
  /** SHA-256 (hex) of the bytes Meta gave, as checked. */
  readonly sha256?: string | undefined;
  readonly width?: number | undefined;
  readonly height?: number | undefined;
  /** Why it failed or is flagged. */
  readonly reason?: string | undefined;
  readonly at: number;
}

const mediaKey = (wamid: string) => ({ pk: `MEDIA#${wamid}`, sk: 'MEDIA' });
const partition = (shard: number) => `PENDING#MEDIA#${shard}`;
function shardOf(wamid: string): number {
  return createHash('sha256').update(wamid).digest()[1]! % PENDING_MEDIA_SHARDS;
}
const workIndex = (wamid: string, dueAt: number) => ({ gsi2pk: partition(shardOf(wamid)), gsi2sk: `${new Date(dueAt).toISOString()}#${wamid}` });

export class MediaStore {
  constructor(private readonly table: TableClient) {}

  /** Records the work (once: a repeated delivery changes nothing). True when it is new. */
  async queue(work: MediaWork): Promise<boolean> {
    return this.table.put(
      { ...mediaKey(work.wamid), ...workIndex(work.wamid, work.receivedAt), ...work, attempts: 0, [TABLE.ttlAttribute]: this.table.expiresAt(work.receivedAt) },
      'attribute_not_exists(pk)',
    );
  }

  get(wamid: string): Promise<(MediaWork & { attempts: number; lastError?: string }) | undefined> {
    return this.table.get(mediaKey(wamid));
  }

  /** Work due before `before` (ms), oldest first. */
  async pending(before: number, limit: number): Promise<MediaWork[]> {
    const partitions = Array.from({ length: PENDING_MEDIA_SHARDS }, (_, shard) => partition(shard));
    return (await dueWork(this.table, partitions, before, limit)).map(workOf);
  }

  /** A failed attempt with more to come: due again at `dueAt` (the sweep leaves it alone until then). */
  async recordRetry(wamid: string, error: string, dueAt: number): Promise<void> {
    const due = workIndex(wamid, dueAt);
    await this.table.update(mediaKey(wamid), {
      update: 'SET lastError = :e, gsi2pk = :pk, gsi2sk = :sk ADD attempts :one',
      condition: 'attribute_exists(pk)',
      values: { ':e': error.slice(0, 2000), ':pk': due.gsi2pk, ':sk': due.gsi2sk, ':one': 1 },
    });
  }

  /** The outcome on the message row, then the work is done (its item removed). */
  async complete(wamid: string, outcome: MediaOutcome): Promise<void> {
    const fields = Object.entries(outcome).filter(([, v]) => v !== undefined);
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets = fields.map(([field, value], i) => {
      names[`#f${i}`] = field;
      values[`:v${i}`] = value;
      return `media.#f${i} = :v${i}`;
    });
    // A message row always exists before its work (written first); without `media` it is not ours to fill.
    const { applied } = await this.table.update(keys.message(wamid), { update: `SET ${sets.join(', ')}`, condition: 'attribute_exists(media)', names, values });
    if (!applied) throw new Error(`message ${wamid} has no media row to record its outcome on (not stored yet): retried`);
    if (outcome.state !== 'failed') return this.table.delete(mediaKey(wamid));
    // Failed for good: parked where a redrive finds it, out of the sweep's way.
    const parked = { gsi2pk: `FAILED#MEDIA#${shardOf(wamid)}`, gsi2sk: `${new Date(outcome.at).toISOString()}#${wamid}` };
    await this.table.update(mediaKey(wamid), { update: 'SET gsi2pk = :pk, gsi2sk = :sk, lastError = :e', condition: 'attribute_exists(pk)', values: { ':pk': parked.gsi2pk, ':sk': parked.gsi2sk, ':e': (outcome.reason ?? 'failed').slice(0, 2000) } });
  }

  /** A job sent back from the DLQ: its work pending again (the sweep's partition), due now. */
  async markRedriven(wamid: string, at: number): Promise<boolean> {
    const due = workIndex(wamid, at);
    const { applied } = await this.table.update(mediaKey(wamid), { update: 'SET gsi2pk = :pk, gsi2sk = :sk, attempts = :zero', condition: 'attribute_exists(pk)', values: { ':pk': due.gsi2pk, ':sk': due.gsi2sk, ':zero': 0 } });
    return applied;
  }
}

function workOf(item: Record<string, unknown>): MediaWork {
  const text = (k: string) => (typeof item[k] === 'string' ? (item[k] as string) : undefined);
  return {
    wamid: text('wamid')!,
    contactId: text('contactId')!,
    phoneNumberId: text('phoneNumberId')!,
    mediaId: text('mediaId')!,
    kind: text('kind')!,
    mimeType: text('mimeType'),
    sha256: text('sha256'),
    filename: text('filename'),
    sentAt: Number(item['sentAt']),
    receivedAt: Number(item['receivedAt']),
  };
}
