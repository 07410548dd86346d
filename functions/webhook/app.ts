/**
 * The webhook: Meta's verification handshake (IN-1) and its signed deliveries (IN-2..IN-6).
 * Reads like a table of contents: check → parse → store each event → queue its sync → answer.
 * 200 only after everything in the delivery is stored and queued; any failure is a 5xx so that
 * Meta delivers again, and the idempotent store makes the repeat harmless (IN-4, IN-5).
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { RuntimeConfig, Secrets } from '#shared/config';
import type { InboundMessage, IdentityUpdate, StatusUpdate, Unprocessable, WebhookEvent } from '#shared/domain/events';
import type { MessageAnalysis, MessageRecord } from '#shared/domain/records';
import { maskPhone } from '#shared/phone';
import { messageSyncJob, type SyncJobSink } from '#shared/queue/sync-jobs';
import { identitiesOf, seedOf, type IdentityResolver } from '#shared/identity/resolver';
import { sha256Hex } from '#shared/store/keys';
import type { Store } from '#shared/store/store';
import { parseWebhook } from '#shared/whatsapp/inbound';
import { WebhookPayloadSchema, describeIssues } from '#shared/whatsapp/schema';
import { isValidSignature } from '#shared/whatsapp/signature';
import type { Logger } from '@aws-lambda-powertools/logger';

export interface WebhookDeps {
  readonly config: Pick<RuntimeConfig, 'defaultRegion' | 'webhookMaxBodyBytes' | 'accounts'>;
  readonly secrets: Pick<Secrets, 'appSecret' | 'verifyToken'>;
  readonly store: Store;
  readonly identities: IdentityResolver;
  readonly syncJobs: SyncJobSink;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** The intelligence rules applied to a customer's text. */
  readonly analyse: (text: string) => MessageAnalysis;
  readonly now?: () => number;
}

type Result = APIGatewayProxyStructuredResultV2;

const json = (statusCode: number, body: unknown): Result => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});
const problem = (statusCode: number, error: string): Result => json(statusCode, { error });

export interface IngestSummary {
  messages: number;
  duplicates: number;
  statuses: number;
  identityUpdates: number;
  unprocessable: number;
}

