import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyncJobSink } from '#shared/queue/sync-jobs';
import { createRuntime } from '#shared/runtime';
import { contactIdFor, keys } from '#shared/store/keys';
import { inboundMessage, newWamid, numberChange, statusUpdate, textMessage, type Business } from '#local/webhooks';
import { APP_SECRET, VERIFY_TOKEN, getEvent, startHarness, type Harness } from '../helpers/webhook-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.stop();
});

let seq = 0;
/** A customer no other test uses. */
function newCustomer(options: { phone?: boolean; name?: string } = {}) {
  seq++;
  return {
    // 9100 0001, 9100 0002 …: valid Hong Kong mobile numbers
    ...(options.phone !== false && { waId: `85291${String(seq).padStart(6, '0')}` }),
    bsuid: `HK.${Date.now()}${seq}`,
    name: options.name ?? `Customer ${seq}`,
  };
}
const body = (result: { body?: string }) => JSON.parse(result.body ?? '{}') as Record<string, unknown>;
const jobsFor = (wamid: string) => h.queuedJobs().filter((j) => j.wamid === wamid);

describe('GET verification handshake (IN-1)', () => {
  it('answers hub.challenge when the mode is subscribe and the token matches', async () => {
    const result = await h.app.handle(getEvent({ 'hub.mode': 'subscribe', 'hub.verify_token': VERIFY_TOKEN, 'hub.challenge': '1158201444' }));
    expect(result).toMatchObject({ statusCode: 200, body: '1158201444' });
  });

  it.each([
    ['a wrong token', { 'hub.mode': 'subscribe', 'hub.verify_token': 'guess', 'hub.challenge': '1' }],
    ['a wrong mode', { 'hub.mode': 'unsubscribe', 'hub.verify_token': VERIFY_TOKEN, 'hub.challenge': '1' }],
    ['no challenge', { 'hub.mode': 'subscribe', 'hub.verify_token': VERIFY_TOKEN }],
    ['no parameters', {}],
  ])('answers 403 to %s', async (_, query) => {
    expect((await h.app.handle(getEvent(query as Record<string, string>))).statusCode).toBe(403);
  });
});

describe('bad deliveries get a clear answer and are stored nowhere (IN-2)', () => {
  it('a missing X-Hub-Signature-256 → 401', async () => {
    const c = newCustomer();
    const result = await h.post(textMessage(c, 'hi'), { signature: null });
    expect(result.statusCode).toBe(401);
    expect(body(result).error).toMatch(/missing X-Hub-Signature-256/);
    expect(await h.items('IDENTITY').then((items) => items.filter((i) => i['value'] === c.bsuid))).toHaveLength(0);
  });

  it('a wrong signature → 401, no message row and no job', async () => {
    const wamid = newWamid();
    const result = await h.post(textMessage(newCustomer(), 'hi', { wamid }), { signature: `sha256=${'a'.repeat(64)}` });
    expect(result.statusCode).toBe(401);
    expect(await h.runtime.store.messages.get(wamid)).toBeUndefined();
    expect(jobsFor(wamid)).toHaveLength(0);
  });

  it('a body signed with another app secret → 401', async () => {
    const payload = textMessage(newCustomer(), 'hi');
    const { signBody } = await import('#shared/whatsapp/signature');
    const result = await h.post(payload, { signature: signBody(JSON.stringify(payload), 'not-the-secret') });
    expect(result.statusCode).toBe(401);
  });

  it('malformed JSON (correctly signed) → 400 naming the problem', async () => {
    const result = await h.post(undefined, { rawBody: '{"object": "whatsapp_business_account", "entry": [' });
    expect(result.statusCode).toBe(400);
    expect(body(result).error).toMatch(/not valid JSON/);
  });

  it.each([
    ['another product object', { object: 'page', entry: [] }, /object/],
    ['no entries', { object: 'whatsapp_business_account', entry: [] }, /entry/],
    ['changes that are not a list', { object: 'whatsapp_business_account', entry: [{ id: '1', changes: 'x' }] }, /changes/],
  ])('the wrong shape (%s) → 400 with the reason', async (_, payload, reason) => {
    const result = await h.post(payload);
    expect(result.statusCode).toBe(400);
    expect(body(result).error).toMatch(reason);
  });

  it('a body over 1 MB → 413', async () => {
    const big = textMessage(newCustomer(), 'x'.repeat(1_048_577));
    const result = await h.post(big);
    expect(result.statusCode).toBe(413);
    expect(body(result).error).toMatch(/limit is 1048576/);
  });

  it('another method → 405', async () => {
    const event = getEvent({});
    event.requestContext.http.method = 'PUT';
    expect((await h.app.handle(event)).statusCode).toBe(405);
  });
});

