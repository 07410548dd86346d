/**
 * The send function (AU-7): one job = one outbound message, sent at most once.
 *
 *   claim the row (queued → sending, one conditional write; a deferred row is decided again by
 *   the policy first) → the number's pacing slot → Meta → the conversation's row → sent
 *
 * Only a claimed row is sent, so a job received twice sends once. A crash after Meta's answer
 * leaves the row `sending`: the status webhook settles it (our id rides in
 * `biz_opaque_callback_data`), or the sweep marks it `unknown` after the settle time and alarms —
 * it is never sent again blindly. Meta's failures are values (meta-errors.ts): retryable ones come
 * back after a backoff, at most twice; the others end the message with Meta's code and title and
 * change what they mean for the customer or the number.
 *
 * The same function runs the schedules of the send side: the outbox sweep (every minute), the
 * template listing (daily) and the number health check (hourly, OP-2).
 */
import { ChangeMessageVisibilityCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { SqsFifoPartialProcessorAsync, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { RuntimeConfig } from '#shared/config';
import { NO_METRICS, type MetricsSink } from '#shared/metric-names';
import { parseJson } from '#shared/http';
import { describeError } from '#shared/observability';
import { passGate } from '#shared/outbound/gate';
import { applyFailureEffects } from '#shared/outbound/effects';
import { recordOutboundMessage } from '#shared/outbound/record';
import type { StatsStore } from '#shared/store/stats';
import { classifyMetaError } from '#shared/whatsapp/outbound/meta-errors';
import { hashOf } from '#shared/outbound/request';
import { SendJobSchema, sendJob, type SendJobSink } from '#shared/queue/send-jobs';
import { messageSyncJob, type SyncJobSink } from '#shared/queue/sync-jobs';
import { SEND_RETRY } from '#shared/resources';
import type { ContactStore } from '#shared/store/contacts';
import type { MessageStore } from '#shared/store/messages';
import type { OutboxStore, OutboundRow } from '#shared/store/outbox';
import type { NumberState, SendLimitsStore } from '#shared/store/send-limits';
import type { TemplateStore } from '#shared/store/templates';
import type { SendFailure, WhatsAppAccountApi, WhatsAppChannel } from '#shared/whatsapp/outbound/channel';

export interface SendDeps {
  readonly store: { readonly outbox: OutboxStore; readonly limits: SendLimitsStore; readonly contacts: ContactStore; readonly messages: MessageStore; readonly templates: TemplateStore; readonly stats: StatsStore };
  /** The channel of a number: Meta's Cloud API, or AWS End User Messaging Social (IN-7). */
  readonly channelFor: (phoneNumberId: string) => WhatsAppChannel;
  readonly accountApi?: WhatsAppAccountApi | undefined;
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly jobs: SendJobSink;
  readonly syncJobs: SyncJobSink;
  readonly config: Pick<RuntimeConfig, 'accounts' | 'sending'>;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly metrics?: MetricsSink;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** A send that would start with less time than this left goes back unstarted. */
const MIN_START_MS = 3_000;
/** Waits for pacing inside an invocation at most this long; longer ones go back to the queue. */
const MAX_INLINE_WAIT_MS = 7_000;
/** A health check slower than this is slow (OP-2: normal < 800 ms). */
export const SLOW_HEALTH_MS = 1_500;
export const SLOW_CHECKS_TO_SWITCH = 3;
/** A health check is cut off here: slow already, and well inside the function's 10 s. */
const HEALTH_TIMEOUT_MS = 2_500;
/** How long a number is stopped after Meta's account-level refusal; the spam limit's slow-down. */
const ACCOUNT_STOP_MS = 6 * 3_600_000;
const SPAM_SLOWDOWN_MS = 15 * 60_000;
/** A message refused for the access token (190) is tried again after this (the sweep queues it). */
const AUTH_WAIT_MS = 5 * 60_000;
const DAY_MS = 86_400_000;
/** How long an instance trusts a number's state (stopped, switched) before reading it again. */
const NUMBER_STATE_TTL_MS = 5_000;

/** A job to come back after `seconds` (the row says why). */
class ComeBack extends Error {
  override readonly name = 'ComeBack';
  constructor(readonly seconds: number, reason: string) {
    super(reason);
  }
}

export function createSendApp(deps: SendDeps) {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const metrics = deps.metrics ?? NO_METRICS;
  const { store, logger } = deps;

  /** A number's state, read at most every few seconds per instance (a stop or a switch shows within that). */
  const numberStates = new Map<string, { at: number; state: Promise<NumberState> }>();
  function numberState(phoneNumberId: string): Promise<NumberState> {
    const cached = numberStates.get(phoneNumberId);
    if (cached && now() - cached.at < NUMBER_STATE_TTL_MS) return cached.state;
    const state = store.limits.numberState(phoneNumberId);
    numberStates.set(phoneNumberId, { at: now(), state });
    state.catch(() => numberStates.delete(phoneNumberId));
    return state;
  }

  /** The number that sends for `phoneNumberId` now (its backup after three slow health checks), and its stop. */
  async function sendingNumber(phoneNumberId: string): Promise<{ number: string; pausedUntil?: number | undefined }> {
    const state = await numberState(phoneNumberId);
    const number = typeof state.switchedTo === 'string' ? state.switchedTo : phoneNumberId;
    const pausedUntil = number === phoneNumberId ? state.pausedUntil : (await numberState(number)).pausedUntil;
    return { number, pausedUntil };
  }

  /** A deferred row decided again: true when it may go now. */
  async function decideAgain(row: OutboundRow, pausedUntil: number | undefined): Promise<boolean> {
    const at = now();
    const decision = await passGate(
      { contacts: store.contacts, limits: store.limits, settings: { dailyLimit: deps.config.sending.dailyLimit } },
      row.contactId,
      { category: row.category, kind: row.content.type === 'template' ? 'template' : 'free_form', origin: row.origin, contentHash: hashOf(row.content), eventKey: row.eventKey },
      at,
      pausedUntil,
    );
    if (decision.kind === 'allow') return store.outbox.redecide(row.id, { state: 'queued' }, at);
    if (decision.kind === 'deny') {
      await store.outbox.redecide(row.id, { state: 'denied', reason: `${decision.rule}: ${decision.reason}` }, at);
      return false;
    }
    await store.outbox.redecide(row.id, { state: 'deferred', notBefore: decision.until, reason: `${decision.rule}: ${decision.reason}` }, at);
    if (decision.until - at <= MAX_INLINE_WAIT_MS) throw new ComeBack(Math.ceil((decision.until - at) / 1000), decision.reason);
    return false;
  }

  /** A row that was not queued and due: deferred (decided again), not due yet (waits), or not ours to send. */
  async function claimSlowly(id: string, deadline: number): Promise<OutboundRow | undefined> {
    const row = await store.outbox.get(id);
    if (!row || (row.state !== 'queued' && row.state !== 'deferred')) return undefined; // done, or someone else has it
    const wait = (row.notBefore ?? 0) - now();
    if (wait > 0) {
      // Not due yet: a short wait here, a long one is the sweep's (the row is indexed by its due time).
      if (wait > MAX_INLINE_WAIT_MS) return undefined;
      if (deadline - now() < wait + MIN_START_MS) throw new ComeBack(Math.ceil(wait / 1000), 'not due yet');
      await sleep(wait);
    }
    if (row.state === 'deferred') {
      const { pausedUntil } = await sendingNumber(row.phoneNumberId);
      if (!(await decideAgain(row, pausedUntil))) return undefined;
    }
    return store.outbox.claim(id, now(), SEND_RETRY.settleSeconds * 1000);
  }

  async function process(id: string, deadline: number): Promise<void> {
    if (deadline - now() < MIN_START_MS) throw new ComeBack(1, 'no time left to start the send');
    // The common case in one write: a queued row that is due is claimed without being read.
    const claimed = (await store.outbox.claim(id, now(), SEND_RETRY.settleSeconds * 1000, { dueOnly: true })) ?? (await claimSlowly(id, deadline));
    if (!claimed) return;
    const { number, pausedUntil } = await sendingNumber(claimed.phoneNumberId);
    if (pausedUntil !== undefined && pausedUntil > now()) {
      await store.outbox.requeue(id, { state: 'deferred', notBefore: pausedUntil, reason: `number ${number} is stopped until ${new Date(pausedUntil).toISOString()}`, unclaimed: true }, now());
      return;
    }
    // The number's pacing (CP-10) and the day's API calls (CP-6).
    const slot = await store.limits.takeSendSlot(number, { perSecond: deps.config.sending.messagesPerSecond, perDay: deps.config.sending.dailyApiCalls }, now());
    if (!slot.ok) {
      await store.outbox.requeue(id, { state: 'deferred', notBefore: slot.retryAt, reason: "the day's API calls are used up (WHATSAPP_DAILY_API_CALLS)", unclaimed: true }, now());
      return;
    }
    const wait = slot.at - now();
    if (wait > 0) {
      if (deadline - now() < wait + MIN_START_MS) {
        // A long queue on this number: back in a second, no attempt used (the slot is left unused).
        await store.outbox.requeue(id, { state: 'queued', notBefore: slot.at, unclaimed: true }, now());
        throw new ComeBack(Math.max(1, Math.ceil(wait / 1000)), 'no time left to wait for a pacing slot');
      }
      await sleep(wait);
    }
    metrics.add('sendAttempts');
    const result = await deps.channelFor(number).send(
      { phoneNumberId: number, to: claimed.to, content: claimed.content, callbackData: claimed.id, replyTo: claimed.replyTo },
      AbortSignal.timeout(Math.max(1_000, deadline - now() - 1_000)),
    );
    const at = now();
    if (result.ok) {
      // The conversation's row first, then the outbox: a crash in between is settled by the status webhook.
      await settleSent({ ...claimed, sentAt: at }, result.wamid, at);
      await store.outbox.recordAccepted(id, result.wamid, at);
      metrics.add('messagesSent');
      logger.info('message sent', { id, wamid: result.wamid, attempt: claimed.attempts });
      return;
    }
    await onFailure(claimed, result.failure, number);
  }

  /** A message Meta accepted: in the conversation, and logged once in the CRM. */
  async function settleSent(row: OutboundRow, wamid: string, at: number): Promise<void> {
    const wabaId = deps.config.accounts[row.phoneNumberId]?.wabaId;
    if (await recordOutboundMessage(store, row, wamid, at, wabaId)) {
      await deps.syncJobs.enqueue([messageSyncJob(wamid, row.contactId)]).catch((error: unknown) => logger.warn('CRM sync job not queued; the sweep will', { wamid, reason: describeError(error) }));
    }
  }

  /**
   * Meta reported one of our messages failed in a status webhook (131026, 131049, 131050 …
   * found after it accepted the send): what the code means for the customer, once per message.
   */
  async function settleFailedStatus(id: string): Promise<void> {
    const row = await store.outbox.get(id);
    if (!row || row.state !== 'failed' || !row.error || row.effectsAt !== undefined) return;
    const failure = classifyMetaError({ code: row.error.code, title: row.error.title });
    // The effects, then their mark: a crash between repeats them (a suppression one answer early), never skips them.
    await applyFailureEffects(store, row, failure.kind, row.failedAt ?? now());
    await store.outbox.markEffects(id, now());
    metrics.add('sendFailures', 1, { kind: failure.kind });
    logger.info('failed status applied', { id, code: row.error.code, kind: failure.kind });
  }

  async function onFailure(row: OutboundRow, failure: SendFailure, number: string): Promise<void> {
    const at = now();
    const error = { code: failure.code, title: failure.title };
    logger.warn('send failed', { id: row.id, attempt: row.attempts, kind: failure.kind, code: failure.code, outcomeUnknown: failure.outcomeUnknown === true });
    if (failure.outcomeUnknown) {
      // Meta may have sent it: the row stays `sending`; a status webhook or the settle time decides.
      return;
    }
    const again = (seconds: number, reason: string) => store.outbox.requeue(row.id, { state: 'queued', notBefore: at + seconds * 1000, reason, error }, at);
    switch (failure.kind) {
      case 'retry': {
        if (row.attempts >= SEND_RETRY.maxAttempts) break;
        const backoff = SEND_RETRY.backoffSeconds[row.attempts - 1] ?? SEND_RETRY.backoffSeconds.at(-1)!;
        const seconds = Math.max(backoff, Math.ceil((failure.retryAfterMs ?? 0) / 1000));
        await again(seconds, `${failure.code} ${failure.title}: retry ${row.attempts} of ${SEND_RETRY.maxAttempts - 1}`);
        throw new ComeBack(seconds, failure.title);
      }
      case 'auth':
        // Meta refused the token (the secret was read again already): nothing was sent. The message
        // waits for a valid token — alarmed — rather than failing for an operator's expired secret.
        metrics.add('whatsappAuthFailures');
        await store.outbox.requeue(row.id, { state: 'deferred', notBefore: at + AUTH_WAIT_MS, reason: `${failure.code}: Meta refused the access token; waits for a valid one`, error, unclaimed: true }, at);
        return;
      case 'marketing_cap':
        await applyFailureEffects(store, row, failure.kind, at);
        await store.outbox.requeue(row.id, { state: 'deferred', notBefore: at + DAY_MS, reason: `131049: Meta's marketing cap for this customer; waits 24 h`, error }, at);
        return;
      case 'spam_limit':
        metrics.add('accountStopped', 1, { reason: 'spam_limit' });
        await store.limits.pauseNumber(number, at + SPAM_SLOWDOWN_MS, `131048 spam rate limit: ${failure.title}`);
        numberStates.delete(number);
        await store.outbox.requeue(row.id, { state: 'deferred', notBefore: at + SPAM_SLOWDOWN_MS, reason: `131048: spam rate limit; the number slows down`, error }, at);
        return;
      case 'account_blocked':
        metrics.add('accountStopped', 1, { reason: String(failure.code) });
        await store.limits.pauseNumber(number, at + ACCOUNT_STOP_MS, `${failure.code} ${failure.title}`);
        numberStates.delete(number);
        await store.outbox.requeue(row.id, { state: 'deferred', notBefore: at + ACCOUNT_STOP_MS, reason: `${failure.code}: Meta stopped the number; sending waits`, error }, at);
        return;
      default:
        break;
    }
    // Final: not retried (or no retries left), with Meta's code and title and what it means.
    await applyFailureEffects(store, row, failure.kind, at);
    await store.outbox.recordFailed(row.id, error, at, reasonOf(failure));
    metrics.add('sendFailures', 1, { kind: failure.kind });
  }

  async function handle(event: SQSEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SQSBatchResponse> {
    const deadline = now() + (context?.getRemainingTimeInMillis() ?? 10_000);
    async function recordHandler(record: SQSRecord): Promise<void> {
      const parsed = SendJobSchema.safeParse(parseJson(record.body));
      if (!parsed.success) {
        logger.error('malformed send job dropped (the outbox sweep finds every due row)', { messageId: record.messageId });
        return;
      }
      if (parsed.data.kind === 'failed') {
        await settleFailedStatus(parsed.data.id);
        return;
      }
      try {
        await process(parsed.data.id, deadline);
      } catch (error) {
        if (!(error instanceof ComeBack)) throw error;
        await deps.sqs
          .send(new ChangeMessageVisibilityCommand({ QueueUrl: deps.queueUrl, ReceiptHandle: record.receiptHandle, VisibilityTimeout: Math.max(1, Math.min(error.seconds, 43_200)) }))
          .catch((e: unknown) => logger.warn('could not set the pause', { reason: describeError(e) }));
        throw error;
      }
    }
    // One customer's messages in order, different customers at once: each group of the batch is
    // processed by its own FIFO processor, in parallel (a batch of ten customers is ten sends in
    // flight, not ten in a row). skipGroupOnError: a job that comes back later holds back only its
    // own customer's later ones.
    const groups = new Map<string, SQSRecord[]>();
    for (const record of event.Records) {
      const group = record.attributes.MessageGroupId ?? record.messageId;
      groups.set(group, [...(groups.get(group) ?? []), record]);
    }
    const responses = await Promise.all(
      [...groups.values()].map((records) => processPartialResponse({ Records: records }, recordHandler, new SqsFifoPartialProcessorAsync(), { skipGroupOnError: true, throwOnFullBatchFailure: false })),
    );
    return { batchItemFailures: responses.flatMap((r) => r.batchItemFailures) };
  }

  /** Every minute: due rows queued again; sends with no answer past the settle time marked unknown. */
  async function sweep(): Promise<{ queued: number; unknown: number }> {
    const at = now();
    let unknown = 0;
    const due = await store.outbox.due(at);
    for (const row of due.filter((r) => r.state === 'sending')) {
      if (await store.outbox.markUnknown(row.id, at - SEND_RETRY.settleSeconds * 1000, at)) {
        unknown++;
        metrics.add('sendOutcomeUnknown');
        logger.error('send outcome unknown: no answer and no status webhook; not sent again', { id: row.id });
      }
    }
    const jobs = due.filter((r) => r.state !== 'sending').map((r) => sendJob(r.id, r.contactId));
    // Ten a request; the claim makes a job that was in the queue all along harmless.
    await deps.jobs.enqueue(jobs, `sweep-${Math.floor(at / 60_000)}`);
    return { queued: jobs.length, unknown };
  }

  /** Daily: each WABA's templates from Meta. */
  async function syncTemplates(): Promise<Record<string, number>> {
    if (!deps.accountApi) return {};
    const counts: Record<string, number> = {};
    for (const wabaId of new Set(Object.values(deps.config.accounts).flatMap((a) => (a.wabaId ? [a.wabaId] : [])))) {
      const templates = await deps.accountApi.listTemplates(wabaId);
      await store.templates.replace(wabaId, templates, now());
      counts[wabaId] = templates.length;
    }
    return counts;
  }

  /**
   * Hourly (OP-2): each number's Graph API health. Three slow checks in a row (> 1.5 s, or a
   * failure) switch the account to its backup number and alarm; a fast check of the number
   * switches it back.
   */
  async function checkHealth(): Promise<Record<string, { ms: number; slowChecks: number; switchedTo?: string }>> {
    const out: Record<string, { ms: number; slowChecks: number; switchedTo?: string }> = {};
    if (!deps.accountApi) return out;
    const api = deps.accountApi;
    // Every number at once, each check cut off at HEALTH_TIMEOUT_MS (a slow one is slow whatever its end).
    await Promise.all(Object.entries(deps.config.accounts).map(async ([phoneNumberId, account]) => {
      let ms: number;
      let quality: string | undefined;
      try {
        const health = await api.numberHealth(phoneNumberId, AbortSignal.timeout(HEALTH_TIMEOUT_MS));
        ms = health.ms;
        quality = health.qualityRating;
      } catch (error) {
        ms = Number.POSITIVE_INFINITY;
        logger.warn('number health check failed', { phoneNumberId, reason: describeError(error) });
      }
      const slow = ms > SLOW_HEALTH_MS;
      if (slow) metrics.add('numberSlow', 1, { phoneNumberId });
      const slowChecks = await store.limits.recordHealth(phoneNumberId, { ms: Number.isFinite(ms) ? ms : -1, slow, qualityRating: quality }, now());
      const entry: { ms: number; slowChecks: number; switchedTo?: string } = { ms, slowChecks };
      if (slowChecks >= SLOW_CHECKS_TO_SWITCH && account.backupPhoneNumberId) {
        const state = await store.limits.numberState(phoneNumberId);
        if (state.switchedTo !== account.backupPhoneNumberId) {
          await store.limits.switchNumber(phoneNumberId, account.backupPhoneNumberId, now());
          metrics.add('numberSwitched', 1, { phoneNumberId });
          logger.error('number switched to its backup after three slow health checks', { phoneNumberId, backup: account.backupPhoneNumberId });
        }
        entry.switchedTo = account.backupPhoneNumberId;
      } else if (!slow) {
        const state = await store.limits.numberState(phoneNumberId);
        if (state.switchedTo) await store.limits.switchNumber(phoneNumberId, undefined, now());
      }
      out[phoneNumberId] = entry;
    }));
    return out;
  }

  return { handle, process, sweep, syncTemplates, checkHealth };
}

function reasonOf(failure: SendFailure): string {
  switch (failure.kind) {
    case 'window_closed':
      return '131047: the 24 h customer-service window is closed; send a template';
    case 'undeliverable':
      return '131026: the message could not be delivered to this number';
    case 'opted_out':
      return '131050: the customer stopped marketing messages; consent is now opted out';
    case 'template':
      return `${failure.code}: template problem: ${failure.title}`;
    case 'bsuid_not_allowed':
      return '131062: an authentication template cannot be sent to a BSUID';
    case 'retry':
      return `${failure.code} ${failure.title}: no retries left`;
    default:
      return `${failure.code}: ${failure.title}`;
  }
}
