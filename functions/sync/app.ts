/**
 * CRM sync (SY-1, SY-4, AU-4, AU-5, ID-7, RP-13). Three kinds of job (shared/queue/sync-jobs.ts):
 * - `message`: one stored message → its contact upserted in the CRM and the message logged on it
 *   (and an opportunity opened for a purchase intent). Idempotent: a synced message is skipped,
 *   CRM ids are stored back and reused, and the adapter itself dedupes by wamid.
 * - `contact`: the contact's current fields and insights upserted, nothing logged (after a coupon,
 *   a rating, an address completion, an assignment). Idempotent by nature: the same PATCH again.
 * - `task`: the contact upserted if it has no CRM id yet, then a follow-up task created once. Its
 *   done mark is on the contact (shared/sync/task-marks.ts), written with the contact's new CRM id
 *   in one conditional write; a mark lost after the CRM committed is made good by the adapter's
 *   create-once (the task id is its idempotency key), never by a second task.
 *
 * Attempts and time:
 * - A message job's attempt is counted on the message row when it ends (in the same write that
 *   records its outcome, so a sync costs no extra write). A contact or task job has no row: its
 *   attempts are the queue's receive count, which also counts deliveries given back unstarted —
 *   so its limit is the queue's own (`maxReceiveCount`: the attempts plus the receive allowance).
 * - A failed attempt with attempts left comes back after the retry pause (or the CRM's
 *   Retry-After); after the last one, or at once when retrying cannot help (a 4xx), the job is
 *   parked in the DLQ (a message's row marked failed in the same step, with the error kept).
 * - Every CRM call and wait is bounded by what is left of the invocation. A job there is no time
 *   to start is given back unstarted — not an attempt — and comes back within seconds.
 * - A body that is not a sync job goes to the DLQ at once: it blocks nobody's group.
 */
