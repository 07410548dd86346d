/**
 * The automations against the local stack (dynalite, fauxqs, the local CRM, the Graph API and
 * courier stand-ins): a customer's message in through the signed webhook, the rule's message out
 * through the send path. Where a rule depends on time (AU-6's 12 h, a timer's window) a second
 * automation app with a test clock decides, against the same table.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAutomationApp } from '#functions/automation/app';
import { automationDeps } from '#functions/automation/wiring';
import { startLocalStack, type LocalStack } from '#local/stack';
import { deliver, inboundMessage, newWamid, textMessage, type Customer } from '#local/webhooks';
import type { AutomationEvent, TimerFired } from '#shared/domain/automation/decide';
import { messageReceived } from '#shared/ingest/pipeline';
import { analyseMessage } from '#shared/domain/analysis';
import { TABLE } from '#shared/resources';
import { keys } from '#shared/store/keys';
import type { OutboundRow } from '#shared/store/outbox';
import { until } from '../helpers/until.ts';

const HOUR = 3_600_000;
const APP_SECRET = 'local-app-secret';
const TOKEN = 'local-api-token';
let stack: LocalStack;
let seq = 0;

beforeAll(async () => {
  stack = await startLocalStack({ dataDir: null, env: { PORT: '0' }, crmSearchLagMs: 0, logger: { info: () => undefined, warn: (...a: unknown[]) => process.env['AUTO_LOG'] && console.warn(...a), error: (...a: unknown[]) => process.env['AUTO_LOG'] && console.error(...a) } });
}, 60_000);
afterAll(async () => stack?.stop());

const newCustomer = (name = 'Amy Chan'): Customer => {
  seq++;
  return { waId: `8529${String(Date.now()).slice(-4)}${String(seq).padStart(3, '0')}`, bsuid: `HK.auto${Date.now()}${seq}`, name };
};
const api = (path: string, init: RequestInit = {}) => fetch(`${stack.url}${path}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...init.headers } });

async function say(customer: Customer, text: string, at?: number): Promise<string> {
  const wamid = newWamid();
  const response = await deliver(stack.webhookUrl, textMessage(customer, text, { wamid, ...(at !== undefined && { at }) }), APP_SECRET);
  expect(response.status).toBe(200);
  return wamid;
}
async function contactIdOf(customer: Customer): Promise<string> {
  const found = (await (await api(`/api/contacts?phone=%2B${customer.waId}`)).json()) as { contacts: { contactId: string }[] };
  return found.contacts[0]!.contactId;
}
async function outbound(contactId: string): Promise<OutboundRow[]> {
  const rows = await stack.runtime.store.table.queryAll<OutboundRow>({
    IndexName: TABLE.indexes.byContact.name,
    KeyConditionExpression: 'gsi1pk = :pk',
    ExpressionAttributeValues: { ':pk': keys.historyPartition(contactId) },
  });
  // Our own sends are the outbox rows (with their request hash); the customer's messages are not.
  return rows.filter((r) => r.requestHash !== undefined).sort((a, b) => a.createdAt - b.createdAt);
}
const byRule = async (contactId: string, rule: string) => (await outbound(contactId)).filter((r) => r.rule === rule);

/** A customer's message stored as the webhook would, but announced to nobody: the test decides when it is handled. */
async function quietMessage(contactId: string, text: string, sentAt: number): Promise<string> {
  const wamid = newWamid();
  await stack.runtime.store.messages.put({ wamid, contactId, direction: 'inbound', phoneNumberId: '106540352242922', wabaId: '102290129340398', type: 'text', knownType: true, summary: text, text, sentAt, receivedAt: sentAt, analysis: analyseMessage(text) });
  await stack.runtime.store.contacts.applyInbound(contactId, [{ wamid, sentAt, receivedAt: sentAt, phoneNumberId: '106540352242922', analysis: analyseMessage(text) }], { leadSource: 'whatsapp' }, { known: true, now: sentAt });
  return wamid;
}

