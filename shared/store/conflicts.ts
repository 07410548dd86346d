/** CRM-vs-WhatsApp conflicts kept for human review, under their day (ID-5). */
import type { ConflictRecord } from '../domain/intelligence/conflicts.ts';
import { TABLE } from '../resources.ts';
import type { TableClient } from './client.ts';
import { keys } from './keys.ts';

export class ConflictStore {
  constructor(private readonly table: TableClient) {}

  /** The key is derived from the conflict itself, so recording the same conflict again changes nothing. */
  async record(contactId: string, conflict: ConflictRecord): Promise<void> {
    await this.table.put({
      ...keys.conflict(conflict.day, conflict.at, contactId, conflict.field),
      contactId,
      ...conflict,
      [TABLE.ttlAttribute]: this.table.expiresAt(conflict.at),
    });
  }

  /** The conflicts of one UTC day (YYYY-MM-DD), in the order they arose. */
  on(day: string): Promise<(ConflictRecord & { contactId: string })[]> {
    return this.table.queryAll({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.conflictDay(day) } });
  }
}
