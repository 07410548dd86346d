/**
 * Finding or creating the one Salesforce Contact of a WhatsApp customer.
 *
 * The External ID + Unique fields WhatsApp_User_Id__c (BSUID) and WhatsApp_Phone__c (E.164)
 * decide. A known Contact id is updated directly (one call). Otherwise one SOQL query reads the
 * contacts holding any of the customer's identities — and, in the same query, a contact a sales
 * user made with the number in Phone or MobilePhone — and the one found is updated (two calls).
 * A new customer is created by an upsert on the current BSUID (or phone): a concurrent first
 * upsert of the same customer lands on the same record, Salesforce's unique index decides.
 * SOQL reads the database itself (unlike SOSL search, it does not lag writes).
 */
import { crmField, mapContactFields, type FieldMapping } from '../field-mapping.ts';
import { CrmError, type CrmContactInput, type CrmContactResult } from '../port.ts';
import type { FieldValues, SalesforceApi, SObjectRecord, UpsertOutcome } from './api.ts';
import { recordError } from './api.ts';
import { hasErrorCode } from './errors.ts';
import { CONTACT, cut, dateTime, LAST_NAME_PLACEHOLDER, LEAD_SOURCE_WHATSAPP, SALES_PHONE_FIELDS, urlSafeKey } from './fields.ts';
import { inList, isRecordId } from './soql.ts';

const CANDIDATE_FIELDS = ['Id', CONTACT.bsuid, CONTACT.phone, ...SALES_PHONE_FIELDS];
/** Phones searched in the sales fields: the current one and the last before it. */
const MAX_SEARCHED_PHONES = 2;
const MAX_CANDIDATES = 50;

interface Identity {
  /** Current first, then earlier ones. */
  readonly bsuids: readonly string[];
  readonly phones: readonly string[];
}

export async function upsertContact(api: SalesforceApi, input: CrmContactInput, mapping: FieldMapping): Promise<CrmContactResult> {
  const identity = identitiesOf(input);
  if (!input.knownCrmId && identity.bsuids.length === 0 && identity.phones.length === 0) {
    throw new CrmError('permanent', 'A contact needs a BSUID, a phone or a known CRM id', { crm: 'salesforce' });
  }
  const changes = updateFields(input, mapping);
  const done = (crmId: string, created: boolean, matchedExisting: boolean): CrmContactResult => ({ crmId, created, matchedExisting, calls: api.calls });

  // An id of another CRM or a mangled one cannot be a Contact: look the customer up instead.
  if (input.knownCrmId && isRecordId(input.knownCrmId) && (await updateContact(api, input.knownCrmId, changes))) {
    return done(input.knownCrmId, false, false);
  }
  if (identity.bsuids.length === 0 && identity.phones.length === 0) {
    throw new CrmError('permanent', `Salesforce contact ${input.knownCrmId} is gone and the customer has no identity to find another by`, { crm: 'salesforce' });
  }

  const candidates = await findCandidates(api, identity);
  const found = holderOf(candidates, identity);
  if (found && (await updateContact(api, found.Id, changes))) return done(found.Id, false, false);

  const sales = found ? undefined : salesContactOf(candidates, identity);
  if (sales) {
    const claimed = await api.update(CONTACT.object, sales.Id, changes, 'sales contact claim');
    if (claimed.kind === 'updated') return done(sales.Id, false, true);
    if (claimed.kind === 'duplicate') {
      // A concurrent upsert gave the identity to another record meanwhile: that one wins.
      const winner = holderOf(await findCandidates(api, identity), identity);
      if (winner && (await updateContact(api, winner.Id, changes))) return done(winner.Id, false, false);
    }
  }

  const created = await createContact(api, input, changes);
  if (created.kind === 'upserted') return done(created.id, created.created, false);
  if (created.kind === 'ambiguous') {
    // 300: the key field is External ID without Unique and holds duplicates; stay on the oldest.
    const [oldest] = created.ids;
    if (oldest && (await updateContact(api, oldest, changes))) return done(oldest, false, false);
    throw new CrmError('permanent', `More than one Salesforce contact holds this customer's ${keyOf(input).field}`, { crm: 'salesforce', status: 300 });
  }
  // DUPLICATE_VALUE: the other identity is on a record a concurrent upsert just made.
  const winner = holderOf(await findCandidates(api, identity), identity);
  if (!winner) throw new CrmError('transient', 'Salesforce reported a duplicate contact that cannot be read back yet', { crm: 'salesforce' });
  if (!(await updateContact(api, winner.Id, changes))) throw new CrmError('transient', `Salesforce contact ${winner.Id} went away during the upsert`, { crm: 'salesforce' });
  return done(winner.Id, false, false);
}

