import { describe, expect, it } from 'vitest';
import automationJson from '../../config/automation.json' with { type: 'json' };
import agentsJson from '../../config/agents.json' with { type: 'json' };
import { analyseMessage } from '#shared/domain/analysis';
import { eligibleAgents, roundRobin, stickyAgent } from '#shared/domain/automation/agents';
import { shippedAutomation } from '#shared/domain/automation/bundled';
import { buildAutomation, type Language } from '#shared/domain/automation/config';
import { couponCode, decideAutomation, followUpTask, quickReplyTopic, type Action, type AutomationEvent, type HistoryItem, type InboundView, type TimerFired } from '#shared/domain/automation/decide';
import { detectLanguage } from '#shared/domain/automation/language';
import { fill, renderContent, whenAnswered } from '#shared/domain/automation/render';
import { isoWeek, nextOpening, relativeAgo, withinHours } from '#shared/domain/automation/time';
import { shippedIntelligence } from '#shared/domain/intelligence/bundled';
import type { Contact } from '#shared/domain/records';

const automation = shippedAutomation();
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.parse('2026-12-02T02:00:00Z'); // Wednesday 10:00 in Hong Kong
const SETTLE = 5_000;

const contact = (over: Partial<Contact> = {}): Contact => ({ contactId: 'ct_1', phone: '+85291234567', customerLevel: 'new customer', leadSource: 'whatsapp', createdAt: T0 - 30 * DAY, updatedAt: T0, lastInboundAt: T0, language: 'en', ...over });

function message(text: string, at = T0, over: Partial<InboundView> = {}): InboundView {
  return { wamid: `wamid.${at}.${text.length}`, at, type: 'text', text, analysis: analyseMessage(text), language: detectLanguage(text, automation.scripts) ?? 'en', ...over };
}
const received = (m: InboundView): AutomationEvent => ({ type: 'MessageReceived', id: `message:${m.wamid}`, contactId: 'ct_1', wamid: m.wamid, at: m.at });
const history = (items: { at: number; text?: string }[]): HistoryItem[] => items.map((h, i) => ({ wamid: `wamid.h${i}`, sentAt: h.at, analysis: analyseMessage(h.text ?? 'hello') }));

function onMessage(m: InboundView, over: { contact?: Partial<Contact>; history?: HistoryItem[]; now?: number } = {}): Action[] {
  return decideAutomation(received(m), { automation, contact: contact(over.contact), now: over.now ?? m.at, message: m, history: over.history ?? [{ wamid: m.wamid, sentAt: m.at, analysis: m.analysis }] });
}
const rules = (actions: Action[]) => actions.map((a) => `${a.kind}:${a.rule}`);

describe('AU-1 quick replies, matched in every supported language and answered in it', () => {
  it.each([
    ['how much is shipping?', 'shipping_cost', 'en', 'Shipping is free'],
    ['運費幾錢呀？', 'shipping_cost', 'zh-Hant', '免運費'],
    ['运费多少？', 'shipping_cost', 'zh-Hans', '免运费'],
    ['Сколько стоит доставка?', 'shipping_cost', 'ru', 'Доставка бесплатна'],
    ['What is your return policy?', 'return_policy', 'en', 'return unused items'],
    ['可唔可以退貨？', 'return_policy', 'zh-Hant', '退貨'],
    ['退货政策是什么', 'return_policy', 'zh-Hans', '退货'],
    ['Какая политика возврата?', 'return_policy', 'ru', 'вернуть'],
  ])('"%s" → %s in %s', (text, topic, language, answer) => {
    const m = message(text);
    expect(m.language).toBe(language);
    expect(quickReplyTopic(automation, m)).toBe(topic);
    const [action] = onMessage(m);
    expect(action).toMatchObject({ kind: 'send', rule: 'quick-reply', key: `quick-reply:${m.wamid}`, category: 'service', replyTo: m.wamid, language });
    expect(action?.kind === 'send' && action.content.type === 'text' && action.content.text).toContain(answer);
  });

  it('a message about something else gets no quick reply', () => {
    expect(quickReplyTopic(automation, message('I love the colour of this one'))).toBeUndefined();
  });

  it('a shared location and "where is your shop" ask for the nearest store', () => {
    const located = onMessage(message('', T0, { type: 'location', text: undefined, analysis: undefined, location: { lat: 22.28, lon: 114.15 } }));
    expect(rules(located)).toEqual(['locate:quick-reply', 'nearest-store:quick-reply']);
    expect(rules(onMessage(message('where is your shop?')))).toContain('nearest-store:quick-reply');
  });
});

