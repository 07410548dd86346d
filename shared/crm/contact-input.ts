/**
 * Our contact and its insights as the CRM port takes them: the one place a `CrmContactInput` is
 * built, used by the message sync, the contact and task jobs and the night batch alike, so all
 * write the same customer.
 */
import type { ContactInsights } from '../domain/insights.ts';
import { contactCrmId, type Contact } from '../domain/records.ts';
import { crmContactFields } from './mapping.ts';
import type { CrmContactInput } from './port.ts';

export function crmContactInput(contact: Contact, insights: ContactInsights, crmKind: string): CrmContactInput {
  return {
    contactId: contact.contactId,
    bsuid: contact.bsuid,
    phone: contact.phone,
    previousBsuids: contact.previousBsuids,
    previousPhones: contact.previousPhones,
    username: contact.username,
    profileName: contact.profileName,
    // Ids are kept per CRM: another CRM's id (the business switched, or runs two) means nothing here.
    knownCrmId: contactCrmId(contact, crmKind),
    lastInteractionAt: contact.lastInboundAt,
    fields: crmContactFields(contact, insights),
  };
}