import { mediaLink } from '#shared/media/links';
import { ChangeMessageVisibilityBatchCommand, ChangeMessageVisibilityCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { SqsFifoPartialProcessorAsync, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { crmContactInput } from '#shared/crm/contact-input';
import { CrmError, type CrmAdapter, type CrmContactResult } from '#shared/crm/port';
import { opportunityFrom } from '#shared/domain/intelligence/catalogue';
import type { Intelligence } from '#shared/domain/intelligence/intelligence';
import type { ContactInsights } from '#shared/domain/insights';
import { contactCrmId, messageCrmId, opportunityCrmId, type Contact, type MessageRecord } from '#shared/domain/records';
import type { DomainEventBus } from '#shared/events/bus';
import { NO_METRICS, type MetricsSink } from '#shared/metric-names';
import { describeError } from '#shared/observability';
import {
  SyncJobSchema,
  jobSubject,
  withContact,
  type ContactSyncJob,
  type MessageSyncJob,
  type ReplyStatusSyncJob,
  type SyncJob,
  type SyncJobSink,
  type TaskSyncJob,
} from '#shared/queue/sync-jobs';
import { syncQueueDefinition } from '#shared/resources';
import type { StoredMessage } from '#shared/store/messages';
import type { Store } from '#shared/store/store';
import { ContactInsightsKeeper } from '#shared/sync/insights';
import { TaskMarkStore } from '#shared/sync/task-marks';
import { settleTwoWayFields } from '#shared/sync/two-way-fields';
import { hasTwoWay } from '#shared/crm/two-way';
import { BURST_DEFAULTS, createBurst, type BurstSettings } from './burst.ts';
import { conversationOf } from './conversation.ts';

export interface SyncDeps {
  readonly store: Store;
  readonly crm: CrmAdapter;
  readonly sqs: SQSClient;
  /** Where a job is sent on to (a merged contact's job, to the survivor's group). */
  readonly jobs: SyncJobSink;
  readonly queueUrl: string;
  readonly dlqUrl?: string | undefined;
  readonly config: { readonly retryDelaySeconds: number; readonly maxAttempts: number };
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly now?: () => number;
  /** The compiled intelligence rules (catalogue, hot-word families, contact tag rules). */
  readonly intelligence: Pick<Intelligence, 'hotWordFamily' | 'contactTagRules' | 'catalogue'>;
  /** Where segment changes go (EventBridge on AWS, the local bus locally). */
  readonly events?: DomainEventBus | undefined;
  /** Observes each synced message (bench and metrics): CRM calls it took, time from arrival. */
  readonly onSynced?: (info: { wamid: string; calls: number; receivedAt: number; syncedAt: number }) => void;
  /** How the invocation's time is spent; defaults {@link TIME_BUDGET}. */
  readonly budget?: Partial<TimeBudget>;
  /** Synced messages, failed attempts, latency, CRM calls, auth failures (alarms read them). */
  readonly metrics?: MetricsSink;
  /** Burst batching when the queue backs up (burst.ts); false: always one job at a time. */
  readonly burst?: Partial<BurstSettings> | false;
  /** Media links in the CRM's copy of a media message (MD-1): the API's public URL and the link key. */
  readonly mediaLinks?: { readonly publicUrl: () => string | undefined; readonly key: () => Promise<string> } | undefined;
}

export interface TimeBudget {
  /** Kept back at the end of an invocation to record failures and answer. */
  readonly reserveMs: number;
  /** A job is not started with less time than this left. */
  readonly minStartMs: number;
  /** A job given back unstarted is visible again after this many seconds. */
  readonly unstartedRetrySeconds: number;
}

export const TIME_BUDGET: TimeBudget = { reserveMs: 3_000, minStartMs: 5_000, unstartedRetrySeconds: 5 };

/** Longest pause SQS allows before a message becomes visible again. */
const MAX_VISIBILITY_SECONDS = 43_200;

/** Thrown for a job there was no time to start: given back, not an attempt. */
class NotStarted extends Error {
  override readonly name = 'NotStarted';
}

export function createSyncApp(deps: SyncDeps) {
  const now = deps.now ?? Date.now;
  const { store, crm, logger } = deps;
  const budget: TimeBudget = { ...TIME_BUDGET, ...deps.budget };
  const metrics = deps.metrics ?? NO_METRICS;
  const keeper = new ContactInsightsKeeper(deps);
  const taskMarks = new TaskMarkStore(store.table);
  /** The receive on which SQS would move a job to the DLQ by itself: the last attempt of a job without a row. */
  const receiveLimit = syncQueueDefinition(deps.config).maxReceiveCount;

  /**
   * A job whose FIFO group is a contact merged away since: in that group it could run beside the
   * survivor's jobs. It goes on in the survivor's group, where this customer's work is. True when sent on.
   */
  async function sentOnIfMerged(job: SyncJob, contact: Contact): Promise<boolean> {
    if (job.contactId === contact.contactId) return false;
    await deps.jobs.enqueue([withContact(job, contact.contactId)], { redrive: `merged-${job.contactId}` });
    logger.info('sync job sent on to the group of the contact it was merged into', { ...jobSubject(job), from: job.contactId, to: contact.contactId });
    return true;
  }

  /** The contact as it is now, with what its recent history says (segment, scores, tags), upserted in the CRM. */
  async function upsertContact(contact: Contact, deadline: number): Promise<{ crmContact: CrmContactResult; insights: ContactInsights }> {
    const insights = await keeper.compute(contact, now());
    const crmContact = await crm.upsertContact(crmContactInput(contact, insights, crm.kind), { deadline });
    await keepCrmId(contact, crmContact.crmId);
    // The two-way fields (SY-3): a profile-name change is our edit, an edit the CRM lacks is written to it.
    const extra = await settleTwoWayFields({ store, crm, logger, now }, contact, crmContact, deadline);
    return { crmContact: extra ? { ...crmContact, calls: crmContact.calls + extra } : crmContact, insights };
  }

  /** Stores the contact's CRM id when it is new (or of another CRM). */
  async function keepCrmId(contact: Contact, crmId: string): Promise<void> {
    if (contactCrmId(contact, crm.kind) !== crmId) {
      await store.contacts.setCrm(contact.contactId, { kind: crm.kind, id: crmId }, now());
    }
  }

  /** The message as the CRM shows it: its text, and for media a link that opens the stored file. */
  async function bodyOf(message: StoredMessage): Promise<string> {
    const publicUrl = message.media ? deps.mediaLinks?.publicUrl() : undefined;
    if (!publicUrl || !deps.mediaLinks) return message.summary;
    return `${message.summary}\n${mediaLink(publicUrl, await deps.mediaLinks.key(), message.wamid)}`;
  }

  /** Syncs one message; resolves when done (or nothing to do), throws when the attempt failed. */
  async function syncMessage(job: MessageSyncJob, message: StoredMessage, deadline: number): Promise<void> {
    const contact = await store.contacts.current(message.contactId);
    if (!contact) throw new Error(`contact ${message.contactId} of message ${job.wamid} not found`);
    if (await sentOnIfMerged(job, contact)) return;

    const { crmContact, insights } = await upsertContact(contact, deadline);
    const options = { deadline };
    // A reply an agent wrote in the CRM is a CRM record already: it is not logged a second time.
    const crmReply = message.direction === 'outbound' && message.outboundId ? (await store.outbox.get(message.outboundId))?.crmReply : undefined;
    const logged = crmReply ? { crmId: crmReply.replyId, created: false, calls: 0 } : await crm.logMessage(
      {
        wamid: message.wamid,
        contactCrmId: crmContact.crmId,
        direction: message.direction,
        body: await bodyOf(message),
        timestamp: message.sentAt,
        knownCrmId: messageCrmId(message, crm.kind),
        conversation: conversationOf(contact, message),
      },
      options,
    );
    const opportunity = await openOpportunity(message, crmContact.crmId, deadline);
    await keeper.record(contact, insights, message.sentAt, now());

    const syncedAt = now();
    await store.syncState.markSynced(message, { kind: crm.kind, id: logged.crmId }, syncedAt);
    const calls = crmContact.calls + logged.calls + (opportunity?.calls ?? 0);
    logger.info('message synced', { wamid: message.wamid, calls, latencyMs: syncedAt - message.receivedAt });
    metrics.add('messagesSynced');
    metrics.add('syncLatency', syncedAt - message.receivedAt);
    metrics.add('crmCallsPerMessage', calls);
    const usage = crm.usage?.();
    if (usage && usage.max > 0) metrics.add('crmApiUsage', Math.round((usage.used / usage.max) * 1000) / 10, { crm: crm.kind });
    deps.onSynced?.({ wamid: message.wamid, calls, receivedAt: message.receivedAt, syncedAt });
  }

  /**
   * The contact's current fields and insights to the CRM, no message logged. The insights are
   * not recorded here (no segment event from a coupon or a rating): the next message or the
   * nightly refresh records them, as they compute the same.
   */
  async function syncContact(job: ContactSyncJob, deadline: number): Promise<void> {
    const contact = await store.contacts.current(job.contactId);
    if (!contact) {
      logger.warn('contact sync job for a contact that is not stored; dropped', jobSubject(job));
      return;
    }
    if (await sentOnIfMerged(job, contact)) return;
    const { crmContact } = await upsertContact(contact, deadline);
    logger.info('contact synced', { ...jobSubject(job), calls: crmContact.calls });
  }

  /**
   * One follow-up task in the CRM: nothing when its done mark is there; else the contact upserted
   * if it has no CRM id yet, the task created once, and the mark written (with the new CRM id).
   */
  async function syncTask(job: TaskSyncJob, deadline: number): Promise<void> {
    const contact = await store.contacts.current(job.contactId);
    if (!contact) {
      logger.warn('task sync job for a contact that is not stored; dropped', jobSubject(job));
      return;
    }
    if (await sentOnIfMerged(job, contact)) return;
    const marks = await taskMarks.all(contact.contactId);
    const done = await taskMarks.find(contact.contactId, job.taskId, crm.kind, marks);
    if (done) {
      logger.info('CRM task already created; nothing to do', { ...jobSubject(job), crmId: done.crmId });
      return;
    }
    let knownCrmId = contactCrmId(contact, crm.kind);
    let calls = 0;
    let newCrmId: string | undefined;
    if (!knownCrmId) {
      const { crmContact } = await upsertContact(contact, deadline);
      knownCrmId = newCrmId = crmContact.crmId;
      calls += crmContact.calls;
    }
    const task = await crm.createTask(
      { taskId: job.taskId, contactCrmId: knownCrmId, subject: job.subject, body: job.body, dueAt: job.dueAt, ownerId: job.ownerId },
      { deadline },
    );
    calls += task.calls;
    await taskMarks.record(
      contact.contactId,
      { taskId: job.taskId, crmKind: crm.kind, crmId: task.crmId, at: now() },
      { crm: newCrmId === undefined ? undefined : { kind: crm.kind, id: newCrmId }, existing: marks },
    );
    logger.info(task.created ? 'CRM task created' : 'CRM task found (created before)', { ...jobSubject(job), crmId: task.crmId, calls });
  }

  /** TG-7: a purchase-intent message naming a catalogue product opens one opportunity. */
  async function openOpportunity(message: MessageRecord, contactCrmId: string, deadline: number) {
    const analysis = message.analysis;
    if (!analysis) return undefined;
    const opportunity = opportunityFrom({ tags: analysis.tags, sku: analysis.sku, contactId: message.contactId, wamid: message.wamid }, deps.intelligence.catalogue.products);
    if (!opportunity) return undefined;
    const product = deps.intelligence.catalogue.products.get(opportunity.sku);
    const created = await crm.createOpportunity(
      {
        opportunityId: message.wamid,
        contactCrmId,
        sku: opportunity.sku,
        productName: product?.name,
        amount: opportunity.amount,
        currency: opportunity.currency,
        createdAt: message.sentAt,
        knownCrmId: opportunityCrmId(message, crm.kind),
      },
      { deadline },
    );
    if (created.crmId !== opportunityCrmId(message, crm.kind)) await store.messages.recordOpportunity(message, { kind: crm.kind, id: created.crmId });
    logger.info('opportunity opened', { wamid: message.wamid, sku: opportunity.sku, created: created.created });
    return created;
  }

  /** Moves a record to the DLQ with the reason; SQS then deletes it here (it is reported done). */
  async function park(record: SQSRecord, reason: string, groupFallback: string): Promise<void> {
    if (!deps.dlqUrl) throw new Error(`cannot park the job in the DLQ (SCRM_SYNC_DLQ_URL is not set): ${reason}`);
    await deps.sqs.send(
      new SendMessageCommand({
        QueueUrl: deps.dlqUrl,
        MessageBody: record.body,
        MessageGroupId: record.attributes.MessageGroupId ?? groupFallback,
        MessageDeduplicationId: `${record.attributes.MessageDeduplicationId ?? record.messageId}-dlq`.slice(0, 128),
        MessageAttributes: { error: { DataType: 'String', StringValue: reason.slice(0, 1000) } },
      }),
    );
  }

  /** A failed attempt with attempts left: recorded by `before`, then the job comes back after the pause (throws). */
  async function retryLater(record: SQSRecord, error: unknown, before?: (dueAt: number) => Promise<void>): Promise<never> {
    const retryAfterMs = error instanceof CrmError ? error.details.retryAfterMs : undefined;
    const pauseSeconds = Math.min(MAX_VISIBILITY_SECONDS, Math.max(1, retryAfterMs === undefined ? deps.config.retryDelaySeconds : Math.ceil(retryAfterMs / 1000)));
    await before?.(now() + pauseSeconds * 1000);
    // Come back after the pause (the queue's visibility timeout is the same pause by default).
    await deps.sqs
      .send(new ChangeMessageVisibilityCommand({ QueueUrl: deps.queueUrl, ReceiptHandle: record.receiptHandle, VisibilityTimeout: pauseSeconds }))
      .catch((e: unknown) => logger.warn('could not set the retry pause', { reason: describeError(e) }));
    throw error;
  }

  function countFailure(error: unknown): void {
    metrics.add('syncAttemptsFailed');
    if (error instanceof CrmError && error.kind === 'auth') metrics.add('crmAuthFailures', 1, { crm: crm.kind });
    if (error instanceof CrmError && error.kind === 'rate_limited') metrics.add('crmRateLimited', 1, { crm: crm.kind });
    if (error instanceof CrmError && error.details.category === 'WEBHOOK_GONE') metrics.add('crmWebhookGone', 1);
  }

  /** Decides what a failed message attempt means: retry later (throw) or park in the DLQ now (return). */
  async function onFailure(record: SQSRecord, message: StoredMessage, error: unknown): Promise<void> {
    const attempt = (message.syncAttempts ?? 0) + 1;
    const reason = describeError(error);
    const permanent = error instanceof CrmError && !error.retryable;
    const final = permanent || attempt >= deps.config.maxAttempts;
    logger.warn('CRM sync attempt failed', { wamid: message.wamid, attempt, final, reason });
    countFailure(error);
    if (final) {
      metrics.add('syncJobsParked');
      await park(record, reason, message.contactId);
      await store.syncState.recordFinalFailure(message, reason);
      return;
    }
    await retryLater(record, error, (dueAt) => store.syncState.recordRetry(message, reason, dueAt));
  }

  /**
   * The same for a contact or task job, which has no row: its attempt is the queue's receive
   * count, and its last one the receive before SQS would move it to the DLQ by itself.
   */
  async function onJobFailure(record: SQSRecord, job: ContactSyncJob | TaskSyncJob | ReplyStatusSyncJob, error: unknown): Promise<void> {
    const attempt = Number(record.attributes.ApproximateReceiveCount) || 1;
    const reason = describeError(error);
    const permanent = error instanceof CrmError && !error.retryable;
    const final = permanent || attempt >= receiveLimit;
    logger.warn('CRM sync attempt failed', { ...jobSubject(job), attempt, final, reason });
    countFailure(error);
    if (final) {
      metrics.add('syncJobsParked');
      await park(record, reason, job.contactId);
      return;
    }
    await retryLater(record, error);
  }

  async function syncMessageJob(record: SQSRecord, job: MessageSyncJob, deadline: number): Promise<void> {
    const message = await store.messages.get(job.wamid);
    if (!message) {
      logger.warn('sync job for a message that is not stored (expired?); dropped', { wamid: job.wamid });
      return;
    }
    if (message.syncState === 'synced') return; // a repeated job: already done
    if ((message.syncAttempts ?? 0) >= deps.config.maxAttempts) {
      // Its attempts are used up (the job outlived its parking, e.g. a delete that failed).
      const reason = `no attempts left: ${deps.config.maxAttempts} made`;
      metrics.add('syncJobsParked');
      await park(record, reason, message.contactId);
      await store.syncState.recordFinalFailure(message, reason);
      return;
    }
    try {
      await syncMessage(job, message, deadline);
    } catch (error) {
      await onFailure(record, message, error);
    }
  }

  /** A CRM-written reply's delivery status onto its CRM record (SY-3); the same status again is the same write. */
  async function syncReplyStatus(job: ReplyStatusSyncJob, deadline: number): Promise<void> {
    if (job.crm !== crm.kind || !hasTwoWay(crm)) {
      logger.warn('reply status for another CRM than this one; dropped', jobSubject(job));
      return;
    }
    const { calls } = await crm.twoWay.writeReplyStatus({ replyId: job.replyId, contactCrmId: job.contactCrmId }, job.status, { at: job.at, wamid: job.wamid, error: job.error }, { deadline });
    logger.info('reply status written to the CRM', { ...jobSubject(job), calls });
  }

  async function syncContactOrTaskJob(record: SQSRecord, job: ContactSyncJob | TaskSyncJob | ReplyStatusSyncJob, deadline: number): Promise<void> {
    try {
      if (job.kind === 'contact') await syncContact(job, deadline);
      else if (job.kind === 'reply-status') await syncReplyStatus(job, deadline);
      else await syncTask(job, deadline);
    } catch (error) {
      await onJobFailure(record, job, error);
    }
  }

  const burst = deps.burst === false || !crm.logMessages ? undefined : createBurst({ store, crm, keeper, sqs: deps.sqs, queueUrl: deps.queueUrl, maxAttempts: deps.config.maxAttempts, intelligence: deps.intelligence, logger, metrics, now, onSynced: deps.onSynced });
  const burstSettings: BurstSettings = { ...BURST_DEFAULTS, ...(deps.burst || {}) };

  /** A full batch of message jobs means a backlog: more jobs are taken from the queue and synced in bulk. */
  async function inBurst(records: readonly SQSRecord[], deadline: number): Promise<{ extra: SQSRecord[]; done: Set<string> }> {
    const messageJobs = (rs: readonly SQSRecord[]) =>
      rs.flatMap((record) => {
        const parsed = SyncJobSchema.safeParse(safeJson(record.body));
        return parsed.success && parsed.data.kind === 'message' ? [{ record, job: parsed.data }] : [];
      });
    const delivered = messageJobs(records);
    if (!burst || !delivered.length || deadline - now() < budget.minStartMs * 2) return { extra: [], done: new Set() };
    // A full batch means a backlog; a short one may be the head of one (the queue still filling).
    if (delivered.length < burstSettings.threshold && (await burst.backlog().catch(() => 0)) < burstSettings.threshold) return { extra: [], done: new Set() };
    const room = Math.min(burstSettings.maxJobs, crm.limits.batchSize) - records.length;
    const extra = room > 0 ? await burst.drain(room, Math.ceil((deadline - now() + budget.reserveMs) / 1000) + 5).catch(() => []) : [];
    const jobs = [...delivered, ...messageJobs(extra)];
    // Fewer than a burst after all (the rest belongs to customers with a job in flight): one by one.
    if (jobs.length < burstSettings.threshold) return { extra, done: new Set() };
    const done = await burst.sync(jobs, deadline).catch((error: unknown) => {
      logger.warn('burst failed; every job goes the usual way', { reason: describeError(error) });
      return new Set<string>();
    });
    return { extra, done };
  }

  async function handle(event: SQSEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SQSBatchResponse> {
    const deadline = now() + (context?.getRemainingTimeInMillis() ?? 50_000) - budget.reserveMs;
    const started = new Set<string>();
    const { extra, done } = await inBurst(event.Records, deadline);
    const own = new Set(event.Records.map((r) => r.messageId));
    const rest = [...event.Records, ...extra].filter((r) => !done.has(r.messageId));

    async function recordHandler(record: SQSRecord): Promise<void> {
      const parsed = SyncJobSchema.safeParse(safeJson(record.body));
      if (!parsed.success) {
        // Not a job this version understands: to the DLQ at once, out of its group's way.
        logger.error('malformed sync job parked in the DLQ', { messageId: record.messageId });
        metrics.add('syncJobsParked');
        await park(record, 'not a sync job this version understands', record.attributes.MessageGroupId ?? 'malformed');
        return;
      }
      const job = parsed.data;
      if (deadline - now() < budget.minStartMs) throw new NotStarted(`no time left to start the ${job.kind} sync job ${job.jobId}`);
      started.add(record.messageId);
      if (job.kind === 'message') await syncMessageJob(record, job, deadline);
      else await syncContactOrTaskJob(record, job, deadline);
    }

    const processor = new SqsFifoPartialProcessorAsync();
    // skipGroupOnError: a failed job holds back only the later jobs of the same customer.
    const response = rest.length
      ? await processPartialResponse({ Records: rest }, recordHandler, processor, { skipGroupOnError: true, throwOnFullBatchFailure: false })
      : { batchItemFailures: [] };
    const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    // Given back without an attempt (no time, or behind a failed job of the same customer): soon.
    const unstarted = rest.filter((r) => !started.has(r.messageId) && failed.has(r.messageId));
    for (let i = 0; i < unstarted.length; i += 10) {
      await deps.sqs
        .send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: deps.queueUrl,
            Entries: unstarted.slice(i, i + 10).map((r, j) => ({ Id: String(j), ReceiptHandle: r.receiptHandle, VisibilityTimeout: budget.unstartedRetrySeconds })),
          }),
        )
        .catch((e: unknown) => logger.warn('could not give back unstarted jobs early', { reason: describeError(e) }));
    }
    if (unstarted.length) {
      logger.info('sync jobs given back unstarted', { count: unstarted.length });
      metrics.add('syncJobsUnstarted', unstarted.length);
    }
    // Jobs this invocation took from the queue itself are deleted here once done (Lambda deletes its own).
    const extraDone = extra.filter((r) => !failed.has(r.messageId));
    if (extraDone.length) await burst!.remove(extraDone).catch((e: unknown) => logger.warn('could not delete burst jobs; they come back and are found done', { reason: describeError(e) }));
    return { batchItemFailures: response.batchItemFailures.filter((f) => own.has(f.itemIdentifier)) };
  }

  return { handle };
}

function safeJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}
