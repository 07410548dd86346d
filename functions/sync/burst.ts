/**
 * Burst batching (SY-5, the burst row of the performance goals). When the sync queue backs up — a
 * campaign reply storm, a CRM outage drained — one message per CRM request pair cannot keep up
 * with a CRM that allows, say, 10 requests a second. A full batch, or a queue holding a batch's
 * worth of jobs, is the sign: the invocation then takes more jobs from the queue itself (up to the CRM's batch size; FIFO hands out only
 * groups with nothing in flight, each in order) and syncs the messages of known contacts through
 * the batch endpoints: one request updates their contacts, one (or two) log their messages.
 *
 * What keeps the guarantees:
 * - **Exactly once.** The batch log is idempotent by wamid (adapter) and all or nothing; a batch
 *   that fails is logged one message at a time by the usual path, itself idempotent.
 * - **In order per customer.** A customer's messages are taken in queue order up to the first one
 *   the burst cannot take (an unknown contact, a purchase intent that opens an opportunity, a
 *   contact merged away); that one and the rest of the customer's go the usual way, after.
 * - **Nothing lost.** A job taken from the queue here is deleted only once done; the others are
 *   handed back to the usual path of this invocation, and on failure come back after the pause.
 */
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSRecord } from 'aws-lambda';
import { crmContactFields } from '#shared/crm/mapping';
import type { CrmAdapter, CrmMessageInput } from '#shared/crm/port';
import { opportunityFrom } from '#shared/domain/intelligence/catalogue';
import type { Intelligence } from '#shared/domain/intelligence/intelligence';
import type { ContactInsights } from '#shared/domain/insights';
import { contactCrmId, messageCrmId, type Contact } from '#shared/domain/records';
import type { MetricsSink } from '#shared/metric-names';
import { describeError } from '#shared/observability';
import { sqsRecordOf } from '#shared/queue/sqs-record';
import type { MessageSyncJob } from '#shared/queue/sync-jobs';
import type { StoredMessage } from '#shared/store/messages';
import type { Store } from '#shared/store/store';
import type { ContactInsightsKeeper } from '#shared/sync/insights';
import { conversationOf } from './conversation.ts';

export interface BurstSettings {
  /** Message jobs delivered (or waiting in the queue) that make it a burst: from 2 on, batch requests cost no more than one message's. */
  readonly threshold: number;
  /** Jobs a burst gathers at most (the CRM's batch size caps it too). */
  readonly maxJobs: number;
}

export const BURST_DEFAULTS: BurstSettings = { threshold: 2, maxJobs: 100 };

/** How long a burst waits at most for a filling queue to fill its batch, and in what steps. */
const FILL_WAIT_MS = 300;
const FILL_STEP_MS = 100;

export interface BurstDeps {
  readonly store: Store;
  readonly crm: CrmAdapter;
  readonly keeper: ContactInsightsKeeper;
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly maxAttempts: number;
  readonly intelligence: Pick<Intelligence, 'catalogue'>;
  readonly logger: Pick<Logger, 'info' | 'warn'>;
  readonly metrics: MetricsSink;
  readonly now: () => number;
  readonly onSynced?: ((info: { wamid: string; calls: number; receivedAt: number; syncedAt: number }) => void) | undefined;
}

export interface BurstJob {
  readonly record: SQSRecord;
  readonly job: MessageSyncJob;
}


