import { describe, expect, it } from 'vitest';
import {
  EMPTY_COUNTERS,
  RULE_DESCRIPTIONS,
  contentHash,
  decide,
  describeDecision,
  templateContentHash,
  type AccountCounters,
  type CustomerCounters,
  type Decision,
  type PolicyContact,
  type PolicyRequest,
} from '#shared/domain/policy';

const S = 1_000;
const H = 3_600_000;
const D = 24 * H;
const T0 = Date.UTC(2026, 2, 4, 10, 0, 0);

/** A customer who wrote an hour ago and opted in: every rule passes unless a test changes it. */
const contact = (over: Partial<PolicyContact> = {}): PolicyContact => ({ hasPhone: true, lastInboundAt: T0 - H, marketingConsent: 'opted_in', ...over });
const account = (over: Partial<AccountCounters> = {}): AccountCounters => ({
  businessInitiated24h: 0,
  dailyLimit: 1_000,
  apiCallsToday: 0,
  dailyApiCalls: 10_000,
  nextSlotAt: T0 + 2 * H,
  nextDayAt: Date.UTC(2026, 2, 5),
  ...over,
});
const counters = (over: Partial<CustomerCounters> = {}): CustomerCounters => ({ ...EMPTY_COUNTERS, ...over });
const reply: PolicyRequest = { category: 'service', kind: 'free_form', origin: 'agent', contentHash: contentHash('Hello!') };
const template = (over: Partial<PolicyRequest> = {}): PolicyRequest => ({ category: 'utility', kind: 'template', origin: 'automation', contentHash: templateContentHash('order_update', 'en'), ...over });
const promotion = (over: Partial<PolicyRequest> = {}): PolicyRequest => template({ category: 'marketing', contentHash: templateContentHash('spring_sale', 'en'), ...over });

function allowed(decision: Decision): Extract<Decision, { kind: 'allow' }> {
  if (decision.kind !== 'allow') throw new Error(`expected allow, got ${describeDecision(decision)}`);
  return decision;
}

/** Sends `request` `times` times, 1 min apart (past CP-10 pacing), threading the counters. */
function sendRepeatedly(request: PolicyRequest, times: number, who: PolicyContact = contact(), from = T0): { decisions: Decision[]; counters: CustomerCounters } {
  let current = counters();
  const decisions: Decision[] = [];
  for (let i = 0; i < times; i++) {
    const decision = decide(who, current, account(), request, from + i * 60 * S);
    decisions.push(decision);
    if (decision.kind === 'allow') current = decision.counters;
  }
  return { decisions, counters: current };
}

describe('the account and the customer come first', () => {
  it('a paused account defers every send until the pause ends, before any customer rule', () => {
    const d = decide(contact(), counters({ suppressedUntil: T0 + D }), account({ pausedUntil: T0 + H }), reply, T0);
    expect(d).toMatchObject({ kind: 'defer', rule: 'account_paused', until: T0 + H });
  });

  it('a pause that has ended no longer holds sends back', () => {
    expect(decide(contact(), counters(), account({ pausedUntil: T0 }), reply, T0).kind).toBe('allow');
  });

  it('a suppressed recipient is denied until the suppression ends', () => {
    expect(decide(contact(), counters({ suppressedUntil: T0 + 1 }), account(), reply, T0)).toMatchObject({ kind: 'deny', rule: 'suppressed' });
    expect(decide(contact(), counters({ suppressedUntil: T0 }), account(), reply, T0).kind).toBe('allow');
  });

  it('an authentication template to a BSUID-only customer is denied (131062); to a phone it is allowed', () => {
    const otp = template({ category: 'authentication', contentHash: templateContentHash('otp', 'en', ['123456']) });
    expect(decide(contact({ hasPhone: false }), counters(), account(), otp, T0)).toMatchObject({ kind: 'deny', rule: 'authentication_to_bsuid' });
    expect(decide(contact(), counters(), account(), otp, T0).kind).toBe('allow');
  });

  it('CP-7: marketing to a customer who opted out is denied; a utility message still goes', () => {
    const optedOut = contact({ marketingConsent: 'opted_out' });
    expect(decide(optedOut, counters(), account(), promotion(), T0)).toMatchObject({ kind: 'deny', rule: 'CP-7' });
    expect(decide(optedOut, counters(), account(), template(), T0).kind).toBe('allow');
  });

  it('the first refusal wins: an opted-out customer outside the window is refused for CP-7, not CP-1', () => {
    const d = decide(contact({ marketingConsent: 'opted_out', lastInboundAt: T0 - 2 * D }), counters(), account(), promotion({ kind: 'free_form' }), T0);
    expect(d).toMatchObject({ kind: 'deny', rule: 'CP-7' });
  });
});

