/**
 * The local CRM webhook receiver on its own, in a process of its own (for the bench, or to point
 * a running stack at it with CRM_WEBHOOK_URL and CRM_WEBHOOK_SECRET):
 *   PORT (default 3001), CRM_WEBHOOK_SECRET (default: kept in the data file, else a new one), SCRM_DATA_DIR.
 * Prints its URL and the two settings; with an IPC channel it also sends `{ kind: 'ready', url, env }`.
 */
import { join } from 'node:path';
import { SECRET_KEYS } from '#shared/resources';
import { startWebhookReceiver } from './server.ts';

const dataDir = process.env['SCRM_DATA_DIR'];
const secret = process.env[SECRET_KEYS.crmWebhookSecret];
const receiver = await startWebhookReceiver({
  port: Number(process.env['PORT'] ?? 3001),
  ...(secret && { secret }),
  ...(dataDir && { dataFile: join(dataDir, 'crm-webhook.json') }),
});
console.log(`Local CRM webhook receiver at ${receiver.url}`);
for (const [name, value] of Object.entries(receiver.env)) console.log(`  ${name}=${value}`);
process.send?.({ kind: 'ready', url: receiver.url, env: receiver.env });

const stop = () => void receiver.stop().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('message', (message: { kind?: string }) => message.kind === 'stop' && stop());
