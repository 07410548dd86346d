/**
 * The reports on the local stack: `GET /local/reports/` lists them, and
 * `GET /local/reports/<daily|weekly>.<html|json|csv>?at=YYYY-MM-DD` builds one from the stack's
 * aggregates (the reports function's build; `at` any day of the period, default yesterday) and
 * keeps it in the local bucket where the function would (`reports/<kind>/<first day>.<format>`).
 */
import { CONTENT_TYPES, createReportsApp, parseAt, parseFormat, parseKind, render, ReportRequestError } from '#functions/reports/app';
import type { MetricsSink } from '#shared/metric-names';
import { yesterday } from '#shared/reports/load';
import { REPORT_FORMATS, REPORT_KINDS } from '#shared/reports/schema';
import type { DataBucket } from '#shared/storage/bucket';
import type { TableClient } from '#shared/store/client';
import type { StatsStore } from '#shared/store/stats';
import type { LocalRoute } from './api-gateway.ts';

export const LOCAL_REPORTS_PATH = '/local/reports/';

export function localReports(deps: { store: { stats: StatsStore; table: TableClient }; bucket?: DataBucket | undefined; metrics: MetricsSink; logger: { info(...a: unknown[]): void; warn(...a: unknown[]): void } }): LocalRoute {
  const app = createReportsApp({ store: deps.store, metrics: deps.metrics, logger: deps.logger });
  const problem = (status: number, message: string) => ({ status, body: JSON.stringify({ message }) });
  return async (_req, url) => {
    const name = url.pathname.startsWith(LOCAL_REPORTS_PATH) ? url.pathname.slice(LOCAL_REPORTS_PATH.length) : '';
    if (name === '' || name === 'index.html') return { status: 200, type: CONTENT_TYPES.html, body: indexPage(yesterday(Date.now(), deps.store.stats.timeZone)) };
    const match = /^([a-z]+)\.([a-z]+)$/.exec(name);
    if (!match) return problem(404, `no report ${name}: use /local/reports/<${REPORT_KINDS.join('|')}>.<${REPORT_FORMATS.join('|')}>?at=YYYY-MM-DD`);
    try {
      const kind = parseKind(match[1]);
      const format = parseFormat(match[2]);
      const report = await app.build(kind, parseAt(url.searchParams.get('at') ?? undefined));
      const at = `?at=${report.period.from}`;
      const body = render(report, format, { json: `${kind}.json${at}`, csv: `${kind}.csv${at}` });
      await deps.bucket?.putObject(`reports/${kind}/${report.period.from}.${format}`, new TextEncoder().encode(body), { contentType: CONTENT_TYPES[format] });
      return { status: 200, type: CONTENT_TYPES[format], body };
    } catch (error) {
      if (error instanceof ReportRequestError) return problem(400, error.message);
      throw error;
    }
  };
}

function indexPage(day: string): string {
  const rows = REPORT_KINDS.map((kind) => `<tr><th scope="row">${kind}</th>${REPORT_FORMATS.map((f) => `<td><a href="${LOCAL_REPORTS_PATH}${kind}.${f}?at=${day}">${f}</a></td>`).join('')}</tr>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Reports</title>
<style>body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1a1a1a}table{border-collapse:collapse}th,td{padding:.4rem .8rem;border-bottom:1px solid #ccc;text-align:left}</style></head>
<body><h1>Reports</h1><p>Built from the aggregates of the local stack, for the period that holds ${day} (add <code>?at=YYYY-MM-DD</code> for another).</p>
<table><caption>Reports and formats</caption><thead><tr><th scope="col">Report</th>${REPORT_FORMATS.map((f) => `<th scope="col">${f}</th>`).join('')}</tr></thead><tbody>${rows}</tbody></table></body></html>`;
}
