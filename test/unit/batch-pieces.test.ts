/**
 * The pure pieces of the exports and health checks: CSV a spreadsheet reads safely, the periods
 * in the business's time zone, a fair random sample.
 */
import { describe, expect, it } from 'vitest';
import { toCsv } from '#shared/batch/csv';
import { sample } from '#shared/batch/health';
import { localDate, previousMonth, previousWeek } from '#shared/batch/period';

describe('CSV', () => {
  it('quotes commas, quotes and line breaks, ends rows with CRLF, and leaves empty cells empty', () => {
    expect(toCsv(['a', 'b', 'c'], [['x,y', 'say "hi"', null], ['line\nbreak', 3, undefined]])).toBe('a,b,c\r\n"x,y","say ""hi""",\r\n"line\nbreak",3,\r\n');
  });

  it('defuses cells a spreadsheet would run as a formula, but not negative numbers', () => {
    expect(toCsv(['t'], [['=HYPERLINK("x")'], ['+1'], ['@SUM(A1)'], [-5]])).toBe('t\r\n"\'=HYPERLINK(""x"")"\r\n\'+1\r\n\'@SUM(A1)\r\n-5\r\n');
  });
});

describe('report periods in the business time zone', () => {
  const hk = 'Asia/Hong_Kong';
  it('the local date of a moment', () => {
    expect(localDate(Date.parse('2026-12-01T17:30:00Z'), hk)).toBe('2026-12-02');
    expect(localDate(Date.parse('2026-12-01T15:30:00Z'), hk)).toBe('2026-12-01');
  });

  it('the ISO week before: Monday 0:00 to Monday 0:00 local time', () => {
    // Wednesday 2 December 2026, 10:00 in Hong Kong.
    const week = previousWeek(Date.parse('2026-12-02T02:00:00Z'), hk);
    expect(week.label).toBe('2026-W48');
    expect(new Date(week.start).toISOString()).toBe('2026-11-22T16:00:00.000Z');
    expect(new Date(week.end).toISOString()).toBe('2026-11-29T16:00:00.000Z');
    // Run on a Monday at 2:30 it is the week that just ended.
    expect(previousWeek(Date.parse('2026-11-29T18:30:00Z'), hk).label).toBe('2026-W48');
  });

  it('the month before, across a year and a daylight-saving change', () => {
    const january = previousMonth(Date.parse('2027-01-01T02:00:00Z'), hk);
    expect(january.label).toBe('2026-12');
    expect(new Date(january.start).toISOString()).toBe('2026-11-30T16:00:00.000Z');
    const london = previousMonth(Date.parse('2026-11-01T12:00:00Z'), 'Europe/London');
    expect(london.label).toBe('2026-10');
    // 1 October is in summer time (UTC+1), 1 November in winter time (UTC).
    expect(new Date(london.start).toISOString()).toBe('2026-09-30T23:00:00.000Z');
    expect(new Date(london.end).toISOString()).toBe('2026-11-01T00:00:00.000Z');
  });
});

describe('reservoir sample', () => {
  async function* numbers(n: number) {
    for (let i = 0; i < n; i++) yield i;
  }

  it('keeps everything when there is less than the sample size, and exactly the size otherwise', async () => {
    expect(await sample(numbers(5), 100, Math.random)).toEqual([0, 1, 2, 3, 4]);
    const picked = await sample(numbers(10_000), 100, Math.random);
    expect(picked).toHaveLength(100);
    expect(new Set(picked).size).toBe(100);
  });

  it('gives every item the same chance (mean of the picks near the middle)', async () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const means: number[] = [];
    for (let run = 0; run < 20; run++) {
      const picked = await sample(numbers(1_000), 100, random);
      means.push(picked.reduce((a, b) => a + b, 0) / picked.length);
    }
    const mean = means.reduce((a, b) => a + b, 0) / means.length;
    expect(mean).toBeGreaterThan(450);
    expect(mean).toBeLessThan(550);
  });
});
