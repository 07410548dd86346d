/**
 * Creating one HubSpot deal per purchase-intent opportunity, associated to the contact in the
 * same create request, exactly once.
 *
 * The idempotency key is the deal property `whatsapp_opportunity_id` (our opportunity id, the
 * wamid of the message that showed the intent). HubSpot documents unique properties for deals
 * (docs/hubspot.md), so normally the create itself is the claim (`unique-property`): a refused
 * duplicate — a second call, a concurrent call in another process, a retry after a crash that
 * lost the CRM id — is read back with `idProperty`. Should an account report the property as not
 * unique (created by hand without "unique"), the same `timeline-scan` fallback as for messages
 * is used: the contact's associated deals are read (consistent reads, not search) first.
 */
import { CrmError, type CrmOpportunityInput, type CrmOpportunityResult } from '#shared/crm/port';
import type { HubSpotApi, PropertyValues } from './api.ts';
import type { DedupStrategy } from './messages.ts';
import { DEAL, DEAL_TO_CONTACT_TYPE_ID } from './properties.ts';

export interface DealSettings {
  /** Internal id of the pipeline. */
  readonly pipeline: string;
  /** Internal id of the stage new deals start in. */
  readonly stage: string;
  /** Close date = intent time + this many days; undefined → no close date (HubSpot does not require one). */
  readonly closeDateDays: number | undefined;
}

const DAY_MS = 86_400_000;

export async function createOpportunity(
  api: HubSpotApi,
  input: CrmOpportunityInput,
  strategy: DedupStrategy,
  settings: DealSettings,
): Promise<CrmOpportunityResult> {
  if (strategy === 'timeline-scan') {
    const existing = await findOnContact(api, input);
    if (existing) return { crmId: existing, created: false, calls: api.calls };
  }
  const created = await api.create('deals', dealProperties(input, settings), [
    { toId: input.contactCrmId, typeId: DEAL_TO_CONTACT_TYPE_ID },
  ]);
  if (created.kind === 'created') return { crmId: created.record.id, created: true, calls: api.calls };

  const existing = await api.read('deals', input.opportunityId, {
    idProperty: DEAL.opportunityId,
    properties: [DEAL.opportunityId],
  });
  if (!existing) {
    throw new CrmError(
      'transient',
      `HubSpot reported opportunity ${input.opportunityId} as a duplicate but cannot read it back`,
      { crm: 'hubspot' },
    );
  }
  return { crmId: existing.id, created: false, calls: api.calls };
}

async function findOnContact(api: HubSpotApi, input: CrmOpportunityInput): Promise<string | undefined> {
  const ids = await api.associatedIds('contacts', input.contactCrmId, 'deals');
  if (ids.length === 0) return undefined;
  const records = await api.batchRead('deals', ids, { properties: [DEAL.opportunityId] });
  return records.find((r) => r.properties[DEAL.opportunityId] === input.opportunityId)?.id;
}

export function dealProperties(input: CrmOpportunityInput, settings: DealSettings): PropertyValues {
  const product = input.productName?.trim() || input.sku;
  const values: Record<string, string> = {
    dealname: `WhatsApp: ${product}`,
    pipeline: settings.pipeline,
    dealstage: settings.stage,
    [DEAL.opportunityId]: input.opportunityId,
    [DEAL.sku]: input.sku,
  };
  if (input.amount !== undefined) {
    if (!Number.isFinite(input.amount)) {
      throw new CrmError('permanent', `Opportunity ${input.opportunityId} has an invalid amount ${input.amount}`, {
        crm: 'hubspot',
      });
    }
    values.amount = String(input.amount);
  }
  if (input.currency) values[DEAL.currency] = input.currency.toUpperCase();
  if (settings.closeDateDays !== undefined) {
    values.closedate = new Date(input.createdAt + settings.closeDateDays * DAY_MS).toISOString();
  }
  return values;
}
