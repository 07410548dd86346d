/**
 * Finding or creating the one HubSpot contact of a WhatsApp customer.
 *
 * The unique properties decide: a contact is read by `whatsapp_user_id` / `whatsapp_phone`
 * with `idProperty` (a consistent read, unlike search), and a create that HubSpot refuses as a
 * duplicate means "someone created it first": we read it back and use it. Search, which lags
 * writes and is rate limited, is used only once per customer: to find a contact the sales team
 * made with the same number in `phone` / `mobilephone` before we create one.
 */
import { CrmError, type CrmContactInput, type CrmContactResult } from '#shared/crm/port';
import type { CreateOutcome, HubSpotApi, PropertyValues } from './api.ts';
import { mapContactFields, type FieldMapping, type MappedFields, type MappedValue } from '#shared/crm/field-mapping';
import { CONTACT, LEAD_SOURCE_WHATSAPP } from './properties.ts';
import type { CrmRecord } from './schemas.ts';

const READ_PROPERTIES = [CONTACT.bsuid, CONTACT.phone, 'phone', 'mobilephone', 'firstname', 'lastname'];
/** Search filter groups are OR-ed; HubSpot allows a handful per request. */
const MAX_SEARCHED_PHONES = 2;

export async function upsertContact(api: HubSpotApi, input: CrmContactInput, mapping: FieldMapping): Promise<CrmContactResult> {
  const identity = identitiesOf(input);
  if (!input.knownCrmId && identity.bsuids.length === 0 && identity.phones.length === 0) {
    throw new CrmError('permanent', 'A contact needs a BSUID, a phone or a known CRM id', { crm: 'hubspot' });
  }
  const changes = updateProperties(input, mapping);
  const done = (crmId: string, created: boolean, matchedExisting: boolean): CrmContactResult => ({
    crmId,
    created,
    matchedExisting,
    calls: api.calls,
  });

  if (input.knownCrmId) {
    const updated = await updateContact(api, input.knownCrmId, changes);
    if (updated) return done(input.knownCrmId, false, false);
  }

  const found = await findByIdentity(api, identity);
  if (found) {
    await updateContact(api, found.id, changes);
    return done(found.id, false, false);
  }

  const salesContact = await findSalesContact(api, identity.phones);
  if (salesContact) {
    const claimed = await api.update('contacts', salesContact.id, changes);
    if (claimed.kind === 'updated') return done(salesContact.id, false, true);
    if (claimed.kind === 'conflict') {
      // A concurrent upsert gave the identity to another record meanwhile: that one wins.
      const winner = await findByIdentity(api, identity);
      if (winner) return done(winner.id, false, false);
    }
  }

  const created = await createContact(api, { ...changes, ...createOnlyProperties(input) }, identity);
  if (created.kind === 'found') return done(created.id, false, false);
  if (created.kind === 'created') return done(created.record.id, true, false);

  // HubSpot refused a duplicate: a concurrent upsert created this customer first.
  const winner = await findByIdentity(api, identity);
  if (!winner) {
    throw new CrmError('transient', 'HubSpot reported a duplicate contact that cannot be read back yet', {
      crm: 'hubspot',
    });
  }
  await updateContact(api, winner.id, changes);
  return done(winner.id, false, false);
}

/** The create; when its answer was lost (it may have been made), the contact is looked up by its identities. */
async function createContact(api: HubSpotApi, properties: PropertyValues, identity: Identity): Promise<CreateOutcome | { kind: 'found'; id: string }> {
  try {
    return await api.create('contacts', properties);
  } catch (error) {
    if (!(error instanceof CrmError && error.details.outcomeUnknown)) throw error;
    const found = await findByIdentity(api, identity);
    if (found) return { kind: 'found', id: found.id };
    // Not made after all (unique values would have stopped a second one anyway): once more.
    return api.create('contacts', properties);
  }
}

interface Identity {
  /** Current first, then earlier ones. */
  readonly bsuids: readonly string[];
  readonly phones: readonly string[];
}

function identitiesOf(input: CrmContactInput): Identity {
  const present = (values: readonly (string | undefined)[]) => [...new Set(values.filter((v): v is string => !!v))];
  return {
    bsuids: present([input.bsuid, ...(input.previousBsuids ?? [])]),
    phones: present([input.phone, ...(input.previousPhones ?? [])]),
  };
}

/**
 * Reads the contacts holding any of the identities through the unique properties and picks by
 * priority: current BSUID, current phone, then earlier BSUIDs and phones.
 */
