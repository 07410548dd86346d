/** Webhook content that could not be understood or stored as such, kept raw for a person (invariant 6). */
import { TABLE } from '../resources.ts';
import type { TableClient } from './client.ts';
import { keys } from './keys.ts';

export interface RawEvent {
  readonly reason: string;
  readonly field: string;
  readonly phoneNumberId?: string | undefined;
  readonly raw: string;
}

export class RawEventStore {
  constructor(private readonly table: TableClient) {}

  /** Keeps an event once per distinct payload (keyed by its hash). */
  async put(hash: string, event: RawEvent, at: number): Promise<void> {
    await this.table.put(
      {
        ...keys.raw(hash),
        gsi1pk: keys.rawDay(at),
        gsi1sk: new Date(at).toISOString(),
        ...event,
        receivedAt: at,
        [TABLE.ttlAttribute]: this.table.expiresAt(at),
      },
      'attribute_not_exists(pk)',
    );
  }

  /** Every raw event kept on one UTC day (YYYY-MM-DD), all pages. */
  on(day: string): Promise<(RawEvent & { receivedAt: number })[]> {
    return this.table.queryAll({
      IndexName: TABLE.indexes.byContact.name,
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.rawDayOf(day) },
    });
  }
}
