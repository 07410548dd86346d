import { describe, expect, it } from 'vitest';
import { EVAL_TARGETS } from '#shared/domain/intelligence/evaluation';
import { loadLabelledSet, runEvaluation } from '../../../scripts/eval.ts';

describe('TG-1 / TG-7 / TG-8 labelled evaluation set', () => {
  const set = loadLabelledSet();
  const result = runEvaluation(set);

  it('has at least 320 labelled messages in four languages plus mixed ones', () => {
    expect(set.length).toBeGreaterThanOrEqual(320);
    for (const lang of ['zh-Hant', 'zh-Hans', 'en', 'ru', 'mixed']) expect(set.some((m) => m.lang === lang)).toBe(true);
  });

  it(`tag error below ${EVAL_TARGETS.maxTagErrorRate * 100}%, SKU accuracy ≥ ${EVAL_TARGETS.minSkuAccuracy * 100}%, intent accuracy ≥ ${EVAL_TARGETS.minIntentAccuracy * 100}% on the whole set`, () => {
    expect(result.all.tagErrorRate).toBeLessThan(EVAL_TARGETS.maxTagErrorRate);
    expect(result.all.skuAccuracy).toBeGreaterThanOrEqual(EVAL_TARGETS.minSkuAccuracy);
    expect(result.all.intentAccuracy).toBeGreaterThanOrEqual(EVAL_TARGETS.minIntentAccuracy);
    expect(result.all.meetsTargets).toBe(true);
  });

  it('reports every split separately so blind figures stay visible', () => {
    expect(result.dev.messages + result.holdout.messages + result.fresh.messages).toBe(result.all.messages);
    expect(result.fresh.messages).toBeGreaterThan(0);
  });
});
