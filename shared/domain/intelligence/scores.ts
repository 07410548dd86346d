/**
 * Activity score (TG-4) and contact priority with the unread penalty (TG-6).
 */
import type { HistoryMessage, Segment } from './segments.ts';
import { DAY_MS } from './segments.ts';

export const SCORE_RULES = {
  windowMs: 30 * DAY_MS,
  /** 5–10 interactions a month convert 3× better: the sweet spot scores 1. */
  sweetSpotMin: 5,
  sweetSpotMax: 10,
  /** Above the sweet spot the score falls by this much per extra message… */
  declinePerMessage: 0.025,
  /** …but never below this (a very busy chat is usually a support problem, not disinterest). */
  floorAboveSweetSpot: 0.5,
  unreadAfterMs: 24 * 3_600_000,
  /** Priority is multiplied by this while our last outbound message is unread for more than 24 h. */
  unreadFactor: 0.5,
} as const;

/** Customer (inbound) messages in (now − 30 d, now], both ends inclusive. */
export function interactionsInWindow(history: readonly HistoryMessage[], now: number, windowMs = SCORE_RULES.windowMs): number {
  let count = 0;
  for (const m of history) if (m.direction === 'inbound' && m.at <= now && now - m.at <= windowMs) count++;
  return count;
}

/** 0 interactions → 0; 1–4 → 0.2 per interaction; 5–10 → 1; above 10 falls to a floor of 0.5. */
export function activityScoreFromCount(interactions: number): number {
  if (interactions <= 0) return 0;
  if (interactions < SCORE_RULES.sweetSpotMin) return interactions / SCORE_RULES.sweetSpotMin;
  if (interactions <= SCORE_RULES.sweetSpotMax) return 1;
  const declined = 1 - (interactions - SCORE_RULES.sweetSpotMax) * SCORE_RULES.declinePerMessage;
  return Math.max(SCORE_RULES.floorAboveSweetSpot, Math.round(declined * 1000) / 1000);
}

export function activityScore(history: readonly HistoryMessage[], now: number): number {
  return activityScoreFromCount(interactionsInWindow(history, now));
}

export interface LastOutbound {
  sentAt: number;
  readAt: number | null;
}

/** True when our last outbound message has stayed unread for more than 24 h (24 h exactly is not). */
export function isUnreadTooLong(lastOutbound: LastOutbound | null, now: number): boolean {
  if (lastOutbound === null || lastOutbound.readAt !== null) return false;
  return now - lastOutbound.sentAt > SCORE_RULES.unreadAfterMs;
}

const SEGMENT_WEIGHT: Record<Segment, number> = {
  high_intent: 1,
  active: 0.8,
  potential: 0.6,
  new: 0.5,
  dormant: 0.3,
  churned: 0.1,
};

export interface Priority {
  /** 0..1, higher = contact first. */
  score: number;
  unreadOver24h: boolean;
}

/**
 * Priority = mean of the activity score and the segment weight, halved while our last
 * outbound message has been unread for more than 24 h (TG-6; written to the CRM too).
 */
export function priorityOf(
  input: { activity: number; segment: Segment; lastOutbound: LastOutbound | null },
  now: number,
): Priority {
  const base = (input.activity + SEGMENT_WEIGHT[input.segment]) / 2;
  const unreadOver24h = isUnreadTooLong(input.lastOutbound, now);
  const score = unreadOver24h ? base * SCORE_RULES.unreadFactor : base;
  return { score: Math.round(score * 1000) / 1000, unreadOver24h };
}
