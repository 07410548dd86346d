/**
 * A contact's insights kept current: computed from its stored history (its merged contacts'
 * included) and stored back, with a domain event when the segment changes (TG-3). Used by the
 * sync function after each message and by the nightly refresh, for customers who went quiet.
 */
import { contactInsights, insightsChanged, type ContactInsights } from '../domain/insights.ts';
import type { Intelligence } from '../domain/intelligence/intelligence.ts';
import { segmentChange, type Segment, type SegmentChanged } from '../domain/intelligence/segments.ts';
import type { Contact, MessageRecord } from '../domain/records.ts';
import type { DomainEventBus } from '../events/bus.ts';
import type { Store } from '../store/store.ts';

/** History the insights need: the longest rule window is 60 days (churn), plus a day's margin. */
export const INSIGHT_WINDOW_MS = 61 * 86_400_000;

/** Contacts whose histories count for one contact at most (a customer merged from this many is extraordinary). */
const MAX_ABSORBED = 50;

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

  /** What the contact's history says at `now`, the histories of every contact merged into it included. */
  async compute(contact: Contact, now: number): Promise<ContactInsights> {
    // Nothing in the window (and no other history merged in): the history read would be empty.
    const since = now - INSIGHT_WINDOW_MS;
    if (!contact.mergedFrom?.length && (contact.lastInboundAt ?? -Infinity) < since && (contact.lastOutboundAt ?? -Infinity) < since) {
      return contactInsights(contact, [], this.deps.intelligence, now);
    }
    const ids = await this.absorbed(contact);
    const parts = await Promise.all(ids.map((id) => this.deps.store.messages.history(id, now - INSIGHT_WINDOW_MS, HISTORY_FIELDS)));
    const history: MessageRecord[] = parts.flat().sort((a, b) => a.sentAt - b.sentAt);
    return contactInsights(contact, history, this.deps.intelligence, now);
  }

  /**
   * The contact and every contact merged into it, transitively. A merge records the loser's own
   * merged contacts on the survivor; one that joined the loser at the same moment is only on the
   * loser, so the merged contacts are followed too (at most {@link MAX_ABSORBED}).
   */
  private async absorbed(contact: Contact): Promise<string[]> {
    const seen = new Set([contact.contactId]);
    let next = (contact.mergedFrom ?? []).filter((id) => !seen.has(id));
    while (next.length && seen.size < MAX_ABSORBED) {
      for (const id of next) seen.add(id);
      const found = await Promise.all(next.map((id) => this.deps.store.contacts.mergedFrom(id)));
      next = [...new Set(found.flat())].filter((id) => !seen.has(id));
    }
    return [...seen];
  }

  /**
   * Stores the insights. A segment change is published first, with an id derived from `eventAt`
   * (the message's time, or the refresh's), so a retry after a failure in between publishes the
   * same event again — consumers dedupe by id — and no change is ever lost.
   */
  async record(contact: Contact, insights: ContactInsights, eventAt: number, now: number): Promise<SegmentChanged | null> {
    const change = segmentChange((contact.segment as Segment | undefined) ?? null, insights.segment, { contactId: contact.contactId, at: eventAt });
    if (change && this.deps.events) await this.deps.events.publish([change]);
    if (change || insightsChanged(contact, insights)) {
      await this.deps.store.contacts.recordInsights(contact.contactId, { ...insights, ...(change && { segmentChangedAt: eventAt }) }, now);
    }
    return change;
  }
}
