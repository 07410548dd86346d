/**
 * Send jobs on the FIFO send queue: one per outbound message, naming our id only (the row holds
 * the rest). The group is the customer, so one customer's messages go in order; the
 * deduplication id is the message's id and why it is queued, so the sweep can queue a message
 * again without SQS dropping it as a repeat, and a repeated job is made harmless by the row's
 * claim (only a queued or deferred row is ever sent).
 */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod/mini';
import '../zod.ts';
import { sha256Hex } from '../store/keys.ts';

export const SendJobSchema = z.object({
  v: z.literal(1),
  /** `send`: send the message; `failed`: Meta reported it failed in a status webhook, apply what the code means. */
  kind: z.enum(['send', 'failed']),
  id: z.string().check(z.minLength(1)),
  contactId: z.string().check(z.minLength(1)),
});
export type SendJob = z.infer<typeof SendJobSchema>;

export const sendJob = (id: string, contactId: string): SendJob => ({ v: 1, kind: 'send', id, contactId });
export const failedStatusJob = (id: string, contactId: string): SendJob => ({ v: 1, kind: 'failed', id, contactId });

export interface SendJobSink {
  /** `reason` distinguishes a queueing of the same message from an earlier one (dedup id). */
  enqueue(jobs: readonly SendJob[], reason?: string): Promise<void>;
}

export class SqsSendQueue implements SendJobSink {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(jobs: readonly SendJob[], reason = 'accepted'): Promise<void> {
    for (let i = 0; i < jobs.length; i += 10) {
      const entries = jobs.slice(i, i + 10).map((job, n) => ({
        Id: String(n),
        MessageBody: JSON.stringify(job),
        MessageGroupId: job.contactId,
        MessageDeduplicationId: sha256Hex(`${job.id}#${job.kind}#${reason}`),
      }));
      const result = await this.sqs.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }));
      if (result.Failed?.length) throw new Error(`send queue refused ${result.Failed.length} job(s): ${result.Failed[0]?.Code ?? ''} ${result.Failed[0]?.Message ?? ''}`);
    }
  }
}
