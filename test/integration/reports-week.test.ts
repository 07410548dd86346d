/**
 * A seeded week of conversations (fixed Hong Kong times, agent replies, statuses, deals, ratings)
 * counted into the aggregates of the local table the way the functions count them, some events
 * delivered twice; the weekly report's figures are those computed by hand below. Then the RP-7
 * complaint streak: three days over 5 % alert, two do not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageAnalysis } from '#shared/domain/records';
import { loadReportsConfig } from '#shared/reports/config';
import {
  agentActivityFact,
  conversationResolvedFact,
  conversationStartedFact,
  inboundFacts,
  orderFacts,
  outboundFact,
  ownStatusFacts,
  ratingFact,
  responseFacts,
} from '#shared/reports/facts';
import { loadReport } from '#shared/reports/load';
import { createReportsApp } from '#functions/reports/app';
import { reportLinkProblem } from '#shared/reports/links';
import { localTime } from '#shared/reports/time';
import { createRuntime, type Runtime } from '#shared/runtime';
import { shippedIntelligence } from '#shared/domain/intelligence/bundled';
import { keys } from '#shared/store/keys';
import { StatsStore } from '#shared/store/stats';
import { startLocalServices, type LocalServices } from '#local/services';

const TZ = 'Asia/Hong_Kong';
/** A Hong Kong wall-clock time (UTC+8, no daylight saving). */
const hk = (day: string, hh: number, mm = 0) => Date.parse(`${day}T${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}:00+08:00`);
const familyOf = (word: string) => shippedIntelligence().hotWordFamily.get(word);
const analysis = (intent: string, tags: string[], words: string[], sentiment: number, sku: string | null = null): MessageAnalysis => ({ intent, tags, sku, sentiment, hotWords: Object.fromEntries(words.map((w) => [w, 1])) });

let services: LocalServices;
let runtime: Runtime;
let stats: StatsStore;
beforeAll(async () => {
  services = await startLocalServices({});
  runtime = await createRuntime({ ...services.env, WHATSAPP_APP_SECRET: 'reports-secret', WHATSAPP_VERIFY_TOKEN: 'reports-token' }, services.overrides);
  stats = new StatsStore(runtime.store.table, TZ);
});
afterAll(async () => {
  await services.stop();
});

async function inbound(wamid: string, contactId: string, at: number, a?: MessageAnalysis, isNew = false) {
  const f = inboundFacts({ wamid, contactId, sentAt: at, analysis: a, isNew }, familyOf);
  await stats.count([f.counted]);
  await stats.add([f.members]);
}

/** An agent's reply: sent, counted as an agent hour, a first response of `seconds` to the conversation. */
async function reply(id: string, agentId: string, at: number, seconds: number, conversationId: string) {
  await stats.count([outboundFact(id, at, 'agent')]);
  await stats.add([agentActivityFact(agentId, at, localTime(at, TZ))]);
  const r = responseFacts({ outboundId: id, agentId, at, responseMs: seconds * 1000, conversationId });
  await stats.count([r.counted]);
  await stats.add([r.members]);
}

async function status(id: string, sentAt: number, name: string, cost?: { amount: number; category: string }) {
  await stats.count(ownStatusFacts({ id, status: name, sentAt, cost }));
}

async function order(orderId: string, contactId: string, placedAt: number, amount: number, firstInboundAt: number) {
  const f = orderFacts({ orderId, contactId, placedAt, amount, currency: 'HKD', firstInboundAt });
  await stats.count([f.counted]);
  await stats.add([f.members]);
}

