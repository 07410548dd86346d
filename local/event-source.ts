/**
 * Plays Lambda's SQS event source mapping: long-polls a queue, hands batches to the handler as a
 * real SQSEvent, deletes the records the handler did not report as failed (partial batch
 * responses), and leaves the failed ones to come back after the visibility timeout, until the
 * queue's redrive policy moves them to the DLQ.
 */
import { sqsRecordOf } from '#shared/queue/sqs-record';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

export interface EventSourceOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn?: string;
  readonly batchSize: number;
  /** Parallel pollers, like Lambda's concurrent batches. FIFO groups keep order across them. */
  readonly concurrency?: number;
  readonly handler: (event: SQSEvent, context: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<SQSBatchResponse | void>;
  /** The function timeout Lambda would give a batch (the handler's time budget), ms. */
  readonly timeoutMs: number;
  readonly onError?: (error: unknown) => void;
}

export interface EventSource {
  stop(): Promise<void>;
  /** Batches handed to the handler so far. */
  readonly batches: () => number;
}

export function startEventSource(options: EventSourceOptions): EventSource {
  const abort = new AbortController();
  let batches = 0;
  let visibility: Promise<number | undefined> | undefined;
  const visibilitySeconds = () =>
    (visibility ??= options.sqs
      .send(new GetQueueAttributesCommand({ QueueUrl: options.queueUrl, AttributeNames: ['VisibilityTimeout'] }))
      .then(
        (r) => Number(r.Attributes?.['VisibilityTimeout']) || undefined,
        (error: unknown) => {
          visibility = undefined; // asked again for the next batch
          options.onError?.(error);
          return undefined;
        },
      ));

  /**
   * In AWS a batch never outlives its messages' visibility: the function timeout is at most 1/6
   * of the queue's visibility timeout and Lambda stops the function at its timeout. Locally a
   * handler has no timeout and the visibility timeout can be short (a 1 s retry pause), so while
   * the handler runs its messages are kept invisible; otherwise another poller would take the
   * same messages again meanwhile (a second concurrent attempt, receive counts burnt towards
   * the DLQ, a customer's later messages free to overtake). Known gap: an extension that lands
   * after the handler set a record's visibility itself (the pause for a CRM's Retry-After) while
   * the rest of the batch is still running resets that pause to the queue's visibility timeout.
   */
  async function whileHandling<T>(records: SQSRecord[], run: () => Promise<T>): Promise<T> {
    const seconds = await visibilitySeconds();
    if (seconds === undefined) return run();
    const extend = () =>
      options.sqs
        .send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: options.queueUrl,
            Entries: records.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle, VisibilityTimeout: seconds })),
          }),
        )
        .catch((error: unknown) => options.onError?.(error));
    const timer = setInterval(() => void extend(), Math.max(100, (seconds * 1000) / 3));
    try {
      return await run();
    } finally {
      clearInterval(timer);
    }
  }
  const loop = async () => {
    while (!abort.signal.aborted) {
      try {
        const received = await options.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: options.batchSize,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: abort.signal },
        );
        const messages = received.Messages ?? [];
        if (messages.length === 0) continue;
        batches++;
        const records = messages.map((m) => sqsRecordOf(m, { eventSourceARN: options.queueArn ?? options.queueUrl, awsRegion: 'us-east-1' }));
        let failed = new Set(records.map((r) => r.messageId));
        try {
          const end = Date.now() + options.timeoutMs;
          const context = { getRemainingTimeInMillis: () => Math.max(0, end - Date.now()) };
          const response = await whileHandling(records, () => options.handler({ Records: records }, context));
          failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
        } catch (error) {
          options.onError?.(error); // the whole batch comes back after the visibility timeout
        }
        const done = records.filter((r) => !failed.has(r.messageId));
        if (done.length) {
          await options.sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: options.queueUrl,
              Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
            }),
          );
        }
      } catch (error) {
        if (abort.signal.aborted) return;
        options.onError?.(error);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  };
  const loops = Array.from({ length: options.concurrency ?? 2 }, loop);
  return {
    batches: () => batches,
    async stop() {
      abort.abort();
      await Promise.allSettled(loops);
    },
  };
}

