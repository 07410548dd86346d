import { describe, expect, it } from 'vitest';
import { activityScore, activityScoreFromCount, isUnreadTooLong, priorityOf } from '#shared/domain/intelligence/scores';
import type { HistoryMessage } from '#shared/domain/intelligence/segments';
import { DAY, NOW } from './helpers.ts';

const HOUR = 3_600_000;

describe('TG-4 activity score from interactions in the last 30 days', () => {
  it('5–10 interactions a month is the sweet spot and scores highest', () => {
    for (let n = 5; n <= 10; n++) expect(activityScoreFromCount(n)).toBe(1);
    for (const n of [0, 1, 4, 11, 20, 100]) expect(activityScoreFromCount(n)).toBeLessThan(1);
  });

  it('rises towards the sweet spot and falls gently (to 0.5) beyond it', () => {
    expect(activityScoreFromCount(0)).toBe(0);
    expect(activityScoreFromCount(2)).toBeLessThan(activityScoreFromCount(4));
    expect(activityScoreFromCount(12)).toBeGreaterThan(activityScoreFromCount(20));
    expect(activityScoreFromCount(500)).toBe(0.5);
  });

  it('counts only customer messages within 30 days', () => {
    const history: HistoryMessage[] = [
      ...Array.from({ length: 6 }, (_, i) => ({ direction: 'inbound' as const, at: NOW - i * DAY })),
      { direction: 'outbound', at: NOW },
      { direction: 'inbound', at: NOW - 31 * DAY },
    ];
    expect(activityScore(history, NOW)).toBe(1);
  });
});

describe('TG-6 unread for more than 24 h lowers priority', () => {
  const base = { activity: 1, segment: 'active' as const };

  it('a customer who has not read our message for 25 h gets a lower priority', () => {
    const read = priorityOf({ ...base, lastOutbound: { sentAt: NOW - 25 * HOUR, readAt: NOW - 24 * HOUR } }, NOW);
    const unread = priorityOf({ ...base, lastOutbound: { sentAt: NOW - 25 * HOUR, readAt: null } }, NOW);
    expect(unread.unreadOver24h).toBe(true);
    expect(unread.score).toBeLessThan(read.score);
  });

  it('exactly 24 h unread is not yet penalised; 24 h + 1 ms is', () => {
    expect(isUnreadTooLong({ sentAt: NOW - 24 * HOUR, readAt: null }, NOW)).toBe(false);
    expect(isUnreadTooLong({ sentAt: NOW - 24 * HOUR - 1, readAt: null }, NOW)).toBe(true);
    expect(isUnreadTooLong(null, NOW)).toBe(false);
  });

  it('priority stays within 0..1', () => {
    const p = priorityOf({ activity: 1, segment: 'high_intent', lastOutbound: null }, NOW);
    expect(p.score).toBeLessThanOrEqual(1);
    expect(priorityOf({ activity: 0, segment: 'churned', lastOutbound: null }, NOW).score).toBeGreaterThanOrEqual(0);
  });
});
