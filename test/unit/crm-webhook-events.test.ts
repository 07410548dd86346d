/**
 * The webhook's events: their body shapes ({ type, timestamp, data }, docs/crm-webhook.md), their
 * webhook-ids (stable per idempotency key, header-safe, different per event type), the mapping of
 * the fields by config/crm/webhook.json, the cut of long texts and the batching of contacts.updated.
 */
import { describe, expect, it } from 'vitest';
import type { CrmContactFields, CrmContactInput, CrmContactUpdate } from '#shared/crm/port';
import { fieldMapping } from '#shared/crm/mappings';
import {
  contactsUpdatedBatches,
  contactUpserted,
  MAX_MESSAGE_BODY_CHARS,
  messageLogged,
  opportunityCreated,
  serviceReport,
  taskCreated,
  truncate,
  webhookId,
} from '#shared/crm/webhook/events';

const mapping = fieldMapping('webhook');
const NOW = Date.parse('2026-11-20T08:00:00.000Z');
const HEADER_SAFE = /^msg_[A-Za-z0-9_-]{43}$/;

const fields: CrmContactFields = {
  segment: 'high_intent',
  tags: ['price_inquiry', 'vip'],
  activityScore: 72,
  sentiment: 0.8,
  priority: 3,
  hotWords: { discount: 4, refund: 1 },
  frequentEmoji: ['👍', '😂'],
  messageCount: 12,
  lastInteractionAt: Date.parse('2026-11-19T10:00:00.000Z'),
  satisfaction: 5,
  language: 'zh-Hant',
  address: { locality: 'Kowloon', country: 'HK' },
};

const contact: CrmContactInput = {
  contactId: 'c-42',
  bsuid: 'HK.1234567890',
  phone: '+85291234567',
  previousPhones: ['+85290000000'],
  username: 'amy',
  profileName: 'Amy',
  lastInteractionAt: Date.parse('2026-11-19T10:00:00.000Z'),
  fields,
};

const parse = (body: string) => JSON.parse(body) as { type: string; timestamp: string; data: Record<string, unknown> };

describe('webhook-ids', () => {
  it('are header-safe, at most 64 characters, and depend on the event type as well as the key', () => {
    const id = webhookId('message.logged', 'wamid.X');
    expect(id).toMatch(HEADER_SAFE);
    expect(id.length).toBeLessThanOrEqual(64);
    expect(webhookId('message.logged', 'wamid.X')).toBe(id);
    // An opportunity's id is the wamid of the message that showed the intent: not a resend of it.
    expect(webhookId('opportunity.created', 'wamid.X')).not.toBe(id);
  });

  it('message.logged: from the wamid alone (a resend with other details is the same event)', () => {
    const base = { wamid: 'wamid.HBg1', contactCrmId: 'c-42', direction: 'inbound' as const, body: 'Hello', timestamp: NOW };
    const a = messageLogged(base);
    const b = messageLogged({ ...base, conversation: { id: 'conv-1', startedAt: NOW, tags: ['complaint'], subject: 'Hello', priority: 'high' } });
    expect(a.id).toBe(b.id);
    expect(a.id).toBe(webhookId('message.logged', 'wamid.HBg1'));
    expect(messageLogged({ ...base, wamid: 'wamid.HBg2' }).id).not.toBe(a.id);
  });

  it('opportunity.created, task.created, service.report: from their ids, whatever the time of sending', () => {
    const opportunity = { opportunityId: 'wamid.HBg1', contactCrmId: 'c-42', sku: 'SKU-1', createdAt: NOW };
    expect(opportunityCreated(opportunity).id).toBe(opportunityCreated({ ...opportunity, amount: 10 }).id);
    const task = { taskId: 'follow-up:c-42:2026-W48', contactCrmId: 'c-42', subject: 'Call', dueAt: NOW };
    expect(taskCreated(task, NOW).id).toBe(taskCreated(task, NOW + 60_000).id);
    const report = { reportId: 'service-week:2026-W48', periodStart: NOW, periodEnd: NOW + 1, medianFirstResponseMs: 272_000, conversations: 10, unanswered: 1 };
    expect(serviceReport(report, NOW).id).toBe(serviceReport(report, NOW + 5).id);
  });

  it('contact.upserted: the same state gives the same id at any time; a changed state or another contact a new one', () => {
    const first = contactUpserted(contact, mapping, NOW);
    expect(first.id).toMatch(HEADER_SAFE);
    expect(contactUpserted(contact, mapping, NOW + 3_600_000).id).toBe(first.id);
    expect(contactUpserted({ ...contact, knownCrmId: 'c-42' }, mapping, NOW).id).toBe(first.id);
    expect(contactUpserted({ ...contact, fields: { ...fields, messageCount: 13 } }, mapping, NOW).id).not.toBe(first.id);
    expect(contactUpserted({ ...contact, phone: '+85298765432', previousPhones: ['+85291234567'] }, mapping, NOW).id).not.toBe(first.id);
    expect(contactUpserted({ ...contact, contactId: 'c-43' }, mapping, NOW).id).not.toBe(first.id);
  });
});

