/**
 * CRM sync (SY-1, SY-4): one job = one stored message → its contact upserted in the CRM and the
 * message logged on it. Idempotent: a synced message is skipped, CRM ids are stored back and
 * reused, and the adapter itself dedupes by wamid. A failed job comes back after the queue's
 * visibility timeout (5 minutes by default) or after the CRM's Retry-After; after the last
 * attempt SQS moves it to the DLQ and the error stays on the message's record. A job the CRM
 * rejects for good goes to the DLQ at once instead of waiting out its retries.
 */
import { ChangeMessageVisibilityCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { SqsFifoPartialProcessorAsync, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { CrmError, type CrmAdapter } from '#shared/crm/port';
import { opportunityFrom } from '#shared/domain/intelligence/catalogue';
import type { Intelligence } from '#shared/domain/intelligence/intelligence';
import type { Contact, MessageRecord } from '#shared/domain/records';
import { crmContactInput } from '#shared/crm/contact-input';
import type { DomainEventBus } from '#shared/events/bus';
import { ContactInsightsKeeper } from '#shared/sync/insights';
import { describeError } from '#shared/observability';
import { SyncJobSchema, messageSyncJob, type SyncJob, type SyncJobSink } from '#shared/queue/sync-jobs';
import type { Store } from '#shared/store/store';

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
}

/** Longest pause SQS allows before a message becomes visible again. */
const MAX_VISIBILITY_SECONDS = 43_200;
const MAX_MERGE_HOPS = 5;

export function createSyncApp(deps: SyncDeps) {
  const now = deps.now ?? Date.now;
  const { store, crm, logger } = deps;
  const keeper = new ContactInsightsKeeper(deps);

  /** The contact a message belongs to now (a merged contact leads to the one it became). */
  async function currentContact(contactId: string): Promise<Contact | undefined> {
    let contact = await store.contacts.get(contactId);
    for (let hop = 0; contact?.mergedInto && hop < MAX_MERGE_HOPS; hop++) {
      contact = await store.contacts.get(contact.mergedInto);
    }
    return contact;
  }

  async function syncMessage(job: SyncJob): Promise<void> {
    const message = await store.messages.get(job.wamid);
    if (!message) {
      logger.warn('sync job for a message that is not stored (expired?); dropped', { wamid: job.wamid });
      return;
    }
    if (message.syncState === 'synced') return; // a repeated job: already done
    const contact = await currentContact(message.contactId);
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

    const crmContact = await crm.upsertContact(crmContactInput(contact, insights, crm.kind));
    if (contact.crm?.id !== crmContact.crmId) {
      await store.contacts.setCrm(contact.contactId, { kind: crm.kind, id: crmContact.crmId }, now());
    }
    const logged = await crm.logMessage({
      wamid: message.wamid,
      contactCrmId: crmContact.crmId,
      direction: message.direction,
      body: message.summary,
      timestamp: message.sentAt,
      knownCrmId: message.crmId,
    });
    const opportunity = await openOpportunity(message, crmContact.crmId);
    await keeper.record(contact, insights, message.sentAt, now());

    const syncedAt = now();
    await store.syncState.markSynced(message.wamid, logged.crmId, syncedAt);
    const calls = crmContact.calls + logged.calls + (opportunity?.calls ?? 0);
    // The metric filters of the stack count this line (messages synced, latency, CRM calls).
    logger.info('message synced', { wamid: message.wamid, calls, latencyMs: syncedAt - message.receivedAt });
    deps.onSynced?.({ wamid: message.wamid, calls, receivedAt: message.receivedAt, syncedAt });
  }

  /** TG-7: a purchase-intent message naming a catalogue product opens one opportunity. */
  async function openOpportunity(message: MessageRecord, contactCrmId: string) {
    const analysis = message.analysis;
    if (!analysis) return undefined;
    const opportunity = opportunityFrom({ tags: analysis.tags, sku: analysis.sku, contactId: message.contactId, wamid: message.wamid }, deps.intelligence.catalogue.products);
    if (!opportunity) return undefined;
    const product = deps.intelligence.catalogue.products.get(opportunity.sku);
    const created = await crm.createOpportunity({
      opportunityId: message.wamid,
      contactCrmId,
      sku: opportunity.sku,
      productName: product?.name,
      amount: opportunity.amount,
      currency: opportunity.currency,
      createdAt: message.sentAt,
      knownCrmId: message.opportunityCrmId,
    });
    if (created.crmId !== message.opportunityCrmId) await store.messages.recordOpportunity(message.wamid, created.crmId);
    logger.info('opportunity opened', { wamid: message.wamid, sku: opportunity.sku, created: created.created });
    return created;
  }

  /** Decides what a failed attempt means: retry later (throw) or park in the DLQ now (return). */
  async function onFailure(record: SQSRecord, job: SyncJob, error: unknown): Promise<void> {
    const attempt = Number(record.attributes.ApproximateReceiveCount ?? '1');
    const reason = describeError(error);
    const permanent = error instanceof CrmError && !error.retryable;
    const final = permanent || attempt >= deps.config.maxAttempts;
    await store.syncState.recordFailure(job.wamid, reason, attempt, final);
    logger.warn('CRM sync attempt failed', { wamid: job.wamid, attempt, final, reason });

    if (permanent && deps.dlqUrl) {
      // Retrying cannot help: hand it to the DLQ now (with the reason) and let SQS delete it here.
      await deps.sqs.send(
        new SendMessageCommand({
          QueueUrl: deps.dlqUrl,
          MessageBody: record.body,
          MessageGroupId: record.attributes.MessageGroupId ?? job.contactId,
          MessageDeduplicationId: `${record.attributes.MessageDeduplicationId ?? job.jobId}-dlq`.slice(0, 128),
          MessageAttributes: { error: { DataType: 'String', StringValue: reason.slice(0, 1000) } },
        }),
      );
      return;
    }
    const retryAfterMs = error instanceof CrmError ? error.details.retryAfterMs : undefined;
    if (retryAfterMs !== undefined) {
      // Come back when the CRM said, not after the fixed pause.
      const seconds = Math.min(MAX_VISIBILITY_SECONDS, Math.max(1, Math.ceil(retryAfterMs / 1000)));
      await deps.sqs
        .send(new ChangeMessageVisibilityCommand({ QueueUrl: deps.queueUrl, ReceiptHandle: record.receiptHandle, VisibilityTimeout: seconds }))
        .catch((e: unknown) => logger.warn('could not shorten the retry pause', { reason: describeError(e) }));
    }
    throw error;
  }

  async function recordHandler(record: SQSRecord): Promise<void> {
    const parsed = SyncJobSchema.safeParse(safeJson(record.body));
    if (!parsed.success) {
      // Not a job this version understands: keep it out of the way in the DLQ by failing it.
      logger.error('malformed sync job', { messageId: record.messageId });
      throw new Error(`malformed sync job ${record.messageId}`);
    }
    try {
      await syncMessage(parsed.data);
    } catch (error) {
      await onFailure(record, parsed.data, error);
    }
  }

  return {
    syncMessage,
    async handle(event: SQSEvent): Promise<SQSBatchResponse> {
      const processor = new SqsFifoPartialProcessorAsync();
      // skipGroupOnError: a failed job holds back only the later jobs of the same customer.
      return processPartialResponse(event, recordHandler, processor, { skipGroupOnError: true, throwOnFullBatchFailure: false });
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
