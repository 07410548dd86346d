/**
 * What a failed send means for the customer, the same whether Meta answered the send call or
 * told us later in a `failed` status webhook (the webhook hands that one to the send function):
 *
 * - 131050 (the customer stopped marketing) is the customer's opt-out (CP-7);
 * - 131049 (Meta's per-user marketing cap) holds that customer's marketing for 24 h;
 * - 131026 (undeliverable) three times suppresses the recipient for 30 days.
 */
import { POLICY_LIMITS } from '../domain/policy.ts';
import type { ContactStore } from '../store/contacts.ts';
import type { OutboundRow } from '../store/outbox.ts';
import { countersOf, type SendLimitsStore } from '../store/send-limits.ts';
import type { FailureKind } from '../whatsapp/outbound/channel.ts';

/** Undeliverable answers (131026) before a recipient is suppressed, and for how long. */
export const UNDELIVERABLE_LIMIT = 3;
export const SUPPRESSION_MS = 30 * 86_400_000;

export interface EffectDeps {
  readonly contacts: Pick<ContactStore, 'get' | 'recordConsent'>;
  readonly limits: SendLimitsStore;
}

/** The customer-level consequences of a failure kind (none for most). */
export async function applyFailureEffects(deps: EffectDeps, row: Pick<OutboundRow, 'contactId' | 'id' | 'wamid'>, kind: FailureKind, at: number): Promise<void> {
  const read = async (id: string) => countersOf((await deps.contacts.get(id)) as unknown as Record<string, unknown>);
  if (kind === 'opted_out') {
    await deps.contacts.recordConsent(row.contactId, 'marketing', { state: 'opted_out', at, source: 'whatsapp_preferences', ...(row.wamid && { wamid: row.wamid }) });
  } else if (kind === 'marketing_cap') {
    await deps.limits.updateCounters(row.contactId, (c) => ({ ...c, marketingPausedUntil: Math.max(c.marketingPausedUntil ?? 0, at + POLICY_LIMITS.marketingCapWaitMs) }), read);
  } else if (kind === 'undeliverable') {
    if ((await deps.limits.countUndeliverable(row.contactId)) >= UNDELIVERABLE_LIMIT) {
      await deps.limits.updateCounters(row.contactId, (c) => ({ ...c, suppressedUntil: at + SUPPRESSION_MS }), read);
    }
  }
}