async function findByIdentity(api: HubSpotApi, identity: Identity): Promise<CrmRecord | undefined> {
  const [byBsuid, byPhone] = await Promise.all([
    identity.bsuids.length > 0
      ? api.batchRead('contacts', identity.bsuids, { idProperty: CONTACT.bsuid, properties: READ_PROPERTIES })
      : Promise.resolve([]),
    identity.phones.length > 0
      ? api.batchRead('contacts', identity.phones, { idProperty: CONTACT.phone, properties: READ_PROPERTIES })
      : Promise.resolve([]),
  ]);
  const holding = (records: CrmRecord[], property: string, value: string | undefined) =>
    value === undefined ? undefined : records.find((r) => r.properties[property] === value);
  const [currentBsuid, ...earlierBsuids] = identity.bsuids;
  const [currentPhone, ...earlierPhones] = identity.phones;
  return (
    holding(byBsuid, CONTACT.bsuid, currentBsuid) ??
    holding(byPhone, CONTACT.phone, currentPhone) ??
    earlierBsuids.map((b) => holding(byBsuid, CONTACT.bsuid, b)).find(Boolean) ??
    earlierPhones.map((p) => holding(byPhone, CONTACT.phone, p)).find(Boolean) ??
    byBsuid[0] ??
    byPhone[0]
  );
}

/** A contact someone else made with the customer's number in `phone` or `mobilephone`. */
async function findSalesContact(api: HubSpotApi, phones: readonly string[]): Promise<CrmRecord | undefined> {
  const searched = phones.slice(0, MAX_SEARCHED_PHONES);
  const matches = await api.searchEquals(
    'contacts',
    searched.flatMap((value) => [
      { property: 'phone', value },
      { property: 'mobilephone', value },
    ]),
    READ_PROPERTIES,
  );
  return matches[0];
}

/**
 * PATCHes the contact. When another record already holds one of the unique identities (two
 * records for one customer, e.g. made by hand), the identities held elsewhere are left out and
 * the rest is written. Returns false when the contact no longer exists.
 */
async function updateContact(
  api: HubSpotApi,
  id: string,
  changes: PropertyValues,
): Promise<boolean> {
  const first = await api.update('contacts', id, changes);
  if (first.kind === 'updated') return true;
  if (first.kind === 'missing') return false;

  const holders = await Promise.all(
    (
      [
        [CONTACT.bsuid, changes[CONTACT.bsuid]],
        [CONTACT.phone, changes[CONTACT.phone]],
      ] as const
    ).map(async ([property, value]) => {
      if (value === undefined) return undefined;
      const holder = await api.read('contacts', value, { idProperty: property, properties: [property] });
      return holder && holder.id !== id ? property : undefined;
    }),
  );
  const heldElsewhere = new Set<string>(holders.filter((p) => p !== undefined));
  const remaining = Object.fromEntries(Object.entries(changes).filter(([key]) => !heldElsewhere.has(key)));
  const second = await api.update('contacts', id, remaining);
  if (second.kind === 'missing') return false;
  if (second.kind === 'conflict') {
    throw new CrmError('permanent', `HubSpot contact ${id} conflicts with another record on its WhatsApp identity (${CONTACT.bsuid} / ${CONTACT.phone})`, {
      crm: 'hubspot',
      status: 409,
    });
  }
  return true;
}

/** Properties written on every sync. */
function updateProperties(input: CrmContactInput, mapping: FieldMapping): PropertyValues {
  const values: Record<string, string> = {};
  const set = (name: string, value: string | undefined) => {
    if (value !== undefined && value !== '') values[name] = value;
  };
  set(CONTACT.bsuid, input.bsuid);
  set(CONTACT.phone, input.phone);
  set(CONTACT.username, input.username);
  set(CONTACT.profileName, input.profileName);
  set(CONTACT.scrmContactId, input.contactId);
  if (input.lastInteractionAt !== undefined) {
    values[CONTACT.lastInteractionAt] = new Date(input.lastInteractionAt).toISOString();
  }
  if (input.fields) Object.assign(values, mappedProperties(mapContactFields(input.fields, mapping)));
  return values;
}

/** Mapped fields as HubSpot takes them: null clears (empty string), datetimes ISO 8601, the rest as strings. */
export function mappedProperties(mapped: MappedFields): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(mapped.values)) values[name] = propertyValue(name, value, mapped.datetimeFields.has(name));
  return values;
}

/**
 * A caller's property value as HubSpot takes it: null clears (empty string), numbers of datetime
 * properties are ms and sent as ISO 8601 (HubSpot accepts both), other values as strings.
 */
function propertyValue(name: string, value: MappedValue, datetime: boolean): string {
  if (value === null) return '';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      throw new CrmError('permanent', `Property ${name} has the invalid number ${value}`, { crm: 'hubspot' });
    }
    return datetime ? new Date(value).toISOString() : String(value);
  }
  return String(value);
}

/** Properties written only when this integration creates the contact (not on a sales contact). */
function createOnlyProperties(input: CrmContactInput): PropertyValues {
  const values: Record<string, string> = { [CONTACT.leadSource]: LEAD_SOURCE_WHATSAPP };
  const name = input.profileName?.trim();
  if (name) {
    const [first, ...rest] = name.split(/\s+/);
    if (first) values.firstname = first;
    if (rest.length > 0) values.lastname = rest.join(' ');
  }
  if (input.phone) values.mobilephone = input.phone;
  return values;
}
