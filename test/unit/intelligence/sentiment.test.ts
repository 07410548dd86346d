import { describe, expect, it } from 'vitest';
import { INITIAL_CONTACT_SENTIMENT, updateContactSentiment } from '#shared/domain/intelligence/sentiment';
import { run } from './helpers.ts';

describe('TG-5 sentiment per message, 0..1 with 0.5 neutral', () => {
  it.each(['😂', '👍', '❤️', '🙏'])('%s is positive', (emoji) => {
    expect(run(emoji).sentiment).toBeGreaterThan(0.5);
  });

  it.each(['😡', '👎', '😠', '💩'])('%s is negative', (emoji) => {
    expect(run(emoji).sentiment).toBeLessThan(0.5);
  });

  it('a message without sentiment words is exactly neutral', () => {
    expect(run('order 4521').sentiment).toBe(0.5);
  });

  it.each([
    ['great service, thank you', 'positive'],
    ['好正，好好用', 'positive'],
    ['非常满意', 'positive'],
    ['отлично, спасибо', 'positive'],
    ['terrible, very disappointed', 'negative'],
    ['好差，好失望', 'negative'],
    ['质量太差了', 'negative'],
    ['ужасно', 'negative'],
  ])('%s is %s', (text, polarity) => {
    const score = run(text).sentiment;
    if (polarity === 'positive') expect(score).toBeGreaterThan(0.5);
    else expect(score).toBeLessThan(0.5);
  });

  it('negation flips nearby words: "not good" < 0.5 < "not bad"', () => {
    expect(run('not good').sentiment).toBeLessThan(0.5);
    expect(run('не плохо').sentiment).toBeGreaterThan(0.5);
    expect(run('not bad').sentiment).toBeGreaterThanOrEqual(0.5);
  });

  it('scores stay within 0..1 however strong the message', () => {
    const score = run('😡😡😡😡😡😡😡😡 terrible awful worst scam 💩💩💩').sentiment;
    expect(score).toBeGreaterThanOrEqual(0);
    expect(score).toBeLessThan(0.01);
  });
});

describe('TG-5 running per-contact sentiment (exponential moving average)', () => {
  it('the first scored message sets the score; later ones move it by alpha', () => {
    const first = updateContactSentiment(INITIAL_CONTACT_SENTIMENT, 0.9);
    expect(first).toEqual({ score: 0.9, samples: 1 });
    const second = updateContactSentiment(first, 0.1, 0.5);
    expect(second.score).toBeCloseTo(0.5, 5);
  });

  it('neutral messages leave the contact score alone', () => {
    const state = { score: 0.8, samples: 3 };
    expect(updateContactSentiment(state, 0.5)).toBe(state);
  });
});
