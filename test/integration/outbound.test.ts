/**
 * The send path end to end on the local stack: the API, the policy gate against the stored
 * counters, the outbox, the send function and its poller, the Graph API stand-in answering with
 * Meta's shapes and sending signed status webhooks back to the webhook.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '#local/stack';
import { DEFAULT_BUSINESS, envelope, inboundMessage, textMessage, type Customer } from '#local/webhooks';
import { signBody } from '#shared/whatsapp/signature';
import { until } from '../helpers/until.ts';

const TOKEN = 'local-api-token';
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
let stack: LocalStack;
let seq = 0;

beforeAll(async () => {
  stack = await startLocalStack({
    dataDir: null,
    env: { PORT: '0' },
    crmPort: 0,
    logger: silent,
    graphStatusDelaysMs: { sent: 5, delivered: 10, read: 15 },
    outboxSweepIntervalMs: 60_000,
  });
}, 60_000);
afterAll(async () => stack?.stop());

const customer = (overrides: Partial<Customer> = {}): Customer => {
  seq++;
  return { waId: `8529100${String(seq).padStart(4, '0')}`, bsuid: `HK.${'1'.repeat(10)}${seq}`, name: `Customer ${seq}`, ...overrides };
};

async function inbound(c: Customer, text: string, at = Date.now()): Promise<void> {
  const body = JSON.stringify(textMessage(c, text, { at }));
  const response = await fetch(stack.webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(body, 'local-app-secret') }, body });
  expect(response.status).toBe(200);
}

async function deliver(payload: unknown): Promise<void> {
  const body = JSON.stringify(payload);
  const response = await fetch(stack.webhookUrl, { method: 'POST', headers: { 'x-hub-signature-256': signBody(body, 'local-app-secret') }, body });
  expect(response.status).toBe(200);
}

async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${stack.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
    ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const send = (body: unknown, key = `key-${++seq}`) => api('POST', '/api/messages', body, { 'idempotency-key': key });

async function contactIdOf(c: Customer): Promise<string> {
  const found = await api('GET', `/api/contacts?bsuid=${encodeURIComponent(c.bsuid)}`);
  const contacts = found.body['contacts'] as { contactId: string }[];
  expect(contacts).toHaveLength(1);
  return contacts[0]!.contactId;
}

const sendsTo = (recipient: string) => stack.graph!.sends().filter((s) => s.to === recipient || s.recipient === recipient);

describe('the API', () => {
  it('answers 401 without the bearer token, 400 naming the field, 404 for an unknown customer', async () => {
    const noToken = await fetch(`${stack.url}/api/messages`, { method: 'POST', body: '{}' });
    expect(noToken.status).toBe(401);
    const wrongToken = await fetch(`${stack.url}/api/contacts?phone=%2B85291234567`, { headers: { authorization: 'Bearer not-the-token' } });
    expect(wrongToken.status).toBe(401);
    expect(((await wrongToken.json()) as { error: string }).error).toMatch(/Authorization: Bearer/);
    const bad = await send({ to: { phone: '+85291234567' }, category: 'service', text: '' });
    expect(bad.status).toBe(400);
    expect(bad.body['error']).toMatch(/^text:/);
    const both = await send({ to: { phone: '+85291234567' }, category: 'service', text: 'hi', image: { link: 'https://example.com/a.png' } });
    expect(both.body['error']).toMatch(/exactly one of text, template/);
    const noKey = await api('POST', '/api/messages', { to: { phone: '+85291234567' }, category: 'service', text: 'hi' });
    expect(noKey.status).toBe(400);
    expect(noKey.body['error']).toMatch(/Idempotency-Key/);
    const unknown = await send({ to: { phone: '+85299999999' }, category: 'service', text: 'hi' });
    expect(unknown.status).toBe(404);
    const notAPhone = await send({ to: { phone: '+999123456' }, category: 'service', text: 'hi' });
    expect(notAPhone).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^phone: "\+999123456" is not a phone number/) } });
    expect((await api('GET', '/api/contacts?phone=12')).status).toBe(400);
    expect((await api('GET', '/api/contacts')).body['error']).toMatch(/phone=.*bsuid=/);
    expect((await api('DELETE', '/api/messages')).status).toBe(405);
  });
});

describe('a reply inside the window', () => {
  it('is sent once by `to`, moves to read with its cost, and the conversation has both directions', async () => {
    const c = customer();
    await inbound(c, 'Hi, is the blue kettle in stock?');
    const contactId = await contactIdOf(c);
    const body = { to: { contactId }, category: 'service', text: 'Yes, it is. Shall I reserve one?', origin: 'agent', agentId: 'ag-mei' };
    const first = await send(body, 'reply-1');
    expect(first).toMatchObject({ status: 202, body: { state: 'queued' } });
    const id = String(first.body['id']);

    const read = await until(async () => {
      const m = await api('GET', `/api/messages/${id}`);
      return m.body['state'] === 'read' && m.body['cost'] ? m.body : undefined;
    }, 15_000);
    expect(read).toMatchObject({ id, state: 'read', to: { phone: `+${c.waId}` }, cost: { currency: 'USD', category: 'service', type: 'free_customer_service' } });
    expect(String(read['wamid'])).toMatch(/^wamid\./);

    // The same key and body again: the same answer, nothing new sent; another body: 409.
    expect((await send(body, 'reply-1')).body).toMatchObject({ id });
    expect((await send({ ...body, text: 'Something else' }, 'reply-1')).status).toBe(409);
    const sends = sendsTo(c.waId!);
    expect(sends).toHaveLength(1);
    expect(sends[0]).toMatchObject({ callbackData: id, recipient: undefined });

    const conversation = await until(async () => {
      const m = await api('GET', `/api/contacts/${contactId}/messages`);
      const messages = m.body['messages'] as { direction: string }[];
      return messages.length === 2 ? messages : undefined;
    });
    expect(conversation.map((m) => m.direction)).toEqual(['inbound', 'outbound']);
    expect(conversation[1]).toMatchObject({ id, origin: 'agent', agentId: 'ag-mei', text: body.text });

    // Logged once in the CRM, as an outbound communication, by the ordinary sync.
    const logged = await until(async () => {
      const state = (await (await fetch(`${stack.crmUrl}/_local/state`)).json()) as { communications: { properties: Record<string, string> }[] };
      const mine = state.communications.filter((c) => c.properties['whatsapp_message_id'] === read['wamid']);
      return mine.length ? mine : undefined;
    }, 15_000);
    expect(logged).toHaveLength(1);
    expect(logged[0]!.properties['hs_communication_body']).toContain(body.text);
  });
});

describe('the policy at the API', () => {
  it('refuses free-form outside the 24 h window and sends a template instead', async () => {
    const c = customer();
    await inbound(c, 'hello', Date.now() - 25 * 3_600_000);
    const contactId = await contactIdOf(c);
    const text = await send({ to: { contactId }, category: 'service', text: 'Your order shipped' });
    expect(text.body).toMatchObject({ state: 'denied', reason: expect.stringMatching(/^CP-1:/) });
    const template = await send({ to: { contactId }, category: 'utility', template: { name: 'order_update', language: 'en', parameters: ['Ann', 'A-1', 'shipped'] } });
    expect(template.body).toMatchObject({ state: 'queued' });
    await until(() => sendsTo(c.waId!).length === 1);
    expect(sendsTo(c.waId!)[0]!.type).toBe('template');
  });

  it('checks a template before Meta: unknown and wrong parameters are 400, a paused one is denied', async () => {
    const c = customer();
    await inbound(c, 'hello');
    const contactId = await contactIdOf(c);
    expect((await send({ to: { contactId }, category: 'utility', template: { name: 'no_such_template', language: 'en' } })).status).toBe(400);
    const wrong = await send({ to: { contactId }, category: 'utility', template: { name: 'order_update', language: 'en', parameters: ['only one'] } });
    expect(wrong.body['error']).toMatch(/takes 3 parameter/);
    const paused = await send({ to: { contactId }, category: 'marketing', template: { name: 'paused_promo', language: 'en', parameters: ['Ann', 'The kettle'] } });
    expect(paused.body).toMatchObject({ state: 'denied', reason: expect.stringMatching(/PAUSED/) });
  });

  it('after the customer writes STOP, a promotion is refused (CP-7)', async () => {
    const c = customer();
    await inbound(c, 'STOP');
    const contactId = await contactIdOf(c);
    const contact = await api('GET', `/api/contacts/${contactId}`);
    expect(contact.body['consent']).toMatchObject({ marketing: { state: 'opted_out' } });
    const promo = await send({ to: { contactId }, category: 'marketing', template: { name: 'spring_sale', language: 'en', parameters: { first_name: 'Ann', discount: '20%', end_date: 'Sunday' } } });
    expect(promo.body).toMatchObject({ state: 'denied', reason: expect.stringMatching(/^CP-7:/) });
    expect(sendsTo(c.waId!)).toHaveLength(0);
  });

  it('20 concurrent templates racing for the one slot of a customer who has not opted in: exactly 1 is sent', async () => {
    const c = customer();
    await inbound(c, 'hello', Date.now() - 30 * 3_600_000);
    const contactId = await contactIdOf(c);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => send({ to: { contactId }, category: 'utility', template: { name: 'order_update', language: 'en', parameters: ['Ann', `A-${i}`, 'shipped'] } }, `race-${contactId}-${i}`)),
    );
    const states = answers.map((a) => a.body['state']);
    expect(states.filter((s) => s === 'queued')).toHaveLength(1);
    expect(states.filter((s) => s === 'denied')).toHaveLength(19);
    await until(() => sendsTo(c.waId!).length >= 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sendsTo(c.waId!)).toHaveLength(1);
  });
});

describe('a customer known only by BSUID', () => {
  it('is addressed by `recipient`, never `to`', async () => {
    const c = customer({ waId: undefined as unknown as string });
    const { waId: _drop, ...bsuidOnly } = c;
    await inbound(bsuidOnly as Customer, 'hi, username only');
    const contactId = await contactIdOf(c);
    const sent = await send({ to: { contactId }, category: 'service', text: 'Hello!' });
    expect(sent.body['state']).toBe('queued');
    await until(() => sendsTo(c.bsuid).length === 1);
    expect(sendsTo(c.bsuid)[0]).toMatchObject({ recipient: c.bsuid, to: undefined, dropped: false });
    const otp = await send({ to: { contactId }, category: 'authentication', template: { name: 'otp_code', language: 'en', parameters: ['123456'] } });
    expect(otp.body).toMatchObject({ state: 'denied', reason: expect.stringMatching(/^authentication_to_bsuid/) });
  });
});

describe("Meta's errors", () => {
  async function failing(code: number, options: { async?: boolean; times?: number } = {}) {
    const c = customer();
    await inbound(c, 'hello');
    const contactId = await contactIdOf(c);
    stack.graph!.setFault(c.waId!, { code, ...options });
    const answer = await send({ to: { contactId }, category: 'service', text: `a message that meets ${code}` });
    return { c, contactId, id: String(answer.body['id']) };
  }
  const settled = (id: string, states: string[]) =>
    until(async () => {
      const m = await api('GET', `/api/messages/${id}`);
      return states.includes(String(m.body['state'])) ? m.body : undefined;
    }, 20_000);

  it('131047 (window closed) fails at once with the reason, not retried', async () => {
    const { c, id } = await failing(131047);
    expect(await settled(id, ['failed'])).toMatchObject({ error: { code: 131047 }, reason: expect.stringMatching(/send a template/) });
    expect(sendsTo(c.waId!)).toHaveLength(1);
  });

  it('131050 (stopped marketing) fails and makes the consent opted out', async () => {
    const { contactId, id } = await failing(131050);
    await settled(id, ['failed']);
    const contact = await api('GET', `/api/contacts/${contactId}`);
    expect(contact.body['consent']).toMatchObject({ marketing: { state: 'opted_out', source: 'whatsapp_preferences' } });
  });

  it('131049 (marketing cap) defers by 24 h and holds the customer\'s marketing', async () => {
    const { contactId, id } = await failing(131049);
    const row = await settled(id, ['deferred']);
    expect(Number(row['notBefore'])).toBeGreaterThan(Date.now() + 23 * 3_600_000);
    const contact = await api('GET', `/api/contacts/${contactId}`);
    expect(contact.body['counters']).toHaveProperty('marketingPausedUntil');
  });

  it('130429 (throughput) is retried with backoff and then sent', async () => {
    const { c, id } = await failing(130429, { times: 1 });
    expect(await settled(id, ['sent', 'delivered', 'read'])).toMatchObject({ attempts: 2 });
    expect(sendsTo(c.waId!)).toHaveLength(2);
  }, 30_000);

  it('131042 (payment) stops the number and defers the message', async () => {
    const { id } = await failing(131042);
    expect(await settled(id, ['deferred'])).toMatchObject({ reason: expect.stringMatching(/^131042/) });
    const state = await stack.runtime.store.limits.numberState(DEFAULT_BUSINESS.phoneNumberId);
    expect(state.pausedUntil).toBeGreaterThan(Date.now());
    // Others wait too (deferred, not failed) until the stop ends; the number is started again here for the next tests.
    await stack.runtime.store.table.update({ pk: `NUMBER#${DEFAULT_BUSINESS.phoneNumberId}`, sk: 'STATE' }, { update: 'REMOVE pausedUntil, pauseReason' });
    await new Promise((resolve) => setTimeout(resolve, 5_100)); // the send function reads a number's state every 5 s
  }, 20_000);

  it('131026 reported in a failed status webhook fails the message; three of them suppress the recipient', async () => {
    const c = customer();
    await inbound(c, 'hello');
    const contactId = await contactIdOf(c);
    stack.graph!.setFault(c.waId!, { code: 131026, async: true, times: 3 });
    for (let i = 0; i < 3; i++) {
      const answer = await send({ to: { contactId }, category: 'service', text: `try ${i}` });
      await settled(String(answer.body['id']), ['failed']);
      await new Promise((resolve) => setTimeout(resolve, 6_100)); // Meta's pacing to one customer
    }
    const next = await send({ to: { contactId }, category: 'service', text: 'one more' });
    expect(next.body).toMatchObject({ state: 'denied', reason: expect.stringMatching(/^suppressed/) });
  }, 60_000);
});

describe('consent and takeover', () => {
  const promotion = { category: 'marketing', template: { name: 'spring_sale', language: 'en', parameters: { first_name: 'Ann', discount: '20%', end_date: 'Sunday' } } };

  it('PUT consent records the business\'s word; a bad body is 400 naming the field', async () => {
    const c = customer();
    await inbound(c, 'hello');
    const contactId = await contactIdOf(c);
    expect((await api('PUT', `/api/contacts/${contactId}/consent`, { marketing: 'yes', source: 'web form' })).body['error']).toMatch(/^marketing:/);
    expect((await api('PUT', `/api/contacts/${contactId}/consent`, { marketing: true })).body['error']).toMatch(/^source:/);
    expect((await api('PUT', '/api/contacts/ct_nobody/consent', { marketing: true, source: 'web form' })).status).toBe(404);
    const put = await api('PUT', `/api/contacts/${contactId}/consent`, { marketing: true, source: 'web form' });
    expect(put.body['consent']).toMatchObject({ marketing: { state: 'opted_in', source: 'business', detail: 'web form' } });
  });

  it("the customer's own \"stop promotions\" in WhatsApp (user_preferences) opts them out, and a promotion is refused", async () => {
    const c = customer();
    await inbound(c, 'hello');
    const contactId = await contactIdOf(c);
    await deliver(
      envelope(DEFAULT_BUSINESS, { contacts: [{ wa_id: c.waId, user_id: c.bsuid, profile: { name: c.name } }], user_preferences: [{ wa_id: c.waId, user_id: c.bsuid, detail: 'User requested to stop marketing messages', category: 'marketing_messages', value: 'stop', timestamp: String(Math.floor(Date.now() / 1000)) }] }, 'user_preferences'),
    );
    const contact = await api('GET', `/api/contacts/${contactId}`);
    expect(contact.body['consent']).toMatchObject({ marketing: { state: 'opted_out', source: 'whatsapp_preferences' } });
    expect((await send({ to: { contactId }, ...promotion })).body).toMatchObject({ state: 'denied', reason: expect.stringMatching(/^CP-7/) });
  });

  it("a tap on a marketing template's opt-out quick reply opts out whatever its words", async () => {
    const c = customer();
    await inbound(c, 'hello');
    const contactId = await contactIdOf(c);
    await api('PUT', `/api/contacts/${contactId}/consent`, { marketing: true, source: 'store sign-up' });
    const sent = await send({ to: { contactId }, ...promotion });
    expect(sent.body['state']).toBe('queued');
    const wamid = await until(async () => (await api('GET', `/api/messages/${String(sent.body['id'])}`)).body['wamid'] as string | undefined);
    await until(async () => stack.runtime.store.messages.get(wamid));
    await deliver(inboundMessage(c, { type: 'button', button: { text: 'No more offers', payload: 'no-more' }, context: { from: DEFAULT_BUSINESS.displayPhone, id: wamid } }));
    const contact = await api('GET', `/api/contacts/${contactId}`);
    expect(contact.body['consent']).toMatchObject({ marketing: { state: 'opted_out', source: 'quick_reply' } });
  });

  it("an agent's message pauses automation to that customer for 12 h; the agent's next message goes (AU-6)", async () => {
    const c = customer();
    await inbound(c, 'I want to talk to a person');
    const contactId = await contactIdOf(c);
    expect((await send({ to: { contactId }, category: 'service', text: 'Hi, this is Mei from the shop.', origin: 'agent', agentId: 'ag-mei' })).body['state']).toBe('queued');
    const automated = await send({ to: { contactId }, category: 'service', text: 'Rate our service!', origin: 'automation' });
    expect(automated.body).toMatchObject({ state: 'denied', reason: expect.stringMatching(/^AU-6/) });
    const contact = await api('GET', `/api/contacts/${contactId}`);
    expect(contact.body['counters']).toHaveProperty('automationPausedUntil');
    // Meta's pacing to one customer defers the agent's second message by a few seconds, it does not refuse it.
    const next = await send({ to: { contactId }, category: 'service', text: 'Let me check for you.', origin: 'agent', agentId: 'ag-mei' });
    expect(next.body).toMatchObject({ state: 'deferred', notBefore: expect.any(Number) });
    await until(async () => (await api('GET', `/api/messages/${String(next.body['id'])}`)).body['state'] === 'read', 15_000);
  });
});
