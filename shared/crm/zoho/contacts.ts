/**
 * Finding or creating the one Zoho contact of a WhatsApp customer.
 *
 * - Known id (the steady state): one `PUT /Contacts` by id. Gone in Zoho (deleted, merged) → the
 *   lookup below.
 * - Otherwise one search finds, in one request, a contact holding one of the customer's
 *   identities (current BSUID, current phone, then earlier ones: a number change finds the same
 *   record and moves it) and a contact a sales user typed with the number in Phone or Mobile.
 *   Zoho's search is fuzzy with several criteria ("ABC" also matches "ABC Inc"), so every hit is
 *   compared exactly here. A sales contact is claimed by writing our fields to it — names and
 *   Lead_Source untouched.
 * - Nothing found: `upsert` with the unique WhatsApp_User_ID / WhatsApp_Phone as
 *   `duplicate_check_fields`. Zoho resolves concurrent first upserts of one customer to one
 *   record (the second matches the first); a replay after a lost answer matches the record it
 *   made. The create-only values (Lead_Source WhatsApp, names, Mobile) ride on this upsert: it can
 *   only update a record holding the customer's BSUID or WhatsApp phone — one this integration
 *   created, with those very values, inside the search's indexing lag (docs/zoho.md).
 */
import { crmField, mapContactFields, type FieldMapping, type MappedFields } from '../field-mapping.ts';
import { CrmError, type CrmContactInput, type CrmContactResult } from '../port.ts';
import { recordError, type Values, type WriteResult, type ZohoApi } from './api.ts';
import { CONTACT, CONTACTS_MODULE, LEAD_SOURCE_WHATSAPP, UNNAMED_CONTACT } from './fields.ts';
import { anyEquals, fit, phoneDigits, zohoDateTime, type Criterion } from './format.ts';
import type { ZohoRecord } from './schemas.ts';

const READ_FIELDS = [CONTACT.bsuid, CONTACT.phone, CONTACT.salesPhone, CONTACT.mobile, CONTACT.firstName, CONTACT.lastName];
const IDENTITY_FIELDS: readonly string[] = [CONTACT.bsuid, CONTACT.phone];
/** 3 BSUIDs + 2 phones × 3 phone fields = 9 of the search's 10 criteria. */
const MAX_SEARCHED_BSUIDS = 3;
const MAX_SEARCHED_PHONES = 2;
/** Writes of one contact after conflicts (a race replayed, an identity held by another record). */
const MAX_WRITES = 3;
/** Zoho's lengths: First_Name 40, Last_Name 80, other single lines 255 (a longer value is refused). */
const FIRST_NAME_MAX = 40;
const LAST_NAME_MAX = 80;
const LINE_MAX = 255;

interface Identity {
  /** Current first, then earlier ones. */
  readonly bsuids: readonly string[];
  readonly phones: readonly string[];
}

export async function upsertContact(api: ZohoApi, input: CrmContactInput, mapping: FieldMapping): Promise<CrmContactResult> {
  const identity = identitiesOf(input);
  const hasIdentity = identity.bsuids.length > 0 || identity.phones.length > 0;
  if (!input.knownCrmId && !hasIdentity) {
    throw new CrmError('permanent', 'A contact needs a BSUID, a phone or a known CRM id', { crm: 'zoho' });
  }
  const changes = syncedValues(input, mapping);
  const done = (crmId: string, created: boolean, matchedExisting: boolean): CrmContactResult => ({ crmId, created, matchedExisting, calls: api.calls });

  if (input.knownCrmId) {
    const updated = await updateContact(api, input.knownCrmId, changes, 'keep');
    if (updated.kind === 'updated') return done(input.knownCrmId, false, false);
    if (!hasIdentity) throw new CrmError('permanent', `Zoho contact ${input.knownCrmId} is gone and the customer has no identity to find another by`, { crm: 'zoho' });
  }

  const { own, sales } = await searchByIdentity(api, identity);
  if (own) {
    const updated = await updateContact(api, own.id, changes, 'keep');
    if (updated.kind === 'updated') return done(own.id, false, false);
  }
  if (sales) {
    const claimed = await updateContact(api, sales.id, changes, 'yield');
    if (claimed.kind === 'updated') return done(sales.id, false, true);
    if (claimed.kind === 'held' && claimed.holderId) {
      // A concurrent upsert gave the customer a record of its own meanwhile: that one wins.
      const updated = await updateContact(api, claimed.holderId, changes, 'keep');
      if (updated.kind === 'updated') return done(claimed.holderId, false, false);
    }
  }
  return upsertNew(api, { ...changes, ...createOnlyValues(input) }, done);
}

