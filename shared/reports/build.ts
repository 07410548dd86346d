/**
 * The report (schema.ts) from the aggregates of its days: pure, so a test can give it a week and
 * check every figure by hand. The days it reads are {@link daysNeeded}; the loader (load.ts) reads
 * them and the last sentiment of the few customers the churn rule names, and nothing else.
 *
 * Definitions, where the article leaves room (docs/reports.md says why):
 * - a week is Monday–Sunday in the business's time zone; a daily report is one local day;
 * - a customer message is an inbound message that is not a system notice;
 * - the funnel counts customers: who wrote in the period, and of them who asked about a product
 *   (intent `product_question`, a SKU, a price question or purchase intent), who showed purchase
 *   intent, and who ordered in the period;
 * - response time is an agent's first answer to a waiting customer (AG-1), by the answer's time;
 * - read rate is over our messages by the hour they were sent: read / delivered;
 * - an interaction (RP-8) is a day on which the customer wrote; churn compares the 7 days ending
 *   with the period with the 7 before;
 * - agent hours (RP-9) are the (agent, local hour) pairs in which an agent sent a message.
 */
import type { DayAggregate } from '../store/stats.ts';
import type { ReportsConfig } from './config.ts';
import { C, L, S } from './facts.ts';
import {
  BENCHMARKS as B,
  FUNNEL_STAGES,
  type AgentResponse,
  type BeforeAfterRow,
  type ChurnRow,
  type ComparisonRow,
  type DateRange,
  type Report,
  type ReportKind,
} from './schema.ts';
import { addDays, daysBetween, daysOf, mondayOf, weekdayOf } from './time.ts';

export interface CostBasis {
  readonly region: string;
  readonly pricesAsOf: string;
  readonly source: string;
  /** Modelled AWS cost of one message (in or out), USD. */
  readonly perMessageUsd: number;
  /** What the deployment costs a month with no message at all, USD. */
  readonly fixedMonthlyUsd: number;
}

export interface BuildInput {
  readonly kind: ReportKind;
  readonly period: DateRange;
  readonly timeZone: string;
  readonly generatedAt: number;
  /** Every day of {@link daysNeeded}; a missing day counts as empty. */
  readonly days: ReadonlyMap<string, DayAggregate>;
  readonly config: ReportsConfig;
  /** Hot-word id → family (config/intelligence/rules.json). */
  readonly hotWordFamily: ReadonlyMap<string, string>;
  /** The last sentiment of a churn candidate (contacts the churn rule asked about). */
  readonly lastSentiment: ReadonlyMap<string, number | undefined>;
  readonly cost: CostBasis;
  readonly intentAccuracy: { readonly accuracy: number | null; readonly measuredOn: string };
}

const DAYS_PER_MONTH = 30.4375;

/** The period a report of `kind` covers for a day in it: the day, or its Monday–Sunday week. */
export function reportPeriod(kind: ReportKind, at: string): DateRange {
  if (kind === 'daily') return { from: at, to: at };
  const from = mondayOf(at);
  return { from, to: addDays(from, 6) };
}

/** The period of the same length just before. */
export function previousPeriod(period: DateRange): DateRange {
  const length = daysBetween(period.from, period.to) + 1;
  return { from: addDays(period.from, -length), to: addDays(period.from, -1) };
}

/** The window the churn rule and the forecast read: 14 days ending with the period. */
const lookback = (period: DateRange): DateRange => ({ from: addDays(period.to, -13), to: period.to });

/** Every day a report reads: the period, the one before, 14 days of look-back and the baseline. */
export function daysNeeded(period: DateRange, config: ReportsConfig): string[] {
  const previous = previousPeriod(period);
  const back = lookback(period);
  const from = previous.from < back.from ? previous.from : back.from;
  const days = new Set(daysOf(from, period.to));
  if (config.baseline) for (const day of daysOf(config.baseline.from, config.baseline.to)) days.add(day);
  return [...days].sort();
}

// -- reading the aggregates ---------------------------------------------------------------------

const EMPTY: DayAggregate = { day: '', hours: new Map(), samples: {}, members: {} };

