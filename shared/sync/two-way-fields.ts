/**
 * Our side of the two-way fields, at each contact upsert (SY-3): the WhatsApp profile name's
 * change becomes an edit of the name, the CRM record's creation is the first agreement, and an
 * edit the CRM has not got yet (ours, or a person's decision on a conflict) is written to it.
 *
 * The customer level is written by every upsert (it is a mapped field, ID-6), so every upsert
 * counts as a write of it: a sales edit made just before and delivered just after is then seen as
 * overwritten by ours — a conflict, the newer edit wins and goes back to the CRM.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { CrmAdapter, CrmContactResult } from '../crm/port.ts';
import { hasTwoWay, TWO_WAY_FIELDS, type CrmContactChange, type TwoWayField } from '../crm/two-way.ts';
import type { Contact } from '../domain/records.ts';
import { applyCrmChange, applyWhatsAppValue, firstNameOfProfile, markPushed, needsPush, type FieldConflict, type FieldState } from '../domain/two-way.ts';
import type { Store } from '../store/store.ts';

export interface TwoWayFieldDeps {
  readonly store: Pick<Store, 'twoWay' | 'contacts' | 'conflicts'>;
  readonly crm: CrmAdapter;
  readonly logger: Pick<Logger, 'info' | 'warn'>;
  readonly now: () => number;
}

/** Rounds of writing while changes keep arriving under our write (each round re-reads). */
const MAX_ROUNDS = 3;

/** After the contact's upsert: our edits noted, the CRM's creation agreed, pending edits written. CRM calls made. */
export async function settleTwoWayFields(deps: TwoWayFieldDeps, contact: Contact, crmContact: CrmContactResult, deadline: number): Promise<number> {
  const { crm, store } = deps;
  if (!hasTwoWay(crm)) return 0;
  const read = (id: string) => store.contacts.get(id);
  const upsertAt = deps.now();
  const conflicts: FieldConflict[] = [];
  let pending = await store.twoWay.updateFields(
    contact.contactId,
    (current, states) => {
      conflicts.length = 0;
      const next: Record<string, FieldState> = {};
      let first = states['firstName'];
      const wa = firstNameOfProfile(current.profileName);
      if (wa !== null || first) {
        const outcome = applyWhatsAppValue('firstName', first, wa, current.lastInboundAt ?? current.updatedAt);
        first = outcome.state;
        if (outcome.conflict) conflicts.push(outcome.conflict);
      }
      // The record this upsert created took the name as we had it (create-only fields); a record
      // sales made keeps theirs until one side edits (we do not write over it unasked).
      if (first && first.synced === undefined) first = { ...first, synced: first.value };
      if (first && first !== states['firstName']) next['firstName'] = first;
      // The upsert wrote the customer level as the contact had it (a mapped field).
      const level = states['customerLevel'];
      next['customerLevel'] = level ? markPushed(level, contact.customerLevel, upsertAt) : markPushed({ value: contact.customerLevel, at: current.createdAt, by: 'whatsapp' }, contact.customerLevel, upsertAt);
      const set: Record<string, unknown> = {};
      if (first?.value && first.value !== current.firstName) set['firstName'] = first.value;
      return { states: next, set, result: toWrite({ ...states, ...next }) };
    },
    read,
  );
  for (const conflict of conflicts) await store.conflicts.recordField(contact.contactId, conflict, crm.kind);
  let calls = 0;
  for (let round = 0; pending?.length && round < MAX_ROUNDS; round++) {
    // The CRM's fields as they are now, resolved first: a sales edit whose notification is still
    // on its way (or read back later, after our write made us the record's last writer) would
    // otherwise be overwritten unseen.
    const current = await crm.twoWay.readContact(crmContact.crmId, { deadline });
    calls += current.calls;
    if (current.change) pending = await resolveCurrent(deps, contact.contactId, current.change);
    if (!pending?.length) break;
    const written = pending;
    calls += (await crm.twoWay.writeFields(crmContact.crmId, Object.fromEntries(written), { deadline })).calls;
    const pushedAt = deps.now();
    pending = await store.twoWay.updateFields(
      contact.contactId,
      (_c, states) => {
        const next: Record<string, FieldState> = {};
        for (const [field, value] of written) if (states[field]) next[field] = markPushed(states[field], value, pushedAt);
        // A change that came in while we wrote is pending again: written next round.
        return { states: next, set: {}, result: toWrite({ ...states, ...next }) };
      },
      read,
    );
    deps.logger.info('two-way fields written to the CRM', { contactId: contact.contactId, fields: written.map(([f]) => f), round });
  }
  return calls;
}

/** The CRM's current values of the fields we are about to write, applied as CRM changes (conflicts recorded). What is still ours to write. */
async function resolveCurrent(deps: TwoWayFieldDeps, contactId: string, change: CrmContactChange): Promise<(readonly [TwoWayField, string | null])[] | undefined> {
  const { store } = deps;
  const conflicts: FieldConflict[] = [];
  const pending = await store.twoWay.updateFields(
    contactId,
    (_c, states) => {
      conflicts.length = 0;
      const next: Record<string, FieldState> = {};
      const set: Record<string, unknown> = {};
      for (const c of change.changes) {
        if (!needsPush(states[c.field])) continue;
        const r = applyCrmChange(c.field, states[c.field], { value: c.value, at: c.at, ours: change.ours });
        if (r.state === states[c.field]) continue;
        next[c.field] = r.state;
        if (r.changed && r.state.value !== null) set[c.field] = r.state.value;
        if (r.conflict) conflicts.push(r.conflict);
      }
      const result = toWrite({ ...states, ...next });
      return Object.keys(next).length ? { states: next, set, result } : { result };
    },
    (id) => store.contacts.get(id),
  );
  for (const conflict of conflicts) await store.conflicts.recordField(contactId, conflict, deps.crm.kind);
  return pending;
}

function toWrite(states: Readonly<Record<string, FieldState>>): (readonly [TwoWayField, string | null])[] {
  return (TWO_WAY_FIELDS as readonly TwoWayField[]).flatMap((field) => (needsPush(states[field]) ? [[field, states[field]!.value] as const] : []));
}
