/**
 * Logging one WhatsApp message as one HubSpot `communications` record, associated to the
 * contact in the same create request, exactly once: keyed by the unique `whatsapp_message_id`
 * (create-once.ts). Within one process, concurrent calls for one wamid are joined (adapter.ts).
 */
import type { CrmMessageInput, CrmMessageResult } from '#shared/crm/port';
import type { HubSpotApi, PropertyValues } from './api.ts';
import { createOnce, type DedupStrategy } from './create-once.ts';
import { COMMUNICATION, COMMUNICATION_TO_CONTACT_TYPE_ID } from './properties.ts';

export type { DedupStrategy } from './create-once.ts';
export type MessageDedupStrategy = DedupStrategy;

export function logMessage(api: HubSpotApi, input: CrmMessageInput, strategy: MessageDedupStrategy): Promise<CrmMessageResult> {
  return createOnce(
    api,
    {
      objectType: 'communications',
      key: input.wamid,
      keyProperty: COMMUNICATION.messageId,
      properties: communicationProperties(input),
      contactCrmId: input.contactCrmId,
      associationTypeId: COMMUNICATION_TO_CONTACT_TYPE_ID,
      what: 'message',
    },
    strategy,
  );
}

function communicationProperties(input: CrmMessageInput): PropertyValues {
  return {
    hs_communication_channel_type: 'WHATS_APP',
    hs_communication_logged_from: 'CRM',
    hs_communication_body: input.body,
    hs_timestamp: new Date(input.timestamp).toISOString(),
    [COMMUNICATION.messageId]: input.wamid,
    [COMMUNICATION.direction]: input.direction,
  };
}
