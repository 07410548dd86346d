/**
 * Creating one HubSpot deal per purchase-intent opportunity, associated to the contact in the
 * same create request, exactly once.
 *
 * The idempotency key is the deal property `whatsapp_opportunity_id` (our opportunity id, the
 * wamid of the message that showed the intent). HubSpot documents unique properties for deals
 * (docs/hubspot.md), so normally the create itself is the claim (`unique-property`): a refused
 * duplicate — a second call, a concurrent call in another process, a retry after a crash that
 * lost the CRM id — is read back with `idProperty`. Should an account report the property as not
 * unique (created by hand without "unique"), the `timeline-scan` fallback reads the contact's
 * associated deals first (create-once.ts).
 */
import { CrmError, type CrmOpportunityInput, type CrmOpportunityResult } from '#shared/crm/port';
import type { HubSpotApi, PropertyValues } from './api.ts';
import { createOnce, type DedupStrategy } from './create-once.ts';
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

export function createOpportunity(
  api: HubSpotApi,
  input: CrmOpportunityInput,
  strategy: DedupStrategy,
  settings: DealSettings,
): Promise<CrmOpportunityResult> {
  return createOnce(
    api,
    {
      objectType: 'deals',
      key: input.opportunityId,
      keyProperty: DEAL.opportunityId,
      properties: dealProperties(input, settings),
      contactCrmId: input.contactCrmId,
      associationTypeId: DEAL_TO_CONTACT_TYPE_ID,
      what: 'opportunity',
    },
    strategy,
  );
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