type UpdateOutcome = { readonly kind: 'updated' } | { readonly kind: 'missing' } | { readonly kind: 'held'; readonly holderId: string | undefined };

/**
 * PUTs the contact. An identity another record already holds (two records for one customer, e.g.
 * one made by hand) is left there and the rest written (`keep`), or reported (`yield`: the caller
 * prefers the holder).
 */
async function updateContact(api: ZohoApi, id: string, changes: Values, onHeld: 'keep' | 'yield'): Promise<UpdateOutcome> {
  const values: Record<string, unknown> = { ...changes };
  for (let write = 1; ; write++) {
    const [result] = await api.update(CONTACTS_MODULE, [{ ...values, id }]);
    if (result!.ok) return { kind: 'updated' };
    if (result!.missing) return { kind: 'missing' };
    const held = heldIdentity(result!, values);
    if (!held) throw recordError(result!, `updating contact ${id}`);
    if (onHeld === 'yield') return { kind: 'held', holderId: held.holderId };
    if (write >= MAX_WRITES) throw recordError(result!, `updating contact ${id}`);
    delete values[held.field];
  }
}

async function upsertNew(api: ZohoApi, values: Values, done: (crmId: string, created: boolean, matched: boolean) => CrmContactResult): Promise<CrmContactResult> {
  const record: Record<string, unknown> = { ...values };
  for (let write = 1; ; write++) {
    const checkFields = IDENTITY_FIELDS.filter((field) => record[field] !== undefined);
    // Only earlier identities known: nothing a new record could be found by again.
    if (checkFields.length === 0) throw new CrmError('permanent', 'A new Zoho contact needs the current BSUID or phone', { crm: 'zoho' });
    const [result] = await api.upsert(CONTACTS_MODULE, [record], checkFields);
    if (result!.ok) return done(result!.id, result!.action === 'insert', false);
    const held = heldIdentity(result!, record);
    if (!held || write >= MAX_WRITES) throw recordError(result!, 'upserting a contact');
    // First a replay: a concurrent insert of this customer may have won the race, and the replay
    // matches it. Still refused: the record found by one identity clashes with another record on
    // the other identity, which stays with that record.
    if (write > 1 && checkFields.length > 1) delete record[held.field];
  }
}

/** The identity field of a DUPLICATE_DATA answer, when it is one we sent. */
function heldIdentity(result: WriteResult, values: Readonly<Record<string, unknown>>): { field: string; holderId: string | undefined } | undefined {
  if (result.ok || result.code !== 'DUPLICATE_DATA' || !result.field) return undefined;
  if (!IDENTITY_FIELDS.includes(result.field) || values[result.field] === undefined) return undefined;
  return { field: result.field, holderId: result.duplicateId };
}

function identitiesOf(input: CrmContactInput): Identity {
  const present = (values: readonly (string | undefined)[]) => [...new Set(values.filter((v): v is string => !!v))];
  return {
    bsuids: present([input.bsuid, ...(input.previousBsuids ?? [])]),
    phones: present([input.phone, ...(input.previousPhones ?? [])]),
  };
}

/**
 * One search for the contact holding an identity (by priority: current BSUID, current phone,
 * earlier BSUIDs, earlier phones) and for a sales-made contact with a phone in Phone or Mobile
 * that holds no WhatsApp identity of anyone.
 */
