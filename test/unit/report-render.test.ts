/**
 * The report's presentation (RP-1 … RP-13, OP-3): the HTML page is self-contained (no request of any
 * kind), has its charts as SVG, escapes what comes from data and prints a missing figure as "—"; the
 * CSV is RFC 4180 and reads back into the report's tables.
 */
import { describe, expect, it } from 'vitest';
import { csvTable, renderCsv } from '../../shared/reports/render-csv.ts';
import { escapeHtml, renderHtml } from '../../shared/reports/render-html.ts';
import { sampleReport } from '../helpers/sample-report.ts';

/** RFC 4180, as small as it gets: fields split by commas, records by CRLF, "…" quoting with "" inside. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') { record.push(field); field = ''; }
    else if (c === '\r' && text[i + 1] === '\n') { record.push(field); records.push(record); record = []; field = ''; i++; }
    else if (c === '\n' || c === '\r') throw new Error(`bare line break at ${i}`);
    else field += c;
  }
  if (quoted) throw new Error('unterminated quote');
  if (field !== '' || record.length > 0) throw new Error('last record without CRLF');
  return records;
}

/** The CSV's tables by name: the header row and the rows under each `# name` line. */
function csvTables(text: string): Map<string, { header: string[]; rows: string[][] }> {
  const tables = new Map<string, { header: string[]; rows: string[][] }>();
  let current: { header: string[]; rows: string[][] } | undefined;
  let expectHeader = false;
  for (const record of parseCsv(text)) {
    if (record.length === 1 && record[0] === '') { current = undefined; continue; }
    if (record.length === 1 && record[0]?.startsWith('# ')) {
      current = { header: [], rows: [] };
      tables.set(record[0].slice(2), current);
      expectHeader = true;
      continue;
    }
    if (!current) throw new Error(`record outside a table: ${record.join(',')}`);
    if (expectHeader) { current.header = record; expectHeader = false; } else current.rows.push(record);
  }
  return tables;
}

const svgs = (html: string) => html.match(/<svg\b[^>]*>/g) ?? [];

