import { describe, expect, it } from 'vitest';
import { IntelligenceConfigError } from '#shared/domain/intelligence/config';
import { buildIntelligence } from '#shared/domain/intelligence/intelligence';
import { readIntelligenceConfig } from '#shared/intelligence-files';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function rawConfig(): { rules: Json; sentiment: Json; catalogue: Json; t2s: Json } {
  return structuredClone(readIntelligenceConfig()) as { rules: Json; sentiment: Json; catalogue: Json; t2s: Json };
}

function problemsOf(mutate: (raw: ReturnType<typeof rawConfig>) => void): string[] {
  const raw = rawConfig();
  mutate(raw);
  try {
    buildIntelligence(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(IntelligenceConfigError);
    return [...(error as IntelligenceConfigError).problems];
  }
  throw new Error('expected the config to be rejected');
}

describe('intelligence config validation (TG-1: rules versioned in the repo, a bad rule fails at load naming it)', () => {
  it('the shipped config loads and compiles with 150+ hot words', () => {
    const intelligence = buildIntelligence(rawConfig());
    expect(Object.keys(intelligence.config.rules.hotWords).length).toBeGreaterThanOrEqual(150);
    expect(intelligence.rules.phraseCount).toBeGreaterThan(1000);
  });

  it('an empty phrase is named by its path: rules.tags.complaint.zh-Hant[3]', () => {
    const problems = problemsOf((raw) => {
      raw.rules.tags.complaint['zh-Hant'][3] = '  ';
    });
    expect(problems).toContain('rules.tags.complaint.zh-Hant[3]: empty phrase');
  });

  it('a phrase that is empty after normalisation is named', () => {
    const problems = problemsOf((raw) => {
      raw.rules.tags.opt_out.en[1] = '\uFE0F';
    });
    expect(problems).toContain('rules.tags.opt_out.en[1]: phrase is empty after normalisation');
  });

  it("a '*' inside a phrase is rejected (stems only at the end)", () => {
    const problems = problemsOf((raw) => {
      raw.rules.hotWords.discount.phrases[0] = 'dis*count';
    });
    expect(problems).toContain("rules.hotWords.discount.phrases[0]: '*' is allowed only at the end of a phrase (a stem)");
  });

  it('a missing language, a duplicate SKU and a zero sentiment weight are all reported at once', () => {
    const problems = problemsOf((raw) => {
      delete raw.rules.tags.store_inquiry.ru;
      raw.catalogue.products[1].sku = raw.catalogue.products[0].sku;
      raw.sentiment.lexicon.en.good = 0;
    });
    expect(problems.some((p) => p.startsWith('rules.tags.store_inquiry.ru:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('sentiment.lexicon.en.good:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('catalogue.products[1].sku: duplicate SKU'))).toBe(true);
  });

  it('a contact tag on a hot-word family that does not exist is named', () => {
    const problems = problemsOf((raw) => {
      raw.rules.contactTags[0].family = 'no_such_family';
    });
    expect(problems).toContain('rules.contactTags[0].family: no hot word has family no_such_family');
  });

  it('an unknown tag is rejected rather than ignored', () => {
    const problems = problemsOf((raw) => {
      raw.rules.tags.refund_request = raw.rules.tags.complaint;
    });
    expect(problems.some((p) => p.startsWith('rules.tags'))).toBe(true);
  });
});
