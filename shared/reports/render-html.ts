/**
 * The report as people read it (RP-1 … RP-13, OP-3, TG-8): one self-contained HTML page for the sales
 * lead, the service lead and finance, on a desktop or a phone. The page makes no request of any kind —
 * inline CSS, no script, no font, no image by URL; the charts are SVG drawn here, server-side, by
 * Apache ECharts' SSR renderer. Every figure stands beside the article's benchmark it is read against
 * (BENCHMARKS in schema.ts), and says in words whether it is within it (not by colour alone).
 *
 * Pure: a Report (and optionally the addresses of its JSON and CSV) in, a string out. Every string
 * that comes from data (agent and contact ids, words, names, alerts) goes through `escapeHtml`.
 */
import { init, use, type ComposeOption } from 'echarts/core.js';
import { BarChart, FunnelChart, HeatmapChart, LineChart, type BarSeriesOption, type FunnelSeriesOption, type HeatmapSeriesOption, type LineSeriesOption } from 'echarts/charts.js';
import {
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  VisualMapComponent,
  type GridComponentOption,
  type LegendComponentOption,
  type MarkLineComponentOption,
  type VisualMapComponentOption,
} from 'echarts/components.js';
import { SVGRenderer } from 'echarts/renderers.js';
import { BENCHMARKS, type FunnelStage, type Report } from './schema.ts';

use([BarChart, FunnelChart, HeatmapChart, LineChart, GridComponent, LegendComponent, MarkLineComponent, VisualMapComponent, SVGRenderer]);

type ChartOption = ComposeOption<
  BarSeriesOption | FunnelSeriesOption | HeatmapSeriesOption | LineSeriesOption | GridComponentOption | LegendComponentOption | MarkLineComponentOption | VisualMapComponentOption
>;

export interface ReportLinks {
  readonly json?: string;
  readonly csv?: string;
}

// ---------------------------------------------------------------------------------------------
// Text: escaping and number formats
// ---------------------------------------------------------------------------------------------

const DASH = '—';
const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] as const;
const STAGE_NAMES: Record<FunnelStage, string> = {
  first_contact: 'First contact',
  product_question: 'Product question',
  purchase_intent: 'Purchase intent',
  deal: 'Order (deal)',
};

/** Text for HTML text and attribute values: & < > " ' escaped. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
const esc = escapeHtml;

type Maybe = number | null | undefined;
const known = (value: Maybe): value is number => typeof value === 'number' && Number.isFinite(value);
const grouped = (digits: number) => new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const INTEGER = grouped(0);
const CENTS = grouped(2);

/** A count: `2,310`. */
function int(value: Maybe): string {
  return known(value) ? INTEGER.format(value) : DASH;
}
/** A plain number with a fixed number of decimals: `3.7`. */
function num(value: Maybe, digits = 1): string {
  return known(value) ? grouped(digits).format(value) : DASH;
}
/** A fraction as a percentage with one decimal: `35.0 %`. */
function pct(value: Maybe, digits = 1): string {
  return known(value) ? `${(value * 100).toFixed(digits)} %` : DASH;
}
/** A signed relative change: `+12.3 %`, `−4.0 %`. */
function change(value: Maybe): string {
  return known(value) ? `${value < 0 ? '−' : '+'}${Math.abs(value * 100).toFixed(1)} %` : DASH;
}
/** A difference of two shares in percentage points: `+1.2 pp`. */
function points(value: Maybe): string {
  return known(value) ? `${value < 0 ? '−' : '+'}${Math.abs(value * 100).toFixed(1)} pp` : DASH;
}
/** Seconds for people: `45 s`, `4 min 15 s`, `2 h 5 min`. */
function duration(seconds: Maybe): string {
  if (!known(seconds)) return DASH;
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return s % 60 === 0 ? `${s / 60} min` : `${Math.floor(s / 60)} min ${s % 60} s`;
  const minutes = Math.round(s / 60);
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
/** A total in USD: `$18.42`. */
function usd(value: Maybe): string {
  return known(value) ? `${value < 0 ? '−' : ''}$${CENTS.format(Math.abs(value))}` : DASH;
}
/** A per-message figure in USD: 4 decimals (`$0.0040`), or 2 significant digits below $0.001 (`$0.00028`), where 4 decimals would hide it. */
function usdPer(value: Maybe): string {
  if (!known(value)) return DASH;
  if (value === 0 || Math.abs(value) >= 0.001) return `$${value.toFixed(4)}`;
  return `$${value.toFixed(Math.max(4, 1 - Math.floor(Math.log10(Math.abs(value)))))}`;
}
/** An amount in the shop's currency: `HKD 28,705.90`. */
function money(value: Maybe, currency: string): string {
  if (!known(value)) return DASH;
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency, currencyDisplay: 'code' }).format(value).replace(/\u00a0/g, ' ');
  } catch {
    return `${CENTS.format(value)} ${currency}`;
  }
}
/** `14:00–16:00` for the 2-hour window starting at `startHour`. */
function hourWindow(startHour: number): string {
  const hh = (h: number) => `${String(h % 24).padStart(2, '0')}:00`;
  return `${hh(startHour)}–${hh(startHour + 2)}`;
}
/** `Mon 23 Nov` for a `YYYY-MM-DD` day. */
function day(date: string): string {
  const parsed = new Date(`${date}T00:00:00Z`);
  if (Number.isNaN(parsed.getTime())) return date;
  return new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', weekday: 'short', day: 'numeric', month: 'short' }).format(parsed).replace(',', '');
}
/** An ISO instant in the report's time zone: `2026-11-30 08:15 (Asia/Hong_Kong)`. */
function localTime(iso: string, timeZone: string): string {
  const instant = new Date(iso);
  if (Number.isNaN(instant.getTime())) return iso;
  try {
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
        .formatToParts(instant)
        .map((part) => [part.type, part.value]),
    );
    return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} (${timeZone})`;
  } catch {
    return iso;
  }
}
/** A word id as a label: `cash_on_delivery` → `cash on delivery`. */
const words = (id: string) => id.replace(/_/g, ' ');

/** A figure that comes with no unit (ComparisonRow, BeforeAfterRow): read the unit off the metric's name. */
function byMetric(metric: string, value: Maybe): string {
  const name = metric.toLowerCase();
  if (/\(s\)|seconds|response/.test(name)) return duration(value);
  if (/rate|share|→|conversion|accuracy|ctr/.test(name)) return pct(value);
  if (/usd|\$|cost/.test(name)) return usd(value);
  if (known(value) && !Number.isInteger(value)) return num(value, 2);
  return int(value);
}

// ---------------------------------------------------------------------------------------------
// HTML building blocks
// ---------------------------------------------------------------------------------------------

/** A verdict in words and colour: ✓ for within the benchmark, ✗ for outside it, — when unknown. */
function verdict(good: boolean | null | undefined, goodText: string, badText: string): string {
  if (good === null || good === undefined) return `<span class="muted">${DASH}</span>`;
  return good ? `<span class="good">✓ ${esc(goodText)}</span>` : `<span class="bad">✗ ${esc(badText)}</span>`;
}

/** A verdict half-way: better than one benchmark, short of the other. */
function partly(text: string): string {
  return `<span class="warn">◐ ${esc(text)}</span>`;
}

interface Row {
  /** The row's label (HTML), a `<th scope="row">`. */
  readonly head: string;
  /** The other cells (HTML). */
  readonly cells: readonly string[];
}

/**
 * A table with a caption, column headers and row headers; numeric columns are right-aligned. It sits
 * in a region that scrolls sideways by itself on a narrow screen (the page never does).
 */
function table(caption: string, columns: readonly string[], rows: readonly Row[], options: { textColumns?: readonly number[]; empty?: string } = {}): string {
  const text = new Set([0, ...(options.textColumns ?? [])]);
  const cls = (index: number) => (text.has(index) ? '' : ' class="num"');
  const head = columns.map((label, index) => `<th scope="col"${cls(index)}>${esc(label)}</th>`).join('');
  const body = rows.length === 0
    ? `<tr><td colspan="${columns.length}">${esc(options.empty ?? 'None in this period.')}</td></tr>`
    : rows.map((row) => `<tr><th scope="row">${row.head}</th>${row.cells.map((cell, index) => `<td${cls(index + 1)}>${cell}</td>`).join('')}</tr>`).join('\n');
  return `<div class="table" role="region" tabindex="0" aria-label="${esc(caption)}"><table>
