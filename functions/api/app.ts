/**
 * The SCRM's own HTTP API (HTTP API routes on AWS, the same handler under `npm start`):
 *
 *   POST /api/messages                      send a message (Idempotency-Key) → 202 queued | denied | deferred
 *   GET  /api/messages/{id}                 its state, wamid, Meta's error, cost
 *   GET  /api/contacts?phone=… | ?bsuid=…   find customers
 *   GET  /api/contacts/{id}                 identities, consent, window, counters
 *   PUT  /api/contacts/{id}/consent         the business records marketing consent
 *   GET  /api/contacts/{id}/messages        the conversation, both directions, oldest first
 *   POST /api/contacts/{id}/store-visits    a store visit (a POS, the CRM) → AU-4's "no visit in 7 days"
 *   POST /api/orders                        an order of a customer (the shop, the CRM) → replenishment, order status
 *   GET  /api/agents                        the roster (AG-1)
 *   POST /api/conversations/{id}/assign     {agentId}: a person takes the conversation
 *   POST /api/conversations/{id}/resolve    ends the conversation (and asks for a rating, RP-13)
 *   GET  /api/conflicts?date=YYYY-MM-DD     CRM-vs-WhatsApp conflicts of the day (SY-3, ID-5)
 *   POST /api/conflicts/{id}/resolve        {value}: a person's decision, written to both sides
 *   GET  /api/duplicates[?state=open]       duplicate-customer candidates (ID-3)
 *   POST /api/duplicates/{id}/merge         merge them (and their CRM records) → the merge record
 *   POST /api/duplicates/{id}/dismiss       not the same person
 *   POST /api/merges/{id}/undo              undo a merge from the record it left
 *   POST /courier-events                    the courier's signed tracking webhook (AU-2b; no bearer token)
 *
 * Every request carries `Authorization: Bearer <SCRM_API_TOKEN>` (compared in constant time).
 * Every bad input gets the right status and a message naming the problem.
 */
import { MEDIA_ROUTE, MEDIA_URL_SECONDS, mediaLinkKey, validMediaSignature } from '#shared/media/links';
import { timingSafeEqual, createHash } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { RuntimeConfig } from '#shared/config';
import { POLICY_LIMITS } from '#shared/domain/policy';
import type { Contact } from '#shared/domain/records';
import { NO_METRICS, type MetricsSink } from '#shared/metric-names';
import { RequestError, parseSendBody } from '#shared/outbound/request';
import { createSubmit, findCustomer, submitStores } from '#shared/outbound/submit';
import type { SendJobSink } from '#shared/queue/send-jobs';
import type { SecretSource } from '#shared/secrets';
import { TABLE } from '#shared/resources';
import { keys } from '#shared/store/keys';
import type { OutboundRow } from '#shared/store/outbox';
import { countersOf } from '#shared/store/send-limits';
import type { Store } from '#shared/store/store';
import type { WhatsAppAccountApi } from '#shared/whatsapp/outbound/channel';
import { headerOf, json, problem, type HttpResult } from '#shared/http-api';
import * as z from 'zod/mini';
import '#shared/zod';
import { parseAfterShipWebhook } from '#shared/courier/aftership';
import type { Roster } from '#shared/domain/automation/config';
import type { ConversationResolved, OrderUpdated, ParcelUpdated } from '#shared/domain/automation/decide';
import { clickedFact, conversationResolvedFact, orderFacts, responseFacts } from '#shared/reports/facts';
import { LINK_ROUTE } from '#shared/links/tracked';
import { linkTracking } from '#shared/outbound/links';
import { REPORT_ROUTE, reportKey, reportLinkProblem } from '#shared/reports/links';
import type { DomainEventBus } from '#shared/events/bus';
import { contactSyncJob, type SyncJobSink } from '#shared/queue/sync-jobs';
import type { CrmAdapter } from '#shared/crm/port';
import { TWO_WAY_FIELDS, type TwoWayField } from '#shared/crm/two-way';
import { applyReview, type FieldState } from '#shared/domain/two-way';
import { MergeError, mergeDuplicate, undoMerge } from '#shared/sync/merge-contacts';

