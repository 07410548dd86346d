/**
 * The conversation a message is logged under (a Salesforce Case per conversation): named as the
 * automations name it, so a message synced before they recorded it lands on the same case.
 */
import { describe, expect, it } from 'vitest';
import { conversationOf } from '#functions/sync/conversation';
import type { Contact } from '#shared/domain/records';

const HOUR = 3_600_000;
const t0 = Date.UTC(2026, 11, 2, 9);
const contact = (extra: Partial<Contact> = {}): Contact => ({ contactId: 'ct_1', leadSource: 'whatsapp', customerLevel: 'new customer', createdAt: t0, updatedAt: t0, firstInboundAt: t0, ...extra });
const message = (at: number, direction: 'inbound' | 'outbound' = 'inbound', tags: string[] = []) => ({ sentAt: at, summary: '  Where is   my parcel? ', direction, analysis: { tags, intent: 'other', sku: null, sentiment: 0.5, hotWords: {} } });

describe('conversationOf', () => {
  it("a customer's first messages, before the automations record the conversation, get the id they will give it", () => {
    expect(conversationOf(contact(), message(t0)).id).toBe(`ct_1:${t0}`);
    expect(conversationOf(contact(), message(t0 + HOUR)).id).toBe(`ct_1:${t0}`);
    expect(conversationOf(contact({ conversation: { id: `ct_1:${t0}`, startedAt: t0, lastMessageAt: t0 } }), message(t0 + HOUR)).id).toBe(`ct_1:${t0}`);
  });

  it('a message after a resolved or 24 h quiet conversation starts the next one; an answer stays on the one it answers', () => {
    const resolved = contact({ conversation: { id: `ct_1:${t0}`, startedAt: t0, lastMessageAt: t0, resolvedAt: t0 + HOUR } });
    expect(conversationOf(resolved, message(t0 + 2 * HOUR)).id).toBe(`ct_1:${t0 + 2 * HOUR}`);
    const quiet = contact({ conversation: { id: `ct_1:${t0}`, startedAt: t0, lastMessageAt: t0 } });
    expect(conversationOf(quiet, message(t0 + 30 * HOUR)).id).toBe(`ct_1:${t0 + 30 * HOUR}`);
    expect(conversationOf(quiet, message(t0 + 2 * HOUR, 'outbound')).id).toBe(`ct_1:${t0}`);
  });

  it('subject from the words, priority from the analysis', () => {
    const c = conversationOf(contact(), message(t0, 'inbound', ['complaint']));
    expect(c).toMatchObject({ subject: 'Where is my parcel?', priority: 'high', tags: ['complaint'] });
    expect(conversationOf(contact(), message(t0, 'inbound', ['order_status'])).priority).toBe('medium');
    expect(conversationOf(contact(), message(t0)).priority).toBe('low');
  });
});
