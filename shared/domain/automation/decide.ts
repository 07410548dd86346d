/**
 * The automation decision, pure: an event, the customer, their recent history and `now` → the
 * actions to take, each with its idempotency key. The key names the rule and its trigger
 * (`offer-high-intent:<contactId>:<week>`), so an event delivered twice, a rule evaluated twice
 * or a timer firing twice yields the same keys, and the send path finds the first message by it
 * (invariant 2). Nothing here reads a clock, the table or the network (invariant 4); what needs
 * the CRM or the courier (the order status, the nearest store, a name from the CRM) is an action
 * the automation function completes.
 *
 * Reply rules answer a customer's message, at most one per message, first match wins:
 * satisfaction (a rating tapped) → handover → order-status → quick-reply. Offers and time-window
 * rules are independent of them.
 */
import { createHash } from 'node:crypto';
import type { SegmentChanged } from '../intelligence/segments.ts';
import { normaliseText } from '../intelligence/normalise.ts';
import { serviceWindowOpen } from '../policy.ts';
import type { Contact, ContactOrder, MessageAnalysis } from '../records.ts';
import type { Automation, CouponRule, Language, RuleId, TemplateRef, Texts } from './config.ts';
import { isoWeek } from './time.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** AU-6: automation stays paused this long after a hand-over (as after an agent's message). */
export const HANDOVER_PAUSE_MS = 12 * HOUR_MS;

// ---------------------------------------------------------------------------------------------
// Events the automation reacts to (the EventBridge bus; timers from the scheduler).

export interface MessageReceived {
  readonly type: 'MessageReceived';
  /** `message:<wamid>` */
  readonly id: string;
  readonly contactId: string;
  readonly wamid: string;
  /** The customer's time of the message (ms). */
  readonly at: number;
}

export interface OrderUpdated {
  readonly type: 'OrderUpdated';
  readonly id: string;
  readonly contactId: string;
  readonly order: ContactOrder;
  readonly at: number;
}

export interface ParcelUpdated {
  readonly type: 'ParcelUpdated';
  /** The courier's event id (a repeated webhook has the same). */
  readonly id: string;
  readonly contactId: string;
  readonly trackingNumber: string;
  readonly state: string;
  readonly at: number;
  readonly eta?: { readonly from: number; readonly to: number; readonly precision: 'day' | 'time' } | undefined;
  readonly trackingUrl?: string | undefined;
}

export interface ConversationResolved {
  readonly type: 'ConversationResolved';
  readonly id: string;
  readonly contactId: string;
  readonly conversationId: string;
  readonly agentId?: string | undefined;
  readonly at: number;
}

/** A time-window rule's timer: the condition is checked again over [windowStart, windowEnd). */
export interface TimerFired {
  readonly type: 'TimerFired';
  readonly id: string;
  readonly rule: 'offer-store-visit' | 'sample-link' | 'replenishment';
  readonly key: string;
  readonly contactId: string;
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly data: Readonly<Record<string, string>>;
}

export interface AutomationTick {
  readonly type: 'AutomationTick';
  readonly id: string;
  readonly task: 'follow-up';
  readonly at: number;
  /** Where a long scan carries on (an opaque cursor). */
  readonly cursor?: string | undefined;
}

export type AutomationEvent = MessageReceived | SegmentChanged | OrderUpdated | ParcelUpdated | ConversationResolved | TimerFired | AutomationTick;

// ---------------------------------------------------------------------------------------------
// What a decision reads.

/** A customer's message as the rules read it (from its stored row). */
export interface InboundView {
  readonly wamid: string;
  readonly at: number;
  readonly receivedAt?: number | undefined;
  readonly type: string;
  readonly text?: string | undefined;
  readonly analysis?: MessageAnalysis | undefined;
  readonly language: Language;
  readonly location?: { readonly lat: number; readonly lon: number; readonly name?: string | undefined; readonly address?: string | undefined } | undefined;
  /** The id of a tapped reply button or list row. */
  readonly replyId?: string | undefined;
}

/** A customer's earlier message (oldest first), for rules over a history. */
export interface HistoryItem {
  readonly wamid: string;
  readonly sentAt: number;
  /** When we stored it: orders messages of the same second (Meta's times are whole seconds). */
  readonly receivedAt?: number | undefined;
  readonly analysis?: MessageAnalysis | undefined;
}

export interface DecisionInput {
  readonly automation: Automation;
  readonly contact: Contact;
  readonly now: number;
  /** The customer's messages of the last 14 days, oldest first, the triggering one included. */
  readonly history?: readonly HistoryItem[];
  /** For MessageReceived: the message. */
  readonly message?: InboundView | undefined;
  /** For ParcelUpdated: what the customer is told. */
  readonly parcel?: { readonly trackingNumber: string; readonly state: string; readonly stateText: string; readonly eta?: string | undefined; readonly trackingUrl?: string | undefined } | undefined;
}

