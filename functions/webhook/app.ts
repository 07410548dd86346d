/**
 * The webhook: Meta's verification handshake (IN-1) and its signed deliveries (IN-2..IN-6).
 * Reads like a table of contents: check → parse → store each event → queue its sync → answer.
 * 200 only after everything in the delivery is stored and queued; any failure is a 5xx so that
 * Meta delivers again, and the idempotent store makes the repeat harmless (IN-4, IN-5).
 */
import type { MediaJobSink } from '#shared/queue/media-jobs';
import type { APIGatewayProxyEventV2, SNSEvent } from 'aws-lambda';
import type { RuntimeConfig } from '#shared/config';
import type { SecretSource } from '#shared/secrets';
import type { MessageAnalysis } from '#shared/domain/records';
import { NO_METRICS, type MetricsSink } from '#shared/metric-names';
import type { IdentityResolver } from '#shared/identity/resolver';
import { createIngest, type IngestSummary } from '#shared/ingest/pipeline';
import type { SendJobSink } from '#shared/queue/send-jobs';
import type { SyncJobSink } from '#shared/queue/sync-jobs';
import type { IngestStore } from '#shared/store/ingest-store';
import { parseWebhook } from '#shared/whatsapp/inbound';
import { WebhookPayloadSchema, describeIssues } from '#shared/whatsapp/schema';
import { isValidSignature } from '#shared/whatsapp/signature';
import { SnsMessageError, webhookPayloadFromSns } from '#shared/whatsapp/sns-source';
import { sha256Hex } from '#shared/store/keys';
import type { DomainEventBus } from '#shared/events/bus';
import type { Logger } from '@aws-lambda-powertools/logger';
import { headerOf, json, problem, type HttpResult } from '#shared/http-api';

export interface WebhookDeps {
  readonly config: Pick<RuntimeConfig, 'defaultRegion' | 'webhookMaxBodyBytes' | 'accounts'>;
  /** The app secret and verify token as they are now (read with a TTL; again when a signature does not match). */
  readonly secretSource: SecretSource;
  readonly store: IngestStore;
  readonly identities: IdentityResolver;
  readonly syncJobs: SyncJobSink;
  /** The send queue: a failed status of our own message is handed to the send function. */
  readonly sendJobs?: SendJobSink | undefined;
  /** The media queue: a media message's news (its work is recorded either way). */
  readonly mediaJobs?: MediaJobSink | undefined;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** The intelligence rules applied to a customer's text. */
  readonly analyse: (text: string) => MessageAnalysis;
  /** Messages stored, repeated deliveries, events kept raw (alarms read them). */
  readonly metrics?: MetricsSink;
  /** Where customer messages are announced to the automations (the domain event bus). */
  readonly events?: DomainEventBus | undefined;
  readonly now?: () => number;
}

type Result = HttpResult;

/** Least time between two reads of the secret caused by signatures that did not match. */
const SECRET_REFRESH_INTERVAL_MS = 60_000;


