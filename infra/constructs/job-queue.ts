/**
 * A queue of jobs and its dead-letter queue, exactly as a QueueDefinition in shared/resources.ts
 * says: FIFO or standard, visibility timeout, redrive after maxReceiveCount, retention, batch size.
 * Encrypted (SSE-SQS) and TLS-only.
 */
import { Duration } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { DeduplicationScope, FifoThroughputLimit, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { QueueDefinition } from '#shared/resources';
import { acknowledge } from '../compliance.ts';
import type { AppFunction } from './app-function.ts';

/** AWS guidance: a queue's visibility timeout is at least 6× the timeout of the function consuming it. */
export const VISIBILITY_TO_TIMEOUT_RATIO = 6;

export interface JobQueueProps {
  readonly definition: QueueDefinition;
  readonly queueName: string;
  readonly deadLetterQueueName: string;
}

export class JobQueue extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly definition: QueueDefinition;

  constructor(scope: Construct, id: string, props: JobQueueProps) {
    super(scope, id);
    const { definition } = props;
    this.definition = definition;
    const fifo = definition.fifo
      ? {
          fifo: true,
          // Producers set a deterministic deduplication id; content-based is the fallback.
          contentBasedDeduplication: true,
          // One message group per contact: high-throughput FIFO, ordered per customer.
          deduplicationScope: DeduplicationScope.MESSAGE_GROUP,
          fifoThroughputLimit: FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
        }
      : {};

    this.deadLetterQueue = new Queue(this, 'DeadLetters', {
      queueName: props.deadLetterQueueName,
      ...(definition.fifo ? { fifo: true } : {}),
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    acknowledgeIsDeadLetterQueue(this.deadLetterQueue);

    this.queue = new Queue(this, 'Queue', {
      queueName: props.queueName,
      ...fifo,
      visibilityTimeout: Duration.seconds(definition.visibilityTimeoutSeconds),
      retentionPeriod: Duration.days(definition.retentionDays),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: definition.maxReceiveCount },
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
  }

  /** Longest timeout a consumer may have for this queue's visibility timeout. */
  get maxConsumerTimeout(): Duration {
    return Duration.seconds(Math.floor(this.definition.visibilityTimeoutSeconds / VISIBILITY_TO_TIMEOUT_RATIO));
  }

  /**
   * Makes `fn` the consumer: an event source mapping with the definition's batch size and
   * partial batch responses, so one failed job does not send its whole batch round again.
   * `maxBatchingWindow`: how long Lambda may gather a batch before invoking (default none).
   */
  consumeWith(fn: AppFunction, options: { readonly maxBatchingWindow?: Duration; readonly maxConcurrency?: number } = {}): void {
    const timeout = fn.function.timeout?.toSeconds() ?? 3;
    if (timeout * VISIBILITY_TO_TIMEOUT_RATIO > this.definition.visibilityTimeoutSeconds) {
      throw new Error(
        `${fn.node.path}: timeout ${timeout}s is more than 1/${VISIBILITY_TO_TIMEOUT_RATIO} of the ${this.definition.id} queue visibility timeout (${this.definition.visibilityTimeoutSeconds}s)`,
      );
    }
    fn.function.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: this.definition.batchSize,
        reportBatchItemFailures: true,
        ...(options.maxBatchingWindow ? { maxBatchingWindow: options.maxBatchingWindow } : {}),
        ...(options.maxConcurrency ? { maxConcurrency: options.maxConcurrency } : {}),
      }),
    );
    acknowledge(
      fn,
      'Serverless-LambdaEventSourceMappingDestination',
      `SQS event source mappings do not support on-failure destinations; a job that fails ${this.definition.maxReceiveCount} times moves to the ${this.definition.id} dead-letter queue by the queue redrive policy.`,
    );
  }
}

/** A dead-letter queue has no dead-letter queue of its own: the chain ends here, watched by an alarm. */
export function acknowledgeIsDeadLetterQueue(queue: Queue): void {
  const reason = 'This queue is itself a dead-letter queue; a DLQ behind a DLQ would only move the same messages again. Its depth is alarmed (> 0).';
  acknowledge(queue, 'AwsSolutions-SQS3', reason);
  acknowledge(queue, 'Serverless-SQSRedrivePolicy', reason);
}
