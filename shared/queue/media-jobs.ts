/**
 * Media jobs on the (standard) media queue (MD-1): one per media message, the news that its work
 * item (shared/store/media.ts) waits. A job received twice does the same idempotent work twice at
 * worst; the work item, not the queue, says what is still to do.
 */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod/mini';
import '../zod.ts';

const id = z.string().check(z.minLength(1), z.maxLength(512));

export const MediaJobSchema = z.object({
  v: z.literal(1),
  wamid: id,
  contactId: id,
});
export type MediaJob = z.infer<typeof MediaJobSchema>;

export function mediaJob(wamid: string, contactId: string): MediaJob {
  return { v: 1, wamid, contactId };
}

export interface MediaJobSink {
  enqueue(jobs: readonly MediaJob[]): Promise<void>;
}

export class SqsMediaQueue implements MediaJobSink {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  /** Sends jobs, ten a request; throws if any was not accepted (the sweep would find it, but the caller answers 5xx sooner). */
  async enqueue(jobs: readonly MediaJob[]): Promise<void> {
    for (let i = 0; i < jobs.length; i += 10) {
      const entries = jobs.slice(i, i + 10).map((job, j) => ({ Id: String(j), MessageBody: JSON.stringify(job) }));
      const result = await this.sqs.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }));
      if (result.Failed?.length) throw new Error(`media queue refused ${result.Failed.length} job(s): ${result.Failed[0]?.Code ?? ''} ${result.Failed[0]?.Message ?? ''}`);
    }
  }
}