describe('reply precedence: at most one reply per message', () => {
  it('"talk to a person" hands over and pauses automation 12 h from the message', () => {
    const m = message('I want to talk to a person');
    const actions = onMessage(m);
    expect(rules(actions)).toEqual(['handover:handover']);
    expect(actions[0]).toMatchObject({ key: `handover:${m.wamid}`, pauseUntil: m.at + 12 * HOUR });
  });
  it('"where is my parcel?" asks for the order status', () => {
    const m = message('where is my parcel?');
    expect(onMessage(m)).toEqual([expect.objectContaining({ kind: 'order-status', key: `order-status:${m.wamid}` })]);
  });
  it('an opt-out gets nothing at all', () => {
    expect(onMessage(message('STOP'))).toEqual([]);
  });
});

describe('AU-4 offers', () => {
  const segment = (to: string, at = T0): AutomationEvent => ({ type: 'SegmentChanged', id: `segment:ct_1:x:${to}:${at}`, contactId: 'ct_1', from: 'active', to, at } as AutomationEvent);

  it('high intent → one 10 % coupon per customer per week, the same code for the same week', () => {
    const first = decideAutomation(segment('high_intent'), { automation, contact: contact(), now: T0 });
    const again = decideAutomation(segment('high_intent', T0 + 2 * DAY), { automation, contact: contact(), now: T0 + 2 * DAY });
    const nextWeek = decideAutomation(segment('high_intent', T0 + 7 * DAY), { automation, contact: contact(), now: T0 + 7 * DAY });
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ kind: 'send', rule: 'offer-high-intent', key: 'offer-high-intent:ct_1:2026-W49', category: 'marketing' });
    expect(first[0]?.kind === 'send' && first[0].coupon?.code).toMatch(/^HI10-[A-Z2-9]{8}$/u);
    expect(first[0]?.kind === 'send' && first[0].coupon?.value).toBe('10%');
    expect(again[0]?.key).toBe(first[0]?.key);
    expect(nextWeek[0]?.key).toBe('offer-high-intent:ct_1:2026-W50');
    expect(decideAutomation(segment('potential'), { automation, contact: contact(), now: T0 })).toEqual([]);
  });

  it('an offer is free-form inside the 24 h window and the approved template outside it (24 h ± 1 ms)', () => {
    const inside = decideAutomation(segment('high_intent'), { automation, contact: contact({ lastInboundAt: T0 - 24 * HOUR + 1 }), now: T0 });
    const outside = decideAutomation(segment('high_intent'), { automation, contact: contact({ lastInboundAt: T0 - 24 * HOUR }), now: T0 });
    expect(inside[0]?.kind === 'send' && inside[0].content.type).toBe('text');
    expect(outside[0]?.kind === 'send' && outside[0].content).toMatchObject({ type: 'template', name: 'coupon_offer' });
  });

  it('"too expensive" in two consecutive messages → the instalment plan; once is not enough', () => {
    const m = message('that is too expensive', T0);
    const twice = onMessage(m, { history: history([{ at: T0 - HOUR, text: 'hmm too expensive' }, { at: T0, text: 'that is too expensive' }]) });
    const between = onMessage(m, { history: history([{ at: T0 - 2 * HOUR, text: 'too expensive' }, { at: T0 - HOUR, text: 'do you have it in blue?' }, { at: T0 }]) });
    expect(rules(twice)).toContain('send:offer-instalments');
    expect(rules(between)).not.toContain('send:offer-instalments');
  });

  it('churn risk (RP-8): from 3 interactions a week to 1 with sentiment below 0.3 → the 15 % win-back', () => {
    const m = message('this is terrible, worst service ever', T0);
    expect(m.analysis!.sentiment).toBeLessThan(0.3);
    const weekBefore = [{ at: T0 - 8 * DAY }, { at: T0 - 9 * DAY }, { at: T0 - 10 * DAY }];
    const fell = onMessage(m, { history: history([...weekBefore, { at: T0 }]) });
    const onlyTwo = onMessage(m, { history: history([...weekBefore.slice(1), { at: T0 }]) });
    const stillTwoThisWeek = onMessage(m, { history: history([...weekBefore, { at: T0 - DAY }, { at: T0 }]) });
    expect(rules(fell)).toContain('send:offer-win-back');
    const winBack = fell.find((a) => a.rule === 'offer-win-back');
    expect(winBack?.kind === 'send' && winBack.coupon?.value).toBe('15%');
    expect(rules(onlyTwo)).not.toContain('send:offer-win-back');
    expect(rules(stillTwoThisWeek)).not.toContain('send:offer-win-back');
  });

  it('a store question schedules the 7-day check, 5 s after the window; a second question of the week gets its own check', () => {
    const m = message('what are your opening hours at the Central store?');
    const later = message('is the Causeway Bay store open on Sunday?', T0 + 2 * DAY);
    const timer = onMessage(m).find((a) => a.kind === 'schedule');
    expect(timer).toMatchObject({ rule: 'offer-store-visit', fireAt: m.at + 7 * DAY + SETTLE, key: `timer:offer-store-visit:ct_1:${m.wamid}` });
    expect(onMessage(later).find((a) => a.kind === 'schedule')?.key).toBe(`timer:offer-store-visit:ct_1:${later.wamid}`);
  });

  const storeTimer: TimerFired = { type: 'TimerFired', id: 'timer:offer-store-visit:ct_1:wamid.q', rule: 'offer-store-visit', key: 'offer-store-visit:ct_1:wamid.q', contactId: 'ct_1', windowStart: T0, windowEnd: T0 + 7 * DAY, data: {} };
  it.each([
    ['a visit 1 ms before the 7 days are over', T0 + 7 * DAY - 1, 0],
    ['a visit exactly at the end (not within 7 days)', T0 + 7 * DAY, 1],
    ['a visit 1 ms after', T0 + 7 * DAY + 1, 1],
    ['a visit before the question', T0 - 1, 1],
  ])('no visit within 7 days → the 15-dollar coupon: %s', (_, visit, coupons) => {
    const actions = decideAutomation(storeTimer, { automation, contact: contact({ storeVisitTimes: [visit], lastInboundAt: T0 }), now: T0 + 7 * DAY + SETTLE });
    expect(actions.filter((a) => a.rule === 'offer-store-visit')).toHaveLength(coupons);
    if (coupons) expect(actions[0]).toMatchObject({ kind: 'send', key: 'offer-store-visit:ct_1:2026-W49', content: { type: 'template', name: 'store_visit_offer' }, coupon: { value: '$15' } });
  });
});

