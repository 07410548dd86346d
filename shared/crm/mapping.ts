/**
 * Our contact and its insights → the typed, CRM-neutral fields of the CRM port (ID-2, TG-*,
 * SY-8, ID-7, AU-4, RP-13, AG-1). Each adapter maps them to its own field names with its
 * mapping (config/crm/<kind>.json, shared/crm/field-mapping.ts), where defaults (ID-6) and
 * switched-off fields live. Here only: what we know, as it is.
 */
import type { ContactInsights } from '../domain/insights.ts';
import type { Contact } from '../domain/records.ts';
import type { CrmContactFields } from './port.ts';

/** Emoji the CRM gets: the customer's most used, at most this many. */
const FREQUENT_EMOJI = 5;

/** The customer's most used emoji, most frequent first (ties by first code point, stable). */
export function frequentEmoji(counts: Readonly<Record<string, number>> | undefined, limit = FREQUENT_EMOJI): string[] {
  return Object.entries(counts ?? {})
    .filter(([, n]) => n > 0)
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, limit)
    .map(([emoji]) => emoji);
}

export function crmContactFields(contact: Contact, insights: ContactInsights): CrmContactFields {
  const text = (value: string | undefined) => {
    const trimmed = value?.trim();
    return trimmed ? trimmed : undefined;
  };
  const score = contact.satisfaction?.score;
  const address = contact.address;
  return {
    segment: insights.segment,
    tags: insights.tags,
    activityScore: insights.activityScore,
    sentiment: insights.sentiment,
    priority: insights.priority,
    hotWords: insights.hotWords,
    frequentEmoji: frequentEmoji(contact.emoji),
    messageCount: contact.inboundCount ?? 0,
    customerLevel: text(contact.customerLevel),
    lastInteractionAt: contact.lastInboundAt,
    // A rating outside 1–5 is not one: left out rather than written.
    satisfaction: score !== undefined && Number.isInteger(score) && score >= 1 && score <= 5 ? score : undefined,
    lastCoupon: text(contact.lastCoupon?.code),
    agentId: text(contact.agentId),
    language: text(contact.language),
    address: address && {
      street: text(address.street),
      locality: text(address.locality),
      region: text(address.region),
      postalCode: text(address.postalCode),
      country: text(address.country),
    },
  };
}
