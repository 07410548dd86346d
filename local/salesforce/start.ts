/**
 * The local Salesforce org on its own, in a process of its own (like local/hubspot/start.ts):
 *   PORT (default 3003), SALESFORCE_CLIENT_ID / SALESFORCE_CLIENT_SECRET (the local defaults),
 *   SCRM_DATA_DIR (persist to <dir>/salesforce.json), LOCAL_CRM_QUERY_LAG_MS.
 * Prints its URL; with an IPC channel it also sends `{ kind: 'ready', url }`.
 */
import { join } from 'node:path';
import { startSalesforceStandIn } from './server.ts';

const dataDir = process.env['SCRM_DATA_DIR'];
const crm = await startSalesforceStandIn({
  port: Number(process.env['PORT'] ?? 3003),
  ...(process.env['SALESFORCE_CLIENT_ID'] && { clientId: process.env['SALESFORCE_CLIENT_ID'] }),
  ...(process.env['SALESFORCE_CLIENT_SECRET'] && { clientSecret: process.env['SALESFORCE_CLIENT_SECRET'] }),
  queryLagMs: Number(process.env['LOCAL_CRM_QUERY_LAG_MS'] ?? 0),
  ...(dataDir && { dataFile: join(dataDir, 'salesforce.json') }),
});
console.log(`Local Salesforce org at ${crm.url} (SALESFORCE_LOGIN_URL)`);
process.send?.({ kind: 'ready', url: crm.url });

const stop = () => void crm.stop().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('message', (message: { kind?: string }) => message.kind === 'stop' && stop());
