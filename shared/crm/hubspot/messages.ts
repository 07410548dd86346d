/**
 * Logging one WhatsApp message as one HubSpot `communications` record, associated to the
 * contact in the same create request, exactly once: keyed by the unique `whatsapp_message_id`
 * (create-once.ts). Within one process, concurrent calls for one wamid are joined (adapter.ts).
 */
import { CrmError, type CrmMessageInput, type CrmMessageResult } from '#shared/crm/port';
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

/**
 * A burst of messages in two requests (SY-5's burst batching): a batch read by the unique
 * `whatsapp_message_id` finds those already logged (a job repeated after a crash), one batch
 * create logs the rest with their contact associations. All or nothing: a create HubSpot refuses
 * (one of them logged meanwhile, a validation error) or whose answer is lost throws, and the sync
 * logs the burst one message at a time — idempotent, as each create is keyed by its wamid.
 * Only with the `unique-property` strategy: without the unique key a batch could duplicate.
 */
export async function logMessages(api: HubSpotApi, inputs: readonly CrmMessageInput[]): Promise<{ crmIds: string[]; calls: number }> {
  const found = await api.batchRead('communications', inputs.map((i) => i.wamid), { idProperty: COMMUNICATION.messageId, properties: [COMMUNICATION.messageId] });
  const logged = new Map(found.map((r) => [r.properties[COMMUNICATION.messageId] ?? '', r.id]));
  const missing = inputs.filter((i) => !logged.has(i.wamid));
  if (missing.length) {
    const created = await api.batchCreate(
      'communications',
      missing.map((i) => ({ properties: communicationProperties(i), associations: [{ toId: i.contactCrmId, typeId: COMMUNICATION_TO_CONTACT_TYPE_ID }] })),
    );
    for (const record of created) logged.set(record.properties[COMMUNICATION.messageId] ?? '', record.id);
  }
  const crmIds = inputs.map((i) => logged.get(i.wamid));
  if (crmIds.some((id) => id === undefined)) throw new CrmError('transient', 'HubSpot answered a batch create without every message in it', { crm: 'hubspot' });
  return { crmIds: crmIds as string[], calls: api.calls };
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
