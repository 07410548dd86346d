/**
 * Logging one WhatsApp message as one HubSpot `communications` record, associated to the
 * contact in the same create request, exactly once.
 *
 * Two de-duplication strategies, chosen from what HubSpot reports about the message id
 * property (see docs/hubspot.md):
 * - `unique-property`: `whatsapp_message_id` has `hasUniqueValue`; the create itself is the
 *   claim. A refused duplicate is read back by `idProperty`. One call on the steady path.
 * - `timeline-scan`: the property is not unique; before creating, the contact's associated
 *   communications are read (consistent association and batch reads, not search) and the
 *   message id compared. Relies on one contact's messages being synced one at a time (the
 *   sync queue is FIFO per contact); within one process, concurrent calls are joined.
 */
import { CrmError, type CrmMessageInput, type CrmMessageResult } from '#shared/crm/port';
import type { HubSpotApi, PropertyValues } from './api.ts';
import { COMMUNICATION, COMMUNICATION_TO_CONTACT_TYPE_ID } from './properties.ts';

/** How a record is kept unique by its idempotency key (see docs/hubspot.md). */
export type DedupStrategy = 'unique-property' | 'timeline-scan';
export type MessageDedupStrategy = DedupStrategy;

export async function logMessage(
  api: HubSpotApi,
  input: CrmMessageInput,
  strategy: MessageDedupStrategy,
): Promise<CrmMessageResult> {
  if (strategy === 'timeline-scan') {
    const existing = await findOnTimeline(api, input);
    if (existing) return { crmId: existing, created: false, calls: api.calls };
  }
  const created = await api.create('communications', communicationProperties(input), [
    { toId: input.contactCrmId, typeId: COMMUNICATION_TO_CONTACT_TYPE_ID },
  ]);
  if (created.kind === 'created') return { crmId: created.record.id, created: true, calls: api.calls };

  const existing = await api.read('communications', input.wamid, {
    idProperty: COMMUNICATION.messageId,
    properties: [COMMUNICATION.messageId],
  });
  if (!existing) {
    throw new CrmError('transient', `HubSpot reported message ${input.wamid} as a duplicate but cannot read it back`, {
      crm: 'hubspot',
    });
  }
  return { crmId: existing.id, created: false, calls: api.calls };
}

async function findOnTimeline(api: HubSpotApi, input: CrmMessageInput): Promise<string | undefined> {
  const ids = await api.associatedIds('contacts', input.contactCrmId, 'communications');
  if (ids.length === 0) return undefined;
  const records = await api.batchRead('communications', ids, { properties: [COMMUNICATION.messageId] });
  return records.find((r) => r.properties[COMMUNICATION.messageId] === input.wamid)?.id;
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
