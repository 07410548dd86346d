/**
 * The CRM side of automations against the local HubSpot (AU-2, AU-3, AU-4, AU-5, ID-7, RP-13):
 * the customer's last order with its tracking, the names the CRM holds, follow-up tasks created
 * exactly once — through repeated jobs, a lost answer and a lost done mark — and contact jobs that
 * bring what automations learned to the CRM without erasing what sales typed.
 */
import type { SQSRecord } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedriveApp } from '#functions/retry/app';
import { createSyncApp } from '#functions/sync/app';
import { startLocalHubSpot, type LocalHubSpot } from '#local/hubspot/server';
import type { LocalStack } from '#local/stack';
import { newWamid, textMessage } from '#local/webhooks';
import { setupHubSpot, type HubSpotAdapter } from '#shared/crm/hubspot/adapter';
import type { CrmAdapter } from '#shared/crm/port';
import { shippedIntelligence } from '#shared/domain/intelligence/bundled';
import { contactSyncJob, taskSyncJob, type SyncJob } from '#shared/queue/sync-jobs';
import type { TableClient } from '#shared/store/client';
import { keys } from '#shared/store/keys';
import type { Store } from '#shared/store/store';
import { TaskMarkStore } from '#shared/sync/task-marks';
import { TOKEN, testCustomer, useLocalHubSpot } from '../helpers/local-hubspot.ts';
import { crmContacts, crmOf, newCustomer, queueDepths, send, startSyncStack, waitSynced } from '../helpers/sync-stack.ts';
import { until } from '../helpers/until.ts';
import { startHarness, type Harness } from '../helpers/webhook-harness.ts';

const local = useLocalHubSpot('hubspot-orders-it', { searchLagMs: 50 });
let hub: LocalHubSpot;
let h: Harness;
beforeAll(async () => {
  hub = local.hub();
  h = await startHarness();
});
afterAll(async () => {
  await h.stop();
});

const adapter = (options: Parameters<typeof local.adapter>[0] = {}, on?: LocalHubSpot): HubSpotAdapter => local.adapter(options, on);
const customer = () => testCustomer('O', '+85291');
const at = (iso: string) => Date.parse(iso);
let sequence = 0;
const taskId = () => `follow-up:test-${Date.now()}-${++sequence}:2026-W37`;

async function crmContact(profileName = 'Mei Ling Chan', on?: LocalHubSpot): Promise<{ crmId: string; phone: string }> {
  const c = customer();
  const result = await adapter({}, on).upsertContact({ contactId: c.contactId, bsuid: c.bsuid, phone: c.phone, profileName });
  return { crmId: result.crmId, phone: c.phone };
}

const tasksOf = (id: string, on: LocalHubSpot = hub) => on.state().tasks.filter((t) => t.properties['whatsapp_task_id'] === id);
const contactIn = (id: string, on: LocalHubSpot = hub) => on.state().contacts.find((c) => c.id === id);

