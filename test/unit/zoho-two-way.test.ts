/**
 * Zoho's notification callbacks as CRM-neutral events (shared/crm/zoho/inbound.ts), and the
 * records two-way sync reads back as changes (shared/crm/zoho/changes.ts).
 */
import { describe, expect, it } from 'vitest';
import { closedDealEvent, contactEvent, replyEvent } from '#shared/crm/zoho/changes';
import { parseZohoNotification } from '#shared/crm/zoho/inbound';

const TOKEN = 'scrm-channel-token-0123456789';
const callback = (over: Record<string, unknown> = {}) => ({
  server_time: 1718117126473,
  query_params: {},
  module: 'Contacts',
  resource_uri: 'https://www.zohoapis.com/crm/v8/Contacts',
  ids: ['5725767000003000064', '5725767000003000065'],
  affected_fields: [{ '5725767000003000064': ['First_Name', 'Phone'] }, { '5725767000003000065': ['WhatsApp_Customer_Level'] }],
  operation: 'update',
  channel_id: '1000000068001',
  token: TOKEN,
  ...over,
});

describe('parseZohoNotification', () => {
  it('turns a callback into one ref event: module, ids, operation, server_time, the affected fields', () => {
    const parsed = parseZohoNotification(callback(), TOKEN);
    expect(parsed).toEqual({
      events: [
        {
          eventId: expect.stringMatching(/^zoho:Contacts:update:1718117126473:[0-9a-f]{32}$/),
          occurredAt: 1718117126473,
          change: { kind: 'ref', module: 'Contacts', ids: ['5725767000003000064', '5725767000003000065'], operation: 'update', at: 1718117126473, fields: ['First_Name', 'Phone', 'WhatsApp_Customer_Level'] },
        },
      ],
    });
  });

  it('reads the raw JSON text, numeric ids, and the field names of return_affected_field_values', () => {
    const parsed = parseZohoNotification(JSON.stringify(callback({ ids: [5725767000003], channel_id: 1000000068001, affected_fields: [{ '5725767000003': { First_Name: 'Mei' } }] })), TOKEN);
    expect('events' in parsed && parsed.events[0]?.change).toMatchObject({ ids: ['5725767000003'], fields: ['First_Name'] });
  });

  it('leaves fields out for an insert (Zoho sends affected_fields: [])', () => {
    const parsed = parseZohoNotification(callback({ operation: 'insert', affected_fields: [] }), TOKEN);
    expect('events' in parsed && parsed.events[0]?.change).not.toHaveProperty('fields');
  });

  it('gives a redelivered callback the same event id, whatever the order of its ids; another callback another', () => {
    const id = (over: Record<string, unknown>) => {
      const parsed = parseZohoNotification(callback(over), TOKEN);
      return 'events' in parsed ? parsed.events[0]?.eventId : undefined;
    };
    const first = id({});
    expect(first).toBeDefined();
    expect(id({ ids: ['5725767000003000065', '5725767000003000064'] })).toBe(first);
    expect(id({ server_time: 1718117126474 })).not.toBe(first);
    expect(id({ channel_id: '1000000068002' })).not.toBe(first);
    expect(id({ operation: 'insert' })).not.toBe(first);
    expect(id({ ids: ['5725767000003000064'] })).not.toBe(first);
  });

  it('refuses a missing or wrong token with 401 and a reason, before looking at the rest', () => {
    expect(parseZohoNotification(callback({ token: 'forged' }), TOKEN)).toEqual({ status: 401, error: expect.stringContaining('not this channel') });
    expect(parseZohoNotification(callback({ token: undefined }), TOKEN)).toEqual({ status: 401, error: expect.stringContaining('no channel token') });
    expect(parseZohoNotification({ token: 'forged', module: 42 }, TOKEN)).toMatchObject({ status: 401 });
    expect(parseZohoNotification(callback(), '')).toMatchObject({ status: 401, error: expect.stringContaining('configured') });
  });

  it('refuses a body that is not a Zoho callback with 400 naming what is wrong', () => {
    const refused = (body: unknown) => parseZohoNotification(body, TOKEN);
    expect(refused('not json')).toEqual({ status: 400, error: 'the body is not a JSON object' });
    expect(refused(null)).toMatchObject({ status: 400 });
    expect(refused([callback()])).toMatchObject({ status: 400 });
    expect(refused(callback({ module: 'Contacts/../x' }))).toEqual({ status: 400, error: expect.stringContaining('module') });
    expect(refused(callback({ operation: undefined }))).toEqual({ status: 400, error: expect.stringContaining('operation') });
    expect(refused(callback({ server_time: '2026-12-02' }))).toEqual({ status: 400, error: expect.stringContaining('server_time') });
    expect(refused(callback({ channel_id: 'abc' }))).toEqual({ status: 400, error: expect.stringContaining('channel_id') });
    expect(refused(callback({ ids: [] }))).toEqual({ status: 400, error: expect.stringContaining('ids') });
    expect(refused(callback({ ids: ['1', 'drop table'] }))).toEqual({ status: 400, error: expect.stringContaining('ids') });
    expect(refused(callback({ affected_fields: 'First_Name' }))).toEqual({ status: 400, error: expect.stringContaining('affected_fields') });
  });
});

