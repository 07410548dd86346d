/**
 * Creates the WhatsApp properties in a HubSpot account, idempotently: an existing group or
 * property is fine. Reports whether HubSpot actually enforces uniqueness of the message id on
 * communications, of the opportunity id on deals and of the task id on tasks, which decides how
 * the adapter de-duplicates logged messages, opportunities and follow-up tasks.
 */
import { HubSpotApi } from './api.ts';
import { HubSpotHttp, type HubSpotHttpOptions } from './http.ts';
import { COMMUNICATION, DEAL, PROPERTY_DEFINITIONS, PROPERTY_GROUP, TASK, type HubSpotObjectType } from './properties.ts';

export const DEFAULT_API_VERSION = '2026-09';
export const DEFAULT_API_BASE = 'https://api.hubapi.com';

export interface HubSpotSetupOptions extends HubSpotHttpOptions {
  readonly apiVersion?: string;
}

export interface HubSpotSetupResult {
  /** `objectType.property` names created by this run. */
  readonly created: readonly string[];
  /** `objectType.property` names that already existed. */
  readonly existing: readonly string[];
  /** Whether HubSpot reports `hasUniqueValue` on communications' message id property. */
  readonly messageIdUnique: boolean;
  /** Whether HubSpot reports `hasUniqueValue` on deals' opportunity id property. */
  readonly opportunityIdUnique: boolean;
  /** Whether HubSpot reports `hasUniqueValue` on tasks' task id property. */
  readonly taskIdUnique: boolean;
  readonly calls: number;
}

export async function setupHubSpot(options: HubSpotSetupOptions): Promise<HubSpotSetupResult> {
  const api = new HubSpotApi(new HubSpotHttp(options), options.apiVersion ?? DEFAULT_API_VERSION);
  const objectTypes = [...new Set(PROPERTY_DEFINITIONS.map((d) => d.objectType))] as HubSpotObjectType[];
  for (const objectType of objectTypes) await api.createPropertyGroup(objectType, PROPERTY_GROUP);

  const created: string[] = [];
  const existing: string[] = [];
  for (const definition of PROPERTY_DEFINITIONS) {
    const outcome = await api.createProperty(definition, PROPERTY_GROUP.name);
    (outcome === 'created' ? created : existing).push(`${definition.objectType}.${definition.name}`);
  }
  const messageId = await api.readProperty('communications', COMMUNICATION.messageId);
  const opportunityId = await api.readProperty('deals', DEAL.opportunityId);
  const taskId = await api.readProperty('tasks', TASK.taskId);
  return {
    created,
    existing,
    messageIdUnique: messageId?.hasUniqueValue === true,
    opportunityIdUnique: opportunityId?.hasUniqueValue === true,
    taskIdUnique: taskId?.hasUniqueValue === true,
    calls: api.calls,
  };
}
