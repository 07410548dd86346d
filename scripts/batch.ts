/**
 * Runs one of the batch function's tasks now, on the local stack `npm start` runs (on AWS the
 * schedules run them):
 *   npm run batch -- <task> [--fresh]     task: sweep, night-sync, unread-export, service-report,
 *                                          keyword-report, reconcile, mapping-check, credential-check …
 *   npm run batch -- exports              the CSV exports written so far
 *   npm run batch -- exports <key>        one export's CSV
 * SCRM_URL (default http://127.0.0.1:$PORT, PORT default 3000) names the stack.
 */
import { BATCH_TASKS } from '#functions/batch-export/app';

const base = process.env['SCRM_URL'] ?? `http://127.0.0.1:${process.env['PORT'] ?? '3000'}`;
const [task, ...rest] = process.argv.slice(2);

function usage(): never {
  console.error(`usage: npm run batch -- <task> [--fresh] | exports [<key>]\n  tasks: ${BATCH_TASKS.join(', ')}`);
  process.exit(2);
}

async function main(): Promise<void> {
  if (!task) usage();
  const url =
    task === 'exports'
      ? `${base}/local/exports${rest[0] ? `?key=${encodeURIComponent(rest[0])}` : ''}`
      : (BATCH_TASKS as readonly string[]).includes(task)
        ? `${base}/local/batch?task=${task}${rest.includes('--fresh') ? '&fresh=true' : ''}`
        : usage();
  const response = await fetch(url, { method: task === 'exports' ? 'GET' : 'POST' }).catch((error: unknown) => {
    console.error(`the local stack at ${base} does not answer (is \`npm start\` running?): ${String(error)}`);
    process.exit(1);
  });
  const text = await response.text();
  console.log(text);
  if (!response.ok) process.exit(1);
}

await main();