export function createWebhookApp(deps: WebhookDeps) {
  const { logger } = deps;
  const ingest = createIngest({
    store: deps.store,
    identities: deps.identities,
    syncJobs: deps.syncJobs,
    sendJobs: deps.sendJobs,
    mediaJobs: deps.mediaJobs,
    logger,
    analyse: deps.analyse,
    accounts: deps.config.accounts,
    events: deps.events,
    now: deps.now ?? Date.now,
  });

  /**
   * A signature that does not match may have been made with a rotated app secret: the secret is
   * read again, at most once a minute (a forged request cannot make every request read it).
   */
  let lastRefresh = 0;
  async function signedWithCurrentSecret(raw: Buffer, signature: string): Promise<boolean> {
    if (isValidSignature(raw, signature, (await deps.secretSource.current()).appSecret)) return true;
    const at = Date.now();
    if (at - lastRefresh < SECRET_REFRESH_INTERVAL_MS) return false;
    lastRefresh = at;
    return isValidSignature(raw, signature, (await deps.secretSource.refresh()).appSecret);
  }

  async function verify(event: APIGatewayProxyEventV2): Promise<Result> {
    const q = event.queryStringParameters ?? {};
    const { verifyToken } = await deps.secretSource.current();
    if (q['hub.mode'] === 'subscribe' && q['hub.verify_token'] === verifyToken && q['hub.challenge']) {
      return { statusCode: 200, headers: { 'content-type': 'text/plain' }, body: q['hub.challenge'] };
    }
    logger.warn('webhook verification refused', { mode: q['hub.mode'] });
    return problem(403, 'verification failed: hub.mode must be "subscribe" and hub.verify_token must match');
  }

  async function receive(event: APIGatewayProxyEventV2): Promise<Result> {
    const raw = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
    if (raw.byteLength > deps.config.webhookMaxBodyBytes) {
      return problem(413, `body is ${raw.byteLength} bytes; the limit is ${deps.config.webhookMaxBodyBytes}`);
    }
    const signature = headerOf(event, 'x-hub-signature-256');
    if (!signature) return problem(401, 'missing X-Hub-Signature-256 header');
    if (!(await signedWithCurrentSecret(raw, signature))) {
      logger.warn('webhook signature rejected');
      return problem(401, 'X-Hub-Signature-256 does not match the body');
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch (error) {
      return problem(400, `body is not valid JSON: ${(error as Error).message}`);
    }
    const payload = WebhookPayloadSchema.safeParse(body);
    if (!payload.success) return problem(400, `not a WhatsApp webhook: ${describeIssues(payload.error)}`);

    const events = parseWebhook(payload.data, { defaultRegion: deps.config.defaultRegion });
    let summary: IngestSummary;
    try {
      summary = await ingest.ingest(events);
    } catch (error) {
      logger.error('delivery not stored; answering 5xx so that Meta retries', error as Error);
      return problem(500, 'the delivery could not be stored; it will be retried');
    }
    logger.info('delivery stored', { ...summary });
    const metrics = deps.metrics ?? NO_METRICS;
    metrics.add('messagesStored', summary.messages);
    metrics.add('duplicateDeliveries', summary.duplicates);
    metrics.add('unprocessableEvents', summary.unprocessable);
    return json(200, { received: summary });
  }

  /**
   * The second source (IN-7): an account linked to AWS End User Messaging Social gets Meta's
   * webhooks through SNS, one Meta entry per message. AWS checked Meta's signature; the events go
   * through the same ingest. A message that is not a WhatsApp entry is kept raw, not retried; a
   * failure to store throws, so that Lambda's SNS retries deliver it again.
   */
  async function receiveSns(event: SNSEvent): Promise<IngestSummary[]> {
    const summaries: IngestSummary[] = [];
    for (const record of event.Records) {
      let events;
      try {
        events = parseWebhook(webhookPayloadFromSns(record.Sns.Message), { defaultRegion: deps.config.defaultRegion });
      } catch (error) {
        if (!(error instanceof SnsMessageError)) throw error;
        const raw = record.Sns.Message;
        await deps.store.rawEvents.put(sha256Hex(`sns\n${raw}`), { reason: error.message, field: 'sns', raw }, (deps.now ?? Date.now)());
        logger.warn('SNS message kept raw: not a WhatsApp webhook entry', { messageId: record.Sns.MessageId, reason: error.message });
        (deps.metrics ?? NO_METRICS).add('unprocessableEvents');
        continue;
      }
      const summary = await ingest.ingest(events);
      logger.info('SNS delivery stored', { messageId: record.Sns.MessageId, ...summary });
      const metrics = deps.metrics ?? NO_METRICS;
      metrics.add('messagesStored', summary.messages);
      metrics.add('duplicateDeliveries', summary.duplicates);
      metrics.add('unprocessableEvents', summary.unprocessable);
      summaries.push(summary);
    }
    return summaries;
  }

  return {
    receiveSns,
    async handle(event: APIGatewayProxyEventV2): Promise<Result> {
      const method = event.requestContext?.http?.method ?? 'GET';
      if (method === 'GET') return verify(event);
      if (method === 'POST') return receive(event);
      return { ...problem(405, `method ${method} is not allowed; use GET or POST`), headers: { allow: 'GET, POST' } };
    },
  };
}

