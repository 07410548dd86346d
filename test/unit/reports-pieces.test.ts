/** The reports' small parts: the local calendar, the period of a report, the signed links, the held-out figures on record. */
import { describe, expect, it } from 'vitest';
import { median, previousPeriod, reportPeriod } from '#shared/reports/build';
import { loadReportsConfig } from '#shared/reports/config';
import { inboundFacts, ownStatusFacts } from '#shared/reports/facts';
import { reportKey, reportLink, reportLinkProblem } from '#shared/reports/links';
import { addDays, localTime, mondayOf, startOfDay } from '#shared/reports/time';
import results from '../../eval/results.json' with { type: 'json' };
import { evaluationResults, runEvaluation } from '../../scripts/eval.ts';

describe('the local calendar', () => {
  it('puts an instant on the business day, not the UTC day', () => {
    // 17:30 UTC on the 22nd is 01:30 on the 23rd in Hong Kong, a Monday.
    expect(localTime(Date.UTC(2026, 10, 22, 17, 30), 'Asia/Hong_Kong')).toEqual({ day: '2026-11-23', hour: 1, weekday: 0 });
    expect(localTime(Date.UTC(2026, 10, 22, 17, 30), 'America/New_York')).toEqual({ day: '2026-11-22', hour: 12, weekday: 6 });
  });

  it('knows days of 23 hours', () => {
    // New York springs forward on 8 March 2026.
    expect(startOfDay('2026-03-09', 'America/New_York') - startOfDay('2026-03-08', 'America/New_York')).toBe(23 * 3_600_000);
  });

  it('weeks run Monday to Sunday, and any day of one gives it', () => {
    expect(mondayOf('2026-11-29')).toBe('2026-11-23');
    expect(reportPeriod('weekly', '2026-11-26')).toEqual({ from: '2026-11-23', to: '2026-11-29' });
    expect(reportPeriod('daily', '2026-11-26')).toEqual({ from: '2026-11-26', to: '2026-11-26' });
    expect(previousPeriod({ from: '2026-11-23', to: '2026-11-29' })).toEqual({ from: '2026-11-16', to: '2026-11-22' });
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(() => reportPeriod('daily', '2026-02-30')).not.toThrow(); // periods are plain arithmetic …
    expect(() => addDays('2026-02-30', 0)).toThrow(/not a date/); // … on dates that are checked
  });
});

describe('facts', () => {
  it('a message with words counts its words, tags and intent; one without words counts as a message only', () => {
    const family = (w: string) => ({ discount: 'discount', credit_card: 'payment' })[w];
    const words = inboundFacts({ wamid: 'w', contactId: 'ct', sentAt: 0, analysis: { intent: 'purchase_intent', tags: ['purchase_intent'], sku: 'S', sentiment: 0.75, hotWords: { discount: 2, credit_card: 1 } } }, family);
    expect(words.counted).toEqual({ id: 'in:w', at: 0, counts: { in: 1, inw: 1, it_purchase_intent: 1, sn_s: 750, sn_n: 1, tg_purchase_intent: 1, hw_discount: 1, hw_credit_card: 1 } });
    expect(words.members.sets).toEqual({ act: ['ct'], dsc: ['ct'], pa_credit_card: ['ct'], pq: ['ct'], pi: ['ct'] });
    expect(inboundFacts({ wamid: 'x', contactId: 'ct', sentAt: 0 }, family).counted.counts).toEqual({ in: 1 });
  });

  it('a read status counts as delivered too, and Meta\'s cost goes with the delivery once', () => {
    const read = ownStatusFacts({ id: 'ob', status: 'read', sentAt: 0, cost: { amount: 0.0706, category: 'marketing' } });
    expect(read.map((f) => f.id)).toEqual(['st:ob:delivered', 'cost:ob', 'st:ob:read']);
    expect(read[1]!.counts).toEqual({ meta_u: 70_600, mc_marketing: 70_600, bill: 1 });
  });

  it('median of an even count is the mean of the middle two', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNull();
  });
});

describe('report links', () => {
  const now = Date.UTC(2026, 11, 1);
  it('open the report they name until they expire', () => {
    const link = new URL(reportLink('https://api.example.com/', 'k'.repeat(32), 'weekly-2026-11-23.html', now));
    expect(link.pathname).toBe('/reports/weekly-2026-11-23.html');
    const [exp, sig] = [link.searchParams.get('exp')!, link.searchParams.get('sig')!];
    expect(reportLinkProblem('k'.repeat(32), 'weekly-2026-11-23.html', exp, sig, now)).toBeUndefined();
    expect(reportLinkProblem('k'.repeat(32), 'weekly-2026-11-30.html', exp, sig, now)).toMatch(/sig does not match/);
    expect(reportLinkProblem('k'.repeat(32), 'weekly-2026-11-23.html', exp, sig, now + 31 * 86_400_000)).toMatch(/expired/);
    expect(reportLinkProblem('k'.repeat(32), 'weekly-2026-11-23.html', undefined, sig, now)).toMatch(/exp and sig are required/);
  });
  it('name only stored reports', () => {
    expect(reportKey('weekly-2026-11-23.csv')).toBe('reports/weekly/2026-11-23.csv');
    expect(reportKey('latest-daily.html')).toBe('reports/latest/daily.html');
    expect(reportKey('../media/x.html')).toBeUndefined();
  });
});

describe('config/reports.json', () => {
  it('is valid, and a wrong entry is named', () => {
    expect(loadReportsConfig().currency).toMatch(/^[A-Z]{3}$/);
    expect(() => loadReportsConfig({ currency: 'hkd', promotions: [], baseline: null, whatsappSpendUsdPerMonth: 0, channels: [] })).toThrow(/currency: an ISO currency code/);
    expect(() => loadReportsConfig({ currency: 'HKD', promotions: [], baseline: { from: '2026-12-01', to: '2026-11-01' }, whatsappSpendUsdPerMonth: 0, channels: [] })).toThrow(/baseline: from must not be after to/);
  });
});

describe('eval/results.json (the TG-8 line of the reports)', () => {
  it('holds what npm run eval measures with the rules as they are', () => {
    expect(results).toEqual(evaluationResults(runEvaluation()));
  });
});

describe('the cost basis of the reports', () => {
  it('a region without prices falls back to the reference region and says so', async () => {
    const { costBasis } = await import('#shared/reports/load');
    const basis = costBasis({ region: 'eu-central-2' });
    expect(basis.region).toBe('us-east-1');
    expect(basis.source).toMatch(/no prices for eu-central-2/);
    expect(costBasis({ region: 'us-east-1', profile: 'small' }).fixedMonthlyUsd).toBeLessThan(costBasis({ region: 'us-east-1' }).fixedMonthlyUsd);
  });
});
