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
 * A burst of messages in one request (SY-5's burst batching): one batch create logs them all with
 * their contact associations. All or nothing: HubSpot refuses the whole batch when one message is
 * already logged (its unique `whatsapp_message_id`, e.g. a job repeated after a crash) — then a
 * batch read by that key finds the logged ones and one more batch create logs the rest. An answer
 * that is lost is looked up the same way before anything is created again. Only with the
 * `unique-property` strategy: without the unique key a batch could duplicate.
 */
export async function logMessages(api: HubSpotApi, inputs: readonly CrmMessageInput[]): Promise<{ crmIds: string[]; calls: number }> {
  const create = (list: readonly CrmMessageInput[]) =>
    api.batchCreate(
      'communications',
      list.map((i) => ({ properties: communicationProperties(i), associations: [{ toId: i.contactCrmId, typeId: COMMUNICATION_TO_CONTACT_TYPE_ID }] })),
    );
  const logged = new Map<string, string>();
  const keep = (records: readonly { id: string; properties: Record<string, string | null> }[]) => {
    for (const r of records) logged.set(r.properties[COMMUNICATION.messageId] ?? '', r.id);
  };
  try {
    keep(await create(inputs));
  } catch (error) {
    const alreadyLogged = error instanceof CrmError && (error.details.status === 409 || error.details.category === 'CONFLICT' || error.details.outcomeUnknown === true);
    if (!alreadyLogged) throw error;
    keep(await api.batchRead('communications', inputs.map((i) => i.wamid), { idProperty: COMMUNICATION.messageId, properties: [COMMUNICATION.messageId] }));
    const missing = inputs.filter((i) => !logged.has(i.wamid));
    if (missing.length) keep(await create(missing));
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
