/**
 * Pacing to a CRM's limit (SY-5): never more than the limit in any rolling window (with the
 * margin), turns in call order, and half the pace once the CRM's daily budget is 80 % used.
 */
import { describe, expect, it } from 'vitest';
import { Pacer } from '#shared/crm/pacing';

/** A clock that only moves when the pacer sleeps. */
function fakeClock() {
  let now = 0;
  return { now: () => now, sleep: (ms: number) => ((now += ms), Promise.resolve()) };
}

describe('Pacer', () => {
  it('starts at most `requests` in any window of windowMs + margin, and no later than it must', async () => {
    const clock = fakeClock();
    const pacer = new Pacer({ requests: 10, windowMs: 1_000 }, undefined, { ...clock, marginMs: 100 });
    const starts: number[] = [];
    for (let i = 0; i < 35; i++) {
      await pacer.take();
      starts.push(clock.now());
    }
    for (let i = 10; i < starts.length; i++) expect(starts[i]! - starts[i - 10]!).toBeGreaterThan(1_100);
    // Utilisation: 35 requests take a little over 3 windows, not more.
    expect(starts.at(-1)!).toBeLessThanOrEqual(3 * 1_101 + 1);
    expect(pacer.stats.requests).toBe(35);
  });

  it('counts a request in its window until it is answered: a slow or late-sent request never lets the next window start early', async () => {
    const clock = fakeClock();
    const pacer = new Pacer({ requests: 2, windowMs: 1_000 }, undefined, { ...clock, marginMs: 0 });
    const first = await pacer.acquire();
    const second = await pacer.acquire();
    // The answers come 400 ms later: the third request may start only a window after the first answer.
    clock.sleep(400);
    first();
    second();
    await pacer.take();
    expect(clock.now()).toBeGreaterThanOrEqual(1_400);
  });

  it('hands out turns in call order to concurrent callers', async () => {
    const clock = fakeClock();
    const pacer = new Pacer({ requests: 2, windowMs: 100 }, undefined, { ...clock, marginMs: 0 });
    const order: number[] = [];
    await Promise.all(Array.from({ length: 6 }, (_, i) => pacer.take().then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('halves the pace while the CRM reports more than 80 % of its daily budget used', async () => {
    const clock = fakeClock();
    let used = 50;
    const pacer = new Pacer({ requests: 10, windowMs: 1_000 }, { usage: () => ({ used, max: 100 }) }, { ...clock, marginMs: 0 });
    for (let i = 0; i < 10; i++) await pacer.take();
    expect(clock.now()).toBe(0);
    used = 85;
    const before = clock.now();
    for (let i = 0; i < 10; i++) await pacer.take();
    // 5 per window now: the next 10 take two more windows.
    expect(clock.now() - before).toBeGreaterThanOrEqual(2_000);
    expect(pacer.stats.slowed).toBe(10);
    expect(pacer.usage()).toBe(0.85);
  });
});