describe('every message is stored exactly once (IN-4, IN-5)', () => {
  it('a text message is stored, its contact created, and its sync job queued before the 200', async () => {
    const c = newCustomer();
    const wamid = newWamid();
    const result = await h.post(textMessage(c, 'How much is delivery to Kowloon?', { wamid, at: 1_764_000_000_000 }));
    expect(result.statusCode).toBe(200);
    const message = await h.runtime.store.messages.get(wamid);
    expect(message).toMatchObject({ wamid, direction: 'inbound', type: 'text', text: 'How much is delivery to Kowloon?', sentAt: 1_764_000_000_000, syncState: 'pending' });
    const contact = await h.runtime.store.contacts.get(message!.contactId);
    expect(contact).toMatchObject({ bsuid: c.bsuid, phone: `+${c.waId}`, profileName: c.name, leadSource: 'whatsapp', customerLevel: 'new customer', inboundCount: 1, firstInboundAt: 1_764_000_000_000, lastInboundAt: 1_764_000_000_000 });
    expect(jobsFor(wamid)).toEqual([expect.objectContaining({ wamid, contactId: message!.contactId })]);
  });

  it('one wamid delivered 3 times at once → one row, one job, counted once', async () => {
    const c = newCustomer();
    const wamid = newWamid();
    const payload = textMessage(c, 'same message, three deliveries', { wamid });
    const results = await Promise.all([h.post(payload), h.post(payload), h.post(payload)]);
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    const rows = (await h.items('MESSAGE')).filter((i) => i['wamid'] === wamid);
    expect(rows).toHaveLength(1);
    expect(jobsFor(wamid)).toHaveLength(1);
    const contact = await h.runtime.store.contacts.get(rows[0]!['contactId'] as string);
    expect(contact?.inboundCount).toBe(1);
  });

  it('the same wamid again a day later changes nothing', async () => {
    const c = newCustomer();
    const wamid = newWamid();
    await h.post(textMessage(c, 'once', { wamid }));
    const before = await h.runtime.store.messages.get(wamid);
    const later = h.appWith({ now: () => Date.now() + 86_400_000 });
    const result = await h.post(textMessage(c, 'once', { wamid }), { app: later });
    expect(body(result)).toMatchObject({ received: { messages: 0, duplicates: 1 } });
    expect(await h.runtime.store.messages.get(wamid)).toEqual(before);
    expect((await h.runtime.store.contacts.get(before!.contactId))?.inboundCount).toBe(1);
  });

  it('two different first messages of one new BSUID customer at once → one contact', async () => {
    const c = newCustomer({ phone: false });
    const [a, b] = [newWamid(), newWamid()];
    const results = await Promise.all([h.post(textMessage(c, 'first', { wamid: a })), h.post(textMessage(c, 'second', { wamid: b }))]);
    expect(results.map((r) => r.statusCode)).toEqual([200, 200]);
    const [ma, mb] = await Promise.all([h.runtime.store.messages.get(a), h.runtime.store.messages.get(b)]);
    expect(ma!.contactId).toBe(mb!.contactId);
    const contacts = (await h.items('PROFILE')).filter((p) => p['bsuid'] === c.bsuid);
    expect(contacts).toHaveLength(1);
    expect(contacts[0]).toMatchObject({ inboundCount: 2 });
    expect(contacts[0]!['phone']).toBeUndefined();
  });

  it('five first messages of a new customer with phone + BSUID at once → one contact, both identities', async () => {
    const c = newCustomer();
    const wamids = Array.from({ length: 5 }, () => newWamid());
    await Promise.all(wamids.map((wamid) => h.post(textMessage(c, 'hello', { wamid }))));
    const rows = await Promise.all(wamids.map((w) => h.runtime.store.messages.get(w)));
    expect(new Set(rows.map((r) => r!.contactId)).size).toBe(1);
    const owners = await h.runtime.store.identities.owners([{ kind: 'bsuid', value: c.bsuid }, { kind: 'phone', value: `+${c.waId}` }]);
    expect(new Set(owners.values())).toEqual(new Set([rows[0]!.contactId]));
  });

  it('phone + BSUID, then BSUID only, then a number change, then the new number → one contact with its whole history (ID-1b)', async () => {
    const c = newCustomer();
    const t = 1_764_000_000_000;
    await h.post(textMessage(c, 'with phone', { at: t }));
    await h.post(textMessage({ bsuid: c.bsuid, name: c.name }, 'bsuid only', { at: t + 1000 }));
    await h.post(numberChange(c, '85261112222', `${c.bsuid}N`, { at: t + 2000 }));
    await h.post(textMessage({ waId: '85261112222', bsuid: `${c.bsuid}N`, name: c.name }, 'from the new number', { at: t + 3000 }));
    await h.post(textMessage({ waId: '85261112222', bsuid: `${c.bsuid}N`, name: c.name }, 'bsuid-only again', { at: t + 4000 }));

    const owners = await h.runtime.store.identities.owners([
      { kind: 'bsuid', value: c.bsuid },
      { kind: 'phone', value: `+${c.waId}` },
      { kind: 'bsuid', value: `${c.bsuid}N` },
      { kind: 'phone', value: '+85261112222' },
    ]);
    expect(owners.size).toBe(4);
    const [contactId] = new Set(owners.values());
    expect(new Set(owners.values()).size).toBe(1);
    const contact = await h.runtime.store.contacts.get(contactId!);
    expect(contact).toMatchObject({ phone: '+85261112222', bsuid: `${c.bsuid}N`, previousPhones: [`+${c.waId}`], previousBsuids: [c.bsuid], inboundCount: 4 });
    const history = await h.runtime.store.messages.history(contactId!);
    expect(history.map((m) => m.summary)).toEqual(['with phone', 'bsuid only', expect.stringContaining('changed from'), 'from the new number', 'bsuid-only again']);
  });

  it('a contact known by phone and a BSUID-only contact are merged when one delivery carries both; the older one survives', async () => {
    const c = newCustomer();
    const t0 = Date.now();
    // A BSUID-only contact, created first …
    await h.post(textMessage({ bsuid: c.bsuid }, 'bsuid only first', {}), { app: h.appWith({ now: () => t0 }) });
    const bsuidOwner = (await h.runtime.store.identities.owners([{ kind: 'bsuid', value: c.bsuid }])).get(`bsuid#${c.bsuid}`)!;
    // … and a contact found by the phone (with another BSUID), a minute later …
    await h.post(textMessage({ waId: c.waId, bsuid: `${c.bsuid}-other` }, 'legacy', {}), { app: h.appWith({ now: () => t0 + 60_000 }) });
    const phoneOwner = (await h.runtime.store.identities.owners([{ kind: 'phone', value: `+${c.waId}` }])).get(`phone#+${c.waId}`)!;
    expect(phoneOwner).not.toBe(bsuidOwner);

    // … until a delivery proves they are one customer.
    await h.post(textMessage(c, 'now with both', {}), { app: h.appWith({ now: () => t0 + 120_000 }) });
    const owners = await h.runtime.store.identities.owners([{ kind: 'bsuid', value: c.bsuid }, { kind: 'phone', value: `+${c.waId}` }]);
    expect(new Set(owners.values())).toEqual(new Set([bsuidOwner]));
    expect((await h.runtime.store.contacts.get(phoneOwner))?.mergedInto).toBe(bsuidOwner);
    // the merged contact's other identities move too: none leads to it any more
    const other = await h.runtime.store.identities.owners([{ kind: 'bsuid', value: `${c.bsuid}-other` }]);
    expect(other.get(`bsuid#${c.bsuid}-other`)).toBe(bsuidOwner);
    const survivor = await h.runtime.store.contacts.get(bsuidOwner);
    expect(survivor?.mergedFrom).toEqual([phoneOwner]);
    // It learnt the phone it did not have.
    expect(survivor?.phone).toBe(`+${c.waId}`);
  });

  it('an unparseable phone is kept raw and flagged on a full contact', async () => {
    const c = { waId: '0000123', bsuid: `HK.odd${Date.now()}`, name: 'Odd' };
    const wamid = newWamid();
    expect((await h.post(textMessage(c, 'hi', { wamid }))).statusCode).toBe(200);
    const contact = await h.runtime.store.contacts.get((await h.runtime.store.messages.get(wamid))!.contactId);
    expect(contact).toMatchObject({ phoneRaw: '0000123', phoneFlag: 'invalid', bsuid: c.bsuid });
    expect(contact?.phone).toBeUndefined();
  });

  it('a click-to-WhatsApp ad makes the lead source whatsapp_ad with the ad referral', async () => {
    const wamid = newWamid();
    await h.post(inboundMessage(newCustomer(), { type: 'text', text: { body: 'from the ad' }, referral: { source_id: 'ad-77', source_type: 'ad', headline: 'Sale' } }, { wamid }));
    const contact = await h.runtime.store.contacts.get((await h.runtime.store.messages.get(wamid))!.contactId);
    expect(contact).toMatchObject({ leadSource: 'whatsapp_ad', leadReferral: { sourceId: 'ad-77', sourceType: 'ad', headline: 'Sale' } });
  });

  it('an unknown message type is stored with its raw JSON, answered 200', async () => {
    const wamid = newWamid();
    const result = await h.post(inboundMessage(newCustomer(), { type: 'poll_vote', poll_vote: { option: 'red' } }, { wamid }));
    expect(result.statusCode).toBe(200);
    const message = await h.runtime.store.messages.get(wamid);
    expect(message).toMatchObject({ type: 'poll_vote', knownType: false });
    expect(JSON.parse(message!.raw!)).toMatchObject({ poll_vote: { option: 'red' } });
  });

  it('content that cannot be understood is kept raw for review, once, and answered 200', async () => {
    const payload = { object: 'whatsapp_business_account', entry: [{ id: '1', changes: [{ field: 'messages', value: { metadata: { phone_number_id: '106540352242922' }, messages: [{ type: 'text', text: { body: 'no id' } }] } }] }] };
    expect((await h.post(payload)).statusCode).toBe(200);
    expect((await h.post(payload)).statusCode).toBe(200);
    const day = new Date().toISOString().slice(0, 10);
    const raw = (await h.runtime.store.rawEvents.on(day)).filter((r) => String(r['raw']).includes('no id'));
    expect(raw).toHaveLength(1);
    expect(raw[0]).toMatchObject({ field: 'messages', reason: expect.stringContaining('message') });
  });
});

