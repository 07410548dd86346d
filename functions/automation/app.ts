/**
 * The automation function (AU-1…AU-6, AU-2b, AU-3, AG-1, ID-7, RP-13): one domain event in,
 * the rules' actions out. Reads like a table of contents: parse the event → read the customer
 * (contact, the triggering message, recent history) → decide (pure, shared/domain/automation)
 * → act (the send path of `POST /api/messages` with origin `automation`, the CRM and the courier
 * for an order's status, the geocoder, the scheduler, CRM jobs) → answer.
 *
 * Every action is keyed (decide.ts); the send path finds an earlier message by its key, the
 * store's marks make coupons, ratings and assignments happen once, and the scheduler's timers are
 * named by their key: an event delivered twice, or a rule run twice, changes nothing. An action
 * that fails throws: the event comes back from the queue and the actions already done are found
 * done.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod/mini';
import '#shared/zod';
import type { CrmAdapter } from '#shared/crm/port';
import type { CourierAdapter, ParcelStatus } from '#shared/courier/port';
import { formatParcelEta, formatParcelReply, parcelStateWords } from '#shared/courier/format';
import { eligibleAgents, roundRobin, stickyAgent } from '#shared/domain/automation/agents';
import type { Automation, Language } from '#shared/domain/automation/config';
import { LANGUAGES } from '#shared/domain/automation/config';
import { decideAutomation, followUpTask, historyNeeded, type Action, type AutomationEvent, type HistoryItem, type InboundView } from '#shared/domain/automation/decide';
import { detectLanguage } from '#shared/domain/automation/language';
import { distanceInWords, fill, renderContent, whenAnswered, type Variables } from '#shared/domain/automation/render';
import { dateInWords, relativeAgo } from '#shared/domain/automation/time';
import { contactCrmId, type Contact, type MessageAnalysis } from '#shared/domain/records';
import { nearestStore, type Store as ShopStore } from '#shared/domain/stores';
import type { Geocoder } from '#shared/geo/port';
import { completeAddress, isPostalCodeMissing } from '#shared/geo/address';
import { NO_METRICS, type MetricsSink } from '#shared/metric-names';
import { describeError } from '#shared/observability';
import { RequestError, parseSendBody } from '#shared/outbound/request';
import type { SubmitResult } from '#shared/outbound/submit';
import type { SendRequestInput } from '#shared/outbound/request';
import { contactSyncJob, taskSyncJob, type SyncJobSink } from '#shared/queue/sync-jobs';
import type { TimerScheduler } from '#shared/automation/scheduler';
import { countersOf } from '#shared/store/send-limits';
import { outboundIdFor, type OutboundRow } from '#shared/store/outbox';
import type { Store } from '#shared/store/store';
import { conversationStartedFact, couponFact, ratingFact } from '#shared/reports/facts';

const DAY_MS = 86_400_000;
/** How far back the rules read a customer's messages (the win-back rule compares two weeks). */
const HISTORY_MS = 14 * DAY_MS;
/** A conversation ends after this long without a customer message (the customer-service window). */
const CONVERSATION_IDLE_MS = DAY_MS;
/** Effect marks older than this are pruned (no event is redelivered a month later). */
const MARK_RETENTION_MS = 30 * DAY_MS;

export interface AutomationDeps {
  readonly store: Store;
  readonly automation: Automation;
  /** The send path of `POST /api/messages` (shared/outbound/submit.ts). */
  readonly submit: (idempotencyKey: string, input: SendRequestInput) => Promise<SubmitResult>;
  readonly crm?: CrmAdapter | undefined;
  readonly courier?: CourierAdapter | undefined;
  readonly geocoder?: Geocoder | undefined;
  /** The store directory with coordinates and stock (config/stores.json). */
  readonly shops: readonly ShopStore[];
  readonly scheduler: TimerScheduler;
  /** CRM jobs: a contact's new fields, a follow-up task. */
  readonly syncJobs: SyncJobSink;
  /** Carries a long scan on in a new invocation (the follow-up tick with its cursor). */
  readonly continueWith?: ((event: AutomationEvent) => Promise<void>) | undefined;
  readonly timeZone?: string | undefined;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly metrics?: MetricsSink;
  readonly now?: () => number;
}

