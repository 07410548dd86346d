import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFieldMapping } from '#shared/crm/field-mapping';
import { CrmError, type CrmContactInput } from '#shared/crm/port';
import { setupHubSpot } from '#shared/crm/hubspot/adapter';
import { startLocalHubSpot, type LocalHubSpot } from '#local/hubspot/server';
import { TOKEN, testCustomer, useLocalHubSpot } from '../helpers/local-hubspot.ts';

const SEARCH_LAG_MS = 50;

const local = useLocalHubSpot('hubspot-it', { searchLagMs: SEARCH_LAG_MS });
let hub: LocalHubSpot;
let dataDir: string;
beforeAll(() => {
  hub = local.hub();
  dataDir = local.dataDir();
});
const adapter = local.adapter;
const customer = () => testCustomer('', '+49151');

/** Fresh identities per test, so tests share one server without seeing each other. */
function contactsWith(property: string, value: string, on: LocalHubSpot = hub) {
  return on.state().contacts.filter((c) => c.properties[property] === value);
}

function messagesWith(wamid: string, on: LocalHubSpot = hub) {
  return on.state().communications.filter((c) => c.properties.whatsapp_message_id === wamid);
}

/** A contact made by the sales team directly in HubSpot (no WhatsApp properties). */
async function salesContact(properties: Record<string, string>): Promise<string> {
  const response = await fetch(`${hub.url}/crm/objects/2026-09/contacts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ properties, associations: [] }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

const waitForSearchIndex = () => new Promise((resolve) => setTimeout(resolve, SEARCH_LAG_MS * 2));

function message(contactCrmId: string, wamid = `wamid.${customer().bsuid}`) {
  return { wamid, contactCrmId, direction: 'inbound' as const, body: 'Hello, is the blue one in stock?', timestamp: Date.now() };
}


describe('hubspot:setup', () => {
  it('is idempotent: a second run finds every property and reports the unique message id', async () => {
    const result = await setupHubSpot({ baseUrl: hub.url, accessToken: TOKEN });
    expect(result.created).toEqual([]);
    expect(result.existing).toContain('contacts.whatsapp_user_id');
    expect(result.existing).toContain('communications.whatsapp_message_id');
    expect(result.messageIdUnique).toBe(true);
  });
});

describe('HubSpot contacts', () => {
  it('creates a contact by BSUID with the WhatsApp properties and no phone property', async () => {
    const c = customer();
    const result = await adapter().upsertContact({
      contactId: c.contactId,
      bsuid: c.bsuid,
      username: 'anna.k',
      profileName: 'Anna Kowalski',
      lastInteractionAt: Date.parse('2026-09-10T10:00:00Z'),
    });
    expect(result).toMatchObject({ created: true, matchedExisting: false });
    const [contact] = contactsWith('whatsapp_user_id', c.bsuid);
    expect(contact?.id).toBe(result.crmId);
    expect(contact?.properties).toMatchObject({
      whatsapp_username: 'anna.k',
      whatsapp_profile_name: 'Anna Kowalski',
      firstname: 'Anna',
      lastname: 'Kowalski',
      whatsapp_lead_source: 'WhatsApp',
      whatsapp_last_interaction_at: '2026-09-10T10:00:00.000Z',
    });
    expect(contact?.properties).not.toHaveProperty('whatsapp_phone');
    expect(contact?.properties).not.toHaveProperty('mobilephone');
  });

  it('returns the same contact for the same BSUID again and creates no second one', async () => {
    const c = customer();
    const first = await adapter().upsertContact({ contactId: c.contactId, bsuid: c.bsuid });
    const second = await adapter().upsertContact({ contactId: c.contactId, bsuid: c.bsuid, username: 'new.name' });
    expect(second).toMatchObject({ crmId: first.crmId, created: false });
    expect(contactsWith('whatsapp_user_id', c.bsuid)).toHaveLength(1);
    expect(contactsWith('whatsapp_user_id', c.bsuid)[0]?.properties.whatsapp_username).toBe('new.name');
  });

  it('stores phone and BSUID, and a later phone-only message finds the same contact', async () => {
    const c = customer();
    const first = await adapter().upsertContact({ contactId: c.contactId, bsuid: c.bsuid, phone: c.phone });
    const contact = contactsWith('whatsapp_user_id', c.bsuid)[0];
    expect(contact?.properties).toMatchObject({ whatsapp_phone: c.phone, mobilephone: c.phone });
    const byPhone = await adapter().upsertContact({ contactId: c.contactId, phone: c.phone });
    expect(byPhone).toMatchObject({ crmId: first.crmId, created: false });
  });

  for (const field of ['phone', 'mobilephone'] as const) {
    it(`matches a sales-created contact with the same number in ${field} instead of creating one`, async () => {
      const c = customer();
      const salesId = await salesContact({ firstname: 'Jan', lastname: 'Nowak', [field]: c.phone });
      await waitForSearchIndex();
      const result = await adapter().upsertContact({
        contactId: c.contactId,
        bsuid: c.bsuid,
        phone: c.phone,
        profileName: 'Johnny',
      });
      expect(result).toEqual({ crmId: salesId, created: false, matchedExisting: true, calls: expect.any(Number) });
      const [contact] = contactsWith('whatsapp_user_id', c.bsuid);
      expect(contact?.id).toBe(salesId);
      expect(contact?.properties).toMatchObject({ whatsapp_phone: c.phone, firstname: 'Jan', whatsapp_profile_name: 'Johnny' });
      expect(contact?.properties).not.toHaveProperty('whatsapp_lead_source');
      expect(hub.state().contacts.filter((x) => x.properties[field] === c.phone)).toHaveLength(1);
    });
  }

  it('updates the same contact with the new phone and BSUID after a number change', async () => {
    const before = customer();
    const after = customer();
    const first = await adapter().upsertContact({ contactId: before.contactId, bsuid: before.bsuid, phone: before.phone });
    const changed = await adapter().upsertContact({
      contactId: before.contactId,
      bsuid: after.bsuid,
      phone: after.phone,
      previousBsuids: [before.bsuid],
      previousPhones: [before.phone],
    });
    expect(changed).toMatchObject({ crmId: first.crmId, created: false });
    const contact = hub.state().contacts.find((x) => x.id === first.crmId);
    expect(contact?.properties).toMatchObject({ whatsapp_user_id: after.bsuid, whatsapp_phone: after.phone });
    expect(contactsWith('whatsapp_user_id', before.bsuid)).toHaveLength(0);
  });

  it('updates the known CRM contact with a changed number in one call', async () => {
    const before = customer();
    const after = customer();
    const first = await adapter().upsertContact({ contactId: before.contactId, bsuid: before.bsuid, phone: before.phone });
    const changed = await adapter().upsertContact({
      contactId: before.contactId,
      bsuid: after.bsuid,
      phone: after.phone,
      previousPhones: [before.phone],
      knownCrmId: first.crmId,
    });
    expect(changed).toEqual({ crmId: first.crmId, created: false, matchedExisting: false, calls: 1 });
    expect(contactsWith('whatsapp_phone', after.phone)[0]?.id).toBe(first.crmId);
  });

  it('ends three concurrent upserts of a new customer in one contact (unique-value conflict path)', async () => {
    const c = customer();
    const input: CrmContactInput = { contactId: c.contactId, bsuid: c.bsuid, phone: c.phone };
    const results = await Promise.all([adapter(), adapter(), adapter()].map((a) => a.upsertContact(input)));
    expect(new Set(results.map((r) => r.crmId)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(contactsWith('whatsapp_user_id', c.bsuid)).toHaveLength(1);
  });

  it("rejects a validation error as permanent with HubSpot's message", async () => {
    const c = customer();
    const mapping = buildFieldMapping('hubspot', { contact: { lastCoupon: { field: 'no_such_property' } } });
    const error = await adapter({ mapping })
      .upsertContact({ contactId: c.contactId, bsuid: c.bsuid, fields: { tags: [], hotWords: {}, frequentEmoji: [], messageCount: 0, lastCoupon: 'x' } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CrmError);
    expect((error as CrmError).kind).toBe('permanent');
    // The property name and HubSpot's error code; never the values HubSpot echoes.
    expect((error as CrmError).message).toContain('Property values were not valid: no_such_property PROPERTY_DOESNT_EXIST');
  });

  it('reports a wrong access token as auth', async () => {
    const c = customer();
    const error = await adapter({ accessToken: 'wrong' })
      .upsertContact({ contactId: c.contactId, bsuid: c.bsuid })
      .catch((e: unknown) => e);
    expect((error as CrmError).kind).toBe('auth');
  });
});

describe('HubSpot messages', () => {
  it('logs a message as one WhatsApp communication associated to the contact', async () => {
    const c = customer();
    const contact = await adapter().upsertContact({ contactId: c.contactId, bsuid: c.bsuid });
    const input = message(contact.crmId);
    const result = await adapter().logMessage(input);
    expect(result.created).toBe(true);
    const [logged] = messagesWith(input.wamid);
    expect(logged?.id).toBe(result.crmId);
    expect(logged?.contactIds).toEqual([contact.crmId]);
    expect(logged?.properties).toMatchObject({
      hs_communication_channel_type: 'WHATS_APP',
      hs_communication_logged_from: 'CRM',
      hs_communication_body: input.body,
      whatsapp_direction: 'inbound',
    });
  });

  it('logs the same message twice, sequentially and concurrently, as one communication', async () => {
    const c = customer();
    const contact = await adapter().upsertContact({ contactId: c.contactId, bsuid: c.bsuid });
    const input = message(contact.crmId);
    const shared = adapter();
    const [a, b] = await Promise.all([shared.logMessage(input), adapter().logMessage(input)]);
    const again = await adapter().logMessage(input);
    expect(new Set([a.crmId, b.crmId, again.crmId]).size).toBe(1);
    expect(again.created).toBe(false);
    expect(messagesWith(input.wamid)).toHaveLength(1);
  });

  it('returns the same communication when retried after a crash that lost the CRM id', async () => {
    const c = customer();
    const contact = await adapter().upsertContact({ contactId: c.contactId, bsuid: c.bsuid });
    const input = message(contact.crmId);
    const beforeCrash = await adapter().logMessage(input);
    const afterRestart = await adapter().logMessage(input);
    expect(afterRestart).toMatchObject({ crmId: beforeCrash.crmId, created: false });
    expect(messagesWith(input.wamid)).toHaveLength(1);
  });

  it('uses no CRM call when the message already has its CRM id', async () => {
    const result = await adapter().logMessage({ ...message('1'), knownCrmId: '42' });
    expect(result).toEqual({ crmId: '42', created: false, calls: 0 });
  });

  it('makes at most 2 CRM calls per message in the steady state of a known contact', async () => {
    const c = customer();
    const sync = adapter();
    const contact = await sync.upsertContact({ contactId: c.contactId, bsuid: c.bsuid, phone: c.phone });
    await sync.logMessage(message(contact.crmId)); // first message of this process: reads the dedup mode once
    hub.resetStats();
    const known = { contactId: c.contactId, bsuid: c.bsuid, phone: c.phone, knownCrmId: contact.crmId };
    const upserted = await sync.upsertContact({ ...known, lastInteractionAt: Date.now() });
    const logged = await sync.logMessage(message(contact.crmId));
    expect(upserted.calls + logged.calls).toBeLessThanOrEqual(2);
    expect(hub.stats().total).toBe(upserted.calls + logged.calls);
  });
});

describe('HubSpot HTTP behaviour against the local server', () => {
  it('succeeds after a 500 and a 429 with Retry-After 1', async () => {
    const c = customer();
    const a = adapter();
    const contact = await a.upsertContact({ contactId: c.contactId, bsuid: c.bsuid });
    hub.setFaults([{ status: 500 }, { status: 429, retryAfterSeconds: 1 }]);
    const started = Date.now();
    const result = await a.upsertContact({ contactId: c.contactId, bsuid: c.bsuid, knownCrmId: contact.crmId });
    expect(result).toMatchObject({ crmId: contact.crmId, calls: 3 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('throws rate_limited with the wait when Retry-After is longer than the in-attempt limit', async () => {
    const c = customer();
    hub.setFaults([{ status: 429, retryAfterSeconds: 30 }]);
    const error = await adapter().upsertContact({ contactId: c.contactId, bsuid: c.bsuid }).catch((e: unknown) => e);
    hub.setFaults([]);
    expect(error).toMatchObject({ kind: 'rate_limited', details: { retryAfterMs: 30_000 } });
  });

  it('a contact create that HubSpot committed but answered after the timeout is found by its identity, not created twice', async () => {
    const c = customer();
    hub.setFaults([{ method: 'POST', path: /\/contacts$/, afterCommitDelayMs: 400 }]);
    const result = await adapter({ timeoutMs: 150 }).upsertContact({ contactId: c.contactId, bsuid: c.bsuid });
    hub.setFaults([]);
    const made = hub.state().contacts.filter((x) => x.properties['whatsapp_user_id'] === c.bsuid);
    expect(made).toHaveLength(1);
    expect(result).toMatchObject({ crmId: made[0]!.id, created: false });
  });

  it('retries a timed-out and a dropped request', async () => {
    const c = customer();
    hub.setFaults([{ delayMs: 300 }, { dropConnection: true }]);
    const result = await adapter({ timeoutMs: 100 }).upsertContact({ contactId: c.contactId, bsuid: c.bsuid });
    expect(result.created).toBe(true);
  });
});

describe('message de-duplication without unique values on communications', () => {
  let strict: LocalHubSpot;
  beforeAll(async () => {
    strict = await startLocalHubSpot({ searchLagMs: SEARCH_LAG_MS, token: TOKEN, uniqueValuesOnCommunications: false });
  });
  afterAll(() => strict.stop());

  it('setup reports the message id as not unique and the adapter finds retries on the contact timeline', async () => {
    const setup = await setupHubSpot({ baseUrl: strict.url, accessToken: TOKEN });
    expect(setup.messageIdUnique).toBe(false);
    const c = customer();
    const contact = await adapter({}, strict).upsertContact({ contactId: c.contactId, bsuid: c.bsuid });
    const input = message(contact.crmId);
    const first = await adapter({}, strict).logMessage(input);
    const retried = await adapter({}, strict).logMessage(input);
    const same = adapter({}, strict);
    const concurrent = await Promise.all([same.logMessage(input), same.logMessage(input)]);
    expect(first.created).toBe(true);
    expect([retried, ...concurrent].map((r) => r.crmId)).toEqual([first.crmId, first.crmId, first.crmId]);
    expect(messagesWith(input.wamid, strict)).toHaveLength(1);
  });

  it('a create that HubSpot committed but answered after the timeout is found on the timeline, not created a second time', async () => {
    await setupHubSpot({ baseUrl: strict.url, accessToken: TOKEN });
    const c = customer();
    const contact = await adapter({}, strict).upsertContact({ contactId: c.contactId, bsuid: c.bsuid });
    const input = message(contact.crmId);
    strict.setFaults([{ method: 'POST', path: /\/communications$/, afterCommitDelayMs: 400 }]);
    const logged = await adapter({ timeoutMs: 150 }, strict).logMessage(input);
    strict.setFaults([]);
    expect(messagesWith(input.wamid, strict)).toHaveLength(1);
    expect(logged.crmId).toBe(messagesWith(input.wamid, strict)[0]!.id);
  });
});

describe('local HubSpot server', () => {
  it('journals each write (one line, not the whole data set) and replays the journal at start, dropping a line cut short', async () => {
    const file = join(dataDir, 'journal.json');
    const first = await startLocalHubSpot({ dataFile: file });
    await setupHubSpot({ baseUrl: first.url, accessToken: 'any' });
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      const c = customer();
      made.push((await adapter({ accessToken: 'any' }, first).upsertContact({ contactId: c.contactId, bsuid: c.bsuid })).crmId);
    }
    const journal = readFileSync(`${file}.log`, 'utf8').trim().split('\n');
    expect(journal.filter((line) => line.includes('"k":"record"')).length).toBeGreaterThanOrEqual(5);
    // As if the process died in the middle of an append: half a line at the end.
    await first.stop();
    appendFileSync(`${file}.log`, '{"k":"record","type":"contacts","rec');

    const second = await startLocalHubSpot({ dataFile: file });
    try {
      const ids = second.state().contacts.map((c) => c.id);
      for (const id of made) expect(ids).toContain(id);
      // The journal was folded into the data file at start.
      expect(readFileSync(`${file}.log`, 'utf8')).toBe('');
    } finally {
      await second.stop();
    }
  });

  it('keeps its data across a restart and shows contacts on its home page', async () => {
    const file = join(dataDir, 'restart.json');
    const first = await startLocalHubSpot({ dataFile: file });
    await setupHubSpot({ baseUrl: first.url, accessToken: 'any' });
    const c = customer();
    const created = await adapter({ accessToken: 'any' }, first).upsertContact({
      contactId: c.contactId,
      bsuid: c.bsuid,
      profileName: 'Restart <Test>',
    });
    await first.stop();

    const second = await startLocalHubSpot({ dataFile: file });
    try {
      const again = await adapter({ accessToken: 'any' }, second).upsertContact({ contactId: c.contactId, bsuid: c.bsuid });
      expect(again).toMatchObject({ crmId: created.crmId, created: false });
      const html = await (await fetch(`${second.url}/`)).text();
      expect(html).toContain('Restart &#60;Test&#62;');
      const stats = (await (await fetch(`${second.url}/_local/stats`)).json()) as Record<string, number>;
      expect(stats['POST /crm/objects/{version}/contacts/batch/read']).toBe(1);
    } finally {
      await second.stop();
    }
  });
});
