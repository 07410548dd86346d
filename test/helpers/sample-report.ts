/**
 * A realistic weekly report for the renderers' tests: a Hong Kong shop, Monday 2026-11-23 to Sunday
 * 2026-11-29, three agents (one over 6 min, flagged), 20 hot words, a churn-risk contact, a complaint
 * streak and a weak funnel step (alerts), and nulls where the data has none (clicks not tracked, a
 * channel without customers, a baseline figure never measured, a day without orders). Deterministic:
 * every figure is computed from fixed numbers, so a screenshot of it does not change between runs.
 */
import type { AgentResponse, HotWordRow, HourRate, Report } from '../../shared/reports/schema.ts';
import { BENCHMARKS } from '../../shared/reports/schema.ts';

/** Customer messages per local hour on an ordinary weekday: quiet at night, a peak 14:00–16:00, a smaller one after dinner. */
const HOUR_PROFILE = [3, 1, 1, 0, 0, 0, 1, 3, 7, 11, 14, 17, 19, 18, 27, 29, 20, 16, 14, 15, 18, 16, 10, 6];
/** How busy each weekday is against the profile, Monday first (the weekend peaks later in the day). */
const WEEKDAY_FACTOR = [1.0, 0.95, 1.1, 1.0, 1.2, 1.35, 0.8];