async function seedWeek(): Promise<void> {
  // The week before (16–22 Nov): F writes on 3 days, G on 4, D once; 4 agent replies.
  for (const day of ['2026-11-16', '2026-11-18', '2026-11-20']) await inbound(`p-F-${day}`, 'ct_F', hk(day, 9), analysis('other', [], [], 0.5));
  for (const day of ['2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19']) await inbound(`p-G-${day}`, 'ct_G', hk(day, 12), analysis('other', [], [], 0.6));
  await inbound('p-D', 'ct_D', hk('2026-11-17', 10), analysis('other', [], [], 0.5));
  await reply('ob_p1', 'ann', hk('2026-11-16', 10), 300, 'cF0');
  await reply('ob_p2', 'ann', hk('2026-11-17', 11), 300, 'cD0');
  await reply('ob_p3', 'bob', hk('2026-11-18', 10), 200, 'cX0');
  await reply('ob_p4', 'bob', hk('2026-11-18', 10, 30), 100, 'cY0');
  for (const id of ['ob_p1', 'ob_p2', 'ob_p3', 'ob_p4']) await status(id, hk('2026-11-16', 10), 'delivered');

  // The week (Mon 23 – Sun 29 Nov).
  const m = [
    ['w1', 'ct_A', hk('2026-11-23', 14, 10), analysis('product_question', [], ['price'], 0.6)],
    ['w2', 'ct_B', hk('2026-11-23', 14, 40), analysis('price_inquiry', ['price_inquiry'], ['discount', 'cash_on_delivery'], 0.5)],
    ['w3', 'ct_A', hk('2026-11-23', 15, 20), analysis('purchase_intent', ['purchase_intent'], ['credit_card'], 0.8, 'SKU1')],
    ['w4', 'ct_C', hk('2026-11-24', 10, 5), analysis('complaint', ['complaint'], [], 0.1)],
    ['w5', 'ct_D', hk('2026-11-24', 14, 30), analysis('purchase_intent', ['purchase_intent'], ['discount'], 0.5)],
    ['w6', 'ct_E', hk('2026-11-25', 15), analysis('greeting', [], ['hello'], 0.5)],
    ['w7', 'ct_B', hk('2026-11-26', 14, 5), undefined],
    ['w8', 'ct_D', hk('2026-11-27', 11), analysis('order_status', ['order_status'], [], 0.4)],
    ['w9', 'ct_A', hk('2026-11-28', 14, 50), analysis('other', [], ['thanks'], 0.9)],
    ['w10', 'ct_C', hk('2026-11-29', 20), analysis('complaint', ['complaint'], ['refund'], 0.2)],
  ] as const;
  for (const [wamid, contact, at, a] of m) await inbound(wamid, contact, at, a, wamid === 'w6');
  // Meta delivers w3 again, and the webhook's retry counts w5 again: each still counts once.
  await inbound('w3', 'ct_A', m[2][2], m[2][3]);
  await inbound('w5', 'ct_D', m[4][2], m[4][3]);

  for (const [id, at] of [['cA1', m[0][2]], ['cB1', m[1][2]], ['cC1', m[3][2]], ['cD1', m[4][2]], ['cE1', m[5][2]], ['cC2', m[9][2]]] as const) await stats.count([conversationStartedFact(id, at)]);
  for (const id of ['cA1', 'cB1', 'cD1', 'cE1']) await stats.count([conversationResolvedFact(id, hk('2026-11-25', 18))]);

  // First responses: ann 180 s, 600 s, 480 s (mean 420: flagged); bob 120 s, 60 s.
  await reply('ob_1', 'ann', hk('2026-11-23', 14, 13), 180, 'cA1');
  await reply('ob_2', 'bob', hk('2026-11-23', 14, 42), 120, 'cB1');
  await reply('ob_3', 'ann', hk('2026-11-24', 10, 15), 600, 'cC1');
  await reply('ob_4', 'ann', hk('2026-11-24', 14, 38), 480, 'cD1');
  await reply('ob_5', 'bob', hk('2026-11-25', 15, 1), 60, 'cE1');
  await reply('ob_4', 'ann', hk('2026-11-24', 14, 38), 480, 'cD1'); // the same answer recorded again
  await stats.count([outboundFact('ob_6', hk('2026-11-25', 11), 'automation')]);

  // Statuses: all delivered (E's only as read), four read; Meta's cost with the first delivered.
  const service = { amount: 0.004, category: 'service' };
  for (const [id, at] of [['ob_1', hk('2026-11-23', 14, 13)], ['ob_2', hk('2026-11-23', 14, 42)], ['ob_3', hk('2026-11-24', 10, 15)], ['ob_4', hk('2026-11-24', 14, 38)]] as const) await status(id, at, 'delivered', service);
  await status('ob_1', hk('2026-11-23', 14, 13), 'delivered', service); // delivered twice
  for (const [id, at] of [['ob_1', hk('2026-11-23', 14, 13)], ['ob_2', hk('2026-11-23', 14, 42)], ['ob_4', hk('2026-11-24', 14, 38)]] as const) await status(id, at, 'read', service);
  await status('ob_5', hk('2026-11-25', 15, 1), 'read', service);
  await status('ob_6', hk('2026-11-25', 11), 'delivered', { amount: 0.0706, category: 'marketing' });
  await status('ob_6', hk('2026-11-25', 11), 'read', { amount: 0.0706, category: 'marketing' });

  // Deals: A (first wrote this Monday), D (first wrote on the 17th), F (on the 16th, silent this week).
  await order('o-A', 'ct_A', hk('2026-11-24', 12), 800, m[0][2]);
  await order('o-D', 'ct_D', hk('2026-11-28', 14), 300, hk('2026-11-17', 10));
  await order('o-F', 'ct_F', hk('2026-11-25', 9), 150.5, hk('2026-11-16', 9));
  await order('o-A', 'ct_A', hk('2026-11-24', 12), 800, m[0][2]); // posted twice

  // Ratings: 5, 4, 3; the rating of cA1 delivered again does not count again.
  await stats.count([ratingFact('cA1', 5, hk('2026-11-25', 18, 1))]);
  await stats.count([ratingFact('cB1', 4, hk('2026-11-25', 18, 2))]);
  await stats.count([ratingFact('cD1', 3, hk('2026-11-25', 18, 3))]);
  await stats.count([ratingFact('cA1', 5, hk('2026-11-25', 18, 1))]);

  // The churn rule reads the last sentiment of its candidates (F and G) from their contacts.
  await runtime.store.table.put({ ...keys.contact('ct_F'), contactId: 'ct_F', lastSentiment: 0.2 });
  await runtime.store.table.put({ ...keys.contact('ct_G'), contactId: 'ct_G', lastSentiment: 0.6 });
}

