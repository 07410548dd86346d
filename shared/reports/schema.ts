/**
 * The report as a machine reads it (RP-1 … RP-13, OP-3): the JSON the reports write, the source of
 * the HTML and the CSV. Shares and rates are fractions 0..1, times are seconds, money is USD unless
 * a currency is named; dates are `YYYY-MM-DD` in the report's time zone, hours are local 0..23 and
 * weekdays run Monday (0) to Sunday (6). Every figure with a benchmark of the article carries it
 * beside it. `schemaVersion` changes when a field changes meaning or goes away (adding is not a change).
 */

export const REPORT_KINDS = ['daily', 'weekly'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];
export const REPORT_FORMATS = ['html', 'json', 'csv'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** The funnel's stages, in order (RP-4): customers who wrote, asked about a product, showed purchase intent, ordered. */
export const FUNNEL_STAGES = ['first_contact', 'product_question', 'purchase_intent', 'deal'] as const;
export type FunnelStage = (typeof FUNNEL_STAGES)[number];

/** The article's figures each report figure is read against. */
export const BENCHMARKS = {
  /** RP-1: share of a day's messages in its busiest 2 hours ("35 % between 14:00 and 16:00"). */
  busiestWindowShare: 0.35,
  /** RP-2: the industry's mean first response, 4 min 15 s; the target, under 3 min; an agent over 6 min is flagged. */
  responseIndustrySeconds: 255,
  responseTargetSeconds: 180,
  responseFlagSeconds: 360,
  /** RP-2: resolution rate. */
  resolutionRate: 0.85,
  /** RP-3: during a promotion, "discount" in fewer than 8 % of messages means the promotion is weak. */
  promotionDiscountShare: 0.08,
  /** RP-4: first contact → deal above 12 % is healthy; discount inquiry → order below 12 % is an alert. */
  funnelHealthyRate: 0.12,
  discountToOrderRate: 0.12,
  /** RP-4: days from first contact to purchase. */
  conversionCycleDays: 3.7,
  /** RP-5: acquisition cost per WhatsApp customer, USD, reasonable for e-commerce. */
  acquisitionUsd: [0.8, 1.2] as const,
  /** RP-6: a period-over-period change within ± 15 % is normal. */
  periodChange: 0.15,
  /** RP-7: a complaint rate above 5 % three days in a row is an anomaly. */
  complaintRate: 0.05,
  complaintDays: 3,
  /** RP-8: interactions a week falling from 3 to 1 with the last sentiment below 0.3: churn risk (27 % won back). */
  churnFromInteractions: 3,
  churnToInteractions: 1,
  churnSentiment: 0.3,
  /** RP-11: WhatsApp's acquisition cost is usually 20 % below other channels'. */
  channelAdvantage: 0.2,
  /** RP-12: conversion of customers asking about cash on delivery vs card payment. */
  paymentConversion: { cash_on_delivery: 0.12, credit_card: 0.35 } as const,
  /** RP-13: satisfaction before and after the article's automation. */
  satisfaction: { before: 3.8, after: 4.5 } as const,
  /** TG-8: intent accuracy below 80 % → retrain the rules. */
  intentAccuracy: 0.8,
} as const;

export interface DateRange {
  /** First day, inclusive. */
  readonly from: string;
  /** Last day, inclusive. */
  readonly to: string;
}

export interface Period extends DateRange {
  readonly timeZone: string;
}

export interface Summary {
  readonly mean: number;
  readonly median: number;
}

export interface AgentResponse {
  readonly agentId: string;
  /** First responses the agent gave in the period. */
  readonly count: number;
  readonly meanSeconds: number;
  readonly medianSeconds: number;
  /** Mean above 6 min: "training recommended". */
  readonly flagged: boolean;
  /** Conversations the agent answered in the period, and in the previous one (RP-6). */
  readonly conversations: number;
  readonly previousConversations: number;
}

export interface HotWordRow {
  /** The hot word's id in config/intelligence/rules.json (`discount`). */
  readonly word: string;
  readonly family: string;
  /** Customer messages that used it. */
  readonly count: number;
  /** count / customer messages with words. */
  readonly share: number;
  readonly previousShare: number;
  /** share − previousShare. */
  readonly trend: number;
}

export interface FunnelRow {
  readonly stage: FunnelStage;
  /** Customers at this stage in the period. */
  readonly count: number;
  /** count / first_contact count. */
  readonly rate: number;
  /** count / the previous stage's count (1 for first_contact). */
  readonly stageRate: number;
}

export interface ComplaintDay {
  readonly date: string;
  /** Customer messages tagged `complaint` / customer messages. */
  readonly rate: number;
  readonly complaints: number;
  readonly inbound: number;
}

export interface ChurnRow {
  readonly contactId: string;
  readonly reason: string;
  readonly previousWeekInteractions: number;
  readonly thisWeekInteractions: number;
  readonly lastSentiment: number;
}

export interface HourRate {
  readonly hour: number;
  readonly delivered: number;
  readonly read: number;
  /** read / delivered (0 when nothing was delivered). */
  readonly rate: number;
}

export interface DayTransactions {
  readonly date: string;
  readonly orders: number;
  readonly revenue: number;
  /** Customers who ordered / customers who wrote that day. */
  readonly conversion: number;
}

export interface ForecastDay {
  readonly date: string;
  readonly orders: number;
  readonly revenue: number;
}

export interface PaymentRow {
  /** The payment hot word's id (`cash_on_delivery`, `credit_card`, …). */
  readonly method: string;
  /** Customers who asked about it in the period. */
  readonly asked: number;
  /** Of them, customers who ordered in the period. */
  readonly ordered: number;
  readonly conversion: number;
  /** The article's figure for this method, when it gives one. */
  readonly benchmark?: number | undefined;
}

export interface ChannelRow {
  readonly channel: string;
  readonly spendUsd: number;
  readonly customers: number;
  /** spendUsd / customers (null when no customer came). */
  readonly perCustomerUsd: number | null;
}

export interface ComparisonRow {
  readonly metric: string;
  readonly current: number | null;
  readonly previous: number | null;
  /** (current − previous) / previous; null when previous is 0 or unknown. */
  readonly change: number | null;
  /** |change| ≤ 15 % (RP-6); null when there is no change to judge. */
  readonly normal: boolean | null;
}

export interface BeforeAfterRow {
  readonly metric: string;
  readonly before: number | null;
  readonly after: number | null;
  readonly change: number | null;
  /** What the article claims for this figure. */
  readonly claim: string;
}

export interface Report {
  readonly schemaVersion: 1;
  readonly kind: ReportKind;
  /** `weekly-2026-11-23` (the period's first day). */
  readonly name: string;
  /** ISO instant. */
  readonly generatedAt: string;
  readonly period: Period;
  readonly previousPeriod: DateRange;
  readonly messages: { readonly inbound: number; readonly outbound: number; readonly previousInbound: number; readonly previousOutbound: number };
  /** RP-1: customer messages per local hour, 24 counts. */
  readonly activeHours: readonly number[];
  /** RP-1: 7 × 24, Monday first. */
  readonly activeHoursByWeekday: readonly (readonly number[])[];
  /** RP-1: the 2-hour window (startHour, startHour + 1) with most customer messages. */
  readonly busiestWindow: { readonly startHour: number; readonly share: number; readonly benchmarkShare: number };
  /** RP-2. */
  readonly responseTime: {
    readonly overall: { readonly count: number; readonly meanSeconds: number | null; readonly medianSeconds: number | null };
    readonly agents: readonly AgentResponse[];
    readonly industrySeconds: number;
    readonly targetSeconds: number;
    readonly flagAboveSeconds: number;
  };
  /** RP-2: conversations started and resolved in the period. */
  readonly resolution: { readonly started: number; readonly resolved: number; readonly rate: number | null; readonly benchmark: number };
  /** RP-3: the tracked hot words that were used, most used first. */
  readonly hotWords: readonly HotWordRow[];
  /** How many hot words are tracked (config). */
  readonly hotWordsTracked: number;
  /** RP-3: a promotion running in the period (config/reports.json) and the share of "discount". */
  readonly promotion: { readonly active: boolean; readonly names: readonly string[]; readonly discountShare: number; readonly weak: boolean };
  /** RP-4. */
  readonly funnel: readonly FunnelRow[];
  readonly funnelHealthy: boolean;
  /** RP-4: customers who asked about a discount, and of them who ordered. */
  readonly discountToOrder: { readonly inquiries: number; readonly orders: number; readonly rate: number | null; readonly alert: boolean };
  /** RP-4: days from a customer's first message to an order. */
  readonly conversionCycle: { readonly count: number; readonly meanDays: number | null; readonly benchmarkDays: number };
  /** RP-7: each day of the period. */
  readonly complaintRate: readonly ComplaintDay[];
  /** RP-7: consecutive days above 5 % ending on the period's last day; `alert` from 3. */
  readonly complaintStreak: { readonly days: number; readonly alert: boolean };
  /** RP-8. */
  readonly churnRisk: readonly ChurnRow[];
  /** RP-10: statuses of our messages, by the local hour they were asked for (the outbox row's createdAt). */
  readonly readRate: { readonly delivered: number; readonly read: number; readonly rate: number | null; readonly byHour: readonly HourRate[] };
  /** RP-10: of our messages with tracked links (`tracked`: any in the period), those clicked; ctr = clicked / with links. */
  readonly clicks: { readonly tracked: boolean; readonly clicks: number; readonly ctr: number | null };
  /** RP-10: orders and revenue per day, and a forecast of the next 7 days. */
  readonly transactions: {
    readonly orders: number;
    readonly revenue: number;
    readonly currency: string;
    readonly averageOrderValue: number | null;
    readonly conversion: number | null;
    readonly daily: readonly DayTransactions[];
    readonly forecast: readonly ForecastDay[];
    /** How the forecast is made, in words. */
    readonly forecastMethod: string;
  };
  /** RP-12. */
  readonly paymentMethods: readonly PaymentRow[];
  readonly paymentAdvice: string | null;
  /** RP-13: ratings 1–5 given in the period. */
  readonly satisfaction: { readonly count: number; readonly mean: number | null; readonly distribution: readonly number[]; readonly benchmark: { readonly before: number; readonly after: number } };
  /** RP-5, OP-3, RP-11. */
  readonly cost: {
    /** What Meta billed (delivered messages priced by the rate card in effect when sent). */
    readonly metaUsd: number;
    /** Our AWS cost of the period by the cost model (docs/cost.md). */
    readonly awsUsd: number;
    /** (metaUsd + awsUsd) / messages (inbound + outbound); null without messages. */
    readonly perMessageUsd: number | null;
    readonly metaPerMessageUsd: number | null;
    readonly awsPerMessageUsd: number | null;
    readonly billedMessages: number;
    /** Meta's cost by pricing category. */
    readonly byCategory: Readonly<Record<string, number>>;
    /** RP-5: new WhatsApp customers of the period and what each cost (Meta + AWS + configured WhatsApp spend). */
    readonly acquisition: { readonly newCustomers: number; readonly spendUsd: number; readonly perCustomerUsd: number | null; readonly benchmarkUsd: readonly [number, number] };
    /** RP-11: WhatsApp against the configured spend of other channels. */
    readonly channels: readonly ChannelRow[];
    /** The AWS cost model's basis: prices (region, date, source) and measured usage per message. */
    readonly model: { readonly region: string; readonly pricesAsOf: string; readonly perMessageUsd: number; readonly fixedMonthlyUsd: number; readonly source: string };
  };
  /** RP-6. */
  readonly periodOverPeriod: readonly ComparisonRow[];
  /** RP-9: the baseline (config/reports.json, else the previous period) against this period. */
  readonly beforeAfter: { readonly baseline: DateRange & { readonly source: 'configured' | 'previous period' }; readonly rows: readonly BeforeAfterRow[] };
  /** TG-8: intent accuracy as last measured (npm run eval); below 80 % → retrain the rules. */
  readonly intentAccuracy: { readonly accuracy: number | null; readonly measuredOn: string; readonly retrain: boolean };
  /** Every alert of the report, one line each (complaint streak, weak promotion, flagged agents …). */
  readonly alerts: readonly string[];
}
