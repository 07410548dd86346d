/**
 * CRM sync (SY-1, SY-4): one job = one stored message → its contact upserted in the CRM and the
 * message logged on it. Idempotent: a synced message is skipped, CRM ids are stored back and
 * reused, and the adapter itself dedupes by wamid.
 *
 * Attempts and time:
 * - An attempt is counted on the message row when it ends (in the same write that records its
 *   outcome, so a sync costs no extra write). A failed attempt with attempts left
 *   comes back after the retry pause (or the CRM's Retry-After); after the last one, or at once
 *   when retrying cannot help (a 4xx), the job is parked in the DLQ and the row marked failed in
 *   the same step, with the error kept (resources.ts: SYNC_RETRY).
 * - Every CRM call and wait is bounded by what is left of the invocation. A job there is no time
 *   to start is given back unstarted — not an attempt — and comes back within seconds.
 * - A body that is not a sync job goes to the DLQ at once: it blocks nobody's group.
 */
import { ChangeMessageVisibilityBatchCommand, ChangeMessageVisibilityCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { SqsFifoPartialProcessorAsync, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { crmContactInput } from '#shared/crm/contact-input';
import { CrmError, type CrmAdapter } from '#shared/crm/port';
import { opportunityFrom } from '#shared/domain/intelligence/catalogue';
import type { Intelligence } from '#shared/domain/intelligence/intelligence';
import type { MessageRecord } from '#shared/domain/records';
import type { DomainEventBus } from '#shared/events/bus';
import { NO_METRICS, type MetricsSink } from '#shared/metric-names';
import { describeError } from '#shared/observability';
import { SyncJobSchema, messageSyncJob, type SyncJob, type SyncJobSink } from '#shared/queue/sync-jobs';
import type { StoredMessage } from '#shared/store/messages';
import type { Store } from '#shared/store/store';
import { ContactInsightsKeeper } from '#shared/sync/insights';

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

  /** Syncs one message; resolves when done (or nothing to do), throws when the attempt failed. */
  async function syncMessage(job: SyncJob, message: StoredMessage, deadline: number): Promise<void> {
    const contact = await store.contacts.current(message.contactId);
    if (!contact) throw new Error(`contact ${message.contactId} of message ${job.wamid} not found`);
    if (job.contactId !== contact.contactId) {
      // The job's FIFO group is a contact merged away since: in that group it could run beside
      // the survivor's jobs. It goes on in the survivor's group, where this customer's work is.
      await deps.jobs.enqueue([messageSyncJob(job.wamid, contact.contactId)], { redrive: `merged-${job.contactId}` });
      logger.info('sync job sent on to the group of the contact it was merged into', { wamid: job.wamid, from: job.contactId, to: contact.contactId });
      return;
    }

    // What the contact's recent history says (segment, scores, tags) goes to the CRM with it.
    const at = now();
    const insights = await keeper.compute(contact, at);
    const options = { deadline };
    const crmContact = await crm.upsertContact(crmContactInput(contact, insights, crm.kind), options);
    if (contact.crm?.id !== crmContact.crmId || contact.crm?.kind !== crm.kind) {
      await store.contacts.setCrm(contact.contactId, { kind: crm.kind, id: crmContact.crmId }, now());
    }
    const logged = await crm.logMessage(
      {
        wamid: message.wamid,
        contactCrmId: crmContact.crmId,
        direction: message.direction,
        body: message.summary,
        timestamp: message.sentAt,
        knownCrmId: message.crmId,
      },
      options,
    );
    const opportunity = await openOpportunity(message, crmContact.crmId, deadline);
    await keeper.record(contact, insights, message.sentAt, now());

    const syncedAt = now();
    await store.syncState.markSynced(message.wamid, logged.crmId, syncedAt);
    const calls = crmContact.calls + logged.calls + (opportunity?.calls ?? 0);
    logger.info('message synced', { wamid: message.wamid, calls, latencyMs: syncedAt - message.receivedAt });
    metrics.add('messagesSynced');
    metrics.add('syncLatency', syncedAt - message.receivedAt);
    metrics.add('crmCallsPerMessage', calls);
    deps.onSynced?.({ wamid: message.wamid, calls, receivedAt: message.receivedAt, syncedAt });
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
        knownCrmId: message.opportunityCrmId,
      },
      { deadline },
    );
    if (created.crmId !== message.opportunityCrmId) await store.messages.recordOpportunity(message.wamid, created.crmId);
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

  /** Decides what a failed attempt means: retry later (throw) or park in the DLQ now (return). */
  async function onFailure(record: SQSRecord, message: StoredMessage, error: unknown): Promise<void> {
    const attempt = (message.syncAttempts ?? 0) + 1;
    const reason = describeError(error);
    const permanent = error instanceof CrmError && !error.retryable;
    const final = permanent || attempt >= deps.config.maxAttempts;
    logger.warn('CRM sync attempt failed', { wamid: message.wamid, attempt, final, reason });
    metrics.add('syncAttemptsFailed');
    if (error instanceof CrmError && error.kind === 'auth') metrics.add('crmAuthFailures', 1, { crm: crm.kind });
    if (final) {
      metrics.add('syncJobsParked');
      await park(record, reason, message.contactId);
      await store.syncState.recordFinalFailure(message, reason);
      return;
    }
    const retryAfterMs = error instanceof CrmError ? error.details.retryAfterMs : undefined;
    const pauseSeconds = Math.min(MAX_VISIBILITY_SECONDS, Math.max(1, retryAfterMs === undefined ? deps.config.retryDelaySeconds : Math.ceil(retryAfterMs / 1000)));
    await store.syncState.recordRetry(message, reason, now() + pauseSeconds * 1000);
    // Come back after the pause (the queue's visibility timeout is the same pause by default).
    await deps.sqs
      .send(new ChangeMessageVisibilityCommand({ QueueUrl: deps.queueUrl, ReceiptHandle: record.receiptHandle, VisibilityTimeout: pauseSeconds }))
      .catch((e: unknown) => logger.warn('could not set the retry pause', { reason: describeError(e) }));
    throw error;
  }

  async function handle(event: SQSEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SQSBatchResponse> {
    const deadline = now() + (context?.getRemainingTimeInMillis() ?? 50_000) - budget.reserveMs;
    const started = new Set<string>();

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
      if (deadline - now() < budget.minStartMs) throw new NotStarted(`no time left to start the sync of ${job.wamid}`);
      started.add(record.messageId);
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

    const processor = new SqsFifoPartialProcessorAsync();
    // skipGroupOnError: a failed job holds back only the later jobs of the same customer.
    const response = await processPartialResponse(event, recordHandler, processor, { skipGroupOnError: true, throwOnFullBatchFailure: false });
    // Given back without an attempt (no time, or behind a failed job of the same customer): soon.
    const unstarted = event.Records.filter((r) => !started.has(r.messageId) && response.batchItemFailures.some((f) => f.itemIdentifier === r.messageId));
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
    return response;
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
