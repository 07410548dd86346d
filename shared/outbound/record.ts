/**
 * A sent message becomes part of the conversation: a message row keyed by its wamid, in the
 * customer's history, logged once in the CRM through the ordinary sync path (its row is pending
 * sync). Written by the send function with Meta's answer, or by the status webhook settling a
 * send whose answer was lost — whoever gets there first.
 */
import type { MessageRecord } from '../domain/records.ts';
import type { MessageStore } from '../store/messages.ts';
import type { OutboundRow } from '../store/outbox.ts';

/** True when this call wrote it (its CRM sync job is then due). */
export async function recordOutboundMessage(messages: MessageStore, row: OutboundRow, wamid: string, at: number, wabaId = ''): Promise<boolean> {
  const record: MessageRecord = {
    wamid,
    contactId: row.contactId,
    direction: 'outbound',
    phoneNumberId: row.phoneNumberId,
    wabaId,
    type: row.content.type === 'buttons' || row.content.type === 'list' ? 'interactive' : row.content.type,
    knownType: true,
    summary: row.summary,
    ...(row.content.type === 'text' && { text: row.content.text }),
    ...(row.replyTo && { replyTo: row.replyTo }),
    sentAt: row.sentAt ?? at,
    receivedAt: at,
  };
  const result = await messages.put({ ...record, outboundId: row.id });
  return result.created;
}