describe('AU-5 follow-ups', () => {
  const sampleTimer: TimerFired = { type: 'TimerFired', id: 'timer:sample-link:ct_1:wamid.q', rule: 'sample-link', key: 'sample-link:ct_1:wamid.q', contactId: 'ct_1', windowStart: T0, windowEnd: T0 + 48 * HOUR, data: { sku: 'CET-GSC500' } };
  it('a product question schedules the sample link 48 h (+ the settle) later', () => {
    const m = message('is the Cetaphil cleanser suitable for sensitive skin?');
    expect(m.analysis!.intent).toBe('product_question');
    expect(onMessage(m).find((a) => a.kind === 'schedule')).toMatchObject({ rule: 'sample-link', fireAt: m.at + 48 * HOUR + SETTLE });
  });
  it.each([
    ['an order 1 ms before the 48 h are over', T0 + 48 * HOUR - 1, 0],
    ['an order 1 ms after', T0 + 48 * HOUR + 1, 1],
    ['no order', undefined, 1],
  ])('the sample link goes to those who did not buy within 48 h: %s', (_, order, sent) => {
    const actions = decideAutomation(sampleTimer, { automation, contact: contact({ ...(order !== undefined && { orderTimes: [order] }) }), now: T0 + 48 * HOUR + SETTLE });
    expect(actions).toHaveLength(sent);
    if (sent) expect(actions[0]).toMatchObject({ rule: 'sample-link', content: { type: 'template', name: 'sample_request' }, vars: { sample_link: 'https://shop.example.com/samples?sku=CET-GSC500' } });
  });
  it('a potential customer gets a weekly CRM task, keyed by the week; others none', () => {
    expect(followUpTask(automation, contact({ segment: 'potential' }), T0)).toMatchObject({ kind: 'task', key: 'follow-up:ct_1:2026-W49', dueAt: T0 + 2 * DAY });
    expect(followUpTask(automation, contact({ segment: 'active' }), T0)).toBeUndefined();
  });
});

