import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFieldMapping } from '#shared/crm/field-mapping';
import { CrmError, type CrmContactFields, type CrmOpportunityInput } from '#shared/crm/port';
import { setupHubSpot } from '#shared/crm/hubspot/adapter';
import { startLocalHubSpot, type LocalHubSpot } from '#local/hubspot/server';
import { TOKEN, testCustomer, useLocalHubSpot } from '../helpers/local-hubspot.ts';


const local = useLocalHubSpot('hubspot-deals-it', { searchLagMs: 50 });
let hub: LocalHubSpot;
let dataDir: string;
let sequence = 0;
beforeAll(() => {
  hub = local.hub();
  dataDir = local.dataDir();
});
const adapter = local.adapter;
const customer = () => testCustomer('D', '+49160');

function dealsWith(opportunityId: string, on: LocalHubSpot = hub) {
  return on.state().deals.filter((d) => d.properties.whatsapp_opportunity_id === opportunityId);
}

function contact(id: string, on: LocalHubSpot = hub) {
  return on.state().contacts.find((c) => c.id === id);
}

async function newContact(on: LocalHubSpot = hub): Promise<string> {
  const c = customer();
  return (await adapter({}, on).upsertContact({ contactId: c.contactId, bsuid: c.bsuid })).crmId;
}

function opportunity(contactCrmId: string, overrides: Partial<CrmOpportunityInput> = {}): CrmOpportunityInput {
  sequence += 1;
  return {
    opportunityId: `wamid.intent.${Date.now()}.${sequence}`,
    contactCrmId,
    sku: 'SKU-BLUE-42',
    productName: 'Blue sneaker 42',
    amount: 89.9,
    currency: 'eur',
    createdAt: Date.parse('2026-09-10T10:00:00Z'),
    ...overrides,
  };
}


describe('hubspot:setup for deals and intelligence properties', () => {
  it('creates the deal and intelligence properties and reports the unique opportunity id', async () => {
    const result = await setupHubSpot({ baseUrl: hub.url, accessToken: TOKEN });
    expect(result.created).toEqual([]);
    expect(result.existing).toEqual(
      expect.arrayContaining([
        'deals.whatsapp_opportunity_id',
        'deals.whatsapp_sku',
        'contacts.whatsapp_segment',
        'contacts.whatsapp_tags',
        'contacts.whatsapp_activity_score',
        'contacts.whatsapp_sentiment',
        'contacts.whatsapp_priority',
        'contacts.whatsapp_hot_words',
        'contacts.whatsapp_message_count',
        'contacts.whatsapp_customer_level',
      ]),
    );
    expect(result.opportunityIdUnique).toBe(true);
    const segment = hub.state().properties.contacts.whatsapp_segment;
    expect(segment?.options?.map((o) => o.value)).toEqual(['new', 'active', 'potential', 'high_intent', 'dormant', 'churned']);
    expect(hub.state().properties.contacts.whatsapp_sentiment?.type).toBe('number');
  });
});

