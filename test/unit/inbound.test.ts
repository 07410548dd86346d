import { describe, expect, it } from 'vitest';
import type { InboundMessage, StatusUpdate } from '#shared/domain/events';
import { parseWebhook } from '#shared/whatsapp/inbound';
import { WebhookPayloadSchema } from '#shared/whatsapp/schema';
import { envelope, inboundMessage, numberChange, statusUpdate, textMessage, DEFAULT_BUSINESS } from '#local/webhooks';

const options = { defaultRegion: 'HK' };
const mei = { waId: '85291234567', bsuid: 'HK.100200300', name: 'Mei', username: 'mei.c' };
const ken = { bsuid: 'TW.998877', username: 'ken.lin', name: 'Ken' };

function parse(payload: unknown) {
  return parseWebhook(WebhookPayloadSchema.parse(payload), options);
}
const only = <T>(events: unknown[]): T => {
  expect(events).toHaveLength(1);
  return events[0] as T;
};

describe('every message type Meta sends is parsed (IN-3)', () => {
  const cases: [string, Record<string, unknown> & { type: string }, string, string | undefined][] = [
    ['text', { type: 'text', text: { body: 'How much?' } }, 'How much?', 'How much?'],
    ['image', { type: 'image', image: { id: 'm1', mime_type: 'image/jpeg', caption: 'this one' } }, '[image] this one', 'this one'],
    ['video', { type: 'video', video: { id: 'm2', mime_type: 'video/mp4' } }, '[video]', undefined],
    ['audio (voice)', { type: 'audio', audio: { id: 'm3', mime_type: 'audio/ogg; codecs=opus', voice: true } }, '[audio]', undefined],
    ['document', { type: 'document', document: { id: 'm4', filename: 'invoice.pdf', mime_type: 'application/pdf' } }, '[document invoice.pdf]', undefined],
    ['sticker', { type: 'sticker', sticker: { id: 'm5', mime_type: 'image/webp', animated: false } }, '[sticker]', undefined],
    ['location', { type: 'location', location: { latitude: 22.28, longitude: 114.16, name: 'IFC', address: 'Central' } }, '[location] IFC, Central (22.28, 114.16)', undefined],
    ['contacts', { type: 'contacts', contacts: [{ name: { formatted_name: 'A' } }] }, '[contacts] 1 shared', undefined],
    ['interactive button reply', { type: 'interactive', interactive: { type: 'button_reply', button_reply: { id: 'b1', title: 'Yes please' } } }, 'Yes please', 'Yes please'],
    ['interactive list reply', { type: 'interactive', interactive: { type: 'list_reply', list_reply: { id: 'l1', title: 'Size M' } } }, 'Size M', 'Size M'],
    ['interactive flow reply', { type: 'interactive', interactive: { type: 'nfm_reply', nfm_reply: { name: 'flow', body: 'Sent', response_json: '{}' } } }, '[interactive nfm_reply] Sent', undefined],
    ['template button', { type: 'button', button: { payload: 'STOP', text: 'Stop promotions' } }, 'Stop promotions', 'Stop promotions'],
    ['reaction', { type: 'reaction', reaction: { message_id: 'wamid.x', emoji: '😂' } }, '[reaction 😂]', undefined],
    ['order', { type: 'order', order: { catalog_id: 'c', product_items: [{ product_retailer_id: 'SKU1', quantity: 2, item_price: 10, currency: 'HKD' }] } }, '[order] 1 item(s)', undefined],
    ['unsupported', { type: 'unsupported', errors: [{ code: 131051, title: 'Message type unknown' }] }, '[unsupported] 131051 Message type unknown', undefined],
  ];

  it.each(cases)('%s', (_, content, summary, text) => {
    const m = only<InboundMessage>(parse(inboundMessage(mei, content, { wamid: 'wamid.A1', at: 1_760_000_000_000 })));
    expect(m).toMatchObject({ kind: 'message', wamid: 'wamid.A1', type: content.type, knownType: true, summary, sentAt: 1_760_000_000_000 });
    expect(m.text).toBe(text);
    expect(m.account).toEqual({ wabaId: DEFAULT_BUSINESS.wabaId, phoneNumberId: DEFAULT_BUSINESS.phoneNumberId, displayPhone: DEFAULT_BUSINESS.displayPhone });
  });

  it('media messages carry the media id for the media job', () => {
    const m = only<InboundMessage>(parse(inboundMessage(mei, { type: 'image', image: { id: '1044187693', mime_type: 'image/jpeg', sha256: 'abc' } })));
    expect(m.media).toEqual({ kind: 'image', mediaId: '1044187693', mimeType: 'image/jpeg', sha256: 'abc', filename: undefined });
  });

  it('a click-to-WhatsApp ad referral is kept as the lead source', () => {
    const m = only<InboundMessage>(parse(inboundMessage(mei, { type: 'text', text: { body: 'hi' }, referral: { source_id: 'ad-1', source_type: 'ad', source_url: 'https://fb.me/x', headline: 'Sale' } })));
    expect(m.referral).toEqual({ sourceId: 'ad-1', sourceType: 'ad', sourceUrl: 'https://fb.me/x', headline: 'Sale' });
  });

  it('a type this version does not know is kept raw, flagged, never a crash', () => {
    const m = only<InboundMessage>(parse(inboundMessage(mei, { type: 'poll_vote', poll_vote: { option: 'blue' } })));
    expect(m).toMatchObject({ type: 'poll_vote', knownType: false, summary: '[poll_vote]' });
    expect(m.raw).toMatchObject({ poll_vote: { option: 'blue' } });
  });

  it('unknown fields are kept in the raw message', () => {
    const payload = textMessage(mei, 'hi');
    (payload.entry[0]!.changes[0]!.value as unknown as { messages: Record<string, unknown>[] }).messages[0]!['brand_new_field'] = { x: 1 };
    const m = only<InboundMessage>(parse(payload));
    expect(m.raw).toMatchObject({ brand_new_field: { x: 1 } });
  });
});

