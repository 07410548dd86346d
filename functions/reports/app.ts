/**
 * The reports function (RP-1 … RP-13, OP-3): on its schedules (shared/resources.ts, daily 6:00 and
 * Mondays 7:00 local) the day or week just ended is built from the aggregates, written to S3 as
 * HTML, JSON and CSV (`reports/<kind>/<first day>.<format>`, and `reports/latest/<kind>.<format>`
 * for the dashboard), announced on the reports topic with signed links, and its complaint rate
 * published as a metric (the RP-7 alarm: above 5 % three days in a row). A complaint streak is also
 * an event on the bus and a line in the report. The local stack serves the same builds at
 * `/local/reports/`.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { DomainEventBus } from '#shared/events/bus';
import type { MetricsSink } from '#shared/metric-names';
import type { CostBasis } from '#shared/reports/build';
import type { ReportsConfig } from '#shared/reports/config';
import { reportLink } from '#shared/reports/links';
import { loadReport, yesterday } from '#shared/reports/load';
import { renderCsv } from '#shared/reports/render-csv';
import { renderHtml } from '#shared/reports/render-html';
import { REPORT_FORMATS, REPORT_KINDS, type Report, type ReportFormat, type ReportKind } from '#shared/reports/schema';
import { parseDay } from '#shared/reports/time';
import type { TableClient } from '#shared/store/client';
import type { StatsStore } from '#shared/store/stats';

export interface ReportFiles {
  putObject(key: string, body: Uint8Array, options: { readonly contentType: string }): Promise<void>;
}

export interface ReportTopic {
  publish(subject: string, message: string): Promise<void>;
}

export interface ReportsDeps {
  readonly store: { readonly stats: StatsStore; readonly table: TableClient };
  readonly files?: ReportFiles | undefined;
  readonly topic?: ReportTopic | undefined;
  readonly events?: DomainEventBus | undefined;
  /** Where the announced links point (the HTTP API's URL) and the key they are signed with. */
  readonly links?: { readonly publicUrl: string; readonly key: string } | undefined;
  readonly config?: ReportsConfig | undefined;
  readonly cost?: CostBasis | undefined;
  readonly metrics: MetricsSink;
  readonly logger: Pick<Logger, 'info' | 'warn'>;
  readonly now?: () => number;
}

export const CONTENT_TYPES: Record<ReportFormat, string> = {
  html: 'text/html; charset=utf-8',
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
};

/** A bad request for a report: the caller's mistake, named. */
export class ReportRequestError extends Error {
  override readonly name = 'ReportRequestError';
}

export function parseKind(value: string | undefined): ReportKind {
  if (!REPORT_KINDS.includes(value as ReportKind)) throw new ReportRequestError(`report: ${JSON.stringify(value)} is not one of ${REPORT_KINDS.join(', ')}`);
  return value as ReportKind;
}

export function parseFormat(value: string | undefined): ReportFormat {
  if (!REPORT_FORMATS.includes(value as ReportFormat)) throw new ReportRequestError(`format: ${JSON.stringify(value)} is not one of ${REPORT_FORMATS.join(', ')}`);
  return value as ReportFormat;
}

export function parseAt(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  try {
    parseDay(value);
  } catch {
    throw new ReportRequestError(`at: ${JSON.stringify(value)} is not a date YYYY-MM-DD`);
  }
  return value;
}

/** The report in one format. `links` are where its other formats are (printed beside the HTML). */
export function render(report: Report, format: ReportFormat, links?: { json?: string; csv?: string }): string {
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  if (format === 'csv') return renderCsv(report);
  return renderHtml(report, links);
}

export function createReportsApp(deps: ReportsDeps) {
  const now = deps.now ?? Date.now;
  const timeZone = deps.store.stats.timeZone;

  /** A report of `kind` for a day in it (default: the local day before now). */
  async function build(kind: ReportKind, at?: string): Promise<Report> {
    return loadReport({ stats: deps.store.stats, table: deps.store.table, config: deps.config, cost: deps.cost, now }, kind, at ?? yesterday(now(), timeZone));
  }

  /** A scheduled run: build, store, announce, measure. */
  async function run(task: string, at?: string): Promise<{ name: string; keys: string[]; alerts: readonly string[] }> {
    const kind = parseKind(task);
    const report = await build(kind, parseAt(at));
    const day = report.period.from;
    const name = (format: ReportFormat) => `${kind}-${day}.${format}`;
    const link = (format: ReportFormat) => (deps.links ? reportLink(deps.links.publicUrl, deps.links.key, name(format), now()) : undefined);
    const links = { json: link('json') ?? name('json'), csv: link('csv') ?? name('csv') };
    const keys: string[] = [];
    if (deps.files) {
      for (const format of REPORT_FORMATS) {
        const body = new TextEncoder().encode(render(report, format, links));
        for (const key of [`reports/${kind}/${day}.${format}`, `reports/latest/${kind}.${format}`]) {
          await deps.files.putObject(key, body, { contentType: CONTENT_TYPES[format] });
          keys.push(key);
        }
      }
    }
    // RP-7: one datapoint a day, the day the daily report covers (the alarm reads three in a row).
    if (kind === 'daily') deps.metrics.add('complaintRate', report.complaintRate.at(-1)?.rate ?? 0);
    if (report.complaintStreak.alert) {
      await deps.events?.publish([{ type: 'ComplaintRateHigh', id: `complaint-rate:${report.period.to}`, days: report.complaintStreak.days, to: report.period.to, rate: report.complaintRate.at(-1)?.rate } as { type: string; id: string }]);
    }
    if (deps.topic) await deps.topic.publish(subjectOf(report), announcement(report, { html: link('html'), json: links.json, csv: links.csv }));
    deps.logger.info('report built', { name: report.name, keys: keys.length, alerts: report.alerts.length });
    return { name: report.name, keys, alerts: report.alerts };
  }

  return { build, run };
}

function subjectOf(report: Report): string {
  const range = report.period.from === report.period.to ? report.period.from : `${report.period.from} – ${report.period.to}`;
  return `WhatsApp CRM ${report.kind} report ${range}${report.alerts.length ? ` (${report.alerts.length} alert${report.alerts.length === 1 ? '' : 's'})` : ''}`.slice(0, 100);
}

/** The announcement's text: the headline figures, the alerts and the links. */
export function announcement(report: Report, links: { html?: string | undefined; json?: string | undefined; csv?: string | undefined }): string {
  const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)} %`);
  const lines = [
    `${report.kind === 'weekly' ? 'Week' : 'Day'} ${report.period.from} – ${report.period.to} (${report.period.timeZone})`,
    `Customer messages ${report.messages.inbound}, ours ${report.messages.outbound}`,
    `Mean first response ${report.responseTime.overall.meanSeconds ?? '—'} s (target < 180 s), resolution ${pct(report.resolution.rate)}`,
    `First contact → deal ${pct(report.transactions.conversion)} (healthy > 12 %), orders ${report.transactions.orders}`,
    `Cost: Meta $${report.cost.metaUsd.toFixed(2)}, AWS $${report.cost.awsUsd.toFixed(2)}, per message ${report.cost.perMessageUsd === null ? '—' : `$${report.cost.perMessageUsd.toFixed(4)}`}`,
    '',
    ...(report.alerts.length ? ['Alerts:', ...report.alerts.map((a) => `- ${a}`)] : ['No alerts.']),
    '',
    ...(links.html ? [`Report: ${links.html}`] : []),
    ...(links.json ? [`JSON: ${links.json}`] : []),
    ...(links.csv ? [`CSV: ${links.csv}`] : []),
  ];
  return lines.join('\n');
}
