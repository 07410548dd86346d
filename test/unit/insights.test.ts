import { describe, expect, it } from 'vitest';
import { countsText as hotWordsText, mapContactFields } from '#shared/crm/field-mapping';
import { crmContactFields } from '#shared/crm/mapping';
import { fieldMapping } from '#shared/crm/mappings';
import { contactInsights } from '#shared/domain/insights';
import { toContact } from '#shared/store/contacts';
import { shippedIntelligence } from '#shared/domain/intelligence/bundled';
import type { Contact, MessageRecord } from '#shared/domain/records';

const DAY = 86_400_000;
const now = Date.UTC(2026, 10, 25, 12);
const contact = (extra: Partial<Contact> & Record<string, unknown> = {}): Contact =>
  ({ contactId: 'ct_1', leadSource: 'whatsapp', customerLevel: 'new customer', createdAt: 0, updatedAt: 0, ...extra }) as Contact;
const question = (daysAgo: number): Pick<MessageRecord, 'direction' | 'sentAt' | 'analysis' | 'type'> => ({
  direction: 'inbound',
  type: 'text',
  sentAt: now - daysAgo * DAY,
  analysis: { tags: ['price_inquiry'], intent: 'price_inquiry', sku: 'APL-IP15PM', sentiment: 0.5, hotWords: {} },
});

describe('contact insights from stored history', () => {
  it('4 product questions in 7 days → high_intent; 3 → not', () => {
    const intelligence = shippedIntelligence();
    expect(contactInsights(contact(), [question(6), question(4), question(2), question(0)], intelligence, now).segment).toBe('high_intent');
    expect(contactInsights(contact(), [question(6), question(4), question(2)], intelligence, now).segment).not.toBe('high_intent');
  });

  it('a system notice is not the customer speaking', () => {
    const notice = { ...question(1), type: 'system', analysis: undefined };
    expect(contactInsights(contact(), [notice], shippedIntelligence(), now).segment).toBe('new');
  });

  it('"discount" counted more than 3 times earns price_sensitive; the rule tags are kept', () => {
    const insights = contactInsights(contact({ tags: ['complaint'], hotWords: { discount: 4 } }), [], shippedIntelligence(), now);
    expect(insights.tags).toEqual(['complaint', 'price_sensitive']);
    expect(contactInsights(contact({ hotWords: { discount: 3 } }), [], shippedIntelligence(), now).tags).toEqual([]);
  });

  it('sentiment is the mean of the scored messages; none scored → undefined', () => {
    expect(contactInsights(contact({ sentimentSum: 1.5, sentimentCount: 2 }), [], shippedIntelligence(), now).sentiment).toBe(0.75);
    expect(contactInsights(contact(), [], shippedIntelligence(), now).sentiment).toBeUndefined();
  });

  it('our message unread for more than 24 h lowers the priority (TG-6)', () => {
    const history = [question(1)];
    const read = contactInsights(contact({ lastOutboundAt: now - 2 * DAY, lastReadAt: now - DAY }), history, shippedIntelligence(), now);
    const unread = contactInsights(contact({ lastOutboundAt: now - 2 * DAY }), history, shippedIntelligence(), now);
    expect(unread.unreadOver24h).toBe(true);
    expect(unread.priority).toBeLessThan(read.priority);
  });

  it('the store reads the hot-word counters (hw_<word> attributes) into contact.hotWords', () => {
    const stored = toContact({ pk: 'CONTACT#ct_1', sk: 'PROFILE', contactId: 'ct_1', hw_discount: 2, hw_refund: 1, inboundCount: 5 });
    expect(stored.hotWords).toEqual({ discount: 2, refund: 1 });
    expect(stored).not.toHaveProperty('hw_discount');
    expect(stored.inboundCount).toBe(5);
  });
});

describe('CRM properties of a contact (SY-8, ID-6)', () => {
  const crmContactProperties = (c: Contact, insights: ReturnType<typeof contactInsights>) => mapContactFields(crmContactFields(c, insights), fieldMapping('hubspot')).values;

  it('carry segment, tags, scores, sentiment, hot words and message count', () => {
    const c = contact({ inboundCount: 7, hotWords: { discount: 4 } });
    const insights = contactInsights(c, [question(0)], shippedIntelligence(), now);
    expect(crmContactProperties(c, insights)).toMatchObject({
      whatsapp_segment: insights.segment,
      whatsapp_tags: 'price_sensitive',
      whatsapp_activity_score: insights.activityScore,
      whatsapp_priority: insights.priority,
      whatsapp_hot_words: 'discount:4',
      whatsapp_message_count: 7,
      whatsapp_customer_level: 'new customer',
      whatsapp_sentiment: null,
    });
  });

  it('a missing customer level gets its default instead of the record being skipped', () => {
    const c = { ...contact(), customerLevel: undefined } as unknown as Contact;
    expect(crmContactProperties(c, contactInsights(c, [], shippedIntelligence(), now)).whatsapp_customer_level).toBe('new customer');
  });

  it('hot words are written most frequent first, at most 20', () => {
    const counters = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`w${String(i).padStart(2, '0')}`, i]));
    const text = hotWordsText(counters);
    expect(text.split(';')).toHaveLength(20);
    expect(text.startsWith('w24:24;w23:23')).toBe(true);
  });
});

describe('customers silent for longer than the history read (61 days)', () => {
  it('a customer whose last message is 90 days old is churned, not new', () => {
    const silent = contact({ lastInboundAt: now - 90 * DAY, inboundCount: 3 });
    expect(contactInsights(silent, [], shippedIntelligence(), now).segment).toBe('churned');
    expect(contactInsights(contact(), [], shippedIntelligence(), now).segment).toBe('new');
  });

  it('the last message is not counted twice when the history holds it', () => {
    const q = question(2);
    const insights = contactInsights(contact({ lastInboundAt: q.sentAt }), [q], shippedIntelligence(), now);
    expect(insights.segment).toBe('potential');
  });
});
