/**
 * One Opportunity per purchase intent (TG-7), created once per opportunity id (the wamid of the
 * message that showed it) in the External ID + Unique field WhatsApp_Opportunity_Id__c.
 * Salesforce requires Name, StageName and CloseDate on create; the stage and the close date are
 * settings (defaults: the standard sales process's first stage, intent time + 30 days).
 */
import type { CrmOpportunityInput, CrmOpportunityResult } from '../port.ts';
import { CrmError } from '../port.ts';
import type { SalesforceApi } from './api.ts';
import { createOnce } from './create-once.ts';
import { cut, dateOnly, externalKey, LEAD_SOURCE_WHATSAPP, OPPORTUNITY } from './fields.ts';

/** The first stage of Salesforce's standard sales process. */
export const DEFAULT_OPPORTUNITY_STAGE = 'Prospecting';
export const DEFAULT_CLOSE_DATE_DAYS = 30;

export interface OpportunitySettings {
  readonly stage: string;
  readonly closeDateDays: number;
  /** The Opportunity field the contact goes into (ContactId: the primary contact role); null: none. */
  readonly contactField: string | null;
}

const DAY_MS = 86_400_000;

export function createOpportunity(api: SalesforceApi, input: CrmOpportunityInput, settings: OpportunitySettings): Promise<CrmOpportunityResult> {
  if (!input.contactCrmId.trim()) throw new CrmError('permanent', "createOpportunity needs the contact's Salesforce id", { crm: 'salesforce' });
  const key = externalKey(input.opportunityId);
  const product = input.productName?.trim() || input.sku;
  return createOnce(api, {
    object: OPPORTUNITY.object,
    keyField: OPPORTUNITY.opportunityId,
    key,
    what: 'opportunity',
    lookFirst: false,
    fields: {
      Name: cut(`WhatsApp: ${product}`, 120),
      StageName: settings.stage,
      CloseDate: dateOnly(input.createdAt + settings.closeDateDays * DAY_MS),
      LeadSource: LEAD_SOURCE_WHATSAPP,
      // ContactId is create-only: Salesforce makes the contact the opportunity's primary contact role.
      ...(settings.contactField && { [settings.contactField]: input.contactCrmId }),
      ...(input.amount !== undefined && Number.isFinite(input.amount) && { Amount: input.amount }),
      ...(input.currency && { [OPPORTUNITY.currency]: cut(input.currency, 3) }),
      [OPPORTUNITY.opportunityId]: key,
      [OPPORTUNITY.sku]: cut(input.sku, 255),
    },
  });
}