export function createBurst(deps: BurstDeps) {
  const { store, crm, logger } = deps;

  /** Takes up to `count` more jobs from the queue, invisible for `visibilitySeconds` (this invocation's time). */
  async function drain(count: number, visibilitySeconds: number): Promise<SQSRecord[]> {
    const taken: SQSRecord[] = [];
    let waited = 0;
    while (taken.length < count) {
      const received = await deps.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: deps.queueUrl,
          MaxNumberOfMessages: Math.min(10, count - taken.length),
          VisibilityTimeout: visibilitySeconds,
          WaitTimeSeconds: 0,
          MessageSystemAttributeNames: ['All'],
        }),
      );
      const messages = received.Messages ?? [];
      taken.push(...messages.map((m) => sqsRecordOf(m, { eventSourceARN: '', awsRegion: '' })));
      // A short poll may answer with fewer than there are: only an empty one means none are left,
      // unless the queue is still filling (a storm arriving): then a moment's wait fills the batch.
      if (messages.length === 0) {
        if (waited >= FILL_WAIT_MS || (await backlog(true)) === 0) break;
        waited += FILL_STEP_MS;
        await new Promise((resolve) => setTimeout(resolve, FILL_STEP_MS));
      }
    }
    return taken;
  }

  let depth: { value: number; at: number } | undefined;
  /** Jobs waiting in the queue (SQS's approximate count), read at most once a second. */
  async function backlog(fresh = false): Promise<number> {
    if (!fresh && depth && deps.now() - depth.at < 1_000) return depth.value;
    const answer = await deps.sqs.send(new GetQueueAttributesCommand({ QueueUrl: deps.queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
    depth = { value: Number(answer.Attributes?.['ApproximateNumberOfMessages'] ?? 0), at: deps.now() };
    return depth.value;
  }

  /** Deletes drained jobs that are done (Lambda deletes only the ones it delivered). */
  async function remove(records: readonly SQSRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += 10) {
      await deps.sqs.send(
        new DeleteMessageBatchCommand({ QueueUrl: deps.queueUrl, Entries: records.slice(i, i + 10).map((r, j) => ({ Id: String(j), ReceiptHandle: r.receiptHandle })) }),
      );
    }
  }

  /**
   * Syncs what of `jobs` a burst can take; returns the SQS message ids done (synced now, or found
   * synced). Everything else is left for the usual path, in queue order behind nothing it owes.
   */
  async function sync(jobs: readonly BurstJob[], deadline: number): Promise<Set<string>> {
    const done = new Set<string>();
    const rows = await Promise.all(jobs.map((j) => store.messages.get(j.job.wamid)));
    const contactIds = [...new Set(jobs.map((j) => j.job.contactId))];
    const contacts = new Map<string, Contact | undefined>(await Promise.all(contactIds.map(async (id) => [id, await store.contacts.current(id)] as const)));

    // Per customer, the jobs in queue order up to the first one the burst cannot take.
    const taken = new Map<string, { job: BurstJob; message: StoredMessage }[]>();
    const blocked = new Set<string>();
    for (const [i, j] of jobs.entries()) {
      const group = j.job.contactId;
      if (blocked.has(group)) continue;
      const message = rows[i];
      const contact = contacts.get(group);
      if (message?.syncState === 'synced') {
        done.add(j.record.messageId);
        continue;
      }
      const fits =
        message !== undefined &&
        contact !== undefined &&
        contact.contactId === group &&
        contactCrmId(contact, crm.kind) !== undefined &&
        (message.syncAttempts ?? 0) < deps.maxAttempts &&
        !opensOpportunity(message);
      if (!fits) {
        blocked.add(group);
        continue;
      }
      taken.set(group, [...(taken.get(group) ?? []), { job: j, message }]);
    }
    if (!taken.size) return done;

    // One batch update of the customers' fields, then one batch log of their messages.
    const customers = [...taken.keys()].map((id) => contacts.get(id)!);
    const insights = new Map<string, ContactInsights>(await Promise.all(customers.map(async (c) => [c.contactId, await deps.keeper.compute(c, deps.now())] as const)));
    let calls = 0;
    const updated = new Set<string>();
    try {
      for (let i = 0; i < customers.length; i += crm.limits.batchSize) {
        const chunk = customers.slice(i, i + crm.limits.batchSize);
        const result = await crm.updateContacts(
          chunk.map((c) => ({ crmId: contactCrmId(c, crm.kind)!, contactId: c.contactId, fields: crmContactFields(c, insights.get(c.contactId)!) })),
          { deadline },
        );
        calls += result.calls;
        result.outcomes.forEach((o, k) => o.ok && updated.add(chunk[k]!.contactId));
      }
    } catch (error) {
      logger.warn('burst: the batch update of contacts failed; their messages go one by one', { reason: describeError(error) });
      return done;
    }

    const messages = [...taken].filter(([id]) => updated.has(id)).flatMap(([id, list]) => list.map((t) => ({ ...t, contact: contacts.get(id)! })));
    const synced: typeof messages = [];
    for (let i = 0; i < messages.length; i += crm.limits.batchSize) {
      const chunk = messages.slice(i, i + crm.limits.batchSize);
      const inputs: CrmMessageInput[] = chunk.map(({ message, contact }) => ({
        wamid: message.wamid,
        contactCrmId: contactCrmId(contact, crm.kind)!,
        direction: message.direction,
        body: message.summary,
        timestamp: message.sentAt,
        knownCrmId: messageCrmId(message, crm.kind),
        conversation: conversationOf(contact, message),
      }));
      try {
        const logged = await crm.logMessages!(inputs, { deadline });
        calls += logged.calls;
        const syncedAt = deps.now();
        await Promise.all(chunk.map(({ message }, k) => store.syncState.markSynced(message, { kind: crm.kind, id: logged.crmIds[k]! }, syncedAt)));
        synced.push(...chunk);
      } catch (error) {
        // All or nothing: these (and the rest of their customers' jobs) go one by one, in order.
        logger.warn('burst: a batch log failed; its messages go one by one', { size: chunk.length, reason: describeError(error) });
        break;
      }
    }
    const syncedAt = deps.now();
    const perMessage = synced.length ? calls / synced.length : 0;
    for (const { job, message } of synced) {
      done.add(job.record.messageId);
      deps.metrics.add('messagesSynced');
      deps.metrics.add('syncLatency', syncedAt - message.receivedAt);
      deps.onSynced?.({ wamid: message.wamid, calls: perMessage, receivedAt: message.receivedAt, syncedAt });
    }
    // What the customers' histories say now, recorded once per customer (segment events included).
    const last = new Map<string, number>();
    for (const { contact, message } of synced) last.set(contact.contactId, Math.max(last.get(contact.contactId) ?? 0, message.sentAt));
    await Promise.all([...last].map(([id, at]) => deps.keeper.record(contacts.get(id)!, insights.get(id)!, at, deps.now())));
    if (synced.length) {
      deps.metrics.add('crmCallsPerMessage', perMessage);
      logger.info('burst synced', { messages: synced.length, customers: last.size, calls });
    }
    return done;
  }

  /** A purchase intent naming a catalogue product opens an opportunity: that goes the usual way. */
  function opensOpportunity(message: StoredMessage): boolean {
    const a = message.analysis;
    return !!a && opportunityFrom({ tags: a.tags, sku: a.sku, contactId: message.contactId, wamid: message.wamid }, deps.intelligence.catalogue.products) !== null;
  }

  return { backlog, drain, remove, sync };
}