async function searchByIdentity(api: ZohoApi, identity: Identity): Promise<{ own?: ZohoRecord | undefined; sales?: ZohoRecord | undefined }> {
  const bsuids = identity.bsuids.slice(0, MAX_SEARCHED_BSUIDS);
  const phones = identity.phones.slice(0, MAX_SEARCHED_PHONES);
  const criteria: Criterion[] = [
    ...bsuids.map((value) => ({ field: CONTACT.bsuid, value })),
    ...phones.flatMap((value) => [CONTACT.phone, CONTACT.salesPhone, CONTACT.mobile].map((field) => ({ field, value }))),
  ];
  const records = await api.search(CONTACTS_MODULE, anyEquals(criteria), READ_FIELDS);
  const holding = (field: string, value: string | undefined) => (value === undefined ? undefined : records.find((r) => r[field] === value));
  const [currentBsuid, ...earlierBsuids] = bsuids;
  const [currentPhone, ...earlierPhones] = phones;
  const own =
    holding(CONTACT.bsuid, currentBsuid) ??
    holding(CONTACT.phone, currentPhone) ??
    earlierBsuids.map((b) => holding(CONTACT.bsuid, b)).find(Boolean) ??
    earlierPhones.map((p) => holding(CONTACT.phone, p)).find(Boolean);
  if (own) return { own };
  const unclaimed = records.filter((r) => !r[CONTACT.bsuid] && !r[CONTACT.phone]);
  const typed = (r: ZohoRecord, phone: string) => {
    const digits = phoneDigits(phone);
    return digits !== '' && (phoneDigits(r[CONTACT.salesPhone]) === digits || phoneDigits(r[CONTACT.mobile]) === digits);
  };
  const sales = phones.map((p) => unclaimed.find((r) => typed(r, p))).find(Boolean);
  return { sales };
}

/** Fields written on every sync: the identities and the mapped insights. */
function syncedValues(input: CrmContactInput, mapping: FieldMapping): Values {
  const values: Record<string, unknown> = {};
  const set = (field: string, value: string | undefined) => {
    if (value !== undefined && value !== '') values[field] = fit(value, LINE_MAX);
  };
  set(CONTACT.bsuid, input.bsuid);
  set(CONTACT.phone, input.phone);
  set(CONTACT.username, input.username);
  set(CONTACT.profileName, input.profileName);
  set(CONTACT.scrmContactId, input.contactId);
  if (input.fields) {
    Object.assign(values, zohoValues(mapContactFields(input.fields, mapping)));
  } else if (input.lastInteractionAt !== undefined) {
    const field = crmField(mapping, 'lastInteractionAt');
    if (field) values[field] = zohoDateTime(input.lastInteractionAt);
  }
  return values;
}

/** Mapped fields as Zoho takes them: datetimes in its format, null clears, the rest as they are. */
export function zohoValues(mapped: MappedFields): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(mapped.values)) {
    values[field] = typeof value === 'number' && mapped.datetimeFields.has(field) ? zohoDateTime(value) : value;
  }
  return values;
}

/** Written only when this integration creates the contact: never on a sales contact. */
function createOnlyValues(input: CrmContactInput): Values {
  const values: Record<string, unknown> = { [CONTACT.leadSource]: LEAD_SOURCE_WHATSAPP };
  const [first, ...rest] = (input.profileName ?? '').trim().split(/\s+/).filter(Boolean);
  if (first && rest.length > 0) {
    values[CONTACT.firstName] = fit(first, FIRST_NAME_MAX);
    values[CONTACT.lastName] = fit(rest.join(' '), LAST_NAME_MAX);
  } else {
    values[CONTACT.lastName] = fit(first ?? (input.username?.trim() || UNNAMED_CONTACT), LAST_NAME_MAX);
  }
  if (input.phone) values[CONTACT.mobile] = input.phone;
  return values;
}
