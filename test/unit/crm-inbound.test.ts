import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseHubSpotEvents, verifyHubSpotSignature } from '#shared/crm/hubspot/inbound';
import { parseSalesforceEvent } from '#shared/crm/salesforce/inbound';

const NOW = Date.UTC(2026, 11, 2, 9, 0, 0);
const SECRET = 'client-secret';
const URI = 'https://scrm.example.com/crm-events/hubspot';
const sign = (body: string, timestamp: number, uri = URI) => createHmac('sha256', SECRET).update(`POST${uri}${body}${timestamp}`).digest('base64');

describe('HubSpot signature v3 (SY-3)', () => {
  const body = '[{"eventId":1}]';
  const check = (over: Partial<Parameters<typeof verifyHubSpotSignature>[0]>) => verifyHubSpotSignature({ method: 'POST', uri: URI, body, timestamp: String(NOW), signature: sign(body, NOW), secret: SECRET, now: NOW, ...over });

  it('accepts a request signed over method, URI, body and timestamp', () => expect(check({})).toEqual({ ok: true }));
  it('refuses a forged signature, another body, another URI', () => {
    expect(check({ signature: 'AAAA' })).toMatchObject({ ok: false, reason: expect.stringContaining('does not match') });
    expect(check({ body: '[{"eventId":2}]' })).toMatchObject({ ok: false });
    expect(check({ uri: 'https://evil.example.com/crm-events/hubspot' })).toMatchObject({ ok: false });
  });
  it('refuses a timestamp more than 5 minutes old or ahead, even when signed', () => {
    const old = NOW - 5 * 60_000 - 1;
    expect(check({ timestamp: String(old), signature: sign(body, old) })).toMatchObject({ ok: false, reason: expect.stringContaining('stale') });
    const ahead = NOW + 6 * 60_000;
    expect(check({ timestamp: String(ahead), signature: sign(body, ahead) })).toMatchObject({ ok: false });
  });
  it('names a missing header', () => {
    expect(check({ signature: undefined })).toMatchObject({ reason: expect.stringContaining('X-HubSpot-Signature-v3') });
    expect(check({ timestamp: undefined })).toMatchObject({ reason: expect.stringContaining('X-HubSpot-Request-Timestamp') });
    expect(check({ timestamp: 'yesterday' })).toMatchObject({ ok: false, reason: expect.stringContaining('not milliseconds') });
  });
  it('signs the URI with the characters HubSpot decodes', () => {
    const uri = 'https://scrm.example.com/crm-events/hubspot?x=a:b';
    expect(verifyHubSpotSignature({ method: 'POST', uri: 'https://scrm.example.com/crm-events/hubspot?x=a%3Ab', body, timestamp: String(NOW), signature: sign(body, NOW, uri), secret: SECRET, now: NOW })).toEqual({ ok: true });
  });
});

describe('HubSpot events → CRM changes', () => {
  const event = (over: Record<string, unknown>) => ({ eventId: 10, subscriptionId: 1, portalId: 2, appId: 3, occurredAt: NOW, subscriptionType: 'object.propertyChange', attemptNumber: 0, objectId: 501, objectTypeId: '0-1', changeSource: 'CRM_UI', sourceId: 'userId:77', ...over });
  const parse = (events: unknown[], appId?: string) => parseHubSpotEvents(events, { customerLevelProperty: 'whatsapp_customer_level', ...(appId && { appId }) });

  it('the name, the customer level and an opt-out of a contact, each with its time', () => {
    expect(parse([event({ propertyName: 'firstname', propertyValue: 'Meg' }), event({ eventId: 11, propertyName: 'whatsapp_customer_level', propertyValue: '' }), event({ eventId: 12, propertyName: 'whatsapp_marketing_opt_out', propertyValue: 'true' })])).toEqual({
      events: [
        { eventId: '10', occurredAt: NOW, change: { kind: 'contact', crmId: '501', changes: [{ field: 'firstName', value: 'Meg', at: NOW }] } },
        { eventId: '11', occurredAt: NOW, change: { kind: 'contact', crmId: '501', changes: [{ field: 'customerLevel', value: null, at: NOW }] } },
        { eventId: '12', occurredAt: NOW, change: { kind: 'contact', crmId: '501', changes: [], optedOutAt: NOW } },
      ],
    });
  });
  it('a reply written on the contact, with the user who wrote it', () => {
    expect(parse([event({ propertyName: 'whatsapp_reply', propertyValue: 'In stock!' })])).toMatchObject({ events: [{ change: { kind: 'reply', replyId: `501:${NOW}`, contactCrmId: '501', text: 'In stock!', crmUserId: '77' } }] });
  });
  it('our own app\'s writes are marked ours; a closed deal is read for its contact; other properties are skipped', () => {
    const r = parse([event({ propertyName: 'firstname', propertyValue: 'Mei', changeSource: 'INTEGRATION', sourceId: '3' }), event({ eventId: 13, objectTypeId: '0-3', propertyName: 'dealstage', propertyValue: 'closedwon' }), event({ eventId: 14, propertyName: 'email', propertyValue: 'x@y' })], '3');
    expect(r).toMatchObject({ events: [{ change: { kind: 'contact', ours: true } }, { change: { kind: 'ref', module: 'deals', ids: ['501'] } }] });
    expect((r as { events: unknown[] }).events).toHaveLength(2);
  });
  it('a body that is not HubSpot events is an error naming the field', () => {
    expect(parse([])).toMatchObject({ error: expect.stringContaining('not HubSpot webhook events') });
    expect(parseHubSpotEvents({ eventId: 1 }, { customerLevelProperty: 'x' })).toMatchObject({ error: expect.any(String) });
    expect(parse([{ eventId: 1 }])).toMatchObject({ error: expect.stringContaining('occurredAt') });
  });
});