export interface ApiDeps {
  readonly store: Store;
  readonly secretSource: SecretSource;
  readonly jobs: SendJobSink;
  readonly accountApi?: WhatsAppAccountApi | undefined;
  readonly config: Pick<RuntimeConfig, 'accounts' | 'defaultRegion' | 'sending'>;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly metrics?: MetricsSink;
  /** The agents (config/agents.json). */
  readonly roster?: Roster | undefined;
  /** Orders, store visits, resolved conversations and parcel updates go to the automations. */
  readonly events?: DomainEventBus | undefined;
  /** A contact's new fields (assigned agent) to the CRM. */
  readonly syncJobs?: SyncJobSink | undefined;
  /** The store directory's ids (a store visit names one of them). */
  readonly storeIds?: ReadonlySet<string> | undefined;
  /** The business's time zone: a courier date without an offset is read in it. */
  readonly timeZone?: string | undefined;
  /** The CRM whose records a merge merges too (built on first use). */
  readonly crm?: (() => CrmAdapter) | undefined;
  /** Where stored media is (MD-1): a media link is answered with a presigned URL of it. */
  readonly media?: { presign(key: string, seconds: number, options?: { filename?: string | undefined }): Promise<string> } | undefined;
  /** Where tracked links point (`SCRM_LINK_BASE_URL`, locally the stack's own URL); undefined: links go as written (AU-8). */
  readonly linkBaseUrl?: (() => string | undefined) | undefined;
  readonly now?: () => number;
}

type Result = HttpResult;

/** A time: epoch milliseconds (an integer from 2000 on) or ISO 8601 with its offset. */
const isoOrMs = z.union([z.int().check(z.gte(946_684_800_000, 'epoch milliseconds (from 2000 on), e.g. 1796180000000'), z.lte(4_102_444_800_000, 'epoch milliseconds before 2100')), z.iso.datetime({ offset: true })]);
/** Future times by more than this are refused (a clock off by a little is not). */
const FUTURE_SLACK_MS = 5 * 60_000;
const CustomerRef = z.union([z.strictObject({ contactId: z.string().check(z.minLength(1)) }), z.strictObject({ phone: z.string().check(z.minLength(6)) }), z.strictObject({ bsuid: z.string().check(z.minLength(1)) })]);
const OrderBody = z.strictObject({
  customer: CustomerRef,
  orderId: z.string().check(z.minLength(1), z.maxLength(128)),
  placedAt: isoOrMs,
  skus: z.optional(z.array(z.string().check(z.regex(/^[A-Z0-9]+(-[A-Z0-9]+)+$/, 'a SKU like APL-IP15PM'))).check(z.maxLength(100))),
  amount: z.optional(z.number().check(z.gte(0))),
  currency: z.optional(z.string().check(z.regex(/^[A-Z]{3}$/, 'an ISO 4217 code'))),
  trackingNumber: z.optional(z.string().check(z.regex(/^[A-Za-z0-9-]{4,64}$/, 'letters, digits and -'))),
  carrier: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
});
const VisitBody = z.strictObject({ at: isoOrMs, storeId: z.optional(z.string().check(z.minLength(1), z.maxLength(64))) });
const AssignBody = z.strictObject({ agentId: z.string().check(z.minLength(1)) });
const ResolveBody = z.strictObject({ agentId: z.optional(z.string().check(z.minLength(1))) });

const issuesOf = (error: z.core.$ZodError) => error.issues.map((i) => `${i.path.map(String).join('.') || 'body'}: ${i.message}`).join('; ');
const msOf = (v: number | string) => (typeof v === 'number' ? v : Date.parse(v));

const MAX_BODY_BYTES = 64 * 1024;
const TOKEN_REFRESH_INTERVAL_MS = 60_000;

