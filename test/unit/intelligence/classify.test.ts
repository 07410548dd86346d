import { describe, expect, it } from 'vitest';
import { classify } from '#shared/domain/intelligence/classify';
import { classifyLine } from '../../../scripts/classify.ts';
import { run } from './helpers.ts';

describe('TG-8 classify() entry point', () => {
  it('returns tags, hot words, sentiment, intent and SKU', () => {
    expect(classify('我想買iPhone15 Pro Max，幾錢？😍', { lang: 'zh-Hant' })).toEqual({
      tags: ['price_inquiry', 'purchase_intent'],
      hotWords: { how_much: 1, iphone: 1 },
      sentiment: expect.any(Number),
      intent: 'purchase_intent',
      sku: 'APL-IP15PM',
    });
  });

  it('intent precedence: opt-out before complaint before order status before purchase before price', () => {
    expect(run('terrible service, unsubscribe me').intent).toBe('opt_out');
    expect(run('where is my order?? worst shop ever').intent).toBe('complaint');
    expect(run('I want to buy it, how much?').intent).toBe('purchase_intent');
  });

  it('product questions, greetings and the rest', () => {
    expect(run('AirPods Pro 2 有冇現貨？').intent).toBe('product_question');
    expect(run('Galaxy S24 Ultra?').intent).toBe('product_question');
    expect(run('早晨').intent).toBe('greeting');
    expect(run('😂😂').intent).toBe('other');
  });

  it('classify() runs the shipped rules: the answer equals the rules read from the config files', () => {
    for (const text of ['幾錢？', '我想買iPhone15 Pro Max', 'where is my parcel', 'отпишите меня']) expect(classify(text)).toEqual(run(text));
  });
});

describe('npm run classify: one JSON line per input line', () => {
  it('classifies a good line', () => {
    const result = classifyLine('{"text":"STOP","lang":"en"}', 1);
    expect(result?.ok).toBe(true);
    expect(JSON.parse(result?.output ?? '{}').tags).toEqual(['opt_out']);
  });

  it('a bad line gives an error naming the line number and problem', () => {
    expect(JSON.parse(classifyLine('not json', 7)?.output ?? '{}')).toMatchObject({ line: 7, error: expect.stringContaining('invalid JSON') });
    expect(JSON.parse(classifyLine('{"lang":"en"}', 8)?.output ?? '{}')).toMatchObject({ line: 8, error: expect.stringContaining('text') });
    expect(classifyLine('   ', 9)).toBeNull();
  });
});
