/**
 * What automations learn about a customer (address, coupon, rating, agent) goes to the CRM only
 * when we know it: a field we do not know never erases what sales typed there.
 */
import { describe, expect, it } from 'vitest';
import { crmContactInput } from '#shared/crm/contact-input';
import { mapContactFields } from '#shared/crm/field-mapping';
import { crmContactFields } from '#shared/crm/mapping';
import { fieldMapping } from '#shared/crm/mappings';
import { contactInsights } from '#shared/domain/insights';
import { shippedIntelligence } from '#shared/domain/intelligence/bundled';
import type { Contact, ContactAddress } from '#shared/domain/records';

const now = Date.UTC(2026, 10, 25, 12);
const contact = (extra: Partial<Contact> = {}): Contact => ({ contactId: 'ct_1', leadSource: 'whatsapp', customerLevel: 'new customer', createdAt: 0, updatedAt: 0, ...extra });
/** The contact's fields through the shipped HubSpot mapping (config/crm/hubspot.json). */
const properties = (c: Contact) => mapContactFields(crmContactFields(c, contactInsights(c, [], shippedIntelligence(), now)), fieldMapping('hubspot')).values;
const address = (extra: Partial<ContactAddress> = {}): ContactAddress => ({
  label: 'Flat 5, 18 Nathan Road, Tsim Sha Tsui, Kowloon',
  street: 'Flat 5, 18 Nathan Road',
  locality: 'Tsim Sha Tsui',
  region: 'Kowloon',
  country: 'HK',
  source: 'text',
  at: now,
  ...extra,
});

const LEARNED = ['address', 'city', 'state', 'zip', 'country', 'whatsapp_last_coupon', 'whatsapp_satisfaction', 'whatsapp_agent'];

describe('contact fields to the CRM', () => {
  it('a contact with no address, coupon, rating or agent sends none of those properties — not even null', () => {
    const p = properties(contact());
    for (const name of LEARNED) expect(p, name).not.toHaveProperty(name);
    // What we compute is still always written (defaults, or null to clear our own old value).
    expect(p).toMatchObject({ whatsapp_customer_level: 'new customer', whatsapp_segment: 'new', whatsapp_sentiment: null });
  });

  it('maps the address onto HubSpot\'s address, city, state, zip and country', () => {
    const p = properties(contact({ address: address({ postalCode: '999077', postalCodeCompleted: true }) }));
    expect(p).toMatchObject({ address: 'Flat 5, 18 Nathan Road', city: 'Tsim Sha Tsui', state: 'Kowloon', zip: '999077', country: 'HK' });
  });

  it('leaves out each address part the contact does not have, and blank ones, instead of clearing them', () => {
    const p = properties(contact({ address: address({ street: undefined, region: '  ', postalCode: undefined }) }));
    expect(p).toMatchObject({ city: 'Tsim Sha Tsui', country: 'HK' });
    expect(p).not.toHaveProperty('address');
    expect(p).not.toHaveProperty('state');
    expect(p).not.toHaveProperty('zip');
    expect(Object.values(p)).not.toContain('');
  });

  it('writes the last coupon code, a 1–5 rating and the assigned agent', () => {
    const p = properties(
      contact({
        lastCoupon: { code: 'WELCOME10', rule: 'win-back', value: '10%', issuedAt: now },
        satisfaction: { score: 4, at: now },
        agentId: 'agent-mei',
        assignedAt: now,
      }),
    );
    expect(p).toMatchObject({ whatsapp_last_coupon: 'WELCOME10', whatsapp_satisfaction: 4, whatsapp_agent: 'agent-mei' });
  });

  it('a rating outside 1–5 (or not whole) is not written', () => {
    expect(properties(contact({ satisfaction: { score: 7, at: now } }))).not.toHaveProperty('whatsapp_satisfaction');
    expect(properties(contact({ satisfaction: { score: 0, at: now } }))).not.toHaveProperty('whatsapp_satisfaction');
    expect(properties(contact({ satisfaction: { score: 3.5, at: now } }))).not.toHaveProperty('whatsapp_satisfaction');
    expect(properties(contact({ satisfaction: { score: 1, at: now } }))).toHaveProperty('whatsapp_satisfaction', 1);
  });

  it('the one CRM input built for every sync carries them', () => {
    const c = contact({ address: address(), agentId: 'agent-1' });
    const input = crmContactInput(c, contactInsights(c, [], shippedIntelligence(), now), 'hubspot');
    expect(input.fields).toMatchObject({ address: { locality: 'Tsim Sha Tsui' }, agentId: 'agent-1' });
  });
});
