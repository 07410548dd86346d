/**
 * The SCRM's own HTTP API (HTTP API routes on AWS, the same handler under `npm start`):
 *
 *   POST /api/messages                      send a message (Idempotency-Key) → 202 queued | denied | deferred
 *   GET  /api/messages/{id}                 its state, wamid, Meta's error, cost
 *   GET  /api/contacts?phone=… | ?bsuid=…   find customers
 *   GET  /api/contacts/{id}                 identities, consent, window, counters
 *   PUT  /api/contacts/{id}/consent         the business records marketing consent
 *   GET  /api/contacts/{id}/messages        the conversation, both directions, oldest first
 *
 * Every request carries `Authorization: Bearer <SCRM_API_TOKEN>` (compared in constant time).
 * Every bad input gets the right status and a message naming the problem.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { RuntimeConfig } from '#shared/config';
import { POLICY_LIMITS } from '#shared/domain/policy';
import type { Contact } from '#shared/domain/records';
import { NO_METRICS, type MetricsSink } from '#shared/metric-names';
import { RequestError, parseSendBody } from '#shared/outbound/request';
import { createSubmit, findCustomer } from '#shared/outbound/submit';
import type { SendJobSink } from '#shared/queue/send-jobs';
import type { SecretSource } from '#shared/secrets';
import { TABLE } from '#shared/resources';
import { keys } from '#shared/store/keys';
import type { OutboundRow } from '#shared/store/outbox';
import { countersOf } from '#shared/store/send-limits';
import type { Store } from '#shared/store/store';
import type { WhatsAppAccountApi } from '#shared/whatsapp/outbound/channel';
import { headerOf, json, problem, type HttpResult } from '#shared/http-api';

export interface ApiDeps {
  readonly store: Store;
  readonly secretSource: SecretSource;
  readonly jobs: SendJobSink;
  readonly accountApi?: WhatsAppAccountApi | undefined;
  readonly config: Pick<RuntimeConfig, 'accounts' | 'defaultRegion' | 'sending'>;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly metrics?: MetricsSink;
  readonly now?: () => number;
}

type Result = HttpResult;

const MAX_BODY_BYTES = 64 * 1024;
const TOKEN_REFRESH_INTERVAL_MS = 60_000;

export function createApiApp(deps: ApiDeps) {
  const now = deps.now ?? Date.now;
  const metrics = deps.metrics ?? NO_METRICS;
  const { store } = deps;
  const submit = createSubmit({
    contacts: store.contacts,
    identities: store.identities,
    outbox: store.outbox,
    limits: store.limits,
    templates: store.templates,
    accountApi: deps.accountApi,
    jobs: deps.jobs,
    config: deps.config,
    now,
    onDenied: (rule) => metrics.add('messagesDenied', 1, { rule }),
  });

  let lastRefresh = 0;
  /** True when the bearer token matches; a mismatch reads the secret again (rotated), at most once a minute. */
  async function authorised(event: APIGatewayProxyEventV2): Promise<boolean | 'unconfigured'> {
    const header = headerOf(event, 'authorization') ?? '';
    const given = /^Bearer (\S+)$/.exec(header)?.[1];
    let expected = (await deps.secretSource.current()).apiToken;
    if (!expected) return 'unconfigured';
    if (given && sameToken(given, expected)) return true;
    if (!given || now() - lastRefresh < TOKEN_REFRESH_INTERVAL_MS) return false;
    lastRefresh = now();
    expected = (await deps.secretSource.refresh()).apiToken;
    return Boolean(expected && sameToken(given, expected));
  }

  async function postMessage(event: APIGatewayProxyEventV2): Promise<Result> {
    const key = headerOf(event, 'idempotency-key');
    if (!key) return problem(400, 'Idempotency-Key header is required (any unique string up to 255 characters, e.g. a UUID)');
    if (key.length > 255) return problem(400, 'Idempotency-Key is longer than 255 characters');
    const body = bodyOf(event);
    if (body instanceof Error) return problem(body.message.startsWith('body is') ? 413 : 400, body.message);
    let input;
    try {
      input = parseSendBody(body);
    } catch (error) {
      if (error instanceof RequestError) return problem(400, error.message);
      throw error;
    }
    const result = await submit.submit(key, input);
    if (result.status !== 202) return problem(result.status, result.error);
    deps.logger.info('outbound message accepted', { id: result.body.id, state: result.body.state, origin: input.origin });
    return json(202, result.body);
  }

  async function getMessage(id: string): Promise<Result> {
    const row = await store.outbox.get(id);
    if (!row) return problem(404, `no message ${id}`);
    return json(200, messageView(row));
  }

  async function findContacts(event: APIGatewayProxyEventV2): Promise<Result> {
    const q = event.queryStringParameters ?? {};
    const to = q['phone'] ? { phone: q['phone'] } : q['bsuid'] ? { bsuid: q['bsuid'] } : undefined;
    if (!to) return problem(400, 'give phone=+852… or bsuid=…');
    const found = await findCustomer({ ...store, config: deps.config }, to);
    if ('invalid' in found) return problem(400, found.invalid);
    return json(200, { contacts: found.contact ? [contactView(found.contact, now())] : [] });
  }

  async function getContact(contactId: string): Promise<Result> {
    const contact = await store.contacts.current(contactId);
    if (!contact) return problem(404, `no contact ${contactId}`);
    return json(200, contactView(contact, now()));
  }

  async function putConsent(contactId: string, event: APIGatewayProxyEventV2): Promise<Result> {
    const body = bodyOf(event);
    if (body instanceof Error) return problem(400, body.message);
    const b = body as { marketing?: unknown; source?: unknown };
    if (typeof b?.marketing !== 'boolean') return problem(400, 'marketing: true or false is required');
    if (typeof b.source !== 'string' || b.source.length === 0 || b.source.length > 200) return problem(400, 'source: where the consent came from is required (1–200 characters, e.g. "web form")');
    const extra = Object.keys(b).filter((k) => k !== 'marketing' && k !== 'source');
    if (extra.length) return problem(400, `${extra[0]}: not a field of a consent (marketing, source)`);
    const contact = await store.contacts.current(contactId);
    if (!contact) return problem(404, `no contact ${contactId}`);
    // At Meta's resolution (whole seconds): a customer's STOP in the same second as this wins.
    const consent = { state: b.marketing ? ('opted_in' as const) : ('opted_out' as const), at: Math.floor(now() / 1000) * 1000, source: 'business' as const, detail: b.source };
    await store.contacts.recordConsent(contact.contactId, 'marketing', consent);
    const after = await store.contacts.get(contact.contactId);
    return json(200, { contactId: contact.contactId, consent: after?.consent ?? {} });
  }

  async function conversation(contactId: string): Promise<Result> {
    const contact = await store.contacts.current(contactId);
    if (!contact) return problem(404, `no contact ${contactId}`);
    // The customer's history, and that of every contact merged into them (history is never moved).
    const ids = [contact.contactId, ...(await store.contacts.mergedFrom(contact.contactId))];
    const items: Record<string, unknown>[] = [];
    for (const id of new Set(ids)) {
      for await (const item of store.table.query({
        IndexName: TABLE.indexes.byContact.name,
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.historyPartition(id) },
      })) items.push(item);
    }
    const messages = items
      .filter((item) => !(item['sk'] === 'MESSAGE' && item['outboundId'])) // our own sends appear once, as their outbox row
      .map((item) => (item['sk'] === 'OUTBOUND' ? outboundEntry(item as unknown as OutboundRow) : messageEntry(item)))
      // At the same moment the customer's message comes first (Meta's times are floored to the second).
      .sort((a, b) => a.at - b.at || (a['direction'] === b['direction'] ? a.id.localeCompare(b.id) : a['direction'] === 'inbound' ? -1 : 1));
    return json(200, { contactId: contact.contactId, messages });
  }

  async function route(event: APIGatewayProxyEventV2): Promise<Result> {
    const method = event.requestContext?.http?.method ?? 'GET';
    const path = (event.rawPath ?? '/').replace(/\/+$/, '');
    const segments = path.split('/').slice(1).map(decodeURIComponent); // ['api', …]
    if (segments[0] !== 'api') return problem(404, `no route ${method} ${path}`);
    const [, resource, id, sub, ...rest] = segments;
    if (rest.length) return problem(404, `no route ${method} ${path}`);
    const allow = (methods: string) => ({ ...problem(405, `method ${method} is not allowed on ${path}; use ${methods}`), headers: { allow: methods, 'content-type': 'application/json' } });
    if (resource === 'messages') {
      if (!id && !sub) return method === 'POST' ? postMessage(event) : allow('POST');
      if (id && !sub) return method === 'GET' ? getMessage(id) : allow('GET');
    }
    if (resource === 'contacts') {
      if (!id) return method === 'GET' ? findContacts(event) : allow('GET');
      if (!sub) return method === 'GET' ? getContact(id) : allow('GET');
      if (sub === 'consent') return method === 'PUT' ? putConsent(id, event) : allow('PUT');
      if (sub === 'messages') return method === 'GET' ? conversation(id) : allow('GET');
    }
    return problem(404, `no route ${method} ${path}`);
  }

  return {
    async handle(event: APIGatewayProxyEventV2): Promise<Result> {
      const auth = await authorised(event);
      if (auth === 'unconfigured') return problem(503, 'the API is not configured: set SCRM_API_TOKEN in the secret');
      if (!auth) return { ...problem(401, 'Authorization: Bearer <SCRM_API_TOKEN> is missing or wrong'), headers: { 'www-authenticate': 'Bearer', 'content-type': 'application/json' } };
      try {
        return await route(event);
      } catch (error) {
        deps.logger.error('API request failed', error as Error);
        return problem(500, 'the request could not be completed; nothing was sent that is not recorded — retry with the same Idempotency-Key');
      }
    },
  };
}