// ---------------------------------------------------------------------------------------------
// The event on the queue: an EventBridge envelope (`detail-type`, `detail`), or a timer or tick
// as the scheduler delivers it.

const text = z.string().check(z.minLength(1));
const at = z.number();
const EventSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('MessageReceived'), id: text, contactId: text, wamid: text, at }),
  z.looseObject({ type: z.literal('SegmentChanged'), id: text, contactId: text, from: z.nullable(z.string()), to: text, at }),
  z.looseObject({
    type: z.literal('OrderUpdated'),
    id: text,
    contactId: text,
    at,
    order: z.looseObject({ orderId: text, placedAt: at, skus: z.optional(z.array(z.string())), trackingNumber: z.optional(z.string()), carrier: z.optional(z.string()) }),
  }),
  z.looseObject({ type: z.literal('ParcelUpdated'), id: text, contactId: text, trackingNumber: text, state: text, at }),
  z.looseObject({ type: z.literal('ConversationResolved'), id: text, contactId: text, conversationId: text, at }),
  z.looseObject({
    type: z.literal('TimerFired'),
    id: text,
    rule: z.enum(['offer-store-visit', 'sample-link', 'replenishment']),
    key: text,
    contactId: text,
    windowStart: at,
    windowEnd: at,
    data: z.record(z.string(), z.string()),
  }),
  z.looseObject({ type: z.literal('AutomationTick'), id: text, task: z.literal('follow-up'), at, cursor: z.optional(z.string()) }),
]);

/** The event a queue message carries, or an error naming what is wrong with it. */
export function parseAutomationEvent(body: string): AutomationEvent | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { error: 'not JSON' };
  }
  const envelope = value as { 'detail-type'?: unknown; detail?: unknown } | null;
  if (envelope && typeof envelope === 'object' && 'detail-type' in envelope && envelope.detail && typeof envelope.detail === 'object') {
    value = { type: envelope['detail-type'], ...(envelope.detail as object) };
  }
  const parsed = EventSchema.safeParse(value);
  if (!parsed.success) return { error: parsed.error.issues.map((i) => `${i.path.map(String).join('.') || 'event'}: ${i.message}`).join('; ') };
  return parsed.data as unknown as AutomationEvent;
}

export interface Outcome {
  actions: number;
  readonly sent: string[];
  readonly skipped: string[];
}