export function createWebhookApp(deps: WebhookDeps) {
  const now = deps.now ?? Date.now;
  const { store, identities, syncJobs, logger } = deps;

  function verify(event: APIGatewayProxyEventV2): Result {
    const q = event.queryStringParameters ?? {};
    if (q['hub.mode'] === 'subscribe' && q['hub.verify_token'] === deps.secrets.verifyToken && q['hub.challenge']) {
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
    if (!isValidSignature(raw, signature, deps.secrets.appSecret)) {
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
    const summary: IngestSummary = { messages: 0, duplicates: 0, statuses: 0, identityUpdates: 0, unprocessable: 0 };
    try {
      // One after another: a delivery usually holds one event, and order matters within a customer.
      for (const e of events) await ingest(e, summary);
    } catch (error) {
      logger.error('delivery not stored; answering 5xx so that Meta retries', error as Error);
      return problem(500, 'the delivery could not be stored; it will be retried');
    }
    logger.info('delivery stored', { ...summary });
    return json(200, { received: summary });
  }

  async function ingest(event: WebhookEvent, summary: IngestSummary): Promise<void> {
    switch (event.kind) {
      case 'message':
        if (await ingestMessage(event)) summary.messages++;
        else summary.duplicates++;
        return;
      case 'status':
        await ingestStatus(event);
        summary.statuses++;
        return;
      case 'identity_update':
        await ingestIdentityUpdate(event);
        summary.identityUpdates++;
        return;
      case 'unprocessable':
        await keepUnprocessable(event);
        summary.unprocessable++;
        return;
    }
  }

  /** Stores a message once and queues its sync. Returns false for a repeated delivery. */
  async function ingestMessage(m: InboundMessage): Promise<boolean> {
    const receivedAt = now();
    routeAccount(m.account.phoneNumberId);
    const lead = m.referral
      ? { source: 'whatsapp_ad' as const, referral: m.referral }
      : { source: 'whatsapp' as const };
    const { contactId, merged } = await identities.resolve(m.customer, receivedAt, lead);
    if (m.identityChange) {
      await identities.applyChange(contactId, m.identityChange, m.customer.phone?.e164, receivedAt);
      logger.info('customer identity changed', { contactId, reason: m.identityChange.reason, newPhone: maskPhone(m.identityChange.newPhone?.e164) });
    }
    if (merged.length) logger.info('contacts merged on identity evidence', { contactId, merged });
    if (!m.knownType) logger.warn('message of an unknown type kept raw', { wamid: m.wamid, type: m.type });

    // Pure CPU, tens of microseconds: what the customer's words say (TG-1, TG-2, TG-5, ID-4).
    const analysis = m.text && m.type !== 'system' ? deps.analyse(m.text) : undefined;
    const stored = await store.messages.put({ ...toRecord(m, contactId, receivedAt), ...(analysis && { analysis }) });
    const row = stored.created ? undefined : stored.existing;
    const rowContact = row?.contactId ?? contactId;
    // A system notice (a number change …) is Meta speaking, not the customer: no counters.
    // Otherwise the contact counts the message exactly once, whichever delivery gets here first
    // and whatever crashed before (the effect and its mark are one conditional write).
    if (m.type !== 'system') {
      await store.contacts.applyInbound(
        rowContact,
        [
          {
            wamid: m.wamid,
            receivedAt: row?.receivedAt ?? receivedAt,
            sentAt: m.sentAt,
            phoneNumberId: m.account.phoneNumberId,
            profileName: m.customer.profileName,
            username: m.customer.username,
            // A redelivery applies the analysis stored by the first one.
            analysis: row ? row.analysis : analysis,
          },
        ],
        seedOf(m.customer, lead),
        { known: !stored.created, now: receivedAt },
      );
    }
    // A repeat whose first delivery never got its job queued (it answered 5xx) queues it now;
    // SQS deduplication and the idempotent consumer make a second copy harmless.
    if (stored.created || row!.syncState === 'pending') {
      await syncJobs.enqueue([messageSyncJob(m.wamid, rowContact)]);
    }
    return stored.created;
  }

  async function ingestStatus(s: StatusUpdate): Promise<void> {
    const at = now();
    const contactId = identitiesOf(s.recipient).length
      ? (await identities.resolve(s.recipient, at)).contactId
      : undefined;
    const error = s.errors[0];
    await store.messages.applyStatus({
      wamid: s.wamid,
      contactId,
      phoneNumberId: s.account.phoneNumberId,
      wabaId: s.account.wabaId,
      status: s.status,
      at: s.at,
      receivedAt: at,
      error: error && { code: error.code, title: error.title, message: error.message },
      pricing: s.pricing,
    });
    if (contactId) await store.contacts.applyDeliveryStatus(contactId, s.status, s.at);
    if (s.status === 'failed') logger.warn('outbound message failed', { wamid: s.wamid, code: error?.code, title: error?.title });
  }

  async function ingestIdentityUpdate(u: IdentityUpdate): Promise<void> {
    const at = now();
    const { contactId } = await identities.resolve(u.customer, at);
    await identities.applyChange(contactId, u.change, u.customer.phone?.e164, at);
    logger.info('customer identity changed', { contactId, reason: u.change.reason });
  }

  async function keepUnprocessable(u: Unprocessable): Promise<void> {
    const raw = JSON.stringify(u.raw ?? null);
    await store.rawEvents.put(sha256Hex(`${u.field}\n${raw}`), { reason: u.reason, field: u.field, phoneNumberId: u.account?.phoneNumberId, raw }, now());
    logger.warn('webhook content kept raw for review', { field: u.field, reason: u.reason });
  }

  function routeAccount(phoneNumberId: string): void {
    const accounts = deps.config.accounts;
    if (Object.keys(accounts).length && !accounts[phoneNumberId]) {
      logger.warn('message for a phone_number_id not in WHATSAPP_ACCOUNTS; stored all the same', { phoneNumberId });
    }
  }

  return {
    async handle(event: APIGatewayProxyEventV2): Promise<Result> {
      const method = event.requestContext?.http?.method ?? 'GET';
      if (method === 'GET') return verify(event);
      if (method === 'POST') return receive(event);
      return { ...problem(405, `method ${method} is not allowed; use GET or POST`), headers: { allow: 'GET, POST' } };
    },
  };
}

function headerOf(event: APIGatewayProxyEventV2, name: string): string | undefined {
  const headers = event.headers ?? {};
  return headers[name] ?? Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1];
}

function toRecord(m: InboundMessage, contactId: string, receivedAt: number): MessageRecord {
  return {
    wamid: m.wamid,
    contactId,
    direction: 'inbound',
    phoneNumberId: m.account.phoneNumberId,
    wabaId: m.account.wabaId,
    type: m.type,
    knownType: m.knownType,
    summary: m.summary,
    ...(m.text !== undefined && { text: m.text }),
    ...(m.media && { media: { kind: m.media.kind, mediaId: m.media.mediaId, ...(m.media.mimeType && { mimeType: m.media.mimeType }), ...(m.media.filename && { filename: m.media.filename }) } }),
    ...(m.replyTo && { replyTo: m.replyTo }),
    sentAt: m.sentAt,
    receivedAt,
    raw: JSON.stringify(m.raw),
  };
}
