/**
 * Storage growth, watched daily (ST-3): the table's size (DynamoDB's own figure, refreshed about
 * every 6 hours) plus the bucket's (the sum of its objects' sizes, listed: a thousand keys a
 * request, a few hundred requests for a big bucket, cents a year), kept as one snapshot a day
 * (`STORAGE#<day>` / `STORAGE`), and compared with the snapshot of 30 days before. Two metrics:
 * `StorageBytes` and `StorageMonthlyGrowth` (% of the configured capacity added in 30 days), which
 * alarms above 5 %: the history outgrowing what the business planned for, long before it costs.
 */
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import type { MetricsSink } from '../metric-names.ts';
import type { Runtime } from '../runtime-core.ts';
import type { TableClient } from '../store/client.ts';

export interface StorageGrowthDeps {
  readonly table: TableClient;
  /** The table's size in bytes (DescribeTable TableSizeBytes). */
  readonly tableBytes: () => Promise<number>;
  /** The bucket's objects' sizes, summed. */
  readonly bucketBytes: () => Promise<number>;
  /** The capacity the business planned for, bytes (SCRM_STORAGE_CAPACITY_GB). */
  readonly capacityBytes: number;
  readonly metrics: MetricsSink;
  readonly now: () => number;
}

export interface StorageGrowth {
  readonly day: string;
  readonly tableBytes: number;
  readonly bucketBytes: number;
  readonly totalBytes: number;
  /** The snapshot compared with (30 days before, or the oldest within them). */
  readonly since?: string | undefined;
  readonly addedBytes: number;
  /** Added in the period, as % of the capacity; scaled to 30 days when the oldest snapshot is younger. */
  readonly monthlyGrowthPercent: number;
}

const DAY_MS = 86_400_000;
const WINDOW_DAYS = 30;
/** Snapshots are kept a little over the window. */
const KEEP_DAYS = 45;

const snapshotKey = (day: string) => ({ pk: `STORAGE#${day}`, sk: 'STORAGE' });
const dayOf = (at: number) => new Date(at).toISOString().slice(0, 10);

export async function measureStorageGrowth(deps: StorageGrowthDeps): Promise<StorageGrowth> {
  const now = deps.now();
  const [tableBytes, bucketBytes] = await Promise.all([deps.tableBytes(), deps.bucketBytes()]);
  const totalBytes = tableBytes + bucketBytes;
  const day = dayOf(now);
  await deps.table.put({ ...snapshotKey(day), snapshotDay: day, tableBytes, bucketBytes, totalBytes, measuredAt: now, expiresAt: Math.floor((now + KEEP_DAYS * DAY_MS) / 1000) });
  const base = await oldestWithin(deps.table, now);
  const addedBytes = base ? Math.max(0, totalBytes - base.totalBytes) : 0;
  const days = base ? Math.max(1, Math.round((now - base.at) / DAY_MS)) : 0;
  const monthlyGrowthPercent = base && deps.capacityBytes > 0 ? round2(((addedBytes / deps.capacityBytes) * 100 * WINDOW_DAYS) / Math.min(WINDOW_DAYS, days)) : 0;
  deps.metrics.add('storageBytes', totalBytes);
  deps.metrics.add('storageMonthlyGrowth', monthlyGrowthPercent);
  return { day, tableBytes, bucketBytes, totalBytes, since: base?.day, addedBytes, monthlyGrowthPercent };
}

/** The snapshot 30 days back, else the oldest of the days between (a young deployment). */
async function oldestWithin(table: TableClient, now: number): Promise<{ day: string; totalBytes: number; at: number } | undefined> {
  const days = Array.from({ length: WINDOW_DAYS }, (_, i) => dayOf(now - (WINDOW_DAYS - i) * DAY_MS));
  // Names clear of DynamoDB's reserved words (DAY, AT): a projection without placeholders.
  const items = await table.batchGet(days.map(snapshotKey), 'snapshotDay, totalBytes, measuredAt');
  const found = items.map((i) => ({ day: String(i['snapshotDay']), totalBytes: Number(i['totalBytes']), at: Number(i['measuredAt']) })).filter((i) => Number.isFinite(i.totalBytes) && Number.isFinite(i.at));
  found.sort((a, b) => a.at - b.at);
  return found[0];
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/** The probes of a deployment: DescribeTable's size, the bucket listed; undefined without a bucket. */
export function runtimeStorage(runtime: Pick<Runtime, 'clients' | 'bucket' | 'config'>): Pick<StorageGrowthDeps, 'tableBytes' | 'bucketBytes' | 'capacityBytes'> | undefined {
  const bucket = runtime.bucket;
  if (!bucket) return undefined;
  return {
    tableBytes: async () => (await runtime.clients.dynamodb.send(new DescribeTableCommand({ TableName: runtime.config.tableName }))).Table?.TableSizeBytes ?? 0,
    bucketBytes: async () => (await bucket.list('')).reduce((sum, o) => sum + o.size, 0),
    capacityBytes: runtime.config.storageCapacityGb * 1_000_000_000,
  };
}
