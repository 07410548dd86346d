/**
 * CRM-vs-WhatsApp conflicts kept for human review, under their day (ID-5, SY-3): both values,
 * both times, the winner; a person may resolve one with the value to keep.
 */
import type { ConflictRecord } from '../domain/intelligence/conflicts.ts';
import type { FieldConflict } from '../domain/two-way.ts';
import { TABLE } from '../resources.ts';
import type { TableClient } from './client.ts';
import { keys } from './keys.ts';

export interface ConflictRow extends FieldConflict {
  /** `<day>~<ISO time>~<contactId>~<field>`: the conflict's key, readable. */
  readonly id: string;
  readonly contactId: string;
  /** The CRM whose change met ours. */
  readonly crm?: string | undefined;
  readonly resolved?: { readonly value: string | null; readonly at: number; readonly by?: string | undefined } | undefined;
}

export const conflictId = (day: string, at: number, contactId: string, field: string) => `${day}~${new Date(at).toISOString()}~${contactId}~${field}`;

export function parseConflictId(id: string): { day: string; sk: string } | undefined {
  const [day, iso, contactId, ...field] = id.split('~');
  if (!day || !/^\d{4}-\d{2}-\d{2}$/.test(day) || !iso || Number.isNaN(Date.parse(iso)) || !contactId || field.length === 0) return undefined;
  return { day, sk: `${iso}#${contactId}#${field.join('~')}` };
}

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

  /** A two-way field's conflict (SY-3); recorded once (a repeated delivery finds it there). */
  async recordField(contactId: string, conflict: FieldConflict, crm: string): Promise<ConflictRow> {
    const row: ConflictRow = { id: conflictId(conflict.day, conflict.at, contactId, conflict.field), contactId, crm, ...conflict };
    await this.table.put({ ...keys.conflict(conflict.day, conflict.at, contactId, conflict.field), ...row, [TABLE.ttlAttribute]: this.table.expiresAt(conflict.at) }, 'attribute_not_exists(pk)');
    return row;
  }

  async get(id: string): Promise<ConflictRow | undefined> {
    const parsed = parseConflictId(id);
    if (!parsed) return undefined;
    const row = await this.table.get<ConflictRow>({ pk: keys.conflictDay(parsed.day), sk: parsed.sk });
    return row && row.id ? row : undefined;
  }

  async markResolved(id: string, value: string | null, at: number, by: string | undefined): Promise<void> {
    const parsed = parseConflictId(id);
    if (!parsed) return;
    await this.table.update({ pk: keys.conflictDay(parsed.day), sk: parsed.sk }, { update: 'SET resolved = :r', condition: 'attribute_exists(pk)', values: { ':r': { value, at, ...(by && { by }) } } });
  }

  /** The conflicts of one UTC day (YYYY-MM-DD), in the order they arose. */
  on(day: string): Promise<(ConflictRecord & { contactId: string })[]> {
    return this.table.queryAll({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.conflictDay(day) } });
  }

  /** The two-way field conflicts of one UTC day, in the order they arose. */
  async fieldConflictsOn(day: string): Promise<ConflictRow[]> {
    return (await this.table.queryAll<ConflictRow>({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.conflictDay(day) } })).filter((r) => typeof r.id === 'string' && 'ours' in r);
  }
}