describe('event bodies', () => {
  it('contact.upserted carries the identity and the mapped fields (datetimes as ISO, keys from config/crm/webhook.json)', () => {
    const body = parse(contactUpserted(contact, mapping, NOW).body);
    expect(body.type).toBe('contact.upserted');
    expect(body.timestamp).toBe('2026-11-20T08:00:00.000Z');
    expect(body.data).toEqual({
      contactId: 'c-42',
      bsuid: 'HK.1234567890',
      phone: '+85291234567',
      previousPhones: ['+85290000000'],
      username: 'amy',
      profileName: 'Amy',
      lastInteractionAt: '2026-11-19T10:00:00.000Z',
      leadSource: 'WhatsApp',
      fields: {
        segment: 'high_intent',
        tags: 'price_inquiry;vip',
        activityScore: 72,
        sentiment: 0.8,
        priority: 3,
        hotWords: 'discount:4;refund:1',
        frequentEmoji: '👍;😂',
        messageCount: 12,
        customerLevel: 'new customer',
        lastInteractionAt: '2026-11-19T10:00:00.000Z',
        satisfaction: 5,
        language: 'zh-Hant',
        addressLocality: 'Kowloon',
        addressCountry: 'HK',
      },
    });
  });

  it('contact.upserted of a BSUID-only customer with no fields: identity only, no phone, no fields key', () => {
    const body = parse(contactUpserted({ contactId: 'c-7', bsuid: 'US.99' }, mapping, NOW).body);
    expect(body.data).toEqual({ contactId: 'c-7', bsuid: 'US.99', leadSource: 'WhatsApp' });
  });

  it('message.logged, opportunity.created, task.created and service.report', () => {
    const message = parse(
      messageLogged({
        wamid: 'wamid.HBg1',
        contactCrmId: 'c-42',
        direction: 'outbound',
        body: 'Your order shipped',
        timestamp: NOW,
        conversation: { id: 'conv-1', startedAt: NOW - 60_000, tags: ['order_status'], subject: 'Where is my order', priority: 'medium' },
      }).body,
    );
    expect(message).toEqual({
      type: 'message.logged',
      timestamp: '2026-11-20T08:00:00.000Z',
      data: {
        wamid: 'wamid.HBg1',
        contactId: 'c-42',
        direction: 'outbound',
        body: 'Your order shipped',
        timestamp: '2026-11-20T08:00:00.000Z',
        conversation: { id: 'conv-1', startedAt: '2026-11-20T07:59:00.000Z', tags: ['order_status'], subject: 'Where is my order', priority: 'medium' },
      },
    });
    expect(parse(opportunityCreated({ opportunityId: 'wamid.HBg1', contactCrmId: 'c-42', sku: 'SKU-1', productName: 'Tea', amount: 120, currency: 'HKD', createdAt: NOW }).body)).toEqual({
      type: 'opportunity.created',
      timestamp: '2026-11-20T08:00:00.000Z',
      data: { opportunityId: 'wamid.HBg1', contactId: 'c-42', sku: 'SKU-1', productName: 'Tea', amount: 120, currency: 'HKD', createdAt: '2026-11-20T08:00:00.000Z' },
    });
    expect(parse(taskCreated({ taskId: 't-1', contactCrmId: 'c-42', subject: 'Call', body: 'About the refund', dueAt: NOW + 86_400_000, ownerId: 'u-9' }, NOW).body)).toEqual({
      type: 'task.created',
      timestamp: '2026-11-20T08:00:00.000Z',
      data: { taskId: 't-1', contactId: 'c-42', subject: 'Call', body: 'About the refund', dueAt: '2026-11-21T08:00:00.000Z', ownerId: 'u-9' },
    });
    expect(parse(serviceReport({ reportId: 'service-week:2026-W48', periodStart: NOW, periodEnd: NOW + 1000, medianFirstResponseMs: undefined, conversations: 3, unanswered: 1 }, NOW).body).data).toEqual({
      reportId: 'service-week:2026-W48',
      periodStart: '2026-11-20T08:00:00.000Z',
      periodEnd: '2026-11-20T08:00:01.000Z',
      medianFirstResponseMs: null,
      conversations: 3,
      unanswered: 1,
    });
  });

  it('cuts a message body past 4,096 characters, flagged with the original length, never inside an emoji', () => {
    const long = 'a'.repeat(MAX_MESSAGE_BODY_CHARS - 1) + '👋' + 'b'.repeat(10);
    const data = parse(messageLogged({ wamid: 'w', contactCrmId: 'c', direction: 'inbound', body: long, timestamp: NOW }).body).data;
    expect(data.bodyTruncated).toBe(true);
    expect(data.bodyLength).toBe(long.length);
    expect(data.body).toBe('a'.repeat(MAX_MESSAGE_BODY_CHARS - 1));
    expect(truncate('short', 10)).toEqual({ text: 'short', truncated: false });
    const exact = parse(messageLogged({ wamid: 'w', contactCrmId: 'c', direction: 'inbound', body: 'x'.repeat(MAX_MESSAGE_BODY_CHARS), timestamp: NOW }).body).data;
    expect(exact.bodyTruncated).toBeUndefined();
  });
});

