/**
 * Redrive (SY-4): sends the sync jobs parked in the DLQ back to the sync queue, on demand, once
 * the cause is fixed. A message job's message is marked pending again; a job whose message
 * meanwhile synced is just removed. A contact job always goes back (it is a PATCH again); a task
 * job goes back unless its task's done mark is there meanwhile. Nothing is deleted from the DLQ
 * before it is safely back in the queue. The table's failed-sync index is read last, so a message
 * job whose DLQ copy was lost goes back too (contact and task jobs have no row: their DLQ copy is
 * their only record).
 */
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '@aws-lambda-powertools/logger';
import { SyncJobSchema, messageSyncJob, type SyncJob, type SyncJobSink } from '#shared/queue/sync-jobs';
import type { Store } from '#shared/store/store';
import { TaskMarkStore } from '#shared/sync/task-marks';

export interface RedriveDeps {
  readonly sqs: SQSClient;
  readonly dlqUrl: string;
  readonly jobs: SyncJobSink;
  readonly store: Store;
  readonly logger: Pick<Logger, 'info' | 'warn'>;
  readonly now?: () => number;
  /** The CRM jobs go to (SCRM_CRM): a task's done mark counts for this CRM only. Default `hubspot`. */
  readonly crmKind?: string;
}

export interface RedriveResult {
  readonly redriven: number;
  readonly alreadySynced: number;
  readonly malformed: number;
}

export function createRedriveApp(deps: RedriveDeps) {
  const now = deps.now ?? Date.now;
  const taskMarks = new TaskMarkStore(deps.store.table);
  const crmKind = deps.crmKind ?? 'hubspot';

  /** Whether the job still has work to do; a message job's row is made pending again on the way. */
  async function stillToDo(job: SyncJob): Promise<boolean> {
    switch (job.kind) {
      case 'message':
        return deps.store.syncState.markRedriven(job.wamid);
      case 'contact':
        return true;
      case 'task':
        return !(await taskMarks.find(job.contactId, job.taskId, crmKind));
      case 'reply-status':
        return true;
    }
  }

  return {
    async redrive(options: { max?: number } = {}): Promise<RedriveResult> {
      const max = options.max ?? 10_000;
      const result = { redriven: 0, alreadySynced: 0, malformed: 0 };
      const token = String(now());
      while (result.redriven + result.alreadySynced + result.malformed < max) {
        const batch = await deps.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: deps.dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 60 }),
        );
        const messages = batch.Messages ?? [];
        if (messages.length === 0) break;
        for (const message of messages) {
          const job = SyncJobSchema.safeParse(safeJson(message.Body ?? ''));
          if (!job.success) {
            // Left in the DLQ for a person (skipped and counted): not a job this version understands.
            deps.logger.warn('DLQ message is not a sync job; left in place', { messageId: message.MessageId });
            result.malformed++;
            continue;
          }
          if (await stillToDo(job.data)) {
            await deps.jobs.enqueue([job.data], { redrive: token });
            result.redriven++;
          } else {
            result.alreadySynced++;
          }
          await deps.sqs.send(new DeleteMessageCommand({ QueueUrl: deps.dlqUrl, ReceiptHandle: message.ReceiptHandle! }));
        }
      }
      // Failed messages whose DLQ copy is gone (a DLQ purged by hand, a local restart) are
      // known to the table all the same: they go back too.
      for (const message of await deps.store.syncState.failed(Math.max(0, max - result.redriven - result.alreadySynced - result.malformed))) {
        if (await deps.store.syncState.markRedriven(message.wamid)) {
          await deps.jobs.enqueue([messageSyncJob(message.wamid, message.contactId)], { redrive: token });
          result.redriven++;
        }
      }
      deps.logger.info('DLQ redriven', { ...result });
      return result;
    },
  };
}

function safeJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}