describe('several business numbers in one deployment (IN-6)', () => {
  it('each message is routed to the phone_number_id it arrived on; the contact knows both', async () => {
    const c = newCustomer();
    const taipei: Business = { wabaId: '203301239450509', phoneNumberId: '117651463353033', displayPhone: '886223456789' };
    const [a, b] = [newWamid(), newWamid()];
    await h.post(textMessage(c, 'to Hong Kong', { wamid: a }));
    await h.post(textMessage(c, 'to Taipei', { wamid: b, business: taipei }));
    const [ma, mb] = await Promise.all([h.runtime.store.messages.get(a), h.runtime.store.messages.get(b)]);
    expect(ma).toMatchObject({ phoneNumberId: '106540352242922', wabaId: '102290129340398' });
    expect(mb).toMatchObject({ phoneNumberId: '117651463353033', wabaId: '203301239450509' });
    expect(ma!.contactId).toBe(mb!.contactId);
    expect(new Set((await h.runtime.store.contacts.get(ma!.contactId))?.accounts)).toEqual(new Set(['106540352242922', '117651463353033']));
  });
});

describe('status callbacks update the outbound message they name (IN-3)', () => {
  it.each([
    ['recipient_id', (c: { waId?: string; bsuid: string }) => ({ waId: c.waId! })],
    ['recipient_user_id', (c: { waId?: string; bsuid: string }) => ({ bsuid: c.bsuid })],
    ['both', (c: { waId?: string; bsuid: string }) => ({ waId: c.waId!, bsuid: c.bsuid })],
  ])('carrying %s: sent, read, then a late delivered → status read with each time kept', async (_, recipientOf) => {
    const c = newCustomer();
    await h.post(textMessage(c, 'hello'));
    const wamid = newWamid();
    const t = 1_764_000_000_000;
    await h.post(statusUpdate(wamid, 'sent', recipientOf(c), { at: t }));
    await h.post(statusUpdate(wamid, 'read', recipientOf(c), { at: t + 2000 }));
    await h.post(statusUpdate(wamid, 'delivered', recipientOf(c), { at: t + 1000 }));
    const message = await h.runtime.store.messages.get(wamid);
    expect(message).toMatchObject({ direction: 'outbound', status: 'read', statusAt_sent: t, statusAt_delivered: t + 1000, statusAt_read: t + 2000 });
    expect(message!.pricing).toEqual({ billable: true, pricingModel: 'PMP', category: 'utility', type: 'regular' });
    const contactId = (await h.runtime.store.identities.owners([{ kind: 'bsuid', value: c.bsuid }])).get(`bsuid#${c.bsuid}`);
    expect(message!.contactId).toBe(contactId);
    expect(await h.runtime.store.contacts.get(contactId!)).toMatchObject({ lastOutboundAt: t, lastReadAt: t + 2000 });
  });

  it('failed keeps Meta error code and title', async () => {
    const c = newCustomer();
    const wamid = newWamid();
    await h.post(statusUpdate(wamid, 'failed', { waId: c.waId! }, { error: { code: 131026, title: 'Message undeliverable' } }));
    expect(await h.runtime.store.messages.get(wamid)).toMatchObject({ status: 'failed', error: { code: 131026, title: 'Message undeliverable' } });
  });

  it('a repeated status changes nothing', async () => {
    const c = newCustomer();
    const wamid = newWamid();
    const payload = statusUpdate(wamid, 'delivered', { bsuid: c.bsuid }, { at: 1_764_000_000_000 });
    await h.post(payload);
    const before = await h.runtime.store.messages.get(wamid);
    await h.post(payload);
    expect(await h.runtime.store.messages.get(wamid)).toEqual(before);
  });
});

