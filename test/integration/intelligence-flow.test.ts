/**
 * The customer intelligence in the message flow, through the local stack: the webhook analyses
 * each new message once, the contact adds it up, the sync writes segment, tags and scores to the
 * CRM, a segment change is a domain event, and a purchase intent opens exactly one deal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBatchApp } from '#functions/batch-export/app';
import { createCrmAdapter } from '#shared/crm/factory';
import { shippedIntelligence } from '#shared/domain/intelligence/bundled';
import { ContactInsightsKeeper } from '#shared/sync/insights';
import type { LocalStack } from '#local/stack';
import { deliver, newWamid, textMessage } from '#local/webhooks';
import { crmContacts, crmOf, messageRow, newCustomer, send, startSyncStack, waitSynced } from '../helpers/sync-stack.ts';
import { until } from '../helpers/until.ts';

const DAY = 86_400_000;
let stack: LocalStack;

beforeAll(async () => {
  stack = await startSyncStack();
});
afterAll(async () => {
  await stack?.stop();
});

const contactOf = async (wamid: string) => stack.runtime.store.contacts.get((await messageRow(stack, wamid))!.contactId);
const crmContactOf = (bsuid: string) => crmContacts(stack, 'whatsapp_user_id', bsuid)[0];
const deals = () => (crmOf(stack).state() as unknown as { deals?: { id: string; properties: Record<string, string>; contactIds: string[] }[] }).deals ?? [];

describe('segments from the stored history (TG-3)', () => {
  it('a customer asking about product details 4 times in 7 days becomes high-intent in the CRM, and the change is an event; 3 times does not', async () => {
    const c = newCustomer();
    const now = Date.now();
    const questions = ['How much is the iPhone 15 Pro Max?', 'iPhone 15 Pro Max 幾錢？', 'Сколько стоит iPhone 15 Pro Max?', 'price of the iphone 15 pro max please?'];
    const wamids: string[] = [];
    for (const [i, text] of questions.slice(0, 3).entries()) {
      const wamid = newWamid();
      wamids.push(wamid);
      await send(stack, textMessage(c, text, { wamid, at: now - (6 - i * 2) * DAY }));
    }
    await waitSynced(stack, wamids);
    expect((await contactOf(wamids[0]!))?.segment).not.toBe('high_intent');
    expect(crmContactOf(c.bsuid)?.properties['whatsapp_segment']).not.toBe('high_intent');

    const fourth = newWamid();
    await send(stack, textMessage(c, questions[3]!, { wamid: fourth, at: now }));
    await waitSynced(stack, [fourth]);
    const contact = await contactOf(fourth);
    expect(contact?.segment).toBe('high_intent');
    // The segment changed with the fourth message (Meta's timestamp is whole seconds).
    expect(contact?.segmentAt).toBe(Math.floor(now / 1000) * 1000);
    expect(crmContactOf(c.bsuid)?.properties['whatsapp_segment']).toBe('high_intent');
    const changes = stack.events.events().filter((e) => (e as unknown as { contactId: string }).contactId === contact!.contactId);
    expect(changes.at(-1)).toMatchObject({ type: 'SegmentChanged', to: 'high_intent' });
  });
});

describe('purchase intent opens one opportunity (TG-7, ID-4)', () => {
  it('"I want to buy the iPhone 15 Pro Max" → one deal with the SKU, on the contact, even when delivered three times', async () => {
    const c = newCustomer();
    const wamid = newWamid();
    const payload = textMessage(c, 'I want to buy the iphone15 pro max, 256GB please', { wamid });
    const secret = stack.runtime.secrets.appSecret;
    await Promise.all([1, 2, 3].map(() => deliver(stack.webhookUrl, payload, secret)));
    const [row] = await waitSynced(stack, [wamid]);
    expect(row?.analysis).toMatchObject({ intent: 'purchase_intent', sku: 'APL-IP15PM' });
    expect(row?.opportunityCrmIds?.hubspot).toBeDefined();

    // The same job again (a redrive, a duplicate) changes nothing.
    await stack.runtime.syncQueue.enqueue([{ v: 1, kind: 'message', jobId: `message:${wamid}`, wamid, contactId: row!.contactId }], { redrive: 'again' });
    await until(async () => (await stack.runtime.store.messages.get(wamid))?.syncState === 'synced');
    await new Promise((resolve) => setTimeout(resolve, 500));

    const crmContact = crmContactOf(c.bsuid)!;
    const mine = deals().filter((d) => d.properties['whatsapp_opportunity_id'] === wamid);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.properties['whatsapp_sku']).toBe('APL-IP15PM');
    expect(mine[0]!.contactIds).toContain(crmContact.id);
  });

  it('a product question without purchase intent opens no deal', async () => {
    const c = newCustomer();
    const wamid = newWamid();
    await send(stack, textMessage(c, 'Is the iPhone 15 Pro Max waterproof?', { wamid }));
    await waitSynced(stack, [wamid]);
    expect(deals().filter((d) => d.properties['whatsapp_opportunity_id'] === wamid)).toHaveLength(0);
  });
});

describe('tags, hot words and sentiment add up once per message (TG-1, TG-2, TG-5)', () => {
  it('"discount" said more than 3 times makes the customer price-sensitive in the CRM', async () => {
    const c = newCustomer();
    const wamids = Array.from({ length: 4 }, () => newWamid());
    for (const [i, wamid] of wamids.entries()) await send(stack, textMessage(c, `Any discount on this? (${i})`, { wamid }));
    await waitSynced(stack, wamids);
    const properties = crmContactOf(c.bsuid)!.properties;
    expect(properties['whatsapp_tags']?.split(';')).toContain('price_sensitive');
    expect(properties['whatsapp_hot_words']).toMatch(/discount:4/);
  });

  it('a message delivered three times at once is counted once', async () => {
    const c = newCustomer();
    const wamid = newWamid();
    const payload = textMessage(c, 'Terrible service, I want a refund 😡', { wamid });
    const secret = stack.runtime.secrets.appSecret;
    await Promise.all([1, 2, 3].map(() => deliver(stack.webhookUrl, payload, secret)));
    await waitSynced(stack, [wamid]);
    const contact = await contactOf(wamid);
    expect(contact).toMatchObject({ inboundCount: 1, sentimentCount: 1 });
    expect(contact?.tags).toContain('complaint');
    expect(contact!.lastSentiment!).toBeLessThan(0.5);
    expect(crmContactOf(c.bsuid)!.properties['whatsapp_tags']).toContain('complaint');
  });

  it('a contact missing a mapped field gets its default in the CRM (ID-6: customer level "new customer")', async () => {
    const c = newCustomer();
    const wamid = newWamid();
    await send(stack, textMessage(c, 'hello', { wamid }));
    await waitSynced(stack, [wamid]);
    expect(crmContactOf(c.bsuid)!.properties['whatsapp_customer_level']).toBe('new customer');
  });
});

describe('the nightly segment refresh (TG-3: churned after more than 60 days)', () => {
  it('a customer silent for exactly 60 days is not churned; a millisecond later the refresh makes them churned in the CRM, with an event', async () => {
    const c = newCustomer();
    const wamid = newWamid();
    const sentAt = Math.floor((Date.now() - 59 * DAY) / 1000) * 1000; // Meta's timestamps are whole seconds
    await send(stack, textMessage(c, 'ok thanks', { wamid, at: sentAt }));
    await waitSynced(stack, [wamid]);
    const before = await contactOf(wamid);
    expect(before?.segment).not.toBe('churned');

    const refreshAt = (at: number) =>
      createBatchApp({
        store: stack.runtime.store,
        syncJobs: stack.runtime.syncQueue,
        insights: new ContactInsightsKeeper({ store: stack.runtime.store, intelligence: shippedIntelligence(), events: stack.events }),
        crm: () => createCrmAdapter(stack.runtime.config, stack.runtime.secretSource),
        logger: { info: () => undefined, warn: () => undefined },
        now: () => at,
      }).run('segment-refresh', { fresh: true });

    await refreshAt(sentAt + 60 * DAY);
    expect((await contactOf(wamid))?.segment).not.toBe('churned');

    const result = await refreshAt(sentAt + 60 * DAY + 1);
    expect(result).toMatchObject({ task: 'segment-refresh', failed: 0 });
    expect((await contactOf(wamid))?.segment).toBe('churned');
    expect(crmContactOf(c.bsuid)?.properties['whatsapp_segment']).toBe('churned');
    expect(stack.events.events().at(-1)).toMatchObject({ type: 'SegmentChanged', contactId: before!.contactId, to: 'churned' });

    // Run again: nothing changes, nothing is published again.
    const events = stack.events.events().length;
    await refreshAt(sentAt + 60 * DAY + 1);
    expect(stack.events.events()).toHaveLength(events);
  });

  it('a refresh whose CRM update fails is done again by the next refresh, until the CRM has the new segment', async () => {
    const c = newCustomer();
    const wamid = newWamid();
    const sentAt = Math.floor((Date.now() - 59 * DAY) / 1000) * 1000;
    await send(stack, textMessage(c, 'see you', { wamid, at: sentAt }));
    await waitSynced(stack, [wamid]);
    const refreshAt = (at: number) =>
      createBatchApp({
        store: stack.runtime.store,
        syncJobs: stack.runtime.syncQueue,
        insights: new ContactInsightsKeeper({ store: stack.runtime.store, intelligence: shippedIntelligence(), events: stack.events }),
        crm: () => createCrmAdapter(stack.runtime.config, stack.runtime.secretSource),
        logger: { info: () => undefined, warn: () => undefined },
        now: () => at,
      }).run('segment-refresh', { fresh: true });
    const later = sentAt + 61 * DAY;
    // The CRM fails every batch update of the first refresh (and its retry before the run ends).
    crmOf(stack).setFaults(Array.from({ length: 500 }, () => ({ method: 'POST', path: /\/contacts\/batch\/update$/, status: 503 })));
    await expect(refreshAt(later)).rejects.toThrow(/segment refresh failed/);
    crmOf(stack).setFaults([]);
    expect(crmContactOf(c.bsuid)?.properties['whatsapp_segment']).not.toBe('churned');

    await refreshAt(later);
    expect(crmContactOf(c.bsuid)?.properties['whatsapp_segment']).toBe('churned');
    expect((await contactOf(wamid))?.segment).toBe('churned');
  });
});
