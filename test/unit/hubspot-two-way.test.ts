/** HubSpot's webhooks, pure (SY-3): the v3 signature and the events as CRM-neutral changes. */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeSignedUri, parseHubSpotEvents, signHubSpotRequest, verifyHubSpotSignature, webhookSubscriptions } from '#shared/crm/hubspot/inbound';
import { replyStatusText, replyStatusTime } from '#shared/crm/hubspot/two-way';

const SECRET = 'client-secret';
const NOW = Date.parse('2026-12-02T09:00:00.000Z');
const URI = 'https://scrm.example.com/crm-events/hubspot';
const BODY = JSON.stringify([{ eventId: 1, occurredAt: NOW }]);
/** HubSpot's recipe, written out independently of the module. */
const sign = (body: string, timestamp: number, uri = URI, secret = SECRET) => createHmac('sha256', secret).update(`POST${uri}${body}${timestamp}`).digest('base64');
const check = (over: Partial<Parameters<typeof verifyHubSpotSignature>[0]> = {}) =>
  verifyHubSpotSignature({ method: 'POST', uri: URI, body: BODY, timestamp: String(NOW), signature: sign(BODY, NOW), secret: SECRET, now: NOW, ...over });

describe('HubSpot signature v3', () => {
  it('accepts a request signed with the client secret, also up to 5 minutes later', () => {
    expect(check()).toEqual({ ok: true });
    expect(check({ now: NOW + 5 * 60_000 })).toEqual({ ok: true });
    expect(signHubSpotRequest(SECRET, 'post', URI, BODY, String(NOW))).toBe(sign(BODY, NOW));
  });
  it('refuses a forged signature, another secret, a changed body, URI or method', () => {
    expect(check({ signature: 'AAAA' })).toEqual({ ok: false, reason: expect.stringContaining('does not match') });
    expect(check({ signature: sign(BODY, NOW, URI, 'other-secret') })).toMatchObject({ ok: false });
    expect(check({ body: BODY.replace('1', '2') })).toMatchObject({ ok: false });
    expect(check({ uri: 'https://evil.example.com/crm-events/hubspot' })).toMatchObject({ ok: false });
    expect(check({ method: 'PUT' })).toMatchObject({ ok: false });
    expect(check({ secret: '' })).toMatchObject({ ok: false, reason: expect.stringContaining('client secret') });
  });
  it('refuses a stale timestamp and one from the future, naming which', () => {
    const old = NOW - 5 * 60_000 - 1;
    expect(check({ timestamp: String(old), signature: sign(BODY, old) })).toEqual({ ok: false, reason: expect.stringContaining('old') });
    const ahead = NOW + 6 * 60_000;
    expect(check({ timestamp: String(ahead), signature: sign(BODY, ahead) })).toEqual({ ok: false, reason: expect.stringContaining('future') });
    expect(check({ timestamp: '2026-12-02T09:00:00Z' })).toEqual({ ok: false, reason: expect.stringContaining('not milliseconds') });
  });
  it('refuses a request without its headers, naming the header', () => {
    expect(check({ signature: undefined })).toEqual({ ok: false, reason: expect.stringContaining('X-HubSpot-Signature-v3') });
    expect(check({ timestamp: undefined })).toEqual({ ok: false, reason: expect.stringContaining('X-HubSpot-Request-Timestamp') });
    expect(check({ signature: '' })).toMatchObject({ ok: false });
  });
  it('decodes exactly the characters HubSpot lists before signing', () => {
    expect(decodeSignedUri('https://h/p?a=%3A%2F%3F%40%21%24%27%28%29%2a%2C%3B&b=%20%26')).toBe("https://h/p?a=:/?@!$'()*,;&b=%20%26");
    const signedAs = 'https://scrm.example.com/crm-events/hubspot?x=a:b';
    expect(check({ uri: 'https://scrm.example.com/crm-events/hubspot?x=a%3Ab', signature: sign(BODY, NOW, signedAs) })).toEqual({ ok: true });
  });
});