describe('nothing acknowledged is lost (IN-5)', () => {
  it('a queue that refuses the job → 500; Meta\'s retry then queues it, and the contact is counted once', async () => {
    const failing: SyncJobSink = { enqueue: async () => Promise.reject(new Error('SQS unavailable')) };
    const c = newCustomer();
    const wamid = newWamid();
    const payload = textMessage(c, 'please do not lose me', { wamid });
    const first = await h.post(payload, { app: h.appWith({ syncJobs: failing }) });
    expect(first.statusCode).toBe(500);
    expect(jobsFor(wamid)).toHaveLength(0);
    // Stored but not yet queued: the pending-sync index holds it for the sweep.
    expect((await h.runtime.store.syncState.pending(Date.now() + 1000, 10_000)).map((p) => p.wamid)).toContain(wamid);

    const retry = await h.post(payload);
    expect(retry.statusCode).toBe(200);
    expect(jobsFor(wamid)).toHaveLength(1);
    const contact = await h.runtime.store.contacts.get((await h.runtime.store.messages.get(wamid))!.contactId);
    expect(contact?.inboundCount).toBe(1);
  });

  it('a table that cannot be reached → 500, nothing queued', async () => {
    const broken = await createRuntime(
      { ...h.services.env, WHATSAPP_APP_SECRET: APP_SECRET, WHATSAPP_VERIFY_TOKEN: VERIFY_TOKEN },
      { ...h.services.overrides, dynamodbEndpoint: 'http://127.0.0.1:9' },
    );
    const wamid = newWamid();
    const result = await h.post(textMessage(newCustomer(), 'hi', { wamid }), { app: h.appWith({ runtime: broken }) });
    expect(result.statusCode).toBe(500);
    expect(body(result).error).toMatch(/could not be stored/);
    expect(jobsFor(wamid)).toHaveLength(0);
  });

  it('a first delivery that died after storing the message is finished by the next one, and counted once', async () => {
    const c = newCustomer();
    const wamid = newWamid();
    const t0 = Date.now();
    // The message row exists but the contact was never counted.
    const { contactId } = await h.runtime.identities.resolve({ bsuid: c.bsuid }, t0);
    await h.runtime.store.messages.put({ wamid, contactId, direction: 'inbound', phoneNumberId: '106540352242922', wabaId: '1', type: 'text', knownType: true, summary: 'x', sentAt: t0, receivedAt: t0 });

    // The redelivery a second later finishes it; the ones after change nothing.
    for (const later of [t0 + 1000, t0 + 61_000, t0 + 86_400_000]) {
      expect((await h.post(textMessage({ bsuid: c.bsuid }, 'x', { wamid }), { app: h.appWith({ now: () => later }) })).statusCode).toBe(200);
    }
    expect((await h.runtime.store.contacts.get(contactId))?.inboundCount).toBe(1);
  });

  it('a redelivery after a crash between the contact update and the applied mark counts the message once', async () => {
    const c = newCustomer();
    const wamid = newWamid();
    const t0 = Date.now();
    const payload = textMessage(c, 'discount please, the price is too expensive 😡', { wamid, at: t0 });
    // The first delivery updates the contact, then its process dies before anything else.
    const crashing = h.crashAfter('contact update');
    const first = await h.post(payload, { app: h.appWith({ store: crashing.store, syncJobs: crashing.syncJobs, now: () => t0 }) });
    expect(first.statusCode).toBe(500);
    expect(crashing.crashed()).toBe(true);
    // Meta redelivers, long after any lease of the first attempt expired; and once more.
    for (const later of [t0 + 61_000, t0 + 3_600_000]) {
      expect((await h.post(payload, { app: h.appWith({ now: () => later }) })).statusCode).toBe(200);
    }
    const row = await h.runtime.store.messages.get(wamid);
    const contact = await h.runtime.store.contacts.get(row!.contactId);
    const analysis = row!.analysis!;
    expect(analysis.hotWords).toMatchObject({ discount: 1 });
    expect(contact).toMatchObject({
      inboundCount: 1,
      sentimentCount: 1,
      sentimentSum: analysis.sentiment,
      hotWords: analysis.hotWords,
      tags: expect.arrayContaining(analysis.tags),
    });
    expect(jobsFor(wamid)).toHaveLength(1);
  });

  it('a first delivery that died after claiming the identity, before creating the contact, is completed by the retry', async () => {
    const c = newCustomer({ phone: false });
    const contactId = contactIdFor({ kind: 'bsuid', value: c.bsuid });
    await h.runtime.store.identities.claim({ kind: 'bsuid', value: c.bsuid }, contactId, Date.now());
    expect(await h.runtime.store.contacts.get(contactId)).toBeUndefined();

    const wamid = newWamid();
    expect((await h.post(textMessage(c, 'again', { wamid }))).statusCode).toBe(200);
    expect(await h.runtime.store.contacts.get(contactId)).toMatchObject({ contactId, bsuid: c.bsuid, leadSource: 'whatsapp', customerLevel: 'new customer', inboundCount: 1, createdAt: expect.any(Number) });
    expect(await h.runtime.store.messages.get(wamid)).toMatchObject({ contactId });
  });

  it('the message row key is the wamid (one row per WhatsApp message)', () => {
    expect(keys.message('wamid.X')).toEqual({ pk: 'MESSAGE#wamid.X', sk: 'MESSAGE' });
  });
});