function activity(): number[][] {
  return WEEKDAY_FACTOR.map((factor, weekday) =>
    HOUR_PROFILE.map((count, hour) => {
      const weekendShift = weekday >= 5 && hour >= 19 ? 1.25 : 1;
      return Math.round(count * factor * weekendShift + ((weekday * 7 + hour * 3) % 4));
    }),
  );
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

const AGENTS: readonly AgentResponse[] = [
  { agentId: 'agent-amy.wong', count: 212, meanSeconds: 148, medianSeconds: 96, flagged: false, conversations: 188, previousConversations: 171 },
  { agentId: 'agent-ben.lau', count: 176, meanSeconds: 236, medianSeconds: 171, flagged: false, conversations: 154, previousConversations: 160 },
  { agentId: 'agent-chris.ho', count: 64, meanSeconds: 431, medianSeconds: 352, flagged: true, conversations: 57, previousConversations: 83 },
];

/** [word, family, count, previous share]: the tracked hot words used this week, most used first. */
const WORDS: readonly (readonly [string, string, number, number])[] = [
  ['discount', 'promotion', 214, 0.081],
  ['price', 'product', 187, 0.079],
  ['delivery_time', 'logistics', 143, 0.066],
  ['size', 'product', 121, 0.052],
  ['stock', 'product', 98, 0.047],
  ['credit_card', 'payment', 77, 0.036],
  ['free_shipping', 'promotion', 71, 0.024],
  ['refund', 'service', 64, 0.021],
  ['colour', 'product', 59, 0.028],
  ['cash_on_delivery', 'payment', 52, 0.027],
  ['return', 'service', 47, 0.019],
  ['coupon', 'promotion', 41, 0.022],
  ['fps', 'payment', 38, 0.013],
  ['broken', 'complaint', 33, 0.009],
  ['warranty', 'service', 27, 0.014],
  ['late', 'complaint', 24, 0.008],
  ['gift_wrap', 'product', 18, 0.006],
  ['pickup_point', 'logistics', 15, 0.009],
  ['bundle', 'promotion', 11, 0.004],
  ['invoice', 'service', 7, 0.004],
];

function hotWords(messagesWithWords: number): HotWordRow[] {
  return WORDS.map(([word, family, count, previousShare]) => {
    const share = round(count / messagesWithWords, 4);
    return { word, family, count, share, previousShare, trend: round(share - previousShare, 4) };
  });
}

function readRateByHour(): HourRate[] {
  return HOUR_PROFILE.map((count, hour) => {
    const delivered = hour >= 2 && hour <= 6 ? 0 : count * 14 + 8;
    const rate = delivered === 0 ? 0 : Math.min(0.97, 0.52 + 0.018 * Math.abs(hour - 3) + (hour % 3) * 0.02);
    const read = Math.round(delivered * rate);
    return { hour, delivered, read, rate: delivered === 0 ? 0 : round(read / delivered, 4) };
  });
}

export function sampleReport(overrides: Partial<Report> = {}): Report {
  const byWeekday = activity();
  const activeHours = HOUR_PROFILE.map((_, hour) => byWeekday.reduce((sum, day) => sum + (day[hour] ?? 0), 0));
  const inbound = activeHours.reduce((a, b) => a + b, 0);
  const busiest = activeHours.reduce((best, _, hour) => {
    const pair = (activeHours[hour] ?? 0) + (activeHours[(hour + 1) % 24] ?? 0);
    return pair > best.count ? { startHour: hour, count: pair } : best;
  }, { startHour: 0, count: -1 });
  const responses = AGENTS.reduce((sum, agent) => sum + agent.count, 0);
  const meanResponse = AGENTS.reduce((sum, agent) => sum + agent.meanSeconds * agent.count, 0) / responses;
  const byHour = readRateByHour();
  const delivered = byHour.reduce((sum, row) => sum + row.delivered, 0);
  const read = byHour.reduce((sum, row) => sum + row.read, 0);
  const daily = [
    { date: '2026-11-23', orders: 7, revenue: 3_412.5, conversion: 0.118 },
    { date: '2026-11-24', orders: 6, revenue: 2_876, conversion: 0.104 },
    { date: '2026-11-25', orders: 0, revenue: 0, conversion: 0 },
    { date: '2026-11-26', orders: 9, revenue: 4_390.8, conversion: 0.142 },
    { date: '2026-11-27', orders: 11, revenue: 5_621.2, conversion: 0.151 },
    { date: '2026-11-28', orders: 14, revenue: 7_108, conversion: 0.163 },
    { date: '2026-11-29', orders: 11, revenue: 5_297.4, conversion: 0.139 },
  ];
  const orders = daily.reduce((sum, day) => sum + day.orders, 0);
  const revenue = round(daily.reduce((sum, day) => sum + day.revenue, 0), 2);
  const outbound = 2_655;
  const metaUsd = 18.42;
  const awsUsd = 1.37;
  const funnelCounts = [412, 268, 121, 58];
  const stages = ['first_contact', 'product_question', 'purchase_intent', 'deal'] as const;

  const report: Report = {
    schemaVersion: 1,
    kind: 'weekly',
    name: 'weekly-2026-11-23',
    generatedAt: '2026-11-30T00:15:04.512Z',
    period: { from: '2026-11-23', to: '2026-11-29', timeZone: 'Asia/Hong_Kong' },
    previousPeriod: { from: '2026-11-16', to: '2026-11-22' },
    messages: { inbound, outbound, previousInbound: 2_184, previousOutbound: 2_402 },
    activeHours,
    activeHoursByWeekday: byWeekday,
    busiestWindow: { startHour: busiest.startHour, share: round(busiest.count / inbound, 4), benchmarkShare: BENCHMARKS.busiestWindowShare },
    responseTime: {
      overall: { count: responses, meanSeconds: round(meanResponse, 1), medianSeconds: 134 },
      agents: AGENTS,
      industrySeconds: BENCHMARKS.responseIndustrySeconds,
      targetSeconds: BENCHMARKS.responseTargetSeconds,
      flagAboveSeconds: BENCHMARKS.responseFlagSeconds,
    },
    resolution: { started: 399, resolved: 331, rate: round(331 / 399, 4), benchmark: BENCHMARKS.resolutionRate },
    hotWords: hotWords(1_652),
    hotWordsTracked: 34,
    promotion: { active: true, names: ['Black Friday 2026', '11.11 "Encore" sale'], discountShare: round(214 / 1_652, 4), weak: false },
    funnel: stages.map((stage, index) => {
      const count = funnelCounts[index] ?? 0;
      const previous = funnelCounts[index - 1] ?? count;
      return { stage, count, rate: round(count / (funnelCounts[0] ?? 1), 4), stageRate: round(count / previous, 4) };
    }),
    funnelHealthy: true,
    discountToOrder: { inquiries: 96, orders: 10, rate: round(10 / 96, 4), alert: true },
    conversionCycle: { count: 58, meanDays: 3.2, benchmarkDays: BENCHMARKS.conversionCycleDays },
    complaintRate: [
      { date: '2026-11-23', rate: 0.031, complaints: 8, inbound: 258 },
      { date: '2026-11-24', rate: 0.027, complaints: 7, inbound: 259 },
      { date: '2026-11-25', rate: 0.042, complaints: 12, inbound: 286 },
      { date: '2026-11-26', rate: 0.038, complaints: 10, inbound: 263 },
      { date: '2026-11-27', rate: 0.056, complaints: 17, inbound: 304 },
      { date: '2026-11-28', rate: 0.064, complaints: 22, inbound: 344 },
      { date: '2026-11-29', rate: 0.071, complaints: 16, inbound: 225 },
    ],
    complaintStreak: { days: 3, alert: true },
    churnRisk: [
      { contactId: 'ct_8f3a2c91', reason: 'interactions 4 → 1, last sentiment 0.18', previousWeekInteractions: 4, thisWeekInteractions: 1, lastSentiment: 0.18 },
      { contactId: 'ct_1b77e0d4', reason: 'interactions 3 → 1, last sentiment 0.25 ("too slow, again")', previousWeekInteractions: 3, thisWeekInteractions: 1, lastSentiment: 0.25 },
    ],
    readRate: { delivered, read, rate: round(read / delivered, 4), byHour },
    clicks: { tracked: false, clicks: 0, ctr: null },
    transactions: {
      orders,
      revenue,
      currency: 'HKD',
      averageOrderValue: round(revenue / orders, 2),
      conversion: round(58 / 412, 4),
      daily,
      forecast: [
        { date: '2026-11-30', orders: 8, revenue: 3_905 },
        { date: '2026-12-01', orders: 7, revenue: 3_470 },
        { date: '2026-12-02', orders: 6, revenue: 2_980 },
        { date: '2026-12-03', orders: 9, revenue: 4_410 },
        { date: '2026-12-04', orders: 10, revenue: 5_020 },
        { date: '2026-12-05', orders: 13, revenue: 6_450 },
        { date: '2026-12-06', orders: 10, revenue: 4_960 },
      ],
      forecastMethod: 'mean of the same weekday over the last 4 weeks, scaled by this week\'s trend',
    },
    paymentMethods: [
      { method: 'credit_card', asked: 55, ordered: 20, conversion: round(20 / 55, 4), benchmark: BENCHMARKS.paymentConversion.credit_card },
      { method: 'cash_on_delivery', asked: 40, ordered: 4, conversion: 0.1, benchmark: BENCHMARKS.paymentConversion.cash_on_delivery },
      { method: 'fps', asked: 18, ordered: 6, conversion: round(6 / 18, 4) },
    ],
    paymentAdvice: 'Cash on delivery converts at 10.0 % against 36.4 % for cards: offer a card or FPS link when a customer asks about cash on delivery.',
    satisfaction: { count: 64, mean: 4.08, distribution: [2, 3, 9, 24, 26], benchmark: { ...BENCHMARKS.satisfaction } },
    cost: {
      metaUsd,
      awsUsd,
      perMessageUsd: round((metaUsd + awsUsd) / (inbound + outbound), 6),
      metaPerMessageUsd: round(metaUsd / (inbound + outbound), 6),
      awsPerMessageUsd: round(awsUsd / (inbound + outbound), 6),
      billedMessages: 1_204,
      byCategory: { marketing: 12.61, utility: 4.89, authentication: 0.92, service: 0 },
      acquisition: { newCustomers: 87, spendUsd: 84.3, perCustomerUsd: round(84.3 / 87, 4), benchmarkUsd: BENCHMARKS.acquisitionUsd },
      channels: [
        { channel: 'whatsapp', spendUsd: 84.3, customers: 87, perCustomerUsd: round(84.3 / 87, 4) },
        { channel: 'facebook_ads', spendUsd: 260, customers: 201, perCustomerUsd: round(260 / 201, 4) },
        { channel: 'google_ads', spendUsd: 120, customers: 0, perCustomerUsd: null },
      ],
      model: { region: 'ap-east-1', pricesAsOf: '2026-11-01', perMessageUsd: 0.000276, fixedMonthlyUsd: 3.2, source: 'docs/cost.md (AWS Price List API)' },
    },
    periodOverPeriod: [
      { metric: 'customer messages', current: inbound, previous: 2_184, change: round((inbound - 2_184) / 2_184, 4), normal: Math.abs((inbound - 2_184) / 2_184) <= 0.15 },
      { metric: 'conversations answered', current: 399, previous: 414, change: round((399 - 414) / 414, 4), normal: true },
      { metric: 'mean first response (s)', current: round(meanResponse, 1), previous: 201.4, change: round((meanResponse - 201.4) / 201.4, 4), normal: Math.abs((meanResponse - 201.4) / 201.4) <= 0.15 },
      { metric: 'orders', current: orders, previous: 41, change: round((orders - 41) / 41, 4), normal: Math.abs((orders - 41) / 41) <= 0.15 },
      { metric: 'revenue (HKD)', current: revenue, previous: 21_930, change: round((revenue - 21_930) / 21_930, 4), normal: Math.abs((revenue - 21_930) / 21_930) <= 0.15 },
      { metric: 'link clicks', current: null, previous: null, change: null, normal: null },
      { metric: 'new customers', current: 87, previous: 0, change: null, normal: null },
    ],
    beforeAfter: {
      baseline: { from: '2026-09-01', to: '2026-09-30', source: 'configured' },
      rows: [
        { metric: 'mean first response (s)', before: 540, after: round(meanResponse, 1), change: round((meanResponse - 540) / 540, 4), claim: 'response time down from hours to minutes' },
        { metric: 'satisfaction (1–5)', before: 3.8, after: 4.08, change: round((4.08 - 3.8) / 3.8, 4), claim: 'satisfaction 3.8 → 4.5' },
        { metric: 'first contact → order', before: 0.094, after: round(58 / 412, 4), change: round((58 / 412 - 0.094) / 0.094, 4), claim: 'conversion up by a third' },
        { metric: 'repeat purchase rate', before: null, after: 0.21, change: null, claim: 'repeat purchases up 27 %' },
      ],
    },
    intentAccuracy: { accuracy: 0.764, measuredOn: '2026-11-28', retrain: true },
    alerts: [
      'Complaint rate above 5 % for 3 days in a row (5.6 %, 6.4 %, 7.1 %, to 2026-11-29).',
      'Discount inquiry → order 10.4 % (< 12 %): 10 of 96 customers who asked about a discount ordered.',
      'agent-chris.ho: mean first response 7 min 11 s (> 6 min) — training recommended.',
      'Intent accuracy 76.4 % (< 80 %, measured 2026-11-28): retrain the rules.',
    ],
  };
  return { ...report, ...overrides };
}