// ---------------------------------------------------------------------------------------------
// Actions.

export interface CouponGrant {
  readonly code: string;
  readonly value: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
}

/** Content with `{variable}` placeholders the automation fills in (render.ts). */
export type AutomatedContent =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'template'; readonly name: string; readonly parameters: Readonly<Record<string, string>> }
  | { readonly type: 'list'; readonly body: string; readonly button: string; readonly rows: readonly { readonly id: string; readonly title: string }[] };

interface Keyed {
  readonly rule: RuleId;
  /** The idempotency key of the action's effect. */
  readonly key: string;
  readonly language: Language;
}

export type Action =
  | (Keyed & {
      readonly kind: 'send';
      readonly content: AutomatedContent;
      readonly category: 'service' | 'utility' | 'marketing';
      readonly replyTo?: string | undefined;
      readonly eventKey?: string | undefined;
      readonly coupon?: CouponGrant | undefined;
      /** Variables known at decision time (the parcel's status …). */
      readonly vars?: Readonly<Record<string, string>> | undefined;
    })
  | (Keyed & { readonly kind: 'order-status'; readonly replyTo: string })
  | (Keyed & { readonly kind: 'nearest-store'; readonly replyTo: string; readonly position?: { lat: number; lon: number } | undefined; readonly sku?: string | undefined })
  | (Keyed & { readonly kind: 'handover'; readonly replyTo: string; readonly at: number; readonly pauseUntil: number })
  | (Keyed & { readonly kind: 'schedule'; readonly timer: TimerFired; readonly fireAt: number })
  | (Keyed & { readonly kind: 'task'; readonly subject: string; readonly body: string; readonly dueAt: number })
  | (Keyed & { readonly kind: 'rating'; readonly score: number; readonly conversationId: string; readonly at: number; readonly replyTo: string })
  | (Keyed & { readonly kind: 'locate'; readonly position?: { lat: number; lon: number } | undefined; readonly addressText?: string | undefined; readonly at: number });

// ---------------------------------------------------------------------------------------------

/** The language of non-message events: the one the customer last wrote in. */
const languageOf = (contact: Contact): Language => (contact.language as Language | undefined) ?? 'en';

/** A unique, stable code for one grant: the prefix and 8 characters of the key's hash (no 0/O/1/I). */
export function couponCode(prefix: string, key: string): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const digest = createHash('sha256').update(key).digest();
  let code = '';
  for (let i = 0; i < 8; i++) code += alphabet[digest[i]! % alphabet.length];
  return `${prefix}-${code}`;
}

function grant(rule: CouponRule, key: string, at: number): CouponGrant {
  return { code: couponCode(rule.prefix, key), value: rule.value, issuedAt: at, expiresAt: at + rule.validDays * DAY_MS };
}

/** An offer: free-form inside the customer's window, the approved template outside it. */
function offer(
  input: DecisionInput,
  rule: RuleId,
  key: string,
  texts: Texts | undefined,
  template: TemplateRef,
  extra: { coupon?: CouponGrant; replyTo?: string; vars?: Record<string, string> } = {},
): Action {
  const language = input.message?.language ?? languageOf(input.contact);
  const open = serviceWindowOpen({ lastInboundAt: input.contact.lastInboundAt, hasPhone: input.contact.phone !== undefined }, input.now);
  const content: AutomatedContent = open && texts ? { type: 'text', text: texts[language] } : { type: 'template', name: template.name, parameters: template.parameters };
  return { kind: 'send', rule, key, language, content, category: 'marketing', ...extra };
}

const has = (analysis: MessageAnalysis | undefined, hotWords: readonly string[]) => hotWords.some((w) => (analysis?.hotWords[w] ?? 0) > 0);

