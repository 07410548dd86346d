/**
 * Customer segments (TG-3), computed from a contact's message history at `now`.
 *
 * - new:         the customer has never written to us;
 * - churned:     the customer's last message is more than 60 days old (60 d + 1 ms is churned,
 *                exactly 60 d is not) — the low-priority list;
 * - high_intent: more than 3 product-detail questions (intent product_question or
 *                price_inquiry) in the last 7 days (now − 7 d ≤ at ≤ now, both ends inclusive);
 * - potential:   1–2 customer messages in the last 30 days (same inclusive window);
 * - dormant:     no customer message in the last 30 days, but not churned yet (31–60 days);
 * - active:      everything else (3 or more messages in 30 days without 4 product questions).
 *
 * Precedence, first match wins: new, churned, high_intent, potential, dormant, active.
 * Only inbound (customer) messages count as interactions; future-dated messages are ignored.
 */
export const DAY_MS = 86_400_000;

export const SEGMENTS = ['new', 'churned', 'high_intent', 'potential', 'dormant', 'active'] as const;
export type Segment = (typeof SEGMENTS)[number];

export interface HistoryMessage {
  direction: 'inbound' | 'outbound';
  /** Epoch milliseconds. */
  at: number;
  /** classify() intent of an inbound message. */
  intent?: string;
}

export const SEGMENT_RULES = {
  highIntentWindowMs: 7 * DAY_MS,
  highIntentMoreThan: 3,
  productQuestionIntents: ['product_question', 'price_inquiry'] as readonly string[],
  interactionWindowMs: 30 * DAY_MS,
  potentialMin: 1,
  potentialMax: 2,
  churnAfterMs: 60 * DAY_MS,
} as const;

export function segmentOf(history: readonly HistoryMessage[], now: number): Segment {
  let lastInbound = -Infinity;
  let inWindow30 = 0;
  let productQuestions7 = 0;
  let anyInbound = false;
  for (const message of history) {
    if (message.direction !== 'inbound' || message.at > now) continue;
    anyInbound = true;
    if (message.at > lastInbound) lastInbound = message.at;
    const age = now - message.at;
    if (age <= SEGMENT_RULES.interactionWindowMs) inWindow30++;
    if (
      age <= SEGMENT_RULES.highIntentWindowMs &&
      message.intent !== undefined &&
      SEGMENT_RULES.productQuestionIntents.includes(message.intent)
    ) {
      productQuestions7++;
    }
  }
  if (!anyInbound) return 'new';
  if (now - lastInbound > SEGMENT_RULES.churnAfterMs) return 'churned';
  if (productQuestions7 > SEGMENT_RULES.highIntentMoreThan) return 'high_intent';
  if (inWindow30 >= SEGMENT_RULES.potentialMin && inWindow30 <= SEGMENT_RULES.potentialMax) return 'potential';
  if (inWindow30 === 0) return 'dormant';
  return 'active';
}

export interface SegmentChanged {
  type: 'SegmentChanged';
  /** Deterministic, so a repeated delivery of the event is recognisable (invariant 2). */
  id: string;
  contactId: string;
  from: Segment | null;
  to: Segment;
  at: number;
}

/** A domain event when the segment changed (or was first assigned), else null. */
export function segmentChange(
  prev: Segment | null,
  next: Segment,
  context: { contactId: string; at: number },
): SegmentChanged | null {
  if (prev === next) return null;
  return {
    type: 'SegmentChanged',
    id: `segment:${context.contactId}:${prev ?? 'none'}:${next}:${context.at}`,
    contactId: context.contactId,
    from: prev,
    to: next,
    at: context.at,
  };
}