describe('AU-6: an agent takes over for 12 h', () => {
  const afterAgent = allowed(decide(contact(), counters(), account(), reply, T0)).counters;

  it("an agent's message pauses automation for that customer until 12 h later", () => {
    expect(afterAgent.takeoverUntil).toBe(T0 + 12 * H);
  });

  it('automation 1 ms before the 12 h is denied, with the time in the reason; at 12 h it goes', () => {
    const automated = { ...reply, origin: 'automation' as const };
    const d = decide(contact({ lastInboundAt: T0 + 11 * H }), afterAgent, account(), automated, T0 + 12 * H - 1);
    expect(d).toMatchObject({ kind: 'deny', rule: 'AU-6' });
    expect(d.kind === 'deny' && d.reason).toContain(new Date(T0 + 12 * H).toISOString());
    expect(decide(contact({ lastInboundAt: T0 + 11 * H }), afterAgent, account(), automated, T0 + 12 * H).kind).toBe('allow');
  });

  it('the agent keeps writing during the takeover, and API sends are not paused', () => {
    expect(decide(contact(), afterAgent, account(), reply, T0 + H).kind).toBe('allow');
    expect(decide(contact(), afterAgent, account(), { ...reply, origin: 'api' }, T0 + H).kind).toBe('allow');
  });
});

describe('CP-1: free-form only inside the 24 h customer-service window', () => {
  const wroteAt = T0 - D;

  it('23:59:59.999 after the customer wrote, the window is open and free-form goes', () => {
    const d = allowed(decide(contact({ lastInboundAt: wroteAt }), counters(), account(), reply, wroteAt + D - 1));
    expect(d.windowOpen).toBe(true);
  });

  it('at exactly 24:00:00.000 the window is closed: free-form is denied, templates only', () => {
    const d = decide(contact({ lastInboundAt: wroteAt }), counters(), account(), reply, wroteAt + D);
    expect(d).toEqual({ kind: 'deny', rule: 'CP-1', reason: 'outside the 24 h customer-service window: templates only' });
    expect(allowed(decide(contact({ lastInboundAt: wroteAt }), counters(), account(), template(), wroteAt + D)).windowOpen).toBe(false);
  });

  it('a customer who never wrote gets templates only', () => {
    expect(decide(contact({ lastInboundAt: undefined }), counters(), account(), reply, T0)).toMatchObject({ kind: 'deny', rule: 'CP-1' });
  });

  it('the 72 h free entry point after an ad message: open at 71:59:59.999, closed at 72:00:00.000', () => {
    const adAt = T0 - 72 * H;
    const ad = contact({ lastInboundAt: adAt, lastReferralAt: adAt });
    expect(allowed(decide(ad, counters(), account(), template(), adAt + 72 * H - 1)).entryPointOpen).toBe(true);
    expect(allowed(decide(ad, counters(), account(), template(), adAt + 72 * H)).entryPointOpen).toBe(false);
  });

  it('the entry point makes sends free but does not widen free-form: 25 h after the ad message free-form is denied (Meta 131047)', () => {
    const adAt = T0 - 25 * H;
    expect(decide(contact({ lastInboundAt: adAt, lastReferralAt: adAt }), counters(), account(), reply, T0)).toMatchObject({ kind: 'deny', rule: 'CP-1' });
  });
});