/** The reply rule a customer's message triggers, if any. */
function replyTo(input: DecisionInput, m: InboundView): Action[] {
  const { automation } = input;
  const rules = automation.config.rules;
  const base = { language: m.language, replyTo: m.wamid };

  const rating = /^rating:(.+):([1-5])$/u.exec(m.replyId ?? '');
  if (rating && rules.satisfaction.enabled) {
    return [
      { kind: 'rating', rule: 'satisfaction', key: `satisfaction-answer:${rating[1]}`, score: Number(rating[2]), conversationId: rating[1]!, at: m.at, ...base },
      { kind: 'send', rule: 'satisfaction', key: `satisfaction-thanks:${rating[1]}`, content: { type: 'text', text: rules.satisfaction.thanks[m.language] }, category: 'service', ...base },
    ];
  }
  const intent = m.analysis?.intent;
  if (intent === 'opt_out') return [];
  if (intent === 'human_request' && rules.handover.enabled) {
    return [{ kind: 'handover', rule: 'handover', key: `handover:${m.wamid}`, at: m.at, pauseUntil: m.at + HANDOVER_PAUSE_MS, ...base }];
  }
  if (intent === 'order_status' && rules['order-status'].enabled) {
    return [{ kind: 'order-status', rule: 'order-status', key: `order-status:${m.wamid}`, ...base }];
  }
  if (!rules['quick-reply'].enabled) return [];
  const topic = quickReplyTopic(automation, m);
  if (!topic) return [];
  if (topic === 'nearest_store' || (rules['quick-reply'].topics[topic]?.when.location && m.location)) {
    return [{ kind: 'nearest-store', rule: 'quick-reply', key: `quick-reply:${m.wamid}`, position: m.location && { lat: m.location.lat, lon: m.location.lon }, sku: m.analysis?.sku ?? undefined, ...base }];
  }
  return [{ kind: 'send', rule: 'quick-reply', key: `quick-reply:${m.wamid}`, content: { type: 'text', text: rules['quick-reply'].topics[topic]!.answer[m.language] }, category: 'service', vars: { topic }, ...base }];
}

/** The first quick-reply topic (in config order) the message matches. */
export function quickReplyTopic(automation: Automation, m: Pick<InboundView, 'text' | 'analysis' | 'location'>): string | undefined {
  const topics = automation.config.rules['quick-reply'].topics;
  const hits = m.text ? new Set(automation.topics.scan(normaliseText(m.text, automation.folding)).map((h) => h.key)) : new Set<string>();
  for (const [name, t] of Object.entries(topics)) {
    if (hits.has(name)) return name;
    const combo = t.when.tagsWithHotWords;
    if (combo && combo.tags.every((tag) => m.analysis?.tags.includes(tag)) && has(m.analysis, combo.hotWords)) return name;
    if (t.when.location && m.location) return name;
  }
  return undefined;
}

/** Offers and timers a customer's message starts (AU-4, AU-5), besides any reply. */
function offersFor(input: DecisionInput, m: InboundView): Action[] {
  const { automation, contact } = input;
  const rules = automation.config.rules;
  const tz = automation.config.timeZone;
  const settle = automation.config.settleSeconds * 1000;
  const history = input.history ?? [];
  const actions: Action[] = [];
  const week = isoWeek(m.at, tz);
  const intent = m.analysis?.intent;
  if (intent === 'opt_out' || intent === 'human_request') return actions;

  // "Too expensive" in two consecutive messages → the instalment plan (once a week).
  const instalments = rules['offer-instalments'];
  if (instalments.enabled && has(m.analysis, instalments.hotWords)) {
    const before = (h: HistoryItem) => h.wamid !== m.wamid && (h.sentAt < m.at || (h.sentAt === m.at && (h.receivedAt ?? 0) < (m.receivedAt ?? Infinity)));
    const earlier = history.filter(before).sort((a, b) => a.sentAt - b.sentAt || (a.receivedAt ?? 0) - (b.receivedAt ?? 0));
    const previous = earlier[earlier.length - 1];
    if (previous && has(previous.analysis, instalments.hotWords)) {
      actions.push({ kind: 'send', rule: 'offer-instalments', key: `offer-instalments:${contact.contactId}:${week}`, language: m.language, content: { type: 'text', text: instalments.text[m.language] }, category: 'service', replyTo: m.wamid });
    }
  }

  // Churn risk (RP-8): from ≥ 3 interactions a week to ≤ 1, and the last sentiment below 0.3 → win-back.
  const winBack = rules['offer-win-back'];
  if (winBack.enabled && m.analysis && m.analysis.sentiment < winBack.sentimentBelow) {
    const thisWeek = history.filter((h) => h.sentAt > m.at - 7 * DAY_MS && h.sentAt <= m.at).length;
    const weekBefore = history.filter((h) => h.sentAt > m.at - 14 * DAY_MS && h.sentAt <= m.at - 7 * DAY_MS).length;
    if (thisWeek <= winBack.toPerWeek && weekBefore >= winBack.fromPerWeek) {
      const key = `offer-win-back:${contact.contactId}:${week}`;
      actions.push(offer(input, 'offer-win-back', key, winBack.text, winBack.template, { coupon: grant(winBack.coupon, key, m.at), replyTo: m.wamid }));
    }
  }

  // A store question, then no visit within 7 days → the store coupon (checked when the 7 days are over).
  const storeVisit = rules['offer-store-visit'];
  if (storeVisit.enabled && m.analysis?.tags.includes('store_inquiry')) {
    // One timer per question (a second question of the week is checked too); one coupon a week (the send's key).
    const key = `offer-store-visit:${contact.contactId}:${m.wamid}`;
    const windowEnd = m.at + storeVisit.afterDays * DAY_MS;
    actions.push(timer('offer-store-visit', key, contact, m.at, windowEnd, settle, { wamid: m.wamid }, m.language));
  }

  // Asked about a product, then no order within 48 h → the sample link.
  const sample = rules['sample-link'];
  if (sample.enabled && intent && sample.intents.includes(intent)) {
    const key = `sample-link:${contact.contactId}:${m.wamid}`;
    const windowEnd = m.at + sample.afterHours * HOUR_MS;
    actions.push(timer('sample-link', key, contact, m.at, windowEnd, settle, { wamid: m.wamid, ...(m.analysis?.sku && { sku: m.analysis.sku }) }, m.language));
  }
  return actions;
}