describe('AU-3 replenishment and AU-2b logistics', () => {
  const order = { orderId: 'o-1', placedAt: T0, skus: ['CET-GSC500', 'APL-IP15'] };
  it('an order of a SKU with a usual interval schedules its reminder (30 days for the face wash); others none', () => {
    const actions = decideAutomation({ type: 'OrderUpdated', id: 'order:o-1', contactId: 'ct_1', order, at: T0 }, { automation, contact: contact(), now: T0 });
    expect(actions).toEqual([expect.objectContaining({ kind: 'schedule', rule: 'replenishment', key: 'timer:replenishment:o-1:CET-GSC500', fireAt: T0 + 30 * DAY + SETTLE })]);
  });
  const fired: TimerFired = { type: 'TimerFired', id: 'timer:replenishment:o-1:CET-GSC500', rule: 'replenishment', key: 'replenishment:o-1:CET-GSC500', contactId: 'ct_1', windowStart: T0, windowEnd: T0 + 30 * DAY, data: { orderId: 'o-1', sku: 'CET-GSC500' } };
  it('a reminder is not sent when the SKU was bought again since, even when another order came after that', () => {
    const orders = [order, { orderId: 'o-2', placedAt: T0 + 20 * DAY, skus: ['CET-GSC500'] }, { orderId: 'o-3', placedAt: T0 + 25 * DAY, skus: ['APL-IP15'] }];
    expect(decideAutomation(fired, { automation, contact: contact({ recentOrders: orders, lastOrder: orders[2] }), now: T0 + 30 * DAY })).toEqual([]);
  });
  it('the reminder goes when due, not when the customer bought the SKU again since', () => {
    expect(decideAutomation(fired, { automation, contact: contact({ lastOrder: order }), now: T0 + 30 * DAY })).toEqual([expect.objectContaining({ rule: 'replenishment', content: expect.objectContaining({ name: 'replenishment_reminder' }) })]);
    expect(decideAutomation(fired, { automation, contact: contact({ lastOrder: { orderId: 'o-2', placedAt: T0 + 20 * DAY, skus: ['CET-GSC500'] } }), now: T0 + 30 * DAY })).toEqual([]);
  });
  it('a courier status change sends the update template, at most once per parcel per 6 h (CP-5 event key)', () => {
    const parcel = { trackingNumber: 'SF1', state: 'out_for_delivery', stateText: 'is out for delivery' };
    const event: AutomationEvent = { type: 'ParcelUpdated', id: 'as-1', contactId: 'ct_1', trackingNumber: 'SF1', state: 'out_for_delivery', at: T0 };
    expect(decideAutomation(event, { automation, contact: contact(), now: T0, parcel })).toEqual([expect.objectContaining({ rule: 'logistics-update', category: 'utility', eventKey: 'parcel:SF1', key: 'logistics-update:SF1:as-1' })]);
    expect(decideAutomation({ ...event, state: 'in_transit' }, { automation, contact: contact(), now: T0, parcel: { ...parcel, state: 'in_transit' } })).toEqual([]);
  });
});

