/**
 * Who is this customer? Finds or creates our contact for the identities a delivery carries,
 * race-free with conditional writes only (architecture: Identity; whatsapp-identity.md).
 *
 * - Any one identity finds the contact; a delivery with several links them all to it.
 * - Two deliveries creating the same new customer at once compute the same contact id (derived
 *   from the first identity) and the identity claims are conditional, so both end in one contact.
 * - When a delivery proves that existing contacts are one customer (a phone and a BSUID that
 *   point to different contacts), the oldest of them survives (domain/merge.ts), every identity
 *   moves to it and the others are marked merged into it, once each, with a conditional write:
 *   merges are transitive and can never form a cycle. History is never moved or lost.
 * - Every step is idempotent, so a retry after a failure at any point converges.
 */
import type { CustomerRef, IdentityChange } from '../domain/events.ts';
import { chooseSurvivor } from '../domain/merge.ts';
import type { Contact, LeadSource } from '../domain/records.ts';
import type { ContactSeed } from '../store/contacts.ts';
import { contactIdFor, type IdentityKey } from '../store/keys.ts';
import type { Store } from '../store/store.ts';

/**
 * Longest identity value kept as an identity item (its key must stay within DynamoDB's limits).
 * A BSUID is at most 128 characters after its country code; a phone far less. A longer value is
 * not an identity: the message keeps it in its raw JSON.
 */
export const MAX_IDENTITY_LENGTH = 256;

/** Identities of a customer reference, strongest first: BSUID, phone, parent BSUID. */
export function identitiesOf(customer: CustomerRef): IdentityKey[] {
  return strongestFirst(customer).filter((id) => id.value.length <= MAX_IDENTITY_LENGTH);
}

function strongestFirst(customer: CustomerRef): IdentityKey[] {
  const ids: IdentityKey[] = [];
  if (customer.bsuid) ids.push({ kind: 'bsuid', value: customer.bsuid });
  // Only a valid number is a phone identity; anything else is kept as the raw string it came as.
  if (customer.phone?.valid && customer.phone.e164) ids.push({ kind: 'phone', value: customer.phone.e164 });
  else if (customer.phone?.raw) ids.push({ kind: 'phone_raw', value: customer.phone.raw });
  if (customer.parentBsuid) ids.push({ kind: 'parent_bsuid', value: customer.parentBsuid });
  return ids;
}

export class NoIdentityError extends Error {
  override readonly name = 'NoIdentityError';
}

const MAX_MERGE_HOPS = 5;
/** Rounds of a merge that lost a race to another merge before it gives up (and the delivery is retried). */
const MAX_MERGE_ROUNDS = 5;

const keyOf = (id: IdentityKey) => `${id.kind}#${id.value}`;

export interface ResolvedContact {
  readonly contactId: string;
  /** True when this delivery created the contact's first identity. */
  readonly isNew: boolean;
  /** Contacts found to be this same customer and merged into it by this delivery. */
  readonly merged: readonly string[];
}

export class IdentityResolver {
  constructor(private readonly store: Pick<Store, 'contacts' | 'identities'>) {}

