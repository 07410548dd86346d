/**
 * Our contact and its insights → the CRM's contact properties (ID-2, TG-*, SY-8). One mapping,
 * used for every CRM; a mapped field the contact does not have gets its default from
 * config/intelligence/crm-defaults.json (customer level "new customer", ID-6) instead of the
 * record being skipped.
 */
import crmDefaults from '../../config/intelligence/crm-defaults.json' with { type: 'json' };
import { applyDefaults } from '../domain/intelligence/conflicts.ts';
import type { ContactInsights } from '../domain/insights.ts';
import type { Contact } from '../domain/records.ts';
import { INTELLIGENCE_PROPERTIES } from './hubspot/properties.ts';

export type CrmProperties = Record<string, string | number | boolean | null>;

/**
 * Our field → the CRM contact property it is written to (the names `hubspot:setup` creates;
 * another CRM's adapter maps them to its own). The last interaction time travels separately,
 * as `CrmContactInput.lastInteractionAt`.
 */
export const CONTACT_PROPERTY_MAP = INTELLIGENCE_PROPERTIES;

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
  return properties;
}