describe('Zoho records as changes', () => {
  const settings = { customerLevelField: 'WhatsApp_Customer_Level', integrationUserId: '111' };
  const contact = { id: '5725767000000000001', First_Name: 'Mei', WhatsApp_Customer_Level: 'gold', WhatsApp_Marketing_Opt_Out: true, WhatsApp_User_ID: 'HK.1', WhatsApp_Phone: null, Modified_Time: '2026-12-02T09:00:00+00:00', Modified_By: { name: 'Sales', id: '222' } };
  const at = Date.parse('2026-12-02T09:00:00Z');

  it('dates a contact edit by Modified_Time (a person\'s at the second\'s end, ours at its start), opt-out included, and tells our own writes by Modified_By', () => {
    // Zoho's times have whole seconds: a person's edit followed any write of ours in that second.
    const end = at + 999;
    expect(contactEvent(contact, settings)).toEqual({
      eventId: `catchup:${contact.id}:${at}`,
      occurredAt: end,
      change: {
        kind: 'contact',
        crmId: contact.id,
        changes: [
          { field: 'firstName', value: 'Mei', at: end },
          { field: 'customerLevel', value: 'gold', at: end },
        ],
        optedOutAt: end,
        bsuid: 'HK.1',
        ours: false,
      },
    });
    expect(contactEvent({ ...contact, Modified_By: { id: '111' } }, settings)).toMatchObject({ occurredAt: at, change: { ours: true, changes: [{ at }, { at }] } });
    expect(contactEvent(contact, { ...settings, integrationUserId: undefined })?.change).not.toHaveProperty('ours');
  });

  it('keeps to the fields a notification names, and reports nothing when none of ours changed', () => {
    expect(contactEvent(contact, settings, ['First_Name'])?.change).toMatchObject({ changes: [{ field: 'firstName' }] });
    expect(contactEvent(contact, settings, ['Phone'])).toBeUndefined();
  });

  it('reads a reply Task (checkbox on, on a contact, with text) and a closed deal', () => {
    const task = { id: '5725767000000000009', WhatsApp_Reply: true, Who_Id: { id: contact.id }, Description: ' See you at 5 ', Created_Time: '2026-12-02T09:00:00+00:00', Created_By: { id: '222' }, Modified_Time: '2026-12-02T10:00:00+00:00' };
    expect(replyEvent(task)).toEqual({ eventId: `catchup:${task.id}:${at}`, occurredAt: at, change: { kind: 'reply', replyId: task.id, contactCrmId: contact.id, text: 'See you at 5', crmUserId: '222', at } });
    expect(replyEvent({ ...task, WhatsApp_Reply: false })).toBeUndefined();
    expect(replyEvent({ ...task, Description: '  ' })).toBeUndefined();
    const deal = { id: '5725767000000000010', Stage: 'Closed Won', Contact_Name: { id: contact.id }, Modified_Time: '2026-12-02T09:00:00+00:00' };
    expect(closedDealEvent(deal)?.change).toEqual({ kind: 'closed', recordType: 'deal', recordId: deal.id, contactCrmId: contact.id, status: 'Closed Won', at });
    expect(closedDealEvent({ ...deal, Stage: 'Qualification' })).toBeUndefined();
  });
});
