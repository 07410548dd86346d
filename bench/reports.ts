/**
 * The reports from aggregates (RP-1 … RP-13): a year of 10,000 customer messages a day, then the
 * weekly and daily reports built from it — the items a year of counting leaves in the table (96
 * hour items and 8 member items a day, with as many marks, counters and members as that traffic
 * writes), loaded into the local table in bulk, so the year costs seconds to set up, not hours.
 * Also the counting itself: one day's messages through StatsStore as the webhook counts them
 * (peak 1,000 an hour), with the write units each write costs at the size its item reaches.
 *   npx tsx bench/reports.ts     BENCH_REPORT_DAILY (default 10,000), BENCH_REPORT_DAYS (default 365)
 */
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { fileURLToPath } from 'node:url';
import { startLocalServices } from '#local/services';
import { shippedIntelligence } from '#shared/domain/intelligence/bundled';
import { inboundFacts } from '#shared/reports/facts';
import { loadReport } from '#shared/reports/load';
import { renderHtml } from '#shared/reports/render-html';
import { addDays } from '#shared/reports/time';
import { createRuntime } from '#shared/runtime';
import { HOUR_SHARDS, MEMBER_SHARDS, markOf, statsPartition, StatsStore } from '#shared/store/stats';

/** The share of a day's messages in each local hour: the article's afternoon peak (14–16 h ≈ 35 %). */
const HOUR_WEIGHTS = [1, 0.5, 0.3, 0.2, 0.2, 0.3, 0.6, 1.2, 2.2, 3.5, 4.5, 5, 5.5, 5, 11, 11, 5.5, 5, 5, 5.2, 5.5, 5.2, 4, 2.2];
const WEIGHT_SUM = HOUR_WEIGHTS.reduce((a, b) => a + b, 0);
const WORDS = ['discount', 'price', 'shipping', 'delivery', 'credit_card', 'cash_on_delivery', 'refund', 'size', 'colour', 'thanks', 'hello', 'iphone', 'skincare', 'order', 'tracking'];

/** An item's size as DynamoDB counts it, near enough: names plus values (a number ≈ digits / 2 + 1 bytes). */
function sizeOf(item: Record<string, unknown>): number {
  const value = (v: unknown): number =>
    typeof v === 'string' ? Buffer.byteLength(v) : typeof v === 'number' ? Math.ceil(String(v).length / 2) + 1 : v instanceof Set || Array.isArray(v) ? [...v].reduce((s: number, x) => s + value(x) + 1, 3) : 1;
  return Object.entries(item).reduce((s, [name, v]) => s + Buffer.byteLength(name) + value(v), 0);
}

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The items one day of `daily` messages leaves: hour items with counters and marks, member items with sets. */
function dayItems(day: string, daily: number, rnd: () => number): Record<string, unknown>[] {
  const items: Record<string, unknown>[] = [];
  let seq = 0;
  for (let hour = 0; hour < 24; hour++) {
    const messages = Math.round((daily * HOUR_WEIGHTS[hour]!) / WEIGHT_SUM);
    for (let shard = 0; shard < HOUR_SHARDS; shard++) {
      const n = Math.round(messages / HOUR_SHARDS);
      const item: Record<string, unknown> = { pk: statsPartition(day), sk: `H#${String(hour).padStart(2, '0')}#${shard}`, in: n, inw: Math.round(n * 0.85), out: Math.round(n * 0.7), dl: Math.round(n * 0.68), rd: Math.round(n * 0.55), meta_u: Math.round(n * 0.7 * 4000), bill: Math.round(n * 0.7), tg_complaint: Math.round(n * 0.03), tg_purchase_intent: Math.round(n * 0.08), tg_price_inquiry: Math.round(n * 0.12), cv: Math.round(n * 0.2), cvr: Math.round(n * 0.17), ord: Math.round(n * 0.02), rv_HKD: Math.round(n * 0.02 * 45_000), sat_n: Math.round(n * 0.05), sat_s: Math.round(n * 0.05 * 4.2) };
      for (const word of WORDS) item[`hw_${word}`] = Math.round(n * 0.1 * rnd());
      for (const agent of ['ag-mei', 'ag-lin', 'ag-olga']) item[`rt_${agent}`] = Array.from({ length: Math.round(n * 0.05) }, () => Math.round(60 + rnd() * 400));
      // The marks of every fact counted there: what makes an hour item as large as it really is.
      item['m'] = new Set(Array.from({ length: n * 3 }, () => markOf(`${day}#${seq++}`)));
      items.push(item);
    }
  }
  const customers = Math.round(daily / 6);
  for (let shard = 0; shard < MEMBER_SHARDS; shard++) {
    const ids = (share: number) => new Set(Array.from({ length: Math.max(1, Math.round((customers * share) / MEMBER_SHARDS)) }, () => `ct_${Math.floor(rnd() * customers * 7).toString(36).padStart(22, '0')}`));
    items.push({ pk: statsPartition(day), sk: `D#${shard}`, act: ids(1), pq: ids(0.5), pi: ids(0.2), deal: ids(0.05), dsc: ids(0.15), new: ids(0.1), pa_credit_card: ids(0.05), pa_cash_on_delivery: ids(0.04) });
  }
  return items;
}

