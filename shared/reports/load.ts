/**
 * A report from the stored aggregates: the days it needs (O(days) queries, never the messages),
 * the last sentiment of the few customers the churn rule names, the cost model and the last
 * measured intent accuracy; then the pure builder.
 */
import evalResults from '../../eval/results.json' with { type: 'json' };
import { shippedIntelligence } from '../domain/intelligence/bundled.ts';
import type { TableClient } from '../store/client.ts';
import { keys } from '../store/keys.ts';
import type { StatsStore } from '../store/stats.ts';
import { buildReport, churnContacts, daysNeeded, reportPeriod, type CostBasis } from './build.ts';
import { shippedReportsConfig, type ReportsConfig } from './config.ts';
import { awsCostModel } from './cost-model.ts';
import type { Report, ReportKind } from './schema.ts';
import { localTime, parseDay } from './time.ts';

export interface ReportDeps {
  readonly stats: StatsStore;
  readonly table: TableClient;
  readonly config?: ReportsConfig | undefined;
  readonly cost?: CostBasis | undefined;
  readonly now: () => number;
}

/** The AWS cost basis of the reports: the shipped model for the deployment's region and profile. */
export function costBasis(options: { region?: string | undefined; profile?: 'standard' | 'small' | undefined } = {}): CostBasis {
  const profile = options.profile && { profile: options.profile };
  let model: ReturnType<typeof awsCostModel>;
  let note = '';
  try {
    model = awsCostModel({ ...(options.region && { region: options.region }), ...profile });
  } catch {
    // A region the price file does not have: the reference region's prices, said so (a report still comes).
    model = awsCostModel({ ...profile });
    note = ` (no prices for ${options.region} in config/aws-prices.json: ${model.region}'s used)`;
  }
  return { region: model.region, pricesAsOf: model.pricesAsOf, source: `${model.source}${note}`, perMessageUsd: model.perMessageUsd, fixedMonthlyUsd: model.fixedMonthlyUsd };
}

/** The intent accuracy on the held-out part of the labelled set, as `npm run eval` last wrote it. */
export function measuredIntentAccuracy(): { accuracy: number | null; measuredOn: string } {
  const held = evalResults.fresh;
  return { accuracy: held.intentAccuracy, measuredOn: `${held.messages} held-out messages of eval/labelled.jsonl (npm run eval)` };
}

/** The local day before `now` (a scheduled report covers the day or week just ended). */
export function yesterday(now: number, timeZone: string): string {
  return localTime(now - 86_400_000, timeZone).day;
}

export async function loadReport(deps: ReportDeps, kind: ReportKind, at: string): Promise<Report> {
  parseDay(at);
  const config = deps.config ?? shippedReportsConfig();
  const timeZone = deps.stats.timeZone;
  const period = reportPeriod(kind, at);
  const aggregates = await deps.stats.days(daysNeeded(period, config));
  const days = new Map(aggregates.map((a) => [a.day, a]));
  const candidates = churnContacts(period, days);
  const lastSentiment = new Map<string, number | undefined>();
  if (candidates.length) {
    const items = await deps.table.batchGet(candidates.map((id) => keys.contact(id)), 'contactId, lastSentiment');
    for (const item of items) lastSentiment.set(String(item['contactId']), typeof item['lastSentiment'] === 'number' ? item['lastSentiment'] : undefined);
  }
  return buildReport({
    kind,
    period,
    timeZone,
    generatedAt: deps.now(),
    days,
    config,
    hotWordFamily: shippedIntelligence().hotWordFamily,
    lastSentiment,
    cost: deps.cost ?? costBasis(),
    intentAccuracy: measuredIntentAccuracy(),
  });
}