const config = loadReportsConfig({
  currency: 'HKD',
  promotions: [{ name: 'Black Friday', from: '2026-11-27', to: '2026-11-30' }],
  baseline: null,
  whatsappSpendUsdPerMonth: 0,
  channels: [{ channel: 'LINE', spendUsdPerMonth: 304.375, customersPerMonth: 30.4375 }],
});
const cost = { region: 'ap-east-1', pricesAsOf: '2026-11-01', source: 'test', perMessageUsd: 0.0001, fixedMonthlyUsd: 3.04375 };

describe('the weekly report of a seeded week', () => {
  it('has the figures computed by hand', async () => {
    await seedWeek();
    // Any day of the week gives the week (Monday–Sunday, Hong Kong).
    const r = await loadReport({ stats, table: runtime.store.table, config, cost, now: () => hk('2026-11-30', 7) }, 'weekly', '2026-11-26');

    expect(r.period).toEqual({ from: '2026-11-23', to: '2026-11-29', timeZone: TZ });
    expect(r.name).toBe('weekly-2026-11-23');
    expect(r.messages).toEqual({ inbound: 10, outbound: 6, previousInbound: 8, previousOutbound: 4 });

    // RP-1: hours 14 (w1 w2 w5 w7 w9), 15 (w3 w6), 10, 11, 20; the busiest 2 hours 14–16 hold 7 of 10.
    expect(r.activeHours[14]).toBe(5);
    expect(r.activeHours[15]).toBe(2);
    expect(r.activeHours.reduce((a, b) => a + b, 0)).toBe(10);
    expect(r.activeHoursByWeekday[0]![14]).toBe(2);
    expect(r.activeHoursByWeekday[0]![15]).toBe(1);
    expect(r.activeHoursByWeekday[6]![20]).toBe(1);
    expect(r.busiestWindow).toEqual({ startHour: 14, share: 0.7, benchmarkShare: 0.35 });

    // RP-2: overall [180 120 600 480 60]: mean 288, median 180; ann 420 s flagged, bob 90 s.
    expect(r.responseTime.overall).toEqual({ count: 5, meanSeconds: 288, medianSeconds: 180 });
    expect(r.responseTime.agents).toEqual([
      { agentId: 'ann', count: 3, meanSeconds: 420, medianSeconds: 480, flagged: true, conversations: 3, previousConversations: 2 },
      { agentId: 'bob', count: 2, meanSeconds: 90, medianSeconds: 90, flagged: false, conversations: 2, previousConversations: 2 },
    ]);
    expect(r.resolution).toEqual({ started: 6, resolved: 4, rate: 0.666667, benchmark: 0.85 });

    // RP-3: 9 messages with words; "discount" in 2 of them.
    expect(r.hotWords[0]).toEqual({ word: 'discount', family: 'discount', count: 2, share: 0.222222, previousShare: 0, trend: 0.222222 });
    expect(r.hotWords.map((h) => h.word).sort()).toEqual(['cash_on_delivery', 'credit_card', 'discount', 'hello', 'price', 'refund', 'thanks']);
    expect(r.promotion).toEqual({ active: true, names: ['Black Friday'], discountShare: 0.222222, weak: false });

    // RP-4: wrote A B C D E; product question A B D; intent A D; ordered and wrote A D (F did not write).
    expect(r.funnel).toEqual([
      { stage: 'first_contact', count: 5, rate: 1, stageRate: 1 },
      { stage: 'product_question', count: 3, rate: 0.6, stageRate: 0.6 },
      { stage: 'purchase_intent', count: 2, rate: 0.4, stageRate: 0.666667 },
      { stage: 'deal', count: 2, rate: 0.4, stageRate: 1 },
    ]);
    expect(r.funnelHealthy).toBe(true);
    expect(r.discountToOrder).toEqual({ inquiries: 2, orders: 1, rate: 0.5, alert: false });
    // (78,600 + 964,800 + 777,600) s / 3 = 7.03 days.
    expect(r.conversionCycle).toEqual({ count: 3, meanDays: 7.03, benchmarkDays: 3.7 });

    // RP-7: Tue 1 of 2, Sun 1 of 1; the streak ending Sunday is one day.
    expect(r.complaintRate.map((d) => d.rate)).toEqual([0, 0.5, 0, 0, 0, 0, 1]);
    expect(r.complaintStreak).toEqual({ days: 1, alert: false });

    // RP-8: F wrote on 3 days, then none, last sentiment 0.2; G too but 0.6.
    expect(r.churnRisk).toEqual([expect.objectContaining({ contactId: 'ct_F', previousWeekInteractions: 3, thisWeekInteractions: 0, lastSentiment: 0.2 })]);

    // RP-10: 6 delivered (E's read implies it), 5 read.
    expect(r.readRate).toMatchObject({ delivered: 6, read: 5, rate: 0.833333 });
    expect(r.readRate.byHour[14]).toEqual({ hour: 14, delivered: 3, read: 3, rate: 1 });
    expect(r.readRate.byHour[10]).toEqual({ hour: 10, delivered: 1, read: 0, rate: 0 });
    expect(r.transactions).toMatchObject({ orders: 3, revenue: 1250.5, currency: 'HKD', averageOrderValue: 416.83, conversion: 0.4 });
    expect(r.transactions.daily.find((d) => d.date === '2026-11-24')).toEqual({ date: '2026-11-24', orders: 1, revenue: 800, conversion: 0.5 });
    expect(r.transactions.forecast).toHaveLength(7);
    expect(r.transactions.forecast[0]!.date).toBe('2026-11-30');

    // RP-12: B asked about cash on delivery and did not order; A asked about card and did.
    expect(r.paymentMethods).toEqual([
      { method: 'cash_on_delivery', asked: 1, ordered: 0, conversion: 0, benchmark: 0.12 },
      { method: 'credit_card', asked: 1, ordered: 1, conversion: 1, benchmark: 0.35 },
    ]);
    expect(r.paymentAdvice).toMatch(/prioritise online payment/);

    // RP-13
    expect(r.satisfaction).toMatchObject({ count: 3, mean: 4, distribution: [0, 0, 1, 1, 1] });

    // RP-5: Meta 5 × $0.004 + $0.0706; AWS 16 × $0.0001 + $3.04375 × 7 / 30.4375; one new customer (E).
    expect(r.cost).toMatchObject({ metaUsd: 0.0906, awsUsd: 0.7016, perMessageUsd: 0.0495125, billedMessages: 6, byCategory: { service: 0.02, marketing: 0.0706 } });
    expect(r.cost.acquisition).toMatchObject({ newCustomers: 1, spendUsd: 0.7922, perCustomerUsd: 0.7922 });
    expect(r.cost.channels[1]).toEqual({ channel: 'LINE', spendUsd: 70, customers: 7, perCustomerUsd: 10 });

    // RP-6 and RP-9: 10 customer messages against 8 (+25 %, not normal); agent hours 5 against 3.
    expect(r.periodOverPeriod.find((p) => p.metric === 'customer messages')).toEqual({ metric: 'customer messages', current: 10, previous: 8, change: 0.25, normal: false });
    expect(r.periodOverPeriod.find((p) => p.metric === 'conversations per agent')).toMatchObject({ current: 2.5, previous: 2, change: 0.25 });
    expect(r.beforeAfter.baseline).toEqual({ from: '2026-11-16', to: '2026-11-22', source: 'previous period' });
    expect(r.beforeAfter.rows.find((row) => row.metric === 'agent hours a week')).toMatchObject({ before: 3, after: 5 });
    expect(r.beforeAfter.rows.find((row) => row.metric === 'mean first response (s)')).toMatchObject({ before: 225, after: 288 });

    expect(r.alerts).toEqual(expect.arrayContaining([expect.stringMatching(/ann.*training recommended/), expect.stringMatching(/1 customer at churn risk/)]));
    expect(r.alerts.some((a) => /Complaint/.test(a))).toBe(false);
  });
});