describe('CP-2: one template per 24 h to a customer who has not opted in', () => {
  const notOptedIn = contact({ marketingConsent: undefined });

  it('the first template goes, a second within 24 h is denied, and one exactly 24 h later goes', () => {
    const first = allowed(decide(notOptedIn, counters(), account(), template(), T0));
    const second = decide(notOptedIn, first.counters, account(), template({ contentHash: 'other' }), T0 + D - 1);
    expect(second).toMatchObject({ kind: 'deny', rule: 'CP-2' });
    expect(second.kind === 'deny' && second.reason).toContain(new Date(T0 + D).toISOString());
    expect(decide(notOptedIn, first.counters, account(), template({ contentHash: 'other' }), T0 + D).kind).toBe('allow');
  });

  it('a customer who opted in gets as many templates as the other rules allow', () => {
    const { decisions } = sendRepeatedly(template({ origin: 'agent' }), 10);
    expect(decisions.every((d) => d.kind === 'allow')).toBe(true);
  });

  it('free-form replies inside the window are not templates: CP-2 does not count them', () => {
    const { decisions } = sendRepeatedly(reply, 5, notOptedIn);
    expect(decisions.every((d) => d.kind === 'allow')).toBe(true);
  });
});

describe('CP-3: the same content at most 5 times in 30 days (automation and API)', () => {
  const automated: PolicyRequest = { ...reply, origin: 'automation', contentHash: contentHash('Your parcel is on its way') };

  it('the 5th identical automated message goes, the 6th is denied', () => {
    const { decisions } = sendRepeatedly(automated, 6);
    expect(decisions.slice(0, 5).map((d) => d.kind)).toEqual(['allow', 'allow', 'allow', 'allow', 'allow']);
    expect(decisions[5]).toMatchObject({ kind: 'deny', rule: 'CP-3' });
  });

  it('API messages count the same way', () => {
    const { decisions } = sendRepeatedly({ ...automated, origin: 'api' }, 6);
    expect(decisions[5]).toMatchObject({ kind: 'deny', rule: 'CP-3' });
  });

  it('the same text written differently (case, width, spacing) is the same content; another text is not', () => {
    const { counters: after5 } = sendRepeatedly(automated, 5);
    const variant = { ...automated, contentHash: contentHash('  YOUR   parcel is on its ｗａｙ ') };
    expect(decide(contact(), after5, account(), variant, T0 + H)).toMatchObject({ kind: 'deny', rule: 'CP-3' });
    expect(decide(contact(), after5, account(), { ...automated, contentHash: contentHash('Your parcel arrived') }, T0 + H).kind).toBe('allow');
  });

  it('a sending older than 30 days no longer counts', () => {
    const sent = counters({ contentAt: { [automated.contentHash]: [T0 - 30 * D, T0 - 2 * D, T0 - 3 * D, T0 - 4 * D, T0 - 5 * D] } });
    expect(decide(contact(), sent, account(), automated, T0).kind).toBe('allow');
    const stillInside = counters({ contentAt: { [automated.contentHash]: [T0 - 30 * D + 1, T0 - 2 * D, T0 - 3 * D, T0 - 4 * D, T0 - 5 * D] } });
    expect(decide(contact(), stillInside, account(), automated, T0)).toMatchObject({ kind: 'deny', rule: 'CP-3' });
  });

  it('an agent is never throttled by CP-3, and its messages are not counted', () => {
    const { decisions, counters: after } = sendRepeatedly({ ...automated, origin: 'agent' }, 10);
    expect(decisions.every((d) => d.kind === 'allow')).toBe(true);
    expect(after.contentAt).toEqual({});
  });
});

