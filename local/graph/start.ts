/**
 * The local Graph API stand-in on its own (`tsx local/graph/start.ts`), for pointing a running
 * stack's Cloud API client at it.
 *   GRAPH_PORT (default 3002), WHATSAPP_APP_SECRET (default local-app-secret: signs the status
 *   webhooks), WEBHOOK_URL (where they go; none are posted without it), WHATSAPP_ACCESS_TOKEN
 *   (the token required; any bearer token when unset), WHATSAPP_MESSAGES_PER_SECOND (Meta's
 *   per-number throughput it enforces with 130429; default 80).
 * Prints its URL and the seeded media ids (media.ts SEED_MEDIA: a photo, a PNG, a voice note, a
 * PDF; more can be added with `POST /local/media`); with an IPC channel it also sends
 * `{ kind: 'ready', url }`.
 */
import { SEED_MEDIA, startGraphStandIn } from './server.ts';

const graph = await startGraphStandIn({
  port: Number(process.env['GRAPH_PORT'] ?? 3002),
  appSecret: process.env['WHATSAPP_APP_SECRET'] ?? 'local-app-secret',
  ...(process.env['WEBHOOK_URL'] && { webhookUrl: process.env['WEBHOOK_URL'] }),
  ...(process.env['WHATSAPP_ACCESS_TOKEN'] && { accessToken: process.env['WHATSAPP_ACCESS_TOKEN'] }),
  ...(process.env['WHATSAPP_MESSAGES_PER_SECOND'] && { messagesPerSecond: Number(process.env['WHATSAPP_MESSAGES_PER_SECOND']) }),
});
console.log(`Local Graph API stand-in at ${graph.url}  (status webhooks to ${process.env['WEBHOOK_URL'] ?? 'nowhere: set WEBHOOK_URL'})`);
console.log(`Seeded media: ${Object.entries(SEED_MEDIA).map(([kind, id]) => `${kind} ${id}`).join(', ')}  (add more: POST ${graph.url}/local/media)`);
process.send?.({ kind: 'ready', url: graph.url });

const stop = () => void graph.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('message', (message: { kind?: string }) => message.kind === 'stop' && stop());
