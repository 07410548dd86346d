/** The media function from a runtime (AWS and the local stack): its sources, bucket and DLQ. */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { MetricsSink } from '#shared/metric-names';
import type { Runtime } from '#shared/runtime';
import { ConfigError } from '#shared/config';
import { createMediaSources } from '#shared/whatsapp/media-sources';
import { createMediaApp, type MediaAppDeps } from './app.ts';

export function mediaApp(input: { runtime: Runtime; dlqUrl: string | undefined; logger: MediaAppDeps['logger']; metrics?: MetricsSink }) {
  const { runtime } = input;
  if (!runtime.bucket) throw new ConfigError('Invalid configuration: SCRM_BUCKET_NAME is not set (media is kept in the bucket)');
  const dlqUrl = input.dlqUrl;
  return createMediaApp({
    store: runtime.store,
    source: createMediaSources(runtime.config, runtime.secretSource),
    bucket: runtime.bucket,
    now: Date.now,
    logger: input.logger,
    ...(input.metrics && { metrics: input.metrics }),
    ...(dlqUrl && {
      deadLetters: {
        send: async (body: string, reason: string) => {
          await runtime.clients.sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: body, MessageAttributes: { reason: { DataType: 'String', StringValue: reason.slice(0, 1000) } } }));
        },
      },
    }),
  });
}
