/**
 * CRM sync jobs on the FIFO sync queue. One job per stored message, with a deterministic id, so
 * a repeated enqueue is dropped by SQS deduplication and a repeated delivery of the job is made
 * harmless by the idempotent sync consumer (invariant 2). The message group is the contact, so
 * one customer's messages reach the CRM in order.
 */
import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod/mini';
import '../zod.ts';
import { sha256Hex } from '../store/keys.ts';

export const SyncJobSchema = z.object({
  v: z.literal(1),
  kind: z.literal('message'),
  jobId: z.string().check(z.minLength(1)),
  wamid: z.string().check(z.minLength(1)),
  contactId: z.string().check(z.minLength(1)),
});
export type SyncJob = z.infer<typeof SyncJobSchema>;

export function messageSyncJob(wamid: string, contactId: string): SyncJob {
  return { v: 1, kind: 'message', jobId: `message:${wamid}`, wamid, contactId };
}

/** Where jobs go: an SQS queue in production and locally; a port so tests can inject failures. */
export interface SyncJobSink {
  enqueue(jobs: readonly SyncJob[], options?: { redrive?: string }): Promise<void>;
}

export class SqsSyncQueue implements SyncJobSink {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  /**
   * Sends jobs; throws if any was not accepted. `redrive` makes the deduplication id new, for a
   * job sent back from the DLQ within SQS's five-minute deduplication window.
   */
  async enqueue(jobs: readonly SyncJob[], options: { redrive?: string } = {}): Promise<void> {
    const entries = jobs.map((job, i) => ({
      Id: String(i),
      MessageBody: JSON.stringify(job),
      MessageGroupId: job.contactId,
      MessageDeduplicationId: sha256Hex(options.redrive ? `${job.jobId}#${options.redrive}` : job.jobId),
    }));
    if (entries.length === 1) {
      const [entry] = entries;
      await this.sqs.send(new SendMessageCommand({ QueueUrl: this.queueUrl, ...entry! }));
      return;
    }
    for (let i = 0; i < entries.length; i += 10) {
      const result = await this.sqs.send(
        new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries.slice(i, i + 10) }),
      );
      if (result.Failed?.length) {
        throw new Error(`sync queue refused ${result.Failed.length} job(s): ${result.Failed[0]?.Code ?? ''} ${result.Failed[0]?.Message ?? ''}`);
      }
    }
  }
}
