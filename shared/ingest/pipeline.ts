/**
 * Ingest: the business events of one delivery (from Meta's webhook, or another source feeding
 * the same events) stored, applied and queued. The source answers "stored" only when this
 * resolves; if it throws, nothing is acknowledged and the source delivers again (IN-5).
 *
 * - **Order where it matters, parallel where it does not.** Events that share a customer identity
 *   (directly or through an identity change in the same delivery) form one group, handled in
 *   delivery order; groups run in parallel, a bounded number at a time. Within a group the
 *   message rows are written in parallel (bounded), the contact updates are batched per contact,
 *   and the sync jobs are queued in order, ten per request.
 * - **Poison is kept, not retried.** An event that can never be stored as such — no customer
 *   identity, a key or an item over DynamoDB's limits — is kept raw as unprocessable and counted;
 *   the rest of the delivery is stored and the delivery is acknowledged. Retrying it for days
 *   would change nothing, and would hold back everything else Meta sends with it.
 * - **Idempotent.** A repeated delivery finds its rows, its contact marks and its queued jobs:
 *   nothing is written twice (invariant 2).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { InboundMessage, IdentityUpdate, PreferenceUpdate, StatusUpdate, Unprocessable, WebhookEvent } from '../domain/events.ts';
import { consentCommands, consentFromMessage, isOptOutButton, type ConsentCommands } from '../domain/consent.ts';
import { shippedIntelligence } from '../domain/intelligence/bundled.ts';
import type { MessageAnalysis, MessageRecord } from '../domain/records.ts';
import type { DomainEvent, DomainEventBus } from '../events/bus.ts';
import type { MessageReceived } from '../domain/automation/decide.ts';
import { identitiesOf, NoIdentityError, seedOf, type IdentityResolver } from '../identity/resolver.ts';
import { maskPhone } from '../phone.ts';
import { mediaJob, type MediaJob, type MediaJobSink } from '../queue/media-jobs.ts';
import { messageSyncJob, replyStatusSyncJob, type SyncJob, type SyncJobSink } from '../queue/sync-jobs.ts';
import { isValidationError } from '../store/client.ts';
import type { ContactSeed, InboundEffect } from '../store/contacts.ts';
import { sha256Hex, type IdentityKey } from '../store/keys.ts';
import type { StoredMessage } from '../store/messages.ts';
import type { IngestStore } from '../store/ingest-store.ts';
import { OUTBOUND_ID, type OutboundRow, type StatusName } from '../store/outbox.ts';
import { MESSAGE_CATEGORIES, type MessageCategory } from '../domain/policy.ts';
import { PRICING_TYPES, marketOf, messageCost, type PricingType } from '../domain/pricing.ts';
import { recordOutboundMessage } from '../outbound/record.ts';
import { failedStatusJob, type SendJobSink } from '../queue/send-jobs.ts';
import { inboundFacts, ownStatusFacts } from '../reports/facts.ts';

const familyOf = (word: string) => shippedIntelligence().hotWordFamily.get(word);

/** Meta's cost of a message from its status's pricing and the rate card; none for a category or type the card does not price. */
function costOf(pricing: StatusUpdate['pricing'], phone: string | undefined, at: number) {
  const category = pricing?.category as MessageCategory | undefined;
  const type = pricing?.type as PricingType | undefined;
  if (!category || !type || !MESSAGE_CATEGORIES.includes(category) || !PRICING_TYPES.includes(type)) return undefined;
  try {
    return messageCost({ market: marketOf(phone), category, pricingType: type, billable: pricing?.billable, at });
  } catch {
    return undefined; // before per-message pricing (1 July 2025)
  }
}

const isStatusName = (status: string): status is StatusName => status === 'sent' || status === 'delivered' || status === 'read' || status === 'failed';

/**
 * Groups of one delivery handled at the same time. Each call is a few milliseconds of waiting on
 * DynamoDB; 32 in flight keep a 1,000-message delivery well under Meta's patience and within the
 * SDK's 50 sockets.
 */
export const GROUP_CONCURRENCY = 32;
/** Message rows of one group written at the same time. */
export const ROW_CONCURRENCY = 16;
/** Parallel lanes that send the delivery's sync jobs; one customer's jobs stay in one lane, in order. */
export const JOB_LANES = 8;

