/**
 * The stack as `npm start` runs it, in a child process on free ports (its CRM, Graph API, courier
 * and geocoder stand-ins too), with a data directory of its own; resolves once /health answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '#local/ports';
import { until } from './until.ts';

export interface StackProcess {
  readonly base: string;
  readonly crm: string;
  readonly port: number;
  readonly dataDir: string;
  readonly child: ChildProcess;
  stop(): void;
}

export async function startStackProcess(env: Record<string, string>, prefix = 'scrm-e2e-'): Promise<StackProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  const [port, crmPort, graphPort, courierPort, geocoderPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts'], {
    env: {
      ...process.env,
      PORT: String(port),
      LOCAL_CRM_PORT: String(crmPort),
      LOCAL_GRAPH_PORT: String(graphPort),
      LOCAL_COURIER_PORT: String(courierPort),
      LOCAL_GEOCODER_PORT: String(geocoderPort),
      SCRM_DATA_DIR: dataDir,
      POWERTOOLS_LOG_LEVEL: process.env['E2E_LOG_LEVEL'] ?? 'SILENT',
      ...env,
    },
    stdio: ['ignore', process.env['E2E_LOG_LEVEL'] ? 'inherit' : 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  await until(async () => (await fetch(`${base}/health`).catch(() => undefined))?.ok, 60_000, { what: 'the local stack to answer /health' });
  return {
    base,
    crm: `http://127.0.0.1:${crmPort}`,
    port: port!,
    dataDir,
    child,
    stop() {
      child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
