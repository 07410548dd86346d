/**
 * Bundle size and cold-init time of every function, built with exactly the esbuild options the
 * stack deploys (infra/bundling.ts). Init time = importing the bundle in a fresh Node process
 * (module load + top-level code), median of several runs.
 *
 *   npx tsx bench/bundle-size.ts            # prints a Markdown table
 *
 * Targets: webhook bundle ≤ 320 KB, init ≤ 150 ms (every function). The webhook's budget was
 * 300 KB until it also settled our outbound messages' statuses (the outbox row, Meta's cost from
 * the rate card) and took End User Messaging Social's SNS source (+14 KB, IN-7); the size is a
 * proxy, the init time is the target that matters.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { ENV, FUNCTIONS, type FunctionName } from '#shared/resources';
import { BUNDLE_FILE, INSTALLED_PACKAGES, PROJECT_ROOT, functionBuildOptions, functionEntry } from '../infra/bundling.ts';
import { METRIC_NAMESPACE } from '#shared/metric-names';

export const BUNDLE_TARGETS = {
  /** Webhook bundle budget (minified, without the source map). */
  webhookBytes: 320 * 1024,
  /** Cold-init budget of every function. */
  initMs: 150,
} as const;

export interface BundleMeasurement {
  readonly name: FunctionName;
  /** Minified bundle size in bytes (index.mjs, without the source map); undefined when not built. */
  readonly bytes?: number;
  /** Median import time in ms; undefined when not measured. */
  readonly initMedianMs?: number;
  readonly initRunsMs: readonly number[];
  readonly notes: readonly string[];
}

export interface BundleSizeOptions {
  readonly functions?: readonly FunctionName[];
  /** Fresh-process imports per function (median reported). */
  readonly runs?: number;
  /** Where bundles are written; inside the project so runtime-provided modules resolve from node_modules. */
  readonly outDir?: string;
}

/** Plausible settings so top-level config parsing succeeds; nothing is called at import time. */
const BENCH_ENV: Record<string, string> = {
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  [ENV.stage]: 'bench',
  [ENV.tableName]: 'scrm-bench-table',
  [ENV.syncQueueUrl]: 'https://sqs.eu-west-1.amazonaws.com/123456789012/scrm-bench-sync.fifo',
  [ENV.syncDlqUrl]: 'https://sqs.eu-west-1.amazonaws.com/123456789012/scrm-bench-sync-dlq.fifo',
  [ENV.mediaQueueUrl]: 'https://sqs.eu-west-1.amazonaws.com/123456789012/scrm-bench-media',
  [ENV.bucketName]: 'scrm-bench-data',
  [ENV.secretArn]: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:scrm/bench/app-AbCdEf',
  [ENV.defaultRegion]: 'HK',
  [ENV.retentionDays]: '180',
  [ENV.crmKind]: 'hubspot',
  POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
  NODE_OPTIONS: '--enable-source-maps',
};

const median = (values: readonly number[]): number | undefined => {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

/** Imports the bundle once in a fresh Node process and returns the import time (ms). */
function importOnce(bundle: string, name: FunctionName): number {
  const script = `const t=performance.now(); await import(${JSON.stringify(pathToFileURL(bundle).href)}); console.log(performance.now()-t)`;
  const child = spawnSync(process.execPath, ['--input-type=module', '--enable-source-maps', '-e', script], {
    env: { ...process.env, ...BENCH_ENV, POWERTOOLS_SERVICE_NAME: name },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const lines = child.stdout.trim().split('\n');
  const ms = Number(lines.at(-1));
  if (child.status !== 0 || !Number.isFinite(ms)) {
    throw new Error((child.stderr || child.stdout).trim().split('\n').slice(0, 3).join(' ') || `exit ${child.status}`);
  }
  return ms;
}

/** Builds and measures each function; never throws for one function's failure (it is noted). */
export async function measureBundles(options: BundleSizeOptions = {}): Promise<BundleMeasurement[]> {
  const functions = options.functions ?? FUNCTIONS;
  const runs = options.runs ?? 5;
  const outDir = options.outDir ?? join(PROJECT_ROOT, 'node_modules', '.cache', 'scrm-bundle-size');
  const results: BundleMeasurement[] = [];

  for (const name of functions) {
    const notes: string[] = [];
    if (!existsSync(functionEntry(name))) {
      results.push({ name, initRunsMs: [], notes: ['no handler.ts yet'] });
      continue;
    }
    const dir = join(outDir, name);
    mkdirSync(dir, { recursive: true });
    const bundle = join(dir, BUNDLE_FILE);
    try {
      await build({ ...functionBuildOptions(name, bundle), logLevel: 'silent' });
    } catch (error) {
      results.push({ name, initRunsMs: [], notes: [`build failed: ${(error as Error).message.split('\n')[0]}`] });
      continue;
    }
    const bytes = statSync(bundle).size;
    if (INSTALLED_PACKAGES[name]) {
      notes.push(`not bundled: ${INSTALLED_PACKAGES[name].external.join(', ')} (installed next to the bundle)`);
      if (process.arch !== 'arm64') notes.push(`init measured with this machine's sharp (${process.platform}-${process.arch}), not linux-arm64`);
    }
    const initRunsMs: number[] = [];
    try {
      for (let i = 0; i < runs; i++) initRunsMs.push(importOnce(bundle, name));
    } catch (error) {
      notes.push(`init not measured: ${(error as Error).message}`);
    }
    const initMedianMs = median(initRunsMs);
    if (name === 'webhook' && bytes > BUNDLE_TARGETS.webhookBytes) notes.push('over the 320 KB target');
    if (initMedianMs !== undefined && initMedianMs > BUNDLE_TARGETS.initMs) notes.push('over the 150 ms init target');
    results.push({ name, bytes, initRunsMs, notes, ...(initMedianMs === undefined ? {} : { initMedianMs }) });
  }
  return results;
}

/** The measurements as a Markdown table. */
export function toMarkdown(results: readonly BundleMeasurement[], runs = 5): string {
  const kb = (bytes?: number) => (bytes === undefined ? '–' : (bytes / 1024).toFixed(1));
  const ms = (value?: number) => (value === undefined ? '–' : value.toFixed(1));
  const rows = results.map((r) => {
    const sizeTarget = r.name === 'webhook' ? (r.bytes !== undefined && r.bytes <= BUNDLE_TARGETS.webhookBytes ? '✅ ≤ 320' : '❌ ≤ 320') : '–';
    const initTarget = r.initMedianMs === undefined ? '–' : r.initMedianMs <= BUNDLE_TARGETS.initMs ? '✅ ≤ 150' : '❌ ≤ 150';
    return `| ${r.name} | ${kb(r.bytes)} | ${sizeTarget} | ${ms(r.initMedianMs)} | ${initTarget} | ${r.notes.join('; ')} |`;
  });
  return [
    `Bundles: esbuild ESM, minified, node24, \`@aws-sdk/*\` left to the runtime. Init: median of ${runs} fresh \`node\` processes importing the bundle (${process.platform}-${process.arch}, Node ${process.versions.node}).`,
    '',
    '| function | bundle (KB) | size target (KB) | cold init median (ms) | init target (ms) | notes |',
    '|---|---:|---|---:|---|---|',
    ...rows,
  ].join('\n');
}

/** Measures and returns the Markdown report (for bench/run.ts). */
export async function bundleSizeReport(options: BundleSizeOptions = {}): Promise<string> {
  return toMarkdown(await measureBundles(options), options.runs ?? 5);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(await bundleSizeReport());
}