describe('the complaint-rate alert (RP-7)', () => {
  const day = async (date: string, complaints: number, others: number) => {
    for (let i = 0; i < complaints + others; i++) await inbound(`c-${date}-${i}`, `ct_c${i}`, hk(date, 12), i < complaints ? analysis('complaint', ['complaint'], [], 0.2) : analysis('other', [], [], 0.5));
  };
  const daily = (at: string) => loadReport({ stats, table: runtime.store.table, config, cost, now: () => hk(at, 23) }, 'daily', at);

  it('three days in a row over 5 % alert; two do not', async () => {
    await day('2027-01-04', 0, 20);
    await day('2027-01-05', 2, 18); // 10 %
    await day('2027-01-06', 3, 17); // 15 %
    expect((await daily('2027-01-06')).complaintStreak).toEqual({ days: 2, alert: false });
    await day('2027-01-07', 2, 18); // 10 %
    const third = await daily('2027-01-07');
    expect(third.complaintStreak).toEqual({ days: 3, alert: true });
    expect(third.alerts).toContainEqual(expect.stringMatching(/above 5 % for 3 days in a row/));

    // The scheduled run of that day: stored in three formats (dated and latest), announced with
    // signed links, the day's rate published for the alarm, and the streak an event on the bus.
    const files = new Map<string, string>();
    const announced: { subject: string; message: string }[] = [];
    const published: { type: string; id: string }[] = [];
    const metrics: [string, number][] = [];
    const app = createReportsApp({
      store: { stats, table: runtime.store.table },
      files: { putObject: async (key, body) => void files.set(key, new TextDecoder().decode(body)) },
      topic: { publish: async (subject, message) => void announced.push({ subject, message }) },
      events: { publish: async (events) => void published.push(...events) },
      links: { publicUrl: 'https://api.example.com', key: 'k'.repeat(32) },
      config,
      cost,
      metrics: { add: (name, value = 1) => void metrics.push([name, value]) },
      logger: { info: () => {}, warn: () => {} },
      now: () => hk('2027-01-08', 6),
    });
    const run = await app.run('daily');
    expect(run.name).toBe('daily-2027-01-07');
    expect([...files.keys()].sort()).toEqual(['reports/daily/2027-01-07.csv', 'reports/daily/2027-01-07.html', 'reports/daily/2027-01-07.json', 'reports/latest/daily.csv', 'reports/latest/daily.html', 'reports/latest/daily.json']);
    expect(JSON.parse(files.get('reports/latest/daily.json')!).complaintStreak).toEqual({ days: 3, alert: true });
    expect(metrics).toEqual([['complaintRate', 0.1]]);
    expect(published).toEqual([expect.objectContaining({ type: 'ComplaintRateHigh', id: 'complaint-rate:2027-01-07', days: 3 })]);
    // Two alerts: the streak, and no deal from the 20 customers who wrote.
    expect(announced[0]!.subject).toBe('WhatsApp CRM daily report 2027-01-07 (2 alerts)');
    expect(announced[0]!.message).toMatch(/- Complaint rate above 5 % for 3 days in a row/);
    const link = new URL(/Report: (\S+)/.exec(announced[0]!.message)![1]!);
    expect(link.pathname).toBe('/reports/daily-2027-01-07.html');
    expect(reportLinkProblem('k'.repeat(32), 'daily-2027-01-07.html', link.searchParams.get('exp') ?? undefined, link.searchParams.get('sig') ?? undefined, hk('2027-01-08', 6))).toBeUndefined();
    await expect(app.run('monthly')).rejects.toThrow(/report: "monthly" is not one of daily, weekly/);

    // Exactly 5 % is not above it: the streak ends.
    await day('2027-01-08', 1, 19);
    expect((await daily('2027-01-08')).complaintStreak).toEqual({ days: 0, alert: false });
  });
});
