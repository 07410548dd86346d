/**
 * Webhook and CRM sync under load, through the local stack exactly as `npm start` runs it, in its
 * own process (dynalite, fauxqs, the local CRM), with the load sent from this one:
 *
 * 1. Open loop: `rate` signed deliveries a second for `seconds` from `customers` customers —
 *    webhook answer p50/p99 as the client sees it, and webhook → communication-in-CRM p50/p95
 *    (from the webhook's arrival time to the CRM id being stored), CRM calls per message for
 *    contacts already known to the CRM.
 * 2. Closed loop, same run: webhook throughput with `concurrency` senders, against the same
 *    DynamoDB + SQS calls made directly (no HTTP, no signature, no parsing) for as long — the ratio
 *    is what the webhook's own work costs.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deliver, newWamid, textMessage, type Customer } from '#local/webhooks';
import { closedLoop, percentile, sleep } from './load.ts';
import { freePort } from '#local/ports';

export interface WebhookBenchOptions {
  readonly rate: number;
  readonly seconds: number;
  readonly customers: number;
  readonly concurrency: number;
  readonly throughputSeconds: number;
  /**
   * The automations answering the load too (default off). On AWS the automation, send and sync
   * functions run apart from the webhook; locally they share its two cores, so the ingest path is
   * measured alone and once more with the automations on (bench/run.ts says which).
   */
  readonly automations?: boolean;
}

export interface WebhookBenchResult {
  readonly options: WebhookBenchOptions;
  readonly sent: number;
  readonly failed: number;
  readonly answerMs: { p50: number; p99: number; max: number };
  /** Answer p99 of each 10 s of the load: a rising line means something grows with the data. */
  readonly answerP99By10s: readonly number[];
  readonly crmMs: { p50: number; p95: number; max: number; synced: number };
  readonly crmCallsPerKnownMessage: number;
  readonly webhookPerSecond: number;
  readonly directPerSecond: number;
  readonly ratio: number;
}

