/**
 * The policy gate applied: the pure decision (domain/policy.ts) taken against the stored
 * counters, atomically. A decision that allows is written as one conditional write on the
 * customer's counters (and, for a business-initiated send, one conditional ADD on the portfolio's
 * hour count); when another sender wrote first, the gate reads again and decides again, so 20
 * senders racing for one slot end with exactly one allowed.
 *
 * A crash between the two writes can only leave a slot taken and unused (a send refused that
 * could have gone): the gate errs on the side of sending less, never more.
 */
import type { Contact } from '../domain/records.ts';
import { decide, type AccountCounters, type CustomerCounters, type Decision, type PolicyContact, type PolicyRequest } from '../domain/policy.ts';
import type { ContactStore } from '../store/contacts.ts';
import { countersOf, type DailyWindow, type SendLimitsStore } from '../store/send-limits.ts';

export interface GateLimits {
  /** CP-6: unique customers reached outside a window per moving 24 h (WHATSAPP_DAILY_LIMIT). */
  readonly dailyLimit: number;
}

export interface GateDeps {
  readonly contacts: Pick<ContactStore, 'get'>;
  readonly limits: SendLimitsStore;
  readonly settings: GateLimits;
}

const MAX_ROUNDS = 25;
const DAY_MS = 86_400_000;

/** What the policy reads of a contact. */
export function policyContact(contact: Contact): PolicyContact {
  return {
    lastInboundAt: contact.lastInboundAt,
    lastReferralAt: contact.lastReferralAt,
    marketingConsent: contact.consent?.marketing?.state,
    hasPhone: contact.phone !== undefined,
  };
}

function accountCounters(window: DailyWindow | undefined, limit: number, now: number, pausedUntil: number | undefined): AccountCounters {
  return {
    businessInitiated24h: window?.used ?? 0,
    dailyLimit: limit,
    // The API call quota is taken per call at send time (SendLimitsStore.takeSendSlot).
    apiCallsToday: 0,
    dailyApiCalls: Number.MAX_SAFE_INTEGER,
    nextSlotAt: window?.nextSlotAt ?? now,
    nextDayAt: (Math.floor(now / DAY_MS) + 1) * DAY_MS,
    pausedUntil,
  };
}

export type GateResult = Decision & { readonly contact: Contact };

/**
 * Decides a send for a customer and, when allowed, takes its slots. `pausedUntil` is the sending
 * number's stop (Meta's account-level errors). Throws when the contact does not exist.
 */
export async function passGate(deps: GateDeps, contactId: string, request: PolicyRequest, now: number, pausedUntil?: number): Promise<GateResult> {
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const contact = await deps.contacts.get(contactId);
    if (!contact) throw new Error(`contact ${contactId} not found`);
    const counters: CustomerCounters = countersOf(contact as unknown as Record<string, unknown>);
    const facts = policyContact(contact);
    // The portfolio's window is read only when this send would take one of its slots.
    let decision = decide(facts, counters, accountCounters(undefined, deps.settings.dailyLimit, now, pausedUntil), request, now);
    let window: DailyWindow | undefined;
    if (decision.kind === 'allow' && decision.takesDailySlot) {
      window = await deps.limits.dailyWindow(now);
      decision = decide(facts, counters, accountCounters(window, deps.settings.dailyLimit, now, pausedUntil), request, now);
    }
    if (decision.kind !== 'allow') return { ...decision, contact };

    if (decision.takesDailySlot && !(await deps.limits.takeDailySlot(deps.settings.dailyLimit, window!))) continue;
    if (await deps.limits.writeCounters(contactId, decision.counters, counters.version)) return { ...decision, contact };
    // Someone else changed this customer's counters first: give the slot back and decide again.
    if (decision.takesDailySlot) await deps.limits.releaseDailySlot(window!.currentHour);
  }
  throw new Error(`the send counters of ${contactId} kept changing under ${MAX_ROUNDS} decisions; try again`);
}
