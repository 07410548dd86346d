/**
 * The conversation a message belongs to, as the CRM sees it (a Salesforce Case per conversation,
 * SY-2): our conversation (AG-1: from a customer's message until resolved or 24 h quiet), named
 * as the automations name it — so a case is opened or updated, never one per message, and a
 * message synced before the automations recorded its conversation lands on the same case.
 * Subject from the message's words, priority from its analysis.
 */
import type { CrmConversation } from '#shared/crm/port';
import type { MessageTag } from '#shared/domain/intelligence/config';
import type { Contact, MessageRecord } from '#shared/domain/records';

const SUBJECT_LENGTH = 80;
/** Tags that make a conversation urgent or worth a salesperson's look. */
const HIGH: ReadonlySet<string> = new Set<MessageTag>(['complaint', 'human_request']);
const MEDIUM: ReadonlySet<string> = new Set<MessageTag>(['order_status', 'purchase_intent', 'price_inquiry']);

/** A conversation ends after this long without a message (AG-1; the automations' CONVERSATION_IDLE_MS). */
const IDLE_MS = 24 * 3_600_000;

export function conversationOf(contact: Contact, message: Pick<MessageRecord, 'sentAt' | 'summary' | 'analysis' | 'direction'>): CrmConversation {
  const ours = contact.conversation;
  const tags = message.analysis?.tags ?? [];
  const sentiment = message.analysis?.sentiment;
  const priority = tags.some((t) => HIGH.has(t)) || (sentiment !== undefined && sentiment < 0.25) ? 'high' : tags.some((t) => MEDIUM.has(t)) ? 'medium' : 'low';
  const words = message.summary.replace(/\s+/g, ' ').trim();
  const subject = words.length > SUBJECT_LENGTH ? `${words.slice(0, SUBJECT_LENGTH - 1)}…` : words || 'WhatsApp conversation';
  const at = message.sentAt;
  const current = ours && ours.startedAt <= at && (ours.resolvedAt === undefined || at <= ours.resolvedAt) && at - (ours.lastMessageAt ?? ours.startedAt) < IDLE_MS;
  if (ours && current) {
    return { id: ours.id, startedAt: ours.startedAt, tags, subject, priority, ...(ours.resolvedAt !== undefined && { resolvedAt: ours.resolvedAt }) };
  }
  // A customer's message outside a current conversation starts one: the id the automations give it
  // (contact and first message time), whether they have recorded it yet or not. A customer with no
  // conversation recorded yet is in their first, which started with their first message.
  if (message.direction === 'inbound') {
    const first = contact.firstInboundAt;
    const startedAt = ours ? at : first !== undefined && first <= at && at - first < IDLE_MS ? first : undefined;
    if (startedAt !== undefined) return { id: `${contact.contactId}:${startedAt}`, startedAt, tags, subject, priority };
  }
  // An answer belongs to the conversation it answers (or, with none known, to the customer's day).
  if (ours && ours.startedAt <= at) return { id: ours.id, startedAt: ours.startedAt, tags, subject, priority, ...(ours.resolvedAt !== undefined && { resolvedAt: ours.resolvedAt }) };
  const day = new Date(at).toISOString().slice(0, 10);
  return { id: `${contact.contactId}:${day}`, startedAt: Date.parse(`${day}T00:00:00Z`), tags, subject, priority };
}