<caption>${esc(caption)}</caption>
<thead><tr>${head}</tr></thead>
<tbody>
${body}
</tbody></table></div>`;
}

/** A definition list of key figures: [label, value HTML, note HTML?]. */
function figures(items: readonly (readonly [string, string, string?])[]): string {
  return `<dl class="figures">${items.map(([label, value, note]) => `<div><dt>${esc(label)}</dt><dd>${value}${note ? `<small>${note}</small>` : ''}</dd></div>`).join('')}</dl>`;
}

function section(id: string, title: string, body: readonly string[]): string {
  return `<section aria-labelledby="${id}">\n<h2 id="${id}">${esc(title)}</h2>\n${body.join('\n')}\n</section>`;
}

// ---------------------------------------------------------------------------------------------
// Charts: ECharts, server-side, SVG
// ---------------------------------------------------------------------------------------------

const INK = '#1f2328';
const MUTED = '#57606a';
const BLUE = '#1f5fa8';
const LIGHT_BLUE = '#8fb4de';
const ORANGE = '#b45309';
const RED = '#b42318';
const GREEN = '#1a7f37';
const GRID_LINE = '#d8dee4';
/** The page's and the charts' font (no quotes: ECharts writes it into a style="…" attribute unescaped). */
const FONT = 'system-ui, -apple-system, Segoe UI, Roboto, DejaVu Sans, sans-serif';

interface ChartSpec {
  /** What the chart shows, said in a sentence (the SVG's accessible name). */
  readonly label: string;
  /** The caption under it. */
  readonly caption: string;
  readonly option: ChartOption;
  readonly width?: number;
  readonly height?: number;
  /** Spans the whole width of the page (the heat map, the transactions). */
  readonly wide?: boolean;
}

/** One chart as an SVG string in a `<figure>`: role="img" and aria-label on the SVG, a caption below. */
function chart(spec: ChartSpec): string {
  const width = spec.width ?? 640;
  const height = spec.height ?? 320;
  const instance = init(null, null, { renderer: 'svg', ssr: true, width, height });
  let svg: string;
  try {
    instance.setOption({ animation: false, textStyle: { fontFamily: FONT, fontSize: 13, color: INK }, ...spec.option });
    svg = instance.renderToSVGString();
  } finally {
    instance.dispose();
  }
  const named = svg.replace('<svg ', `<svg role="img" aria-label="${esc(spec.label)}" focusable="false" `);
  return `<figure class="chart${spec.wide ? ' wide' : ''}">\n${named}\n<figcaption>${esc(spec.caption)}</figcaption>\n</figure>`;
}

function charts(...figures: string[]): string {
  return `<div class="charts">\n${figures.join('\n')}\n</div>`;
}

const axisText = { color: MUTED, fontSize: 12 };
const splitLine = { lineStyle: { color: GRID_LINE } };

/** A mark line (dashed) with its name after its end, in the grid's right margin. */
function markLine(value: number, name: string, color: string, axis: 'xAxis' | 'yAxis' = 'yAxis'): NonNullable<MarkLineComponentOption['data']>[number] {
  return {
    [axis]: value,
    name,
    lineStyle: { color, type: 'dashed', width: 1.5 },
    label: { formatter: name, color, position: 'end', fontSize: 12 },
  };
}

function markLines(...data: NonNullable<MarkLineComponentOption['data']>): MarkLineComponentOption {
  return { silent: true, symbol: 'none', data };
}

/** RP-1: customer messages by weekday (rows, Monday on top) and local hour (columns). */
function heatMapChart(r: Report): string {
  const cells: { value: [number, number, number]; label: { color: string } }[] = [];
  let max = 0;
  let peak = { weekday: 0, hour: 0, count: -1 };
  r.activeHoursByWeekday.forEach((hours, weekday) =>
    hours.forEach((count, hour) => {
      cells.push({ value: [hour, weekday, count], label: { color: INK } });
      max = Math.max(max, count);
      if (count > peak.count) peak = { weekday, hour, count };
    }),
  );
  // Dark cells get white numbers, light cells dark ones (the colour scale turns dark past about half of the maximum).
  for (const cell of cells) if (cell.value[2] > max * 0.5) cell.label.color = '#ffffff';
  const label = peak.count < 0
    ? 'Heat map of customer messages by weekday and hour: no messages.'
    : `Heat map of customer messages by weekday and local hour; the busiest hour is ${WEEKDAYS[peak.weekday] ?? ''} ${String(peak.hour).padStart(2, '0')}:00 with ${peak.count} messages.`;
  return chart({
    label,
    caption: `Customer messages by weekday and hour (${r.period.timeZone}); darker is busier. Busiest 2 hours: ${hourWindow(r.busiestWindow.startHour)}.`,
    width: 960,
    height: 340,
    wide: true,
    option: {
      grid: { left: 48, right: 16, top: 12, bottom: 78 },
      xAxis: { type: 'category', data: Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0')), splitArea: { show: false }, axisLabel: axisText, axisTick: { show: false }, name: 'hour', nameLocation: 'middle', nameGap: 24, nameTextStyle: axisText },
      yAxis: { type: 'category', data: WEEKDAYS.map((d) => d.slice(0, 3)), inverse: true, axisLabel: axisText, axisTick: { show: false } },
      visualMap: {
        type: 'continuous',
        min: 0,
        max: Math.max(1, max),
        orient: 'horizontal',
        left: 'center',
        bottom: 0,
        itemWidth: 12,
        itemHeight: 180,
        text: [`${max} messages`, '0'],
        textStyle: axisText,
        calculable: false,
        inRange: { color: ['#f3f7fc', '#9ec3e6', '#2f6fb5', '#0b2e59'] },
      },
      series: [{
        type: 'heatmap',
        data: cells,
        silent: true,
        itemStyle: { borderColor: '#ffffff', borderWidth: 1 },
        label: { show: true, fontSize: 11, formatter: (p: { value?: unknown }) => String((p.value as number[])[2] ?? '') },
      }],
    },
  });
}

/** RP-2: mean first response per agent against the 3 min target and the 4 min 15 s industry mean. */
function responseChart(r: Report): string {
  const rt = r.responseTime;
  const highest = Math.max(rt.flagAboveSeconds, ...rt.agents.map((a) => a.meanSeconds));
  const maxMinutes = Math.ceil((highest * 1.1) / 60);
  return chart({
    label: `Bar chart of the mean first response per agent against the ${duration(rt.targetSeconds)} target and the ${duration(rt.industrySeconds)} industry mean: ${rt.agents.map((a) => `${a.agentId} ${duration(a.meanSeconds)}${a.flagged ? ' (training recommended)' : ''}`).join(', ') || 'no agent answered'}.`,
    caption: `Mean first response per agent. Dashed: target ${duration(rt.targetSeconds)}, industry ${duration(rt.industrySeconds)}, training above ${duration(rt.flagAboveSeconds)}; red bars are flagged.`,
    option: {
      grid: { left: 64, right: 150, top: 24, bottom: 40 },
      xAxis: { type: 'category', data: rt.agents.map((a) => a.agentId), axisLabel: { ...axisText, interval: 0, width: 140, overflow: 'truncate' } },
      yAxis: { type: 'value', min: 0, max: maxMinutes * 60, interval: maxMinutes > 10 ? 300 : 60, axisLabel: { ...axisText, formatter: (v: number) => `${v / 60} min` }, splitLine },
      series: [{
        type: 'bar',
        barMaxWidth: 72,
        silent: true,
        // The figure inside the bar's top (clear of the mark lines), above it when the bar is too short to hold it.
        data: rt.agents.map((a) => ({
          value: a.meanSeconds,
          itemStyle: { color: a.flagged ? RED : BLUE },
          label: a.meanSeconds > maxMinutes * 60 * 0.15 ? { position: 'insideTop' as const, color: '#ffffff' } : { position: 'top' as const, color: INK },
        })),
        label: { show: true, fontSize: 12, fontWeight: 'bold', formatter: (p: { value?: unknown }) => duration(p.value as number) },
        markLine: markLines(
          markLine(rt.targetSeconds, `target ${duration(rt.targetSeconds)}`, GREEN),
          markLine(rt.industrySeconds, `industry ${duration(rt.industrySeconds)}`, ORANGE),
          markLine(rt.flagAboveSeconds, `training above ${duration(rt.flagAboveSeconds)}`, RED),
        ),
      }],
    },
  });
}

/** RP-13: how the period's ratings spread over 1–5. */
function satisfactionChart(r: Report): string {
  const s = r.satisfaction;
  return chart({
    label: `Bar chart of satisfaction ratings 1 to 5: ${s.distribution.map((count, i) => `${i + 1}: ${count}`).join(', ')}; mean ${num(s.mean, 2)}.`,
    caption: `Satisfaction ratings (${int(s.count)} given), mean ${num(s.mean, 2)} against ${num(s.benchmark.before)} before and ${num(s.benchmark.after)} after the article's automation.`,
    height: 280,
    option: {
      grid: { left: 56, right: 24, top: 24, bottom: 48 },
      xAxis: { type: 'category', data: s.distribution.map((_, i) => `${i + 1} ★`), axisLabel: axisText, name: 'rating', nameLocation: 'middle', nameGap: 28, nameTextStyle: axisText },
      yAxis: { type: 'value', minInterval: 1, axisLabel: axisText, splitLine },
      series: [{ type: 'bar', barMaxWidth: 64, silent: true, data: [...s.distribution], itemStyle: { color: BLUE }, label: { show: true, position: 'top', color: INK } }],
    },
  });
}

