/**
 * Each of Meta's error codes the send path knows, answered by the Graph API stand-in with Meta's
 * shape and HTTP status, through the Cloud API adapter into the send function: what becomes of
 * the message, the customer and the number.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '#local/stack';
import { sendAppOn } from '../helpers/send-app.ts';
import { DEFAULT_BUSINESS, textMessage } from '#local/webhooks';
import type { OutboundRow } from '#shared/store/outbox';
import { signBody } from '#shared/whatsapp/signature';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
let stack: LocalStack;
let seq = 0;

beforeAll(async () => {
  stack = await startLocalStack({ dataDir: null, env: { PORT: '0' }, crmPort: 0, logger: silent, pollers: false, outboxSweepIntervalMs: 3_600_000 });
}, 60_000);
afterAll(async () => stack?.stop());

const sender = (counted: string[] = []) => sendAppOn(stack, { counted });

async function api(method: string, path: string, body?: unknown, key?: string) {
  const response = await fetch(`${stack.url}${path}`, { method, headers: { authorization: 'Bearer local-api-token', ...(key && { 'idempotency-key': key }) }, ...(body !== undefined && { body: JSON.stringify(body) }) });
  return (await response.json()) as Record<string, unknown>;
}

/** A customer who just wrote, a reply queued to them, and Meta's answer to it set to `code`. */
async function sendMeeting(code: number): Promise<{ id: string; contactId: string; row: OutboundRow; counted: string[] }> {
  const waId = `8529300${String(++seq).padStart(4, '0')}`;
  const body = JSON.stringify(textMessage({ waId, bsuid: `HK.codes${seq}`, name: 'Ann' }, 'hello'));
  await fetch(stack.webhookUrl, { method: 'POST', headers: { 'x-hub-signature-256': signBody(body, 'local-app-secret') }, body });
  const { contacts } = (await api('GET', `/api/contacts?phone=%2B${waId}`)) as { contacts: { contactId: string }[] };
  const contactId = contacts[0]!.contactId;
  const answer = await api('POST', '/api/messages', { to: { contactId }, category: 'service', text: `meets ${code}` }, `code-${code}-${seq}`);
  const id = String(answer['id']);
  stack.graph!.setFault(waId, { code });
  const counted: string[] = [];
  await sender(counted).process(id, Date.now() + 10_000).catch((error: Error) => {
    if (error.name !== 'ComeBack') throw error;
  });
  const row = (await stack.runtime.store.outbox.get(id))!;
  // A number Meta stopped is started again for the next case.
  await stack.runtime.store.table.update({ pk: `NUMBER#${DEFAULT_BUSINESS.phoneNumberId}`, sk: 'STATE' }, { update: 'REMOVE pausedUntil, pauseReason' });
  return { id, contactId, row, counted };
}

describe("Meta's error codes", () => {
  it.each([130429, 131056, 4, 80007, 1, 2, 131000])('%i is retried with backoff: queued again after 2 s, one attempt used', async (code) => {
    const { row } = await sendMeeting(code);
    expect(row).toMatchObject({ state: 'queued', attempts: 1, error: { code } });
    expect(row.notBefore! - Date.now()).toBeGreaterThan(500);
  });

  it('131047 (window closed) fails at once: send a template', async () => {
    const { row } = await sendMeeting(131047);
    expect(row).toMatchObject({ state: 'failed', attempts: 1, error: { code: 131047 }, reason: expect.stringMatching(/send a template/) });
  });

  it('131026 (undeliverable) fails and counts against the recipient', async () => {
    const { row, contactId } = await sendMeeting(131026);
    expect(row).toMatchObject({ state: 'failed', error: { code: 131026 } });
    expect(await stack.runtime.store.table.get({ pk: `CONTACT#${contactId}`, sk: 'PROFILE' })).toMatchObject({ undeliverableCount: 1 });
  });

  it("131049 (Meta's marketing cap) defers 24 h and holds the customer's marketing", async () => {
    const { row, contactId } = await sendMeeting(131049);
    expect(row).toMatchObject({ state: 'deferred' });
    expect(row.notBefore! - Date.now()).toBeGreaterThan(23 * 3_600_000);
    const contact = await api('GET', `/api/contacts/${contactId}`);
    expect(contact['counters']).toHaveProperty('marketingPausedUntil');
  });

  it('131050 (stopped marketing) fails and the consent becomes opted out', async () => {
    const { row, contactId } = await sendMeeting(131050);
    expect(row.state).toBe('failed');
    expect((await api('GET', `/api/contacts/${contactId}`))['consent']).toMatchObject({ marketing: { state: 'opted_out', source: 'whatsapp_preferences' } });
  });

  it('131048 (spam limit) slows the number down, defers the message and alarms', async () => {
    const { row, counted } = await sendMeeting(131048);
    expect(row).toMatchObject({ state: 'deferred', reason: expect.stringMatching(/^131048/) });
    expect(counted).toContain('accountStopped');
  });

  it.each([132000, 132001, 132015, 132016])('%i (template problem) fails for good with the reason', async (code) => {
    const { row, counted } = await sendMeeting(code);
    expect(row).toMatchObject({ state: 'failed', attempts: 1, error: { code }, reason: expect.stringMatching(new RegExp(`^${code}: template problem`)) });
    expect(counted).toContain('sendFailures');
  });

  it('190 (token refused) sends nothing, alarms, and the message waits for a valid token without using an attempt', async () => {
    const { row, counted } = await sendMeeting(190);
    expect(row).toMatchObject({ state: 'deferred', attempts: 0, reason: expect.stringMatching(/^190/) });
    expect(counted).toContain('whatsappAuthFailures');
  });

  it.each([131042, 368, 131031])('%i stops sending for the account and alarms; the message waits', async (code) => {
    const { row, counted } = await sendMeeting(code);
    expect(row).toMatchObject({ state: 'deferred', reason: expect.stringMatching(new RegExp(`^${code}`)) });
    expect(counted).toContain('accountStopped');
  });

  it('131062 (a BSUID for an authentication template) fails for good', async () => {
    const { row } = await sendMeeting(131062);
    expect(row).toMatchObject({ state: 'failed', error: { code: 131062 } });
  });
});