function identitiesOf(input: CrmContactInput): Identity {
  const present = (values: readonly (string | undefined)[]) => [...new Set(values.filter((v): v is string => !!v))];
  return {
    bsuids: present([input.bsuid, ...(input.previousBsuids ?? [])]),
    phones: present([input.phone, ...(input.previousPhones ?? [])]),
  };
}

/** How a phone may have been typed into Phone / MobilePhone by hand: E.164, or its digits. */
function phoneVariants(phones: readonly string[]): string[] {
  return [...new Set(phones.slice(0, MAX_SEARCHED_PHONES).flatMap((p) => [p, p.replace(/^\+/, '')]))];
}

/** One SOQL query: every contact holding one of the identities, and the sales-made ones with the number. */
async function findCandidates(api: SalesforceApi, identity: Identity): Promise<SObjectRecord[]> {
  const salesPhones = phoneVariants(identity.phones);
  const conditions = [
    ...(identity.bsuids.length ? [inList(CONTACT.bsuid, identity.bsuids)] : []),
    ...(identity.phones.length ? [inList(CONTACT.phone, identity.phones)] : []),
    ...(salesPhones.length ? SALES_PHONE_FIELDS.map((field) => inList(field, salesPhones)) : []),
  ];
  return api.query(`SELECT ${CANDIDATE_FIELDS.join(', ')} FROM Contact WHERE ${conditions.join(' OR ')} ORDER BY CreatedDate ASC LIMIT ${MAX_CANDIDATES}`, 'contact lookup');
}

/** The contact holding an identity, by priority: current BSUID, current phone, earlier BSUIDs, earlier phones. */
function holderOf(records: readonly SObjectRecord[], identity: Identity): SObjectRecord | undefined {
  const holding = (field: string, value: string | undefined) => (value === undefined ? undefined : records.find((r) => r[field] === value));
  const [currentBsuid, ...earlierBsuids] = identity.bsuids;
  const [currentPhone, ...earlierPhones] = identity.phones;
  return (
    holding(CONTACT.bsuid, currentBsuid) ??
    holding(CONTACT.phone, currentPhone) ??
    earlierBsuids.map((b) => holding(CONTACT.bsuid, b)).find(Boolean) ??
    earlierPhones.map((p) => holding(CONTACT.phone, p)).find(Boolean)
  );
}

/** The oldest contact with the number in a sales phone field and no WhatsApp identity yet (another customer's is not ours). */
function salesContactOf(records: readonly SObjectRecord[], identity: Identity): SObjectRecord | undefined {
  const variants = new Set(phoneVariants(identity.phones));
  return records.find((r) => !r[CONTACT.bsuid] && !r[CONTACT.phone] && SALES_PHONE_FIELDS.some((field) => typeof r[field] === 'string' && variants.has(r[field])));
}

/** The field a new contact is upserted on: the current BSUID, or the phone of a BSUID-less customer. */
function keyOf(input: CrmContactInput): { field: string; value: string } {
  if (input.bsuid) return { field: CONTACT.bsuid, value: input.bsuid };
  if (input.phone) return { field: CONTACT.phone, value: input.phone };
  // Only previous identities: the record holding them is gone; the newest one names the new record.
  const value = input.previousBsuids?.[0] ?? input.previousPhones?.[0];
  if (!value) throw new CrmError('permanent', 'A contact needs a BSUID or a phone to be created', { crm: 'salesforce' });
  return { field: input.previousBsuids?.[0] ? CONTACT.bsuid : CONTACT.phone, value };
}