export interface IngestDeps {
  readonly store: IngestStore;
  readonly identities: IdentityResolver;
  readonly syncJobs: SyncJobSink;
  /** Where media jobs go (MD-1); absent: the work is recorded and the media sweep queues it. */
  readonly mediaJobs?: MediaJobSink | undefined;
  /** Where a `failed` status of our own message goes (the send function applies what it means). */
  readonly sendJobs?: SendJobSink | undefined;
  readonly logger: Pick<Logger, 'info' | 'warn'>;
  /** The intelligence rules applied to a customer's text. */
  readonly analyse: (text: string) => MessageAnalysis;
  /** phone_number_id → account name (IN-6); a message for another number is stored with a warning. */
  readonly accounts: Readonly<Record<string, unknown>>;
  /** The consent commands (config/consent.json), folded like the rules; default the shipped ones. */
  readonly consentCommands?: ConsentCommands;
  /**
   * Where `MessageReceived` goes for the automations (EventBridge on AWS, the local bus locally):
   * one per customer message of the delivery, new or repeated, so a publish that failed (the
   * delivery answered 5xx) is made by Meta's retry. Consumers dedupe by the event id.
   */
  readonly events?: DomainEventBus | undefined;
  readonly now: () => number;
}

export interface IngestSummary {
  messages: number;
  duplicates: number;
  statuses: number;
  identityUpdates: number;
  unprocessable: number;
}

type Lead = { source: 'whatsapp' | 'whatsapp_ad'; referral?: ContactSeed['leadReferral'] };

interface Prepared {
  readonly message: InboundMessage;
  readonly contactId: string;
  readonly lead: Lead;
  readonly analysis: MessageAnalysis | undefined;
  readonly receivedAt: number;
  /** This delivery created the customer (a new WhatsApp customer, RP-5). */
  readonly isNew: boolean;
}

interface Stored extends Prepared {
  readonly created: boolean;
  readonly row: StoredMessage | undefined;
}