describe('contacts.updated batches', () => {
  const updates = (n: number): CrmContactUpdate[] =>
    Array.from({ length: n }, (_, i) => ({ crmId: `c-${i}`, contactId: `c-${i}`, fields: { ...fields, messageCount: i } }));

  it('puts 150 updates in two events of 100 and 50, each a stable id of its contents', () => {
    const { batches, tooLarge } = contactsUpdatedBatches(updates(150), mapping, NOW);
    expect(tooLarge).toEqual([]);
    expect(batches.map((b) => b.indexes.length)).toEqual([100, 50]);
    const first = parse(batches[0]!.event.body);
    expect(first.type).toBe('contacts.updated');
    expect(first.data.count).toBe(100);
    expect((first.data.contacts as { contactId: string }[])[99]!.contactId).toBe('c-99');
    expect(contactsUpdatedBatches(updates(150), mapping, NOW + 1000).batches.map((b) => b.event.id)).toEqual(batches.map((b) => b.event.id));
    expect(batches[0]!.event.id).not.toBe(batches[1]!.event.id);
  });

  it('halves a batch over the size cap and sets aside an update too big on its own', () => {
    const one = contactsUpdatedBatches(updates(1), mapping, NOW).batches[0]!.event.bytes;
    const { batches } = contactsUpdatedBatches(updates(8), mapping, NOW, { maxContacts: 100, maxBytes: one * 3 });
    expect(batches.map((b) => b.indexes)).toEqual([[0, 1], [2, 3], [4, 5], [6, 7]]);
    for (const b of batches) expect(b.event.bytes).toBeLessThanOrEqual(one * 3);
    const huge = updates(3);
    huge[1] = { ...huge[1]!, fields: { ...fields, lastCoupon: 'x'.repeat(one * 4) } };
    const split = contactsUpdatedBatches(huge, mapping, NOW, { maxContacts: 100, maxBytes: one * 3 });
    expect(split.tooLarge).toEqual([1]);
    expect(split.batches.flatMap((b) => b.indexes)).toEqual([0, 2]);
  });
});
