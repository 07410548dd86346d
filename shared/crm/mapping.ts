/**
 * Our contact and its insights → the CRM's contact properties (ID-2, TG-*, SY-8, ID-7, AU-4,
 * RP-13, AG-1). One mapping, used for every CRM. Two kinds of fields:
 * - what we compute (intelligence): always written; a field the contact does not have gets its
 *   default from config/intelligence/crm-defaults.json (customer level "new customer", ID-6), and
 *   one without a default is cleared (null) — the value is ours, an old one would be wrong;
 * - what we learn (address, last coupon, satisfaction, agent): written only when we know a value,
 *   never null — a field we do not know must not erase what sales typed in the CRM.
 */
import crmDefaults from '../../config/intelligence/crm-defaults.json' with { type: 'json' };
import { applyDefaults } from '../domain/intelligence/conflicts.ts';
import type { ContactInsights } from '../domain/insights.ts';
import type { Contact, ContactAddress } from '../domain/records.ts';
import { AUTOMATION_PROPERTIES, CONTACT_ADDRESS_PROPERTIES, INTELLIGENCE_PROPERTIES } from './hubspot/properties.ts';

export type CrmProperties = Record<string, string | number | boolean | null>;

/**
 * Our field → the CRM contact property it is written to (the names `hubspot:setup` creates;
 * another CRM's adapter maps them to its own). The last interaction time travels separately,
 * as `CrmContactInput.lastInteractionAt`.
 */
export const CONTACT_PROPERTY_MAP = INTELLIGENCE_PROPERTIES;

/** Our address fields → the CRM's standard address properties (written only when known). */
export const CONTACT_ADDRESS_MAP = CONTACT_ADDRESS_PROPERTIES;

/** What automations learn → the CRM's custom properties (written only when known). */
export const CONTACT_AUTOMATION_MAP = AUTOMATION_PROPERTIES;

/** Hot words as `discount:4;refund:1`, most frequent first, at most 20. */
export function hotWordsText(counters: Readonly<Record<string, number>>): string {
  return Object.entries(counters)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .slice(0, 20)
    .map(([word, count]) => `${word}:${count}`)
    .join(';');
}

export function crmContactProperties(contact: Contact, insights: ContactInsights): CrmProperties {
  const { record } = applyDefaults(
    {
      customerLevel: contact.customerLevel,
      tags: insights.tags.join(';'),
      segment: insights.segment,
      activityScore: insights.activityScore,
      sentiment: insights.sentiment ?? null,
      priority: insights.priority,
      hotWords: hotWordsText(insights.hotWords),
      messageCount: contact.inboundCount ?? 0,
    },
    crmDefaults,
  );
  const properties: CrmProperties = {};
  for (const [field, property] of Object.entries(CONTACT_PROPERTY_MAP)) {
    const value = record[field];
    properties[property] = value === undefined || value === '' ? null : (value as string | number | boolean | null);
  }
  return { ...properties, ...knownFacts(contact) };
}

/** The address, coupon, rating and agent the contact has: only values, never a null. */
function knownFacts(contact: Contact): CrmProperties {
  const facts: CrmProperties = {};
  const text = (property: string, value: string | undefined) => {
    const trimmed = value?.trim();
    if (trimmed) facts[property] = trimmed;
  };
  if (contact.address) {
    for (const [field, property] of Object.entries(CONTACT_ADDRESS_MAP)) {
      text(property, contact.address[field as keyof typeof CONTACT_ADDRESS_MAP & keyof ContactAddress]);
    }
  }
  text(CONTACT_AUTOMATION_MAP.lastCoupon, contact.lastCoupon?.code);
  const score = contact.satisfaction?.score;
  // A rating outside 1–5 is not one (HubSpot would take any number): left out, not written.
  if (score !== undefined && Number.isInteger(score) && score >= 1 && score <= 5) facts[CONTACT_AUTOMATION_MAP.satisfaction] = score;
  text(CONTACT_AUTOMATION_MAP.agent, contact.agentId);
  return facts;
}
