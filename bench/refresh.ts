/**
 * The nightly segment refresh of many contacts (hardening, defect 12): `contacts` contacts in the
 * local table (dynalite), most silent for months, a fifth with a message this month; the refresh
 * runs in its own process, is killed with SIGKILL part-way, started again, and must carry on where
 * it stopped — every contact refreshed, none started over.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { REFRESH_JOB } from '#shared/sync/segment-refresh';
import { keys } from '#shared/store/keys';
import { createRuntime } from '#shared/runtime';
import { startLocalServices } from '#local/services';
import { sleep } from './load.ts';

export interface RefreshBenchResult {
  readonly contacts: number;
  readonly seedSeconds: number;
  readonly firstRun: { contacts: number; seconds: number; killed: boolean };
  readonly secondRun: { contacts: number; seconds: number; done: boolean };
  readonly perSecond: number;
  readonly resumed: boolean;
  readonly allRefreshed: boolean;
}

const DAY = 86_400_000;

export async function benchRefresh(contacts: number): Promise<RefreshBenchResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'scrm-refresh-'));
  const services = await startLocalServices({ dataDir });
  const secrets = { WHATSAPP_APP_SECRET: 'bench-app-secret', WHATSAPP_VERIFY_TOKEN: 'bench-verify-token' };
  const env = { ...process.env, ...services.env, ...secrets, POWERTOOLS_LOG_LEVEL: 'SILENT' };
  const runtime = await createRuntime(env, services.overrides);
  const at = Date.UTC(2026, 11, 1, 19);
  try {
    // Seed: contacts (a fifth active this month, with one message row each), 25 per request.
    const seedStart = performance.now();
    const items: Record<string, unknown>[] = [];
    for (let i = 0; i < contacts; i++) {
      const contactId = `ct_bench_${i}`;
      const active = i % 5 === 0;
      const lastInboundAt = active ? at - (i % 20) * DAY - 3_600_000 : at - (90 + (i % 200)) * DAY;
      items.push({ ...keys.contact(contactId), contactId, createdAt: lastInboundAt, updatedAt: lastInboundAt, leadSource: 'whatsapp', customerLevel: 'new customer', bsuid: `HK.bench${i}`, lastInboundAt, inboundCount: 1, segment: 'active', activityScore: 0.2, priority: 0.5 });
      if (active) {
        const wamid = `wamid.bench${i}`;
        items.push({ ...keys.message(wamid), gsi1pk: keys.historyPartition(contactId), gsi1sk: keys.historySort(lastInboundAt, wamid), wamid, contactId, direction: 'inbound', type: 'text', knownType: true, summary: 'hello', sentAt: lastInboundAt, receivedAt: lastInboundAt, phoneNumberId: '1', wabaId: '1', syncState: 'synced', analysis: { tags: [], intent: 'greeting', sku: null, sentiment: 0.6, hotWords: {} } });
      }
    }
    const batches: Record<string, unknown>[][] = [];
    for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < batches.length) {
          const batch = batches[next++]!;
          let request: Record<string, { PutRequest: { Item: Record<string, unknown> } }[]> | undefined = { [runtime.config.tableName]: batch.map((Item) => ({ PutRequest: { Item } })) };
          while (request && Object.keys(request).length) {
            const result = await runtime.clients.documents.send(new BatchWriteCommand({ RequestItems: request }));
            request = result.UnprocessedItems as typeof request;
          }
        }
      }),
    );
    const seedSeconds = (performance.now() - seedStart) / 1000;

    const workerEnv = { ...env, BENCH_OVERRIDES: JSON.stringify(services.overrides), BENCH_REFRESH_AT: String(at), BENCH_EPOCH: String(Date.now()), BENCH_REFRESH_LEASE_MS: '3000' };
    const start = () => spawn(process.execPath, ['--import', 'tsx', 'bench/refresh-worker.ts'], { env: workerEnv, stdio: ['ignore', 'pipe', 'inherit'] });
    const progress = async () => {
      const run = await runtime.store.jobs.current(REFRESH_JOB);
      return run ? run.progress.reduce((sum, p) => sum + p.contacts, 0) : 0;
    };

    // First run: killed once about 40 % of the contacts are through.
    const firstStart = performance.now();
    const first = start();
    const firstExit = new Promise<number | null>((resolve) => first.once('exit', resolve));
    let killed = false;
    while (first.exitCode === null) {
      if ((await progress()) >= contacts * 0.4) {
        first.kill('SIGKILL');
        killed = true;
        break;
      }
      await sleep(200);
    }
    await firstExit;
    const firstSeconds = (performance.now() - firstStart) / 1000;
    const afterFirst = await progress();

    // Second run: carries on, once the killed one's lease ran out (as the next scheduled run would).
    let outcome: { contacts?: number; done?: boolean; seconds?: number; skipped?: string } = {};
    for (let tries = 0; tries < 20; tries++) {
      const second = start();
      let output = '';
      second.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      await new Promise((resolve) => second.once('exit', resolve));
      outcome = JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as typeof outcome;
      if (outcome.skipped !== 'another invocation is refreshing') break;
      await sleep(1000);
    }
    const total = await progress();
    const refreshedChurned = await runtime.store.contacts.get(`ct_bench_1`);
    const refreshedActive = await runtime.store.contacts.get(`ct_bench_5`);
    return {
      contacts,
      seedSeconds,
      firstRun: { contacts: afterFirst, seconds: firstSeconds, killed },
      secondRun: { contacts: outcome.contacts ?? 0, seconds: outcome.seconds ?? 0, done: outcome.done === true },
      perSecond: total / (firstSeconds + (outcome.seconds ?? 0)),
      resumed: (outcome.contacts ?? contacts) < contacts,
      allRefreshed: total === contacts && refreshedChurned?.segment === 'churned' && refreshedActive?.segment === 'potential',
    };
  } finally {
    await services.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export function refreshMarkdown(r: RefreshBenchResult): string {
  const ok = (v: boolean) => (v ? '✅' : '❌');
  return [
    `${r.contacts.toLocaleString('en')} contacts in the local table (a fifth active this month with a message each; seeded in ${r.seedSeconds.toFixed(0)} s), the refresh in its own process, killed with SIGKILL at about 40 % and started again:`,
    '',
    '| measure | value | target |',
    '|---|---:|---|',
    `| first run (killed) | ${r.firstRun.contacts.toLocaleString('en')} contacts in ${r.firstRun.seconds.toFixed(1)} s | |`,
    `| second run (resumed) | ${r.secondRun.contacts.toLocaleString('en')} contacts in ${r.secondRun.seconds.toFixed(1)} s | carries on where the first stopped, not from zero ${ok(r.resumed)} |`,
    `| contacts refreshed per second | ${r.perSecond.toFixed(0)} | |`,
    `| every contact refreshed, run done | ${r.allRefreshed && r.secondRun.done ? 'yes' : 'no'} | ${ok(r.allRefreshed && r.secondRun.done)} |`,
  ].join('\n');
}
