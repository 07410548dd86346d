/**
 * The customer's names as HubSpot holds them (`firstname`, `lastname`): sales may have corrected
 * what the WhatsApp profile gave, and personalised templates (AU-3) use the CRM's. One consistent
 * read; a contact that is gone (deleted, merged away) has no names rather than failing the caller.
 */
import type { CrmProfileResult } from '#shared/crm/port';
import type { HubSpotApi } from './api.ts';

export async function readProfile(api: HubSpotApi, contactCrmId: string): Promise<CrmProfileResult> {
  const record = await api.read('contacts', contactCrmId, { properties: ['firstname', 'lastname'] });
  const name = (value: string | null | undefined) => value?.trim() || undefined;
  return {
    firstName: name(record?.properties['firstname']),
    lastName: name(record?.properties['lastname']),
    calls: api.calls,
  };
}