/** RP-7: the complaint rate of each day against the 5 % line. */
function complaintChart(r: Report): string {
  const days = r.complaintRate;
  const top = Math.max(BENCHMARKS.complaintRate * 2, ...days.map((d) => d.rate * 1.2));
  return chart({
    label: `Line chart of the daily complaint rate against the ${pct(BENCHMARKS.complaintRate, 0)} line: ${days.map((d) => `${day(d.date)} ${pct(d.rate)}`).join(', ') || 'no days'}.`,
    caption: `Complaint rate per day (customer messages tagged complaint). Above the dashed ${pct(BENCHMARKS.complaintRate, 0)} line ${BENCHMARKS.complaintDays} days in a row is an alert; red points are above it.`,
    height: 280,
    option: {
      grid: { left: 56, right: 110, top: 24, bottom: 48 },
      xAxis: { type: 'category', data: days.map((d) => day(d.date).replace(' ', '\n')), axisLabel: { ...axisText, interval: 0 } },
      yAxis: { type: 'value', min: 0, max: Math.ceil(top * 100) / 100, axisLabel: { ...axisText, formatter: (v: number) => `${Math.round(v * 100)} %` }, splitLine },
      series: [{
        type: 'line',
        silent: true,
        symbolSize: 9,
        lineStyle: { color: BLUE, width: 2 },
        data: days.map((d) => ({ value: d.rate, itemStyle: { color: d.rate > BENCHMARKS.complaintRate ? RED : BLUE } })),
        label: { show: true, position: 'top', fontSize: 11, color: INK, formatter: (p: { value?: unknown }) => pct(p.value as number) },
        markLine: markLines(markLine(BENCHMARKS.complaintRate, `${pct(BENCHMARKS.complaintRate, 0)} alert line`, RED)),
      }],
    },
  });
}