export async function benchWebhook(options: WebhookBenchOptions, alsoOnThisStack?: (stack: StackProcess) => Promise<void>): Promise<WebhookBenchResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'scrm-bench-'));
  const stack = await startStackProcess(dataDir, options.automations ?? false);
  try {
    const { webhookUrl, secret } = stack;
    const customers: Customer[] = Array.from({ length: options.customers }, (_, i) => ({
      waId: `8529${String(3_000_000 + i).padStart(7, '0')}`,
      bsuid: `HK.bench${Date.now()}${i}`,
      name: `Bench ${i}`,
    }));
    // Every customer writes once first, so the measured phase sees contacts the CRM knows.
    for (const customer of customers) await deliver(webhookUrl, textMessage(customer, 'hello'), secret);
    await syncedMessages(stack.url, () => true, customers.length, 60_000);
    const callsBefore = await crmCalls(stack.crmUrl);

    // 1. Open loop at a fixed rate: each delivery leaves on schedule, whatever the others do.
    const answers: number[] = [];
    let failed = 0;
    const measured = new Set<string>();
    const inflight: Promise<void>[] = [];
    const total = options.rate * options.seconds;
    const windows: number[][] = Array.from({ length: Math.ceil(options.seconds / 10) }, () => []);
    const start = performance.now();
    for (let i = 0; i < total; i++) {
      const wait = start + (i * 1000) / options.rate - performance.now();
      if (wait > 0) await sleep(wait);
      const wamid = newWamid();
      measured.add(wamid);
      const payload = textMessage(customers[i % customers.length]!, `How much is the iPhone 15 Pro Max? (${i})`, { wamid });
      const sentAt = performance.now();
      inflight.push(
        deliver(webhookUrl, payload, secret).then(
          (response) => {
            answers.push(performance.now() - sentAt);
            windows[Math.floor((sentAt - start) / 10_000)]?.push(performance.now() - sentAt);
            if (response.status !== 200) failed++;
          },
          () => {
            failed++;
          },
        ),
      );
    }
    await Promise.all(inflight);
    const crm = await syncedMessages(stack.url, (m) => measured.has(m.wamid), total - failed, 120_000);
    const crmLatency = crm.map((m) => m.syncedAt - m.receivedAt);
    const calls = (await crmCalls(stack.crmUrl)) - callsBefore;

    // 2. Closed loop: the webhook against the same store and queue calls made directly.
    const webhookPerSecond = await closedLoop(options.concurrency, options.throughputSeconds, async (i) => {
      const response = await deliver(webhookUrl, textMessage(customers[i % customers.length]!, `throughput ${i}`), secret);
      if (response.status !== 200) throw new Error(`webhook answered ${response.status}`);
    });
    const directPerSecond = await stack.direct(options.concurrency, options.throughputSeconds, customers);
    await alsoOnThisStack?.(stack);

    return {
      options,
      sent: total,
      failed,
      answerMs: { p50: percentile(answers, 50), p99: percentile(answers, 99), max: Math.max(...answers) },
      answerP99By10s: windows.map((w) => percentile(w, 99)),
      crmMs: { p50: percentile(crmLatency, 50), p95: percentile(crmLatency, 95), max: Math.max(...crmLatency), synced: crm.length },
      crmCallsPerKnownMessage: calls / Math.max(1, crm.length),
      webhookPerSecond,
      directPerSecond,
      ratio: webhookPerSecond / directPerSecond,
    };
  } finally {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export interface StackProcess {
  readonly url: string;
  readonly webhookUrl: string;
  readonly crmUrl: string;
  readonly secret: string;
  /** Runs the direct DynamoDB + SQS path inside the stack process; calls per second. */
  direct(concurrency: number, seconds: number, customers: readonly Customer[]): Promise<number>;
  stop(): Promise<void>;
}

/** The local stack as `npm start` builds it, in its own process (Meta is not in ours). */
async function startStackProcess(dataDir: string, automations: boolean): Promise<StackProcess> {
  const port = await freePort();
  // The CRM stand-in in a process of its own: HubSpot does not share our functions' event loop.
  const crm = spawn(process.execPath, ['--import', 'tsx', 'local/hubspot/start.ts'], {
    env: { ...process.env, PORT: String(await freePort()), SCRM_DATA_DIR: join(dataDir, 'crm'), HUBSPOT_ACCESS_TOKEN: 'bench-hubspot-token', POWERTOOLS_LOG_LEVEL: 'SILENT' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const crmUrl = await new Promise<string>((resolve, reject) => {
    crm.once('exit', () => reject(new Error('bench: the CRM process exited')));
    crm.on('message', (message: { kind: string; url?: string }) => message.kind === 'ready' && resolve(message.url!));
  });
  // BENCH_CPU_PROF=<dir> writes a CPU profile of the stack process there (open it in Chrome DevTools).
  const profile = process.env['BENCH_CPU_PROF'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_CPU_PROF']}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', 'bench/stack-worker.ts'], {
    env: { ...process.env, PORT: String(port), SCRM_DATA_DIR: dataDir, WHATSAPP_APP_SECRET: 'bench-app-secret', POWERTOOLS_LOG_LEVEL: 'SILENT', HUBSPOT_API_BASE: crmUrl, HUBSPOT_ACCESS_TOKEN: 'bench-hubspot-token', SCRM_LOCAL_AUTOMATIONS: automations ? 'on' : 'off' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const next = <T>(kind: string) =>
    new Promise<T>((resolve, reject) => {
      const onExit = () => reject(new Error('bench: the stack process exited'));
      child.once('exit', onExit);
      const onMessage = (message: { kind: string } & T) => {
        if (message.kind !== kind) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(message);
      };
      child.on('message', onMessage);
    });
  const ready = await next<{ url: string; crmUrl: string; secret: string }>('ready');
  return {
    ...ready,
    webhookUrl: `${ready.url}/webhook`,
    async direct(concurrency, seconds, customers) {
      const answer = next<{ perSecond: number }>('direct');
      child.send({ kind: 'direct', concurrency, seconds, customers });
      return (await answer).perSecond;
    },
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ kind: 'stop' });
      await exited;
      const crmExited = new Promise((resolve) => crm.once('exit', resolve));
      crm.send({ kind: 'stop' });
      await crmExited;
    },
  };
}

interface SyncedMessage {
  readonly wamid: string;
  readonly receivedAt: number;
  readonly syncedAt: number;
}

/** Waits until `count` messages matching `filter` are synced; returns them. */
async function syncedMessages(url: string, filter: (m: SyncedMessage) => boolean, count: number, timeoutMs: number): Promise<SyncedMessage[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const contacts = (await (await fetch(`${url}/local/contacts`)).json()) as { messages: (SyncedMessage & { syncState?: string })[] }[];
    const synced = contacts.flatMap((c) => c.messages).filter((m) => m.syncState === 'synced' && filter(m));
    if (synced.length >= count) return synced;
    if (Date.now() > deadline) throw new Error(`bench: only ${synced.length} of ${count} messages synced in time`);
    await sleep(500);
  }
}

async function crmCalls(crmUrl: string): Promise<number> {
  const stats = (await (await fetch(`${crmUrl}/_local/stats`)).json()) as Record<string, number>;
  return stats['total'] ?? 0;
}