function sameToken(given: string, expected: string): boolean {
  // Hashes first: equal lengths for timingSafeEqual, and no length leak.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}


function bodyOf(event: APIGatewayProxyEventV2): unknown {
  const raw = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  if (raw.byteLength > MAX_BODY_BYTES) return new Error(`body is ${raw.byteLength} bytes; the limit is ${MAX_BODY_BYTES}`);
  if (raw.byteLength === 0) return new Error('a JSON body is required');
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (error) {
    return new Error(`body is not valid JSON: ${(error as Error).message}`);
  }
}

export function messageView(row: OutboundRow) {
  return {
    id: row.id,
    state: row.state,
    ...(row.wamid && { wamid: row.wamid }),
    ...(row.error && { error: { code: row.error.code, title: row.error.title } }),
    ...(row.reason && { reason: row.reason }),
    ...(row.notBefore !== undefined && row.state === 'deferred' && { notBefore: row.notBefore }),
    ...(row.cost && { cost: { amount: row.cost.amount, currency: row.cost.currency, category: row.cost.category, type: row.cost.type } }),
    to: row.to.phone ? { phone: row.to.phone } : { bsuid: row.to.bsuid },
    category: row.category,
    origin: row.origin,
    attempts: row.attempts,
    createdAt: row.createdAt,
  };
}

function contactView(contact: Contact, now: number) {
  const counters = countersOf(contact as unknown as Record<string, unknown>);
  const windowOpenUntil = contact.lastInboundAt !== undefined ? contact.lastInboundAt + POLICY_LIMITS.serviceWindowMs : undefined;
  return {
    contactId: contact.contactId,
    identities: {
      ...(contact.phone && { phone: contact.phone }),
      ...(contact.bsuid && { bsuid: contact.bsuid }),
      ...(contact.parentBsuid && { parentBsuid: contact.parentBsuid }),
      ...(contact.username && { username: contact.username }),
      ...(contact.previousPhones?.length && { previousPhones: contact.previousPhones }),
      ...(contact.previousBsuids?.length && { previousBsuids: contact.previousBsuids }),
    },
    ...(contact.profileName && { profileName: contact.profileName }),
    consent: contact.consent ?? {},
    window: {
      open: windowOpenUntil !== undefined && now < windowOpenUntil,
      ...(windowOpenUntil !== undefined && { openUntil: windowOpenUntil }),
      ...(contact.lastReferralAt !== undefined && { entryPointOpenUntil: contact.lastReferralAt + POLICY_LIMITS.entryPointWindowMs }),
    },
    counters: {
      templatesLast24h: counters.templatesAt.filter((t) => now - t < POLICY_LIMITS.templatesWindowMs).length,
      ...(counters.lastMarketingAt !== undefined && { lastMarketingAt: counters.lastMarketingAt }),
      ...(counters.lastSentAt !== undefined && { lastSentAt: counters.lastSentAt }),
      ...(counters.takeoverUntil !== undefined && counters.takeoverUntil > now && { automationPausedUntil: counters.takeoverUntil }),
      ...(counters.marketingPausedUntil !== undefined && counters.marketingPausedUntil > now && { marketingPausedUntil: counters.marketingPausedUntil }),
      ...(counters.suppressedUntil !== undefined && counters.suppressedUntil > now && { suppressedUntil: counters.suppressedUntil }),
    },
    ...(contact.segment && { segment: contact.segment }),
    tags: contact.tags ?? [],
    ...(contact.lastInboundAt !== undefined && { lastInboundAt: contact.lastInboundAt }),
    ...(contact.lastOutboundAt !== undefined && { lastOutboundAt: contact.lastOutboundAt }),
    inboundCount: contact.inboundCount ?? 0,
  };
}

interface ConversationEntry {
  readonly id: string;
  readonly at: number;
  readonly [field: string]: unknown;
}

function outboundEntry(row: OutboundRow): ConversationEntry {
  const c = row.content;
  return {
    id: row.id,
    ...(row.wamid && { wamid: row.wamid }),
    direction: 'outbound',
    // Our own clock in ms (Meta's status times are whole seconds and would tie with the customer's).
    at: row.sendingAt ?? row.createdAt,
    type: c.type === 'buttons' || c.type === 'list' ? 'interactive' : c.type,
    ...(c.type === 'text' ? { text: c.text } : { text: row.summary }),
    ...(c.type === 'template' && { template: { name: c.name, language: c.language } }),
    origin: row.origin,
    ...(row.rule && { rule: row.rule }),
    ...(row.agentId && { agentId: row.agentId }),
    state: row.state,
  };
}

function messageEntry(item: Record<string, unknown>): ConversationEntry {
  return {
    id: String(item['wamid']),
    wamid: String(item['wamid']),
    direction: item['direction'] === 'outbound' ? 'outbound' : 'inbound',
    at: Number(item['sentAt']),
    type: String(item['type']),
    ...(typeof item['text'] === 'string' ? { text: item['text'] } : { text: item['summary'] }),
    ...(typeof item['status'] === 'string' && { state: item['status'] }),
  };
}
