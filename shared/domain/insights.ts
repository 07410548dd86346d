/**
 * What the sales team sees of a contact, computed from its stored history with `now` given:
 * segment (TG-3), activity and priority scores (TG-4, TG-6), tags including those earned by hot
 * words (TG-1, TG-2), running sentiment (TG-5). Pure.
 */
import type { Intelligence } from './intelligence/intelligence.ts';
import { priorityOf, activityScore } from './intelligence/scores.ts';
import { segmentOf, type Segment } from './intelligence/segments.ts';
import { contactTagsFromHotWords } from './intelligence/tags.ts';
import type { Contact, MessageRecord } from './records.ts';

export interface ContactInsights {
  readonly segment: Segment;
  readonly activityScore: number;
  readonly priority: number;
  readonly unreadOver24h: boolean;
  readonly tags: string[];
  /** Mean sentiment of the customer's messages, when any had words to score. */
  readonly sentiment: number | undefined;
  readonly hotWords: Record<string, number>;
}

/**
 * True when the contact does not hold these insights yet: the one rule for "did the insights
 * change", used by the message sync and the nightly refresh. Segment and scores must be equal;
 * tags are only ever added, so new insights' tags must all be there.
 */
export function insightsChanged(contact: Contact, insights: ContactInsights): boolean {
  const stored = new Set(contact.tags ?? []);
  return (
    contact.segment !== insights.segment ||
    contact.activityScore !== insights.activityScore ||
    contact.priority !== insights.priority ||
    !insights.tags.every((tag) => stored.has(tag))
  );
}

export function contactInsights(
  contact: Contact,
  history: readonly Pick<MessageRecord, 'direction' | 'sentAt' | 'analysis' | 'type'>[],
  intelligence: Pick<Intelligence, 'hotWordFamily' | 'contactTagRules'>,
  now: number,
): ContactInsights {
  // System notices (a number change …) are Meta speaking, not the customer.
  const messages: { direction: 'inbound' | 'outbound'; at: number; intent?: string }[] = history
    .filter((m) => m.type !== 'system')
    .map((m) => ({ direction: m.direction, at: m.sentAt, ...(m.analysis && { intent: m.analysis.intent }) }));
  // The history read covers the insight window only; a customer whose last message is older still
  // wrote to us (churned, not new). Their last message stands for all they wrote before the window.
  const last = contact.lastInboundAt;
  if (last !== undefined && !messages.some((m) => m.direction === 'inbound' && m.at >= last)) messages.push({ direction: 'inbound', at: last });
  const segment = segmentOf(messages, now);
  const activity = activityScore(messages, now);
  const sent = contact.lastOutboundAt;
  const lastOutbound = sent === undefined ? null : { sentAt: sent, readAt: contact.lastReadAt !== undefined && contact.lastReadAt >= sent ? contact.lastReadAt : null };
  const priority = priorityOf({ activity, segment, lastOutbound }, now);
  const hotWords = { ...contact.hotWords };
  const earned = contactTagsFromHotWords(hotWords, intelligence.hotWordFamily, intelligence.contactTagRules);
  return {
    segment,
    activityScore: activity,
    priority: priority.score,
    unreadOver24h: priority.unreadOver24h,
    tags: [...new Set([...(contact.tags ?? []), ...earned])].sort(),
    sentiment: contact.sentimentCount ? Math.round(((contact.sentimentSum ?? 0) / contact.sentimentCount) * 1000) / 1000 : undefined,
    hotWords,
  };
}