/** RP-4: the funnel's four stages with their counts and their rate of first contact. */
function funnelChart(r: Report): string {
  const first = r.funnel[0]?.count ?? 0;
  return chart({
    label: `Funnel chart: ${r.funnel.map((f) => `${STAGE_NAMES[f.stage]} ${f.count} (${pct(f.rate)})`).join(', ')}.`,
    caption: `Sales funnel: customers at each stage and their share of first contacts (healthy: first contact → order above ${pct(BENCHMARKS.funnelHealthyRate)}).`,
    option: {
      series: [{
        type: 'funnel',
        silent: true,
        sort: 'none',
        left: 16,
        top: 16,
        bottom: 16,
        width: '52%',
        min: 0,
        max: Math.max(1, first),
        minSize: '12%',
        gap: 3,
        data: r.funnel.map((f, i) => ({ name: STAGE_NAMES[f.stage], value: f.count, itemStyle: { color: [BLUE, '#2f7bc4', '#5a9bd8', GREEN][i] ?? BLUE } })),
        label: {
          show: true,
          position: 'right',
          color: INK,
          fontSize: 13,
          formatter: (p: { name?: string; dataIndex?: number }) => {
            const row = r.funnel[p.dataIndex ?? 0];
            return row ? `${p.name ?? ''}\n${int(row.count)} · ${pct(row.rate)}` : (p.name ?? '');
          },
        },
        labelLine: { show: true, length: 16, lineStyle: { color: MUTED } },
      }],
    },
  });
}

/** RP-3: the 15 most used hot words, by their share of customer messages. */
function hotWordsChart(r: Report): string {
  const top = r.hotWords.slice(0, 15);
  return chart({
    label: `Bar chart of the ${top.length} most used hot words by share of customer messages: ${top.map((w) => `${w.word} ${pct(w.share)}`).join(', ') || 'none'}.`,
    caption: `Top ${top.length} hot words by share of customer messages with words.`,
    height: Math.max(160, top.length * 24 + 48),
    option: {
      grid: { left: 128, right: 64, top: 8, bottom: 32 },
      xAxis: { type: 'value', min: 0, axisLabel: { ...axisText, formatter: (v: number) => `${Math.round(v * 100)} %` }, splitLine },
      yAxis: { type: 'category', inverse: true, data: top.map((w) => words(w.word)), axisLabel: { ...axisText, color: INK, width: 118, overflow: 'truncate' }, axisTick: { show: false } },
      series: [{
        type: 'bar',
        silent: true,
        barMaxWidth: 18,
        data: top.map((w) => ({ value: w.share, itemStyle: { color: w.word === 'discount' ? ORANGE : BLUE } })),
        label: { show: true, position: 'right', color: INK, fontSize: 12, formatter: (p: { value?: unknown }) => pct(p.value as number) },
      }],
    },
  });
}

/** RP-10: orders (bars) and revenue (line) per day, then the next 7 days' forecast (lighter, dashed). */
function transactionsChart(r: Report): string {
  const t = r.transactions;
  const dates = [...t.daily.map((d) => d.date), ...t.forecast.map((d) => d.date)];
  const actual = t.daily.length;
  const last = t.daily[actual - 1];
  return chart({
    label: `Chart of orders and revenue per day with a ${t.forecast.length}-day forecast: ${t.daily.map((d) => `${day(d.date)} ${d.orders} orders ${money(d.revenue, t.currency)}`).join(', ')}; forecast ${t.forecast.map((d) => `${day(d.date)} ${d.orders} orders`).join(', ') || 'none'}.`,
    caption: `Orders (bars, left axis) and revenue in ${t.currency} (line, right axis) per day; the forecast is lighter and dashed (${t.forecastMethod}).`,
    width: 960,
    height: 340,
    wide: true,
    option: {
      legend: { top: 0, textStyle: { color: INK, fontSize: 12 }, itemGap: 20 },
      grid: { left: 48, right: 72, top: 40, bottom: 48 },
      xAxis: { type: 'category', data: dates.map((d) => day(d).replace(' ', '\n')), axisLabel: { ...axisText, interval: 0 } },
      yAxis: [
        { type: 'value', name: 'orders', minInterval: 1, nameTextStyle: axisText, axisLabel: axisText, splitLine },
        { type: 'value', name: t.currency, nameTextStyle: axisText, axisLabel: { ...axisText, formatter: (v: number) => (v >= 1000 ? `${v / 1000}k` : String(v)) }, splitLine: { show: false } },
      ],
      series: [
        { type: 'bar', name: 'Orders', silent: true, stack: 'orders', barMaxWidth: 36, itemStyle: { color: BLUE }, data: dates.map((_, i) => (i < actual ? (t.daily[i]?.orders ?? null) : null)) },
        { type: 'bar', name: 'Forecast orders', silent: true, stack: 'orders', barMaxWidth: 36, itemStyle: { color: LIGHT_BLUE }, data: dates.map((_, i) => (i >= actual ? (t.forecast[i - actual]?.orders ?? null) : null)) },
        { type: 'line', name: 'Revenue', silent: true, yAxisIndex: 1, symbolSize: 7, itemStyle: { color: ORANGE }, lineStyle: { color: ORANGE, width: 2 }, data: dates.map((_, i) => (i < actual ? (t.daily[i]?.revenue ?? null) : null)) },
        {
          type: 'line',
          name: 'Forecast revenue',
          silent: true,
          yAxisIndex: 1,
          symbolSize: 7,
          itemStyle: { color: ORANGE },
          lineStyle: { color: ORANGE, width: 2, type: 'dashed' },
          data: dates.map((_, i) => (i === actual - 1 ? (last?.revenue ?? null) : i >= actual ? (t.forecast[i - actual]?.revenue ?? null) : null)),
        },
      ],
    },
  });
}

