import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mediaLinkKey } from '#shared/media/links';
import { cloudWatchMetrics, logger, metrics } from '#shared/observability';
import { costBasis } from '#shared/reports/load';
import { ENV } from '#shared/resources';
import { createRuntime, once } from '#shared/runtime';
import { createReportsApp } from './app.ts';

/** The scheduled report runs (shared/resources.ts SCHEDULES): `daily`, `weekly`; `at` (YYYY-MM-DD) rebuilds another period. */
interface ReportTask {
  readonly task: string;
  readonly at?: string;
}

const app = once(async () => {
  const runtime = await createRuntime();
  const topicArn = process.env[ENV.reportsTopicArn];
  const publicUrl = process.env[ENV.publicUrl];
  const sns = topicArn ? new SNSClient({}) : undefined;
  const secrets = await runtime.secretSource.current();
  return createReportsApp({
    store: runtime.store,
    files: runtime.bucket,
    topic: sns && topicArn ? { publish: async (subject, message) => void (await sns.send(new PublishCommand({ TopicArn: topicArn, Subject: subject, Message: message }))) } : undefined,
    events: runtime.events,
    links: publicUrl ? { publicUrl, key: mediaLinkKey(secrets) } : undefined,
    cost: costBasis({ region: process.env['AWS_REGION'], profile: process.env[ENV.deployProfile] === 'small' ? 'small' : 'standard' }),
    metrics: cloudWatchMetrics,
    logger,
  });
});

export const handler = middy<ReportTask, { name: string; keys: string[]; alerts: readonly string[] }>()
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .handler(async (event) => (await app()).run(event.task, event.at));
