/**
 * The conversation a message belongs to, as the CRM sees it (a Salesforce Case per conversation,
 * SY-2): our conversation (AG-1: from a customer's message until resolved or 24 h quiet) when the
 * automations keep one, else the customer's day — so a case is opened or updated, never one per
 * message. Subject from the message's words, priority from its analysis.
 */
import type { CrmConversation } from '#shared/crm/port';
import type { MessageTag } from '#shared/domain/intelligence/config';
import type { Contact, MessageRecord } from '#shared/domain/records';

const SUBJECT_LENGTH = 80;
/** Tags that make a conversation urgent or worth a salesperson's look. */
const HIGH: ReadonlySet<string> = new Set<MessageTag>(['complaint', 'human_request']);
const MEDIUM: ReadonlySet<string> = new Set<MessageTag>(['order_status', 'purchase_intent', 'price_inquiry']);

export function conversationOf(contact: Contact, message: Pick<MessageRecord, 'sentAt' | 'summary' | 'analysis'>): CrmConversation {
  const ours = contact.conversation;
  const tags = message.analysis?.tags ?? [];
  const sentiment = message.analysis?.sentiment;
  const priority = tags.some((t) => HIGH.has(t)) || (sentiment !== undefined && sentiment < 0.25) ? 'high' : tags.some((t) => MEDIUM.has(t)) ? 'medium' : 'low';
  const words = message.summary.replace(/\s+/g, ' ').trim();
  const subject = words.length > SUBJECT_LENGTH ? `${words.slice(0, SUBJECT_LENGTH - 1)}…` : words || 'WhatsApp conversation';
  if (ours && ours.startedAt <= message.sentAt) {
    return { id: ours.id, startedAt: ours.startedAt, tags, subject, priority, ...(ours.resolvedAt !== undefined && ours.resolvedAt >= ours.startedAt && { resolvedAt: ours.resolvedAt }) };
  }
  const day = new Date(message.sentAt).toISOString().slice(0, 10);
  return { id: `${contact.contactId}:${day}`, startedAt: Date.parse(`${day}T00:00:00Z`), tags, subject, priority };
}
