/**
 * `npm run redrive`: sends the sync jobs parked in the dead-letter queue of the running local
 * stack back to the sync queue (the retry function's work; on AWS invoke that function).
 */
import { LOCAL_DEFAULTS } from './stack.ts';

const base = process.env['SCRM_URL'] ?? `http://127.0.0.1:${process.env['PORT'] ?? LOCAL_DEFAULTS.PORT}`;
const response = await fetch(`${base}/local/redrive`, { method: 'POST' }).catch(() => undefined);
if (!response) {
  console.error(`nothing answers at ${base}: start the system first with \`npm start\``);
  process.exit(1);
}
if (!response.ok) {
  console.error(`redrive failed: ${response.status} ${await response.text()}`);
  process.exit(1);
}
const result = (await response.json()) as { redriven: number; alreadySynced: number; malformed: number };
console.log(`Redriven: ${result.redriven} job(s) back in the sync queue; ${result.alreadySynced} already synced (removed); ${result.malformed} not a sync job (left in the DLQ).`);
