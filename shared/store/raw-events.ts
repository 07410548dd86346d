/**
 * Webhook content that could not be understood or stored as such, kept raw for a person
 * (invariant 6), once per distinct payload. A payload too large for a table item (DynamoDB's
 * limit is 400 KB) is kept whole in the bucket under `raw/`, with a preview in the table.
 */
import { BUCKET_LAYOUT, TABLE } from '../resources.ts';
import type { TableClient } from './client.ts';
import { keys } from './keys.ts';

export interface RawEvent {
  readonly reason: string;
  readonly field: string;
  readonly phoneNumberId?: string | undefined;
  readonly raw: string;
}

export interface StoredRawEvent extends RawEvent {
  readonly receivedAt: number;
  /** Set when `raw` is only the start of the payload; the whole is in the bucket at `rawKey`. */
  readonly rawTruncated?: boolean;
  readonly rawKey?: string;
}

/** Where payloads too large for the table go (the data bucket). */
export interface RawArchive {
  put(key: string, body: string): Promise<void>;
  get(key: string): Promise<string>;
}

/** Payloads up to this many characters live in the table item; larger ones in the bucket. */
export const INLINE_RAW_LIMIT = 100_000;
const PREVIEW_LENGTH = 2_000;

export class RawEventStore {
  constructor(
    private readonly table: TableClient,
    private readonly archive?: RawArchive,
  ) {}

  /** Keeps an event once per distinct payload (keyed by its hash). */
  async put(hash: string, event: RawEvent, at: number): Promise<void> {
    let stored: RawEvent & { rawTruncated?: boolean; rawKey?: string } = event;
    if (event.raw.length > INLINE_RAW_LIMIT) {
      if (!this.archive) throw new Error(`a raw event of ${event.raw.length} characters needs the data bucket (SCRM_BUCKET_NAME)`);
      const rawKey = `${BUCKET_LAYOUT.raw}${new Date(at).toISOString().slice(0, 10)}/${hash}.json`;
      await this.archive.put(rawKey, event.raw);
      stored = { ...event, raw: event.raw.slice(0, PREVIEW_LENGTH), rawTruncated: true, rawKey };
    }
    await this.table.put(
      {
        ...keys.raw(hash),
        gsi1pk: keys.rawDay(at),
        gsi1sk: new Date(at).toISOString(),
        ...stored,
        receivedAt: at,
        [TABLE.ttlAttribute]: this.table.expiresAt(at),
      },
      'attribute_not_exists(pk)',
    );
  }

  /** Every raw event kept on one UTC day (YYYY-MM-DD), all pages. */
  on(day: string): Promise<StoredRawEvent[]> {
    return this.table.queryAll({
      IndexName: TABLE.indexes.byContact.name,
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.rawDayOf(day) },
    });
  }

  /** The whole payload of a kept event, from the bucket when the table holds a preview. */
  async full(event: StoredRawEvent): Promise<string> {
    if (!event.rawTruncated || !event.rawKey) return event.raw;
    if (!this.archive) throw new Error('the data bucket is not configured (SCRM_BUCKET_NAME)');
    return this.archive.get(event.rawKey);
  }
}
