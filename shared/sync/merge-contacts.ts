/**
 * Merging duplicate customers (ID-3) and undoing it. Our side first (idempotent): the oldest
 * contact survives and the other points to it (IdentityResolver.merge: identities moved, both
 * histories kept where they are and read together through `mergedFrom`), then the CRM's own merge
 * of their records, so one CRM record remains. A CRM merge that failed is made by the next try
 * (the same merge again changes nothing on our side).
 *
 * Undo works from the merge record: the absorbed contact stands alone again with its identities
 * and history. CRMs cannot undo a merge through their APIs, so its CRM link is dropped and its
 * next sync finds or creates its own CRM record again.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { CrmAdapter } from '../crm/port.ts';
import { hasTwoWay } from '../crm/two-way.ts';
import { contactCrmId } from '../domain/records.ts';
import { IdentityResolver, identitiesOfContact } from '../identity/resolver.ts';
import { contactSyncJob, type SyncJobSink } from '../queue/sync-jobs.ts';
import { CRM_LINK_PREFIX } from '../store/contacts.ts';
import { keys } from '../store/keys.ts';
import type { Store } from '../store/store.ts';
import { mergeId, type DuplicateRow, type MergeRow } from '../store/two-way.ts';

export interface MergeDeps {
  readonly store: Store;
  /** The CRM whose records are merged too; absent: ours only. */
  readonly crm?: (() => CrmAdapter) | undefined;
  readonly syncJobs?: SyncJobSink | undefined;
  readonly logger: Pick<Logger, 'info' | 'warn'>;
  readonly now: () => number;
}

export class MergeError extends Error {
  override readonly name = 'MergeError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** Merges the two contacts of a duplicate candidate; the merge record it leaves. */
export async function mergeDuplicate(deps: MergeDeps, duplicate: DuplicateRow, by: string): Promise<MergeRow> {
  const { store } = deps;
  const at = deps.now();
  const [a, b] = await Promise.all([store.contacts.get(duplicate.aId), store.contacts.get(duplicate.bId)]);
  if (!a || !b) throw new MergeError(`contact ${a ? duplicate.bId : duplicate.aId} of duplicate ${duplicate.id} is not stored`, 404);
  const { survivor } = await new IdentityResolver(store).merge([a.contactId, b.contactId], at);
  const absorbed = survivor === a.contactId ? b : a;
  const id = mergeId(survivor, absorbed.contactId);
  const existing = await store.twoWay.merge(id);
  const row: MergeRow = existing && existing.undoneAt === undefined ? existing : { id, survivorId: survivor, absorbedId: absorbed.contactId, at, by, duplicateId: duplicate.id, absorbedMergedFrom: absorbed.mergedFrom ?? [] };
  if (row !== existing) await store.twoWay.putMerge(row);
  await store.twoWay.decideDuplicate(duplicate.id, 'merged', at, by, id);
  await mergeCrmRecords(deps, row);
  deps.logger.info('duplicate customers merged', { survivor, absorbed: absorbed.contactId, by });
  return (await store.twoWay.merge(id)) ?? row;
}

/** The CRM's own merge of the two records (when both have one), and the survivor keeps the one that remains. */
async function mergeCrmRecords(deps: MergeDeps, row: MergeRow): Promise<void> {
  const crm = deps.crm?.();
  if (!crm) return;
  const [survivor, absorbed] = await Promise.all([deps.store.contacts.get(row.survivorId), deps.store.contacts.get(row.absorbedId)]);
  const survivorCrm = survivor && contactCrmId(survivor, crm.kind);
  const absorbedCrm = absorbed && contactCrmId(absorbed, crm.kind);
  if (!absorbedCrm || row.crm?.[crm.kind]) return;
  if (!survivorCrm) {
    // Only the absorbed customer was in the CRM: its record becomes the survivor's.
    await deps.store.contacts.setCrm(row.survivorId, { kind: crm.kind, id: absorbedCrm }, deps.now());
    await deps.store.twoWay.setMergeCrm(row.id, crm.kind, { survivor: absorbedCrm, absorbed: absorbedCrm });
    return;
  }
  if (survivorCrm === absorbedCrm) return;
  if (!hasTwoWay(crm)) throw new MergeError(`merged here; the ${crm.kind} adapter cannot merge CRM records`, 501);
  let merged: string;
  try {
    merged = (await crm.twoWay.mergeContacts(survivorCrm, absorbedCrm)).crmId;
  } catch (error) {
    throw new MergeError(`merged here; the ${crm.kind} merge of ${survivorCrm} and ${absorbedCrm} failed (${(error as Error).message}): merge again to retry`, 502);
  }
  await deps.store.contacts.setCrm(row.survivorId, { kind: crm.kind, id: merged }, deps.now());
  // Changes of the absorbed record that arrive late belong to the survivor now.
  await deps.store.twoWay.linkCrm(crm.kind, absorbedCrm, row.survivorId, deps.now());
  await deps.store.twoWay.setMergeCrm(row.id, crm.kind, { survivor: merged, absorbed: absorbedCrm });
  await deps.syncJobs?.enqueue([contactSyncJob(row.survivorId, `merged:${row.absorbedId}`)]);
}

/** Undoes a merge from its record: both contacts stand alone again, each with its own history. */
export async function undoMerge(deps: MergeDeps, id: string): Promise<MergeRow> {
  const { store } = deps;
  const row = await store.twoWay.merge(id);
  if (!row) throw new MergeError(`no merge ${id}`, 404);
  if (row.undoneAt !== undefined) return row;
  const at = deps.now();
  const absorbed = await store.contacts.get(row.absorbedId);
  if (!absorbed) throw new MergeError(`contact ${row.absorbedId} of merge ${id} is not stored`, 404);
  if (absorbed.mergedInto !== row.survivorId) throw new MergeError(`contact ${row.absorbedId} is not merged into ${row.survivorId} any more`, 409);
  const crmKinds = Object.keys(absorbed.crmIds ?? {});
  await store.table.update(keys.contact(row.absorbedId), {
    update: `REMOVE mergedInto, mergedAt${crmKinds.map((_, i) => `, #crm${i}`).join('')} SET updatedAt = :at`,
    condition: 'mergedInto = :survivor',
    names: Object.fromEntries(crmKinds.map((k, i) => [`#crm${i}`, `${CRM_LINK_PREFIX}${k}`])),
    values: { ':survivor': row.survivorId, ':at': at },
  });
  await store.table.update(keys.contact(row.survivorId), {
    update: 'DELETE mergedFrom :gone SET updatedAt = :at',
    values: { ':gone': new Set([row.absorbedId, ...row.absorbedMergedFrom]), ':at': at },
  });
  for (const identity of identitiesOfContact(absorbed)) await store.identities.move(identity, row.survivorId, row.absorbedId, at);
  await store.twoWay.markUndone(id, at);
  if (row.duplicateId) await store.twoWay.decideDuplicate(row.duplicateId, 'open', at, 'undo');
  await deps.syncJobs?.enqueue([contactSyncJob(row.absorbedId, `unmerged:${row.survivorId}:${at}`)]);
  deps.logger.info('merge undone', { survivor: row.survivorId, absorbed: row.absorbedId });
  return (await store.twoWay.merge(id)) ?? row;
}
