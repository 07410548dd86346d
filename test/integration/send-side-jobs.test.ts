/**
 * The send side's schedules — the number health check (OP-2), the template listing — and the
 * portfolio's daily limit of business-initiated conversations (CP-6), here 1.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '#local/stack';
import { sendAppOn } from '../helpers/send-app.ts';
import { DEFAULT_BUSINESS, textMessage } from '#local/webhooks';
import { signBody } from '#shared/whatsapp/signature';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const BACKUP = '117651463353033';
let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({
    dataDir: null,
    env: { PORT: '0', WHATSAPP_DAILY_LIMIT: '1', WHATSAPP_ACCOUNTS: JSON.stringify({ [DEFAULT_BUSINESS.phoneNumberId]: { name: 'Hong Kong', wabaId: DEFAULT_BUSINESS.wabaId, backupPhoneNumberId: BACKUP } }) },
    crmPort: 0,
    logger: silent,
    pollers: false,
    outboxSweepIntervalMs: 3_600_000,
  });
}, 60_000);
afterAll(async () => stack?.stop());

const sender = (counted: string[] = []) => sendAppOn(stack, { counted });

it('three health checks slower than 1.5 s in a row switch the account to its backup number and alarm; a fast one switches it back (OP-2)', async () => {
  const counted: string[] = [];
  const app = sender(counted);
  stack.graph!.setHealthDelay(DEFAULT_BUSINESS.phoneNumberId, 1_600);
  expect((await app.checkHealth())[DEFAULT_BUSINESS.phoneNumberId]).toMatchObject({ slowChecks: 1 });
  expect((await app.checkHealth())[DEFAULT_BUSINESS.phoneNumberId]).toMatchObject({ slowChecks: 2 });
  expect(counted.filter((m) => m === 'numberSwitched')).toHaveLength(0);
  expect((await app.checkHealth())[DEFAULT_BUSINESS.phoneNumberId]).toMatchObject({ slowChecks: 3, switchedTo: BACKUP });
  expect(counted.filter((m) => m === 'numberSlow')).toHaveLength(3);
  expect(counted).toContain('numberSwitched');
  expect(await stack.runtime.store.limits.numberState(DEFAULT_BUSINESS.phoneNumberId)).toMatchObject({ switchedTo: BACKUP, slowChecks: 3 });

  stack.graph!.setHealthDelay(DEFAULT_BUSINESS.phoneNumberId, 0);
  expect((await app.checkHealth())[DEFAULT_BUSINESS.phoneNumberId]).toMatchObject({ slowChecks: 0 });
  expect((await stack.runtime.store.limits.numberState(DEFAULT_BUSINESS.phoneNumberId)).switchedTo).toBeUndefined();
}, 30_000);

it("lists every template of the WABA into the table, and one Meta deleted leaves it", async () => {
  const app = sender();
  stack.graph!.setTemplates([
    { name: 'order_update', language: 'en', category: 'UTILITY', body: 'Hi {{1}}, your order {{2}} is now {{3}}.' },
    { name: 'spring_sale', language: 'en', category: 'MARKETING', body: 'Hi {{first_name}}, {{discount}} off.', quickReplies: ['Stop promotions'] },
  ]);
  expect(await app.syncTemplates()).toEqual({ [DEFAULT_BUSINESS.wabaId]: 2 });
  const sale = await stack.runtime.store.templates.get(DEFAULT_BUSINESS.wabaId, 'spring_sale', 'en');
  expect(sale).toMatchObject({ status: 'APPROVED', category: 'MARKETING', parameterFormat: 'named', bodyParameters: ['first_name', 'discount'], quickReplies: ['Stop promotions'] });
  stack.graph!.setTemplates([{ name: 'order_update', language: 'en', category: 'UTILITY', body: 'Hi {{1}}, your order {{2}} is now {{3}}.' }]);
  await app.syncTemplates();
  expect(await stack.runtime.store.templates.list(DEFAULT_BUSINESS.wabaId)).toHaveLength(1);
});

async function api(method: string, path: string, body?: unknown, key?: string) {
  const response = await fetch(`${stack.url}${path}`, { method, headers: { authorization: 'Bearer local-api-token', ...(key && { 'idempotency-key': key }) }, ...(body !== undefined && { body: JSON.stringify(body) }) });
  return (await response.json()) as Record<string, unknown>;
}

async function customerWhoWroteLongAgo(waId: string, at = Date.now() - 30 * 3_600_000): Promise<string> {
  const body = JSON.stringify(textMessage({ waId, bsuid: `HK.daily${waId}`, name: 'Lee' }, 'thanks', { at }));
  await fetch(stack.webhookUrl, { method: 'POST', headers: { 'x-hub-signature-256': signBody(body, 'local-app-secret') }, body });
  const { contacts } = (await api('GET', `/api/contacts?phone=%2B${waId}`)) as { contacts: { contactId: string }[] };
  const contactId = contacts[0]!.contactId;
  await api('PUT', `/api/contacts/${contactId}/consent`, { marketing: true, source: 'store sign-up' });
  return contactId;
}

it('the daily limit of business-initiated conversations defers the customer over it, and a customer already reached is not counted again (CP-6)', async () => {
  const template = (n: string) => ({ category: 'utility', template: { name: 'order_update', language: 'en', parameters: ['Lee', n, 'shipped'] } });
  const first = await customerWhoWroteLongAgo('85294440001');
  const second = await customerWhoWroteLongAgo('85294440002');
  expect(await api('POST', '/api/messages', { to: { contactId: first }, ...template('A-1') }, 'daily-1')).toMatchObject({ state: 'queued' });
  const over = await api('POST', '/api/messages', { to: { contactId: second }, ...template('B-1') }, 'daily-2');
  expect(over).toMatchObject({ state: 'deferred', reason: expect.stringMatching(/^CP-6/) });
  expect(Number(over['notBefore'])).toBeGreaterThan(Date.now() + 23 * 3_600_000);
  // The first customer was counted in the last 24 h already: a second template (6 s later, Meta's pacing) takes no new slot.
  await new Promise((resolve) => setTimeout(resolve, 6_100));
  expect(await api('POST', '/api/messages', { to: { contactId: first }, ...template('A-2') }, 'daily-3')).toMatchObject({ state: 'queued' });
}, 30_000);

it('a send naming a template approved since the last listing lists the templates again and goes', async () => {
  const contactId = await customerWhoWroteLongAgo('85294440009', Date.now()); // inside the window: no daily slot
  stack.graph!.setTemplates([{ name: 'pickup_ready', language: 'en', category: 'UTILITY', body: 'Hi {{1}}, your order is ready.' }]);
  const answer = await api('POST', '/api/messages', { to: { contactId }, category: 'utility', template: { name: 'pickup_ready', language: 'en', parameters: ['Lee'] } }, 'relist-1');
  expect(answer).toMatchObject({ state: 'queued' });
  expect(await stack.runtime.store.templates.get(DEFAULT_BUSINESS.wabaId, 'pickup_ready', 'en')).toMatchObject({ status: 'APPROVED' });
});
