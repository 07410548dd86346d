/**
 * HubSpot's part of the bulk work: the night batch's field updates through
 * `POST /crm/objects/{version}/contacts/batch/update` (≤ 100 per request), and the read-back of
 * contacts for reconciliation through batch read (SY-5, SY-7).
 */
import { mapContactFields, type FieldMapping } from '#shared/crm/field-mapping';
import type { CrmBulkResult, CrmContactReadBack, CrmContactUpdate, CrmUpdateOutcome } from '#shared/crm/port';
import type { HubSpotApi } from './api.ts';
import { mappedProperties } from './contacts.ts';
import { CONTACT } from './properties.ts';

export async function updateContacts(api: HubSpotApi, updates: readonly CrmContactUpdate[], mapping: FieldMapping): Promise<CrmBulkResult> {
  const { missing } = await api.batchUpdate(
    'contacts',
    updates.map((u) => ({ id: u.crmId, properties: mappedProperties(mapContactFields(u.fields, mapping)) })),
  );
  const gone = new Set(missing);
  const outcomes = updates.map((u): CrmUpdateOutcome => (gone.has(u.crmId) ? { ok: false, missing: true } : { ok: true }));
  return { outcomes, calls: api.calls };
}

export async function readContacts(api: HubSpotApi, crmIds: readonly string[], mapping: FieldMapping): Promise<{ contacts: CrmContactReadBack[]; calls: number }> {
  const mapped = mapping.rules.map((r) => r.field);
  const records = await api.batchRead('contacts', crmIds, { properties: ['firstname', 'lastname', CONTACT.phone, CONTACT.bsuid, ...mapped] });
  const contacts = records.map((r): CrmContactReadBack => ({
    crmId: r.id,
    firstName: r.properties['firstname'] ?? undefined,
    lastName: r.properties['lastname'] ?? undefined,
    phone: r.properties[CONTACT.phone] ?? undefined,
    bsuid: r.properties[CONTACT.bsuid] ?? undefined,
    values: Object.fromEntries(mapped.map((field) => [field, r.properties[field] ?? null])),
  }));
  return { contacts, calls: api.calls };
}
