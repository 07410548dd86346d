/**
 * The structured logger and the metrics, created once per process and imported everywhere
 * (OP-4). Logs carry ids and masked phones only: never a phone in clear, never message text.
 * Metrics are CloudWatch embedded metric format (Powertools Metrics), flushed by each handler's
 * `logMetrics` middleware; their names come from metric-names.ts, which the alarms read too.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS, METRIC_NAMESPACE, type MetricKey, type MetricsSink } from './metric-names.ts';
import { ENV } from './resources.ts';

export const logger = new Logger({ serviceName: process.env['POWERTOOLS_SERVICE_NAME'] ?? 'scrm' });

/** Powertools Metrics with the stage as a dimension (and the function, as `service`). */
export const metrics = new Metrics({
  namespace: METRIC_NAMESPACE,
  serviceName: process.env['POWERTOOLS_SERVICE_NAME'] ?? 'scrm',
  defaultDimensions: { stage: process.env[ENV.stage] ?? 'local' },
});

const UNITS = { Count: MetricUnit.Count, Milliseconds: MetricUnit.Milliseconds, None: MetricUnit.NoUnit } as const;

/** The functions' metrics sink on AWS. A metric with its own dimensions is published on its own. */
export const cloudWatchMetrics: MetricsSink = {
  add(metric: MetricKey, value = 1, dimensions?: Readonly<Record<string, string>>) {
    const { name, unit } = METRICS[metric];
    if (!dimensions || Object.keys(dimensions).length === 0) {
      metrics.addMetric(name, UNITS[unit], value);
      return;
    }
    const single = metrics.singleMetric();
    for (const [key, dimension] of Object.entries(dimensions)) single.addDimension(key, dimension);
    single.addMetric(name, UNITS[unit], value);
  },
};

/** A short description of an error for logs and stored records (no stack, no payload). */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
