/**
 * The send function and its poller on a thread of their own for the bench (on AWS it is its own
 * Lambda, apart from the webhook that takes the status webhooks): its DynamoDB calls counted.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createSendApp } from '#functions/send/app';
import { startEventSource } from '#local/event-source';
import { SEND_FUNCTION_TIMEOUT_SECONDS, SEND_QUEUE } from '#shared/resources';
import { createRuntime, type AwsOverrides } from '#shared/runtime';
import { createChannels } from '#shared/whatsapp/outbound/factory';

export interface SendWorkerData {
  readonly env: Record<string, string | undefined>;
  readonly overrides: AwsOverrides;
  readonly queueUrl: string;
  readonly concurrency: number;
}

const data = workerData as SendWorkerData;
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const runtime = await createRuntime(data.env, data.overrides);
let dynamoCalls = 0;
runtime.clients.dynamodb.middlewareStack.add(
  (next) => async (args) => {
    dynamoCalls++;
    return next(args);
  },
  { step: 'initialize', name: 'countCalls' },
);
const channels = createChannels(runtime.config, runtime.secretSource);
const sender = createSendApp({
  store: runtime.store,
  channelFor: channels.channelFor,
  sqs: runtime.clients.sqs,
  queueUrl: data.queueUrl,
  jobs: runtime.sendQueue!,
  syncJobs: runtime.syncQueue,
  config: runtime.config,
  logger: silent,
});
const poller = startEventSource({ sqs: runtime.clients.sqs, queueUrl: data.queueUrl, batchSize: SEND_QUEUE.batchSize, concurrency: data.concurrency, handler: (e, c) => sender.handle(e, c), timeoutMs: SEND_FUNCTION_TIMEOUT_SECONDS * 1000 });
parentPort?.on('message', (message: { kind: string }) => {
  if (message.kind !== 'stop') return;
  void poller.stop().then(() => {
    runtime.clients.dynamodb.destroy();
    runtime.clients.sqs.destroy();
    parentPort?.postMessage({ kind: 'stopped', dynamoCalls });
  });
});
parentPort?.postMessage({ kind: 'ready' });
