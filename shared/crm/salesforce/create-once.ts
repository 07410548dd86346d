/**
 * Creating one record per idempotency key, exactly once, where an upsert would not do: an
 * Opportunity or a Task must not be rewritten by a repeat (sales moves the stage, completes the
 * task), so it is created with POST and its key in an External ID field.
 *
 * - With Unique on the key field, the create itself is the claim: a duplicate answers
 *   DUPLICATE_VALUE and the record is read back by its key. One call on the steady path.
 * - `lookFirst` (Task: activity fields cannot always be Unique) reads by the key before creating.
 * A create whose answer was lost (timeout, 5xx after the write) is looked up by its key before it
 * is sent again — never repeated blindly.
 */
import { CrmError } from '../port.ts';
import type { FieldValues, SalesforceApi } from './api.ts';
import { inList } from './soql.ts';

export interface CreateOnceInput {
  readonly object: string;
  readonly keyField: string;
  /** The stored key (fields.ts externalKey). */
  readonly key: string;
  /** The record, its key field included. */
  readonly fields: FieldValues;
  readonly what: string;
  readonly lookFirst: boolean;
}

/** Creates after a create whose outcome was unknown, each after looking first. */
const MAX_UNKNOWN_OUTCOMES = 2;

export async function createOnce(api: SalesforceApi, input: CreateOnceInput): Promise<{ crmId: string; created: boolean; calls: number }> {
  const done = (crmId: string, created: boolean) => ({ crmId, created, calls: api.calls });
  if (input.lookFirst) {
    const existing = await findByKey(api, input);
    if (existing) return done(existing, false);
  }
  for (let unknown = 0; ; unknown++) {
    let outcome;
    try {
      outcome = await api.create(input.object, input.fields, `${input.what} create`);
    } catch (error) {
      if (!(error instanceof CrmError && error.details.outcomeUnknown) || unknown >= MAX_UNKNOWN_OUTCOMES) throw error;
      const existing = await findByKey(api, input);
      if (existing) return done(existing, false);
      continue;
    }
    if (outcome.kind === 'created') return done(outcome.id, true);
    const existing = (outcome.holderId && outcome.field === input.keyField ? outcome.holderId : undefined) ?? (await findByKey(api, input));
    if (!existing) throw new CrmError('transient', `Salesforce reported ${input.what} ${input.key} as a duplicate but cannot read it back`, { crm: 'salesforce' });
    return done(existing, false);
  }
}

/** The oldest record holding the key (SOQL reads the database: a record just made is there). */
async function findByKey(api: SalesforceApi, input: CreateOnceInput): Promise<string | undefined> {
  const [found] = await api.query(`SELECT Id FROM ${input.object} WHERE ${inList(input.keyField, [input.key])} ORDER BY CreatedDate ASC LIMIT 1`, `${input.what} lookup`);
  return found?.Id;
}
