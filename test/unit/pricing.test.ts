import { describe, expect, it } from 'vitest';
import rawCard from '../../config/rate-card.json' with { type: 'json' };
import { loadRateCard, marketOf, messageCost, rateCard, versionAt, type MessageCostInput } from '#shared/domain/pricing';

const at = (iso: string) => Date.parse(iso);
const cost = (over: Partial<MessageCostInput>) => messageCost({ market: 'HK', category: 'service', pricingType: 'free_customer_service', at: at('2026-03-01T00:00:00Z'), ...over });

describe('the shipped rate card', () => {
  it('loads, with its versions oldest first and every market priced in every version', () => {
    const card = rateCard();
    expect(card.currency).toBe('USD');
    expect(card.versions.map((v) => v.effectiveFrom)).toEqual(['2025-07-01', '2026-01-01', '2026-10-01']);
    for (const v of card.versions) expect(Object.keys(v.rates).sort()).toEqual(['CA', 'HK', 'SG', 'TW', 'US', 'other']);
  });

  it('the version in effect switches at 00:00 UTC of its first day', () => {
    expect(versionAt(at('2026-09-30T23:59:59.999Z')).effectiveFrom).toBe('2026-01-01');
    expect(versionAt(at('2026-10-01T00:00:00.000Z')).effectiveFrom).toBe('2026-10-01');
  });

  it('a message before per-message pricing (1 July 2025) has no version to price it', () => {
    expect(() => versionAt(at('2025-06-30T23:59:59.999Z'))).toThrow(RangeError);
  });
});

describe('what a message costs', () => {
  it('a service message inside the window on 2026-09-30 costs 0', () => {
    expect(cost({ at: at('2026-09-30T12:00:00Z') })).toEqual({ amount: 0, currency: 'USD', category: 'service', type: 'free_customer_service', rateCardVersion: '2026-01-01' });
  });

  it('the same service message on 2026-10-01 costs the rate', () => {
    expect(cost({ at: at('2026-10-01T12:00:00Z') })).toEqual({ amount: 0.0113, currency: 'USD', category: 'service', type: 'free_customer_service', rateCardVersion: '2026-10-01' });
  });

  it('a utility template inside the window is free until 30 September 2026 and billed from 1 October 2026', () => {
    expect(cost({ category: 'utility', at: at('2026-09-30T12:00:00Z') }).amount).toBe(0);
    expect(cost({ category: 'utility', at: at('2026-10-01T12:00:00Z') }).amount).toBe(0.0113);
  });

  it('a marketing template is never free inside the window', () => {
    expect(cost({ category: 'marketing', at: at('2025-08-01T00:00:00Z') }).amount).toBe(0.0732);
  });

  it('a free entry point message costs 0 in every version, marketing too', () => {
    for (const when of ['2025-08-01T00:00:00Z', '2026-10-01T00:00:00Z']) {
      expect(cost({ category: 'marketing', pricingType: 'free_entry_point', at: at(when) }).amount).toBe(0);
      expect(cost({ category: 'service', pricingType: 'free_entry_point', at: at(when) }).amount).toBe(0);
    }
  });

  it('a regular message costs its market and category rate in the version in effect', () => {
    expect(cost({ market: 'US', category: 'utility', pricingType: 'regular', at: at('2025-08-01T00:00:00Z') })).toMatchObject({ amount: 0.004, rateCardVersion: '2025-07-01' });
    expect(cost({ market: 'US', category: 'utility', pricingType: 'regular', at: at('2026-02-01T00:00:00Z') })).toMatchObject({ amount: 0.0034, rateCardVersion: '2026-01-01' });
    expect(cost({ market: 'TW', category: 'authentication', pricingType: 'regular' }).amount).toBe(0.0113);
  });

  it('Meta saying billable: false makes it free whatever the rate', () => {
    expect(cost({ category: 'marketing', pricingType: 'regular', billable: false }).amount).toBe(0);
  });

  it('a market the card does not name is priced as other', () => {
    expect(cost({ market: 'GB', category: 'marketing', pricingType: 'regular' }).amount).toBe(0.0604);
  });
});

describe('the market of a phone', () => {
  it.each([
    ['+85291234567', 'HK'],
    ['85291234567', 'HK'],
    ['+886912345678', 'TW'],
    ['+6581234567', 'SG'],
    ['+16502530000', 'US'],
    ['+14169791234', 'CA'],
    ['+447911123456', 'other'],
    ['not a phone', 'other'],
  ])('%s → %s', (phone, market) => {
    expect(marketOf(phone)).toBe(market);
  });

  it('a customer known only by BSUID (no phone) is other', () => {
    expect(marketOf(undefined)).toBe('other');
  });
});

describe('validating a rate card', () => {
  const card = (): typeof rawCard => structuredClone(rawCard);

  it('a negative rate fails naming the entry', () => {
    const bad = card();
    bad.versions[1]!.rates.HK.service = -1;
    expect(() => loadRateCard(bad)).toThrow(/rate-card.json: versions\.1\.rates\.HK\.service/);
  });

  it('an unknown category, a bad date or a missing "other" market fail naming them', () => {
    const unknownCategory = card();
    unknownCategory.versions[0]!.freeInWindow = ['service', 'promotion'];
    expect(() => loadRateCard(unknownCategory)).toThrow(/versions\.0\.freeInWindow\.1/);
    const badDate = card();
    badDate.versions[2]!.effectiveFrom = '2026-02-30';
    expect(() => loadRateCard(badDate)).toThrow(/versions\.2\.effectiveFrom: 2026-02-30/);
    const noOther = card();
    delete (noOther.versions[0]!.rates as Partial<typeof noOther.versions[0]['rates']>).other;
    expect(() => loadRateCard(noOther)).toThrow(/versions\.0\.rates: needs an "other" market/);
  });

  it('versions in any order are sorted; two on the same day fail', () => {
    const reversed = card();
    reversed.versions.reverse();
    expect(loadRateCard(reversed).versions.map((v) => v.effectiveFrom)).toEqual(['2025-07-01', '2026-01-01', '2026-10-01']);
    const twice = card();
    twice.versions[1]!.effectiveFrom = '2025-07-01';
    expect(() => loadRateCard(twice)).toThrow(/two versions take effect on 2025-07-01/);
  });
});