describe('CP-4: promotions at most once a week', () => {
  const first = allowed(decide(contact(), counters(), account(), promotion(), T0)).counters;

  it('6 d 23:59:59.999 after a promotion another is denied; exactly 7 d later it goes', () => {
    expect(decide(contact({ lastInboundAt: T0 + 7 * D - H }), first, account(), promotion({ contentHash: 'b' }), T0 + 7 * D - 1)).toMatchObject({ kind: 'deny', rule: 'CP-4' });
    expect(decide(contact({ lastInboundAt: T0 + 7 * D - H }), first, account(), promotion({ contentHash: 'b' }), T0 + 7 * D).kind).toBe('allow');
  });

  it('a utility message in the same week is not a promotion', () => {
    expect(decide(contact(), first, account(), template(), T0 + D).kind).toBe('allow');
  });

  it("after Meta's per-user marketing cap (131049) marketing is deferred until the wait ends; utility is not", () => {
    const capped = counters({ marketingPausedUntil: T0 + D });
    expect(decide(contact(), capped, account(), promotion(), T0)).toMatchObject({ kind: 'defer', rule: 'marketing_cap', until: T0 + D });
    expect(decide(contact(), capped, account(), template(), T0).kind).toBe('allow');
  });
});

describe('CP-5: the same service event at most once per 6 h', () => {
  const update = template({ eventKey: 'parcel:123:out_for_delivery', origin: 'agent' });
  const sent = allowed(decide(contact(), counters(), account(), update, T0)).counters;
  const at = (t: number) => decide(contact({ lastInboundAt: t - H }), sent, account(), update, t);

  it('6 h minus 1 ms later the same event is denied', () => {
    expect(at(T0 + 6 * H - 1)).toMatchObject({ kind: 'deny', rule: 'CP-5' });
  });

  it('exactly 6 h later it is allowed (the window is half-open), and 6 h plus 1 ms too', () => {
    expect(at(T0 + 6 * H).kind).toBe('allow');
    expect(at(T0 + 6 * H + 1).kind).toBe('allow');
  });

  it('another event of the same parcel is not held back', () => {
    expect(decide(contact(), sent, account(), { ...update, eventKey: 'parcel:123:delivered' }, T0 + H).kind).toBe('allow');
  });

  it('a repeated event is denied before pacing could defer it: it should never be sent', () => {
    expect(decide(contact(), sent, account(), update, T0 + 1)).toMatchObject({ kind: 'deny', rule: 'CP-5' });
  });
});

describe('CP-10: about one message per 6 s to the same customer', () => {
  it('a send 5.999 s after the last is deferred until 6 s after it; at 6 s it goes', () => {
    const last = counters({ lastSentAt: T0 - 5_999 });
    expect(decide(contact(), last, account(), reply, T0)).toMatchObject({ kind: 'defer', rule: 'CP-10', until: T0 + 1 });
    expect(decide(contact(), counters({ lastSentAt: T0 - 6 * S }), account(), reply, T0).kind).toBe('allow');
  });
});

describe('CP-6: the daily business-initiated limit and the API quota', () => {
  const outside = contact({ lastInboundAt: T0 - 2 * D });
  const full = account({ businessInitiated24h: 1_000, dailyLimit: 1_000 });

  it('outside the window at the limit, a template is deferred until the next slot frees', () => {
    expect(decide(outside, counters(), full, template(), T0)).toMatchObject({ kind: 'defer', rule: 'CP-6', until: full.nextSlotAt });
  });

  it('below the limit it takes a slot, and the customer is marked counted', () => {
    const d = allowed(decide(outside, counters(), account({ businessInitiated24h: 999 }), template(), T0));
    expect(d.takesDailySlot).toBe(true);
    expect(d.counters.businessInitiatedAt).toBe(T0);
  });

  it('a customer already counted in the last 24 h is not counted again, even at the limit', () => {
    const d = allowed(decide(outside, counters({ businessInitiatedAt: T0 - D + 1 }), full, template(), T0));
    expect(d.takesDailySlot).toBe(false);
    expect(d.counters.businessInitiatedAt).toBe(T0 - D + 1);
  });

  it('a customer counted exactly 24 h ago takes a slot again', () => {
    expect(decide(outside, counters({ businessInitiatedAt: T0 - D }), full, template(), T0)).toMatchObject({ kind: 'defer', rule: 'CP-6' });
  });

  it('inside the window nothing takes a slot, so the limit does not hold replies back', () => {
    const d = allowed(decide(contact(), counters(), full, reply, T0));
    expect(d.takesDailySlot).toBe(false);
  });

  it('the API quota reached defers every send until the next UTC day', () => {
    const quota = account({ apiCallsToday: 10_000, dailyApiCalls: 10_000 });
    expect(decide(contact(), counters(), quota, reply, T0)).toMatchObject({ kind: 'defer', rule: 'CP-6', until: quota.nextDayAt });
  });

  it('a stale next-slot time in the past never defers to "now" (no busy loop)', () => {
    const d = decide(outside, counters(), account({ ...full, nextSlotAt: T0 - H }), template(), T0);
    expect(d.kind === 'defer' && d.until).toBeGreaterThan(T0);
  });
});