async function createContact(api: SalesforceApi, input: CrmContactInput, changes: FieldValues): Promise<UpsertOutcome> {
  const key = keyOf(input);
  const fields: Record<string, unknown> = { ...changes, ...createOnlyFields(input) };
  if (urlSafeKey(key.value)) {
    // The key travels in the URL; Salesforce refuses it in the body as well.
    delete fields[key.field];
    return api.upsert(CONTACT.object, key.field, key.value, fields, 'contact upsert');
  }
  const [result] = await api.upsertCollection(CONTACT.object, key.field, [{ ...fields, [key.field]: key.value }], 'contact upsert');
  if (result?.success && result.id) return { kind: 'upserted', id: result.id, created: result.created ?? false };
  if (result && hasErrorCode({ errors: result.errors ?? [] }, 'DUPLICATE_VALUE')) return { kind: 'duplicate' };
  throw recordError(result ?? { success: false }, 'contact upsert');
}

/**
 * PATCHes the contact. When another record holds one of the unique identities (two records for
 * one customer, e.g. one made by hand), the identity held elsewhere is left out and the rest is
 * written. False when the contact no longer exists (deleted, or merged away in Salesforce).
 */
async function updateContact(api: SalesforceApi, id: string, changes: FieldValues): Promise<boolean> {
  const first = await api.update(CONTACT.object, id, changes, 'contact update');
  if (first.kind !== 'duplicate') return first.kind === 'updated';
  const unique = ([CONTACT.bsuid, CONTACT.phone] as string[]).filter((field) => typeof changes[field] === 'string');
  const holders = unique.length
    ? await api.query(`SELECT Id, ${unique.join(', ')} FROM Contact WHERE ${unique.map((f) => inList(f, [changes[f] as string])).join(' OR ')} LIMIT 10`, 'contact identity holders')
    : [];
  const heldElsewhere = new Set(unique.filter((field) => holders.some((h) => h.Id !== id && h[field] === changes[field])));
  const second = await api.update(CONTACT.object, id, Object.fromEntries(Object.entries(changes).filter(([field]) => !heldElsewhere.has(field))), 'contact update');
  if (second.kind === 'duplicate') {
    throw new CrmError('permanent', `Salesforce contact ${id} conflicts with another record on a unique field (${second.field ?? 'unknown'})`, { crm: 'salesforce', status: 400, category: 'DUPLICATE_VALUE' });
  }
  return second.kind === 'updated';
}

/** Fields written on every sync: the identities, display data and the mapped insights (SY-8). */
export function updateFields(input: CrmContactInput, mapping: FieldMapping): FieldValues {
  const values: Record<string, unknown> = {};
  const set = (name: string, value: string | undefined, max = 255) => {
    if (value !== undefined && value !== '') values[name] = cut(value, max);
  };
  set(CONTACT.bsuid, input.bsuid);
  set(CONTACT.phone, input.phone, 40);
  set(CONTACT.username, input.username);
  set(CONTACT.profileName, input.profileName);
  set(CONTACT.scrmContactId, input.contactId);
  if (input.fields) Object.assign(values, mappedFields(input.fields, mapping));
  const lastInteraction = crmField(mapping, 'lastInteractionAt');
  if (lastInteraction && input.lastInteractionAt !== undefined && (values[lastInteraction] === undefined || values[lastInteraction] === null)) {
    values[lastInteraction] = dateTime(input.lastInteractionAt);
  }
  return values;
}

/** Our typed fields by the mapping, datetimes as Salesforce DateTimes; null clears a field. */
export function mappedFields(fields: NonNullable<CrmContactInput['fields']>, mapping: FieldMapping): Record<string, unknown> {
  const mapped = mapContactFields(fields, mapping);
  return Object.fromEntries(
    Object.entries(mapped.values).map(([name, value]) => [name, typeof value === 'number' && mapped.datetimeFields.has(name) ? dateTime(value) : value]),
  );
}

/** Fields written only when this integration creates the contact (never on a sales contact). */
export function createOnlyFields(input: CrmContactInput): FieldValues {
  const values: Record<string, string> = { LeadSource: LEAD_SOURCE_WHATSAPP, LastName: LAST_NAME_PLACEHOLDER };
  const words = input.profileName?.trim().split(/\s+/).filter(Boolean) ?? [];
  if (words.length === 1) values.LastName = cut(words[0]!, 80);
  if (words.length > 1) {
    values.FirstName = cut(words[0]!, 40);
    values.LastName = cut(words.slice(1).join(' '), 80);
  }
  if (input.phone) values.MobilePhone = input.phone;
  return values;
}
