/**
 * The one compliance policy every outbound message passes (architecture invariant 3; CP-1..CP-7,
 * CP-10, AU-6). Pure: `decide` reads the customer, the customer's send counters and the
 * account's, and the request, and answers allow (with the counter changes to write), deny (with
 * the rule and a reason) or defer (until when). The outbound store applies an `allow` atomically
 * (a conditional write on the counters' version), so two senders can never both take the last
 * slot: the loser decides again on the new counters.
 *
 * Denied: what should not be sent at all (a rule about the customer or the content). Deferred:
 * what may be sent later (pacing and capacity).
 *
 * Windows are half-open: a time `t` is inside a window of length `w` while `now - t < w`, so a
 * limit frees up exactly `w` later (a week after the last promotion, a promotion is allowed again;
 * an event key sent exactly 6 h ago may be sent again). The counters the allow returns are pruned
 * with the same boundary, so what is pruned is exactly what no longer counts.
 *
 * The 72 h free entry point (a click-to-WhatsApp ad) makes messages free; it does not widen where
 * free-form is allowed: Meta accepts free-form only inside the 24 h customer-service window (after
 * it, 131047), so CP-1 reads the 24 h window alone and `entryPointOpen` only informs cost.
 */
import { createHash } from 'node:crypto';

export const MESSAGE_CATEGORIES = ['service', 'utility', 'marketing', 'authentication'] as const;
export type MessageCategory = (typeof MESSAGE_CATEGORIES)[number];

export const MESSAGE_ORIGINS = ['agent', 'automation', 'api'] as const;
export type MessageOrigin = (typeof MESSAGE_ORIGINS)[number];

export const POLICY_LIMITS = {
  /** CP-1: the customer-service window after the customer's last message. */
  serviceWindowMs: 24 * 3_600_000,
  /** CP-1: the free entry point after a click-to-WhatsApp ad (or Facebook Page CTA) message. */
  entryPointWindowMs: 72 * 3_600_000,
  /** CP-2: templates to a customer who has not opted in, per moving 24 h. */
  templatesWithoutOptIn: 1,
  templatesWindowMs: 24 * 3_600_000,
  /** CP-3: the same content (normalised) per customer, automated and API messages, per moving 30 days. */
  sameContentPerMonth: 5,
  monthMs: 30 * 86_400_000,
  /** CP-4: marketing per customer per moving 7 days. */
  marketingPerWeek: 1,
  weekMs: 7 * 86_400_000,
  /** CP-5: the same service event key per customer per moving 6 h. */
  eventKeyWindowMs: 6 * 3_600_000,
  /** CP-10 (Meta's 131056): about one message per 6 s to the same customer. */
  perCustomerGapMs: 6_000,
  /** AU-6: an agent's message pauses automation to that customer for 12 h. */
  takeoverMs: 12 * 3_600_000,
  /** Meta's 131049: a customer's marketing waits at least this long after the per-user cap. */
  marketingCapWaitMs: 24 * 3_600_000,
  /** CP-6: business-initiated conversations are counted over a moving 24 h. */
  dailyWindowMs: 24 * 3_600_000,
} as const;

export interface PolicyRequest {
  readonly category: MessageCategory;
  /** A template, or free-form (text, interactive, media). */
  readonly kind: 'template' | 'free_form';
  readonly origin: MessageOrigin;
  /** Hash of the normalised content (contentHash()): CP-3. */
  readonly contentHash: string;
  /** The service event this message reports (e.g. `parcel:123:out_for_delivery`): CP-5. */
  readonly eventKey?: string | undefined;
}

/** What the policy needs of the customer (from the contact row). */
export interface PolicyContact {
  /** The customer's last message, by Meta's timestamp (ms). */
  readonly lastInboundAt?: number | undefined;
  /** When the customer's last message came from a click-to-WhatsApp ad: that message's time (ms). */
  readonly lastReferralAt?: number | undefined;
  /** Marketing consent (absent: never given). */
  readonly marketingConsent?: 'opted_in' | 'opted_out' | undefined;
  /** True when the customer has a phone we may address; false for a BSUID-only customer. */
  readonly hasPhone: boolean;
}