class Window {
  readonly aggregates: readonly DayAggregate[];
  private totals?: Record<string, number>;
  constructor(
    readonly range: DateRange,
    days: ReadonlyMap<string, DayAggregate>,
  ) {
    this.aggregates = daysOf(range.from, range.to).map((day) => days.get(day) ?? { ...EMPTY, day });
  }

  get length(): number {
    return this.aggregates.length;
  }

  /** Every counter summed over the window. */
  sums(): Record<string, number> {
    if (this.totals) return this.totals;
    const totals: Record<string, number> = {};
    for (const day of this.aggregates) for (const counters of day.hours.values()) for (const [name, value] of Object.entries(counters)) totals[name] = (totals[name] ?? 0) + value;
    return (this.totals = totals);
  }

  sum(name: string): number {
    return this.sums()[name] ?? 0;
  }

  /** The union of a member set over the window. */
  members(name: string): Set<string> {
    const out = new Set<string>();
    for (const day of this.aggregates) for (const member of day.members[name] ?? []) out.add(member);
    return out;
  }

  /** Every sample of the lists whose name starts with `prefix`, by the rest of the name. */
  samples(prefix: string): Map<string, number[]> {
    const out = new Map<string, number[]>();
    for (const day of this.aggregates) {
      for (const [name, values] of Object.entries(day.samples)) {
        if (!name.startsWith(prefix)) continue;
        const key = name.slice(prefix.length);
        out.set(key, [...(out.get(key) ?? []), ...values]);
      }
    }
    return out;
  }

  /** Member-set names starting with `prefix`, without it. */
  memberNames(prefix: string): string[] {
    const names = new Set<string>();
    for (const day of this.aggregates) for (const name of Object.keys(day.members)) if (name.startsWith(prefix)) names.add(name.slice(prefix.length));
    return [...names].sort();
  }
}

// -- small arithmetic ---------------------------------------------------------------------------

const ratio = (a: number, b: number): number | null => (b > 0 ? a / b : null);
const mean = (values: readonly number[]): number | null => (values.length ? values.reduce((s, v) => s + v, 0) / values.length : null);
export function median(values: readonly number[]): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
const intersect = (a: ReadonlySet<string>, b: ReadonlySet<string>): number => {
  let n = 0;
  for (const x of a) if (b.has(x)) n++;
  return n;
};
const change = (current: number | null, previous: number | null): number | null => (current === null || previous === null || previous === 0 ? null : (current - previous) / previous);
const round = (value: number, digits = 6) => Math.round(value * 10 ** digits) / 10 ** digits;

function compare(metric: string, current: number | null, previous: number | null): ComparisonRow {
  const c = change(current, previous);
  return { metric, current, previous, change: c === null ? null : round(c, 4), normal: c === null ? null : Math.abs(c) <= B.periodChange };
}

/** Least-squares line through the points (x = 0, 1, …), or a flat line through one point. */
function trendLine(values: readonly number[]): (x: number) => number {
  const n = values.length;
  if (n < 2) return () => values[0] ?? 0;
  const mx = (n - 1) / 2;
  const my = values.reduce((s, v) => s + v, 0) / n;
  let sxy = 0;
  let sxx = 0;
  values.forEach((v, x) => {
    sxy += (x - mx) * (v - my);
    sxx += (x - mx) ** 2;
  });
  const slope = sxx ? sxy / sxx : 0;
  return (x) => my + slope * (x - mx);
}

// -- the figures --------------------------------------------------------------------------------

function responseOf(w: Window) {
  const byAgent = w.samples(L.response(''));
  const all = [...byAgent.values()].flat();
  return { byAgent, all };
}

function funnelSets(w: Window) {
  const first = w.members(S.active);
  const within = (name: string) => new Set([...w.members(name)].filter((c) => first.has(c)));
  const pq = within(S.productQuestion);
  for (const c of within(S.purchaseIntent)) pq.add(c);
  return { first, pq, pi: within(S.purchaseIntent), deal: within(S.deal) };
}

const conversionOf = (w: Window): number | null => {
  const f = funnelSets(w);
  return ratio(f.deal.size, f.first.size);
};