function timer(rule: TimerFired['rule'], key: string, contact: Contact, windowStart: number, windowEnd: number, settleMs: number, data: Record<string, string>, language: Language): Action {
  return {
    kind: 'schedule',
    rule,
    key: `timer:${key}`,
    language,
    fireAt: windowEnd + settleMs,
    timer: { type: 'TimerFired', id: `timer:${key}`, rule, key, contactId: contact.contactId, windowStart, windowEnd, data },
  };
}

const inWindow = (times: readonly number[] | undefined, start: number, end: number) => (times ?? []).some((t) => t >= start && t < end);

/** A timer's condition, checked again at fire time over its exact window. */
function timerFired(input: DecisionInput, t: TimerFired): Action[] {
  const { automation, contact } = input;
  const rules = automation.config.rules;
  if (t.rule === 'offer-store-visit') {
    const rule = rules['offer-store-visit'];
    if (!rule.enabled) return [];
    const visits = [...(contact.storeVisitTimes ?? []), ...(contact.lastStoreVisitAt !== undefined ? [contact.lastStoreVisitAt] : [])];
    if (inWindow(visits, t.windowStart, t.windowEnd)) return [];
    const key = `offer-store-visit:${contact.contactId}:${isoWeek(t.windowStart, automation.config.timeZone)}`;
    return [offer(input, 'offer-store-visit', key, undefined, rule.template, { coupon: grant(rule.coupon, key, t.windowEnd) })];
  }
  if (t.rule === 'sample-link') {
    const rule = rules['sample-link'];
    if (!rule.enabled || inWindow(contact.orderTimes, t.windowStart, t.windowEnd)) return [];
    const sku = t.data['sku'] ?? '';
    const key = `sample-link:${contact.contactId}:${isoWeek(t.windowStart, automation.config.timeZone)}`;
    return [offer(input, 'sample-link', key, undefined, rule.template, { vars: { sku, sample_link: rule.link.replace('{sku}', encodeURIComponent(sku)) } })];
  }
  // Replenishment: no newer order of the SKU since the one the timer was set for.
  const rule = rules.replenishment;
  const sku = t.data['sku'] ?? '';
  const last = contact.lastOrder;
  if (!rule.enabled) return [];
  // Bought again since (any recent order of the SKU after the one this timer is for).
  const again = [...(contact.recentOrders ?? []), ...(last ? [{ orderId: last.orderId, placedAt: last.placedAt, skus: last.skus ?? [] }] : [])];
  if (again.some((o) => o.orderId !== t.data['orderId'] && o.placedAt > t.windowStart && o.skus.includes(sku))) return [];
  return [offer(input, 'replenishment', t.key, undefined, rule.template, { vars: { sku, last_purchase_at: String(t.windowStart) } })];
}

/**
 * Whether the rules need the customer's recent messages to decide on this one: only for "too
 * expensive" twice (the previous message) and the win-back (two weeks of counts). Most messages
 * are decided without reading the history.
 */
export function historyNeeded(automation: Automation, m: Pick<InboundView, 'analysis'>): boolean {
  const rules = automation.config.rules;
  if (rules['offer-instalments'].enabled && has(m.analysis, rules['offer-instalments'].hotWords)) return true;
  return rules['offer-win-back'].enabled && m.analysis !== undefined && m.analysis.sentiment < rules['offer-win-back'].sentimentBelow;
}