/** The customer's send counters (kept on the contact row, pruned to their windows). */
export interface CustomerCounters {
  /** Counters version; the atomic write is conditional on it. 0 when never written. */
  readonly version: number;
  /** Times of templates sent in the last 24 h (CP-2). */
  readonly templatesAt: readonly number[];
  /** Per content hash, times sent in the last 30 days (CP-3; automated and API messages only). */
  readonly contentAt: Readonly<Record<string, readonly number[]>>;
  /** Last marketing message (CP-4). */
  readonly lastMarketingAt?: number | undefined;
  /** Per event key, the last send (CP-5). */
  readonly eventKeysAt: Readonly<Record<string, number>>;
  /** Last message sent to the customer, any origin (CP-10 pacing). */
  readonly lastSentAt?: number | undefined;
  /** Until when automation is paused by an agent's message (AU-6). */
  readonly takeoverUntil?: number | undefined;
  /** Until when marketing waits after Meta's 131049. */
  readonly marketingPausedUntil?: number | undefined;
  /** Until when nothing is sent: the recipient was undeliverable (131026) repeatedly. */
  readonly suppressedUntil?: number | undefined;
  /** Last time this customer was counted against the daily business-initiated limit (CP-6). */
  readonly businessInitiatedAt?: number | undefined;
}

/** The account's (business portfolio's) moving-24 h counts (CP-6), as read before deciding. */
export interface AccountCounters {
  /** Unique customers reached outside a window in the moving 24 h. */
  readonly businessInitiated24h: number;
  readonly dailyLimit: number;
  /** API calls made today (UTC day) and the quota. */
  readonly apiCallsToday: number;
  readonly dailyApiCalls: number;
  /** When the next business-initiated slot frees up (the oldest counted hour leaves the window). */
  readonly nextSlotAt: number;
  /** Start of the next UTC day (API quota). */
  readonly nextDayAt: number;
  /** Until when the account is stopped (Meta's 131042 / 368 / 131031; spam slow-down 131048). */
  readonly pausedUntil?: number | undefined;
}

export type PolicyRule =
  | 'CP-1' | 'CP-2' | 'CP-3' | 'CP-4' | 'CP-5' | 'CP-6' | 'CP-7' | 'CP-10' | 'AU-6'
  | 'authentication_to_bsuid' | 'suppressed' | 'marketing_cap' | 'account_paused';

export type Decision =
  | {
      readonly kind: 'allow';
      /** The counters to write (pruned), version + 1. */
      readonly counters: CustomerCounters;
      /** True when this send takes a slot of the daily business-initiated limit (CP-6). */
      readonly takesDailySlot: boolean;
      /** True when the customer's window is open (free-form allowed; informs cost). */
      readonly windowOpen: boolean;
      /** True inside the 72 h free entry point after a click-to-WhatsApp ad (informs cost only). */
      readonly entryPointOpen: boolean;
    }
  | { readonly kind: 'deny'; readonly rule: PolicyRule; readonly reason: string }
  | { readonly kind: 'defer'; readonly rule: PolicyRule; readonly reason: string; readonly until: number };

/** What each rule stands for, in words a person reads (logs, the CRM, the API's refusal). */
export const RULE_DESCRIPTIONS: Readonly<Record<PolicyRule, string>> = {
  account_paused: 'the account is stopped by Meta (payment, policy block, locked account or spam slow-down)',
  suppressed: 'the recipient was undeliverable repeatedly: nothing is sent for now',
  authentication_to_bsuid: 'authentication templates need a phone number; this customer is known only by BSUID (131062)',
  'CP-7': 'the customer opted out of marketing',
  'AU-6': 'an agent took the conversation over: automation is paused for 12 h',
  'CP-1': 'outside the 24 h customer-service window: templates only',
  'CP-2': 'a customer who has not opted in gets at most 1 template per 24 h',
  'CP-3': 'the same content at most 5 times in 30 days to one customer',
  'CP-4': 'promotions at most once a week per customer',
  marketing_cap: "Meta's per-user marketing cap (131049): marketing waits",
  'CP-5': 'the same service event at most once per 6 h',
  'CP-10': "Meta's pacing: about one message per 6 s to the same customer (131056)",
  'CP-6': 'the daily business-initiated limit or the API call quota is reached',
};