export function createAutomationApp(deps: AutomationDeps) {
  const now = deps.now ?? Date.now;
  const { store, automation, logger } = deps;
  const metrics = deps.metrics ?? NO_METRICS;
  const timeZone = deps.timeZone ?? automation.config.timeZone;
  const config = automation.config;

  /** One event: read, decide, act. Throws when an action failed (the event comes back). */
  async function handleEvent(event: AutomationEvent, options: { deadline?: number } = {}): Promise<Outcome> {
    const outcome: Outcome = { actions: 0, sent: [], skipped: [] };
    if (event.type === 'AutomationTick') return followUps(event, outcome, options.deadline ?? now() + 60_000);

    const contact = await store.contacts.current(event.contactId);
    if (!contact) {
      logger.warn('automation event for an unknown contact', { type: event.type, id: event.id });
      return outcome;
    }
    let message: InboundView | undefined;
    let history: HistoryItem[] | undefined;
    let context = contact;
    if (event.type === 'MessageReceived') {
      const read = await readMessage(event.wamid, contact);
      if (!read) return outcome;
      message = read;
      // The history only when a rule reads it (an index query per message is what DynamoDB bills most).
      history = historyNeeded(automation, message) ? await historyOf(contact.contactId, message.at) : [{ wamid: message.wamid, sentAt: message.at, receivedAt: message.receivedAt, analysis: message.analysis }];
      context = await noteMessage(contact, message);
    }
    const parcel = event.type === 'ParcelUpdated' ? parcelView(event, contact) : undefined;
    const actions = decideAutomation(event, { automation, contact: context, now: now(), history, message, parcel });
    for (const action of actions) {
      await act(action, context, outcome);
      outcome.actions++;
    }
    const marks = Object.values(contact.automationMarks ?? {});
    if (marks.some((at) => now() - at > MARK_RETENTION_MS)) await store.automation.pruneMarks(contact.contactId, contact.automationMarks, now());
    return outcome;
  }

  // -- reading --------------------------------------------------------------------------------

  async function readMessage(wamid: string, contact: Contact): Promise<InboundView | undefined> {
    const row = await store.messages.get(wamid);
    if (!row || row.direction !== 'inbound' || row.type === 'system') return undefined;
    const raw = parseRaw(row.raw);
    const location = raw?.location && typeof raw.location.latitude === 'number' && typeof raw.location.longitude === 'number'
      ? { lat: raw.location.latitude, lon: raw.location.longitude, name: raw.location.name, address: raw.location.address }
      : undefined;
    const replyId = raw?.interactive?.list_reply?.id ?? raw?.interactive?.button_reply?.id ?? raw?.button?.payload;
    // A message that does not show its language keeps the customer's (one "ok" does not flip it).
    const language = detectLanguage(row.text, automation.scripts) ?? (contact.language as Language | undefined) ?? (/\p{Script=Han}/u.test(row.text ?? '') ? config.chineseDefault : 'en');
    return { wamid, at: row.sentAt, receivedAt: row.receivedAt, type: row.type, text: row.text, analysis: row.analysis as MessageAnalysis | undefined, language, location, replyId };
  }

  async function historyOf(contactId: string, at: number): Promise<HistoryItem[]> {
    const rows = await store.messages.history(contactId, at - HISTORY_MS, ['wamid', 'direction', 'sentAt', 'receivedAt', 'type', 'analysis']);
    return rows.filter((r) => r.direction === 'inbound' && r.type !== 'system' && r.sentAt <= at).map((r) => ({ wamid: r.wamid, sentAt: r.sentAt, receivedAt: r.receivedAt, analysis: r.analysis }));
  }

  /** The message's language and conversation on the contact (a new conversation is counted). */
  async function noteMessage(contact: Contact, m: InboundView): Promise<Contact> {
    if (detectLanguage(m.text, automation.scripts)) await store.automation.setLanguage(contact.contactId, m.language, m.at);
    // A tapped rating answers the conversation just resolved: it does not start a new one.
    if (m.replyId?.startsWith('rating:')) return { ...contact, language: m.language };
    const current = contact.conversation;
    const { conversation, started } = await store.automation.openConversation(contact.contactId, m.at, current, CONVERSATION_IDLE_MS);
    if (started && current?.id !== conversation.id) metrics.add('conversationsStarted');
    // Counted once by its id, a repeat of the message that started it included.
    if (started) await store.stats.count([conversationStartedFact(conversation.id, conversation.startedAt)]);
    return { ...contact, language: m.language, conversation };
  }

  function parcelView(event: Extract<AutomationEvent, { type: 'ParcelUpdated' }>, contact: Contact) {
    const language = (contact.language as Language | undefined) ?? 'en';
    const eta = event.eta ? etaWords(event.eta, language) : undefined;
    return { trackingNumber: event.trackingNumber, state: event.state, stateText: parcelStateWords(event.state as ParcelStatus['state'], language), eta, trackingUrl: event.trackingUrl };
  }

  function etaWords(eta: { from: number; to: number; precision: 'day' | 'time' }, language: Language): string {
    return formatParcelEta(eta, language, timeZone) ?? dateInWords(eta.from, language, timeZone);
  }

  // -- acting ---------------------------------------------------------------------------------

  async function act(action: Action, contact: Contact, outcome: Outcome): Promise<void> {
    switch (action.kind) {
      case 'send': {
        // A message made before (a redelivered event): nothing is rendered, looked up or sent again.
        let state = (await store.outbox.get(outboundIdFor(action.key)))?.state;
        if (!state) {
          const vars = await variables(contact, action.language, {
            ...action.vars,
            ...(action.coupon && { coupon_code: action.coupon.code, coupon_value: action.coupon.value, coupon_expires: dateInWords(action.coupon.expiresAt, action.language, timeZone) }),
          });
          state = await send(action, contact, renderContent(action.content, vars), outcome);
        }
        // The coupon is the customer's once its message is on its way (not when the policy refused it).
        if (action.coupon && state && state !== 'denied') {
          await store.automation.grantCoupon(contact.contactId, action.key, { code: action.coupon.code, rule: action.rule, value: action.coupon.value, issuedAt: action.coupon.issuedAt });
          await store.stats.count([couponFact(action.key, action.rule, action.coupon.issuedAt)]);
          await deps.syncJobs.enqueue([contactSyncJob(contact.contactId, `coupon-${action.coupon.code}`)]);
        }
        return;
      }
      case 'order-status':
        if (await store.outbox.get(outboundIdFor(action.key))) return;
        await send(action, contact, { text: await orderStatusText(contact, action.language) }, outcome);
        return;
      case 'nearest-store':
        if (await store.outbox.get(outboundIdFor(action.key))) return;
        await send(action, contact, { text: nearestStoreText(contact, action.language, action.position, action.sku) }, outcome);
        return;
      case 'handover':
        await handover(action, contact, outcome);
        return;
      case 'schedule': {
        const result = await deps.scheduler.schedule(action.key, action.fireAt, action.timer);
        logger.info('automation timer', { rule: action.rule, key: action.key, fireAt: new Date(action.fireAt).toISOString(), result });
        return;
      }
      case 'task':
        await deps.syncJobs.enqueue([taskSyncJob({ taskId: action.key, contactId: contact.contactId, subject: action.subject, body: action.body, dueAt: action.dueAt })]);
        return;
      case 'rating': {
        const rated = await store.automation.recordRating(contact.contactId, action.conversationId, action.score, action.at);
        if (rated) metrics.add('satisfactionRating', action.score);
        // RP-13 counts the conversation's first rating, with its own time (the mark lives in that
        // hour): this one, or the one on record (a redelivery, or a second tap that was refused).
        const first = rated ? { score: action.score, at: action.at } : contact.satisfaction?.conversationId === action.conversationId ? contact.satisfaction : undefined;
        if (first) await store.stats.count([ratingFact(action.conversationId, first.score, first.at)]);
        // Queued on every delivery (the job id dedupes): a rating whose job was lost reaches the CRM on the retry.
        await deps.syncJobs.enqueue([contactSyncJob(contact.contactId, `rating-${action.conversationId}`)]);
        return;
      }
      case 'locate':
        await locate(action, contact);
        return;
    }
  }

  /** The send path of `POST /api/messages`, origin automation, the rule recorded. */
  async function send(action: Action, contact: Contact, body: object, outcome: Outcome): Promise<OutboundRow['state'] | undefined> {
    const template = 'template' in body ? (body as { template: { name: string; parameters: Record<string, string> } }).template : undefined;
    const category = action.kind === 'send' ? action.category : 'service';
    const request = {
      to: { contactId: contact.contactId },
      category: template ? (category === 'service' ? 'utility' : category) : 'service',
      origin: 'automation',
      rule: action.rule,
      ...(template ? { template: { name: template.name, language: config.templateLanguages[action.language], parameters: template.parameters } } : body),
      // An offer inside the window is free-form but promotes: marketing to the policy (CP-4, CP-7).
      ...(!template && category === 'marketing' && { promotional: true }),
      ...(action.kind === 'send' && action.eventKey && { eventKey: action.eventKey }),
      ...('replyTo' in action && action.replyTo && { replyTo: action.replyTo }),
    };
    let input: SendRequestInput;
    try {
      input = parseSendBody(request);
    } catch (error) {
      if (!(error instanceof RequestError)) throw error;
      // A rule whose rendered message is not sendable (a text over 4,096 characters …): a config bug.
      logger.error('automated message is not valid', { rule: action.rule, key: action.key, error: error.message });
      outcome.skipped.push(action.key);
      metrics.add('automationSkipped');
      return undefined;
    }
    const result = await deps.submit(action.key, input);
    if (result.status === 202) {
      logger.info('automated message', { rule: action.rule, key: action.key, id: result.body.id, state: result.body.state, ...(result.body.reason && { reason: result.body.reason }) });
      if (result.body.state === 'denied') {
        outcome.skipped.push(action.key);
      } else outcome.sent.push(action.key);
      metrics.add('automatedMessages', 1, { rule: action.rule });
      return result.body.state;
    }
    if (result.status === 400 || result.status === 409) {
      // A template that is not on Meta's list, parameters that do not fit: nothing to retry.
      logger.error('automated message refused', { rule: action.rule, key: action.key, status: result.status, error: result.error });
      outcome.skipped.push(action.key);
      metrics.add('automationSkipped');
      return undefined;
    }
    throw new Error(`automated message ${action.key}: ${result.status} ${result.error}`);
  }

  /** What personalised messages say (AU-3): first name, last purchase in words, product, store. */
  async function variables(contact: Contact, language: Language, extra: Variables): Promise<Variables> {
    const firstName = await firstNameOf(contact);
    const order = contact.lastOrder;
    const sku = extra['sku'] ?? order?.skus?.[0];
    const product = sku ? automation.catalogue.get(sku)?.name : undefined;
    const purchasedAt = extra['last_purchase_at'] ? Number(extra['last_purchase_at']) : order?.placedAt;
    const position = contact.address?.lat !== undefined && contact.address.lon !== undefined ? { lat: contact.address.lat, lon: contact.address.lon } : undefined;
    const shop = position ? nearestStore(deps.shops, position, sku ? { sku } : {})?.store : undefined;
    return {
      first_name: firstName ?? '',
      product_name: product ?? '',
      last_purchase: purchasedAt !== undefined ? relativeAgo(purchasedAt, now(), language) : '',
      store_name: (shop ?? deps.shops[0])?.name[language] ?? '',
      ...extra,
    };
  }

  /** The CRM's first name (read once and kept on the contact), else the first word of the WhatsApp profile name. */
  async function firstNameOf(contact: Contact): Promise<string | undefined> {
    if (contact.firstName) return contact.firstName;
    const crmId = deps.crm && contactCrmId(contact, deps.crm.kind);
    if (deps.crm && crmId) {
      try {
        const profile = await deps.crm.readProfile(crmId);
        if (profile.firstName) {
          await store.automation.setFirstName(contact.contactId, profile.firstName);
          return profile.firstName;
        }
      } catch (error) {
        logger.warn('CRM profile not read; the WhatsApp name is used', { contactId: contact.contactId, error: describeError(error) });
      }
    }
    return contact.profileName?.trim().split(/\s+/u)[0];
  }

  /** AU-2: the last order from the CRM → its parcel at the courier → status, ETA window, link. */
  async function orderStatusText(contact: Contact, language: Language): Promise<string> {
    const rule = config.rules['order-status'];
    const started = now();
    // Bounded: a CRM that does not answer in 3 s fails the event, which comes back (the key keeps it one reply).
    const crmId = deps.crm && contactCrmId(contact, deps.crm.kind);
    const order = deps.crm && crmId ? (await deps.crm.findLastOrder(crmId, { deadline: now() + 3_000 })).order : undefined;
    logger.info('last order looked up in the CRM', { ms: now() - started, found: order !== undefined });
    const known = order ?? (contact.lastOrder && { crmId: contact.lastOrder.orderId, placedAt: contact.lastOrder.placedAt, trackingNumber: contact.lastOrder.trackingNumber, carrier: contact.lastOrder.carrier, name: contact.lastOrder.orderId, trackingUrl: undefined });
    if (!known) return rule.notFound[language];
    if (!known.trackingNumber) return fill(rule.noTracking[language], { order_name: known.name ?? known.crmId });
    await store.automation.watchParcel({ trackingNumber: known.trackingNumber, contactId: contact.contactId, orderId: known.crmId, ...(known.carrier && { carrier: known.carrier }), watchedAt: now() });
    let parcel: ParcelStatus | undefined;
    try {
      parcel = await deps.courier?.track(known.trackingNumber, known.carrier, { deadline: now() + 3_000 });
    } catch (error) {
      logger.warn('courier status not read', { error: describeError(error) });
    }
    if (!parcel) return fill(rule.unavailable[language], { tracking_number: known.trackingNumber, tracking_url: known.trackingUrl ?? '' });
    return formatParcelReply({ ...parcel, trackingUrl: parcel.trackingUrl ?? known.trackingUrl }, language, timeZone, { now: now() });
  }

  /** AU-3/AU-4: the nearest store (with the product in stock, when one was named) to a shared location or the known address. */
  function nearestStoreText(contact: Contact, language: Language, position: { lat: number; lon: number } | undefined, sku: string | undefined): string {
    const topic = config.rules['quick-reply'].topics['nearest_store'];
    const where = position ?? (contact.address?.lat !== undefined && contact.address.lon !== undefined ? { lat: contact.address.lat, lon: contact.address.lon } : undefined);
    const found = where ? (sku && nearestStore(deps.shops, where, { sku })) || nearestStore(deps.shops, where) : undefined;
    if (!found || !topic) {
      const list = deps.shops.map((s) => s.name[language]).join(', ');
      return fill(topic?.askLocation?.[language] ?? topic?.answer[language] ?? list, { store_list: list });
    }
    return fill(topic.answer[language], { store_name: found.store.name[language], store_address: found.store.address, distance: distanceInWords(found.meters), store_hours: found.store.openingHours ?? '' });
  }

  /**
   * AU-6 / AG-1: an agent for the customer, one message saying who and when, automation paused
   * 12 h. Each step is keyed by the hand-over: a redelivery (or two at once) names the agent the
   * first one assigned, counts once, sends nothing new, and does not pause again a conversation
   * resolved since.
   */
  async function handover(action: Extract<Action, { kind: 'handover' }>, contact: Contact, outcome: Outcome): Promise<void> {
    const rule = config.rules.handover;
    const { language, key } = action;
    const id = contact.contactId;
    const byId = (agentId: string | undefined) => automation.roster.agents.find((a) => a.id === agentId);
    let agent = contact.automationMarks?.[`assign:${key}`] !== undefined ? byId(contact.agentId) : undefined;
    if (!agent) {
      const chosen = stickyAgent(automation.roster, language, contact.agentId) ?? roundRobin(automation.roster, language, await store.automation.nextTurn(language));
      if (chosen && (await store.automation.assign(id, chosen.id, action.at, key))) {
        agent = chosen;
        logger.info('conversation handed over', { contactId: id, agentId: chosen.id, eligible: eligibleAgents(automation.roster, language).length });
      } else if (chosen) {
        agent = byId((await store.contacts.get(id))?.agentId); // another delivery assigned first
      } else {
        logger.warn('no agent available for a hand-over', { contactId: id, language });
      }
    }
    // Counted once per hand-over, an agent found or not (no agent is the broken flow to see).
    if (await store.automation.once(id, `handover:${key}`, action.at)) metrics.add('handoverRequests');
    await store.automation.markHandover(id, agent?.id, action.at);
    if (agent) await deps.syncJobs.enqueue([contactSyncJob(id, `assign-${key}`)]);
    if (!(await store.outbox.get(outboundIdFor(key)))) {
      const when = whenAnswered(action.at, config.supportHours, timeZone, rule, language);
      const text = fill(rule.text[language], { agent_name: agent?.name ?? rule.noAgent[language], when });
      // The message first: once paused, the gate denies automation for 12 h (AU-6).
      await send(action, contact, { text }, outcome);
    }
    if (await store.automation.done(id, `pause:${key}`)) return;
    await store.limits.updateCounters(
      id,
      (c) => ((c.takeoverUntil ?? 0) >= action.pauseUntil ? c : { ...c, takeoverUntil: action.pauseUntil }),
      async (contactId) => countersOf((await store.contacts.get(contactId)) as Record<string, unknown> | undefined),
    );
    await store.automation.once(id, `pause:${key}`, action.at);
  }

  /** ID-7: a shared location gets its address; an address without a postal code gets it completed. */
  async function locate(action: Extract<Action, { kind: 'locate' }>, contact: Contact): Promise<void> {
    if (!deps.geocoder || !action.position) return;
    let address;
    try {
      address = await deps.geocoder.reverse(action.position, { language: action.language });
    } catch (error) {
      logger.warn('address not looked up', { error: describeError(error) });
      return;
    }
    if (!address && !action.addressText) return;
    const given = action.addressText;
    let label = address?.label ?? given!;
    let postalCodeCompleted = false;
    let postalCode = address?.postalCode;
    if (given && address) {
      const completed = completeAddress(given, address);
      label = completed.address;
      postalCodeCompleted = completed.postalCodeCompleted;
    } else if (given && isPostalCodeMissing(given, address?.country)) {
      postalCode = undefined;
    }
    const stored = await store.automation.setAddress(contact.contactId, {
      label,
      ...(address?.street && { street: address.street }),
      ...(address?.locality && { locality: address.locality }),
      ...(address?.region && { region: address.region }),
      ...(postalCode && { postalCode }),
      ...(address?.country && { country: address.country }),
      lat: action.position.lat,
      lon: action.position.lon,
      source: 'location',
      ...(postalCodeCompleted && { postalCodeCompleted }),
      at: action.at,
    });
    if (stored && postalCodeCompleted) {
      metrics.add('addressesCompleted');
      logger.info('address completed with its postal code', { contactId: contact.contactId, country: address?.country });
    }
    // On every delivery (the job id dedupes): an address whose job was lost reaches the CRM on the retry.
    await deps.syncJobs.enqueue([contactSyncJob(contact.contactId, `address-${action.key}`)]);
  }

  /** AU-5: the weekly follow-up task for every potential customer, the scan carried on when time runs out. */
  async function followUps(tick: Extract<AutomationEvent, { type: 'AutomationTick' }>, outcome: Outcome, deadline: number): Promise<Outcome> {
    const segment = config.rules['follow-up'].segment;
    let start = tick.cursor ? (JSON.parse(Buffer.from(tick.cursor, 'base64url').toString('utf8')) as Record<string, unknown>) : undefined;
    for await (const page of store.automation.contactsInSegment(segment, start)) {
      const jobs = page.items.flatMap((item) => {
        const contact = item as unknown as Contact;
        const task = followUpTask(automation, contact, tick.at);
        return task?.kind === 'task' ? [taskSyncJob({ taskId: task.key, contactId: contact.contactId, subject: task.subject, body: task.body, dueAt: task.dueAt })] : [];
      });
      for (let i = 0; i < jobs.length; i += 10) await deps.syncJobs.enqueue(jobs.slice(i, i + 10));
      outcome.actions += jobs.length;
      start = page.next;
      if (start && now() > deadline - 3_000 && deps.continueWith) {
        await deps.continueWith({ ...tick, cursor: Buffer.from(JSON.stringify(start)).toString('base64url') });
        logger.info('follow-up scan carried on in a new invocation', { tasks: outcome.actions });
        return outcome;
      }
    }
    logger.info('follow-up tasks queued', { tasks: outcome.actions, week: tick.id });
    return outcome;
  }

  // -- the queue ------------------------------------------------------------------------------

  async function record(record: SQSRecord, context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<void> {
    const event = parseAutomationEvent(record.body);
    if ('error' in event) {
      // Not an event this version understands: it fails, and after its receives the DLQ keeps it for a person.
      logger.error('automation queue message is not an event', { messageId: record.messageId, error: event.error });
      metrics.add('automationSkipped');
      throw new Error(`not an automation event: ${event.error}`);
    }
    try {
      await handleEvent(event, { deadline: now() + context.getRemainingTimeInMillis() });
    } catch (error) {
      logger.warn('automation event failed; it comes back', { type: event.type, id: event.id, error: describeError(error) });
      throw error;
    }
  }

  const processor = new BatchProcessor(EventType.SQS);
  async function handle(event: SQSEvent, context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SQSBatchResponse> {
    return processPartialResponse(event, (r: SQSRecord) => record(r, context), processor, { context: context as Context });
  }

  /** A scheduled task (`{task: 'follow-up'}` from EventBridge Scheduler). */
  async function task(name: string, context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<Outcome> {
    if (name !== 'follow-up') throw new Error(`unknown automation task "${name}"`);
    const at = now();
    return handleEvent({ type: 'AutomationTick', id: `tick:follow-up:${new Date(at).toISOString().slice(0, 10)}`, task: 'follow-up', at }, { deadline: at + context.getRemainingTimeInMillis() });
  }

  return { handleEvent, handle, task };
}

interface RawMessage {
  location?: { latitude?: number; longitude?: number; name?: string; address?: string };
  interactive?: { list_reply?: { id?: string }; button_reply?: { id?: string } };
  button?: { payload?: string };
}

function parseRaw(raw: string | undefined): RawMessage | undefined {
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as RawMessage;
  } catch {
    return undefined;
  }
}

export { LANGUAGES };