const revenueOf = (w: Window, currency: string) => w.sum(C.revenue(currency)) / 100;

function agentHours(w: Window): number {
  return w.members(S.agentHours).size;
}

export function buildReport(input: BuildInput): Report {
  const { period, config } = input;
  const cur = new Window(period, input.days);
  const prevRange = previousPeriod(period);
  const prev = new Window(prevRange, input.days);
  const baselineRange = config.baseline ?? prevRange;
  const baseline = new Window(baselineRange, input.days);
  const c = cur.sums();
  const n = (name: string) => c[name] ?? 0;
  const alerts: string[] = [];

  // RP-1
  const activeHours = Array.from({ length: 24 }, () => 0);
  const byWeekday = Array.from({ length: 7 }, () => Array.from({ length: 24 }, () => 0));
  for (const day of cur.aggregates) {
    const weekday = weekdayOf(day.day);
    for (const [hour, counters] of day.hours) {
      const inbound = counters[C.inbound] ?? 0;
      activeHours[hour]! += inbound;
      byWeekday[weekday]![hour]! += inbound;
    }
  }
  const inbound = n(C.inbound);
  let startHour = 0;
  for (let h = 1; h < 23; h++) if (activeHours[h]! + activeHours[h + 1]! > activeHours[startHour]! + activeHours[startHour + 1]!) startHour = h;
  const busiestShare = inbound ? (activeHours[startHour]! + activeHours[startHour + 1]!) / inbound : 0;

  // RP-2, RP-6
  const response = responseOf(cur);
  const previousResponse = responseOf(prev);
  const agentIds = [...new Set([...response.byAgent.keys(), ...cur.memberNames(S.agentConversations('')), ...prev.memberNames(S.agentConversations(''))])].sort();
  const agents: AgentResponse[] = agentIds.map((agentId) => {
    const samples = response.byAgent.get(agentId) ?? [];
    const meanSeconds = mean(samples);
    return {
      agentId,
      count: samples.length,
      meanSeconds: meanSeconds === null ? 0 : round(meanSeconds, 1),
      medianSeconds: median(samples) ?? 0,
      flagged: meanSeconds !== null && meanSeconds > B.responseFlagSeconds,
      conversations: cur.members(S.agentConversations(agentId)).size,
      previousConversations: prev.members(S.agentConversations(agentId)).size,
    };
  });
  for (const a of agents) if (a.flagged) alerts.push(`Agent ${a.agentId}: mean first response ${Math.round(a.meanSeconds)} s, over 6 min — training recommended (RP-2).`);
  const overallMean = mean(response.all);
  const started = n(C.conversationsStarted);
  const resolved = n(C.conversationsResolved);

  // RP-3
  const withWords = n(C.withWords);
  const prevC = prev.sums();
  const prevWords = prevC[C.withWords] ?? 0;
  const words = new Set<string>();
  for (const source of [c, prevC]) for (const name of Object.keys(source)) if (name.startsWith(C.hotWord(''))) words.add(name.slice(C.hotWord('').length));
  const hotWords = [...words]
    .map((word) => {
      const count = n(C.hotWord(word));
      const share = withWords ? count / withWords : 0;
      const previousShare = prevWords ? (prevC[C.hotWord(word)] ?? 0) / prevWords : 0;
      return { word, family: input.hotWordFamily.get(word) ?? word, count, share: round(share), previousShare: round(previousShare), trend: round(share - previousShare) };
    })
    .filter((row) => row.count > 0 || row.previousShare > 0)
    .sort((a, b) => b.count - a.count || a.word.localeCompare(b.word));
  const promotions = config.promotions.filter((p) => p.from <= period.to && p.to >= period.from);
  const discountShare = withWords ? n(C.hotWord('discount')) / withWords : 0;
  const weakPromotion = promotions.length > 0 && withWords > 0 && discountShare < B.promotionDiscountShare;
  if (weakPromotion) alerts.push(`"discount" in ${(discountShare * 100).toFixed(1)} % of messages during ${promotions.map((p) => p.name).join(', ')}: under 8 %, the promotion is weak (RP-3).`);

  // RP-4
  const f = funnelSets(cur);
  const counts = [f.first.size, f.pq.size, f.pi.size, f.deal.size];
  const funnel = FUNNEL_STAGES.map((stage, i) => ({
    stage,
    count: counts[i]!,
    rate: round(ratio(counts[i]!, counts[0]!) ?? 0),
    stageRate: round(i === 0 ? (counts[0] ? 1 : 0) : (ratio(counts[i]!, counts[i - 1]!) ?? 0)),
  }));
  const dealRate = ratio(f.deal.size, f.first.size);
  const funnelHealthy = dealRate !== null && dealRate > B.funnelHealthyRate;
  if (f.first.size > 0 && !funnelHealthy) alerts.push(`First contact → deal ${((dealRate ?? 0) * 100).toFixed(1)} %: at or under the healthy 12 % (RP-4).`);
  const discountAsked = cur.members(S.discount);
  const deals = cur.members(S.deal);
  const discountOrders = intersect(discountAsked, deals);
  const discountRate = ratio(discountOrders, discountAsked.size);
  const discountAlert = discountRate !== null && discountRate < B.discountToOrderRate;
  if (discountAlert) alerts.push(`Discount inquiry → order ${((discountRate ?? 0) * 100).toFixed(1)} %: under 12 % (RP-4).`);
  const cycleCount = n(C.cycleCount);

  // RP-7: the period's days, and the streak ending on its last day (looking back up to 6 days more).
  const rateOf = (day: DayAggregate) => {
    let complaints = 0;
    let messages = 0;
    for (const counters of day.hours.values()) {
      complaints += counters[C.tag('complaint')] ?? 0;
      messages += counters[C.inbound] ?? 0;
    }
    return { complaints, inbound: messages, rate: messages ? complaints / messages : 0 };
  };
  const complaintRate = cur.aggregates.map((day) => ({ date: day.day, ...rateOf(day), rate: round(rateOf(day).rate) }));
  let streak = 0;
  for (let day = period.to; streak < 30; day = addDays(day, -1)) {
    const aggregate = input.days.get(day);
    if (!aggregate || rateOf(aggregate).rate <= B.complaintRate) break;
    streak++;
  }
  const complaintAlert = streak >= B.complaintDays;
  if (complaintAlert) alerts.push(`Complaint rate above 5 % for ${streak} days in a row, up to ${period.to} (RP-7).`);

  // RP-8
  const back = lookback(period);
  const thisWeek = new Window({ from: addDays(back.to, -6), to: back.to }, input.days);
  const lastWeek = new Window({ from: back.from, to: addDays(back.to, -7) }, input.days);
  const churnRisk = churnCandidates(lastWeek, thisWeek)
    .map((candidate): ChurnRow | undefined => {
      const sentiment = input.lastSentiment.get(candidate.contactId);
      if (sentiment === undefined || sentiment >= B.churnSentiment) return undefined;
      return {
        ...candidate,
        lastSentiment: round(sentiment, 3),
        reason: `interactions fell from ${candidate.previousWeekInteractions} to ${candidate.thisWeekInteractions} a week and the last sentiment is ${sentiment.toFixed(2)} (under 0.3): win-back offer suggested`,
      };
    })
    .filter((row): row is ChurnRow => row !== undefined);
  if (churnRisk.length) alerts.push(`${churnRisk.length} customer${churnRisk.length === 1 ? '' : 's'} at churn risk: a win-back offer is suggested (RP-8).`);

  // RP-10
  const byHour = Array.from({ length: 24 }, (_, hour) => {
    let delivered = 0;
    let read = 0;
    for (const day of cur.aggregates) {
      delivered += day.hours.get(hour)?.[C.delivered] ?? 0;
      read += day.hours.get(hour)?.[C.read] ?? 0;
    }
    return { hour, delivered, read, rate: delivered ? round(read / delivered) : 0 };
  });
  const delivered = n(C.delivered);
  const clicks = n(C.clicks);
  const currency = config.currency;
  const revenue = revenueOf(cur, currency);
  const orders = n(C.orders);
  const daily = cur.aggregates.map((day) => {
    const w = new Window({ from: day.day, to: day.day }, input.days);
    // A day's buyers often wrote the day before: customers who ordered that day per customer who wrote that day.
    return { date: day.day, orders: w.sum(C.orders), revenue: revenueOf(w, currency), conversion: round(ratio(w.members(S.deal).size, w.members(S.active).size) ?? 0) };
  });
  const history = new Window(back, input.days).aggregates.map((day) => {
    const w = new Window({ from: day.day, to: day.day }, input.days);
    return { orders: w.sum(C.orders), revenue: revenueOf(w, currency) };
  });
  const orderLine = trendLine(history.map((h) => h.orders));
  const revenueLine = trendLine(history.map((h) => h.revenue));
  const forecast = Array.from({ length: 7 }, (_, i) => ({
    date: addDays(period.to, i + 1),
    orders: round(Math.max(0, orderLine(history.length + i)), 2),
    revenue: round(Math.max(0, revenueLine(history.length + i)), 2),
  }));
  const otherCurrencies = Object.keys(c).filter((name) => name.startsWith(C.revenue('')) && name !== C.revenue(currency)).map((name) => name.slice(C.revenue('').length));
  if (otherCurrencies.length) alerts.push(`Orders in ${otherCurrencies.join(', ')} are not in the revenue, which is in ${currency} (config/reports.json currency).`);

  // RP-12
  const paymentMethods = cur
    .memberNames(S.paymentAsked(''))
    .map((method) => {
      const asked = cur.members(S.paymentAsked(method));
      const ordered = intersect(asked, deals);
      const benchmark = (B.paymentConversion as Record<string, number>)[method];
      return { method, asked: asked.size, ordered, conversion: round(ratio(ordered, asked.size) ?? 0), ...(benchmark !== undefined && { benchmark }) };
    })
    .filter((row) => row.asked > 0)
    .sort((a, b) => b.asked - a.asked || a.method.localeCompare(b.method));
  const cod = paymentMethods.find((p) => p.method === 'cash_on_delivery');
  const card = paymentMethods.find((p) => p.method === 'credit_card');
  const paymentAdvice =
    cod && card && cod.conversion < card.conversion
      ? `Customers asking about cash on delivery converted at ${(cod.conversion * 100).toFixed(1)} %, card payers at ${(card.conversion * 100).toFixed(1)} %: prioritise online payment when a customer asks how to pay (the article: 12 % vs 35 %).`
      : cod && card
        ? `Cash on delivery converted as well as card (${(cod.conversion * 100).toFixed(1)} % vs ${(card.conversion * 100).toFixed(1)} %): no change of payment advice needed.`
        : null;

  // RP-13
  const ratings = n(C.ratingCount);
  const satisfactionMean = ratio(n(C.ratingSum), ratings);

  // RP-5, OP-3, RP-11
  const messages = inbound + n(C.outbound);
  const metaUsd = n(C.metaMicroUsd) / 1_000_000;
  const awsUsd = messages * input.cost.perMessageUsd + (input.cost.fixedMonthlyUsd * cur.length) / DAYS_PER_MONTH;
  const byCategory: Record<string, number> = {};
  for (const [name, value] of Object.entries(c)) if (name.startsWith(C.metaCategory(''))) byCategory[name.slice(C.metaCategory('').length)] = round(value / 1_000_000);
  const newCustomers = cur.members(S.newCustomers).size;
  const months = cur.length / DAYS_PER_MONTH;
  const acquisitionSpend = metaUsd + awsUsd + config.whatsappSpendUsdPerMonth * months;
  const channels = [
    { channel: 'WhatsApp', spendUsd: round(acquisitionSpend, 4), customers: newCustomers, perCustomerUsd: ratio(acquisitionSpend, newCustomers) === null ? null : round(acquisitionSpend / newCustomers, 4) },
    ...config.channels.map((ch) => {
      const spend = ch.spendUsdPerMonth * months;
      const customers = ch.customersPerMonth * months;
      return { channel: ch.channel, spendUsd: round(spend, 4), customers: round(customers, 1), perCustomerUsd: customers > 0 ? round(spend / customers, 4) : null };
    }),
  ];

  // RP-6
  const p = prev.sums();
  const pn = (name: string) => p[name] ?? 0;
  const perAgent = (w: Window) => {
    const ids = w.memberNames(S.agentConversations(''));
    return ids.length ? ids.reduce((s, id) => s + w.members(S.agentConversations(id)).size, 0) / ids.length : null;
  };
  const complaintShare = (sums: Record<string, number>) => ratio(sums[C.tag('complaint')] ?? 0, sums[C.inbound] ?? 0);
  const periodOverPeriod: ComparisonRow[] = [
    compare('customer messages', inbound, pn(C.inbound)),
    compare('our messages', n(C.outbound), pn(C.outbound)),
    compare('conversations started', started, pn(C.conversationsStarted)),
    compare('conversations per agent', perAgent(cur), perAgent(prev)),
    compare('mean first response (s)', overallMean, mean(previousResponse.all)),
    compare('resolution rate', ratio(resolved, started), ratio(pn(C.conversationsResolved), pn(C.conversationsStarted))),
    compare('first contact → deal', dealRate, conversionOf(prev)),
    compare('orders', orders, pn(C.orders)),
    compare(`revenue (${currency})`, revenue, revenueOf(prev, currency)),
    compare('satisfaction (1–5)', satisfactionMean, ratio(pn(C.ratingSum), pn(C.ratingCount))),
    compare('complaint rate', complaintShare(c), complaintShare(p)),
    compare('read rate', ratio(n(C.read), delivered), ratio(pn(C.read), pn(C.delivered))),
    compare('Meta cost (USD)', metaUsd, pn(C.metaMicroUsd) / 1_000_000),
  ];

  // RP-9
  const b = baseline.sums();
  const before = (current: number | null, previous: number | null, metric: string, claim: string): BeforeAfterRow => ({ metric, before: previous, after: current, change: change(current, previous), claim });
  const perWeek = (value: number, w: Window) => (value * 7) / w.length;
  const beforeAfter = {
    baseline: { ...baselineRange, source: config.baseline ? ('configured' as const) : ('previous period' as const) },
    rows: [
      before(overallMean, mean(responseOf(baseline).all), 'mean first response (s)', 'industry 4 min 15 s; target under 3 min'),
      before(perWeek(agentHours(cur), cur), perWeek(agentHours(baseline), baseline), 'agent hours a week', 'automation saves about 200 hours of routine work a month'),
      before(dealRate, conversionOf(baseline), 'first contact → deal', 'healthy above 12 %'),
      before(satisfactionMean, ratio(b[C.ratingSum] ?? 0, b[C.ratingCount] ?? 0), 'satisfaction (1–5)', '3.8 → 4.5 after automation'),
      before(ratio(resolved, started), ratio(b[C.conversationsResolved] ?? 0, b[C.conversationsStarted] ?? 0), 'resolution rate', 'benchmark 85 %'),
    ],
  };

  // TG-8
  const retrain = input.intentAccuracy.accuracy !== null && input.intentAccuracy.accuracy < B.intentAccuracy;
  if (retrain) alerts.push(`Intent accuracy ${((input.intentAccuracy.accuracy ?? 0) * 100).toFixed(1)} %: under 80 % — retrain the rules (TG-8).`);

  return {
    schemaVersion: 1,
    kind: input.kind,
    name: `${input.kind}-${period.from}`,
    generatedAt: new Date(input.generatedAt).toISOString(),
    period: { ...period, timeZone: input.timeZone },
    previousPeriod: prevRange,
    messages: { inbound, outbound: n(C.outbound), previousInbound: pn(C.inbound), previousOutbound: pn(C.outbound) },
    activeHours,
    activeHoursByWeekday: byWeekday,
    busiestWindow: { startHour, share: round(busiestShare), benchmarkShare: B.busiestWindowShare },
    responseTime: {
      overall: { count: response.all.length, meanSeconds: overallMean === null ? null : round(overallMean, 1), medianSeconds: median(response.all) },
      agents,
      industrySeconds: B.responseIndustrySeconds,
      targetSeconds: B.responseTargetSeconds,
      flagAboveSeconds: B.responseFlagSeconds,
    },
    resolution: { started, resolved, rate: ratio(resolved, started) === null ? null : round(resolved / started), benchmark: B.resolutionRate },
    hotWords,
    hotWordsTracked: input.hotWordFamily.size,
    promotion: { active: promotions.length > 0, names: promotions.map((p) => p.name), discountShare: round(discountShare), weak: weakPromotion },
    funnel,
    funnelHealthy,
    discountToOrder: { inquiries: discountAsked.size, orders: discountOrders, rate: discountRate === null ? null : round(discountRate), alert: discountAlert },
    conversionCycle: { count: cycleCount, meanDays: cycleCount ? round(n(C.cycleSeconds) / cycleCount / 86_400, 2) : null, benchmarkDays: B.conversionCycleDays },
    complaintRate,
    complaintStreak: { days: streak, alert: complaintAlert },
    churnRisk,
    readRate: { delivered, read: n(C.read), rate: delivered ? round(n(C.read) / delivered) : null, byHour },
    clicks: { tracked: n(C.linked) > 0, clicks, ctr: n(C.linked) > 0 ? round(clicks / n(C.linked)) : null },
    transactions: {
      orders,
      revenue: round(revenue, 2),
      currency,
      averageOrderValue: orders ? round(revenue / orders, 2) : null,
      conversion: dealRate === null ? null : round(dealRate),
      daily,
      forecast,
      forecastMethod: 'a least-squares line through the last 14 days of daily orders and revenue, extended 7 days (never below 0)',
    },
    paymentMethods,
    paymentAdvice,
    satisfaction: {
      count: ratings,
      mean: satisfactionMean === null ? null : round(satisfactionMean, 2),
      distribution: [1, 2, 3, 4, 5].map((score) => n(C.rating(score))),
      benchmark: B.satisfaction,
    },
    cost: {
      metaUsd: round(metaUsd),
      awsUsd: round(awsUsd),
      perMessageUsd: messages ? round((metaUsd + awsUsd) / messages, 8) : null,
      metaPerMessageUsd: messages ? round(metaUsd / messages, 8) : null,
      awsPerMessageUsd: messages ? round(awsUsd / messages, 8) : null,
      billedMessages: n(C.billed),
      byCategory,
      acquisition: { newCustomers, spendUsd: round(acquisitionSpend, 4), perCustomerUsd: channels[0]!.perCustomerUsd, benchmarkUsd: B.acquisitionUsd },
      channels,
      model: { ...input.cost },
    },
    periodOverPeriod,
    beforeAfter,
    intentAccuracy: { ...input.intentAccuracy, retrain },
    alerts,
  };
}

