/**
 * The report as a spreadsheet reads it (RP-1 … RP-13, OP-3): every table of the report, one after
 * another, each under a line `# <table name>` and a header row, a blank line between tables. RFC 4180
 * (shared/batch/csv.ts): CRLF, fields quoted when they hold a comma, quote or line break, quotes
 * doubled; a text cell a spreadsheet would run as a formula is prefixed with '. Numbers are as the
 * JSON has them — fractions stay fractions (0.35, not 35 %), seconds stay seconds — and a figure the
 * report does not have (null) is an empty field. Pure: a Report in, a string out.
 */
import { toCsv, type Cell } from '../batch/csv.ts';
import type { Report } from './schema.ts';

const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] as const;

function toCell(value: unknown): Cell {
  if (value === null || value === undefined) return value;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return JSON.stringify(value);
}

/** One table: `# name`, the header row, the rows (CRLF after each). */
export function csvTable(name: string, header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return `# ${name}\r\n` + toCsv(header, rows.map((row) => row.map(toCell)));
}

type Pairs = readonly (readonly [string, unknown])[];

/** The report's single figures (RP-1, RP-2, RP-3, RP-4, RP-7, RP-10, RP-13, TG-8), one per row. */
function summaryRows(r: Report): Pairs {
  return [
    ['kind', r.kind],
    ['name', r.name],
    ['generated_at', r.generatedAt],
    ['period_from', r.period.from],
    ['period_to', r.period.to],
    ['time_zone', r.period.timeZone],
    ['previous_period_from', r.previousPeriod.from],
    ['previous_period_to', r.previousPeriod.to],
    ['messages_inbound', r.messages.inbound],
    ['messages_outbound', r.messages.outbound],
    ['messages_previous_inbound', r.messages.previousInbound],
    ['messages_previous_outbound', r.messages.previousOutbound],
    ['busiest_window_start_hour', r.busiestWindow.startHour],
    ['busiest_window_share', r.busiestWindow.share],
    ['busiest_window_benchmark_share', r.busiestWindow.benchmarkShare],
    ['response_count', r.responseTime.overall.count],
    ['response_mean_seconds', r.responseTime.overall.meanSeconds],
    ['response_median_seconds', r.responseTime.overall.medianSeconds],
    ['response_target_seconds', r.responseTime.targetSeconds],
    ['response_industry_seconds', r.responseTime.industrySeconds],
    ['response_flag_above_seconds', r.responseTime.flagAboveSeconds],
    ['resolution_started', r.resolution.started],
    ['resolution_resolved', r.resolution.resolved],
    ['resolution_rate', r.resolution.rate],
    ['resolution_benchmark', r.resolution.benchmark],
    ['satisfaction_count', r.satisfaction.count],
    ['satisfaction_mean', r.satisfaction.mean],
    ['satisfaction_benchmark_before', r.satisfaction.benchmark.before],
    ['satisfaction_benchmark_after', r.satisfaction.benchmark.after],
    ['hot_words_tracked', r.hotWordsTracked],
    ['promotion_active', r.promotion.active],
    ['promotion_names', r.promotion.names.join('; ')],
    ['promotion_discount_share', r.promotion.discountShare],
    ['promotion_weak', r.promotion.weak],
    ['funnel_healthy', r.funnelHealthy],
    ['discount_inquiries', r.discountToOrder.inquiries],
    ['discount_orders', r.discountToOrder.orders],
    ['discount_to_order_rate', r.discountToOrder.rate],
    ['discount_to_order_alert', r.discountToOrder.alert],
    ['conversion_cycle_count', r.conversionCycle.count],
    ['conversion_cycle_mean_days', r.conversionCycle.meanDays],
    ['conversion_cycle_benchmark_days', r.conversionCycle.benchmarkDays],
    ['complaint_streak_days', r.complaintStreak.days],
    ['complaint_streak_alert', r.complaintStreak.alert],
    ['read_delivered', r.readRate.delivered],
    ['read_read', r.readRate.read],
    ['read_rate', r.readRate.rate],
    ['clicks_tracked', r.clicks.tracked],
    ['clicks', r.clicks.clicks],
    ['clicks_ctr', r.clicks.ctr],
    ['orders', r.transactions.orders],
    ['revenue', r.transactions.revenue],
    ['currency', r.transactions.currency],
    ['average_order_value', r.transactions.averageOrderValue],
    ['conversion', r.transactions.conversion],
    ['forecast_method', r.transactions.forecastMethod],
    ['payment_advice', r.paymentAdvice],
    ['intent_accuracy', r.intentAccuracy.accuracy],
    ['intent_accuracy_measured_on', r.intentAccuracy.measuredOn],
    ['intent_retrain', r.intentAccuracy.retrain],
    ['baseline_from', r.beforeAfter.baseline.from],
    ['baseline_to', r.beforeAfter.baseline.to],
    ['baseline_source', r.beforeAfter.baseline.source],
  ];
}

