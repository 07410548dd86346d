/**
 * A contact's insights kept current: computed from its stored history (its merged contacts'
 * included) and stored back, with a domain event when the segment changes (TG-3). Used by the
 * sync function after each message and by the nightly refresh, for customers who went quiet.
 */
import { contactInsights, type ContactInsights } from '../domain/insights.ts';
import type { Intelligence } from '../domain/intelligence/intelligence.ts';
import { segmentChange, type Segment, type SegmentChanged } from '../domain/intelligence/segments.ts';
import type { Contact, MessageRecord } from '../domain/records.ts';
import type { DomainEventBus } from '../events/bus.ts';
import type { Store } from '../store/store.ts';

/** History the insights need: the longest rule window is 60 days (churn), plus a day's margin. */
export const INSIGHT_WINDOW_MS = 61 * 86_400_000;

/** Only what the insights read of each message: not its text, raw JSON or sync state. */
const HISTORY_FIELDS = ['direction', 'sentAt', 'type', 'analysis'] as const;

export class ContactInsightsKeeper {
  constructor(
    private readonly deps: {
      readonly store: Pick<Store, 'contacts' | 'messages'>;
      readonly intelligence: Pick<Intelligence, 'hotWordFamily' | 'contactTagRules'>;
      readonly events?: DomainEventBus | undefined;
    },
  ) {}

  /** What the contact's history says at `now`. */
  async compute(contact: Contact, now: number): Promise<ContactInsights> {
    const ids = [contact.contactId, ...(contact.mergedFrom ?? [])];
    const parts = await Promise.all(ids.map((id) => this.deps.store.messages.history(id, now - INSIGHT_WINDOW_MS, HISTORY_FIELDS)));
    const history: MessageRecord[] = parts.flat().sort((a, b) => a.sentAt - b.sentAt);
    return contactInsights(contact, history, this.deps.intelligence, now);
  }

  /**
   * Stores the insights. A segment change is published first, with an id derived from `eventAt`
   * (the message's time, or the refresh's), so a retry after a failure in between publishes the
   * same event again — consumers dedupe by id — and no change is ever lost.
   */
  async record(contact: Contact, insights: ContactInsights, eventAt: number, now: number): Promise<SegmentChanged | null> {
    const change = segmentChange((contact.segment as Segment | undefined) ?? null, insights.segment, { contactId: contact.contactId, at: eventAt });
    if (change && this.deps.events) await this.deps.events.publish([change]);
    if (change || !sameStoredInsights(contact, insights)) {
      await this.deps.store.contacts.recordInsights(contact.contactId, { ...insights, ...(change && { segmentChangedAt: eventAt }) }, now);
    }
    return change;
  }
}

/** True when the contact already holds these insights: no write needed. */
function sameStoredInsights(contact: Contact, insights: ContactInsights): boolean {
  const stored = new Set(contact.tags ?? []);
  return (
    contact.segment === insights.segment &&
    contact.activityScore === insights.activityScore &&
    contact.priority === insights.priority &&
    insights.tags.every((tag) => stored.has(tag))
  );
}
