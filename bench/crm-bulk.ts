/**
 * The CRM's batch APIs inside its limit (issue: burst batching and the night batch, SY-5), against
 * the local HubSpot stand-in enforcing a request limit (429 above it, as HubSpot answers):
 * - **night batch**: `contacts` contacts in our table and in the CRM, every one changed (quiet for
 *   90 days: churned now), refreshed by the night task through the batch update API;
 * - **burst**: `customers` customers known to the CRM reply at once (a campaign reply storm) —
 *   one signed delivery of 100 messages after another — and the sync drains the backlog through
 *   the batch endpoints.
 * Measured: time, requests, records per request, utilisation of the limit (records per second
 * over limit × batch size), and 429s (target 0).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { createBatchApp } from '#functions/batch-export/app';
import { startLocalServices } from '#local/services';
import { startLocalStack } from '#local/stack';
import { DEFAULT_BUSINESS, deliver, envelope, newWamid } from '#local/webhooks';
import { runtimeCrmAdapter } from '#shared/crm/factory';
import { shippedIntelligence } from '#shared/domain/intelligence/bundled';
import { createRuntime } from '#shared/runtime';
import { keys } from '#shared/store/keys';
import { ContactInsightsKeeper } from '#shared/sync/insights';
import { sleep } from './load.ts';

const DAY = 86_400_000;
const TOKEN = 'bench-hubspot-token';
const VERSION = '2026-09';
const BATCH = 100;

export interface LimitRun {
  readonly limit: { readonly requests: number; readonly windowMs: number };
  readonly seconds: number;
  readonly requests: number;
  readonly batchRequests: number;
  readonly records: number;
  readonly rateLimited: number;
  /** Records per second over the most the limit allows through full batches (limit × batch size). */
  readonly utilisation: number;
  readonly done: number;
  readonly expected: number;
}

/**
 * The HubSpot stand-in in a process of its own (HubSpot counts requests as they arrive; one sharing
 * the bench's busy event loop would count them late and unevenly), driven over its local routes.
 */
async function startCrmProcess() {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/hubspot/start.ts'], {
    env: { ...process.env, PORT: '0', HUBSPOT_ACCESS_TOKEN: TOKEN, LOCAL_CRM_SEARCH_LAG_MS: '0', POWERTOOLS_LOG_LEVEL: 'SILENT' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', () => reject(new Error('bench: the CRM process exited')));
    child.on('message', (message: { kind: string; url?: string }) => message.kind === 'ready' && resolve(message.url!));
  });
  const post = (path: string, body: unknown = {}) => fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return {
    url,
    setRateLimit: async (limit: { requests: number; windowMs: number } | undefined) => void (await post('/_local/rate-limit', limit ?? {})),
    resetRequests: async () => void (await post('/_local/stats/reset')),
    requests: async () => (await (await fetch(`${url}/_local/stats`)).json()) as Record<string, number>,
    contacts: async () => ((await (await fetch(`${url}/_local/state`)).json()) as { contacts: { properties: Record<string, string> }[] }).contacts,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ kind: 'stop' });
      await exited;
    },
  };
}

/** Contacts made in the stand-in through its batch create (no limit yet): their ids, in order. */
async function seedCrm(url: string, bsuids: readonly string[]): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < bsuids.length; i += BATCH) {
    const response = await fetch(`${url}/crm/objects/${VERSION}/contacts/batch/create`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: bsuids.slice(i, i + BATCH).map((b) => ({ properties: { whatsapp_user_id: b, whatsapp_segment: 'active' }, associations: [] })) }),
    });
    if (response.status !== 201) throw new Error(`seeding the CRM failed: ${response.status}`);
    ids.push(...((await response.json()) as { results: { id: string }[] }).results.map((r) => r.id));
  }
  return ids;
}