describe('allow: the counters to write', () => {
  const old = counters({
    version: 7,
    templatesAt: [T0 - D, T0 - D + 1],
    contentAt: { stale: [T0 - 31 * D], mixed: [T0 - 30 * D, T0 - D] },
    eventKeysAt: { 'parcel:1:old': T0 - 6 * H, 'parcel:1:recent': T0 - 6 * H + 1 },
    lastMarketingAt: T0 - 8 * D,
    lastSentAt: T0 - H,
  });

  it('are pruned to their windows, with this send added and the version incremented', () => {
    const request = promotion({ contentHash: 'mixed', eventKey: 'parcel:1:new' });
    const d = allowed(decide(contact(), old, account(), request, T0));
    expect(d.counters).toEqual({
      version: 8,
      templatesAt: [T0 - D + 1, T0],
      contentAt: { mixed: [T0 - D, T0] },
      eventKeysAt: { 'parcel:1:recent': T0 - 6 * H + 1, 'parcel:1:new': T0 },
      lastMarketingAt: T0,
      lastSentAt: T0,
      takeoverUntil: undefined,
      businessInitiatedAt: undefined,
    });
    expect(d.windowOpen).toBe(true);
  });

  it('never change the counters they were given (the store may retry with them)', () => {
    const frozen = structuredClone(old);
    decide(contact(), old, account(), promotion({ contentHash: 'mixed', eventKey: 'e' }), T0);
    expect(old).toEqual(frozen);
  });
});

describe('content hashes and reasons', () => {
  it('hash the normalised text: 16 base64url characters; case, width and spacing ignored, digits kept', () => {
    expect(contentHash('Order 123 shipped')).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(contentHash('  ORDER　１２３\n shipped ')).toBe(contentHash('order 123 shipped'));
    expect(contentHash('order 124 shipped')).not.toBe(contentHash('order 123 shipped'));
  });

  it('hash a template by name, language and parameters (named parameters in any order)', () => {
    expect(templateContentHash('t', 'en', { a: '1', b: '2' })).toBe(templateContentHash('t', 'en', { b: '2', a: '1' }));
    expect(templateContentHash('t', 'en', ['1'])).not.toBe(templateContentHash('t', 'en', ['2']));
    expect(templateContentHash('t', 'en')).not.toBe(templateContentHash('t', 'zh_HK'));
  });

  it('every rule has a reason a person can read', () => {
    for (const text of Object.values(RULE_DESCRIPTIONS)) expect(text.length).toBeGreaterThan(10);
    expect(Object.keys(RULE_DESCRIPTIONS)).toHaveLength(13);
  });

  it('a decision reads as one line: the kind, the rule and why', () => {
    expect(describeDecision(decide(contact({ lastInboundAt: undefined }), counters(), account(), reply, T0))).toBe('deny CP-1: outside the 24 h customer-service window: templates only');
    expect(describeDecision(decide(contact(), counters({ lastSentAt: T0 }), account(), reply, T0))).toBe(
      `defer CP-10: Meta's pacing: about one message per 6 s to the same customer (131056): until ${new Date(T0 + 6 * S).toISOString()}`,
    );
  });
});