/** Customers with 3+ interaction days in the earlier week and at most 1 in the later one. */
export function churnCandidates(earlier: { members(name: string): Set<string>; aggregates: readonly DayAggregate[] }, later: { aggregates: readonly DayAggregate[] }) {
  const days = (w: { aggregates: readonly DayAggregate[] }) => {
    const count = new Map<string, number>();
    for (const day of w.aggregates) for (const c of day.members[S.active] ?? []) count.set(c, (count.get(c) ?? 0) + 1);
    return count;
  };
  const before = days(earlier);
  const after = days(later);
  return [...before]
    .filter(([, n]) => n >= B.churnFromInteractions)
    .map(([contactId, n]) => ({ contactId, previousWeekInteractions: n, thisWeekInteractions: after.get(contactId) ?? 0 }))
    .filter((c) => c.thisWeekInteractions <= B.churnToInteractions)
    .sort((a, b) => a.contactId.localeCompare(b.contactId));
}

/** The contacts whose last sentiment the churn rule needs. */
export function churnContacts(period: DateRange, days: ReadonlyMap<string, DayAggregate>): string[] {
  const back = lookback(period);
  const later = new Window({ from: addDays(back.to, -6), to: back.to }, days);
  const earlier = new Window({ from: back.from, to: addDays(back.to, -7) }, days);
  return churnCandidates(earlier, later).map((c) => c.contactId);
}