describe('the last order of a customer', () => {
  it('of a contact with 3 orders is the one placed last, with its tracking, amount and SKUs', async () => {
    const { crmId } = await crmContact();
    // Seeded out of order: the shop's order time decides, not when HubSpot got the order.
    hub.addOrder({ contactCrmId: crmId, name: '#1002', placedAt: at('2026-09-03T10:00:00Z'), amount: 120, currency: 'HKD', skus: ['SKU-A'] });
    const newest = hub.addOrder({
      contactCrmId: crmId,
      name: '#1003',
      placedAt: at('2026-09-10T08:30:00Z'),
      amount: 349.5,
      currency: 'hkd',
      status: 'Shipped',
      trackingNumber: 'SF1234567890',
      carrier: 'SF Express',
      trackingUrl: 'https://track.example/SF1234567890',
      skus: ['APL-IP15PM', 'CASE-01', 'APL-IP15PM'],
    });
    hub.addOrder({ contactCrmId: crmId, name: '#1001', placedAt: at('2026-08-20T10:00:00Z'), amount: 80, currency: 'HKD' });

    const result = await adapter().findLastOrder(crmId);
    expect(result.order).toEqual({
      crmId: newest.id,
      name: '#1003',
      placedAt: at('2026-09-10T08:30:00Z'),
      amount: 349.5,
      currency: 'HKD',
      status: 'Shipped',
      trackingNumber: 'SF1234567890',
      carrier: 'SF Express',
      trackingUrl: 'https://track.example/SF1234567890',
      skus: ['APL-IP15PM', 'CASE-01'],
    });
    // Order associations, the orders, the newest one's line item associations, its line items.
    expect(result.calls).toBe(4);
  });

  it('of a contact with none is undefined, after one call', async () => {
    const { crmId } = await crmContact();
    const result = await adapter().findLastOrder(crmId);
    expect(result).toEqual({ order: undefined, calls: 1 });
  });

  it('not shipped yet: no tracking number, carrier or link — absent, not empty', async () => {
    const { crmId } = await crmContact();
    hub.addOrder({ contactCrmId: crmId, name: '#2001', placedAt: at('2026-09-12T09:00:00Z'), status: 'Packing' });
    const { order } = await adapter().findLastOrder(crmId);
    expect(order).toMatchObject({ name: '#2001', status: 'Packing' });
    expect(order).not.toHaveProperty('trackingNumber', expect.anything());
    expect(order?.trackingNumber).toBeUndefined();
    expect(order?.carrier).toBeUndefined();
    expect(order?.skus).toBeUndefined();
  });

  it('is seeded over HTTP for the local stack by the customer\'s WhatsApp number', async () => {
    const { crmId, phone } = await crmContact();
    const response = await fetch(`${hub.url}/_local/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ whatsappPhone: phone, name: '#3001', placedAt: at('2026-09-01T00:00:00Z'), skus: ['SKU-Z'], trackingNumber: 'HK999' }),
    });
    expect(response.status).toBe(201);
    expect(contactIn(crmId)?.orderIds).toHaveLength(1);
    const { order } = await adapter().findLastOrder(crmId);
    expect(order).toMatchObject({ name: '#3001', trackingNumber: 'HK999', skus: ['SKU-Z'] });

    const unknown = await fetch(`${hub.url}/_local/orders`, { method: 'POST', body: JSON.stringify({ whatsappPhone: '+85200000000' }) });
    expect(unknown.status).toBe(404);
    const wrong = await fetch(`${hub.url}/_local/orders`, { method: 'POST', body: JSON.stringify({ contactCrmId: crmId, amount: 'a lot' }) });
    expect(wrong.status).toBe(400);
  });

  it('carries the carrier from the property the account uses for it', async () => {
    const { crmId } = await crmContact();
    hub.addOrder({ contactCrmId: crmId, carrier: 'Kerry Express', trackingNumber: 'KE1' });
    expect((await adapter().findLastOrder(crmId)).order?.carrier).toBe('Kerry Express');
    expect((await adapter({ orderCarrierProperty: 'some_other_property' }).findLastOrder(crmId)).order?.carrier).toBeUndefined();
  });
});

describe('the profile the CRM holds', () => {
  it('gives the first name made from the WhatsApp profile, and the one sales typed since', async () => {
    const { crmId } = await crmContact('Mei Ling Chan');
    expect(await adapter().readProfile(crmId)).toEqual({ firstName: 'Mei', lastName: 'Ling Chan', calls: 1 });
    await fetch(`${hub.url}/crm/objects/2026-09/contacts/${crmId}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ properties: { firstname: 'May' } }),
    });
    expect((await adapter().readProfile(crmId)).firstName).toBe('May');
  });

  it('has no names for a record that is gone, instead of failing', async () => {
    expect(await adapter().readProfile('999999999')).toEqual({ firstName: undefined, lastName: undefined, calls: 1 });
  });
});

