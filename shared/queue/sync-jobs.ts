/**
 * CRM sync jobs on the FIFO sync queue, each with a deterministic id, so a repeated enqueue is
 * dropped by SQS deduplication and a repeated delivery of the job is made harmless by the
 * idempotent sync consumer (invariant 2). The message group is the contact, so one customer's
 * CRM writes happen in order and never side by side. Three kinds:
 * - `message`: one stored message → its contact upserted and the message logged (SY-1);
 * - `contact`: the contact's current fields and insights upserted, no message logged — after a
 *   coupon, a rating, an address completion, an assignment (`reason` names it);
 * - `task`: a follow-up task created once on the contact's CRM record (AU-5).
 */
import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod/mini';
import '../zod.ts';
import { sha256Hex } from '../store/keys.ts';

const id = z.string().check(z.minLength(1));

export const MessageSyncJobSchema = z.object({
  v: z.literal(1),
  kind: z.literal('message'),
  jobId: id,
  wamid: id,
  contactId: id,
});

export const ContactSyncJobSchema = z.object({
  v: z.literal(1),
  kind: z.literal('contact'),
  jobId: id,
  contactId: id,
  /** Why the contact is synced (e.g. `coupon:<code>`, `rating:<conversation>`): part of the job id. */
  reason: id.check(z.maxLength(512)),
});

export const TaskSyncJobSchema = z.object({
  v: z.literal(1),
  kind: z.literal('task'),
  jobId: id,
  contactId: id,
  /** The task's deterministic id, its idempotency key in the CRM. */
  taskId: id.check(z.maxLength(512)),
  subject: id.check(z.maxLength(2000)),
  body: z.optional(z.string().check(z.maxLength(20_000))),
  /** Due time, ms. */
  dueAt: z.number().check(z.int(), z.gte(0)),
  /** The CRM user to assign it to; the CRM's default when absent. */
  ownerId: z.optional(id),
});

/** A reply written in the CRM (SY-3): its delivery status written back to its CRM record. */
export const ReplyStatusSyncJobSchema = z.object({
  v: z.literal(1),
  kind: z.literal('reply-status'),
  jobId: id,
  contactId: id,
  /** Our outbound message. */
  outboundId: id,
  crm: id,
  replyId: id,
  contactCrmId: id,
  status: z.enum(['queued', 'sent', 'delivered', 'read', 'failed']),
  at: z.number().check(z.int(), z.gte(0)),
  wamid: z.optional(id),
  error: z.optional(z.string().check(z.maxLength(500))),
});

export const SyncJobSchema = z.discriminatedUnion('kind', [MessageSyncJobSchema, ContactSyncJobSchema, TaskSyncJobSchema, ReplyStatusSyncJobSchema]);

export type MessageSyncJob = z.infer<typeof MessageSyncJobSchema>;
export type ContactSyncJob = z.infer<typeof ContactSyncJobSchema>;
export type TaskSyncJob = z.infer<typeof TaskSyncJobSchema>;
export type ReplyStatusSyncJob = z.infer<typeof ReplyStatusSyncJobSchema>;
export type SyncJob = z.infer<typeof SyncJobSchema>;

/** The reply's status to its CRM record; one job per message and status. */
export function replyStatusSyncJob(input: Omit<ReplyStatusSyncJob, 'v' | 'kind' | 'jobId'>): ReplyStatusSyncJob {
  return { v: 1, kind: 'reply-status', jobId: `reply-status:${input.outboundId}:${input.status}`, ...input };
}

export function messageSyncJob(wamid: string, contactId: string): MessageSyncJob {
  return { v: 1, kind: 'message', jobId: `message:${wamid}`, wamid, contactId };
}

/** The contact's fields and insights to the CRM; one job per contact and reason. */
export function contactSyncJob(contactId: string, reason: string): ContactSyncJob {
  return { v: 1, kind: 'contact', jobId: `contact:${contactId}:${reason}`, contactId, reason };
}

export interface TaskJobInput {
  readonly taskId: string;
  readonly contactId: string;
  readonly subject: string;
  readonly body?: string | undefined;
  readonly dueAt: number;
  readonly ownerId?: string | undefined;
}

/** A follow-up task for the contact's CRM record; one job per task id. */
export function taskSyncJob(input: TaskJobInput): TaskSyncJob {
  return {
    v: 1,
    kind: 'task',
    jobId: `task:${input.taskId}`,
    contactId: input.contactId,
    taskId: input.taskId,
    subject: input.subject,
    ...(input.body !== undefined && { body: input.body }),
    dueAt: input.dueAt,
    ...(input.ownerId !== undefined && { ownerId: input.ownerId }),
  };
}

/** The same job in another contact's group (the contact it was merged into): same effect, same id. */
export function withContact(job: SyncJob, contactId: string): SyncJob {
  switch (job.kind) {
    case 'message':
      return messageSyncJob(job.wamid, contactId);
    case 'contact':
      return contactSyncJob(contactId, job.reason);
    case 'task':
    case 'reply-status':
      return { ...job, contactId };
  }
}

/** What a job is about, for logs (no personal data: ids only). */
export function jobSubject(job: SyncJob): Record<string, string> {
  switch (job.kind) {
    case 'message':
      return { kind: job.kind, wamid: job.wamid };
    case 'contact':
      return { kind: job.kind, contactId: job.contactId, reason: job.reason };
    case 'task':
      return { kind: job.kind, contactId: job.contactId, taskId: job.taskId };
    case 'reply-status':
      return { kind: job.kind, contactId: job.contactId, outboundId: job.outboundId, status: job.status };
  }
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
