/**
 * `npm run bench`: every performance target of the product, measured on this machine.
 * Settings: BENCH_RATE (deliveries/s, default 50), BENCH_SECONDS (default 60), BENCH_CUSTOMERS
 * (default 200), BENCH_CONCURRENCY (default 16), BENCH_THROUGHPUT_SECONDS (default 10).
 * Writes the results to bench/results.md as well as the console.
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { bundleSizeReport } from './bundle-size.ts';
import { benchClassify } from './classify.ts';
import { benchWebhook, webhookMarkdown } from './webhook.ts';

const setting = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${process.env[name]}`);
  return value;
};

const sections: string[] = [
  `# Benchmark results`,
  '',
  `${new Date().toISOString()} · Node ${process.version} · ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'} · \`npm run bench\``,
];
const print = (title: string, body: string) => {
  sections.push('', `## ${title}`, '', body);
  console.log(`\n## ${title}\n\n${body}`);
};

const webhook = await benchWebhook({
  rate: setting('BENCH_RATE', 50),
  seconds: setting('BENCH_SECONDS', 60),
  customers: setting('BENCH_CUSTOMERS', 200),
  concurrency: setting('BENCH_CONCURRENCY', 16),
  throughputSeconds: setting('BENCH_THROUGHPUT_SECONDS', 10),
});
print('Webhook and CRM sync (local stack)', webhookMarkdown(webhook));

const classify = await benchClassify(10_000);
print('Classification', `${classify.messages} messages with the shipped rules: **${classify.perMessageUs.toFixed(1)} µs per message** (target ≤ 50 µs ${classify.perMessageUs <= 50 ? '✅' : '❌'}).`);

print('Function bundles', await bundleSizeReport());

writeFileSync(new URL('./results.md', import.meta.url), `${sections.join('\n')}\n`);
console.log('\nWritten to bench/results.md');