/** RP-10: the read rate of our messages by the local hour they were sent. */
function readRateChart(r: Report): string {
  const hours = r.readRate.byHour;
  const best = hours.filter((h) => h.delivered > 0).sort((a, b) => b.rate - a.rate)[0];
  return chart({
    label: `Bar chart of the read rate of our messages by the hour they were sent; overall ${pct(r.readRate.rate)}${best ? `, best at ${String(best.hour).padStart(2, '0')}:00 with ${pct(best.rate)}` : ''}.`,
    caption: `Read rate by the local hour a message was sent (hours with nothing delivered are empty); dashed: the period's ${pct(r.readRate.rate)}.`,
    height: 280,
    option: {
      grid: { left: 56, right: 110, top: 24, bottom: 48 },
      xAxis: { type: 'category', data: hours.map((h) => String(h.hour).padStart(2, '0')), axisLabel: axisText, name: 'hour sent', nameLocation: 'middle', nameGap: 28, nameTextStyle: axisText },
      yAxis: { type: 'value', min: 0, max: 1, interval: 0.25, axisLabel: { ...axisText, formatter: (v: number) => `${Math.round(v * 100)} %` }, splitLine },
      series: [{
        type: 'bar',
        silent: true,
        itemStyle: { color: BLUE },
        data: hours.map((h) => (h.delivered > 0 ? h.rate : null)),
        ...(known(r.readRate.rate) ? { markLine: markLines(markLine(r.readRate.rate, `overall ${pct(r.readRate.rate)}`, ORANGE)) } : {}),
      }],
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Sections
// ---------------------------------------------------------------------------------------------

/** Header: which report, the period with its time zone, when it was made, the JSON and CSV beside it. */
function header(r: Report, links: ReportLinks | undefined): string {
  const kind = r.kind === 'weekly' ? 'Weekly report' : 'Daily report';
  const period = r.period.from === r.period.to ? r.period.from : `${r.period.from} – ${r.period.to}`;
  const downloads = [links?.json ? `<a href="${esc(links.json)}">JSON</a>` : '', links?.csv ? `<a href="${esc(links.csv)}">CSV</a>` : ''].filter(Boolean);
  const dt = r.responseTime.overall;
  return `<header>
<p class="kicker">WhatsApp CRM · ${esc(r.name)}</p>
<h1>${kind}: ${esc(period)}</h1>
<p class="meta">Period ${esc(day(r.period.from))} to ${esc(day(r.period.to))} ${esc(r.period.to.slice(0, 4))}, time zone ${esc(r.period.timeZone)}; compared with ${esc(r.previousPeriod.from)} to ${esc(r.previousPeriod.to)}. Generated ${esc(localTime(r.generatedAt, r.period.timeZone))}.${downloads.length ? ` <span class="downloads">Download: ${downloads.join(' · ')}</span>` : ''}</p>
${figures([
  ['Customer messages', int(r.messages.inbound), `${change(r.messages.previousInbound ? (r.messages.inbound - r.messages.previousInbound) / r.messages.previousInbound : null)} on the previous period`],
  ['Mean first response', duration(dt.meanSeconds), `target ${duration(r.responseTime.targetSeconds)}`],
  ['Resolution rate', pct(r.resolution.rate), `benchmark ${pct(r.resolution.benchmark)}`],
  ['Orders', int(r.transactions.orders), esc(money(r.transactions.revenue, r.transactions.currency))],
  ['Cost per message', usdPer(r.cost.perMessageUsd), `${usd(r.cost.metaUsd + r.cost.awsUsd)} in all`],
])}
</header>`;
}

/** Alerts: every alert of the report, one line each (complaint streak, weak promotion, flagged agents, TG-8 …). */
function alerts(r: Report): string {
  const body = r.alerts.length === 0
    ? '<p class="none">No alerts</p>'
    : `<ul class="alerts">\n${r.alerts.map((alert) => `<li>${esc(alert)}</li>`).join('\n')}\n</ul>`;
  return section('alerts', 'Alerts', [body]);
}

/** RP-1: messages in and out against the previous period, the heat map, the busiest 2-hour window vs 35 %. */
function activity(r: Report): string[] {
  const m = r.messages;
  const rel = (now: number, before: number) => (before ? (now - before) / before : null);
  const w = r.busiestWindow;
  return [
    '<h3>Messages and activity</h3>',
    table('Messages this period and the previous one', ['Messages', 'This period', 'Previous period', 'Change'], [
      { head: 'From customers', cells: [int(m.inbound), int(m.previousInbound), change(rel(m.inbound, m.previousInbound))] },
      { head: 'From us', cells: [int(m.outbound), int(m.previousOutbound), change(rel(m.outbound, m.previousOutbound))] },
      { head: 'All', cells: [int(m.inbound + m.outbound), int(m.previousInbound + m.previousOutbound), change(rel(m.inbound + m.outbound, m.previousInbound + m.previousOutbound))] },
    ]),
    `<p>Busiest 2 hours: <strong>${hourWindow(w.startHour)}</strong> with <strong>${pct(w.share)}</strong> of customer messages (the article: ${pct(w.benchmarkShare)} between 14:00 and 16:00) — ${w.share >= w.benchmarkShare ? 'as concentrated as the article\'s, staff that window first' : 'less concentrated than the article\'s: spread the staffing'}.</p>`,
    charts(heatMapChart(r)),
  ];
}

/** RP-2: first response overall and per agent with the target, the industry mean and "training recommended". */
function responseTime(r: Report): string[] {
  const rt = r.responseTime;
  const o = rt.overall;
  return [
    '<h3>Response time</h3>',
    `<p>Mean first response <strong>${duration(o.meanSeconds)}</strong>, median ${duration(o.medianSeconds)}, over ${int(o.count)} first responses — ${verdict(known(o.meanSeconds) ? o.meanSeconds <= rt.targetSeconds : null, `under the ${duration(rt.targetSeconds)} target`, `over the ${duration(rt.targetSeconds)} target`)}; the industry's mean is ${duration(rt.industrySeconds)}.</p>`,
    table(`First response per agent (training recommended above ${duration(rt.flagAboveSeconds)})`, ['Agent', 'Responses', 'Mean', 'Median', `Target ${duration(rt.targetSeconds)}`, `Industry ${duration(rt.industrySeconds)}`, 'Conversations', 'Previous', 'Training'],
      rt.agents.map((a) => ({
        head: `<code>${esc(a.agentId)}</code>`,
        cells: [
          int(a.count),
          duration(a.meanSeconds),
          duration(a.medianSeconds),
          verdict(a.meanSeconds <= rt.targetSeconds, 'under', 'over'),
          verdict(a.meanSeconds <= rt.industrySeconds, 'better', 'worse'),
          int(a.conversations),
          int(a.previousConversations),
          a.flagged ? '<span class="bad">⚠ training recommended</span>' : '<span class="muted">—</span>',
        ],
      })),
      { textColumns: [4, 5, 8], empty: 'No agent answered in this period.' }),
    charts(responseChart(r)),
  ];
}

function satisfactionVerdict(mean: number | null, benchmark: { readonly before: number; readonly after: number }): string {
  if (known(mean) && mean >= benchmark.before && mean < benchmark.after) return partly(`above ${num(benchmark.before)}, short of ${num(benchmark.after)}`);
  return verdict(known(mean) ? mean >= benchmark.after : null, `at the ${num(benchmark.after)} the article reaches`, `below the ${num(benchmark.before)} before the automation`);
}

/** RP-2, RP-13: conversations resolved vs 85 %, satisfaction vs 3.8 before and 4.5 after. */
function outcomes(r: Report): string[] {
  const res = r.resolution;
  const s = r.satisfaction;
  return [
    '<h3>Resolution and satisfaction</h3>',
    `<p>Resolution rate <strong>${pct(res.rate)}</strong> (${int(res.resolved)} of ${int(res.started)} conversations started in the period) — ${verdict(known(res.rate) ? res.rate >= res.benchmark : null, `at or above the ${pct(res.benchmark)} benchmark`, `below the ${pct(res.benchmark)} benchmark`)}.</p>`,
    `<p>Satisfaction <strong>${num(s.mean, 2)}</strong> of 5 from ${int(s.count)} ratings — the article: ${num(s.benchmark.before)} before the automation, ${num(s.benchmark.after)} after; ${satisfactionVerdict(s.mean, s.benchmark)}.</p>`,
  ];
}

/** RP-7: complaints per day and the streak above 5 %. */
function complaints(r: Report): string[] {
  const streak = r.complaintStreak;
  return [
    `<p>Complaint rate: ${streak.days > 0 ? `above ${pct(BENCHMARKS.complaintRate, 0)} for the last <strong>${streak.days}</strong> day${streak.days === 1 ? '' : 's'}` : `not above ${pct(BENCHMARKS.complaintRate, 0)} on the last day`} — ${verdict(!streak.alert, 'no anomaly', `an anomaly (${BENCHMARKS.complaintDays} days or more)`)}.</p>`,
  ];
}

/** RP-6: this period against the previous one; a change beyond ± 15 % is flagged. */
function periodOverPeriod(r: Report): string[] {
  return [
    '<h3>Period over period</h3>',
    table(`This period against the previous one (${r.previousPeriod.from} to ${r.previousPeriod.to}); within ± ${pct(BENCHMARKS.periodChange, 0)} is normal`, ['Metric', 'This period', 'Previous', 'Change', `Within ± ${pct(BENCHMARKS.periodChange, 0)}`],
      r.periodOverPeriod.map((p) => ({
        head: esc(p.metric),
        cells: [esc(byMetric(p.metric, p.current)), esc(byMetric(p.metric, p.previous)), change(p.change), verdict(p.normal, 'normal', 'unusual')],
      })),
      { textColumns: [4] }),
  ];
}

/** RP-8: contacts whose interactions fell from 3 to 1 with a last sentiment below 0.3. */
function churnRisk(r: Report): string[] {
  return [
    '<h3>Churn risk</h3>',
    `<p>Customers whose interactions fell from ${BENCHMARKS.churnFromInteractions}+ a week to ${BENCHMARKS.churnToInteractions} with a last sentiment below ${BENCHMARKS.churnSentiment}; the article wins back 27 % of them by contacting them.</p>`,
    table('Customers at risk of churning', ['Contact', 'Previous week', 'This week', 'Last sentiment', 'Reason'],
      r.churnRisk.map((c) => ({
        head: `<code>${esc(c.contactId)}</code>`,
        cells: [int(c.previousWeekInteractions), int(c.thisWeekInteractions), num(c.lastSentiment, 2), esc(c.reason)],
      })),
      { textColumns: [4], empty: 'No customer at risk in this period.' }),
  ];
}

/** Service efficiency (RP-1, RP-2, RP-6, RP-7, RP-8, RP-13): what the service lead reads. */
function service(r: Report): string {
  return section('service', 'Service efficiency', [
    ...activity(r),
    ...responseTime(r),
    ...outcomes(r),
    ...complaints(r),
    charts(satisfactionChart(r), complaintChart(r)),
    ...periodOverPeriod(r),
    ...churnRisk(r),
  ]);
}

/** RP-4: the funnel with each stage's rate, the 12 % line, discount inquiry → order and the conversion cycle. */
function funnel(r: Report): string[] {
  const d = r.discountToOrder;
  const c = r.conversionCycle;
  const deal = r.funnel.find((f) => f.stage === 'deal');
  return [
    '<h3>Funnel</h3>',
    charts(funnelChart(r)),
    table(`Funnel stages (first contact → order above ${pct(BENCHMARKS.funnelHealthyRate)} is healthy)`, ['Stage', 'Customers', 'Of first contact', 'Of previous stage'],
      r.funnel.map((f) => ({ head: esc(STAGE_NAMES[f.stage] ?? f.stage), cells: [int(f.count), pct(f.rate), pct(f.stageRate)] }))),
    `<p>First contact → order <strong>${pct(deal?.rate)}</strong> — ${verdict(r.funnelHealthy, `healthy (above ${pct(BENCHMARKS.funnelHealthyRate)})`, `below the healthy ${pct(BENCHMARKS.funnelHealthyRate)}`)}.</p>`,
    `<p>Discount inquiry → order <strong>${pct(d.rate)}</strong> (${int(d.orders)} of ${int(d.inquiries)} customers who asked about a discount ordered) — ${verdict(!d.alert, `at or above ${pct(BENCHMARKS.discountToOrderRate)}`, `below ${pct(BENCHMARKS.discountToOrderRate)}: an alert`)}.</p>`,
    `<p>Conversion cycle <strong>${known(c.meanDays) ? `${num(c.meanDays)} days` : DASH}</strong> from first message to order (${int(c.count)} orders) — ${verdict(known(c.meanDays) ? c.meanDays <= c.benchmarkDays : null, `at or faster than the article's ${num(c.benchmarkDays)} days`, `slower than the article's ${num(c.benchmarkDays)} days`)}.</p>`,
  ];
}

/** RP-3: the hot words with their share and trend, and whether a running promotion is weak (discount < 8 %). */
function hotWords(r: Report): string[] {
  const p = r.promotion;
  const promo = p.active
    ? `<p>Promotion running: ${p.names.map((n) => `<strong>${esc(n)}</strong>`).join(', ') || 'unnamed'}; “discount” in <strong>${pct(p.discountShare)}</strong> of customer messages — ${verdict(!p.weak, `at or above ${pct(BENCHMARKS.promotionDiscountShare)}`, `below ${pct(BENCHMARKS.promotionDiscountShare)}: the promotion is weak`)}.</p>`
    : `<p>No promotion in this period; “discount” in ${pct(p.discountShare)} of customer messages.</p>`;
  return [
    '<h3>Hot words</h3>',
    `<p>${int(r.hotWords.length)} of the ${int(r.hotWordsTracked)} tracked hot words were used in the period.</p>`,
    promo,
    charts(hotWordsChart(r)),
    table('Hot words, most used first', ['Word', 'Family', 'Uses', 'Share', 'Previous share', 'Trend'],
      r.hotWords.map((w) => ({ head: esc(words(w.word)), cells: [esc(w.family), int(w.count), pct(w.share), pct(w.previousShare), points(w.trend)] })),
      { textColumns: [1], empty: 'No tracked hot word was used.' }),
  ];
}

/** RP-12: conversion of customers by the payment method they asked about, against the article's figures. */
function payments(r: Report): string[] {
  return [
    '<h3>Payment methods</h3>',
    table('Conversion by the payment method customers asked about', ['Method', 'Asked', 'Ordered', 'Conversion', 'Article'],
      r.paymentMethods.map((p) => ({ head: esc(words(p.method)), cells: [int(p.asked), int(p.ordered), pct(p.conversion), pct(p.benchmark)] })),
      { empty: 'No customer asked about a payment method.' }),
    r.paymentAdvice ? `<p class="advice">${esc(r.paymentAdvice)}</p>` : '',
  ];
}

/** RP-10: orders, revenue, conversion per day and the forecast; the read rate by hour; link clicks. */
function transactions(r: Report): string[] {
  const t = r.transactions;
  const rr = r.readRate;
  const clicks = r.clicks.tracked
    ? `<p>Link clicks: <strong>${int(r.clicks.clicks)}</strong>, click-through ${pct(r.clicks.ctr)}.</p>`
    : '<p>Link clicks: not tracked yet (outbound links carry no tracking).</p>';
  return [
    '<h3>Transactions and forecast</h3>',
    figures([
      ['Orders', int(t.orders)],
      ['Revenue', esc(money(t.revenue, t.currency))],
      ['Average order', esc(money(t.averageOrderValue, t.currency))],
      ['Conversion', pct(t.conversion), 'customers who ordered / who wrote'],
    ]),
    charts(transactionsChart(r)),
    table(`Orders and revenue per day, then the forecast (${t.forecastMethod})`, ['Day', 'Orders', `Revenue (${t.currency})`, 'Conversion'], [
      ...t.daily.map((d) => ({ head: `${esc(day(d.date))} <span class="muted">${esc(d.date)}</span>`, cells: [int(d.orders), num(d.revenue, 2), pct(d.conversion)] })),
      ...t.forecast.map((d) => ({ head: `${esc(day(d.date))} <span class="muted">forecast</span>`, cells: [int(d.orders), num(d.revenue, 2), DASH] })),
    ]),
    '<h3>Read rate and clicks</h3>',
    `<p>Read rate <strong>${pct(rr.rate)}</strong>: ${int(rr.read)} of ${int(rr.delivered)} delivered messages were read.</p>`,
    charts(readRateChart(r)),
    clicks,
  ];
}

/** Sales funnel (RP-3, RP-4, RP-10, RP-12): what the sales lead reads. */
function sales(r: Report): string {
  return section('sales', 'Sales funnel', [...funnel(r), ...hotWords(r), ...payments(r), ...transactions(r)]);
}

/** Cost and benefit (RP-5, RP-11, OP-3): Meta and AWS cost, per message, per category, per new customer, per channel. */
function cost(r: Report): string {
  const c = r.cost;
  const a = c.acquisition;
  const [low, high] = a.benchmarkUsd;
  const total = c.metaUsd + c.awsUsd;
  const categories = Object.entries(c.byCategory).sort(([, x], [, y]) => y - x);
  const whatsapp = c.channels.find((ch) => ch.channel.toLowerCase() === 'whatsapp');
  /** How much cheaper a WhatsApp customer is than one of this channel, against the article's 20 %. */
  const advantage = (perCustomer: number | null) => {
    const ours = whatsapp?.perCustomerUsd;
    if (!known(perCustomer) || !known(ours) || perCustomer <= 0) return DASH;
    const cheaper = (perCustomer - ours) / perCustomer;
    return `${pct(cheaper)} ${verdict(cheaper >= BENCHMARKS.channelAdvantage, `at least ${pct(BENCHMARKS.channelAdvantage, 0)}`, `less than ${pct(BENCHMARKS.channelAdvantage, 0)}`)}`;
  };
  return section('cost', 'Cost and benefit', [
    table('Cost of the period', ['Cost', 'Total', 'Per message'], [
      { head: 'Meta (billed messages by the rate card in effect)', cells: [usd(c.metaUsd), usdPer(c.metaPerMessageUsd)] },
      { head: 'AWS (by the cost model)', cells: [usd(c.awsUsd), usdPer(c.awsPerMessageUsd)] },
      { head: 'All', cells: [`<strong>${usd(total)}</strong>`, `<strong>${usdPer(c.perMessageUsd)}</strong>`] },
    ]),
    `<p>${int(c.billedMessages)} messages billed by Meta, of ${int(r.messages.inbound + r.messages.outbound)} in and out.</p>`,
    table("Meta's cost by pricing category", ['Category', 'Cost', 'Share'],
      categories.map(([category, value]) => ({ head: esc(category), cells: [usd(value), pct(c.metaUsd > 0 ? value / c.metaUsd : null)] })),
      { empty: 'Nothing billed.' }),
    `<p>Acquisition cost <strong>${usd(a.perCustomerUsd)}</strong> per new WhatsApp customer (${usd(a.spendUsd)} for ${int(a.newCustomers)}) — ${verdict(known(a.perCustomerUsd) ? a.perCustomerUsd <= high : null, a.perCustomerUsd !== null && a.perCustomerUsd < low ? `below the ${usd(low)}–${usd(high)} the article calls reasonable` : `within the ${usd(low)}–${usd(high)} the article calls reasonable`, `above the ${usd(low)}–${usd(high)} the article calls reasonable`)}.</p>`,
    table(`Acquisition cost by channel (a WhatsApp customer usually costs ${pct(BENCHMARKS.channelAdvantage, 0)} less)`, ['Channel', 'Spend', 'New customers', 'Per customer', 'WhatsApp cheaper by'],
      c.channels.map((ch) => ({ head: esc(words(ch.channel)), cells: [usd(ch.spendUsd), int(ch.customers), usd(ch.perCustomerUsd), ch === whatsapp ? DASH : advantage(ch.perCustomerUsd)] })),
      { textColumns: [4], empty: 'No other channel configured.' }),
    `<p class="basis">AWS cost model: ${esc(c.model.region)} prices as of ${esc(c.model.pricesAsOf)}, ${usdPer(c.model.perMessageUsd)} per message plus ${usd(c.model.fixedMonthlyUsd)} a month fixed (source: ${esc(c.model.source)}).</p>`,
  ]);
}

/** RP-9: the baseline against this period, beside what the article claims for each figure. */
function beforeAfter(r: Report): string {
  const b = r.beforeAfter.baseline;
  return section('before-after', 'Before and after', [
    `<p>Baseline ${esc(b.from)} to ${esc(b.to)} (${esc(b.source)}) against this period.</p>`,
    table('Before and after, with the article\'s claim', ['Metric', 'Before', 'After', 'Change', "Article's claim"],
      r.beforeAfter.rows.map((row) => ({ head: esc(row.metric), cells: [esc(byMetric(row.metric, row.before)), esc(byMetric(row.metric, row.after)), change(row.change), esc(row.claim)] })),
      { textColumns: [4], empty: 'No baseline figures.' }),
  ]);
}

/** TG-8: intent accuracy as last measured; below 80 % the rules need retraining. */
function intentAccuracy(r: Report): string {
  const i = r.intentAccuracy;
  const line = known(i.accuracy)
    ? `Intent accuracy <strong>${pct(i.accuracy)}</strong>, measured on ${esc(i.measuredOn)} (npm run eval) — ${verdict(!i.retrain, `at or above ${pct(BENCHMARKS.intentAccuracy)}`, `below ${pct(BENCHMARKS.intentAccuracy)}: retrain the rules`)}.`
    : `Intent accuracy ${DASH}: not measured yet (npm run eval)${i.retrain ? ` — ${verdict(false, '', 'retrain the rules')}` : ''}.`;
  return section('intent', 'Intent accuracy', [`<p>${line}</p>`]);
}

// ---------------------------------------------------------------------------------------------
// Page
// ---------------------------------------------------------------------------------------------

const CSS = `
:root{color-scheme:light;--ink:${INK};--muted:${MUTED};--line:#d0d7de;--bg:#ffffff;--panel:#f6f8fa;--good:#116329;--good-bg:#e6f4ea;--bad:#a40e26;--bad-bg:#fdecee;--warn:#7a4500;--warn-bg:#fff3dc;--link:#0a58ca}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);font:16px/1.5 ${FONT}}
main{max-width:1120px;margin:0 auto;padding:16px}
h1{font-size:1.6rem;line-height:1.25;margin:.2rem 0 .4rem}
h2{font-size:1.35rem;margin:2rem 0 .6rem;padding-top:.6rem;border-top:2px solid var(--line)}
h3{font-size:1.1rem;margin:1.4rem 0 .4rem}
p{margin:.5rem 0;max-width:72ch}
a{color:var(--link)}
code{font:.92em ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;overflow-wrap:anywhere}
.kicker{margin:0;color:var(--muted);font-size:.9rem;overflow-wrap:anywhere}
.meta{color:var(--muted);font-size:.95rem}
.downloads{white-space:nowrap;color:var(--ink)}
.downloads a{font-weight:600}
.figures{display:grid;grid-template-columns:repeat(auto-fit,minmax(10.5rem,1fr));gap:8px;margin:12px 0}
.figures div{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:8px 12px}
.figures dt{font-size:.85rem;color:var(--muted)}
.figures dd{margin:0;font-size:1.3rem;font-weight:650;font-variant-numeric:tabular-nums}
.figures small{display:block;font-size:.8rem;font-weight:400;color:var(--muted)}
.alerts{margin:.5rem 0;padding:0;list-style:none}
.alerts li{background:var(--bad-bg);color:var(--bad);border-left:4px solid var(--bad);padding:8px 12px;margin:6px 0;border-radius:4px}
.alerts li::before{content:"⚠ "}
.none{color:var(--good);font-weight:600}
.good{color:var(--good);background:var(--good-bg);padding:0 4px;border-radius:3px}
.bad{color:var(--bad);background:var(--bad-bg);padding:0 4px;border-radius:3px}
.warn{color:var(--warn);background:var(--warn-bg);padding:0 4px;border-radius:3px}
.good,.bad,.warn{-webkit-box-decoration-break:clone;box-decoration-break:clone}
th code{overflow-wrap:normal;white-space:nowrap}
.muted{color:var(--muted)}
.advice{background:var(--panel);border-left:4px solid var(--link);padding:8px 12px}
.basis{color:var(--muted);font-size:.9rem}
.table{max-width:100%;overflow-x:auto;margin:.8rem 0}
.table:focus-visible{outline:2px solid var(--link)}
table{border-collapse:collapse;font-size:.92rem;font-variant-numeric:tabular-nums}
caption{text-align:left;font-weight:600;padding:4px 0;caption-side:top}
th,td{border-bottom:1px solid var(--line);padding:5px 10px;text-align:left;vertical-align:top}
thead th{background:var(--panel);border-bottom:2px solid var(--line);vertical-align:bottom}
tbody th{font-weight:500}
.num{text-align:right}
td.num{white-space:nowrap}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,30rem),1fr));gap:16px;margin:.8rem 0}
figure{margin:0;min-width:0;border:1px solid var(--line);border-radius:6px;padding:8px}
figure.wide{grid-column:1/-1}
svg{display:block;max-width:100%;height:auto;margin:0 auto}
figcaption{font-size:.85rem;color:var(--muted);margin-top:4px}
footer{margin-top:2rem;border-top:1px solid var(--line);color:var(--muted);font-size:.85rem;padding-top:8px}
@media (max-width:600px){main{padding:10px}h1{font-size:1.3rem}table{font-size:.78rem}th,td{padding:4px}caption{position:sticky;left:0;max-width:calc(100vw - 20px)}figure{padding:4px}}
@media print{.table{overflow:visible}figure{break-inside:avoid}}
`;

/**
 * The report as one self-contained HTML page: header, Alerts, Service efficiency, Sales funnel,
 * Cost and benefit, Before and after, Intent accuracy — in that order.
 */
export function renderHtml(report: Report, links?: { json?: string; csv?: string }): string {
  const kind = report.kind === 'weekly' ? 'Weekly report' : 'Daily report';
  const title = `${kind} ${report.period.from === report.period.to ? report.period.from : `${report.period.from} – ${report.period.to}`} · WhatsApp CRM`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="whatsapp-scrm reports (schema ${report.schemaVersion})">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${header(report, links)}
${alerts(report)}
${service(report)}
${sales(report)}
${cost(report)}
${beforeAfter(report)}
${intentAccuracy(report)}
<footer>Report ${esc(report.name)} (schema ${report.schemaVersion}). Shares and rates are of the period; times are local to ${esc(report.period.timeZone)}; money is USD unless a currency is named. “—” marks a figure the period does not have.</footer>
</main>
</body>
</html>
`;
}