  /**
   * Finds or creates the contact of `customer`, linking every identity it carries.
   * `leadSource` only applies when the contact is created.
   *
   * Options: `owners`, the identity owners read ahead for a whole delivery (a stale entry is
   * harmless: every write below is conditional and re-reads when it loses); `willApply`, the
   * caller writes the contact itself next (an inbound message's effects, which create it), so a
   * brand-new contact is not written twice.
   */
  async resolve(
    customer: CustomerRef,
    at: number,
    lead: { source: LeadSource; referral?: ContactSeed['leadReferral'] } = { source: 'whatsapp' },
    options: { owners?: ReadonlyMap<string, string>; willApply?: boolean } = {},
  ): Promise<ResolvedContact> {
    const ids = identitiesOf(customer);
    const first = ids[0];
    if (!first) throw new NoIdentityError('no customer identity: no BSUID, no phone (or none of a usable length)');

    const owners = options.owners ? new Map(ids.flatMap((id) => (options.owners!.has(keyOf(id)) ? [[keyOf(id), options.owners!.get(keyOf(id))!]] : []))) : await this.store.identities.owners(ids);
    // The contact of the strongest identity already known; a brand-new customer gets the id
    // derived from its strongest identity (two concurrent first deliveries compute the same one).
    const known = ids.find((id) => owners.has(keyOf(id)));
    const target = known ? owners.get(keyOf(known))! : contactIdFor(first);
    const isNew = !known;
    // Steady state: every identity already points to one contact. Nothing to write here; the
    // contact's own update (applyInbound) fills in anything a crashed first delivery left out.
    if (ids.every((id) => owners.get(keyOf(id)) === target)) return { contactId: target, isNew, merged: [] };

    // Unknown identities are claimed for the target; a claim lost to a concurrent delivery
    // names the contact that won it.
    const holders = new Set([target]);
    for (const id of ids) {
      const owner = owners.get(keyOf(id)) ?? (await this.store.identities.claim(id, target, at));
      owners.set(keyOf(id), owner);
      holders.add(owner);
    }
    if (holders.size === 1) {
      if (isNew && options.willApply) return { contactId: target, isNew, merged: [] };
      const contact = await this.store.contacts.ensure(target, seedOf(customer, lead), at);
      return { contactId: await this.rootId(contact), isNew, merged: [] };
    }

    // Several contacts hold this customer's identities: this delivery proves they are one.
    const { survivor, merged } = await this.merge([...holders], at);
    await this.pointAll(ids, owners, survivor, at);
    // The survivor learns what this delivery tells and it did not know yet (a phone, …).
    await this.store.contacts.ensure(survivor, seedOf(customer, lead), at);
    return { contactId: survivor, isNew, merged };
  }

  /**
   * A number or BSUID change: the new identities join the contact of the old ones, and the
   * contact's current phone/BSUID move to the new values. The old identities keep pointing to it.
   */
  async applyChange(contactId: string, change: IdentityChange, previousPhone: string | undefined, at: number): Promise<readonly string[]> {
    const newPhone = change.newPhone?.valid ? change.newPhone.e164 : undefined;
    const ids: IdentityKey[] = [];
    if (change.newBsuid) ids.push({ kind: 'bsuid', value: change.newBsuid });
    if (newPhone) ids.push({ kind: 'phone', value: newPhone });
    const owners = await this.store.identities.owners(ids);
    const holders = new Set([contactId]);
    for (const id of ids) {
      const owner = owners.get(keyOf(id)) ?? (await this.store.identities.claim(id, contactId, at));
      owners.set(keyOf(id), owner);
      holders.add(owner);
    }
    const { survivor, merged } = await this.merge([...holders], at);
    await this.pointAll(ids, owners, survivor, at);
    await this.store.contacts.applyIdentityChange(
      survivor,
      {
        phone: newPhone,
        bsuid: change.newBsuid,
        previousPhone: newPhone ? previousPhone : undefined,
        previousBsuid: change.newBsuid ? change.previousBsuid : undefined,
      },
      at,
    );
    return merged;
  }

  /**
   * Merges contacts that are one customer into the one {@link chooseSurvivor} picks among their
   * current roots (a contact merged before leads to the one it became). Each loser is marked
   * with a conditional write — a contact is merged once, into a contact earlier in the survivor
   * order — so concurrent and opposing merges converge on one survivor and never form a cycle.
   * The survivor's `mergedFrom` gains the loser and everything merged into it before
   * (transitive), so its history covers every contact it absorbed.
   */
  async merge(contactIds: readonly string[], at: number): Promise<{ survivor: string; merged: string[] }> {
    let candidates = [...new Set(contactIds)];
    const merged: string[] = [];
    for (let round = 0; round < MAX_MERGE_ROUNDS; round++) {
      const roots = await this.rootsOf(candidates, at);
      const survivor = chooseSurvivor(roots);
      if (roots.length === 1) return { survivor: survivor.contactId, merged };
      let lost = false;
      for (const loser of roots) {
        if (loser.contactId === survivor.contactId) continue;
        if (!(await this.store.contacts.markMerged(loser.contactId, survivor.contactId, at))) {
          lost = true; // merged elsewhere meanwhile: its new root is taken next round
          continue;
        }
        await this.store.contacts.addMergedFrom(survivor.contactId, [loser.contactId, ...(loser.mergedFrom ?? [])], at);
        // Every identity of the merged contact moves too, so none leads to it any more.
        for (const id of identitiesOfContact(loser)) await this.store.identities.move(id, loser.contactId, survivor.contactId, at);
        merged.push(loser.contactId);
      }
      if (!lost) return { survivor: survivor.contactId, merged };
      candidates = roots.map((r) => r.contactId);
    }
    throw new Error(`merging ${contactIds.length} contacts did not settle after ${MAX_MERGE_ROUNDS} rounds; the delivery is retried`);
  }

