/**
 * The local HubSpot-compatible CRM on its own, in a process of its own: for the bench (so that
 * the CRM stand-in does not share the stack's event loop — HubSpot is elsewhere too) and for
 * anyone who wants to point a running stack at it with HUBSPOT_API_BASE.
 *   PORT (default 3001), HUBSPOT_ACCESS_TOKEN (default local-hubspot-token), SCRM_DATA_DIR.
 * Prints its URL; with an IPC channel it also sends `{ kind: 'ready', url }`.
 */
import { join } from 'node:path';
import { setupHubSpot } from '#shared/crm/hubspot/setup';
import { startLocalHubSpot } from './server.ts';

const token = process.env['HUBSPOT_ACCESS_TOKEN'] ?? 'local-hubspot-token';
const dataDir = process.env['SCRM_DATA_DIR'];
const crm = await startLocalHubSpot({
  port: Number(process.env['PORT'] ?? 3001),
  token,
  searchLagMs: Number(process.env['LOCAL_CRM_SEARCH_LAG_MS'] ?? 2000),
  ...(dataDir && { dataFile: join(dataDir, 'hubspot.json') }),
});
await setupHubSpot({ baseUrl: crm.url, accessToken: token });
console.log(`Local HubSpot-compatible CRM at ${crm.url}`);
process.send?.({ kind: 'ready', url: crm.url });

const stop = () => void crm.stop().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('message', (message: { kind?: string }) => message.kind === 'stop' && stop());