/** An automation app on the stack's table with a test clock (and a scheduler that keeps the timers). */
function appAt(now: () => number, timers: { name: string; at: number; payload: object }[] = []) {
  return createAutomationApp(
    automationDeps({
      runtime: stack.runtime,
      sendJobs: stack.runtime.sendQueue!,
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      metrics: { add: () => undefined },
      scheduler: { schedule: async (name, at, payload) => (timers.push({ name, at, payload }), 'scheduled') },
      now,
    }),
  );
}

describe('automations through the local stack', () => {
  it('"how much is shipping?" gets the quick reply within 2 s, recorded with its rule', async () => {
    const customer = newCustomer();
    const started = Date.now();
    const wamid = await say(customer, 'how much is shipping?');
    const contactId = await contactIdOf(customer);
    const [reply] = await until(async () => {
      const rows = await byRule(contactId, 'quick-reply');
      return rows[0]?.wamid ? rows : undefined;
    }, 5_000, { what: 'the quick reply sent' });
    expect(reply!.sendingAt! - started).toBeLessThan(2_000);
    expect(reply).toMatchObject({ origin: 'automation', rule: 'quick-reply', replyTo: wamid, content: { type: 'text' } });
    const view = (await (await api(`/api/messages/${reply!.id}`)).json()) as Record<string, unknown>;
    expect(view).toMatchObject({ origin: 'automation', rule: 'quick-reply' });
    const conversation = (await (await api(`/api/contacts/${contactId}/messages`)).json()) as { messages: { rule?: string }[] };
    expect(conversation.messages.map((m) => m.rule)).toContain('quick-reply');
  });

  it('a reply is in the language of the message that triggered it', async () => {
    const customer = newCustomer('陳大文');
    await say(customer, '運費幾錢？');
    const contactId = await contactIdOf(customer);
    const [reply] = await until(async () => (await byRule(contactId, 'quick-reply')).at(0) && byRule(contactId, 'quick-reply'), 5_000);
    expect(reply!.content.type === 'text' && reply!.content.text).toContain('免運費');
  });

  it('"where is my parcel?" gets the last order\'s status from the CRM and the courier: state, ETA window and link', async () => {
    const customer = newCustomer();
    await say(customer, 'hi');
    const contactId = await contactIdOf(customer);
    await until(async () => (await stack.runtime.store.contacts.get(contactId))?.crmIds?.hubspot?.id, 10_000, { what: 'the contact in the CRM' });
    stack.localCrm!.addOrder({ whatsappPhone: `+${customer.waId}`, name: '#1001', placedAt: Date.now() - 86_400_000, trackingNumber: 'SF1234567890', carrier: 'sf-express', skus: ['APL-APP2'] });
    await say(customer, 'where is my parcel?');
    const [reply] = await until(async () => (await byRule(contactId, 'order-status')).at(0) && byRule(contactId, 'order-status'), 10_000, { what: 'the order status reply' });
    const text = reply!.content.type === 'text' ? reply!.content.text : '';
    expect(text).toContain('SF1234567890');
    expect(text).toMatch(/out for delivery/u);
    // The stand-in's window starts an hour after it does, so it may run past midnight.
    expect(text).toMatch(/between \d\d:\d\d( on [^.]+)? and \d\d:\d\d/u);
    // The courier's tracking link goes as a tracked link (AU-8) that leads to it.
    const token = /\/l\/([A-Za-z0-9_-]{22})/u.exec(text)?.[1];
    expect((await stack.runtime.store.links.get(token!))?.url).toMatch(/^https:\/\//u);
  });

  it('4 product questions in 7 days → one coupon, and a redelivered segment change creates no second row', async () => {
    const customer = newCustomer();
    for (const q of ['is the iPhone 15 Pro in stock?', 'what colours does it come in?', 'does it have a warranty?', 'what is the battery life?']) await say(customer, q);
    const contactId = await contactIdOf(customer);
    const [coupon] = await until(async () => (await byRule(contactId, 'offer-high-intent')).at(0) && byRule(contactId, 'offer-high-intent'), 15_000, { what: 'the high-intent coupon' });
    // The coupon is the customer's once its message is queued: recorded just after the row.
    const contact = await until(async () => {
      const c = await stack.runtime.store.contacts.get(contactId);
      return c?.lastCoupon ? c : undefined;
    }, 5_000, { what: 'the coupon on the contact' });
    expect(contact.segment).toBe('high_intent');
    expect(contact.lastCoupon?.code).toMatch(/^HI10-/u);
    expect(coupon!.content.type === 'text' && coupon!.content.text).toContain(contact.lastCoupon!.code);
    // The same event again (EventBridge delivers at least once), straight to the function:
    const change = stack.events.events().find((e) => e.type === 'SegmentChanged' && (e as { contactId?: string }).contactId === contactId && (e as { to?: string }).to === 'high_intent');
    await stack.automation.app.handleEvent(change as AutomationEvent);
    await stack.automation.app.handleEvent(change as AutomationEvent);
    expect(await byRule(contactId, 'offer-high-intent')).toHaveLength(1);
  });

  it('"talk to a person" gets an agent, one hand-over message, and silences automation for 12 h (11 h 59 min denied, 12 h 1 min allowed)', async () => {
    const customer = newCustomer();
    const asked = Date.now();
    await say(customer, 'I want to talk to a person', asked);
    const contactId = await contactIdOf(customer);
    const [handover] = await until(async () => (await byRule(contactId, 'handover')).at(0) && byRule(contactId, 'handover'), 5_000, { what: 'the hand-over message' });
    const contact = await stack.runtime.store.contacts.get(contactId);
    expect(contact?.agentId).toMatch(/^ag-/u);
    expect(handover!.content.type === 'text' && handover!.content.text).toMatch(/handing you over to \w+/u);
    const at = Math.floor(asked / 1000) * 1000; // Meta's time of the message (whole seconds)

    // Messages the test's clock decides on (stored without the webhook, so the live stack does not see them).
    const later = await quietMessage(contactId, 'how much is shipping?', at + 12 * HOUR - 60_000);
    await appAt(() => at + 12 * HOUR - 60_000).handleEvent(messageReceived(later, contactId, at + 12 * HOUR - 60_000));
    const [denied] = await byRule(contactId, 'quick-reply');
    expect(denied).toMatchObject({ state: 'denied', policyRule: 'AU-6' });

    const again = await quietMessage(contactId, 'what is your return policy?', at + 12 * HOUR + 60_000);
    await appAt(() => at + 12 * HOUR + 60_000).handleEvent(messageReceived(again, contactId, at + 12 * HOUR + 60_000));
    const replies = await byRule(contactId, 'quick-reply');
    expect(replies.map((r) => [r.state, r.reason])).toEqual([['denied', expect.stringContaining('AU-6')], ['queued', undefined]]);
    // The hand-over was said once, whatever the redeliveries.
    await stack.automation.app.handleEvent(messageReceived(handover!.replyTo!, contactId, at));
    expect(await byRule(contactId, 'handover')).toHaveLength(1);
  });

  it('a repeated message event never sends twice, nor makes a second row', async () => {
    const customer = newCustomer();
    const wamid = await say(customer, 'what is your return policy?');
    const contactId = await contactIdOf(customer);
    await until(async () => (await byRule(contactId, 'quick-reply')).length === 1, 5_000);
    const event = messageReceived(wamid, contactId, Date.now());
    await Promise.all([stack.automation.app.handleEvent(event), stack.automation.app.handleEvent(event)]);
    await deliver(stack.webhookUrl, textMessage(customer, 'what is your return policy?', { wamid }), APP_SECRET); // Meta redelivers
    await stack.automation.idle();
    expect(await byRule(contactId, 'quick-reply')).toHaveLength(1);
  });

  it('hand-over, assign, resolve → the 1–5 prompt (resolving ends the pause); the tapped rating lands on the contact and its conversation', async () => {
    const customer = newCustomer();
    await say(customer, 'hello, can I talk to a person?');
    const contactId = await contactIdOf(customer);
    await until(async () => (await byRule(contactId, 'handover')).length === 1 && ((await stack.runtime.store.contacts.get(contactId)) as { sendCounters?: unknown } | undefined)?.sendCounters, 5_000, { what: 'the hand-over' });
    await stack.automation.idle();
    const assigned = await api(`/api/conversations/${contactId}/assign`, { method: 'POST', body: JSON.stringify({ agentId: 'ag-olga' }) });
    expect(assigned.status).toBe(200);
    expect((await api(`/api/conversations/${contactId}/assign`, { method: 'POST', body: JSON.stringify({ agentId: 'nobody' }) })).status).toBe(400);
    const resolved = (await (await api(`/api/conversations/${contactId}/resolve`, { method: 'POST' })).json()) as { conversationId: string };
    const [prompt] = await until(async () => (await byRule(contactId, 'satisfaction')).at(0) && byRule(contactId, 'satisfaction'), 5_000, { what: 'the rating prompt' });
    expect(prompt!.content.type).toBe('list');
    expect(prompt!.state).not.toBe('denied');
    const rowId = `rating:${resolved.conversationId}:5`;
    const tap = inboundMessage(customer, { type: 'interactive', interactive: { type: 'list_reply', list_reply: { id: rowId, title: '5 Excellent' } }, context: { id: prompt!.wamid } });
    expect((await deliver(stack.webhookUrl, tap, APP_SECRET)).status).toBe(200);
    const rated = await until(async () => (await stack.runtime.store.contacts.get(contactId))?.satisfaction, 5_000, { what: 'the rating stored' });
    expect(rated).toMatchObject({ score: 5, conversationId: resolved.conversationId });
    expect((await stack.runtime.store.contacts.get(contactId))?.conversation?.rating).toBe(5);
  });

  it('a courier status change sends the update template once per parcel per 6 h (CP-5)', async () => {
    const customer = newCustomer();
    await say(customer, 'hi');
    const contactId = await contactIdOf(customer);
    // Opted in, so CP-2 (one template a day without opt-in) is not what stops the second update.
    expect((await api(`/api/contacts/${contactId}/consent`, { method: 'PUT', body: JSON.stringify({ marketing: true, source: 'checkout' }) })).status).toBe(200);
    const order = await api('/api/orders', { method: 'POST', body: JSON.stringify({ customer: { contactId }, orderId: `o-${seq}`, placedAt: Date.now(), trackingNumber: '1Z999AA10123456784', skus: ['APL-APP2'] }) });
    expect(order.status).toBe(200);
    await stack.courier!.advance('1Z999AA10123456784', 'OutForDelivery');
    const [update] = await until(async () => (await byRule(contactId, 'logistics-update')).at(0) && byRule(contactId, 'logistics-update'), 5_000, { what: 'the logistics update' });
    expect(update).toMatchObject({ category: 'utility', eventKey: 'parcel:1Z999AA10123456784', content: { type: 'template', name: 'logistics_update' } });
    await stack.courier!.advance('1Z999AA10123456784', 'Delivered');
    const rows = await until(async () => ((await byRule(contactId, 'logistics-update')).length === 2 ? byRule(contactId, 'logistics-update') : undefined), 5_000);
    expect(rows[1]).toMatchObject({ state: 'denied', policyRule: 'CP-5' });
  });

  it('a wrong courier signature is refused with 401; an order for an unknown customer is a 404 naming it', async () => {
    const bad = await fetch(`${stack.url}/courier-events`, { method: 'POST', body: '{}', headers: { 'aftership-hmac-sha256': 'AAAA' } });
    expect(bad.status).toBe(401);
    const unknown = await api('/api/orders', { method: 'POST', body: JSON.stringify({ customer: { phone: '+85290000000' }, orderId: 'x', placedAt: Date.now() }) });
    expect(unknown.status).toBe(404);
    const invalid = await api('/api/orders', { method: 'POST', body: JSON.stringify({ customer: { phone: '+85290000000' }, orderId: 'x' }) });
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { error: string }).error).toContain('placedAt');
  });

  it('a store question and no visit within 7 days → the store coupon when the timer fires; a visit in time cancels it', async () => {
    const [a, b] = [newCustomer(), newCustomer()];
    const timers: { name: string; at: number; payload: object }[] = [];
    const asked = Date.now() - 3 * 86_400_000;
    for (const c of [a, b]) await say(c, 'what are your opening hours at the Central store?', asked);
    const [ida, idb] = [await contactIdOf(a), await contactIdOf(b)];
    const app = appAt(() => asked, timers);
    for (const [id, c] of [[ida, a], [idb, b]] as const) {
      const row = (await stack.runtime.store.messages.history(id)).find((m) => m.direction === 'inbound')!;
      await app.handleEvent(messageReceived(row.wamid, id, row.sentAt));
      void c;
    }
    const visit = await api(`/api/contacts/${idb}/store-visits`, { method: 'POST', body: JSON.stringify({ at: asked + 86_400_000, storeId: 'hk-central' }) });
    expect(visit.status).toBe(200);
    const storeTimers = timers.filter((t) => (t.payload as TimerFired).rule === 'offer-store-visit');
    expect(storeTimers).toHaveLength(2);
    for (const t of storeTimers) await appAt(() => t.at).handleEvent(t.payload as TimerFired);
    expect(await byRule(ida, 'offer-store-visit')).toHaveLength(1);
    expect(await byRule(idb, 'offer-store-visit')).toHaveLength(0);
  });

  it('a shared location gets its address with the postal code completed, and the nearest store in the answer', async () => {
    const customer = newCustomer();
    const located = inboundMessage(customer, { type: 'location', location: { latitude: 25.0339, longitude: 121.5645, name: 'Taipei 101', address: 'No. 7, Section 5, Xinyi Road, Xinyi District, Taipei' } });
    expect((await deliver(stack.webhookUrl, located, APP_SECRET)).status).toBe(200);
    const contactId = await contactIdOf(customer);
    const address = await until(async () => (await stack.runtime.store.contacts.get(contactId))?.address, 5_000, { what: 'the address' });
    expect(address.postalCode).toMatch(/^110/u);
    expect(address.postalCodeCompleted).toBe(true);
    const [reply] = await until(async () => (await byRule(contactId, 'quick-reply')).at(0) && byRule(contactId, 'quick-reply'), 5_000);
    expect(reply!.content.type === 'text' && reply!.content.text).toMatch(/nearest store to you is .*Xinyi/iu);
  });

  it('the weekly follow-up makes one CRM task for a potential customer, however often it runs', async () => {
    const customer = newCustomer();
    await say(customer, 'hello');
    const contactId = await contactIdOf(customer);
    const crmId = await until(async () => {
      const c = await stack.runtime.store.contacts.get(contactId);
      return c?.segment === 'potential' ? c.crmIds?.hubspot?.id : undefined;
    }, 10_000, { what: 'a potential customer in the CRM' });
    const context = { getRemainingTimeInMillis: () => 60_000 };
    await stack.automation.app.task('follow-up', context);
    await stack.automation.app.task('follow-up', context); // the schedule firing twice
    const tasksOf = async () => {
      const state = stack.localCrm!.state() as { tasks: { properties: Record<string, string>; contactIds: string[] }[] };
      return state.tasks.filter((t) => t.contactIds.includes(crmId));
    };
    const [task] = await until(async () => ((await tasksOf()).length ? tasksOf() : undefined), 10_000, { what: 'the follow-up task in the CRM' });
    expect(task!.properties['hs_task_subject']).toContain('WhatsApp follow-up');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await tasksOf()).toHaveLength(1);
  });

  it('GET /api/agents lists the roster', async () => {
    const body = (await (await api('/api/agents')).json()) as { agents: { id: string; role: string }[] };
    expect(body.agents.map((a) => a.id)).toContain('ag-mei');
    expect(body.agents.find((a) => a.id === 'ag-grace')?.role).toBe('supervisor');
  });
});

