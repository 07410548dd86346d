/**
 * A sent message becomes part of the conversation: a message row keyed by its wamid, in the
 * customer's history, logged once in the CRM through the ordinary sync path (its row is pending
 * sync). Written by the send function with Meta's answer, or by the status webhook settling a
 * send whose answer was lost — whoever gets there first.
 */
import type { MessageRecord } from '../domain/records.ts';
import type { MessageStore } from '../store/messages.ts';
import type { OutboundRow } from '../store/outbox.ts';
import type { StatsStore } from '../store/stats.ts';
import { agentActivityFact, outboundFact } from '../reports/facts.ts';
import { localTime } from '../reports/time.ts';

/**
 * True when this call wrote it (its CRM sync job is then due). Every call counts the message for
 * the reports (once, by its mark), so a crash between the row and the count is made good by the
 * next call; an agent's message makes its hour an agent hour.
 */
export async function recordOutboundMessage(store: { readonly messages: MessageStore; readonly stats: StatsStore }, row: OutboundRow, wamid: string, at: number, wabaId = ''): Promise<boolean> {
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
  const result = await store.messages.put({ ...record, outboundId: row.id });
  // The time on record (a repeat keeps the first call's), so the count lands where the first did.
  const sentAt = result.created ? record.sentAt : result.existing.sentAt;
  await Promise.all([
    store.stats.count([outboundFact(row.id, sentAt, row.origin)]),
    ...(row.origin === 'agent' && row.agentId ? [store.stats.add([agentActivityFact(row.agentId, sentAt, localTime(sentAt, store.stats.timeZone))])] : []),
  ]);
  return result.created;
}
