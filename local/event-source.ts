/**
 * Plays Lambda's SQS event source mapping: long-polls a queue, hands batches to the handler as a
 * real SQSEvent, deletes the records the handler did not report as failed (partial batch
 * responses), and leaves the failed ones to come back after the visibility timeout, until the
 * queue's redrive policy moves them to the DLQ.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

export interface EventSourceOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn?: string;
  readonly batchSize: number;
  /** Parallel pollers, like Lambda's concurrent batches. FIFO groups keep order across them. */
  readonly concurrency?: number;
  readonly handler: (event: SQSEvent) => Promise<SQSBatchResponse | void>;
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
        const records = messages.map((m) => toRecord(m, options));
        let failed = new Set(records.map((r) => r.messageId));
        try {
          const response = await options.handler({ Records: records });
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

function toRecord(m: Message, options: EventSourceOptions): SQSRecord {
  const a = m.Attributes ?? {};
  return {
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: a['ApproximateReceiveCount'] ?? '1',
      SentTimestamp: a['SentTimestamp'] ?? String(Date.now()),
      SenderId: a['SenderId'] ?? 'local',
      ApproximateFirstReceiveTimestamp: a['ApproximateFirstReceiveTimestamp'] ?? String(Date.now()),
      ...(a['MessageGroupId'] && { MessageGroupId: a['MessageGroupId'] }),
      ...(a['MessageDeduplicationId'] && { MessageDeduplicationId: a['MessageDeduplicationId'] }),
      ...(a['SequenceNumber'] && { SequenceNumber: a['SequenceNumber'] }),
    },
    messageAttributes: {},
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: options.queueArn ?? options.queueUrl,
    awsRegion: 'us-east-1',
  };
}
