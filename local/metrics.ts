/** The local stack's metrics: totals in memory, shown at `/local/metrics` (what CloudWatch shows on AWS). */
import { METRICS, type MetricKey, type MetricsSink } from '#shared/metric-names';

/** Totals by metric (and dimension), kept in memory: the local stack's `/local/metrics`. */
export class MetricTotals implements MetricsSink {
  private readonly totals = new Map<string, number>();
  add(metric: MetricKey, value = 1, dimensions: Readonly<Record<string, string>> = {}): void {
    const key = [METRICS[metric].name, ...Object.entries(dimensions).map(([k, v]) => `${k}=${v}`)].join(' ');
    this.totals.set(key, (this.totals.get(key) ?? 0) + value);
  }
  get(metric: MetricKey): number {
    let sum = 0;
    for (const [key, value] of this.totals) if (key === METRICS[metric].name || key.startsWith(`${METRICS[metric].name} `)) sum += value;
    return sum;
  }
  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.totals].sort(([a], [b]) => a.localeCompare(b)));
  }
}
