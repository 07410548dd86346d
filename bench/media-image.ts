/**
 * Image recompression (MD-1) on a 12 MP (4000×3000) photo-like JPEG: `compressImage` against one
 * plain sharp encode of the same photo (A: `rotate().resize(4096 inside).jpeg({ quality: 80 })`),
 * goal ≤ 1.3×, and against the same plain encode with compressImage's encoder setting (B:
 * `optimiseCoding: false`), which shows compressImage's own overhead apart from that setting. Median of BENCH_MEDIA_RUNS (default 5) interleaved runs after a warm-up; peak RSS
 * sampled every 5 ms. A second, very noisy photo shows the search path (the first attempt misses),
 * and a small table the sharp globals that were considered (concurrency, the libvips cache).
 * Run: node bench/media-image.ts (Node 24 strips the types) or npx tsx bench/media-image.ts.
 */
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { compressImage, type ImageOutcome } from '#shared/media/image';

const RUNS = Number(process.env['BENCH_MEDIA_RUNS'] ?? 5);

/** Deterministic photo-like pixels: gradients and waves plus per-pixel noise of ±`noise`. */
export function photoLikePixels(width: number, height: number, noise: number, seed = 7): Buffer {
  const pixels = Buffer.alloc(width * height * 3);
  let state = seed >>> 0;
  const column = Float32Array.from({ length: width }, (_, x) => Math.sin((x / width) * 17) * 40 + (x / width) * 120);
  const row = Float32Array.from({ length: height }, (_, y) => Math.cos((y / height) * 23) * 30 + (y / height) * 90);
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const base = column[x]! + row[y]!;
      for (let channel = 0; channel < 3; channel++, i++) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        const value = 40 + base * (0.6 + channel * 0.2) + ((((state >>> 0) & 0xff) - 128) * noise) / 128;
        pixels[i] = value < 0 ? 0 : value > 255 ? 255 : value;
      }
    }
  }
  return pixels;
}

async function photoJpeg(noise: number, quality: number): Promise<Buffer> {
  return sharp(photoLikePixels(4000, 3000, noise), { raw: { width: 4000, height: 3000, channels: 3 } }).jpeg({ quality }).toBuffer();
}

/** The reference: one plain decode + encode, sharp's default JPEG settings (Huffman optimisation on). */
function plainEncode(input: Buffer, optimiseCoding = true): Promise<Buffer> {
  return sharp(input).rotate().resize({ width: 4096, height: 4096, fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 80, optimiseCoding }).toBuffer();
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;

async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await run();
  return { ms: performance.now() - started, value };
}

/** Peak RSS while `run` runs, sampled every 5 ms (sharp works off the event loop, so timers fire). */
async function withPeakRss<T>(run: () => Promise<T>): Promise<{ peakRss: number; value: T }> {
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 5);
  try {
    const value = await run();
    return { peakRss: Math.max(peakRss, process.memoryUsage().rss), value };
  } finally {
    clearInterval(sampler);
  }
}

interface CaseResult {
  readonly label: string;
  readonly inputBytes: number;
  readonly plainMs: number[];
  /** The same plain encode with compressImage's encoder setting (optimiseCoding: false). */
  readonly plainFastMs: number[];
  readonly compressMs: number[];
  readonly outcome: ImageOutcome;
}