describe('HubSpot events → CRM changes', () => {
  const event = (over: Record<string, unknown>) => ({ eventId: 10, subscriptionId: 1, portalId: 2, appId: 3, occurredAt: NOW, subscriptionType: 'object.propertyChange', attemptNumber: 0, objectId: 501, objectTypeId: '0-1', changeSource: 'CRM_UI', sourceId: 'userId:77', ...over });
  const parse = (events: unknown, appId?: string) => parseHubSpotEvents(events, { customerLevelProperty: 'whatsapp_customer_level', ...(appId && { appId }) });

  it('first name and customer level, an empty value as cleared, each with its event id and time', () => {
    expect(parse([event({ propertyName: 'firstname', propertyValue: 'Meg' }), event({ eventId: 11, occurredAt: NOW + 1, propertyName: 'whatsapp_customer_level', propertyValue: '' })])).toEqual({
      events: [
        { eventId: '10', occurredAt: NOW, change: { kind: 'contact', crmId: '501', changes: [{ field: 'firstName', value: 'Meg', at: NOW }] } },
        { eventId: '11', occurredAt: NOW + 1, change: { kind: 'contact', crmId: '501', changes: [{ field: 'customerLevel', value: null, at: NOW + 1 }] } },
      ],
    });
  });
  it('the legacy contact.propertyChange too; a checked opt-out is one, an unchecked one is nothing', () => {
    const r = parse([event({ subscriptionType: 'contact.propertyChange', objectTypeId: undefined, propertyName: 'whatsapp_marketing_opt_out', propertyValue: 'true' }), event({ eventId: 12, propertyName: 'whatsapp_marketing_opt_out', propertyValue: 'false' })]);
    expect(r).toEqual({ events: [{ eventId: '10', occurredAt: NOW, change: { kind: 'contact', crmId: '501', changes: [], optedOutAt: NOW } }] });
  });
  it('a reply written on the contact, identified by contact and time, with its writer', () => {
    expect(parse([event({ propertyName: 'whatsapp_reply', propertyValue: 'In stock!' })])).toEqual({
      events: [{ eventId: '10', occurredAt: NOW, change: { kind: 'reply', replyId: `501:${NOW}`, contactCrmId: '501', text: 'In stock!', crmUserId: '77', at: NOW } }],
    });
    // Cleared, or written by our own app: nothing to send.
    expect(parse([event({ propertyName: 'whatsapp_reply', propertyValue: '' }), event({ propertyName: 'whatsapp_reply', propertyValue: 'x', changeSource: 'INTEGRATION', sourceId: '3' })], '3')).toEqual({ events: [] });
  });
  it("ours only when the integration's sourceId is our app (appId is the receiver's on every event)", () => {
    const r = parse([event({ propertyName: 'firstname', propertyValue: 'Mei', changeSource: 'INTEGRATION', sourceId: '3' }), event({ eventId: 11, propertyName: 'firstname', propertyValue: 'Mo', changeSource: 'INTEGRATION', sourceId: '999' }), event({ eventId: 12, propertyName: 'firstname', propertyValue: 'Ma', changeSource: 'CRM_UI', sourceId: 'userId:3' })], '3');
    expect(r).toMatchObject({ events: [{ change: { ours: true } }, { change: {} }, { change: {} }] });
    const events = (r as { events: { change: { ours?: boolean } }[] }).events;
    expect(events.map((e) => e.change.ours)).toEqual([true, undefined, undefined]);
    // Without our app id nothing is ours.
    expect((parse([event({ propertyName: 'firstname', propertyValue: 'Mei', changeSource: 'INTEGRATION', sourceId: '3' })]) as { events: { change: { ours?: boolean } }[] }).events[0]!.change.ours).toBeUndefined();
  });
  it('a deal moved to a closed stage is a ref to read its contact; other stages are nothing', () => {
    expect(parse([event({ objectTypeId: '0-3', objectId: 77, propertyName: 'dealstage', propertyValue: 'closedwon' }), event({ eventId: 11, objectTypeId: '0-3', propertyName: 'dealstage', propertyValue: 'qualifiedtobuy' }), event({ eventId: 12, subscriptionType: 'deal.propertyChange', objectTypeId: undefined, objectId: 78, propertyName: 'dealstage', propertyValue: 'closedlost' })])).toEqual({
      events: [
        { eventId: '10', occurredAt: NOW, change: { kind: 'ref', module: 'deals', ids: ['77'], operation: 'closed', at: NOW, fields: ['dealstage'] } },
        { eventId: '12', occurredAt: NOW, change: { kind: 'ref', module: 'deals', ids: ['78'], operation: 'closed', at: NOW, fields: ['dealstage'] } },
      ],
    });
  });
  it('unknown subscription types, object types and properties are skipped, not errors', () => {
    expect(parse([event({ propertyName: 'email', propertyValue: 'x@y' }), event({ subscriptionType: 'contact.creation' }), event({ objectTypeId: '0-2', propertyName: 'firstname', propertyValue: 'Acme' }), event({ propertyName: undefined })])).toEqual({ events: [] });
  });
  it('a body that is not HubSpot events is an error naming the field', () => {
    expect(parse([])).toMatchObject({ error: expect.stringContaining('not HubSpot webhook events') });
    expect(parse({ eventId: 1 })).toMatchObject({ error: expect.stringContaining('not HubSpot webhook events') });
    expect(parse([{ eventId: 1 }])).toMatchObject({ error: expect.stringContaining('occurredAt') });
    expect(parse([event({ objectId: '' })])).toMatchObject({ error: expect.stringContaining('objectId') });
    expect(parse(undefined)).toMatchObject({ error: expect.any(String) });
  });
  it('subscribes the app to exactly the properties it maps', () => {
    expect(webhookSubscriptions('whatsapp_customer_level').map((s) => `${s.objectType}.${s.propertyName}`)).toEqual(['contact.firstname', 'contact.whatsapp_customer_level', 'contact.whatsapp_marketing_opt_out', 'contact.whatsapp_reply', 'deal.dealstage']);
  });
});

describe('reply status text', () => {
  it('the status word, its time, and the error of a failed send; read back as the time', () => {
    expect(replyStatusText('delivered', NOW)).toBe('delivered 2026-12-02T09:00:00.000Z');
    expect(replyStatusText('failed', NOW, 'outside the\n24-hour window')).toBe('failed 2026-12-02T09:00:00.000Z: outside the 24-hour window');
    expect(replyStatusTime('failed 2026-12-02T09:00:00.000Z: outside')).toBe(NOW);
    expect(replyStatusTime('read 2026-12-02T09:00:00.000Z')).toBe(NOW);
    expect(replyStatusTime('whatever')).toBeUndefined();
    expect(replyStatusTime(undefined)).toBeUndefined();
  });
});
