/**
 * The webhook adapter against the local receiver (local/crm-webhook), which verifies every
 * delivery with the `standardwebhooks` library and drops a repeated webhook-id, as a careful
 * Zap does: each event is taken once even when sent twice or when its answer was lost; a rotated
 * secret is picked up; 410, 429, 5xx and 400 end as the port says; a bad signature or a stale
 * timestamp is refused; 150 contact updates are 2 POSTs; the receiver keeps its events across a
 * restart.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CrmContactFields, CrmContactInput } from '#shared/crm/port';
import { WebhookAdapter, type WebhookAdapterOptions } from '#shared/crm/webhook/adapter';
import { newWebhookSecret, startWebhookReceiver, type WebhookReceiver } from '#local/crm-webhook/server';

let receiver: WebhookReceiver;
let dataDir: string;
let sequence = 0;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'crm-webhook-'));
  receiver = await startWebhookReceiver({ dataFile: join(dataDir, 'crm-webhook.json') });
});
afterAll(async () => {
  await receiver?.stop();
  await rm(dataDir, { recursive: true, force: true });
});
beforeEach(() => {
  receiver.setFaults([]);
  receiver.setRateLimit(undefined);
  receiver.setGone(false);
});

function adapter(options: Partial<WebhookAdapterOptions> = {}, on: WebhookReceiver = receiver): WebhookAdapter {
  return new WebhookAdapter({ url: on.hookUrl, secret: async () => on.secret(), backoffBaseMs: 5, timeoutMs: 2000, ...options });
}

function customer(): CrmContactInput & { contactId: string } {
  sequence += 1;
  const n = `${Date.now() % 1_000_000}${sequence}`;
  return { contactId: `c-${n}`, bsuid: `HK.${n}`, phone: `+8529${n.slice(-7).padStart(7, '0')}`, profileName: 'Amy' };
}

const fields = (messageCount: number): CrmContactFields => ({ segment: 'active', tags: ['vip'], hotWords: { discount: 2 }, frequentEmoji: ['👍'], messageCount });

const eventsOf = (type: string, key: string, value: string) => receiver.events().filter((e) => e.type === type && e.payload.data[key] === value);

describe('each event once', () => {
  it('a repeated job sends the same events again; the receiver keeps one of each and counts the repeats', async () => {
    const c = customer();
    const now = Date.now();
    const run = async () => {
      const a = adapter();
      const contact = await a.upsertContact({ ...c, fields: fields(3) });
      const message = await a.logMessage({ wamid: `wamid.${c.contactId}`, contactCrmId: contact.crmId, direction: 'inbound', body: 'I want the blue one', timestamp: now });
      const opportunity = await a.createOpportunity({ opportunityId: `wamid.${c.contactId}`, contactCrmId: contact.crmId, sku: 'BLUE-1', amount: 99, currency: 'HKD', createdAt: now });
      const task = await a.createTask({ taskId: `follow-up:${c.contactId}:2026-W48`, contactCrmId: contact.crmId, subject: 'Call back', dueAt: now + 86_400_000 });
      const report = await a.recordServiceReport({ reportId: `service-week:${c.contactId}`, periodStart: now - 7 * 86_400_000, periodEnd: now, medianFirstResponseMs: 272_000, conversations: 5, unanswered: 1 });
      return { contact, message, opportunity, task, report };
    };
    const duplicatesBefore = receiver.duplicates();
    const first = await run();
    const second = await run();

    expect(second.contact.crmId).toBe(c.contactId);
    expect(second.message.crmId).toBe(first.message.crmId);
    expect(second.opportunity.crmId).toBe(first.opportunity.crmId);
    expect(second.task.crmId).toBe(first.task.crmId);
    expect([first, second].every((r) => r.contact.calls + r.message.calls === 2)).toBe(true);
    expect(receiver.duplicates() - duplicatesBefore).toBe(5);
    expect(eventsOf('contact.upserted', 'contactId', c.contactId)).toHaveLength(1);
    expect(receiver.messages().filter((m) => m.contactId === c.contactId)).toEqual([{ id: first.message.crmId, wamid: `wamid.${c.contactId}`, contactId: c.contactId, body: 'I want the blue one' }]);
    // The opportunity's id is the message's wamid, and it is an event of its own.
    expect(receiver.opportunities().filter((o) => o.contactId === c.contactId)).toEqual([{ id: first.opportunity.crmId, opportunityId: `wamid.${c.contactId}`, contactId: c.contactId, sku: 'BLUE-1' }]);
    expect(receiver.tasks().filter((t) => t.contactId === c.contactId)).toHaveLength(1);
    expect(eventsOf('service.report', 'reportId', `service-week:${c.contactId}`)).toHaveLength(1);
    const stored = receiver.contacts().find((x) => x.id === c.contactId);
    expect(stored).toMatchObject({ bsuid: c.bsuid, phone: c.phone, leadSource: 'WhatsApp', salesPhones: [], fields: { segment: 'active', messageCount: 3, tags: 'vip' } });
  });

  it('a changed contact is a new event; a BSUID-only customer and a number change land on the same contact', async () => {
    const c = customer();
    const a = adapter();
    await a.upsertContact({ contactId: c.contactId, bsuid: c.bsuid, fields: fields(1) });
    await a.upsertContact({ contactId: c.contactId, bsuid: c.bsuid, phone: c.phone, fields: fields(2) });
    await a.upsertContact({ contactId: c.contactId, bsuid: c.bsuid, phone: '+85260000001', previousPhones: [c.phone!], fields: fields(2) });
    expect(eventsOf('contact.upserted', 'contactId', c.contactId)).toHaveLength(3);
    const stored = receiver.contacts().filter((x) => x.id === c.contactId);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ phone: '+85260000001', fields: { messageCount: 2 } });
  });

  it('two concurrent first upserts of a new customer (two processes) end in one contact', async () => {
    const c = customer();
    await Promise.all([adapter().upsertContact({ ...c, fields: fields(1) }), adapter().upsertContact({ ...c, fields: fields(1) })]);
    expect(receiver.contacts().filter((x) => x.id === c.contactId)).toHaveLength(1);
    expect(eventsOf('contact.upserted', 'contactId', c.contactId)).toHaveLength(1);
  });

  it('a lost answer (committed, answered after the timeout) is retried in the attempt and taken once', async () => {
    const c = customer();
    receiver.setFaults([{ operation: 'message-write', afterCommitDelayMs: 800 }]);
    const before = receiver.duplicates();
    const result = await adapter({ timeoutMs: 250 }).logMessage({ wamid: `wamid.lost.${c.contactId}`, contactCrmId: c.contactId, direction: 'inbound', body: 'hello?', timestamp: Date.now() });
    expect(result.calls).toBe(2);
    expect(receiver.duplicates() - before).toBe(1);
    expect(receiver.messages().filter((m) => m.wamid === `wamid.lost.${c.contactId}`)).toHaveLength(1);
  });

  it('a lost answer on the last try is transient with outcomeUnknown; the job retry is a harmless duplicate', async () => {
    const c = customer();
    const input = { wamid: `wamid.unknown.${c.contactId}`, contactCrmId: c.contactId, direction: 'outbound' as const, body: 'Shipped', timestamp: Date.now() };
    receiver.setFaults([{ operation: 'message-write', afterCommitDelayMs: 800 }]);
    await expect(adapter({ timeoutMs: 250, maxTries: 1 }).logMessage(input)).rejects.toMatchObject({ kind: 'transient', details: { outcomeUnknown: true } });
    const retried = await adapter().logMessage(input);
    expect(retried.calls).toBe(1);
    expect(receiver.messages().filter((m) => m.wamid === input.wamid)).toHaveLength(1);
  });
});

describe("the receiver's answers", () => {
  it('a rotated secret: the refused POST re-reads it and goes through', async () => {
    const old = receiver.secret();
    const rotated = newWebhookSecret();
    receiver.setSecret(rotated);
    const rejectedBefore = receiver.rejected();
    try {
      const a = adapter({ secret: async (refresh) => (refresh ? rotated : old) });
      const c = customer();
      expect((await a.upsertContact(c)).calls).toBe(2);
      expect(receiver.rejected() - rejectedBefore).toBe(1);
      expect(receiver.contacts().some((x) => x.id === c.contactId)).toBe(true);
    } finally {
      receiver.setSecret(old);
    }
  });

  it('a wrong secret or a stale timestamp is refused (401) and ends in auth; nothing is kept', async () => {
    const c = customer();
    const count = receiver.events().length;
    const wrong = newWebhookSecret();
    await expect(adapter({ secret: async () => wrong }).upsertContact(c)).rejects.toMatchObject({ kind: 'auth', details: { status: 401 } });
    // Signed 10 minutes ago: outside the receiver's 5-minute tolerance (a replay).
    await expect(adapter({ now: () => Date.now() - 10 * 60_000 }).upsertContact(c)).rejects.toMatchObject({ kind: 'auth', details: { status: 401 } });
    expect(receiver.events()).toHaveLength(count);
  });

  it('410 Gone is permanent WEBHOOK_GONE', async () => {
    receiver.setGone(true);
    await expect(adapter().upsertContact(customer())).rejects.toMatchObject({ kind: 'permanent', details: { status: 410, category: 'WEBHOOK_GONE' } });
  });

  it('its rate limit is rate_limited with Retry-After, or waited out when Retry-After is short', async () => {
    receiver.setRateLimit({ requests: 1, windowMs: 60_000 });
    const a = adapter();
    await a.upsertContact(customer());
    const error = await a.upsertContact(customer()).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'rate_limited', details: { status: 429 } });
    expect((error as { details: { retryAfterMs: number } }).details.retryAfterMs).toBeGreaterThan(50_000);
    expect(receiver.requests()['rateLimited']).toBeGreaterThanOrEqual(1);

    receiver.setRateLimit({ requests: 1, windowMs: 1_000 });
    await a.upsertContact(customer());
    const waited = await a.upsertContact(customer());
    expect(waited.calls).toBe(2);
  });

  it('5xx is retried in the attempt, then transient; a 400 is permanent after one POST', async () => {
    receiver.resetRequests();
    receiver.setFaults([{ operation: 'task-write', status: 503 }, { operation: 'task-write', status: 503 }, { operation: 'task-write', status: 503 }]);
    const c = customer();
    const task = { taskId: `t-${c.contactId}`, contactCrmId: c.contactId, subject: 'Call', dueAt: Date.now() };
    await expect(adapter({ maxTries: 3 }).createTask(task)).rejects.toMatchObject({ kind: 'transient', details: { status: 503 } });
    expect(receiver.requests()['task-write']).toBe(3);
    receiver.setFaults([{ operation: 'task-write', status: 500 }]);
    expect((await adapter({ maxTries: 3 }).createTask(task)).calls).toBe(2);
    expect(receiver.tasks().filter((t) => t.taskId === task.taskId)).toHaveLength(1);

    receiver.setFaults([{ operation: 'opportunity-write', status: 400 }]);
    receiver.resetRequests();
    await expect(adapter().createOpportunity({ opportunityId: `o-${c.contactId}`, contactCrmId: c.contactId, sku: 'S', createdAt: Date.now() })).rejects.toMatchObject({ kind: 'permanent', details: { status: 400 } });
    expect(receiver.requests()['opportunity-write']).toBe(1);
  });
});

describe('bulk, read-outs and persistence', () => {
  it('updateContacts of 150 is 2 POSTs, and the receiver updates all 150 contacts', async () => {
    const contacts = Array.from({ length: 150 }, () => customer());
    const a = adapter();
    for (const c of contacts.slice(0, 3)) await a.upsertContact({ ...c, fields: fields(1) });
    receiver.resetRequests();
    const result = await a.updateContacts(contacts.map((c) => ({ crmId: c.contactId, contactId: c.contactId, fields: fields(9) })));
    expect(result.calls).toBe(2);
    expect(result.outcomes).toHaveLength(150);
    expect(result.outcomes.every((o) => o.ok)).toBe(true);
    expect(receiver.requests()['contact-write']).toBe(2);
    const byId = new Map(receiver.contacts().map((x) => [x.id, x]));
    expect(contacts.every((c) => byId.get(c.contactId)?.fields['messageCount'] === 9)).toBe(true);
    // Identity from the earlier upsert stays; the bulk update only touches fields.
    expect(byId.get(contacts[0]!.contactId)).toMatchObject({ bsuid: contacts[0]!.bsuid, phone: contacts[0]!.phone });
  });

  it('offers the stand-in read-outs: env, capabilities, no sales contacts, no cases, an HTML home page', async () => {
    expect(receiver.kind).toBe('webhook');
    expect(receiver.capabilities).toEqual({ salesContacts: false, readBack: false, cases: false });
    expect(receiver.env['CRM_WEBHOOK_URL']).toBe(`${receiver.url}/hooks/catch`);
    expect(receiver.env['CRM_WEBHOOK_SECRET']).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    await expect(receiver.createSalesContact({ phone: '+85291234567', field: 'phone', firstName: 'A', lastName: 'B' })).rejects.toThrow(/no sales-made contacts/);
    expect(receiver.cases()).toEqual([]);
    const c = customer();
    await adapter().upsertContact({ ...c, profileName: 'Zoë <b>' });
    const html = await (await fetch(receiver.url)).text();
    expect(html).toContain(c.contactId);
    expect(html).toContain('Zoë &#60;b&#62;');
    expect(html).toContain('contact.upserted');
  });

  it('keeps its events and secret across a restart: a resend afterwards is still a duplicate', async () => {
    const file = join(dataDir, 'restart.json');
    const first = await startWebhookReceiver({ dataFile: file });
    const c = customer();
    const input = { wamid: `wamid.restart.${c.contactId}`, contactCrmId: c.contactId, direction: 'inbound' as const, body: 'still here?', timestamp: Date.now() };
    await adapter({}, first).upsertContact({ ...c, fields: fields(4) });
    await adapter({}, first).logMessage(input);
    const secret = first.secret();
    await first.stop();

    const second = await startWebhookReceiver({ dataFile: file });
    try {
      expect(second.secret()).toBe(secret);
      expect(second.events()).toHaveLength(2);
      expect(second.contacts()).toMatchObject([{ id: c.contactId, fields: { messageCount: 4 } }]);
      await adapter({}, second).logMessage(input);
      expect(second.duplicates()).toBe(1);
      expect(second.messages()).toHaveLength(1);
    } finally {
      await second.stop();
    }
  });
});
