/**
 * Creating one Zoho record per idempotency key, exactly once — the mechanism behind logged
 * messages, deals, tasks and service reports. The key sits in a custom field marked unique ("Do
 * not allow duplicate values"), and Zoho checks unique fields on every insert: a second insert of
 * the same key is refused with DUPLICATE_DATA, whose details name the record that holds it
 * (`duplicate_record.id`). So:
 * - the steady path is one insert;
 * - a replay (a retried job, a concurrent duplicate in another process) is answered DUPLICATE_DATA
 *   and resolves to the existing record, which is not written again — a deal a sales user moved
 *   on keeps its stage, a task its status (an upsert would overwrite them);
 * - an insert whose answer was lost (timeout, 5xx) is looked up by sending it again: the same
 *   unique-key check, made by Zoho at write time, unlike the search index, which lags writes by
 *   seconds and could miss the record just made.
 */
import { CrmError } from '../port.ts';
import { recordError, type Values, type ZohoApi } from './api.ts';
import { anyEquals } from './format.ts';

export interface InsertOnceInput {
  readonly module: string;
  /** The idempotency key, and the unique field holding it. */
  readonly key: string;
  readonly keyField: string;
  readonly record: Values;
  /** Names the record in errors, e.g. "message". */
  readonly what: string;
}

/** Inserts sent again after an insert whose outcome was unknown. */
const MAX_UNKNOWN_OUTCOMES = 2;

export async function insertOnce(api: ZohoApi, input: InsertOnceInput): Promise<{ crmId: string; created: boolean; calls: number }> {
  for (let unknown = 0; ; unknown++) {
    let results;
    try {
      results = await api.insert(input.module, [{ ...input.record, [input.keyField]: input.key }]);
    } catch (error) {
      if (error instanceof CrmError && error.details.outcomeUnknown && unknown < MAX_UNKNOWN_OUTCOMES) continue;
      throw error;
    }
    const result = results[0]!;
    if (result.ok) return { crmId: result.id, created: true, calls: api.calls };
    if (result.code === 'DUPLICATE_DATA' && result.field === input.keyField) {
      const existing = result.duplicateId ?? (await findByKey(api, input));
      if (existing) return { crmId: existing, created: false, calls: api.calls };
      throw new CrmError('transient', `Zoho reported ${input.what} ${input.key} as a duplicate but cannot find it yet`, { crm: 'zoho', category: 'DUPLICATE_DATA' });
    }
    throw recordError(result, `creating a ${input.what}`);
  }
}

/** The record holding the key, by search (only when Zoho's duplicate answer did not name it). */
async function findByKey(api: ZohoApi, input: InsertOnceInput): Promise<string | undefined> {
  const records = await api.search(input.module, anyEquals([{ field: input.keyField, value: input.key }]), [input.keyField]);
  return records.find((r) => r[input.keyField] === input.key)?.id;
}