describe('follow-up tasks in HubSpot', () => {
  it('creates a not-started to-do due at the given time, on the contact', async () => {
    const { crmId } = await crmContact();
    const id = taskId();
    const result = await adapter().createTask({ taskId: id, contactCrmId: crmId, subject: 'Call back about the iPhone', body: 'Asked twice about the price', dueAt: at('2026-09-15T09:00:00Z'), ownerId: '7001' });
    expect(result.created).toBe(true);
    const [task] = tasksOf(id);
    expect(task?.id).toBe(result.crmId);
    expect(task?.contactIds).toEqual([crmId]);
    expect(contactIn(crmId)?.taskIds).toEqual([result.crmId]);
    expect(task?.properties).toMatchObject({
      hs_timestamp: '2026-09-15T09:00:00.000Z',
      hs_task_subject: 'Call back about the iPhone',
      hs_task_body: 'Asked twice about the price',
      hs_task_status: 'NOT_STARTED',
      hs_task_type: 'TODO',
      hubspot_owner_id: '7001',
      whatsapp_task_id: id,
    });
  });

  it('one task for a repeated call, 3 concurrent calls and a call after the id was lost', async () => {
    const { crmId } = await crmContact();
    const input = { taskId: taskId(), contactCrmId: crmId, subject: 'Follow up', dueAt: at('2026-09-15T09:00:00Z') };
    const shared = adapter();
    const results = await Promise.all([shared.createTask(input), shared.createTask(input), adapter().createTask(input)]);
    const again = await adapter().createTask(input);
    expect(new Set([...results, again].map((r) => r.crmId)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(tasksOf(input.taskId)).toHaveLength(1);
    expect(await adapter().createTask({ ...input, knownCrmId: again.crmId })).toEqual({ crmId: again.crmId, created: false, calls: 0 });
  });

  it('one task when HubSpot commits but its answer is lost (a timeout): the adapter looks before it creates again', async () => {
    const { crmId } = await crmContact();
    const input = { taskId: taskId(), contactCrmId: crmId, subject: 'Follow up', dueAt: at('2026-09-15T09:00:00Z') };
    const a = adapter({ timeoutMs: 300 });
    await a.createTask({ ...input, taskId: taskId() }); // the dedup mode read once, outside the fault
    hub.setFaults([{ method: 'POST', path: /\/tasks$/, afterCommitDelayMs: 800 }]);
    const result = await a.createTask(input);
    expect(result.created).toBe(false);
    expect(tasksOf(input.taskId).map((t) => t.id)).toEqual([result.crmId]);
  });

  it('in an account where the task id is not unique, reads the contact\'s tasks first: still one task', async () => {
    const loose = await startLocalHubSpot({ searchLagMs: 50, token: TOKEN, uniqueValuesOnTasks: false });
    try {
      const setup = await setupHubSpot({ baseUrl: loose.url, accessToken: TOKEN });
      expect(setup.taskIdUnique).toBe(false);
      const { crmId } = await crmContact('Ann Lee', loose);
      const input = { taskId: taskId(), contactCrmId: crmId, subject: 'Follow up', dueAt: at('2026-09-15T09:00:00Z') };
      const first = await adapter({}, loose).createTask(input);
      const second = await adapter({}, loose).createTask(input);
      expect(second).toMatchObject({ crmId: first.crmId, created: false });
      expect(tasksOf(input.taskId, loose)).toHaveLength(1);
    } finally {
      await loose.stop();
    }
  });
});

// ---- through the sync function ------------------------------------------------------------

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

function record(job: SyncJob, receiveCount = 1): SQSRecord {
  return {
    messageId: `m-${Math.random()}`,
    receiptHandle: 'receipt',
    body: JSON.stringify(job),
    attributes: { ApproximateReceiveCount: String(receiveCount), SentTimestamp: '0', SenderId: 'test', ApproximateFirstReceiveTimestamp: '0', MessageGroupId: job.contactId },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:scrm-local-sync.fifo',
    awsRegion: 'us-east-1',
  };
}

function syncApp(options: { crm?: CrmAdapter; store?: Store } = {}) {
  return createSyncApp({
    store: options.store ?? h.runtime.store,
    crm: options.crm ?? adapter({ timeoutMs: 1000 }),
    sqs: h.runtime.clients.sqs,
    jobs: h.runtime.syncQueue,
    queueUrl: h.runtime.config.syncQueueUrl,
    dlqUrl: h.runtime.config.syncDlqUrl,
    config: { retryDelaySeconds: 1, maxAttempts: 4 },
    logger: silent,
    intelligence: shippedIntelligence(),
  });
}

/** A contact in our table (no CRM id yet), as the webhook would have made it. */
async function ourContact(extra: Record<string, unknown> = {}): Promise<{ contactId: string; phone: string }> {
  const c = customer();
  await h.runtime.store.contacts.ensure(c.contactId, { bsuid: c.bsuid, phone: c.phone, leadSource: 'whatsapp' }, Date.now());
  const fields = Object.entries(extra);
  if (fields.length) {
    // What other parts of the system record on the contact (geocoder, automations, assignment).
    await h.runtime.store.table.update(keys.contact(c.contactId), {
      update: `SET ${fields.map((_, i) => `#f${i} = :v${i}`).join(', ')}`,
      names: Object.fromEntries(fields.map(([name], i) => [`#f${i}`, name])),
      values: Object.fromEntries(fields.map(([, value], i) => [`:v${i}`, value])),
    });
  }
  return { contactId: c.contactId, phone: c.phone };
}

const marks = () => new TaskMarkStore(h.runtime.store.table);

/** Jobs waiting in the harness's sync queue (nothing polls it), with their FIFO group. */
function readyJobs(): { body: SyncJob; group: string | undefined }[] {
  const queue = h.services.fauxqs.inspectQueue(h.services.names.syncQueue)!;
  return queue.messages.ready.map((m) => ({ body: JSON.parse(m.body) as SyncJob, group: m.messageGroupId }));
}

describe('task jobs', () => {
  afterEach(() => hub.setFaults([]));

  it('creates the contact and the task once when the job is delivered twice; the second costs no CRM call', async () => {
    const { contactId, phone } = await ourContact();
    const job = taskSyncJob({ taskId: taskId(), contactId, subject: 'Follow up on the quote', body: 'High intent this week', dueAt: at('2026-09-16T09:00:00Z') });
    const app = syncApp();
    expect((await app.handle({ Records: [record(job)] })).batchItemFailures).toEqual([]);

    const stored = await h.runtime.store.contacts.get(contactId);
    const crmId = stored?.crmIds?.hubspot?.id;
    expect(crmId).toBeDefined();
    expect(contactIn(crmId!)?.properties['whatsapp_phone']).toBe(phone);
    const [task] = tasksOf(job.taskId);
    expect(task?.contactIds).toEqual([crmId]);
    // The done mark and the contact's CRM id were written together.
    expect(await marks().find(contactId, job.taskId, 'hubspot')).toMatchObject({ crmId: task?.id, crmKind: 'hubspot' });
    expect(stored?.crmIds?.hubspot?.syncedAt).toBe((await marks().find(contactId, job.taskId, 'hubspot'))?.at);

    hub.resetStats();
    expect((await app.handle({ Records: [record(job, 2)] })).batchItemFailures).toEqual([]);
    expect(hub.stats().total ?? 0).toBe(0);
    expect(tasksOf(job.taskId)).toHaveLength(1);
  });

  it('uses the stored CRM id of a contact synced before: no contact call, one task', async () => {
    const { contactId } = await ourContact();
    await syncApp().handle({ Records: [record(contactSyncJob(contactId, 'assignment:agent-1'))] });
    const crmId = (await h.runtime.store.contacts.get(contactId))?.crmIds?.hubspot?.id;
    expect(crmId).toBeDefined();
    const job = taskSyncJob({ taskId: taskId(), contactId, subject: 'Follow up', dueAt: at('2026-09-16T09:00:00Z') });
    hub.resetStats();
    await syncApp({ crm: adapter({ taskDedup: 'unique-property' }) }).handle({ Records: [record(job)] });
    expect(hub.stats()).toMatchObject({ total: 1, 'POST /crm/objects/{version}/tasks': 1 });
    expect(tasksOf(job.taskId)[0]?.contactIds).toEqual([crmId]);
  });

  it('one task when the done mark is lost after HubSpot committed: the repeated job finds the task', async () => {
    const { contactId } = await ourContact();
    const job = taskSyncJob({ taskId: taskId(), contactId, subject: 'Follow up', dueAt: at('2026-09-16T09:00:00Z') });
    // The process dies between HubSpot's answer and the write of the mark.
    let died = false;
    const dying = new Proxy(h.runtime.store.table, {
      get(target, property, receiver) {
        if (property === 'update') {
          return async (key: Parameters<TableClient['update']>[0], request: Parameters<TableClient['update']>[1]) => {
            if (!died && request.update.includes('#marks')) {
              died = true;
              throw new Error('the process died before the done mark was written');
            }
            return target.update(key, request);
          };
        }
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const first = await syncApp({ store: { ...h.runtime.store, table: dying } }).handle({ Records: [record(job)] });
    expect(first.batchItemFailures).toHaveLength(1);
    expect(tasksOf(job.taskId)).toHaveLength(1);
    expect(await marks().find(contactId, job.taskId, 'hubspot')).toBeUndefined();

    const second = await syncApp().handle({ Records: [record(job, 2)] });
    expect(second.batchItemFailures).toEqual([]);
    const tasks = tasksOf(job.taskId);
    expect(tasks).toHaveLength(1);
    expect(await marks().find(contactId, job.taskId, 'hubspot')).toMatchObject({ crmId: tasks[0]?.id });
  });

  it('one task when HubSpot committed but the answer never came (the job\'s attempt timed out)', async () => {
    const { contactId } = await ourContact();
    const job = taskSyncJob({ taskId: taskId(), contactId, subject: 'Follow up', dueAt: at('2026-09-16T09:00:00Z') });
    const crm = adapter({ timeoutMs: 300, maxTries: 1 });
    await crm.createTask({ taskId: taskId(), contactCrmId: (await crmContact()).crmId, subject: 'warm-up', dueAt: 0 }); // dedup mode known
    hub.setFaults([{ method: 'POST', path: /\/tasks$/, afterCommitDelayMs: 800 }]);
    const response = await syncApp({ crm }).handle({ Records: [record(job)] });
    expect(response.batchItemFailures).toEqual([]);
    const tasks = tasksOf(job.taskId);
    expect(tasks).toHaveLength(1);
    expect(await marks().find(contactId, job.taskId, 'hubspot')).toMatchObject({ crmId: tasks[0]?.id });
  });

  it('a task the CRM refuses for good (its contact record is gone) is parked in the DLQ at once, and the redrive sends it back', async () => {
    const { contactId } = await ourContact();
    await h.runtime.store.contacts.setCrm(contactId, { kind: 'hubspot', id: '999999998' }, Date.now());
    const job = taskSyncJob({ taskId: taskId(), contactId, subject: 'Follow up', dueAt: at('2026-09-16T09:00:00Z') });
    const response = await syncApp().handle({ Records: [record(job)] });
    expect(response.batchItemFailures).toEqual([]); // parked: done here
    expect(tasksOf(job.taskId)).toHaveLength(0);

    const redriven = await createRedriveApp({ sqs: h.runtime.clients.sqs, dlqUrl: h.runtime.config.syncDlqUrl!, jobs: h.runtime.syncQueue, store: h.runtime.store, logger: silent }).redrive();
    expect(redriven).toMatchObject({ redriven: 1, malformed: 0 });
    expect(readyJobs().some((j) => j.body.jobId === job.jobId && j.group === contactId)).toBe(true);
  });
});

describe('contact jobs', () => {
  it('upsert the address, last coupon, rating and agent — and leave what sales typed that we do not know', async () => {
    const { contactId } = await ourContact({
      address: { label: '18 Nathan Road, Tsim Sha Tsui', street: '18 Nathan Road', locality: 'Tsim Sha Tsui', region: 'Kowloon', country: 'HK', source: 'text', at: Date.now() },
      lastCoupon: { code: 'COMEBACK15', rule: 'win-back', value: '15%', issuedAt: Date.now() },
      satisfaction: { score: 5, at: Date.now() },
      agentId: 'agent-mei',
      assignedAt: Date.now(),
    });
    const job = contactSyncJob(contactId, 'coupon:COMEBACK15');
    expect((await syncApp().handle({ Records: [record(job)] })).batchItemFailures).toEqual([]);
    const crmId = (await h.runtime.store.contacts.get(contactId))?.crmIds?.hubspot?.id;
    expect(contactIn(crmId!)?.properties).toMatchObject({
      address: '18 Nathan Road',
      city: 'Tsim Sha Tsui',
      state: 'Kowloon',
      country: 'HK',
      whatsapp_last_coupon: 'COMEBACK15',
      whatsapp_satisfaction: '5',
      whatsapp_agent: 'agent-mei',
      whatsapp_segment: 'new',
    });
    // No message was logged.
    expect(contactIn(crmId!)?.communicationIds).toEqual([]);

    // Sales types the postcode we never had; the next contact job keeps it.
    await fetch(`${hub.url}/crm/objects/2026-09/contacts/${crmId}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ properties: { zip: '999077', email: 'mei@example.com' } }),
    });
    await syncApp().handle({ Records: [record(contactSyncJob(contactId, 'rating:conv-2'))] });
    expect(contactIn(crmId!)?.properties).toMatchObject({ zip: '999077', email: 'mei@example.com', city: 'Tsim Sha Tsui' });
  });

  it('of a contact merged into another go on in the survivor\'s group, no CRM call', async () => {
    const loser = await ourContact();
    const survivor = await ourContact();
    await h.runtime.store.contacts.markMerged(loser.contactId, survivor.contactId, Date.now());
    hub.resetStats();
    const response = await syncApp().handle({ Records: [record(contactSyncJob(loser.contactId, 'rating:conv-9'))] });
    expect(response.batchItemFailures).toEqual([]);
    expect(hub.stats().total ?? 0).toBe(0);
    const sentOn = readyJobs().filter((j) => j.body.jobId === `contact:${survivor.contactId}:rating:conv-9`);
    expect(sentOn.map((j) => j.group)).toEqual([survivor.contactId]);
  });
});

describe('task jobs on the local stack', () => {
  let stack: LocalStack | undefined;
  afterAll(async () => {
    await stack?.stop();
  });

  it('a task job enqueued twice (past SQS deduplication) ends in one task on the customer\'s CRM contact', async () => {
    stack = await startSyncStack();
    const person = newCustomer();
    const wamid = newWamid();
    await send(stack, textMessage(person, 'I will think about it', { wamid, at: Date.now() - 1000 }));
    const [row] = await waitSynced(stack, [wamid]);
    const contactId = row!.contactId;
    const crmId = (await stack.runtime.store.contacts.get(contactId))?.crmIds?.hubspot?.id;
    const job = taskSyncJob({ taskId: taskId(), contactId, subject: 'Follow up', dueAt: at('2026-09-16T09:00:00Z') });
    await stack.runtime.syncQueue.enqueue([job]);
    await stack.runtime.syncQueue.enqueue([job], { redrive: 'again' });
    const tasks = await until(() => {
      const found = crmOf(stack!).state().tasks.filter((t) => t.properties['whatsapp_task_id'] === job.taskId);
      return found.length ? found : undefined;
    }, 10_000, { what: 'the task in the CRM' });
    await until(async () => (await new TaskMarkStore(stack!.runtime.store.table).find(contactId, job.taskId, 'hubspot')) !== undefined, 10_000, { what: 'the done mark' });
    await until(async () => {
      const depths = await queueDepths(stack!);
      return depths.queued === 0 && depths.inFlight === 0;
    }, 10_000, { what: 'the queue to drain' });
    expect(crmOf(stack).state().tasks.filter((t) => t.properties['whatsapp_task_id'] === job.taskId)).toHaveLength(1);
    expect(tasks[0]?.contactIds).toEqual([crmId]);
    expect(crmContacts(stack)).toHaveLength(1);
  });
});
