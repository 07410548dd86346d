/** Load shapes shared by the benches. */

/** Runs `work` from `concurrency` workers for `seconds`; returns completed calls per second. */
export async function closedLoop(concurrency: number, seconds: number, work: (i: number) => Promise<void>): Promise<number> {
  let done = 0;
  let next = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await work(next++);
        done++;
      }
    }),
  );
  return done / ((performance.now() - start) / 1000);
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
