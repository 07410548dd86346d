/**
 * What two-way sync keeps (SY-3, ID-3, ID-5): which contact a CRM record is, the CRM events
 * already taken, each two-way field's state on the contact, duplicate candidates and merges.
 *
 * | item            | pk                              | sk                      |
 * |-----------------|---------------------------------|-------------------------|
 * | CRM link        | CRMLINK#<kind>#<crm id>         | LINK                    | → contactId
 * | CRM event       | CRMEVENT#<kind>#<event id>      | EVENT                   | state queued | applied
 * | duplicate       | DUPLICATES                      | <aId>~<bId>             | candidate, open | merged | dismissed
 * | merge           | MERGE#<survivor>~<absorbed>     | MERGE                   | what undoing it needs
 *
 * A field's state lives on the contact (`tw_<field>`, with `twRev` for optimistic writes), so the
 * field's new value and the mark that it was applied are one conditional write.
 */
import type { FieldState } from '../domain/two-way.ts';
import type { Contact } from '../domain/records.ts';
import { TABLE } from '../resources.ts';
import type { TableClient } from './client.ts';
import { keys } from './keys.ts';

export const FIELD_STATE_PREFIX = 'tw_';

export type CrmEventState = 'queued' | 'applied';

export interface DuplicateRow {
  readonly id: string;
  readonly aId: string;
  readonly bId: string;
  /** Name similarity 0..1 (normalised Levenshtein): the candidate's confidence. */
  readonly similarity: number;
  readonly sku: string;
  readonly foundAt: number;
  readonly state: 'open' | 'merged' | 'dismissed';
  readonly mergeId?: string | undefined;
  readonly decidedAt?: number | undefined;
  readonly decidedBy?: string | undefined;
}

export interface MergeRow {
  readonly id: string;
  readonly survivorId: string;
  readonly absorbedId: string;
  readonly at: number;
  /** Who merged: a person (`api`), the daily job above the confidence (`auto`), or identity evidence. */
  readonly by: string;
  readonly duplicateId?: string | undefined;
  /** The absorbed contact's `mergedFrom` before (they move to the survivor with it). */
  readonly absorbedMergedFrom: readonly string[];
  /** CRM records merged, by CRM kind: the absorbed record's id and the survivor's. */
  readonly crm?: Readonly<Record<string, { readonly survivor: string; readonly absorbed: string }>> | undefined;
  readonly undoneAt?: number | undefined;
}

export const duplicateId = (aId: string, bId: string) => (aId < bId ? `${aId}~${bId}` : `${bId}~${aId}`);
export const mergeId = (survivorId: string, absorbedId: string) => `${survivorId}~${absorbedId}`;

const MAX_ROUNDS = 5;

export class TwoWayStore {
  constructor(private readonly table: TableClient) {}

  /** Remembers which contact a CRM record is (written with the contact's CRM id). */
  async linkCrm(kind: string, crmId: string, contactId: string, at: number): Promise<void> {
    await this.table.put({ ...keys.crmLink(kind, crmId), contactId, kind, crmId, at });
  }

  async contactOfCrm(kind: string, crmId: string): Promise<string | undefined> {
    return (await this.table.get<{ contactId: string }>(keys.crmLink(kind, crmId), ['contactId']))?.contactId;
  }

  /**
   * Takes a CRM event once: `new` the first time (stored as queued), else the state it has. An
   * event stored but not applied (the queue lost it, the enqueue failed) is `queued`: send it again.
   */
  async acceptEvent(kind: string, eventId: string, at: number): Promise<'new' | CrmEventState> {
    const key = keys.crmEvent(kind, eventId);
    if (await this.table.put({ ...key, kind, eventId, state: 'queued', at, [TABLE.ttlAttribute]: this.table.expiresAt(at) }, 'attribute_not_exists(pk)')) return 'new';
    return (await this.table.get<{ state: CrmEventState }>(key, ['state']))?.state ?? 'queued';
  }

  async eventState(kind: string, eventId: string): Promise<CrmEventState | undefined> {
    return (await this.table.get<{ state: CrmEventState }>(keys.crmEvent(kind, eventId), ['state']))?.state;
  }

  async markApplied(kind: string, eventId: string, at: number): Promise<void> {
    await this.table.put({ ...keys.crmEvent(kind, eventId), kind, eventId, state: 'applied', at, [TABLE.ttlAttribute]: this.table.expiresAt(at) });
  }