export async function benchReports(daily = Number(process.env['BENCH_REPORT_DAILY'] ?? 10_000), days = Number(process.env['BENCH_REPORT_DAYS'] ?? 365)): Promise<string> {
  const services = await startLocalServices({});
  try {
    const runtime = await createRuntime({ ...services.env, WHATSAPP_APP_SECRET: 'bench-secret', WHATSAPP_VERIFY_TOKEN: 'bench-token' }, services.overrides);
    const table = runtime.store.table;
    const stats = new StatsStore(table, 'Asia/Hong_Kong');
    const last = '2026-11-29';
    const first = addDays(last, -(days - 1));
    const rnd = random(7);

    // The year's items, 25 to a batch, a few batches at a time.
    const loading = performance.now();
    let itemBytes = 0;
    let itemCount = 0;
    let hourBytesMax = 0;
    for (let day = first; day <= last; day = addDays(day, 1)) {
      const items = dayItems(day, daily, rnd);
      for (const item of items) {
        const size = sizeOf(item);
        itemBytes += size;
        if (String(item['sk']).startsWith('H#')) hourBytesMax = Math.max(hourBytesMax, size);
      }
      itemCount += items.length;
      const batches: Record<string, unknown>[][] = [];
      for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
      await Promise.all(batches.map((batch) => table.db.send(new BatchWriteCommand({ RequestItems: { [table.name]: batch.map((Item) => ({ PutRequest: { Item } })) } }))));
    }
    const loadSeconds = (performance.now() - loading) / 1000;

    const deps = { stats, table, now: () => Date.parse(`${last}T23:00:00+08:00`) };
    await loadReport(deps, 'weekly', last); // warm-up
    const timings = async (kind: 'weekly' | 'daily', runs: number) => {
      const ms: number[] = [];
      let html = 0;
      for (let i = 0; i < runs; i++) {
        const at = addDays(last, -7 * i);
        const started = performance.now();
        const report = await loadReport(deps, kind, at);
        html = renderHtml(report).length;
        ms.push(performance.now() - started);
      }
      ms.sort((a, b) => a - b);
      return { median: ms[Math.floor(ms.length / 2)]!, max: ms.at(-1)!, html };
    };
    const weekly = await timings('weekly', 5);
    const dailyReport = await timings('daily', 5);

    // Counting: one day of messages (peak 1,000 an hour) as the webhook counts them.
    const count = Math.min(daily, 10_000);
    const family = (w: string) => shippedIntelligence().hotWordFamily.get(w);
    const countDay = '2026-12-07';
    // Spread over the day like the year above: the peak hour is about 1,200 messages.
    const hourOf: number[] = [];
    HOUR_WEIGHTS.forEach((w, h) => hourOf.push(...Array.from({ length: Math.round((count * w) / WEIGHT_SUM) }, () => h)));
    const facts = Array.from({ length: Math.min(count, hourOf.length) }, (_, i) => {
      const hour = String(hourOf[i]!).padStart(2, '0');
      const at = Date.parse(`${countDay}T${hour}:${String(i % 60).padStart(2, '0')}:00+08:00`);
      return inboundFacts({ wamid: `wamid.bench${i}`, contactId: `ct_bench${i % 1500}`, sentAt: at, analysis: { intent: 'other', tags: i % 10 ? [] : ['complaint'], sku: null, sentiment: 0.5, hotWords: { [WORDS[i % WORDS.length]!]: 1 } } }, family);
    });
    const counting = performance.now();
    for (let i = 0; i < facts.length; i += 50) {
      const slice = facts.slice(i, i + 50);
      await Promise.all(slice.map((f) => Promise.all([stats.count([f.counted]), stats.add([f.members])])));
    }
    const countSeconds = (performance.now() - counting) / 1000;
    let peakItem = 0;
    for await (const item of table.query({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': statsPartition(countDay) } })) {
      peakItem = Math.max(peakItem, sizeOf(item));
    }
    // A repeat of every one of them counts nothing.
    const again = performance.now();
    for (let i = 0; i < 1_000; i += 50) await Promise.all(facts.slice(i, i + 50).map((f) => stats.count([f.counted])));
    const repeatMs = (performance.now() - again) / 1_000;
    const check = await stats.days([countDay]);
    const counted = [...check[0]!.hours.values()].reduce((s, h) => s + (h['in'] ?? 0), 0);

    const fmt = (x: number, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
    return [
      `${fmt(days)} days of ${fmt(daily)} customer messages a day (${fmt(days * daily)} in all) as aggregates: ${fmt(itemCount)} items, ${fmt(itemBytes / 1e6, 1)} MB, the largest hour item ${fmt(hourBytesMax / 1024, 1)} KB; loaded in ${fmt(loadSeconds, 1)} s.`,
      '',
      '| | median | max | target |',
      '|---|---:|---:|---|',
      `| weekly report (read 14+ days of aggregates, build, render HTML ${fmt(weekly.html / 1024)} KB) | ${fmt(weekly.median)} ms | ${fmt(weekly.max)} ms | seconds (≤ 5 s) ${weekly.max <= 5_000 ? '✓' : '✗'} |`,
      `| daily report | ${fmt(dailyReport.median)} ms | ${fmt(dailyReport.max)} ms | ≤ 5 s ${dailyReport.max <= 5_000 ? '✓' : '✗'} |`,
      '',
      `Counting one day of ${fmt(facts.length)} messages spread like the year's (peak hour ${fmt(Math.max(...HOUR_WEIGHTS) * count / WEIGHT_SUM)}; 50 in flight): ${fmt(facts.length / countSeconds)} messages/s, ${fmt((countSeconds * 1000) / facts.length, 2)} ms each (two writes: hour counters with the mark, day members); the largest item reached ${fmt(peakItem / 1024, 1)} KB (≈ ${Math.ceil(peakItem / 1024)} write units a write at the peak). All ${fmt(counted)} counted once; 1,000 of them delivered again: ${fmt(repeatMs, 2)} ms each, nothing counted twice.`,
    ].join('\n');
  } finally {
    await services.stop();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) console.log(await benchReports());
