/** The send function against a running local stack, with a test's channel, clock or metrics. */
import { createSendApp } from '#functions/send/app';
import type { LocalStack } from '#local/stack';
import type { WhatsAppChannel } from '#shared/whatsapp/outbound/channel';
import { createChannels } from '#shared/whatsapp/outbound/factory';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

export function sendAppOn(stack: LocalStack, options: { channel?: (real: WhatsAppChannel) => WhatsAppChannel; now?: () => number; counted?: string[] } = {}) {
  const runtime = stack.runtime;
  const channels = createChannels(runtime.config, runtime.secretSource);
  return createSendApp({
    store: runtime.store,
    channelFor: (id) => (options.channel ?? ((real) => real))(channels.channelFor(id)),
    accountApi: channels.accountApi,
    sqs: runtime.clients.sqs,
    queueUrl: stack.services.queueUrls.send,
    jobs: runtime.sendQueue!,
    syncJobs: runtime.syncQueue,
    config: runtime.config,
    logger: silent,
    metrics: { add: (metric) => options.counted?.push(metric) },
    ...(options.now && { now: options.now }),
  });
}