  /** The contact a contact leads to through its merges. */
  private async rootId(contact: Contact): Promise<string> {
    let id = contact.contactId;
    let next = contact.mergedInto;
    for (let hop = 0; next && hop < MAX_MERGE_HOPS; hop++) {
      id = next;
      next = (await this.store.contacts.get(next))?.mergedInto;
    }
    return id;
  }

  /** The distinct roots (unmerged contacts) the given contacts lead to, each with its creation time. */
  private async rootsOf(contactIds: readonly string[], at: number): Promise<Contact[]> {
    const roots = new Map<string, Contact>();
    for (const start of contactIds) {
      let id = start;
      for (let hop = 0; ; hop++) {
        if (hop > MAX_MERGE_HOPS) throw new Error(`contact ${start} is merged more than ${MAX_MERGE_HOPS} times deep`);
        // A contact whose first delivery died before creating it gets its record (and creation
        // time) now: once written, a creation time never changes, so every process orders alike.
        const contact = (await this.store.contacts.get(id)) ?? (await this.store.contacts.ensure(id, { leadSource: 'whatsapp' }, at));
        if (!contact.mergedInto) {
          roots.set(contact.contactId, contact);
          break;
        }
        id = contact.mergedInto;
      }
    }
    return [...roots.values()];
  }

  /** Makes every identity point to `survivor` (conditional moves; a lost one is read again once). */
  private async pointAll(ids: readonly IdentityKey[], owners: Map<string, string>, survivor: string, at: number): Promise<void> {
    for (const id of ids) {
      const owner = owners.get(keyOf(id));
      if (owner === undefined || owner === survivor) continue;
      if (await this.store.identities.move(id, owner, survivor, at)) continue;
      const fresh = (await this.store.identities.owners([id])).get(keyOf(id));
      if (fresh && fresh !== survivor) await this.store.identities.move(id, fresh, survivor, at);
    }
  }
}

/** Every identity a stored contact is known by, current and previous. */
export function identitiesOfContact(contact: Contact | undefined): IdentityKey[] {
  if (!contact) return [];
  const ids: IdentityKey[] = [];
  for (const value of [contact.bsuid, ...(contact.previousBsuids ?? [])]) if (value) ids.push({ kind: 'bsuid', value });
  for (const value of [contact.phone, ...(contact.previousPhones ?? [])]) if (value) ids.push({ kind: 'phone', value });
  if (contact.phoneRaw) ids.push({ kind: 'phone_raw', value: contact.phoneRaw });
  if (contact.parentBsuid) ids.push({ kind: 'parent_bsuid', value: contact.parentBsuid });
  return ids;
}

/** What a delivery tells about a contact it may create. */
export function seedOf(customer: CustomerRef, lead: { source: LeadSource; referral?: ContactSeed['leadReferral'] }): ContactSeed {
  const phone = customer.phone;
  return {
    bsuid: customer.bsuid,
    parentBsuid: customer.parentBsuid,
    phone: phone?.valid ? phone.e164 : undefined,
    phoneRaw: phone && !phone.valid ? phone.raw : undefined,
    phoneFlag: phone && !phone.valid ? (phone.e164 ? 'invalid' : 'unparseable') : undefined,
    leadSource: lead.source,
    leadReferral: lead.referral,
  };
}
