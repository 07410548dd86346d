/**
 * The local Zoho CRM on its own, in a process of its own: for the bench (so that the CRM stand-in
 * does not share the stack's event loop) and for anyone who wants to point a running stack at it
 * with ZOHO_ACCOUNTS_URL and the printed credentials.
 *   PORT (default 3001), SCRM_DATA_DIR, LOCAL_CRM_SEARCH_LAG_MS (default 2000).
 * Prints its URL; with an IPC channel it also sends `{ kind: 'ready', url, env }`.
 */
import { join } from 'node:path';
import { startZohoStandIn } from './server.ts';

const dataDir = process.env['SCRM_DATA_DIR'];
const crm = await startZohoStandIn({
  port: Number(process.env['PORT'] ?? 3001),
  searchLagMs: Number(process.env['LOCAL_CRM_SEARCH_LAG_MS'] ?? 2000),
  ...(dataDir && { dataFile: join(dataDir, 'zoho.json') }),
});
console.log(`Local Zoho CRM at ${crm.url}`);
for (const [name, value] of Object.entries(crm.env)) console.log(`  ${name}=${value}`);
process.send?.({ kind: 'ready', url: crm.url, env: crm.env });

const stop = () => void crm.stop().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('message', (message: { kind?: string }) => message.kind === 'stop' && stop());