describe('HubSpot opportunities (deals)', () => {
  it('creates one deal with the SKU in the default pipeline, associated to the contact', async () => {
    const contactId = await newContact();
    const input = opportunity(contactId);
    const result = await adapter().createOpportunity(input);
    expect(result.created).toBe(true);
    const [deal] = dealsWith(input.opportunityId);
    expect(deal?.id).toBe(result.crmId);
    expect(deal?.contactIds).toEqual([contactId]);
    expect(contact(contactId)?.dealIds).toEqual([result.crmId]);
    expect(deal?.properties).toMatchObject({
      dealname: 'WhatsApp: Blue sneaker 42',
      pipeline: 'default',
      dealstage: 'appointmentscheduled',
      amount: '89.9',
      whatsapp_sku: 'SKU-BLUE-42',
      whatsapp_currency: 'EUR',
      whatsapp_opportunity_id: input.opportunityId,
    });
    expect(deal?.properties).not.toHaveProperty('closedate');
  });

  it('names the deal after the SKU without a product name and sets a close date when configured', async () => {
    const contactId = await newContact();
    const input = opportunity(contactId, { productName: undefined, amount: undefined, currency: undefined });
    await adapter({ dealCloseDateDays: 30 }).createOpportunity(input);
    const [deal] = dealsWith(input.opportunityId);
    expect(deal?.properties).toMatchObject({
      dealname: 'WhatsApp: SKU-BLUE-42',
      closedate: '2026-10-10T10:00:00.000Z',
    });
    expect(deal?.properties).not.toHaveProperty('amount');
  });

  it('ends a repeated call and 3 concurrent calls in one deal', async () => {
    const contactId = await newContact();
    const input = opportunity(contactId);
    const shared = adapter();
    const concurrent = await Promise.all([shared.createOpportunity(input), adapter().createOpportunity(input), adapter().createOpportunity(input)]);
    const again = await adapter().createOpportunity(input);
    expect(new Set([...concurrent, again].map((r) => r.crmId)).size).toBe(1);
    expect(concurrent.filter((r) => r.created)).toHaveLength(1);
    expect(again.created).toBe(false);
    expect(dealsWith(input.opportunityId)).toHaveLength(1);
    expect(contact(contactId)?.dealIds).toHaveLength(1);
  });

  it('returns the same deal when retried after a crash that lost the CRM id', async () => {
    const contactId = await newContact();
    const input = opportunity(contactId);
    const beforeCrash = await adapter().createOpportunity(input);
    const afterRestart = await adapter().createOpportunity(input);
    expect(afterRestart).toMatchObject({ crmId: beforeCrash.crmId, created: false });
    expect(dealsWith(input.opportunityId)).toHaveLength(1);
  });

  it('uses no CRM call when the opportunity already has its CRM id', async () => {
    const result = await adapter().createOpportunity({ ...opportunity('1'), knownCrmId: '77' });
    expect(result).toEqual({ crmId: '77', created: false, calls: 0 });
  });

  it('costs 1 call per new opportunity once the dedup mode is known', async () => {
    const contactId = await newContact();
    const a = adapter();
    await a.createOpportunity(opportunity(contactId)); // reads the dedup mode once
    hub.resetStats();
    const result = await a.createOpportunity(opportunity(contactId));
    expect(result.calls).toBe(1);
    expect(hub.stats().total).toBe(1);
  });

  it('rejects an unknown contact as a permanent error', async () => {
    const error = await adapter()
      .createOpportunity(opportunity('999999999'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrmError);
    expect((error as CrmError).kind).toBe('permanent');
  });
});

describe('HubSpot opportunities without unique values on deals', () => {
  let loose: LocalHubSpot;
  beforeAll(async () => {
    loose = await startLocalHubSpot({ searchLagMs: 50, token: TOKEN, uniqueValuesOnDeals: false });
  });
  afterAll(() => loose.stop());

  it('setup reports the opportunity id as not unique and the adapter finds retries on the contact', async () => {
    const setup = await setupHubSpot({ baseUrl: loose.url, accessToken: TOKEN });
    expect(setup.opportunityIdUnique).toBe(false);
    const contactId = await newContact(loose);
    const input = opportunity(contactId);
    const first = await adapter({}, loose).createOpportunity(input);
    const retried = await adapter({}, loose).createOpportunity(input);
    const same = adapter({}, loose);
    const concurrent = await Promise.all([same.createOpportunity(input), same.createOpportunity(input)]);
    expect(first.created).toBe(true);
    expect([retried, ...concurrent].map((r) => r.crmId)).toEqual([first.crmId, first.crmId, first.crmId]);
    expect(dealsWith(input.opportunityId, loose)).toHaveLength(1);
  });
});

describe('HubSpot contact intelligence properties', () => {
  const fields = (f: Partial<CrmContactFields> = {}): CrmContactFields => ({ tags: [], hotWords: {}, frequentEmoji: [], messageCount: 0, ...f });

  it('writes them on create and on a patch of a known contact through the mapping, and a missing value clears the property', async () => {
    const c = customer();
    const a = adapter();
    const created = await a.upsertContact({
      contactId: c.contactId,
      bsuid: c.bsuid,
      fields: fields({
        segment: 'new',
        tags: ['vip', 'wholesale'],
        activityScore: 12,
        sentiment: 0.75,
        priority: 2,
        hotWords: { refund: 1, discount: 4 },
        frequentEmoji: ['👍', '😂'],
        messageCount: 1,
        customerLevel: 'gold',
        lastInteractionAt: Date.parse('2026-09-10T10:00:00Z'),
        satisfaction: 5,
      }),
    });
    expect(created.created).toBe(true);
    expect(contact(created.crmId)?.properties).toMatchObject({
      whatsapp_segment: 'new',
      whatsapp_tags: 'vip;wholesale',
      whatsapp_activity_score: '12',
      whatsapp_sentiment: '0.75',
      whatsapp_priority: '2',
      whatsapp_hot_words: 'discount:4;refund:1',
      whatsapp_frequent_emoji: '👍;😂',
      whatsapp_message_count: '1',
      whatsapp_customer_level: 'gold',
      whatsapp_last_interaction_at: '2026-09-10T10:00:00.000Z',
      whatsapp_satisfaction: '5',
    });

    const patched = await a.upsertContact({
      contactId: c.contactId,
      bsuid: c.bsuid,
      knownCrmId: created.crmId,
      fields: fields({ segment: 'high_intent', activityScore: 40, sentiment: 0.75, messageCount: 2 }),
    });
    expect(patched).toEqual({ crmId: created.crmId, created: false, matchedExisting: false, calls: 1 });
    const after = contact(created.crmId)?.properties;
    expect(after).toMatchObject({
      whatsapp_segment: 'high_intent',
      whatsapp_activity_score: '40',
      whatsapp_message_count: '2',
      whatsapp_sentiment: '0.75',
      // Learnt facts are never cleared by a sync that does not know them.
      whatsapp_satisfaction: '5',
      // ID-6: a missing customer level gets the mapping's default.
      whatsapp_customer_level: 'new customer',
    });
    expect(after).not.toHaveProperty('whatsapp_tags');
  });

  it('writes them when the contact is found by its identity (no known CRM id)', async () => {
    const c = customer();
    await adapter().upsertContact({ contactId: c.contactId, bsuid: c.bsuid });
    const found = await adapter().upsertContact({ contactId: c.contactId, bsuid: c.bsuid, fields: fields({ segment: 'active' }) });
    expect(found.created).toBe(false);
    expect(contact(found.crmId)?.properties.whatsapp_segment).toBe('active');
  });

  it('leaves out a segment the property has no option for (the mapping knows the options) instead of failing the sync', async () => {
    const c = customer();
    const created = await adapter().upsertContact({ contactId: c.contactId, bsuid: c.bsuid, fields: fields({ segment: 'active' }) });
    await adapter().upsertContact({ contactId: c.contactId, bsuid: c.bsuid, knownCrmId: created.crmId, fields: fields({ segment: 'vip' }) });
    expect(contact(created.crmId)?.properties.whatsapp_segment).toBe('active');
  });

  it('rejects a property HubSpot does not have as a permanent error naming the property and HubSpot\'s error code (not the value)', async () => {
    const c = customer();
    const mapping = buildFieldMapping('hubspot', { contact: { segment: { field: 'whatsapp_segment_typo' } } });
    const error = await adapter({ mapping })
      .upsertContact({ contactId: c.contactId, bsuid: c.bsuid, fields: fields({ segment: 'vip' }) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrmError);
    expect((error as CrmError).kind).toBe('permanent');
    expect((error as CrmError).message).toContain('whatsapp_segment_typo PROPERTY_DOESNT_EXIST');
    expect((error as CrmError).message).not.toContain('vip');
  });

  it('keeps the steady state at 2 calls per message: PATCH with properties + communication', async () => {
    const c = customer();
    const sync = adapter();
    const created = await sync.upsertContact({ contactId: c.contactId, bsuid: c.bsuid, phone: c.phone });
    await sync.logMessage({
      wamid: `wamid.warm.${c.bsuid}`,
      contactCrmId: created.crmId,
      direction: 'inbound',
      body: 'Hi',
      timestamp: Date.now(),
    }); // first message of this process: reads the dedup mode once
    hub.resetStats();
    const upserted = await sync.upsertContact({
      contactId: c.contactId,
      bsuid: c.bsuid,
      phone: c.phone,
      knownCrmId: created.crmId,
      lastInteractionAt: Date.now(),
      fields: fields({ segment: 'potential', sentiment: 0.4, tags: ['asked-price'], messageCount: 3 }),
    });
    const logged = await sync.logMessage({
      wamid: `wamid.steady.${c.bsuid}`,
      contactCrmId: created.crmId,
      direction: 'inbound',
      body: 'How much is the blue one?',
      timestamp: Date.now(),
    });
    expect(upserted.calls + logged.calls).toBe(2);
    expect(hub.stats()).toMatchObject({
      total: 2,
      'PATCH /crm/objects/{version}/contacts/{id}': 1,
      'POST /crm/objects/{version}/communications': 1,
    });
    expect(contact(created.crmId)?.properties).toMatchObject({ whatsapp_segment: 'potential', whatsapp_tags: 'asked-price' });
  });
});

describe('local HubSpot server with deals', () => {
  it('keeps deals across a restart and shows them under their contact on the home page', async () => {
    const file = join(dataDir, 'deals-restart.json');
    const first = await startLocalHubSpot({ dataFile: file });
    await setupHubSpot({ baseUrl: first.url, accessToken: 'any' });
    const contactId = await newContactOn(first);
    const input = opportunity(contactId, { productName: 'Red <boot>' });
    const created = await adapter({ accessToken: 'any' }, first).createOpportunity(input);
    await first.stop();

    const second = await startLocalHubSpot({ dataFile: file });
    try {
      const again = await adapter({ accessToken: 'any' }, second).createOpportunity(input);
      expect(again).toMatchObject({ crmId: created.crmId, created: false });
      const html = await (await fetch(`${second.url}/`)).text();
      expect(html).toContain('WhatsApp: Red &#60;boot&#62;');
      const state = (await (await fetch(`${second.url}/_local/state`)).json()) as {
        deals: { id: string; contactIds: string[] }[];
        contacts: { id: string; dealIds: string[] }[];
      };
      expect(state.deals.find((d) => d.id === created.crmId)?.contactIds).toEqual([contactId]);
      expect(state.contacts.find((c) => c.id === contactId)?.dealIds).toEqual([created.crmId]);
    } finally {
      await second.stop();
    }
  });

  it('loads a data file written before deals existed', async () => {
    const file = join(dataDir, 'old.json');
    await writeFile(
      file,
      JSON.stringify({
        nextId: 5000,
        records: { contacts: {}, communications: {} },
        associations: [],
        properties: { contacts: {}, communications: {} },
        groups: { contacts: ['contactinformation'], communications: ['communication'] },
      }),
    );
    const old = await startLocalHubSpot({ dataFile: file });
    try {
      await setupHubSpot({ baseUrl: old.url, accessToken: 'any' });
      const contactId = await newContactOn(old);
      const result = await adapter({ accessToken: 'any' }, old).createOpportunity(opportunity(contactId));
      expect(Number(result.crmId)).toBeGreaterThanOrEqual(5000);
    } finally {
      await old.stop();
    }
  });
});

async function newContactOn(on: LocalHubSpot): Promise<string> {
  const c = customer();
  return (await adapter({ accessToken: 'any' }, on).upsertContact({ contactId: c.contactId, bsuid: c.bsuid })).crmId;
}