/** Interleaved runs (plain, plain fast, compress, …) so that drift on a shared machine hits all alike. */
async function measureCase(label: string, input: Buffer, runs: number): Promise<CaseResult> {
  let outcome = await compressImage(input, 'image/jpeg');
  for (let warmUp = 0; warmUp < 2; warmUp++) {
    await plainEncode(input);
    await plainEncode(input, false);
    await compressImage(input, 'image/jpeg');
  }
  const plainMs: number[] = [];
  const plainFastMs: number[] = [];
  const compressMs: number[] = [];
  for (let run = 0; run < runs; run++) {
    plainMs.push((await timed(() => plainEncode(input))).ms);
    plainFastMs.push((await timed(() => plainEncode(input, false))).ms);
    const compressed = await timed(() => compressImage(input, 'image/jpeg'));
    compressMs.push(compressed.ms);
    outcome = compressed.value;
  }
  return { label, inputBytes: input.length, plainMs, plainFastMs, compressMs, outcome };
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;
const ms = (value: number) => `${value.toFixed(0)} ms`;

function caseRow(result: CaseResult, goal: boolean): string {
  const { label, inputBytes, plainMs, plainFastMs, compressMs, outcome } = result;
  const ratio = median(compressMs) / median(plainMs);
  const fastRatio = median(compressMs) / median(plainFastMs);
  const verdict = goal ? (ratio <= 1.3 ? '≤ 1.3× — held' : '≤ 1.3× — **missed**') : '—';
  const timing = (values: number[]) => `${ms(median(values))} (min ${ms(Math.min(...values))})`;
  return (
    `| ${label}, ${mb(inputBytes)} | ${timing(plainMs)} | ${timing(plainFastMs)} | ${timing(compressMs)} | ${ratio.toFixed(2)}× | ${fastRatio.toFixed(2)}× | ${verdict} ` +
    `| ${outcome.state}, ${outcome.bytes.length.toLocaleString('en')} bytes | ${outcome.width}×${outcome.height} | ${outcome.quality ?? '—'} | ${outcome.steps} |`
  );
}

/** compressImage's median under one sharp global setting, restored afterwards. */
async function underSetting(label: string, input: Buffer, apply: () => void, restore: () => void): Promise<string> {
  apply();
  try {
    await compressImage(input, 'image/jpeg');
    const times: number[] = [];
    for (let run = 0; run < RUNS; run++) times.push((await timed(() => compressImage(input, 'image/jpeg'))).ms);
    return `| ${label} | ${ms(median(times))} (min ${ms(Math.min(...times))}) | ${sharp.concurrency()} | ${sharp.cache().memory.current} MB |`;
  } finally {
    restore();
  }
}

export async function benchMediaImage(): Promise<string> {
  const photo = await photoJpeg(24, 95);
  const noisy = await photoJpeg(64, 100);
  // compressImage alone first: RSS hardly shrinks afterwards, so its own peak is only seen here.
  const rssBefore = process.memoryUsage().rss;
  const alone = await withPeakRss(async () => {
    for (let run = 0; run < RUNS; run++) for (const input of [photo, noisy]) await compressImage(input, 'image/jpeg');
  });
  const { peakRss, value: cases } = await withPeakRss(async () => [
    await measureCase('12 MP photo-like JPEG q95', photo, RUNS),
    await measureCase('12 MP very noisy JPEG q100 (search path)', noisy, RUNS),
  ]);
  const [main, search] = cases as [CaseResult, CaseResult];

  const defaultConcurrency = sharp.concurrency();
  const settings = [
    await underSetting('defaults (what compressImage uses)', photo, () => undefined, () => undefined),
    await underSetting('sharp.concurrency(2)', photo, () => void sharp.concurrency(2), () => void sharp.concurrency(defaultConcurrency)),
    await underSetting('sharp.cache(false)', photo, () => void sharp.cache(false), () => void sharp.cache(true)),
  ];

  return [
    `Median of ${RUNS} interleaved runs after a warm-up; sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}, sharp.concurrency() ${defaultConcurrency}.`,
    '',
    '| input | plain encode q80 (A) | plain q80, optimiseCoding off (B) | compressImage | ratio to A | ratio to B | goal (to A) | stored | dimensions | quality | encodes |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    caseRow(main, true),
    caseRow(search, false),
    '',
    `Peak RSS: ${mb(alone.peakRss)} during ${RUNS} × compressImage of each photo alone (${mb(rssBefore)} before, both source JPEGs in memory); ` +
      `${mb(peakRss)} during the comparison runs above (plain encode A included).`,
    '',
    '| sharp setting (12 MP q95 photo) | compressImage | threads | libvips cache held after |',
    '| --- | --- | --- | --- |',
    ...settings,
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(await benchMediaImage());
}
