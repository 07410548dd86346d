import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HistoryMessage } from '#shared/domain/intelligence/segments';
import { segmentChange, segmentOf } from '#shared/domain/intelligence/segments';
import { DAY, NOW } from './helpers.ts';

const question = (at: number): HistoryMessage => ({ direction: 'inbound', at, intent: 'product_question' });
const inbound = (at: number, intent = 'other'): HistoryMessage => ({ direction: 'inbound', at, intent });

describe('TG-3 segments', () => {
  it('a customer asking about product details 4 times in 7 days becomes high-intent', () => {
    const history = [question(NOW - 6 * DAY), question(NOW - 3 * DAY), question(NOW - DAY), inbound(NOW, 'price_inquiry')];
    expect(segmentOf(history, NOW)).toBe('high_intent');
  });

  it('3 times does not', () => {
    const history = [question(NOW - 6 * DAY), question(NOW - 3 * DAY), question(NOW - DAY)];
    expect(segmentOf(history, NOW)).not.toBe('high_intent');
  });

  it('the 7-day window is inclusive at exactly 7 days and excludes 7 days + 1 ms', () => {
    const recent = [question(NOW - DAY), question(NOW - 2 * DAY), question(NOW - 3 * DAY)];
    expect(segmentOf([...recent, question(NOW - 7 * DAY)], NOW)).toBe('high_intent');
    expect(segmentOf([...recent, question(NOW - 7 * DAY - 1)], NOW)).toBe('active');
  });

  it('1–2 interactions in 30 days is potential', () => {
    expect(segmentOf([inbound(NOW - 10 * DAY)], NOW)).toBe('potential');
    expect(segmentOf([inbound(NOW - 10 * DAY), inbound(NOW - 29 * DAY)], NOW)).toBe('potential');
    expect(segmentOf([inbound(NOW - 1), inbound(NOW - 2), inbound(NOW - 3)], NOW)).toBe('active');
  });

  it('no customer message for 61 days is churned; 60 days exactly is not', () => {
    expect(segmentOf([inbound(NOW - 61 * DAY)], NOW)).toBe('churned');
    expect(segmentOf([inbound(NOW - 60 * DAY)], NOW)).toBe('dormant');
    expect(segmentOf([inbound(NOW - 60 * DAY - 1)], NOW)).toBe('churned');
  });

  it('our own outbound messages are not interactions; a contact who never wrote is new', () => {
    expect(segmentOf([{ direction: 'outbound', at: NOW - DAY }], NOW)).toBe('new');
    expect(segmentOf([], NOW)).toBe('new');
  });

  it('property: churn flips exactly at 60 days (ms arithmetic)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 * DAY }), (age) => {
        const segment = segmentOf([inbound(NOW - age)], NOW);
        expect(segment === 'churned').toBe(age > 60 * DAY);
      }),
    );
  });

  it('property: high-intent iff more than 3 product questions within 7 days', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 14 * DAY }), { maxLength: 10 }), (ages) => {
        const history = ages.map((age) => question(NOW - age));
        const within = ages.filter((age) => age <= 7 * DAY).length;
        expect(segmentOf(history, NOW) === 'high_intent').toBe(within > 3);
      }),
    );
  });

  it('property: the order of the history does not matter', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 90 * DAY }), { maxLength: 12 }), (ages) => {
        const history = ages.map((age, i) => (i % 2 === 0 ? question(NOW - age) : inbound(NOW - age)));
        expect(segmentOf([...history].reverse(), NOW)).toBe(segmentOf(history, NOW));
      }),
    );
  });
});

describe('TG-3 segment changes are events', () => {
  it('a change produces a SegmentChanged event with a deterministic id', () => {
    const event = segmentChange('potential', 'high_intent', { contactId: 'c1', at: NOW });
    expect(event).toEqual({
      type: 'SegmentChanged',
      id: `segment:c1:potential:high_intent:${NOW}`,
      contactId: 'c1',
      from: 'potential',
      to: 'high_intent',
      at: NOW,
    });
  });

  it('no change, no event', () => {
    expect(segmentChange('churned', 'churned', { contactId: 'c1', at: NOW })).toBeNull();
  });

  it('the first segment assignment is an event from null', () => {
    expect(segmentChange(null, 'new', { contactId: 'c1', at: NOW })?.from).toBeNull();
  });
});