export function createApiApp(deps: ApiDeps) {
  const now = deps.now ?? Date.now;
  const metrics = deps.metrics ?? NO_METRICS;
  const { store } = deps;
  const submit = createSubmit({
    ...submitStores(store),
    accountApi: deps.accountApi,
    jobs: deps.jobs,
    config: deps.config,
    now,
    onDenied: (rule) => metrics.add('messagesDenied', 1, { rule }),
    links: linkTracking(store, deps.secretSource, deps.linkBaseUrl),
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
    if (body instanceof Error) return problem(statusOf(body), body.message);
    let input;
    try {
      input = parseSendBody(body);
    } catch (error) {
      if (error instanceof RequestError) return problem(400, error.message);
      throw error;
    }
    if (input.origin === 'agent' && deps.roster && !deps.roster.agents.some((a) => a.id === input.agentId)) {
      return problem(400, `agentId: "${input.agentId}" is not an agent of the roster (GET /api/agents)`);
    }
    const result = await submit.submit(key, input);
    if (result.status !== 202) return problem(result.status, result.error);
    deps.logger.info('outbound message accepted', { id: result.body.id, state: result.body.state, origin: input.origin });
    if (input.origin === 'agent' && (result.body.state === 'queued' || result.body.state === 'deferred')) await recordResponseTime(result.body.id, input.agentId!);
    return json(202, result.body);
  }

  /**
   * AG-1: an agent's first answer to the customer's waiting messages is that agent's response
   * time — from the first message nobody answered yet (`waitingSince`, set by the webhook's
   * contact write, reset by a new conversation) — on the outbound row (for the reports) and as a
   * metric. One conditional write takes the wait away, so only the first answer counts.
   */
  async function recordResponseTime(outboundId: string, agentId: string): Promise<void> {
    const row = await store.outbox.get(outboundId);
    if (!row) return;
    const at = row.createdAt;
    const { applied, attributes } = await store.table.update(keys.contact(row.contactId), {
      update: 'SET lastAgentReplyAt = :at REMOVE waitingSince',
      condition: 'attribute_exists(waitingSince) AND waitingSince < :at',
      values: { ':at': at },
      returnValues: 'ALL_OLD',
    });
    if (!applied) return;
    const responseMs = at - Number(attributes?.['waitingSince']);
    await store.table.update(keys.outbound(outboundId), { update: 'SET responseMs = :ms', values: { ':ms': responseMs } });
    const conversationId = (attributes?.['conversation'] as { id?: string } | undefined)?.id;
    const facts = responseFacts({ outboundId, agentId, at, responseMs, conversationId });
    await Promise.all([store.stats.count([facts.counted]), store.stats.add([facts.members])]);
    metrics.add('agentResponseTime', responseMs, { agentId });
  }

  function parse<T extends z.ZodMiniType>(schema: T, event: APIGatewayProxyEventV2): z.infer<T> | Result {
    const body = bodyOf(event);
    if (body instanceof Error) return problem(statusOf(body), body.message);
    const parsed = schema.safeParse(body);
    return parsed.success ? parsed.data : problem(400, issuesOf(parsed.error));
  }
  const isResult = (v: unknown): v is Result => typeof v === 'object' && v !== null && 'statusCode' in v;

  async function postOrder(event: APIGatewayProxyEventV2): Promise<Result> {
    const b = parse(OrderBody, event);
    if (isResult(b)) return b;
    const placedAt = msOf(b.placedAt);
    if (placedAt > now() + FUTURE_SLACK_MS) return problem(400, `placedAt: ${new Date(placedAt).toISOString()} is in the future`);
    const found = await findCustomer({ ...store, config: deps.config }, b.customer);
    if ('invalid' in found) return problem(400, found.invalid);
    if (!found.contact) return problem(404, `no customer ${JSON.stringify(b.customer)} is known`);
    const contact = found.contact;
    const order = { orderId: b.orderId, placedAt, ...(b.skus && { skus: b.skus }), ...(b.amount !== undefined && { amount: b.amount }), ...(b.currency && { currency: b.currency }), ...(b.trackingNumber && { trackingNumber: b.trackingNumber }), ...(b.carrier && { carrier: b.carrier }) };
    const eventId = `order:${b.orderId}:${placedAt}:${b.trackingNumber ?? ''}`;
    await store.automation.recordOrder(contact.contactId, order, eventId);
    // A deal for the reports (RP-4, RP-10), once per order id.
    const deal = orderFacts({ orderId: b.orderId, contactId: contact.contactId, placedAt, amount: b.amount, currency: b.currency, firstInboundAt: contact.firstInboundAt });
    await Promise.all([store.stats.count([deal.counted]), store.stats.add([deal.members])]);
    if (b.trackingNumber) await store.automation.watchParcel({ trackingNumber: b.trackingNumber, contactId: contact.contactId, orderId: b.orderId, ...(b.carrier && { carrier: b.carrier }), watchedAt: now() });
    const updated: OrderUpdated = { type: 'OrderUpdated', id: eventId, contactId: contact.contactId, order, at: now() };
    await deps.events?.publish([updated]);
    return json(200, { contactId: contact.contactId, order });
  }

  async function postStoreVisit(contactId: string, event: APIGatewayProxyEventV2): Promise<Result> {
    const b = parse(VisitBody, event);
    if (isResult(b)) return b;
    const at = msOf(b.at);
    if (at > now() + FUTURE_SLACK_MS) return problem(400, `at: ${new Date(at).toISOString()} is in the future`);
    if (b.storeId && deps.storeIds && !deps.storeIds.has(b.storeId)) return problem(400, `storeId: "${b.storeId}" is not a store of config/stores.json`);
    const contact = await store.contacts.current(contactId);
    if (!contact) return problem(404, `no contact ${contactId}`);
    await store.automation.recordStoreVisit(contact.contactId, at, `visit:${b.storeId ?? ''}:${at}`);
    return json(200, { contactId: contact.contactId, visitedAt: at, ...(b.storeId && { storeId: b.storeId }) });
  }

  function listAgents(): Result {
    return json(200, { agents: (deps.roster?.agents ?? []).map((a) => ({ id: a.id, name: a.name, languages: a.languages, role: a.role, available: a.available })) });
  }

  async function assign(contactId: string, event: APIGatewayProxyEventV2): Promise<Result> {
    const b = parse(AssignBody, event);
    if (isResult(b)) return b;
    const agent = deps.roster?.agents.find((a) => a.id === b.agentId);
    if (!agent) return problem(400, `agentId: "${b.agentId}" is not an agent of the roster (GET /api/agents)`);
    const contact = await store.contacts.current(contactId);
    if (!contact) return problem(404, `no contact ${contactId}`);
    const at = now();
    await store.automation.assign(contact.contactId, agent.id, at);
    await deps.syncJobs?.enqueue([contactSyncJob(contact.contactId, `assign-${agent.id}-${at}`)]);
    return json(200, { contactId: contact.contactId, agentId: agent.id, assignedAt: at });
  }

  async function resolve(contactId: string, event: APIGatewayProxyEventV2): Promise<Result> {
    const b = event.body ? parse(ResolveBody, event) : {};
    if (isResult(b)) return b;
    if (b.agentId && deps.roster && !deps.roster.agents.some((a) => a.id === b.agentId)) return problem(400, `agentId: "${b.agentId}" is not an agent of the roster (GET /api/agents)`);
    const contact = await store.contacts.current(contactId);
    if (!contact) return problem(404, `no contact ${contactId}`);
    const conversation = await store.automation.resolveConversation(contact.contactId, now());
    if (!conversation) return problem(409, `contact ${contact.contactId} has no conversation to resolve`);
    // The person is done: a hand-over's pause ends with the conversation (the rating prompt may go).
    await store.limits.updateCounters(
      contact.contactId,
      (c) => (c.takeoverUntil !== undefined && c.takeoverUntil > conversation.resolvedAt! ? { ...c, takeoverUntil: conversation.resolvedAt } : c),
      async (id) => countersOf((await store.contacts.get(id)) as unknown as Record<string, unknown>),
    );
    // Published on every call (the id is the conversation's): a publish that failed is made again by a retry.
    await store.stats.count([conversationResolvedFact(conversation.id, conversation.resolvedAt!)]);
    const ended: ConversationResolved = { type: 'ConversationResolved', id: `resolved:${conversation.id}`, contactId: contact.contactId, conversationId: conversation.id, agentId: b.agentId ?? conversation.agentId, at: conversation.resolvedAt! };
    await deps.events?.publish([ended]);
    return json(200, { contactId: contact.contactId, conversationId: conversation.id, resolvedAt: conversation.resolvedAt, ...(conversation.agentId && { agentId: conversation.agentId }) });
  }

  /** AU-2b: the courier's webhook, signed; an update of a parcel we watch goes to the automations. */
  async function courierEvent(event: APIGatewayProxyEventV2): Promise<Result> {
    const secret = (await deps.secretSource.current()).courierWebhookSecret;
    if (!secret) return problem(503, 'courier webhooks are not configured: set COURIER_WEBHOOK_SECRET in the secret');
    const raw = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
    if (raw.byteLength > MAX_BODY_BYTES * 4) return problem(413, `body is ${raw.byteLength} bytes; the limit is ${MAX_BODY_BYTES * 4}`);
    const parsed = parseAfterShipWebhook(raw, (event.headers ?? {}) as Record<string, string>, secret, deps.timeZone ? { timeZone: deps.timeZone } : {});
    if ('error' in parsed) return problem(parsed.error.includes('signature') || parsed.error.includes('header') ? 401 : 400, parsed.error);
    const p = parsed.parcel;
    const watched = await store.automation.parcel(p.trackingNumber);
    if (!watched) {
      deps.logger.info('courier update of a parcel nobody asked about', { event: parsed.event });
      return json(200, { ignored: 'unknown parcel' });
    }
    await store.automation.updateParcel(p.trackingNumber, p.state, p.updatedAt);
    const now_ = await store.automation.parcel(p.trackingNumber);
    // Only the parcel's current state is told (an older update arriving late is not).
    if (now_?.state === p.state && now_.updatedAt === p.updatedAt) {
      const update: ParcelUpdated = { type: 'ParcelUpdated', id: parsed.eventId, contactId: watched.contactId, trackingNumber: p.trackingNumber, state: p.state, at: p.updatedAt, eta: p.eta, trackingUrl: p.trackingUrl };
      await deps.events?.publish([update]);
    }
    return json(200, { accepted: parsed.eventId });
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

  async function listConflicts(event: APIGatewayProxyEventV2): Promise<Result> {
    const date = event.queryStringParameters?.['date'];
    if (!date || !/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`))) return problem(400, 'date: a UTC day YYYY-MM-DD is required, e.g. ?date=2026-12-02');
    const rows = await store.conflicts.fieldConflictsOn(date);
    return json(200, rows.map((r) => ({ id: r.id, contactId: r.contactId, field: r.field, ours: r.ours, theirs: r.theirs, winner: r.winner, ...(r.crm && { crm: r.crm }), ...(r.resolved && { resolved: r.resolved }) })));
  }

  async function resolveConflict(id: string, event: APIGatewayProxyEventV2): Promise<Result> {
    const body = bodyOf(event);
    if (body instanceof Error) return problem(statusOf(body), body.message);
    const b = body as { value?: unknown; by?: unknown };
    if (typeof b !== 'object' || b === null || !('value' in b) || (b.value !== null && (typeof b.value !== 'string' || b.value.length > 255))) return problem(400, 'value: the value to keep is required (a string up to 255 characters, or null to clear)');
    if (b.by !== undefined && (typeof b.by !== 'string' || b.by.length > 128)) return problem(400, 'by: who decided (up to 128 characters)');
    const conflict = await store.conflicts.get(id);
    if (!conflict) return problem(404, `no conflict ${id}`);
    if (!(TWO_WAY_FIELDS as readonly string[]).includes(conflict.field)) return problem(409, `conflict ${id} is on ${conflict.field}, which is not a two-way field`);
    const field = conflict.field as TwoWayField;
    const value = b.value as string | null;
    const contact = await store.contacts.current(conflict.contactId);
    if (!contact) return problem(404, `no contact ${conflict.contactId}`);
    const at = now();
    await store.twoWay.updateFields(
      contact.contactId,
      (_c, states) => {
        const next: Record<string, FieldState> = { [field]: applyReview(states[field], value, at).state };
        return { states: next, set: value === null ? {} : { [field]: value }, result: undefined };
      },
      (cid) => store.contacts.get(cid),
    );
    await store.conflicts.markResolved(id, value, at, typeof b.by === 'string' ? b.by : undefined);
    // Ours is set; the CRM gets it from the contact's next upsert.
    await deps.syncJobs?.enqueue([contactSyncJob(contact.contactId, `conflict:${id}`.slice(0, 500))]);
    return json(200, { id, contactId: contact.contactId, field, value, resolvedAt: at });
  }

  async function listDuplicates(event: APIGatewayProxyEventV2): Promise<Result> {
    const state = event.queryStringParameters?.['state'];
    if (state !== undefined && state !== 'open' && state !== 'merged' && state !== 'dismissed') return problem(400, 'state: open, merged or dismissed');
    return json(200, await store.twoWay.duplicates(state));
  }

  async function decideDuplicate(id: string, action: 'merge' | 'dismiss', event: APIGatewayProxyEventV2): Promise<Result> {
    const b = event.body ? bodyOf(event) : {};
    if (b instanceof Error) return problem(statusOf(b), b.message);
    const by = typeof (b as { by?: unknown }).by === 'string' ? ((b as { by: string }).by.slice(0, 128)) : 'api';
    const duplicate = await store.twoWay.duplicate(id);
    if (!duplicate) return problem(404, `no duplicate candidate ${id}`);
    if (action === 'dismiss') {
      if (duplicate.state === 'merged') return problem(409, `duplicate ${id} is merged; undo the merge (POST /api/merges/${duplicate.mergeId}/undo) first`);
      await store.twoWay.decideDuplicate(id, 'dismissed', now(), by);
      return json(200, { ...duplicate, state: 'dismissed' });
    }
    if (duplicate.state === 'dismissed') return problem(409, `duplicate ${id} was dismissed`);
    try {
      return json(200, await mergeDuplicate({ store, crm: deps.crm, syncJobs: deps.syncJobs, logger: deps.logger, now }, duplicate, by));
    } catch (error) {
      if (error instanceof MergeError) return problem(error.status, error.message);
      throw error;
    }
  }

  async function undo(id: string): Promise<Result> {
    try {
      return json(200, await undoMerge({ store, syncJobs: deps.syncJobs, logger: deps.logger, now }, id));
    } catch (error) {
      if (error instanceof MergeError) return problem(error.status, error.message);
      throw error;
    }
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
      if (sub === 'store-visits') return method === 'POST' ? postStoreVisit(id, event) : allow('POST');
    }
    if (resource === 'conflicts') {
      if (!id) return method === 'GET' ? listConflicts(event) : allow('GET');
      if (sub === 'resolve') return method === 'POST' ? resolveConflict(id, event) : allow('POST');
    }
    if (resource === 'duplicates') {
      if (!id) return method === 'GET' ? listDuplicates(event) : allow('GET');
      if (sub === 'merge' || sub === 'dismiss') return method === 'POST' ? decideDuplicate(id, sub, event) : allow('POST');
    }
    if (resource === 'merges' && id && sub === 'undo') return method === 'POST' ? undo(id) : allow('POST');
    if (resource === 'orders' && !id) return method === 'POST' ? postOrder(event) : allow('POST');
    if (resource === 'agents' && !id) return method === 'GET' ? listAgents() : allow('GET');
    if (resource === 'conversations' && id && (sub === 'assign' || sub === 'resolve')) {
      if (method !== 'POST') return allow('POST');
      return sub === 'assign' ? assign(id, event) : resolve(id, event);
    }
    return problem(404, `no route ${method} ${path}`);
  }

  /**
   * `GET /media/{wamid}?sig=…`, the link written into the CRM with a media message: signed instead
   * of authorised (a CRM user's click carries no bearer token), answered with a redirect to a
   * presigned URL of the stored object (shared/media/links.ts).
   */
  async function mediaRedirect(event: APIGatewayProxyEventV2, wamid: string): Promise<Result> {
    const key = mediaLinkKey(await deps.secretSource.current());
    if (!validMediaSignature(key, wamid, event.queryStringParameters?.['sig'])) return problem(403, 'the media link is not valid: its sig does not match (copy the whole link from the CRM)');
    const message = await store.messages.get(wamid);
    const media = message?.media;
    if (!media) return problem(404, `message ${wamid} has no media`);
    if (!media.state) return { ...problem(503, 'the media is still being fetched from WhatsApp; try again in a minute'), headers: { 'retry-after': '60', 'content-type': 'application/json' } };
    if (media.state === 'failed' || !media.s3Key) return problem(410, `the media could not be kept: ${media.reason ?? 'failed'}`);
    if (!deps.media) return problem(503, 'media storage is not configured (SCRM_BUCKET_NAME)');
    const url = await deps.media.presign(media.s3Key, MEDIA_URL_SECONDS, { filename: media.filename });
    return { statusCode: 302, headers: { location: url, 'cache-control': 'no-store' }, body: '' };
  }

  /**
   * `GET /reports/{name}?exp=…&sig=…`, the link the reports topic announces (shared/reports/links.ts):
   * signed and dated instead of authorised (it is opened from an e-mail), answered with a redirect
   * to a presigned URL of the stored report.
   */
  async function reportRedirect(event: APIGatewayProxyEventV2, name: string): Promise<Result> {
    const objectKey = reportKey(name);
    if (!objectKey) return problem(404, `no report ${name}: names look like weekly-2026-11-23.html or latest-daily.json`);
    const query = event.queryStringParameters ?? {};
    const invalid = reportLinkProblem(mediaLinkKey(await deps.secretSource.current()), name, query['exp'], query['sig'], now());
    if (invalid) return problem(403, invalid);
    if (!deps.media) return problem(503, 'report storage is not configured (SCRM_BUCKET_NAME)');
    const url = await deps.media.presign(objectKey, MEDIA_URL_SECONDS);
    return { statusCode: 302, headers: { location: url, 'cache-control': 'no-store' }, body: '' };
  }

  /**
   * `GET /l/{token}`, a tracked link in one of our messages (AU-8): the click is recorded (the
   * message counts as clicked once, for the reports' CTR) and the customer goes on to the page.
   */
  async function trackedRedirect(_event: APIGatewayProxyEventV2, token: string): Promise<Result> {
    const link = /^[A-Za-z0-9_-]{22}$/.test(token) ? await store.links.get(token) : undefined;
    if (!link) return problem(404, `no link ${token}: copy the whole link from the message`);
    const { first } = await store.links.click(link, now());
    if (first) await store.stats.count([clickedFact(link.outboundId, link.createdAt)]);
    return { statusCode: 302, headers: { location: link.url, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }, body: '' };
  }

  // The links opened without a bearer token (from the CRM, an e-mail, a customer's phone), GET only.
  const SIGNED_LINKS = [
    { route: MEDIA_ROUTE, what: 'media', open: mediaRedirect },
    { route: REPORT_ROUTE, what: 'report', open: reportRedirect },
    { route: LINK_ROUTE, what: 'link', open: trackedRedirect },
  ] as const;

  return {
    async handle(event: APIGatewayProxyEventV2): Promise<Result> {
      const path = (event.rawPath ?? '').replace(/\/+$/, '');
      for (const signed of SIGNED_LINKS) {
        const match = new RegExp(`^${signed.route}/([^/]+)$`).exec(path);
        if (!match) continue;
        if ((event.requestContext?.http?.method ?? 'GET') !== 'GET') return { ...problem(405, 'use GET'), headers: { allow: 'GET', 'content-type': 'application/json' } };
        try {
          return await signed.open(event, decodeURIComponent(match[1]!));
        } catch (error) {
          deps.logger.error(`${signed.what} link failed`, error as Error);
          return problem(500, `the ${signed.what} could not be opened; try again`);
        }
      }
      if ((event.rawPath ?? '').replace(/\/+$/, '') === '/courier-events') {
        if ((event.requestContext?.http?.method ?? 'GET') !== 'POST') return problem(405, 'use POST');
        try {
          return await courierEvent(event);
        } catch (error) {
          deps.logger.error('courier event failed', error as Error);
          return problem(500, 'the update could not be stored; the courier sends it again');
        }
      }
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


/** 413 for a body over the limit, 400 for any other body problem (not JSON, missing). */
const statusOf = (error: Error) => (error instanceof TooLarge ? 413 : 400);
class TooLarge extends Error {}

function bodyOf(event: APIGatewayProxyEventV2): unknown {
  const raw = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  if (raw.byteLength > MAX_BODY_BYTES) return new TooLarge(`body is ${raw.byteLength} bytes; the limit is ${MAX_BODY_BYTES}`);
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
    ...(row.rule && { rule: row.rule }),
    ...(row.agentId && { agentId: row.agentId }),
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
    ...(contact.language && { language: contact.language }),
    ...(contact.agentId && { agentId: contact.agentId }),
    ...(contact.conversation && { conversation: contact.conversation }),
    ...(contact.lastCoupon && { lastCoupon: contact.lastCoupon }),
    ...(contact.satisfaction && { satisfaction: contact.satisfaction }),
    ...(contact.address && { address: contact.address }),
    ...(contact.lastOrder && { lastOrder: contact.lastOrder }),
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