describe('Salesforce change events through Event Relay → CRM changes', () => {
  const relayed = (payload: Record<string, unknown>, header: Record<string, unknown>) => ({
    version: '0', id: 'eb-1', 'detail-type': 'ContactChangeEvent', source: 'aws.partner/salesforce.com/00D000000000001/0YL000000000001', time: '2026-12-02T09:00:00Z',
    detail: { payload: { ...payload, ChangeEventHeader: { entityName: 'Contact', recordIds: ['003A'], changeType: 'UPDATE', changedFields: Object.keys(payload), commitTimestamp: NOW, commitUser: '005USER', transactionKey: 'tx', sequenceNumber: 1, ...header } }, replayId: '777' },
  });
  const parse = (e: unknown, integrationUserId?: string) => parseSalesforceEvent(e, { customerLevelField: 'WhatsApp_Customer_Level__c', ...(integrationUserId && { integrationUserId }) });

  it('a Contact update: name, level and opt-out, dated by the commit, keyed by the replay id', () => {
    expect(parse(relayed({ FirstName: 'Meg', WhatsApp_Customer_Level__c: 'gold', WhatsApp_Marketing_Opt_Out__c: true }, {}))).toEqual({
      events: [{ eventId: '777', occurredAt: NOW, change: { kind: 'contact', crmId: '003A', changes: [{ field: 'firstName', value: 'Meg', at: NOW }, { field: 'customerLevel', value: 'gold', at: NOW }], optedOutAt: NOW } }],
    });
  });
  it('the integration user\'s commits are ours', () => {
    expect(parse(relayed({ FirstName: 'Mei' }, {}), '005USER')).toMatchObject({ events: [{ change: { ours: true } }] });
  });
  it('a reply Task, a closed Case, a gap read back', () => {
    expect(parse(relayed({ WhatsApp_Reply__c: true, WhoId: '003A', Description: 'In stock!', CreatedById: '005AG' }, { entityName: 'Task', recordIds: ['00TX'], changeType: 'CREATE' }))).toMatchObject({ events: [{ change: { kind: 'reply', replyId: '00TX', contactCrmId: '003A', text: 'In stock!', crmUserId: '005AG' } }] });
    expect(parse(relayed({ Status: 'Closed', IsClosed: true, ContactId: '003A' }, { entityName: 'Case', recordIds: ['500C'] }))).toMatchObject({ events: [{ change: { kind: 'closed', recordType: 'case', recordId: '500C', contactCrmId: '003A' } }] });
    expect(parse(relayed({}, { changeType: 'GAP_UPDATE', recordIds: ['003A', '003B'] }))).toMatchObject({ events: [{ change: { kind: 'ref', module: 'Contact', ids: ['003A', '003B'] } }] });
  });
  it('an event that is not one is an error', () => {
    expect(parse({ source: 'aws.partner/salesforce.com/x/y', detail: {} })).toMatchObject({ error: expect.stringContaining('not a Salesforce change event') });
  });
});