describe('marketing consent as state (CP-7)', () => {
  const consentOf = async (wamid: string) => (await h.runtime.store.contacts.get((await h.runtime.store.messages.get(wamid))!.contactId))?.consent?.marketing;

  it('STOP opts the customer out, START later opts them in again, with when and how; "opt_out" stays only a message tag', async () => {
    const c = newCustomer();
    const t0 = Date.UTC(2026, 10, 30, 9);
    const stop = newWamid();
    await h.post(textMessage(c, 'STOP', { wamid: stop, at: t0 }));
    expect(await consentOf(stop)).toEqual({ state: 'opted_out', at: t0, source: 'whatsapp_message', wamid: stop });
    const start = newWamid();
    await h.post(textMessage(c, 'START', { wamid: start, at: t0 + 60_000 }));
    expect(await consentOf(start)).toMatchObject({ state: 'opted_in', at: t0 + 60_000, wamid: start });
  });

  it('an older STOP delivered late does not undo a later START; a redelivery changes nothing', async () => {
    const c = newCustomer();
    const t0 = Date.UTC(2026, 10, 30, 10);
    const start = newWamid();
    await h.post(textMessage(c, 'subscribe', { wamid: start, at: t0 + 60_000 }));
    const late = newWamid();
    await h.post(textMessage(c, 'unsubscribe', { wamid: late, at: t0 }));
    await h.post(textMessage(c, 'unsubscribe', { wamid: late, at: t0 }));
    expect(await consentOf(late)).toMatchObject({ state: 'opted_in', wamid: start });
  });

  it('a sentence that asks to stop promotions opts out; one that only mentions "start" changes nothing', async () => {
    const c = newCustomer();
    const asked = newWamid();
    await h.post(textMessage(c, 'when does the sale start?', { wamid: asked }));
    expect(await consentOf(asked)).toBeUndefined();
    const stop = newWamid();
    await h.post(textMessage(c, 'please stop sending me promotions', { wamid: stop }));
    expect(await consentOf(stop)).toMatchObject({ state: 'opted_out', wamid: stop });
  });
});

