/** Storage growth (ST-3) against the local table: a snapshot a day, growth over 30 days as % of the planned capacity. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureStorageGrowth } from '#shared/batch/storage-growth';
import { createRuntime, type Runtime } from '#shared/runtime';
import { startLocalServices, type LocalServices } from '#local/services';

let services: LocalServices;
let runtime: Runtime;
beforeAll(async () => {
  services = await startLocalServices({});
  runtime = await createRuntime({ ...services.env, WHATSAPP_APP_SECRET: 'growth-secret', WHATSAPP_VERIFY_TOKEN: 'growth-token' }, services.overrides);
});
afterAll(async () => {
  await services.stop();
});

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 5, 1, 4, 50);

describe('storage growth', () => {
  it('the first day has nothing to compare with; 30 days later the growth is the share of the capacity added', async () => {
    const metrics: [string, number][] = [];
    const sink = { add: (name: string, value = 1) => void metrics.push([name, value]) };
    let bytes = 10_000_000_000;
    const deps = (at: number) => ({ table: runtime.store.table, tableBytes: async () => 1_000_000_000, bucketBytes: async () => bytes, capacityBytes: 100_000_000_000, metrics: sink, now: () => at });
    expect(await measureStorageGrowth(deps(T0))).toMatchObject({ totalBytes: 11_000_000_000, addedBytes: 0, monthlyGrowthPercent: 0 });
    bytes += 6_000_000_000;
    const later = await measureStorageGrowth(deps(T0 + 30 * DAY));
    expect(later).toMatchObject({ since: '2026-06-01', addedBytes: 6_000_000_000, monthlyGrowthPercent: 6 });
    expect(metrics).toContainEqual(['storageMonthlyGrowth', 6]);
    expect(metrics).toContainEqual(['storageBytes', 17_000_000_000]);
  });

  it('a young deployment scales what it has to 30 days', async () => {
    const start = T0 + 100 * DAY;
    let bucket = 0;
    const deps = (at: number) => ({ table: runtime.store.table, tableBytes: async () => 0, bucketBytes: async () => bucket, capacityBytes: 100_000_000_000, metrics: { add: () => {} }, now: () => at });
    await measureStorageGrowth(deps(start));
    bucket = 1_000_000_000;
    // 1 GB in 10 days is 3 GB a month: 3 % of 100 GB.
    expect((await measureStorageGrowth(deps(start + 10 * DAY))).monthlyGrowthPercent).toBe(3);
  });
});