describe('RP-13 satisfaction', () => {
  const resolved: AutomationEvent = { type: 'ConversationResolved', id: 'resolved:c1', contactId: 'ct_1', conversationId: 'ct_1:1', at: T0 };
  it('a resolved conversation inside the window gets the 1–5 prompt; outside it nothing', () => {
    const [prompt] = decideAutomation(resolved, { automation, contact: contact({ language: 'zh-Hant' }), now: T0 });
    expect(prompt).toMatchObject({ kind: 'send', rule: 'satisfaction', key: 'satisfaction:ct_1:1', content: { type: 'list' } });
    expect(prompt?.kind === 'send' && prompt.content.type === 'list' && prompt.content.rows.map((r) => r.id)).toEqual([1, 2, 3, 4, 5].map((n) => `rating:ct_1:1:${n}`));
    expect(decideAutomation(resolved, { automation, contact: contact({ lastInboundAt: T0 - 25 * HOUR }), now: T0 })).toEqual([]);
  });
  it('a tapped rating is recorded and thanked, nothing else', () => {
    const m = message('4 Very good', T0, { type: 'interactive', replyId: 'rating:ct_1:1:4' });
    expect(onMessage(m)).toEqual([expect.objectContaining({ kind: 'rating', score: 4, conversationId: 'ct_1:1' }), expect.objectContaining({ kind: 'send', rule: 'satisfaction' })]);
  });
});

describe('idempotency keys', () => {
  it('the same event decided twice gives the same actions, keys and coupon codes', () => {
    const m = message('this is terrible, too expensive');
    const h = history([{ at: T0 - 8 * DAY }, { at: T0 - 9 * DAY }, { at: T0 - 10 * DAY }, { at: T0 - HOUR, text: 'too expensive' }, { at: T0, text: m.text }]);
    expect(onMessage(m, { history: h })).toEqual(onMessage(m, { history: h }));
    expect(couponCode('HI10', 'k')).toBe(couponCode('HI10', 'k'));
    expect(couponCode('HI10', 'k')).not.toBe(couponCode('HI10', 'k2'));
  });
});

describe('configuration', () => {
  const { folding } = shippedIntelligence();
  const products = shippedIntelligence().config.catalogue.products;
  it('the shipped rules and roster load', () => {
    expect(() => buildAutomation({ automation: automationJson, agents: agentsJson }, { folding, products })).not.toThrow();
  });
  it('a bad rule fails at start naming it', () => {
    const bad = structuredClone(automationJson) as { rules: Record<string, { coupon?: { prefix: string } }> };
    bad.rules['offer-high-intent']!.coupon!.prefix = 'hi-10';
    expect(() => buildAutomation({ automation: bad, agents: agentsJson }, { folding, products })).toThrow(/automation\.json: rules\.offer-high-intent\.coupon\.prefix/u);
    expect(() => buildAutomation({ automation: { ...automationJson, timeZone: 'Mars/Base' }, agents: agentsJson }, { folding, products })).toThrow(/timeZone/u);
    expect(() => buildAutomation({ automation: automationJson, agents: { agents: [agentsJson.agents[0], agentsJson.agents[0]] } }, { folding, products })).toThrow(/duplicate agent id/u);
  });
});