describe('conflicts between the CRM and WhatsApp are kept for review (ID-5)', () => {
  it('a query lists the conflicts of a day; recording one twice keeps one', async () => {
    const { resolveField } = await import('#shared/domain/intelligence/conflicts');
    const day = '2026-11-20';
    const crmAt = Date.parse(`${day}T09:00:00.000Z`);
    const a = resolveField('old@example.com', crmAt, 'new@example.com', crmAt + 1, 'email');
    const b = resolveField('gold', crmAt + 5, 'new customer', crmAt + 2, 'customerLevel');
    expect(a.conflict).toMatchObject({ winner: 'whatsapp', day });
    expect(b.conflict).toMatchObject({ winner: 'crm', day });
    await h.runtime.store.conflicts.record('ct_a', a.conflict!);
    await h.runtime.store.conflicts.record('ct_a', a.conflict!);
    await h.runtime.store.conflicts.record('ct_b', b.conflict!);
    const listed = await h.runtime.store.conflicts.on(day);
    expect(listed.map((c) => [c.contactId, c.field, c.winner])).toEqual([
      ['ct_a', 'email', 'whatsapp'],
      ['ct_b', 'customerLevel', 'crm'],
    ]);
    expect(await h.runtime.store.conflicts.on('2026-11-21')).toEqual([]);
  });
});