describe('automations under redelivery and concurrency (review findings)', () => {
  it('concurrent first effects on a contact all land: four store visits and four orders at once', async () => {
    const customer = newCustomer();
    await say(customer, 'hello');
    const contactId = await contactIdOf(customer);
    const base = Date.now() - 60_000;
    const visits = await Promise.all([0, 1, 2, 3].map((i) => api(`/api/contacts/${contactId}/store-visits`, { method: 'POST', body: JSON.stringify({ at: base + i }) })));
    const orders = await Promise.all([0, 1, 2, 3].map((i) => api('/api/orders', { method: 'POST', body: JSON.stringify({ customer: { contactId }, orderId: `c-${seq}-${i}`, placedAt: base + i, skus: ['CET-GSC500'] }) })));
    expect([...visits, ...orders].map((r) => r.status)).toEqual(Array(8).fill(200));
    const contact = await stack.runtime.store.contacts.get(contactId);
    expect([...(contact?.storeVisitTimes ?? [])].sort()).toEqual([0, 1, 2, 3].map((i) => base + i));
    expect(contact?.orderTimes).toHaveLength(4);
    expect(contact?.recentOrders?.map((o) => o.orderId).sort()).toEqual([0, 1, 2, 3].map((i) => `c-${seq}-${i}`));
    expect(contact?.lastOrder?.orderId).toBe(`c-${seq}-3`);
  });

  it('a coupon inside the window is still a promotion: a customer who wrote STOP gets none (CP-7) and none is recorded', async () => {
    const customer = newCustomer();
    await say(customer, 'STOP');
    const contactId = await contactIdOf(customer);
    await until(async () => (await stack.runtime.store.contacts.get(contactId))?.consent?.marketing?.state === 'opted_out', 5_000);
    await stack.automation.app.handleEvent({ type: 'SegmentChanged', id: `segment:${contactId}:t`, contactId, from: 'active', to: 'high_intent', at: Date.now() } as AutomationEvent);
    const [offer] = await byRule(contactId, 'offer-high-intent');
    expect(offer).toMatchObject({ state: 'denied', policyRule: 'CP-7' });
    expect((await stack.runtime.store.contacts.get(contactId))?.lastCoupon).toBeUndefined();
  });

  it('two deliveries of one hand-over at once: one message, naming the agent the conversation was given to', async () => {
    const customer = newCustomer();
    const wamid = await quietMessageFor(customer, 'I want to talk to a real person');
    const contactId = await contactIdOf(customer);
    const event = messageReceived(wamid, contactId, Date.now());
    await Promise.all([stack.automation.app.handleEvent(event), stack.automation.app.handleEvent(event), stack.automation.app.handleEvent(event)]);
    const rows = await byRule(contactId, 'handover');
    expect(rows).toHaveLength(1);
    const contact = await stack.runtime.store.contacts.get(contactId);
    const agent = (await (await api('/api/agents')).json() as { agents: { id: string; name: string }[] }).agents.find((a) => a.id === contact?.agentId);
    expect(rows[0]!.content.type === 'text' && rows[0]!.content.text).toContain(agent!.name);
  });

  it('a hand-over delivered again after the conversation was resolved does not pause automation again', async () => {
    const customer = newCustomer();
    const wamid = await say(customer, 'can I speak to a human?');
    const contactId = await contactIdOf(customer);
    await until(async () => (await byRule(contactId, 'handover')).length === 1, 5_000);
    await stack.automation.idle();
    expect((await api(`/api/conversations/${contactId}/resolve`, { method: 'POST' })).status).toBe(200);
    await stack.automation.app.handleEvent(messageReceived(wamid, contactId, Date.now()));
    const view = (await (await api(`/api/contacts/${contactId}`)).json()) as { counters: { automationPausedUntil?: number } };
    expect(view.counters.automationPausedUntil).toBeUndefined();
  });

  it('a rating is stored on the conversation it rates; tapping it starts no new conversation', async () => {
    const customer = newCustomer();
    await say(customer, 'hello there, good morning');
    const contactId = await contactIdOf(customer);
    await until(async () => (await stack.runtime.store.contacts.get(contactId))?.conversation, 5_000);
    await stack.automation.idle();
    const resolved = (await (await api(`/api/conversations/${contactId}/resolve`, { method: 'POST' })).json()) as { conversationId: string };
    const [prompt] = await until(async () => {
      const rows = await byRule(contactId, 'satisfaction');
      return rows[0]?.wamid ? rows : undefined;
    }, 10_000, { what: 'the rating prompt sent' });
    const started = stack.metrics.snapshot()['ConversationsStarted'];
    const tap = inboundMessage(customer, { type: 'interactive', interactive: { type: 'list_reply', list_reply: { id: `rating:${resolved.conversationId}:3`, title: '3 Good' } }, context: { id: prompt!.wamid } });
    await deliver(stack.webhookUrl, tap, APP_SECRET);
    await until(async () => (await stack.runtime.store.contacts.get(contactId))?.satisfaction, 5_000);
    await stack.automation.idle();
    const contact = await stack.runtime.store.contacts.get(contactId);
    expect(contact?.conversation).toMatchObject({ id: resolved.conversationId, rating: 3 });
    expect(stack.metrics.snapshot()['ConversationsStarted']).toEqual(started);
  });

  it('a Chinese message that does not show its script keeps the customer\'s traditional Chinese', async () => {
    const customer = newCustomer('陳小姐');
    await say(customer, '運費幾錢？');
    const contactId = await contactIdOf(customer);
    await until(async () => (await stack.runtime.store.contacts.get(contactId))?.language === 'zh-Hant', 5_000);
    await say(customer, '我要真人');
    const [handover] = await until(async () => (await byRule(contactId, 'handover')).at(0) && byRule(contactId, 'handover'), 5_000);
    expect(handover!.content.type === 'text' && handover!.content.text).toMatch(/我會將你轉交/u);
    expect((await stack.runtime.store.contacts.get(contactId))?.language).toBe('zh-Hant');
  });

  it('an agent\'s response time runs from the first message nobody answered', async () => {
    const customer = newCustomer();
    const first = Date.now() - 30 * 60_000;
    await say(customer, 'hello?', first);
    await say(customer, 'anyone there?', first + 10 * 60_000);
    const contactId = await contactIdOf(customer);
    const answer = await api('/api/messages', { method: 'POST', headers: { 'idempotency-key': `rt-${seq}` }, body: JSON.stringify({ to: { contactId }, category: 'service', text: 'Sorry for the wait!', origin: 'agent', agentId: 'ag-mei' }) });
    const { id } = (await answer.json()) as { id: string };
    const row = (await stack.runtime.store.outbox.get(id)) as OutboundRow & { responseMs?: number };
    expect(row.responseMs).toBeGreaterThanOrEqual(30 * 60_000 - 1_000);
    expect(row.responseMs).toBeLessThan(31 * 60_000);
  });

  it('bad input gets the right status, naming the field', async () => {
    const contactId = await contactIdOf(newCustomerSaid ?? (newCustomerSaid = await (async () => { const c = newCustomer(); await say(c, 'hi'); return c; })()));
    const notJson = await api('/api/messages', { method: 'POST', headers: { 'idempotency-key': `bad-${seq}` }, body: '{"to":' });
    expect(notJson.status).toBe(400);
    const visitNotJson = await api(`/api/contacts/${contactId}/store-visits`, { method: 'POST', body: '{' });
    expect(visitNotJson.status).toBe(400);
    const seconds = await api('/api/orders', { method: 'POST', body: JSON.stringify({ customer: { contactId }, orderId: 'x', placedAt: 1_796_000_000 }) });
    expect(seconds.status).toBe(400);
    expect(((await seconds.json()) as { error: string }).error).toMatch(/placedAt/u);
    const future = await api(`/api/contacts/${contactId}/store-visits`, { method: 'POST', body: JSON.stringify({ at: Date.now() + 86_400_000 }) });
    expect(future.status).toBe(400);
    const unknownStore = await api(`/api/contacts/${contactId}/store-visits`, { method: 'POST', body: JSON.stringify({ at: Date.now(), storeId: 'nowhere' }) });
    expect(((await unknownStore.json()) as { error: string }).error).toMatch(/storeId/u);
    const ghost = await api(`/api/conversations/${contactId}/resolve`, { method: 'POST', body: JSON.stringify({ agentId: 'ghost' }) });
    expect(ghost.status).toBe(400);
  });
});

let newCustomerSaid: Customer | undefined;

/** A customer's first message stored and counted as the webhook would, but announced to nobody. */
async function quietMessageFor(customer: Customer, text: string): Promise<string> {
  await say(customer, 'hi');
  const contactId = await contactIdOf(customer);
  await stack.automation.idle();
  return quietMessage(contactId, text, Date.now());
}
