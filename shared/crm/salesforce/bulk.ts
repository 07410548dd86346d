/**
 * The night batch (SY-5) and reconciliation (SY-7): mapped fields written to contacts already in
 * Salesforce through sObject Collections (200 records a request, each with its own outcome), and
 * contacts read back by id through the collections read. Also the names read for one contact.
 */
import { type FieldMapping } from '../field-mapping.ts';
import type { CrmBulkResult, CrmContactReadBack, CrmContactUpdate, CrmProfileResult, CrmUpdateOutcome } from '../port.ts';
import { CrmError } from '../port.ts';
import type { SalesforceApi } from './api.ts';
import { COLLECTION_LIMIT, recordError } from './api.ts';
import { mappedFields } from './contacts.ts';
import { isMissingRecord } from './errors.ts';
import { CONTACT, LAST_NAME_PLACEHOLDER } from './fields.ts';
import { isRecordId } from './soql.ts';

export async function updateContacts(api: SalesforceApi, updates: readonly CrmContactUpdate[], mapping: FieldMapping, batchSize: number): Promise<CrmBulkResult> {
  const outcomes: CrmUpdateOutcome[] = new Array(updates.length);
  const size = Math.min(batchSize, COLLECTION_LIMIT);
  let stopped: CrmError | undefined;
  for (let start = 0; start < updates.length; start += size) {
    const chunk = updates.slice(start, start + size).map((update, i) => ({ update, index: start + i }));
    // An id that cannot be a Salesforce id (another CRM's) is missing without asking.
    const sendable = chunk.filter(({ update }) => isRecordId(update.crmId));
    for (const { index, update } of chunk) if (!isRecordId(update.crmId)) outcomes[index] = { ok: false, missing: true };
    if (sendable.length === 0) continue;
    if (stopped) {
      // After a failed request (rate limit, outage) the rest is not sent: it fails the same way.
      for (const { index } of sendable) outcomes[index] = { ok: false, error: stopped };
      continue;
    }
    try {
      const results = await api.updateCollection(CONTACT.object, sendable.map(({ update }) => ({ id: update.crmId, ...mappedFields(update.fields, mapping) })), 'contact batch update');
      results.forEach((result, i) => {
        const { index } = sendable[i]!;
        if (result.success) outcomes[index] = { ok: true };
        else if (isMissingRecord({ errors: result.errors ?? [] })) outcomes[index] = { ok: false, missing: true };
        else outcomes[index] = { ok: false, error: recordError(result, 'contact batch update') };
      });
    } catch (error) {
      if (!(error instanceof CrmError)) throw error;
      stopped = error;
      for (const { index } of sendable) outcomes[index] = { ok: false, error };
    }
  }
  return { outcomes, calls: api.calls };
}

export async function readContacts(api: SalesforceApi, crmIds: readonly string[], mapping: FieldMapping, batchSize: number): Promise<{ contacts: CrmContactReadBack[]; calls: number }> {
  const mapped = mapping.rules.map((rule) => rule.field);
  const fields = [...new Set(['Id', 'FirstName', 'LastName', CONTACT.phone, CONTACT.bsuid, ...mapped])];
  const ids = [...new Set(crmIds.filter(isRecordId))];
  const contacts: CrmContactReadBack[] = [];
  // ~800 ids fit a GET URL; the batch size keeps each request well inside it.
  for (let start = 0; start < ids.length; start += batchSize) {
    const records = await api.retrieveCollection(CONTACT.object, ids.slice(start, start + batchSize), fields, 'contact read-back');
    for (const record of records) {
      if (!record) continue;
      const text = (field: string) => (typeof record[field] === 'string' && record[field] !== '' ? (record[field] as string) : undefined);
      contacts.push({
        crmId: record.Id,
        firstName: text('FirstName'),
        lastName: realLastName(text('LastName')),
        phone: text(CONTACT.phone),
        bsuid: text(CONTACT.bsuid),
        values: Object.fromEntries(mapped.map((field) => [field, record[field] ?? null])),
      });
    }
  }
  return { contacts, calls: api.calls };
}

export async function readProfile(api: SalesforceApi, contactCrmId: string): Promise<CrmProfileResult> {
  if (!isRecordId(contactCrmId)) return { calls: 0 };
  const record = await api.get(CONTACT.object, contactCrmId, ['FirstName', 'LastName'], 'profile read');
  const text = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value : undefined);
  return { firstName: text(record?.FirstName), lastName: realLastName(text(record?.LastName)), calls: api.calls };
}

/** The placeholder a nameless customer got is no name. */
function realLastName(lastName: string | undefined): string | undefined {
  return lastName === LAST_NAME_PLACEHOLDER ? undefined : lastName;
}
