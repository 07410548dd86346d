/**
 * `npm run report -- daily|weekly [--at YYYY-MM-DD] [--format html|json|csv]`: a report built from
 * the running local stack's data (SCRM_URL, default http://127.0.0.1:$PORT), written to
 * `$SCRM_DATA_DIR/reports/<kind>-<first day>.<format>` (default .data); prints where it is.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LOCAL_DEFAULTS } from '#local/stack';

const USAGE = 'usage: npm run report -- daily|weekly [--at YYYY-MM-DD] [--format html|json|csv]';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { at: { type: 'string' }, format: { type: 'string', default: 'html' } } });
  const kind = positionals[0];
  if (positionals.length !== 1 || (kind !== 'daily' && kind !== 'weekly')) throw new Error(`${USAGE} (got ${JSON.stringify(positionals.join(' '))})`);
  const base = process.env['SCRM_URL'] ?? `http://127.0.0.1:${process.env['PORT'] ?? LOCAL_DEFAULTS.PORT}`;
  const get = async (format: string) => {
    const url = `${base}/local/reports/${kind}.${format}${values.at ? `?at=${encodeURIComponent(values.at)}` : ''}`;
    const response = await fetch(url).catch((error: unknown) => {
      throw new Error(`the local stack does not answer at ${base} (start it with npm start): ${String(error)}`);
    });
    const body = await response.text();
    if (!response.ok) throw new Error(`${response.status}: ${(JSON.parse(body) as { message?: string }).message ?? body}`);
    return { url, body };
  };
  const { body: json } = await get('json');
  const first = (JSON.parse(json) as { period: { from: string } }).period.from;
  const { url, body } = values.format === 'json' ? { url: `${base}/local/reports/${kind}.json${values.at ? `?at=${values.at}` : ''}`, body: json } : await get(values.format!);
  const dir = resolve(process.env['SCRM_DATA_DIR'] ?? LOCAL_DEFAULTS.SCRM_DATA_DIR, 'reports');
  mkdirSync(dir, { recursive: true });
  const file = resolve(dir, `${kind}-${first}.${values.format}`);
  writeFileSync(file, body);
  console.log(`${kind} report written to ${file}\nserved at ${url}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
