/**
 * dynalite (the DynamoDB API over LevelDB) on its own thread, so the local stack's functions and
 * the store it talks to do not share one event loop — as on AWS, where DynamoDB is elsewhere.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

const require = createRequire(import.meta.url);
const dynalite = require('dynalite') as (options: Record<string, unknown>) => Server;

const { path, host, port } = workerData as { path?: string; host: string; port: number };
const server = dynalite({ ...(path && { path }), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.once('error', (error) => parentPort?.postMessage({ kind: 'error', message: String(error) }));
server.listen(port, host, () => parentPort?.postMessage({ kind: 'listening', port: (server.address() as AddressInfo).port }));
parentPort?.on('message', (message: { kind: string }) => {
  if (message.kind !== 'close') return;
  server.close(() => parentPort?.postMessage({ kind: 'closed' }));
  server.closeAllConnections();
});