/** The rules' answer to one event. */
export function decideAutomation(event: AutomationEvent, input: DecisionInput): Action[] {
  const { automation, contact } = input;
  const rules = automation.config.rules;
  const tz = automation.config.timeZone;
  switch (event.type) {
    case 'MessageReceived': {
      const m = input.message;
      if (!m) return [];
      const actions: Action[] = [];
      if (m.type === 'location' && m.location) actions.push({ kind: 'locate', rule: 'quick-reply', key: `locate:${m.wamid}`, language: m.language, position: { lat: m.location.lat, lon: m.location.lon }, addressText: m.location.address, at: m.at });
      actions.push(...replyTo(input, m), ...offersFor(input, m));
      return actions;
    }
    case 'SegmentChanged': {
      const rule = rules['offer-high-intent'];
      if (event.to !== 'high_intent' || !rule.enabled) return [];
      const key = `offer-high-intent:${contact.contactId}:${isoWeek(event.at, tz)}`;
      return [offer(input, 'offer-high-intent', key, rule.text, rule.template, { coupon: grant(rule.coupon, key, event.at) })];
    }
    case 'OrderUpdated': {
      // Replenishment timers for the SKUs that run out (the catalogue's usual interval).
      if (!rules.replenishment.enabled) return [];
      const settle = automation.config.settleSeconds * 1000;
      const products = automation.catalogue;
      return (event.order.skus ?? []).flatMap((sku) => {
        const days = products.get(sku)?.replenishDays;
        // An old order reported late (a back-fill) whose window is long over reminds nobody.
        if (!days || event.order.placedAt + (days + 1) * DAY_MS < input.now) return [];
        const key = `replenishment:${event.order.orderId}:${sku}`;
        return [timer('replenishment', key, contact, event.order.placedAt, event.order.placedAt + days * DAY_MS, settle, { orderId: event.order.orderId, sku }, languageOf(contact))];
      });
    }
    case 'ParcelUpdated': {
      const rule = rules['logistics-update'];
      if (!rule.enabled || !rule.states.includes(event.state) || !input.parcel) return [];
      const p = input.parcel;
      return [
        {
          kind: 'send',
          rule: 'logistics-update',
          // Per courier event: a parcel back in a state it was in before is news again.
          key: `logistics-update:${event.trackingNumber}:${event.id}`,
          language: languageOf(contact),
          content: { type: 'template', name: rule.template.name, parameters: rule.template.parameters },
          category: 'utility',
          // CP-5: one update per parcel per 6 h, whatever its state.
          eventKey: `parcel:${event.trackingNumber}`,
          vars: { tracking_number: p.trackingNumber, parcel_status: p.stateText, parcel_eta: p.eta ?? '-', tracking_url: p.trackingUrl ?? '' },
        },
      ];
    }
    case 'ConversationResolved': {
      const rule = rules.satisfaction;
      if (!rule.enabled) return [];
      const open = serviceWindowOpen({ lastInboundAt: contact.lastInboundAt, hasPhone: contact.phone !== undefined }, input.now);
      if (!open) return []; // a rating prompt is free-form: only inside the window
      const language = languageOf(contact);
      const rows = rule.labels[language].map((title, i) => ({ id: `rating:${event.conversationId}:${i + 1}`, title }));
      return [{ kind: 'send', rule: 'satisfaction', key: `satisfaction:${event.conversationId}`, language, content: { type: 'list', body: rule.body[language], button: rule.button[language], rows }, category: 'service' }];
    }
    case 'TimerFired':
      return timerFired(input, event);
    case 'AutomationTick':
      return [];
  }
}

/** The weekly follow-up task for a potential customer (AU-5): a CRM task, not a message. */
export function followUpTask(automation: Automation, contact: Contact, at: number): Action | undefined {
  const rule = automation.config.rules['follow-up'];
  if (!rule.enabled || contact.segment !== rule.segment || contact.mergedInto) return undefined;
  const name = contact.firstName ?? contact.profileName ?? contact.username ?? contact.phone ?? contact.contactId;
  const day = (t: number) => new Intl.DateTimeFormat('en-CA', { timeZone: automation.config.timeZone }).format(t); // YYYY-MM-DD, the business's day
  const fill = (s: string) => s.replaceAll('{display_name}', name).replaceAll('{segment}', contact.segment ?? '').replaceAll('{last_message}', contact.lastInboundAt ? day(contact.lastInboundAt) : '-');
  return {
    kind: 'task',
    rule: 'follow-up',
    key: `follow-up:${contact.contactId}:${isoWeek(at, automation.config.timeZone)}`,
    language: languageOf(contact),
    subject: fill(rule.subject),
    body: fill(rule.body),
    dueAt: at + rule.dueInDays * DAY_MS,
  };
}