describe('languages, agents and time', () => {
  it.each([
    ['Hello there', 'en'],
    ['我想問下幾時到貨', 'zh-Hant'],
    ['請問這個有貨嗎', 'zh-Hant'],
    ['请问这个有货吗', 'zh-Hans'],
    ['Где моя посылка?', 'ru'],
    ['运费多少钱', 'zh-Hans'],
    ['ok', undefined],
    ['SF1234567890', undefined],
    ['你好', undefined],
    ['我要真人', undefined],
  ])('"%s" is %s (undefined: the message does not tell, the customer\'s language stays)', (text, language) => expect(detectLanguage(text, automation.scripts)).toBe(language));

  const roster = automation.roster;
  it('assignment is sticky, then round robin among available agents of the language, supervisors last', () => {
    const hant = eligibleAgents(roster, 'zh-Hant').map((a) => a.id);
    expect(hant).toEqual(['ag-mei', 'ag-ka-ho']);
    expect([0, 1, 2].map((turn) => roundRobin(roster, 'zh-Hant', turn)?.id)).toEqual(['ag-mei', 'ag-ka-ho', 'ag-mei']);
    expect(stickyAgent(roster, 'zh-Hant', 'ag-ka-ho')?.id).toBe('ag-ka-ho');
    expect(stickyAgent(roster, 'ru', 'ag-ka-ho')).toBeUndefined();
    const onlySupervisor = { agents: roster.agents.map((a) => (a.role === 'agent' ? { ...a, available: false } : a)) };
    expect(roundRobin(onlySupervisor, 'en', 0)?.id).toBe('ag-grace');
  });

  it('ISO weeks and support hours in the business time zone', () => {
    expect(isoWeek(Date.parse('2026-12-27T15:59:59Z'), 'Asia/Hong_Kong')).toBe('2026-W52'); // Sun 23:59 HK
    expect(isoWeek(Date.parse('2026-12-27T16:00:00Z'), 'Asia/Hong_Kong')).toBe('2026-W53'); // Mon 00:00 HK
    const hours = automation.config.supportHours;
    expect(withinHours(Date.parse('2026-12-02T02:00:00Z'), hours, 'Asia/Hong_Kong')).toBe(true); // Wed 10:00
    expect(withinHours(Date.parse('2026-12-02T01:59:00Z'), hours, 'Asia/Hong_Kong')).toBe(false); // Wed 09:59
    expect(withinHours(Date.parse('2026-12-02T12:00:00Z'), hours, 'Asia/Hong_Kong')).toBe(false); // Wed 20:00
    // Saturday 21:00 → the team is back Monday 10:00 (Sunday is not a work day).
    expect(new Date(nextOpening(Date.parse('2026-12-05T13:00:00Z'), hours, 'Asia/Hong_Kong')).toISOString()).toBe('2026-12-07T02:00:00.000Z');
  });

  it('the hand-over says when a person answers, in the customer\'s language', () => {
    const texts = automation.config.rules.handover;
    expect(whenAnswered(T0, automation.config.supportHours, 'Asia/Hong_Kong', texts, 'en')).toBe('They will answer within 15 minutes.');
    expect(whenAnswered(Date.parse('2026-12-05T13:00:00Z'), automation.config.supportHours, 'Asia/Hong_Kong', texts, 'en')).toMatch(/^Our team is back Mon 10:00/u);
  });

  it.each<[Language, string]>([
    ['en', '3 days ago'],
    ['zh-Hans', '3天前'],
    ['ru', '3 дня назад'],
  ])('the last purchase in words (%s): %s', (language, words) => {
    expect(relativeAgo(T0 - 3 * DAY, T0, language)).toBe(words);
  });

  it('placeholders: a text leaves an unknown one empty, a template parameter "-"', () => {
    expect(fill('{first_name}, thanks!', {})).toBe('thanks!');
    expect(renderContent({ type: 'template', name: 'x', parameters: { first_name: '{first_name}' } }, {})).toEqual({ template: { name: 'x', parameters: { first_name: '-' } } });
  });
});