describe('renderHtml', () => {
  const report = sampleReport();
  const links = { json: 'https://reports.example.com/weekly-2026-11-23.json?X-Amz-Signature=abc&x=1', csv: 'https://reports.example.com/weekly-2026-11-23.csv' };
  const html = renderHtml(report, links);

  it('is a phone-ready page in English with a title', () => {
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).toMatch(/<title>Weekly report 2026-11-23 – 2026-11-29[^<]*<\/title>/);
  });

  it('has the sections in order', () => {
    const order = ['<header>', 'id="alerts"', 'id="service"', 'id="sales"', 'id="cost"', 'id="before-after"', 'id="intent"'].map((marker) => html.indexOf(marker));
    expect(order.every((at) => at >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('draws at least 7 charts as SVG, each with an accessible name, among them the heat map and the funnel', () => {
    const tags = svgs(html);
    expect(tags.length).toBeGreaterThanOrEqual(7);
    for (const tag of tags) {
      expect(tag).toContain('role="img"');
      expect(tag).toMatch(/aria-label="[^"]{20,}"/);
    }
    expect(tags.some((tag) => tag.includes('aria-label="Heat map'))).toBe(true);
    expect(tags.some((tag) => tag.includes('aria-label="Funnel chart'))).toBe(true);
    expect(html.match(/<figcaption>/g)?.length).toBe(tags.length);
    expect(html).toContain('svg{display:block;max-width:100%;height:auto');
  });

  it('loads nothing: no src, no href to anything but the JSON and CSV it was given, no script, no @import, no url() but to a fragment of the page', () => {
    const requested = [...html.matchAll(/\b(?:src|href|xlink:href)\s*=\s*"([^"]*)"/g)].map((m) => m[1]);
    expect(requested).toEqual([escapeHtml(links.json), escapeHtml(links.csv)]);
    expect(html).not.toMatch(/<script\b|<link\b|<img\b|<iframe\b|<object\b|<embed\b|@import|url\((?!#)/i);
    // The only other URLs are XML namespace names in ECharts' SVG, which are not requests.
    const urls = [...html.matchAll(/https?:\/\/[^\s"'<>)]+/g)].map((m) => m[0]);
    expect(new Set(urls)).toEqual(new Set([escapeHtml(links.json), escapeHtml(links.csv), 'http://www.w3.org/2000/svg', 'http://www.w3.org/1999/xlink']));
    expect(html.match(/<svg\b[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g)?.length).toBe(svgs(html).length);
    expect(renderHtml(report)).not.toMatch(/\bhref="/);
  });

  it('formats numbers for people', () => {
    expect(html).toContain('35.0 %');
    expect(html).toContain('4 min 15 s');
    expect(html).toContain('7 min 11 s');
    expect(html).toContain('$18.42');
    expect(html).toMatch(/\$0\.00\d\d/);
    expect(html).toContain('training recommended');
    expect(html).toContain('retrain the rules');
    expect(html).toContain('HKD 28,705.90');
  });

  it('escapes whatever comes from data', () => {
    const hostile = '<script>alert("x")</script>';
    const base = sampleReport();
    const first = base.responseTime.agents[0];
    const churn = base.churnRisk[0];
    const word = base.hotWords[0];
    if (!first || !churn || !word) throw new Error('sample report without agents, churn or words');
    const page = renderHtml(sampleReport({
      responseTime: { ...base.responseTime, agents: [{ ...first, agentId: hostile }, ...base.responseTime.agents.slice(1)] },
      churnRisk: [{ ...churn, contactId: `"><img src=x onerror=alert(1)>`, reason: hostile }],
      hotWords: [{ ...word, word: hostile, family: '<b>f</b>' }, ...base.hotWords.slice(1)],
      alerts: [hostile],
      promotion: { ...base.promotion, names: [hostile] },
      name: hostile,
    }));
    expect(page).not.toContain('<script');
    expect(page).not.toContain('<img');
    expect(page).not.toContain('<b>f</b>');
    expect(page).toContain('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;');
  });

  it('prints a missing figure as "—" without failing', () => {
    const base = sampleReport();
    const page = renderHtml(sampleReport({
      responseTime: { ...base.responseTime, overall: { count: 0, meanSeconds: null, medianSeconds: null }, agents: [] },
      resolution: { ...base.resolution, rate: null },
      satisfaction: { ...base.satisfaction, count: 0, mean: null, distribution: [0, 0, 0, 0, 0] },
      readRate: { delivered: 0, read: 0, rate: null, byHour: [] },
      transactions: { ...base.transactions, averageOrderValue: null, conversion: null, daily: [], forecast: [] },
      cost: { ...base.cost, perMessageUsd: null, metaPerMessageUsd: null, awsPerMessageUsd: null, acquisition: { ...base.cost.acquisition, perCustomerUsd: null } },
      intentAccuracy: { accuracy: null, measuredOn: 'never', retrain: false },
      conversionCycle: { count: 0, meanDays: null, benchmarkDays: 3.7 },
      discountToOrder: { inquiries: 0, orders: 0, rate: null, alert: false },
      hotWords: [],
      churnRisk: [],
      alerts: [],
    }));
    expect(page).toContain('No alerts');
    expect(page).toContain('Mean first response <strong>—</strong>');
    expect(page).toContain('Resolution rate <strong>—</strong>');
    expect(page).toContain('Intent accuracy —');
    expect(page).not.toMatch(/NaN|undefined|Infinity|null/);
    // The sample's own nulls: clicks are not tracked, one channel has no customer, one baseline was never measured.
    expect(html).toMatch(/<th scope="row">google ads<\/th><td class="num">\$120\.00<\/td><td class="num">0<\/td><td class="num">—<\/td>/);
    expect(html).toMatch(/<th scope="row">repeat purchase rate<\/th><td class="num">—<\/td>/);
    expect(html).not.toMatch(/NaN|undefined|Infinity/);
  });

  it('renders a daily report: one day, no agent, nothing before it', () => {
    const base = sampleReport();
    const daily = sampleReport({
      kind: 'daily',
      name: 'daily-2026-11-29',
      period: { from: '2026-11-29', to: '2026-11-29', timeZone: 'Asia/Hong_Kong' },
      previousPeriod: { from: '2026-11-28', to: '2026-11-28' },
      messages: { inbound: 0, outbound: 0, previousInbound: 0, previousOutbound: 0 },
      activeHoursByWeekday: Array.from({ length: 7 }, () => Array.from({ length: 24 }, () => 0)),
      responseTime: { ...base.responseTime, overall: { count: 0, meanSeconds: null, medianSeconds: null }, agents: [] },
      complaintRate: [{ date: '2026-11-29', rate: 0, complaints: 0, inbound: 0 }],
      transactions: { ...base.transactions, daily: [{ date: '2026-11-29', orders: 0, revenue: 0, conversion: 0 }] },
      cost: { ...base.cost, byCategory: {}, channels: [] },
    });
    const page = renderHtml(daily);
    expect(page).toMatch(/<title>Daily report 2026-11-29 /);
    expect(page).toContain('No agent answered in this period.');
    expect(svgs(page).length).toBeGreaterThanOrEqual(7);
    expect(page).not.toMatch(/NaN|undefined|Infinity/);
  });

  it('gives every table a caption, column headers and row headers', () => {
    const tables = html.match(/<table>[\s\S]*?<\/table>/g) ?? [];
    expect(tables.length).toBeGreaterThanOrEqual(12);
    for (const table of tables) {
      expect(table).toMatch(/^<table>\s*<caption>[^<]+/);
      expect(table).toMatch(/<thead><tr>(<th scope="col"[^>]*>[^<]*<\/th>)+<\/tr><\/thead>/);
      for (const row of table.match(/<tbody>[\s\S]*<\/tbody>/)?.[0].match(/<tr>.*?<\/tr>/g) ?? []) {
        expect(row).toMatch(/^<tr>(<th scope="row">|<td colspan=)/);
      }
    }
  });
});

describe('renderCsv', () => {
  const report = sampleReport();
  const csv = renderCsv(report);
  const tables = csvTables(csv);

  it('ends every line with CRLF', () => {
    expect(csv.endsWith('\r\n')).toBe(true);
    expect(csv.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  });

  it('has the report\'s tables with their headers', () => {
    const expected: Record<string, string[]> = {
      summary: ['metric', 'value'],
      active_hours: ['weekday', 'hour', 'messages'],
      response_time: ['agent_id', 'count', 'mean_seconds', 'median_seconds', 'flagged', 'conversations', 'previous_conversations'],
      hot_words: ['word', 'family', 'count', 'share', 'previous_share', 'trend'],
      funnel: ['stage', 'count', 'rate', 'stage_rate'],
      complaint_rate: ['date', 'rate', 'complaints', 'inbound'],
      churn_risk: ['contact_id', 'reason', 'previous_week_interactions', 'this_week_interactions', 'last_sentiment'],
      read_rate_by_hour: ['hour', 'delivered', 'read', 'rate'],
      transactions_daily: ['date', 'orders', 'revenue', 'conversion'],
      forecast: ['date', 'orders', 'revenue'],
      payment_methods: ['method', 'asked', 'ordered', 'conversion', 'benchmark'],
      cost: ['metric', 'value'],
      period_over_period: ['metric', 'current', 'previous', 'change', 'normal'],
      before_after: ['metric', 'before', 'after', 'change', 'claim'],
    };
    for (const [name, header] of Object.entries(expected)) expect(tables.get(name)?.header, name).toEqual(header);
    expect(tables.get('active_hours')?.rows).toHaveLength(7 * 24);
    expect(tables.get('active_hours')?.rows[15]).toEqual(['Monday', '15', String(report.activeHoursByWeekday[0]?.[15])]);
    expect(tables.get('hot_words')?.rows).toHaveLength(20);
    expect(tables.get('response_time')?.rows.map((row) => row[4])).toEqual(['false', 'false', 'true']);
    for (const [name, table] of tables) for (const row of table.rows) expect(row, name).toHaveLength(table.header.length);
  });

  it('keeps numbers unformatted and nulls empty', () => {
    const summary = new Map(tables.get('summary')?.rows.map(([metric, value]) => [metric, value]));
    expect(summary.get('busiest_window_benchmark_share')).toBe('0.35');
    expect(summary.get('response_industry_seconds')).toBe('255');
    expect(summary.get('clicks_ctr')).toBe('');
    expect(tables.get('funnel')?.rows[0]).toEqual(['first_contact', '412', '1', '1']);
    expect(tables.get('channels')?.rows[2]).toEqual(['google_ads', '120', '0', '']);
    expect(tables.get('hot_words')?.rows[0]?.[3]).toBe(String(report.hotWords[0]?.share));
  });

  it('quotes what needs quoting, and it reads back', () => {
    const reason = 'said "too slow, again"\r\nand left';
    const base = sampleReport();
    const churn = base.churnRisk[0];
    if (!churn) throw new Error('sample report without churn rows');
    const text = renderCsv(sampleReport({ churnRisk: [{ ...churn, reason }] }));
    expect(text).toContain('"said ""too slow, again""\r\nand left"');
    expect(csvTables(text).get('churn_risk')?.rows[0]?.[1]).toBe(reason);
    expect(tables.get('summary')?.rows.find(([metric]) => metric === 'promotion_names')?.[1]).toBe('Black Friday 2026; 11.11 "Encore" sale');
    expect(csvTable('t', ['a', 'b'], [['x,y', 2], [null, true]])).toBe('# t\r\na,b\r\n"x,y",2\r\n,true\r\n');
  });
});
