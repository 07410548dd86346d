/**
 * Who is this customer? Finds or creates our contact for the identities a delivery carries,
 * race-free with conditional writes only (architecture: Identity; whatsapp-identity.md).
 *
 * - Any one identity finds the contact; a delivery with several links them all to it.
 * - Two deliveries creating the same new customer at once compute the same contact id (derived
 *   from the first identity) and the identity claims are conditional, so both end in one contact.
 * - When a delivery proves that two existing contacts are one customer (a phone and a BSUID that
 *   point to different contacts), the identities move to the contact of the strongest identity and
 *   the other contact is marked merged into it: history is never moved or lost.
 * - Every step is idempotent, so a retry after a failure at any point converges.
 */
import type { CustomerRef, IdentityChange } from '../domain/events.ts';
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
    // The contact of the strongest identity already known wins; a brand-new customer gets the
    // id derived from its strongest identity.
    const known = ids.find((id) => owners.has(keyOf(id)));
    const target = known ? owners.get(keyOf(known))! : contactIdFor(first);
    const isNew = !known;
    // Steady state: every identity already points to one contact. Nothing to write here; the
    // contact's own update (applyInbound) fills in anything a crashed first delivery left out.
    if (ids.every((id) => owners.get(keyOf(id)) === target)) return { contactId: target, isNew, merged: [] };

    const merged = await this.linkAll(ids, owners, target, at);
    if (isNew && merged.length === 0 && options.willApply) return { contactId: target, isNew, merged };
    const contact = await this.store.contacts.ensure(target, seedOf(customer, lead), at);
    // An identity that still points to a contact merged away leads to the one it became.
    let contactId = contact.contactId;
    let next = contact.mergedInto;
    for (let hop = 0; next && hop < MAX_MERGE_HOPS; hop++) {
      contactId = next;
      next = (await this.store.contacts.get(next))?.mergedInto;
    }
    return { contactId, isNew, merged };
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
    const merged = await this.linkAll(ids, owners, contactId, at);
    await this.store.contacts.applyIdentityChange(
      contactId,
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

  /** Makes every identity point to `target`; returns the other contacts merged into it. */
  private async linkAll(ids: readonly IdentityKey[], owners: Map<string, string>, target: string, at: number): Promise<string[]> {
    const merged = new Set<string>();
    for (const id of ids) {
      let owner = owners.get(keyOf(id));
      if (owner === undefined) owner = await this.store.identities.claim(id, target, at);
      if (owner === target) continue;
      // The identity belongs to another contact: this delivery proves they are one customer.
      if (await this.store.identities.move(id, owner, target, at)) {
        merged.add(owner);
      } else {
        // Someone moved it meanwhile: read again and retry once with the fresh owner.
        const fresh = (await this.store.identities.owners([id])).get(keyOf(id));
        if (fresh && fresh !== target && (await this.store.identities.move(id, fresh, target, at))) merged.add(fresh);
      }
    }
    for (const loser of merged) {
      // Every identity of the merged contact moves too, so none leads to it any more.
      const rest = identitiesOfContact(await this.store.contacts.get(loser));
      for (const id of rest) await this.store.identities.move(id, loser, target, at);
      await this.store.contacts.recordMerge(loser, target, at);
    }
    return [...merged];
  }
}

/** Every identity a stored contact is known by, current and previous. */
function identitiesOfContact(contact: Contact | undefined): IdentityKey[] {
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
