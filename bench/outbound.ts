/**
 * The send path under load, on the local stack against the Graph API stand-in (one business
 * number, its rate WHATSAPP_MESSAGES_PER_SECOND enforced by the stand-in as Meta does: a send
 * over it is answered 130429):
 *
 * 1. `POST /api/messages` at `rate` requests a second for `seconds`, open loop, each to a customer
 *    whose window is open: answer p50 / p99 (policy gate, outbox row, send job).
 * 2. The accepted messages sent by the send function (on its own thread, as on AWS it is its own
 *    Lambda; its DynamoDB calls counted), with the
 *    stand-in's signed status webhooks going back to the stack: sends a second from the first to
 *    the last, the 130429 answers (target 0), DynamoDB calls per sent message.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RecordedSend } from '#local/graph/server';
import { freePort } from '#local/ports';
import { startLocalStack } from '#local/stack';
import { deliver, textMessage, type Customer } from '#local/webhooks';
import { Worker } from 'node:worker_threads';
import type { SendWorkerData } from './send-worker.ts';
import { percentile, sleep } from './load.ts';

export interface OutboundBenchOptions {
  readonly rate: number;
  readonly seconds: number;
  readonly perSecond: number;
}

export interface OutboundBenchResult {
  readonly accepted: number;
  readonly apiMs: { p50: number; p99: number; max: number };
  readonly sent: number;
  readonly sendsPerSecond: number;
  readonly throttled: number;
  readonly dynamoCallsPerSend: number;
}

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** The Graph API stand-in in a process of its own, as Meta is apart from the functions. */
async function startGraphProcess(port: number, webhookUrl: string, perSecond: number): Promise<{ url: string; sends(): Promise<RecordedSend[]>; stop(): void }> {
  const child = fork(fileURLToPath(new URL('../local/graph/start.ts', import.meta.url)), [], {
    env: { ...process.env, GRAPH_PORT: String(port), WEBHOOK_URL: webhookUrl, WHATSAPP_ACCESS_TOKEN: 'local-whatsapp-token', WHATSAPP_MESSAGES_PER_SECOND: String(perSecond) },
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.on('message', (m: { kind?: string; url?: string }) => m.kind === 'ready' && resolve(m.url!));
  });
  return { url, sends: async () => (await (await fetch(`${url}/local/sends`)).json()) as RecordedSend[], stop: () => child.kill('SIGTERM') };
}

export async function benchOutbound(options: OutboundBenchOptions): Promise<OutboundBenchResult> {
  const perSecond = String(options.perSecond);
  const port = await freePort();
  const graph = await startGraphProcess(await freePort(), `http://127.0.0.1:${port}/webhook`, options.perSecond);
  const stack = await startLocalStack({
    dataDir: null,
    env: { PORT: String(port), WHATSAPP_MESSAGES_PER_SECOND: perSecond, WHATSAPP_GRAPH_API_BASE: graph.url },
    crmPort: 0,
    pollers: false,
    logger: silent,
    outboxSweepIntervalMs: 3_600_000,
  });
  try {
    const total = options.rate * options.seconds;
    const customers: Customer[] = Array.from({ length: total }, (_, i) => ({ waId: `8526${String(1_000_000 + i).padStart(7, '0')}`, bsuid: `HK.out${Date.now()}${i}`, name: `Out ${i}` }));
    // Every customer wrote first: the window is open, the contact known.
    for (let i = 0; i < customers.length; i += 25) {
      await Promise.all(customers.slice(i, i + 25).map((c) => deliver(stack.webhookUrl, textMessage(c, 'hello'), stack.runtime.secrets.appSecret)));
    }
    const contactIds = await Promise.all(customers.map(async (c) => (await stack.runtime.store.identities.owners([{ kind: 'bsuid', value: c.bsuid }])).get(`bsuid#${c.bsuid}`)!));

    // 1. The API, open loop.
    const answers: number[] = [];
    let accepted = 0;
    const started = performance.now();
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / options.rate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      inFlight.push(
        (async () => {
          const t = performance.now();
          const response = await fetch(`${stack.url}/api/messages`, {
            method: 'POST',
            headers: { authorization: 'Bearer local-api-token', 'idempotency-key': `bench-${i}`, 'content-type': 'application/json' },
            body: JSON.stringify({ to: { contactId: contactIds[i] }, category: 'service', text: `Your order ${i} is ready for pick-up.` }),
          });
          const body = (await response.json()) as { state?: string };
          answers.push(performance.now() - t);
          if (response.status === 202 && body.state === 'queued') accepted++;
        })(),
      );
    }
    await Promise.all(inFlight);

    // 2. The send function on its own thread and client, counted.
    const before = (await graph.sends()).length;
    const tsx = process.execArgv.some((arg) => arg.includes('tsx')) ? [] : ['--import', 'tsx'];
    const data: SendWorkerData = { env: stack.env, overrides: stack.services.overrides, queueUrl: stack.services.queueUrls.send, concurrency: 8 };
    const worker = new Worker(new URL('./send-worker.ts', import.meta.url), { workerData: data, execArgv: [...process.execArgv, ...tsx] });
    await new Promise<void>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('message', () => resolve());
    });
    const deadline = Date.now() + 120_000;
    while ((await graph.sends()).filter((s) => s.outcome !== 'rejected').length - before < accepted && Date.now() < deadline) await sleep(250);
    const dynamoCalls = await new Promise<number>((resolve) => {
      worker.on('message', (m: { kind: string; dynamoCalls?: number }) => m.kind === 'stopped' && resolve(m.dynamoCalls!));
      worker.postMessage({ kind: 'stop' });
    });
    await worker.terminate();
    const sends = (await graph.sends()).slice(before);
    const ok = sends.filter((s) => s.outcome !== 'rejected');
    const times = ok.map((s) => Date.parse(s.at));
    const span = (Math.max(...times) - Math.min(...times)) / 1000;
    return {
      accepted,
      apiMs: { p50: percentile(answers, 50), p99: percentile(answers, 99), max: Math.max(...answers) },
      sent: ok.length,
      sendsPerSecond: span > 0 ? (ok.length - 1) / span : Number.NaN,
      throttled: sends.filter((s) => s.error?.code === 130429).length,
      dynamoCallsPerSend: ok.length ? dynamoCalls / ok.length : Number.NaN,
    };
  } finally {
    await stack.stop();
    graph.stop();
  }
}