/** One line for a log or a test name: `allow`, `deny CP-1: outside …`, `defer CP-10: … until …`. */
export function describeDecision(decision: Decision): string {
  if (decision.kind === 'allow') return decision.takesDailySlot ? 'allow (takes a daily slot)' : 'allow';
  return `${decision.kind} ${decision.rule}: ${decision.reason}`;
}

/** Counters of a customer never sent to. */
export const EMPTY_COUNTERS: CustomerCounters = Object.freeze({
  version: 0,
  templatesAt: Object.freeze([]),
  contentAt: Object.freeze({}),
  eventKeysAt: Object.freeze({}),
});

/**
 * CP-3's key for a text: NFKC (full-width and compatibility forms folded), lower case, whitespace
 * collapsed; digits kept, so "order 123 shipped" and "order 124 shipped" are different content.
 * SHA-256, base64url, first 16 characters (96 bits: collisions are not a concern per customer).
 */
export function contentHash(text: string): string {
  const normalised = text.normalize('NFKC').toLowerCase().replace(/\s+/gu, ' ').trim();
  return createHash('sha256').update(normalised).digest('base64url').slice(0, 16);
}

/** CP-3's key for a template: its name, language and parameters (named ones in key order). */
export function templateContentHash(
  name: string,
  language: string,
  parameters?: readonly string[] | Readonly<Record<string, string>>,
): string {
  const values = parameters === undefined ? [] : Array.isArray(parameters) ? parameters : sortedEntries(parameters as Record<string, string>);
  return contentHash(`template:${name}:${language}:${JSON.stringify(values)}`);
}

