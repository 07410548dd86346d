import { describe, expect, it } from 'vitest';
import { accumulateHotWords, contactTagsFromHotWords } from '#shared/domain/intelligence/tags';
import { intelligence, run } from './helpers.ts';

describe('TG-1 rule-based tags', () => {
  it.each([
    ['幾錢呀？', 'price_inquiry'],
    ['多少钱', 'price_inquiry'],
    ['How much is it?', 'price_inquiry'],
    ['Сколько стоит?', 'price_inquiry'],
    ['我要投訴你哋', 'complaint'],
    ['This is the worst service', 'complaint'],
    ['Это жалоба', 'complaint'],
    ['你哋門市喺邊？', 'store_inquiry'],
    ['Where is my parcel?', 'order_status'],
    ['Где моя посылка?', 'order_status'],
    ['我想買呢個', 'purchase_intent'],
    ['I want to buy two', 'purchase_intent'],
    ['转人工', 'human_request'],
    ['STOP', 'opt_out'],
    ['退訂', 'opt_out'],
    ['Отпишите меня', 'opt_out'],
  ])('%s → %s', (text, tag) => {
    expect(run(text).tags).toContain(tag);
  });

  it('matches Chinese on text, without word boundaries, and English on whole words', () => {
    expect(run('我想問下呢部機幾錢').tags).toContain('price_inquiry');
    expect(run('I stopped by yesterday').tags).not.toContain('opt_out');
    expect(run('prices?').tags).toContain('price_inquiry');
  });

  it.each([
    'not a complaint',
    'This is not a complaint, just a question',
    '不是投訴',
    '唔係投訴呀',
    'не жалоба',
    'Это не жалоба',
  ])('negation does not fire complaint: %s', (text) => {
    expect(run(text).tags).not.toContain('complaint');
  });

  it.each(["I don't want to unsubscribe", 'I do not want to unsubscribe', '我唔想取消訂閱', '我不想退订', 'Я не хочу отписываться'])(
    'negation does not fire opt_out: %s',
    (text) => {
      expect(run(text).tags).not.toContain('opt_out');
    },
  );

  it('negation ends at the clause: "no, I want a refund" style messages still fire', () => {
    expect(run('Not happy at all. I want a refund').tags).toContain('complaint');
    expect(run('不是啦，我要投訴').tags).toContain('complaint');
  });

  it.each(['My friend said «это жалоба» lol', 'he typed "unsubscribe" by mistake', '佢話「我要投訴」之嘛', 'she wrote “complaint” in the subject'])(
    'a quoted phrase does not fire: %s',
    (text) => {
      expect(run(text).tags).toEqual([]);
    },
  );

  it('phrases that give a cue another meaning do not negate: 不好意思 / 有冇', () => {
    expect(run('不好意思，請問幾錢？').tags).toContain('price_inquiry');
    expect(run('有冇折扣？').tags).toContain('price_inquiry');
  });
});

describe('TG-2 hot words', () => {
  it('counts hot words per message, including repeats', () => {
    const hot = run('discount? any discount or coupon? 折扣!').hotWords;
    expect(hot.discount).toBe(3);
    expect(hot.coupon).toBe(1);
  });

  it('a contact who said the discount family more than 3 times is price_sensitive; 3 times is not', () => {
    let counters: Record<string, number> = {};
    for (const text of ['有冇折扣？', 'any discount?', 'есть скидка?']) counters = accumulateHotWords(counters, run(text).hotWords);
    expect(contactTagsFromHotWords(counters, intelligence.hotWordFamily, intelligence.contactTagRules)).toEqual([]);
    counters = accumulateHotWords(counters, run('coupon code pls').hotWords);
    expect(contactTagsFromHotWords(counters, intelligence.hotWordFamily, intelligence.contactTagRules)).toEqual(['price_sensitive']);
  });

  it('accumulating counters is pure', () => {
    const before = { discount: 1 };
    const after = accumulateHotWords(before, { discount: 2, sale: 1 });
    expect(before).toEqual({ discount: 1 });
    expect(after).toEqual({ discount: 3, sale: 1 });
  });
});