export function createIngest(deps: IngestDeps) {
  const { store, identities, syncJobs, logger } = deps;
  let consent: ConsentCommands | undefined;
  const commands = () => (consent ??= deps.consentCommands ?? consentCommands(shippedIntelligence().folding));

  async function ingest(events: readonly WebhookEvent[]): Promise<IngestSummary> {
    const summary: IngestSummary = { messages: 0, duplicates: 0, statuses: 0, identityUpdates: 0, unprocessable: 0 };
    const unprocessable = events.filter((e): e is Unprocessable => e.kind === 'unprocessable');
    const groups = groupByCustomer(events.filter((e) => e.kind !== 'unprocessable'));
    await mapLimit(unprocessable, ROW_CONCURRENCY, async (u) => {
      await keepRaw(u);
      summary.unprocessable++;
    });
    // Who owns each identity of the delivery, read ahead in batches of 100 instead of once per customer.
    const owners = await store.identities.owners(uniqueIdentities(events));
    const jobs = groups.map((): SyncJob[] => []);
    const received: DomainEvent[] = [];
    const media: MediaJob[] = [];
    await mapLimit(groups.map((group, i) => [group, jobs[i]!] as const), GROUP_CONCURRENCY, ([group, out]) => ingestGroup(group, summary, out, owners, received, media));
    // Ten jobs a request; a customer's jobs in one lane, in the order its messages came.
    const lanes = Array.from({ length: JOB_LANES }, (): SyncJob[] => []);
    jobs.forEach((group, i) => lanes[i % JOB_LANES]!.push(...group));
    // The sync jobs, media jobs and the automations' events go out together; any failing answers 5xx.
    await Promise.all([
      ...lanes.filter((lane) => lane.length).map((lane) => syncJobs.enqueue(lane)),
      ...(deps.mediaJobs && media.length ? [deps.mediaJobs.enqueue(media)] : []),
      ...(deps.events && received.length ? [deps.events.publish(received)] : []),
    ]);
    return summary;
  }

  /** One customer's events, in delivery order; runs of messages are stored together. Its sync jobs go to `jobs`. */
  async function ingestGroup(events: readonly WebhookEvent[], summary: IngestSummary, jobs: SyncJob[], owners: ReadonlyMap<string, string>, received: DomainEvent[], media: MediaJob[]): Promise<void> {
    const resolved = new Map<string, string>();
    // The read-ahead holds until this group writes an identity; later resolutions read afresh.
    let readAhead: ReadonlyMap<string, string> | undefined = owners;
    let run: Prepared[] = [];
    const flush = async () => {
      const messages = run;
      run = [];
      jobs.push(...(await storeMessages(messages, summary, received, media)));
    };
    for (const event of events) {
      try {
        if (event.kind === 'message') {
          const prepared = await prepare(event, resolved, readAhead);
          readAhead = undefined;
          run.push(prepared);
          // A number change: later messages may carry the new identities; they resolve afresh.
          if (event.identityChange) resolved.clear();
          continue;
        }
        await flush();
        readAhead = undefined;
        if (event.kind === 'status') {
          await ingestStatus(event, jobs);
          summary.statuses++;
        } else if (event.kind === 'identity_update') {
          await ingestIdentityUpdate(event);
          resolved.clear();
          summary.identityUpdates++;
        } else if (event.kind === 'preference') {
          await ingestPreference(event);
        }
      } catch (error) {
        const reason = poisonReason(error);
        if (!reason) throw error;
        await keepRaw({ kind: 'unprocessable', reason, field: 'messages', account: event.kind === 'unprocessable' ? undefined : event.account, raw: event.raw });
        summary.unprocessable++;
      }
    }
    await flush();
  }

  /** Who the customer is (cached within the group) and what the message says. */
  async function prepare(m: InboundMessage, resolved: Map<string, string>, owners: ReadonlyMap<string, string> | undefined): Promise<Prepared> {
    const receivedAt = deps.now();
    routeAccount(m.account.phoneNumberId);
    const lead: Lead = m.referral ? { source: 'whatsapp_ad', referral: m.referral } : { source: 'whatsapp' };
    const identityKey = identitiesOf(m.customer).map((id) => `${id.kind}#${id.value}`).join('|');
    let contactId = identityKey ? resolved.get(identityKey) : undefined;
    let isNew = false;
    if (!contactId) {
      // A customer's message writes the contact next (its effects), unless it is a system notice.
      const result = await identities.resolve(m.customer, receivedAt, lead, { ...(owners && { owners }), willApply: m.type !== 'system' });
      contactId = result.contactId;
      isNew = result.isNew;
      if (result.merged.length) logger.info('contacts merged on identity evidence', { contactId, merged: result.merged });
      resolved.set(identityKey, contactId);
    }
    if (m.identityChange) {
      await identities.applyChange(contactId, m.identityChange, m.customer.phone?.e164, receivedAt);
      logger.info('customer identity changed', { contactId, reason: m.identityChange.reason, newPhone: maskPhone(m.identityChange.newPhone?.e164) });
    }
    if (!m.knownType) logger.warn('message of an unknown type kept raw', { wamid: m.wamid, type: m.type });
    // Pure CPU, tens of microseconds: what the customer's words say (TG-1, TG-2, TG-5, ID-4).
    const analysis = m.text && m.type !== 'system' ? deps.analyse(m.text) : undefined;
    return { message: m, contactId, lead, analysis, receivedAt, isNew };
  }

  /** Rows (parallel, bounded), then contact effects (batched per contact); returns their jobs, in order. */
  async function storeMessages(messages: readonly Prepared[], summary: IngestSummary, received: DomainEvent[], media: MediaJob[]): Promise<SyncJob[]> {
    if (messages.length === 0) return [];
    const stored = (await mapLimit(messages, ROW_CONCURRENCY, (p) => storeRow(p, media))).filter((s): s is Stored => s !== undefined);
    for (const s of stored) {
      if (s.created) summary.messages++;
      else summary.duplicates++;
    }
    summary.unprocessable += messages.length - stored.length;

    // A system notice (a number change …) is Meta speaking, not the customer: no counters.
    const byContact = new Map<string, Stored[]>();
    for (const s of stored) {
      if (s.message.type === 'system') continue;
      const contactId = s.row?.contactId ?? s.contactId;
      byContact.set(contactId, [...(byContact.get(contactId) ?? []), s]);
    }
    // The reports' aggregates, beside the contact writes: each message counted once, whichever
    // delivery gets here (RP-1 …); a failure answers 5xx like any other write of the delivery.
    const facts = stored
      .filter((s) => s.message.type !== 'system')
      .map((s) => inboundFacts({ wamid: s.message.wamid, contactId: s.row?.contactId ?? s.contactId, sentAt: s.message.sentAt, analysis: s.row ? s.row.analysis : s.analysis, isNew: s.isNew }, familyOf));
    const counted = Promise.all([store.stats.count(facts.map((f) => f.counted)), store.stats.add(facts.map((f) => f.members))]);
    counted.catch(() => undefined); // awaited below; a contact write failing first must not leave it unhandled
    await mapLimit([...byContact], ROW_CONCURRENCY, async ([contactId, mine]) => {
      // Each message counts exactly once, whichever delivery gets here first and whatever
      // crashed before: the effects and their marks are one conditional write.
      await store.contacts.applyInbound(
        contactId,
        mine.map(effectOf),
        seedOf(mine[0]!.message.customer, mine[0]!.lead),
        { known: mine.some((s) => !s.created), now: mine[0]!.receivedAt },
      );
    });

    // What the customer said about marketing (STOP, START, "please stop sending promotions"):
    // the last word by the customer's time, on every delivery (a repeat changes nothing).
    for (const s of stored) {
      if (s.message.type === 'system') continue;
      const button = s.message.type === 'button' && (await isTemplateOptOut(s.message));
      const state = button ? 'opted_out' : consentFromMessage(s.message.text, (s.row ? s.row.analysis : s.analysis)?.intent, commands());
      if (!state) continue;
      const contactId = s.row?.contactId ?? s.contactId;
      if (await store.contacts.recordConsent(contactId, 'marketing', { state, at: s.message.sentAt, source: button ? 'quick_reply' : 'whatsapp_message', wamid: s.message.wamid })) {
        logger.info('marketing consent changed', { contactId, state, wamid: s.message.wamid });
      }
    }

    await counted;

    for (const s of stored) {
      if (s.message.type === 'system') continue;
      received.push(messageReceived(s.message.wamid, s.row?.contactId ?? s.contactId, s.message.sentAt));
    }

    // A repeat whose first delivery never got its job queued (it answered 5xx) queues it now;
    // SQS deduplication and the idempotent consumer make a second copy harmless.
    return stored
      .filter((s) => s.created || s.row?.syncState === 'pending')
      .map((s) => messageSyncJob(s.message.wamid, s.row?.contactId ?? s.contactId));
  }

  /** A quick-reply tap on one of our marketing templates, on a button configured as its opt-out. */
  async function isTemplateOptOut(message: InboundMessage): Promise<boolean> {
    if (!message.replyTo || !message.text) return false;
    const replied = (await store.messages.get(message.replyTo)) as (StoredMessage & { outboundId?: string }) | undefined;
    const sent = replied?.outboundId ? await store.outbox.get(replied.outboundId) : undefined;
    if (sent?.content.type !== 'template' || sent.category !== 'marketing') return false;
    return isOptOutButton(sent.content.name, message.text, commands());
  }

  /** The message row, once; undefined when it can never be a row (kept raw instead). */
  async function storeRow(p: Prepared, mediaJobs: MediaJob[]): Promise<Stored | undefined> {
    try {
      const result = await store.messages.put({ ...toRecord(p.message, p.contactId, p.receivedAt), ...(p.analysis && { analysis: p.analysis }) });
      const row = result.created ? undefined : result.existing;
      // Its media's work, after the row (a crash between answers 5xx: Meta's retry finds the row
      // without a media outcome and records the work then); once stored, a repeat queues nothing.
      const media = p.message.media;
      if (media && (result.created || (row?.media && row.media.state === undefined))) {
        const contactId = row?.contactId ?? p.contactId;
        await store.media.queue({ wamid: p.message.wamid, contactId, phoneNumberId: p.message.account.phoneNumberId, mediaId: media.mediaId, kind: media.kind, mimeType: media.mimeType, sha256: media.sha256, filename: media.filename, sentAt: p.message.sentAt, receivedAt: p.receivedAt });
        mediaJobs.push(mediaJob(p.message.wamid, contactId));
      }
      return { ...p, created: result.created, row };
    } catch (error) {
      const reason = poisonReason(error);
      if (!reason) throw error;
      await keepRaw({ kind: 'unprocessable', reason, field: 'messages', account: p.message.account, raw: p.message.raw });
      return undefined;
    }
  }

  async function ingestStatus(s: StatusUpdate, jobs: SyncJob[]): Promise<void> {
    const at = deps.now();
    const error = s.errors[0];
    const ours = s.callbackData && OUTBOUND_ID.test(s.callbackData) ? await ingestOwnStatus(s, s.callbackData, jobs, at) : undefined;
    if (ours) {
      // Our own message: its state is on its outbox row; the contact learns when it was sent and read.
      await store.contacts.applyDeliveryStatus(ours.contactId, s.status, s.at);
      return;
    }
    const contactId = identitiesOf(s.recipient).length ? (await identities.resolve(s.recipient, at)).contactId : undefined;
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

  /**
   * A status of a message we sent (our id came back as its callback data): the outbox row moves
   * forward with its cost; a row our send function never finished recording (a crash after
   * Meta's answer) is settled here, and the message joins the conversation and the CRM log. A
   * `failed` status means for the customer what the same code means from the send call.
   */
  async function ingestOwnStatus(s: StatusUpdate, id: string, jobs: SyncJob[], at: number): Promise<OutboundRow | undefined> {
    if (!isStatusName(s.status)) return undefined;
    const error = s.errors[0];
    const pricing = s.pricing;
    const { row } = await store.outbox.applyStatus(
      id,
      {
        name: s.status,
        wamid: s.wamid,
        at: s.at,
        error: error && { code: error.code ?? 0, title: error.title ?? error.message ?? 'failed' },
        pricing,
        cost: costOf(pricing, s.recipient.phone?.e164, s.at),
      },
      at,
    );
    if (!row) return undefined;
    // Read rate and Meta's cost for the reports, by the hour the message was asked for (its one fixed time: counted once).
    await store.stats.count(ownStatusFacts({ id, status: s.status, sentAt: row.createdAt, cost: row.cost ?? costOf(pricing, s.recipient.phone?.e164, s.at) }));
    // A reply written in the CRM: the status the message reached goes back to its CRM record (SY-3).
    if (row.crmReply && row.state === s.status) {
      jobs.push(replyStatusSyncJob({ contactId: row.contactId, outboundId: id, crm: row.crmReply.kind, replyId: row.crmReply.replyId, contactCrmId: row.crmReply.contactCrmId, status: s.status, at: s.at, wamid: s.wamid, ...(error && { error: `${error.code ?? ''} ${error.title ?? error.message ?? 'failed'}`.trim().slice(0, 500) }) }));
    }
    // The send function died before putting the message on record: this status does it.
    if (s.status !== 'failed' && row.recordedAt === undefined && (await recordOutboundMessage(store, row, s.wamid, at, s.account.wabaId))) {
      jobs.push(messageSyncJob(s.wamid, row.contactId));
    }
    if (s.status === 'failed') logger.warn('outbound message failed', { id, wamid: s.wamid, code: error?.code, title: error?.title });
    // What Meta's code means for the customer (131050 opt-out, 131026 …) is the send side's to apply.
    if (s.status === 'failed' && error?.code !== undefined) {
      if (!deps.sendJobs) throw new Error(`a failed status of ${id} cannot be handed to the send function: SCRM_SEND_QUEUE_URL is not set`);
      await deps.sendJobs.enqueue([failedStatusJob(id, row.contactId)], s.wamid);
    }
    return row;
  }

  async function ingestIdentityUpdate(u: IdentityUpdate): Promise<void> {
    const at = deps.now();
    const { contactId } = await identities.resolve(u.customer, at);
    await identities.applyChange(contactId, u.change, u.customer.phone?.e164, at);
    logger.info('customer identity changed', { contactId, reason: u.change.reason });
  }

  /** The customer stopped or resumed marketing in WhatsApp itself: their consent, by their time (CP-7). */
  async function ingestPreference(p: PreferenceUpdate): Promise<void> {
    const { contactId } = await identities.resolve(p.customer, deps.now());
    if (await store.contacts.recordConsent(contactId, 'marketing', { state: p.marketing, at: p.at, source: 'whatsapp_preferences' })) {
      logger.info('marketing consent changed in WhatsApp', { contactId, state: p.marketing });
    }
  }

  async function keepRaw(u: Unprocessable): Promise<void> {
    const raw = JSON.stringify(u.raw ?? null);
    await store.rawEvents.put(sha256Hex(`${u.field}\n${raw}`), { reason: u.reason, field: u.field, phoneNumberId: u.account?.phoneNumberId, raw }, deps.now());
    logger.warn('webhook content kept raw for review', { field: u.field, reason: u.reason });
  }

  function routeAccount(phoneNumberId: string): void {
    if (Object.keys(deps.accounts).length && !deps.accounts[phoneNumberId]) {
      logger.warn('message for a phone_number_id not in WHATSAPP_ACCOUNTS; stored all the same', { phoneNumberId });
    }
  }

  return { ingest };
}

/** Why an error means the event can never be stored as such, or undefined when it may pass on a retry. */
function poisonReason(error: unknown): string | undefined {
  if (error instanceof NoIdentityError) return error.message;
  // DynamoDB refused the request itself (a key or an item over its limits): no retry can help.
  if (isValidationError(error)) return `cannot be stored: ${(error as Error).message}`;
  return undefined;
}

/** The automations' event for a stored customer message (the rules read the row itself: no text on the bus). */
export function messageReceived(wamid: string, contactId: string, at: number): MessageReceived {
  return { type: 'MessageReceived', id: `message:${wamid}`, contactId, wamid, at };
}

/** Every identity the delivery's events carry, once. */
function uniqueIdentities(events: readonly WebhookEvent[]) {
  const ids = new Map<string, IdentityKey>();
  for (const event of events) {
    const customer = event.kind === 'status' ? event.recipient : event.kind === 'unprocessable' ? undefined : event.customer;
    for (const id of customer ? identitiesOf(customer) : []) ids.set(`${id.kind}#${id.value}`, id);
  }
  return [...ids.values()];
}

function effectOf(s: Stored): InboundEffect {
  const m = s.message;
  return {
    wamid: m.wamid,
    receivedAt: s.row?.receivedAt ?? s.receivedAt,
    sentAt: m.sentAt,
    phoneNumberId: m.account.phoneNumberId,
    profileName: m.customer.profileName,
    username: m.customer.username,
    // A redelivery applies the analysis stored by the first one.
    analysis: s.row ? s.row.analysis : s.analysis,
    referral: m.referral !== undefined,
  };
}

/**
 * Events that share an identity belong to one customer and keep their delivery order: messages,
 * statuses and identity updates, linked through every identity they carry — the new ones of an
 * identity change included. An event with no identity at all is a group of its own.
 */
export function groupByCustomer(events: readonly WebhookEvent[]): WebhookEvent[][] {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let root = x;
    while (parent.get(root) !== root) root = parent.get(root)!;
    parent.set(x, root);
    return root;
  };
  const union = (a: string, b: string) => parent.set(find(a), find(b));
  const keysOf = (event: WebhookEvent, index: number): string[] => {
    const ids: string[] = [];
    const add = (kind: string, value: string | undefined) => value && ids.push(`${kind}#${value}`);
    const customer = event.kind === 'status' ? event.recipient : event.kind === 'unprocessable' ? undefined : event.customer;
    if (customer) for (const id of identitiesOf(customer)) add(id.kind, id.value);
    const change = event.kind === 'message' ? event.identityChange : event.kind === 'identity_update' ? event.change : undefined;
    if (change) {
      add('bsuid', change.newBsuid);
      add('bsuid', change.previousBsuid);
      add('phone', change.newPhone?.e164);
    }
    return ids.length ? ids : [`event#${index}`];
  };
  const eventKeys = events.map(keysOf);
  for (const ids of eventKeys) {
    for (const id of ids) if (!parent.has(id)) parent.set(id, id);
    for (const id of ids.slice(1)) union(ids[0]!, id);
  }
  const groups = new Map<string, WebhookEvent[]>();
  events.forEach((event, i) => {
    const root = find(eventKeys[i]![0]!);
    groups.set(root, [...(groups.get(root) ?? []), event]);
  });
  return [...groups.values()];
}

/** Runs `work` over `items`, at most `limit` at a time; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (next < items.length && failed === undefined) {
      const i = next++;
      try {
        results[i] = await work(items[i]!);
      } catch (error) {
        failed ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed !== undefined) throw failed;
  return results;
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
    ...(m.media && { media: { kind: m.media.kind, mediaId: m.media.mediaId, ...(m.media.mimeType && { mimeType: m.media.mimeType }), ...(m.media.filename && { filename: m.media.filename }), ...(m.media.sha256 && { sha256: m.media.sha256 }) } }),
    ...(m.replyTo && { replyTo: m.replyTo }),
    sentAt: m.sentAt,
    receivedAt,
    raw: JSON.stringify(m.raw),
  };
}
