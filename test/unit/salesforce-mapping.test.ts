/**
 * What the Salesforce adapter writes, without a server: the Case typed from the conversation's
 * tags, the contact fields by the mapping (DateTimes, cleared values, the last interaction),
 * create-only names and lead source, and the keys stored in External ID fields.
 */
import { describe, expect, it } from 'vitest';
import { fieldMapping } from '#shared/crm/mappings';
import type { CrmContactFields } from '#shared/crm/port';
import { createOnlyFields, updateFields } from '#shared/crm/salesforce/contacts';
import { externalKey, LAST_NAME_PLACEHOLDER, parseDateTime, urlSafeKey } from '#shared/crm/salesforce/fields';
import { caseFields, caseKey, caseType, CASE_TYPES, DEFAULT_CASE_TYPE } from '#shared/crm/salesforce/messages';

const settings = { types: CASE_TYPES, defaultType: DEFAULT_CASE_TYPE };
const base: CrmContactFields = { tags: [], hotWords: {}, frequentEmoji: [], messageCount: 1 };

describe('Salesforce cases', () => {
  it('types a case from its tags, complaints first, a question otherwise', () => {
    expect(caseType(['price_inquiry', 'complaint'])).toBe('Complaint');
    expect(caseType(['order_status'])).toBe('Order Status');
    expect(caseType(['price_inquiry', 'order_status'])).toBe('Order Status');
    expect(caseType(['price_inquiry'])).toBe('Price Inquiry');
    expect(caseType(['greeting'])).toBe('Question');
    expect(caseType([], [['greeting', 'Hello']], 'Other')).toBe('Other');
  });

  it('writes no Status (the picklist default opens it, the agent closes it) and maps the priority', () => {
    const fields = caseFields('003000000000001AAA', { id: 'conv-1', startedAt: 0, tags: ['complaint'], subject: '  ', priority: 'medium', resolvedAt: Date.parse('2026-09-10T10:00:00Z') }, settings);
    expect(fields).toEqual({ ContactId: '003000000000001AAA', Origin: 'WhatsApp', Type: 'Complaint', Subject: 'WhatsApp conversation', Priority: 'Medium', WhatsApp_Resolved_At__c: '2026-09-10T10:00:00.000Z' });
    expect(fields).not.toHaveProperty('Status');
  });

  it('keys a case by the conversation id, hashed when a URL would change it', () => {
    expect(caseKey('conv_01JABC-2')).toBe('conv_01JABC-2');
    expect(caseKey('c1:1757498400000')).toBe('c1:1757498400000');
    expect(caseKey('conv/with slash')).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(caseKey('report.json')).toMatch(/^sha256:/);
    expect(caseKey('conv/with slash')).toBe(caseKey('conv/with slash'));
  });
});

describe('Salesforce contact fields', () => {
  const mapping = fieldMapping('salesforce');

  it('maps our fields, writes DateTimes as ISO, clears what we no longer have, keeps what we never knew', () => {
    const values = updateFields(
      { contactId: 'c1', bsuid: 'US.1', phone: '+85291234567', username: 'ann', fields: { ...base, segment: 'active', tags: ['a', 'b'], lastInteractionAt: Date.parse('2026-09-10T10:00:00Z'), address: { locality: 'Kowloon' } } },
      mapping,
    );
    expect(values).toMatchObject({
      WhatsApp_User_Id__c: 'US.1',
      WhatsApp_Phone__c: '+85291234567',
      WhatsApp_Username__c: 'ann',
      WhatsApp_Contact_Id__c: 'c1',
      WhatsApp_Segment__c: 'active',
      WhatsApp_Tags__c: 'a;b',
      WhatsApp_Last_Interaction__c: '2026-09-10T10:00:00.000Z',
      WhatsApp_Customer_Level__c: 'new customer',
      WhatsApp_Sentiment__c: null,
      MailingCity: 'Kowloon',
    });
    expect(values).not.toHaveProperty('MailingStreet');
    expect(values).not.toHaveProperty('WhatsApp_Satisfaction__c');
  });

  it('writes only identities and the last interaction when no fields are given', () => {
    expect(updateFields({ contactId: 'c1', bsuid: 'US.1', lastInteractionAt: Date.parse('2026-09-10T10:00:00Z') }, mapping)).toEqual({
      WhatsApp_User_Id__c: 'US.1',
      WhatsApp_Contact_Id__c: 'c1',
      WhatsApp_Last_Interaction__c: '2026-09-10T10:00:00.000Z',
    });
  });

  it('names a new contact from the WhatsApp profile name, with a placeholder LastName (required) when there is none', () => {
    expect(createOnlyFields({ contactId: 'c', profileName: ' Chan  Tai Man ', phone: '+852' })).toEqual({ LeadSource: 'WhatsApp', FirstName: 'Chan', LastName: 'Tai Man', MobilePhone: '+852' });
    expect(createOnlyFields({ contactId: 'c', profileName: 'Mei' })).toEqual({ LeadSource: 'WhatsApp', LastName: 'Mei' });
    expect(createOnlyFields({ contactId: 'c' })).toEqual({ LeadSource: 'WhatsApp', LastName: LAST_NAME_PLACEHOLDER });
  });
});

describe('Salesforce keys and values', () => {
  it('stores a key as it is when it fits 255 characters, else as its hash', () => {
    expect(externalKey('wamid.HBgL+/=')).toBe('wamid.HBgL+/=');
    const long = `follow-up:${'x'.repeat(300)}`;
    expect(externalKey(long)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(externalKey(long)).not.toBe(externalKey(`${long}y`));
  });

  it('keeps keys a URL would change (slashes, format suffixes) out of URLs', () => {
    expect(urlSafeKey('US.13491208655302741918')).toBe(true);
    expect(urlSafeKey('+85291234567')).toBe(true);
    expect(urlSafeKey('a/b')).toBe(false);
    expect(urlSafeKey('name.json')).toBe(false);
    expect(urlSafeKey('')).toBe(false);
  });

  it("reads Salesforce's DateTimes (+0000) and Dates", () => {
    expect(parseDateTime('2026-09-10T10:00:00.000+0000')).toBe(Date.parse('2026-09-10T10:00:00Z'));
    expect(parseDateTime('2026-09-10')).toBe(Date.parse('2026-09-10T00:00:00Z'));
    expect(parseDateTime('soon')).toBeUndefined();
    expect(parseDateTime(null)).toBeUndefined();
  });
});