export async function benchNightBatch(contacts: number, limit = { requests: 5, windowMs: 1_000 }): Promise<LimitRun> {
  const dataDir = mkdtempSync(join(tmpdir(), 'scrm-night-'));
  const services = await startLocalServices({ dataDir });
  const crm = await startCrmProcess();
  try {
    const bsuids = Array.from({ length: contacts }, (_, i) => `HK.night${i}`);
    const crmIds = await seedCrm(crm.url, bsuids);
    const env = {
      ...process.env,
      ...services.env,
      WHATSAPP_APP_SECRET: 'bench-app-secret',
      WHATSAPP_VERIFY_TOKEN: 'bench-verify-token',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      SCRM_CRM: 'hubspot',
      HUBSPOT_API_BASE: crm.url,
      HUBSPOT_ACCESS_TOKEN: TOKEN,
      CRM_RATE_LIMIT: String(limit.requests),
      CRM_RATE_WINDOW_SECONDS: String(limit.windowMs / 1000),
    };
    const runtime = await createRuntime(env, services.overrides);
    const at = Date.UTC(2026, 11, 2, 19);
    const quietSince = at - 90 * DAY;
    const items = bsuids.map((bsuid, i) => ({
      ...keys.contact(`ct_night_${i}`),
      contactId: `ct_night_${i}`,
      bsuid,
      createdAt: quietSince,
      updatedAt: quietSince,
      leadSource: 'whatsapp',
      customerLevel: 'new customer',
      lastInboundAt: quietSince,
      inboundCount: 3,
      segment: 'active',
      activityScore: 0.4,
      priority: 0.5,
      crm_hubspot: { id: crmIds[i]!, syncedAt: quietSince },
    }));
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < items.length) {
          const batch = items.slice(next, (next += 25));
          await runtime.clients.documents.send(new BatchWriteCommand({ RequestItems: { [runtime.config.tableName]: batch.map((Item) => ({ PutRequest: { Item } })) } }));
        }
      }),
    );
    await crm.setRateLimit(limit);
    await crm.resetRequests();
    let adapter: ReturnType<typeof runtimeCrmAdapter> | undefined;
    const app = createBatchApp({
      store: runtime.store,
      syncJobs: runtime.syncQueue,
      insights: new ContactInsightsKeeper({ store: runtime.store, intelligence: shippedIntelligence() }),
      crm: () => (adapter ??= runtimeCrmAdapter(runtime)),
      logger: { info: () => undefined, warn: () => undefined },
      now: () => at,
    });
    const start = performance.now();
    const result = await app.run('segment-refresh', { fresh: true, remainingMs: () => 14 * 60_000 });
    const seconds = (performance.now() - start) / 1000;
    const stats = await crm.requests();
    const records = stats['batchInputs'] ?? 0;
    const churned = (await crm.contacts()).filter((c) => c.properties['whatsapp_segment'] === 'churned').length;
    return {
      limit,
      seconds,
      requests: stats['total'] ?? 0,
      batchRequests: stats['POST /crm/objects/{version}/contacts/batch/update'] ?? 0,
      records,
      rateLimited: stats['rateLimited'] ?? 0,
      utilisation: records / seconds / ((limit.requests / (limit.windowMs / 1000)) * BATCH),
      done: Math.min(churned, Number(result.written ?? 0)),
      expected: contacts,
    };
  } finally {
    await crm.stop();
    await services.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function benchBurst(customers: number, limit = { requests: 4, windowMs: 1_000 }): Promise<LimitRun & { messagesPerSecond: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'scrm-burst-'));
  const crm = await startCrmProcess();
  const base = { PORT: '0', WHATSAPP_APP_SECRET: 'bench-app-secret', SCRM_CRM: 'hubspot', HUBSPOT_API_BASE: crm.url, HUBSPOT_ACCESS_TOKEN: TOKEN, SCRM_LOCAL_AUTOMATIONS: 'off' };
  const people = Array.from({ length: customers }, (_, i) => ({ waId: `8525${String(1_000_000 + i).padStart(7, '0')}`, bsuid: `HK.burst${Date.now()}${i}`, name: `Burst ${i}` }));
  const storm = async (webhookUrl: string, secret: string, text: string) => {
    const wamids: string[] = [];
    for (let i = 0; i < people.length; i += BATCH) {
      const group = people.slice(i, i + BATCH);
      const at = String(Math.floor(Date.now() / 1000));
      const messages = group.map((c) => ({ from: c.waId, from_user_id: c.bsuid, id: newWamid(), timestamp: at, type: 'text', text: { body: text } }));
      wamids.push(...messages.map((m) => m.id));
      const response = await deliver(webhookUrl, envelope(DEFAULT_BUSINESS, { contacts: group.map((c) => ({ profile: { name: c.name }, wa_id: c.waId, user_id: c.bsuid })), messages }), secret);
      if (response.status !== 200) throw new Error(`delivery failed: ${response.status}`);
    }
    return wamids;
  };
  const allSynced = async (stack: Awaited<ReturnType<typeof startLocalStack>>, wamids: readonly string[], timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    let pending = [...wamids];
    while (pending.length && Date.now() < deadline) {
      const rows = await Promise.all(pending.map((w) => stack.runtime.store.messages.get(w)));
      pending = pending.filter((_, i) => rows[i]?.syncState !== 'synced');
      if (pending.length) await sleep(200);
    }
    return wamids.length - pending.length;
  };
  try {
    // The customers become known to the CRM first (their first message, no limit).
    const warm = await startLocalStack({ dataDir, env: base, crmSearchLagMs: 0 });
    await allSynced(warm, await storm(warm.webhookUrl, 'bench-app-secret', 'hello'), 300_000);
    await warm.stop();

    // The storm arrives while the CRM is out of reach (the sync stopped): a backlog of one reply per customer.
    const held = await startLocalStack({ dataDir, env: base, crmSearchLagMs: 0, pollers: false });
    const wamids = await storm(held.webhookUrl, 'bench-app-secret', 'Thanks, got it 👍');
    await held.stop();

    // The CRM is back, with its limit: the sync drains the backlog, paced to it.
    await crm.setRateLimit(limit);
    await crm.resetRequests();
    const stack = await startLocalStack({ dataDir, env: { ...base, CRM_RATE_LIMIT: String(limit.requests), CRM_RATE_WINDOW_SECONDS: String(limit.windowMs / 1000) }, crmSearchLagMs: 0 });
    // From the moment the stack is up (its start is not CRM work) to the last message in the CRM.
    const start = Date.now();
    try {
      const done = await allSynced(stack, wamids, 300_000);
      const rows = await Promise.all(wamids.map((w) => stack.runtime.store.messages.get(w)));
      const seconds = (Math.max(...rows.map((r) => r?.syncedAt ?? 0)) - start) / 1000;
      const stats = await crm.requests();
      const batchRequests = (stats['POST /crm/objects/{version}/contacts/batch/update'] ?? 0) + (stats['POST /crm/objects/{version}/communications/batch/create'] ?? 0);
      const records = stats['batchInputs'] ?? 0;
      return {
        limit,
        seconds,
        requests: stats['total'] ?? 0,
        batchRequests,
        records,
        rateLimited: stats['rateLimited'] ?? 0,
        utilisation: records / seconds / ((limit.requests / (limit.windowMs / 1000)) * BATCH),
        messagesPerSecond: done / seconds,
        done,
        expected: wamids.length,
      };
    } finally {
      await stack.stop();
    }
  } finally {
    await crm.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
