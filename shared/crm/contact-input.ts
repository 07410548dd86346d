/**
 * Our contact and its insights as the CRM port takes them: the one place a `CrmContactInput` is
 * built, used by the message sync and the nightly refresh alike, so both write the same customer.
 */
import type { ContactInsights } from '../domain/insights.ts';
import type { Contact } from '../domain/records.ts';
import { crmContactProperties } from './mapping.ts';
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
    // A CRM id from another CRM (the business switched) means nothing to this one.
    knownCrmId: contact.crm?.kind === crmKind ? contact.crm.id : undefined,
    lastInteractionAt: contact.lastInboundAt,
    properties: crmContactProperties(contact, insights),
  };
}