function sortedEntries(record: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const L = POLICY_LIMITS;
const within = (t: number | undefined, windowMs: number, now: number): t is number => t !== undefined && now - t < windowMs;
const isoTime = (t: number) => new Date(t).toISOString();

/** CP-1: the 24 h customer-service window after the customer's last message (free-form allowed). */
export function serviceWindowOpen(contact: PolicyContact, now: number): boolean {
  return within(contact.lastInboundAt, L.serviceWindowMs, now);
}

/** The 72 h free entry point after a click-to-WhatsApp ad message: sends are free (cost only). */
export function entryPointOpen(contact: PolicyContact, now: number): boolean {
  return within(contact.lastReferralAt, L.entryPointWindowMs, now);
}

const deny = (rule: PolicyRule, detail?: string): Decision => ({
  kind: 'deny',
  rule,
  reason: detail ? `${RULE_DESCRIPTIONS[rule]} (${detail})` : RULE_DESCRIPTIONS[rule],
});
const defer = (rule: PolicyRule, until: number, now: number): Decision => {
  // A stale account snapshot could name a time already past: never defer to "now" (a busy loop).
  const at = Math.max(until, now + 1);
  return { kind: 'defer', rule, reason: `${RULE_DESCRIPTIONS[rule]}: until ${isoTime(at)}`, until: at };
};

function countWithin(times: readonly number[] | undefined, windowMs: number, now: number): number {
  let count = 0;
  if (times) for (const t of times) if (now - t < windowMs) count++;
  return count;
}

/**
 * The one decision for one outbound message: the first rule that refuses it, or allow with the
 * counters to write. Rules about the account and the customer come first, then content, then
 * pacing and capacity, so that a message that will never be sent is denied rather than deferred.
 */
export function decide(
  contact: PolicyContact,
  counters: CustomerCounters,
  account: AccountCounters,
  request: PolicyRequest,
  now: number,
): Decision {
  const { category, kind, origin } = request;
  const marketing = category === 'marketing';
  const automated = origin !== 'agent';

  if (account.pausedUntil !== undefined && account.pausedUntil > now) return defer('account_paused', account.pausedUntil, now);
  if (counters.suppressedUntil !== undefined && counters.suppressedUntil > now) return deny('suppressed', `until ${isoTime(counters.suppressedUntil)}`);
  if (category === 'authentication' && !contact.hasPhone) return deny('authentication_to_bsuid');
  if (marketing && contact.marketingConsent === 'opted_out') return deny('CP-7');
  if (origin === 'automation' && counters.takeoverUntil !== undefined && counters.takeoverUntil > now) {
    return deny('AU-6', `until ${isoTime(counters.takeoverUntil)}`);
  }

  const windowOpen = serviceWindowOpen(contact, now);
  if (kind === 'free_form' && !windowOpen) return deny('CP-1');
  if (kind === 'template' && contact.marketingConsent !== 'opted_in') {
    const recent = counters.templatesAt.filter((t) => now - t < L.templatesWindowMs).sort((a, b) => a - b);
    // A slot frees when enough of the recent templates have left the 24 h.
    const freedBy = recent[recent.length - L.templatesWithoutOptIn];
    if (freedBy !== undefined) return deny('CP-2', `next from ${isoTime(freedBy + L.templatesWindowMs)}`);
  }
  if (automated && countWithin(counters.contentAt[request.contentHash], L.monthMs, now) >= L.sameContentPerMonth) return deny('CP-3');
  if (marketing && within(counters.lastMarketingAt, L.weekMs, now)) return deny('CP-4', `last on ${isoTime(counters.lastMarketingAt)}`);
  if (marketing && counters.marketingPausedUntil !== undefined && counters.marketingPausedUntil > now) {
    return defer('marketing_cap', counters.marketingPausedUntil, now);
  }
  const eventKey = request.eventKey;
  if (eventKey !== undefined && within(counters.eventKeysAt[eventKey], L.eventKeyWindowMs, now)) return deny('CP-5', eventKey);
  if (within(counters.lastSentAt, L.perCustomerGapMs, now)) return defer('CP-10', counters.lastSentAt + L.perCustomerGapMs, now);

  // Outside the window a send reaches the customer "business-initiated": one slot of the moving
  // 24 h limit, unless this customer already holds one (Meta counts unique customers).
  const takesDailySlot = !windowOpen && !within(counters.businessInitiatedAt, L.dailyWindowMs, now);
  if (takesDailySlot && account.businessInitiated24h >= account.dailyLimit) return defer('CP-6', account.nextSlotAt, now);
  if (account.apiCallsToday >= account.dailyApiCalls) return defer('CP-6', account.nextDayAt, now);

  return {
    kind: 'allow',
    counters: withSend(counters, request, now, takesDailySlot),
    takesDailySlot,
    windowOpen,
    entryPointOpen: entryPointOpen(contact, now),
  };
}

/** The counters after this send: pruned to their windows, the send added, version + 1. */
function withSend(counters: CustomerCounters, request: PolicyRequest, now: number, takesDailySlot: boolean): CustomerCounters {
  const templatesAt = counters.templatesAt.filter((t) => now - t < L.templatesWindowMs);
  if (request.kind === 'template') templatesAt.push(now);

  const contentAt: Record<string, number[]> = {};
  for (const [hash, times] of Object.entries(counters.contentAt)) {
    const kept = times.filter((t) => now - t < L.monthMs);
    if (kept.length > 0) contentAt[hash] = kept;
  }
  if (request.origin !== 'agent') (contentAt[request.contentHash] ??= []).push(now);

  const eventKeysAt: Record<string, number> = {};
  for (const [key, t] of Object.entries(counters.eventKeysAt)) if (now - t < L.eventKeyWindowMs) eventKeysAt[key] = t;
  if (request.eventKey !== undefined) eventKeysAt[request.eventKey] = now;

  return {
    ...counters,
    version: counters.version + 1,
    templatesAt,
    contentAt,
    eventKeysAt,
    lastSentAt: now,
    lastMarketingAt: request.category === 'marketing' ? now : counters.lastMarketingAt,
    takeoverUntil: request.origin === 'agent' ? Math.max(now + L.takeoverMs, counters.takeoverUntil ?? 0) : counters.takeoverUntil,
    businessInitiatedAt: takesDailySlot ? now : counters.businessInitiatedAt,
  };
}