describe('identity fields since WhatsApp usernames (ID-1b)', () => {
  it('phone and BSUID both present: both identities, phone in E.164', () => {
    const m = only<InboundMessage>(parse(textMessage(mei, 'hi')));
    expect(m.customer).toMatchObject({ bsuid: 'HK.100200300', phone: { e164: '+85291234567', valid: true }, username: 'mei.c', profileName: 'Mei' });
  });

  it('a message with no phone at all is a full customer by BSUID', () => {
    const m = only<InboundMessage>(parse(textMessage(ken, '你好')));
    expect(m.customer).toEqual({ bsuid: 'TW.998877', parentBsuid: undefined, phone: undefined, username: 'ken.lin', profileName: 'Ken' });
  });

  it('the parent BSUID is kept when Meta sends one', () => {
    const m = only<InboundMessage>(parse(textMessage({ ...ken, parentBsuid: 'US.ENT.11815799212886844830' }, 'hi')));
    expect(m.customer.parentBsuid).toBe('US.ENT.11815799212886844830');
  });

  it('user_changed_number: the sender is the old identity, the change carries the new ones', () => {
    const m = only<InboundMessage>(parse(numberChange(mei, '85298765432', 'HK.555')));
    expect(m.customer).toMatchObject({ bsuid: 'HK.100200300', phone: { e164: '+85291234567' } });
    expect(m.identityChange).toMatchObject({ reason: 'user_changed_number', newBsuid: 'HK.555', previousBsuid: 'HK.100200300', newPhone: { e164: '+85298765432' } });
  });

  it('user_changed_user_id without previous_user_id takes the old id from the body', () => {
    const payload = envelope(DEFAULT_BUSINESS, {
      messages: [{ id: 'wamid.S', timestamp: '1760000000', type: 'system', system: { type: 'user_changed_user_id', user_id: 'HK.NEW1', body: 'User changed from HK.OLD1 to HK.NEW1' } }],
    });
    const m = only<InboundMessage>(parse(payload));
    expect(m.identityChange).toEqual({ reason: 'user_changed_user_id', newBsuid: 'HK.NEW1', previousBsuid: 'HK.OLD1' });
    expect(m.customer.bsuid).toBe('HK.OLD1');
  });

  it('user_id_update (if it arrives) becomes an identity update', () => {
    const payload = envelope(DEFAULT_BUSINESS, { user_id_update: [{ wa_id: '85291234567', user_id: { previous: 'HK.OLD', current: 'HK.NEW' }, timestamp: '1760000000' }] });
    expect(parse(payload)).toEqual([
      expect.objectContaining({ kind: 'identity_update', change: { reason: 'user_id_update', newBsuid: 'HK.NEW', previousBsuid: 'HK.OLD' } }),
    ]);
  });
});

describe('status callbacks (IN-3)', () => {
  it.each([
    ['recipient_id only', { waId: '85291234567' }],
    ['recipient_user_id only', { bsuid: 'HK.100200300' }],
    ['both', { waId: '85291234567', bsuid: 'HK.100200300' }],
  ])('are parsed with %s', (_, recipient) => {
    const s = only<StatusUpdate>(parse(statusUpdate('wamid.OUT', 'delivered', recipient, { at: 1_760_000_000_000 })));
    expect(s).toMatchObject({ kind: 'status', wamid: 'wamid.OUT', status: 'delivered', at: 1_760_000_000_000 });
    expect(s.pricing).toEqual({ billable: true, pricingModel: 'PMP', category: 'utility', type: 'regular' });
  });

  it('failed carries Meta error code and title', () => {
    const s = only<StatusUpdate>(parse(statusUpdate('wamid.OUT', 'failed', { waId: '85291234567' }, { error: { code: 131026, title: 'Message undeliverable' } })));
    expect(s.errors).toEqual([{ code: 131026, title: 'Message undeliverable', message: 'Message undeliverable' }]);
  });
});

describe('what cannot be understood is kept, not dropped (invariant 6)', () => {
  it('a message without an id becomes an unprocessable event with its raw JSON', () => {
    const payload = envelope(DEFAULT_BUSINESS, { messages: [{ timestamp: '1760000000', type: 'text', text: { body: 'x' } }] });
    expect(parse(payload)).toEqual([expect.objectContaining({ kind: 'unprocessable', reason: expect.stringContaining('id'), raw: expect.objectContaining({ type: 'text' }) })]);
  });

  it('a webhook field the product does not handle is kept raw', () => {
    const payload = envelope(DEFAULT_BUSINESS, { event: 'FLAGGED' }, 'account_update');
    expect(parse(payload)).toEqual([expect.objectContaining({ kind: 'unprocessable', field: 'account_update', reason: 'webhook field "account_update" is not handled' })]);
  });

  it('several entries and changes in one delivery are all parsed, in order', () => {
    const a = textMessage(mei, 'one', { wamid: 'w1' });
    const b = textMessage(ken, 'two', { wamid: 'w2' });
    const both = { object: 'whatsapp_business_account', entry: [...a.entry, ...b.entry] };
    expect(parse(both).map((e) => (e as InboundMessage).wamid)).toEqual(['w1', 'w2']);
  });
});