  /**
   * Changes the contact's two-way fields with `decide` (pure), retried while another write got
   * there first. `decide` answers the new states and plain attributes to set with them (the
   * contact's `firstName`, `customerLevel`), or undefined for no write.
   */
  async updateFields<T>(
    contactId: string,
    decide: (contact: Contact, states: Readonly<Record<string, FieldState>>) => { states: Record<string, FieldState>; set: Record<string, unknown>; result: T } | { result: T; states?: undefined },
    read: (contactId: string) => Promise<Contact | undefined>,
  ): Promise<T | undefined> {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const contact = await read(contactId);
      if (!contact) return undefined;
      const states = fieldStatesOf(contact);
      const rev = (contact as unknown as { twRev?: number }).twRev ?? 0;
      const decision = decide(contact, states);
      if (!decision.states) return decision.result;
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = { ':rev': rev, ':next': rev + 1 };
      const sets = ['twRev = :next'];
      Object.entries(decision.states).forEach(([field, state], i) => {
        names[`#f${i}`] = `${FIELD_STATE_PREFIX}${field}`;
        values[`:f${i}`] = stripUndefined(state);
        sets.push(`#f${i} = :f${i}`);
      });
      Object.entries(decision.set).forEach(([attribute, value], i) => {
        names[`#a${i}`] = attribute;
        values[`:a${i}`] = value;
        sets.push(`#a${i} = :a${i}`);
      });
      const { applied } = await this.table.update(keys.contact(contactId), {
        update: `SET ${sets.join(', ')}`,
        condition: rev === 0 ? 'attribute_exists(pk) AND (attribute_not_exists(twRev) OR twRev = :rev)' : 'twRev = :rev',
        names,
        values,
      });
      if (applied) return decision.result;
    }
    throw new Error(`two-way fields of contact ${contactId} kept changing under this write; retried`);
  }

  async putDuplicate(row: DuplicateRow): Promise<boolean> {
    // Found again: a candidate a person dismissed or merged stays decided.
    return this.table.put({ ...keys.duplicate(row.id), ...stripUndefined(row) }, 'attribute_not_exists(pk)');
  }

  async duplicate(id: string): Promise<DuplicateRow | undefined> {
    return this.table.get<DuplicateRow>(keys.duplicate(id));
  }

  async duplicates(state?: DuplicateRow['state']): Promise<DuplicateRow[]> {
    const rows = await this.table.queryAll<DuplicateRow>({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.duplicatePartition() } });
    return state ? rows.filter((r) => r.state === state) : rows;
  }

  async decideDuplicate(id: string, state: 'merged' | 'dismissed' | 'open', at: number, by: string, mergeIdValue?: string): Promise<void> {
    await this.table.update(keys.duplicate(id), {
      update: `SET #state = :state, decidedAt = :at, decidedBy = :by${mergeIdValue ? ', mergeId = :merge' : ''}`,
      condition: 'attribute_exists(pk)',
      names: { '#state': 'state' },
      values: { ':state': state, ':at': at, ':by': by, ...(mergeIdValue && { ':merge': mergeIdValue }) },
    });
  }

  async putMerge(row: MergeRow): Promise<void> {
    await this.table.put({ ...keys.merge(row.id), ...stripUndefined(row) });
  }

  async merge(id: string): Promise<MergeRow | undefined> {
    return this.table.get<MergeRow>(keys.merge(id));
  }

  async setMergeCrm(id: string, kind: string, crm: { survivor: string; absorbed: string }): Promise<void> {
    const row = await this.merge(id);
    if (!row) return;
    await this.table.update(keys.merge(id), { update: 'SET crm = :crm', values: { ':crm': { ...(row.crm ?? {}), [kind]: crm } } });
  }

  /** Marks the merge undone once; false when it already was. */
  async markUndone(id: string, at: number): Promise<boolean> {
    const { applied } = await this.table.update(keys.merge(id), { update: 'SET undoneAt = :at', condition: 'attribute_exists(pk) AND attribute_not_exists(undoneAt)', values: { ':at': at } });
    return applied;
  }
}

export function fieldStatesOf(contact: Contact): Record<string, FieldState> {
  const out: Record<string, FieldState> = {};
  for (const [name, value] of Object.entries(contact as unknown as Record<string, unknown>)) {
    if (name.startsWith(FIELD_STATE_PREFIX) && value && typeof value === 'object') out[name.slice(FIELD_STATE_PREFIX.length)] = value as FieldState;
  }
  return out;
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
