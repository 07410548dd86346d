/**
 * The bench's refresh process: the nightly segment refresh (batch-export's task) against the
 * bench's local services, run until done, so that the bench can kill it half-way and start it
 * again. Prints one JSON line when it ends. Settings come from the environment the bench passes.
 */
import { createBatchApp } from '#functions/batch-export/app';
import { shippedIntelligence } from '#shared/domain/intelligence/bundled';
import { createRuntime } from '#shared/runtime';
import { ContactInsightsKeeper } from '#shared/sync/insights';

const overrides = JSON.parse(process.env['BENCH_OVERRIDES'] ?? '{}') as Parameters<typeof createRuntime>[1];
const runtime = await createRuntime(process.env, overrides);
const silent = { info: () => undefined, warn: () => undefined };
const app = createBatchApp({
  store: runtime.store,
  syncJobs: runtime.syncQueue,
  insights: new ContactInsightsKeeper({ store: runtime.store, intelligence: shippedIntelligence() }),
  crm: () => {
    throw new Error('the bench contacts are not in a CRM');
  },
  logger: silent,
  // The bench's clock: its refresh time plus the wall-clock time since the bench began (one clock for every process).
  now: () => Number(process.env['BENCH_REFRESH_AT']) + (Date.now() - Number(process.env['BENCH_EPOCH'])),
  // A short lease, so that the restarted process does not wait the production minute.
  refresh: { leaseMs: Number(process.env['BENCH_REFRESH_LEASE_MS'] ?? 60_000) },
});
const started = performance.now();
const result = await app.run('segment-refresh', { remainingMs: () => 14 * 60_000 });
process.stdout.write(`${JSON.stringify({ ...result, seconds: (performance.now() - started) / 1000 })}\n`);
process.exit(0);