/** RP-5, OP-3: what the period cost, per message, by category, and per new customer; the cost model's basis. */
function costRows(r: Report): Pairs {
  const c = r.cost;
  return [
    ['meta_usd', c.metaUsd],
    ['aws_usd', c.awsUsd],
    ['per_message_usd', c.perMessageUsd],
    ['meta_per_message_usd', c.metaPerMessageUsd],
    ['aws_per_message_usd', c.awsPerMessageUsd],
    ['billed_messages', c.billedMessages],
    ...Object.entries(c.byCategory).map(([category, usd]) => [`meta_${category}_usd`, usd] as const),
    ['acquisition_new_customers', c.acquisition.newCustomers],
    ['acquisition_spend_usd', c.acquisition.spendUsd],
    ['acquisition_per_customer_usd', c.acquisition.perCustomerUsd],
    ['acquisition_benchmark_low_usd', c.acquisition.benchmarkUsd[0]],
    ['acquisition_benchmark_high_usd', c.acquisition.benchmarkUsd[1]],
    ['model_region', c.model.region],
    ['model_prices_as_of', c.model.pricesAsOf],
    ['model_per_message_usd', c.model.perMessageUsd],
    ['model_fixed_monthly_usd', c.model.fixedMonthlyUsd],
    ['model_source', c.model.source],
  ];
}

/** The report's tables in the order the HTML shows them; the name of each is its `# name` line. */
function tables(r: Report): string[] {
  return [
    csvTable('summary', ['metric', 'value'], summaryRows(r)),
    csvTable('alerts', ['alert'], r.alerts.map((alert) => [alert])),
    csvTable('active_hours', ['weekday', 'hour', 'messages'],
      r.activeHoursByWeekday.flatMap((hours, weekday) => hours.map((messages, hour) => [WEEKDAYS[weekday] ?? weekday, hour, messages]))),
    csvTable('response_time', ['agent_id', 'count', 'mean_seconds', 'median_seconds', 'flagged', 'conversations', 'previous_conversations'],
      r.responseTime.agents.map((a) => [a.agentId, a.count, a.meanSeconds, a.medianSeconds, a.flagged, a.conversations, a.previousConversations])),
    csvTable('satisfaction', ['rating', 'count'], r.satisfaction.distribution.map((count, index) => [index + 1, count])),
    csvTable('complaint_rate', ['date', 'rate', 'complaints', 'inbound'], r.complaintRate.map((d) => [d.date, d.rate, d.complaints, d.inbound])),
    csvTable('churn_risk', ['contact_id', 'reason', 'previous_week_interactions', 'this_week_interactions', 'last_sentiment'],
      r.churnRisk.map((c) => [c.contactId, c.reason, c.previousWeekInteractions, c.thisWeekInteractions, c.lastSentiment])),
    csvTable('period_over_period', ['metric', 'current', 'previous', 'change', 'normal'],
      r.periodOverPeriod.map((p) => [p.metric, p.current, p.previous, p.change, p.normal])),
    csvTable('funnel', ['stage', 'count', 'rate', 'stage_rate'], r.funnel.map((f) => [f.stage, f.count, f.rate, f.stageRate])),
    csvTable('hot_words', ['word', 'family', 'count', 'share', 'previous_share', 'trend'],
      r.hotWords.map((w) => [w.word, w.family, w.count, w.share, w.previousShare, w.trend])),
    csvTable('payment_methods', ['method', 'asked', 'ordered', 'conversion', 'benchmark'],
      r.paymentMethods.map((p) => [p.method, p.asked, p.ordered, p.conversion, p.benchmark])),
    csvTable('transactions_daily', ['date', 'orders', 'revenue', 'conversion'], r.transactions.daily.map((d) => [d.date, d.orders, d.revenue, d.conversion])),
    csvTable('forecast', ['date', 'orders', 'revenue'], r.transactions.forecast.map((d) => [d.date, d.orders, d.revenue])),
    csvTable('read_rate_by_hour', ['hour', 'delivered', 'read', 'rate'], r.readRate.byHour.map((h) => [h.hour, h.delivered, h.read, h.rate])),
    csvTable('cost', ['metric', 'value'], costRows(r)),
    csvTable('channels', ['channel', 'spend_usd', 'customers', 'per_customer_usd'],
      r.cost.channels.map((c) => [c.channel, c.spendUsd, c.customers, c.perCustomerUsd])),
    csvTable('before_after', ['metric', 'before', 'after', 'change', 'claim'],
      r.beforeAfter.rows.map((b) => [b.metric, b.before, b.after, b.change, b.claim])),
  ];
}

/** The whole report as CSV: its tables one after another, a blank line between two. */
export function renderCsv(report: Report): string {
  return tables(report).join('\r\n');
}
