/**
 * The archive's compression (ST-2 expects about −75 %): a month of realistic history
 * (shared/archive/sample.ts: short chats in English, Cantonese and Mandarin, emoji, order and
 * tracking numbers, media, statuses, outbox rows with pricing) encoded exactly as the nightly job
 * writes it — one gzip JSON Lines object per contact and month (shared/archive/codec.ts) — at gzip
 * levels 1, 6 and 9, and, for comparison, the whole month as one stream (what one object per
 * contact costs in ratio). MB/s is uncompressed bytes per second, objects one after another on
 * one core. Pure: no services (S3 and DynamoDB time is the job's, not the codec's).
 *   npx tsx bench/archive.ts          BENCH_ARCHIVE_CONTACTS (default 2,000)
 */
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { archiveMetadata, archivedRow, decodeArchive, encodeRows, rowLine, sortRows, type EncodedArchive } from '#shared/archive/codec';
import { sampleMonth } from '#shared/archive/sample';
import type { Item } from '#shared/store/client';

interface Measured {
  readonly label: string;
  readonly objects: number;
  readonly rows: number;
  readonly raw: number;
  readonly gzip: number;
  readonly ms: number;
}

function byContact(rows: readonly Item[]): Item[][] {
  const groups = new Map<string, Item[]>();
  for (const row of rows) {
    const key = String(row['contactId']);
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  return [...groups.values()];
}

async function encodeAll(groups: readonly Item[][], level: number): Promise<{ measured: Measured; encoded: EncodedArchive[] }> {
  const started = performance.now();
  const encoded: EncodedArchive[] = [];
  for (const group of groups) encoded.push(await encodeRows(group, level));
  const ms = performance.now() - started;
  const sum = (pick: (e: EncodedArchive) => number) => encoded.reduce((n, e) => n + pick(e), 0);
  return { measured: { label: `${level}, one object per contact`, objects: encoded.length, rows: sum((e) => e.rows), raw: sum((e) => e.bytesRaw), gzip: sum((e) => e.body.length), ms }, encoded };
}

function oneStream(rows: readonly Item[]): Measured {
  const started = performance.now();
  const text = `${sortRows(rows.map(archivedRow)).map(rowLine).join('\n')}\n`;
  const raw = Buffer.from(text);
  const gzip = gzipSync(raw, { level: 9 }).length;
  return { label: '9, whole month in one stream', objects: 1, rows: rows.length, raw: raw.length, gzip, ms: performance.now() - started };
}

async function decodeAll(encoded: readonly EncodedArchive[]): Promise<Measured> {
  const started = performance.now();
  let rows = 0;
  for (const [i, e] of encoded.entries()) rows += (await decodeArchive(`o${i}`, e.body, archiveMetadata(e))).length;
  const sum = (pick: (e: EncodedArchive) => number) => encoded.reduce((n, e) => n + pick(e), 0);
  return { label: 'restore side: gunzip + sha256 + parse (level 9 objects)', objects: encoded.length, rows, raw: sum((e) => e.bytesRaw), gzip: sum((e) => e.body.length), ms: performance.now() - started };
}

const mb = (bytes: number) => (bytes / 1_048_576).toFixed(2);
const row = (m: Measured) => {
  const ratio = m.gzip / m.raw;
  return `| ${m.label} | ${m.objects.toLocaleString('en-US')} | ${m.rows.toLocaleString('en-US')} | ${m.raw.toLocaleString('en-US')} (${mb(m.raw)} MB) | ${m.gzip.toLocaleString('en-US')} | ${ratio.toFixed(3)} | −${((1 - ratio) * 100).toFixed(1)} % | ${(m.raw / 1_048_576 / (m.ms / 1000)).toFixed(1)} |`;
};

export async function benchArchive(contacts = Number(process.env['BENCH_ARCHIVE_CONTACTS'] ?? 2_000)): Promise<string> {
  const rows = sampleMonth(contacts, 42);
  const groups = byContact(rows);
  await encodeAll(groups.slice(0, 50), 9); // warm-up (JIT, zlib)
  const results: Measured[] = [];
  let level9: EncodedArchive[] = [];
  for (const level of [1, 6, 9]) {
    const { measured, encoded } = await encodeAll(groups, level);
    results.push(measured);
    if (level === 9) level9 = encoded;
  }
  results.push(oneStream(rows));
  const decode = await decodeAll(level9);
  const sizes = level9.map((e) => e.body.length).sort((a, b) => a - b);
  const median = sizes[Math.floor(sizes.length / 2)] ?? 0;
  return [
    `${contacts.toLocaleString('en-US')} contacts, one month (sample seed 42): ${rows.length.toLocaleString('en-US')} rows, ${(rows.length / groups.length).toFixed(1)} rows and ${(decode.raw / groups.length / 1024).toFixed(1)} KB per contact-month (median object ${(median / 1024).toFixed(1)} KB gzip).`,
    '',
    '| gzip level | objects | rows | raw bytes | gzip bytes | ratio | space | MB/s |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...results.map(row),
    row(decode),
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) console.log(await benchArchive());
