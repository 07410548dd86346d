/**
 * The automations end to end: the stack as `npm start` runs it, in a child process, with the
 * local Graph API, CRM and courier stand-ins; customers talk to it through signed webhooks and
 * the test reads the answers through the SCRM API, as a client would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliver, newWamid, textMessage, type Customer } from '#local/webhooks';
import { startStackProcess, type StackProcess } from '../helpers/stack-process.ts';
import { until } from '../helpers/until.ts';

const APP_SECRET = 'e2e-automation-secret';
const TOKEN = 'e2e-automation-api-token';
let stack: StackProcess;
let base = '';
let crm = '';

beforeAll(async () => {
  stack = await startStackProcess({ WHATSAPP_APP_SECRET: APP_SECRET, SCRM_API_TOKEN: TOKEN }, 'scrm-auto-');
  base = stack.base;
  crm = stack.crm;
}, 90_000);

afterAll(() => stack?.stop());

let seq = 0;
const customer = (): Customer => ({ waId: `8529${String(Date.now()).slice(-4)}${String(++seq).padStart(3, '0')}`, bsuid: `HK.e2e${Date.now()}${seq}`, name: 'Chris Wong' });
const api = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
  const response = await fetch(`${base}/api${path}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...init.headers } });
  return (await response.json()) as T;
};
async function say(c: Customer, text: string, wamid = newWamid()): Promise<string> {
  expect((await deliver(`${base}/webhook`, textMessage(c, text, { wamid }), APP_SECRET)).status).toBe(200);
  return wamid;
}
interface Entry { id: string; direction: string; text?: string; origin?: string; rule?: string; state?: string; at: number }
const conversation = async (contactId: string) => (await api<{ messages: Entry[] }>(`/contacts/${contactId}/messages`)).messages;
const contactOf = async (c: Customer) => (await api<{ contacts: { contactId: string; agentId?: string }[] }>(`/contacts?phone=%2B${c.waId}`)).contacts[0]!;
const automated = async (contactId: string, rule: string) => (await conversation(contactId)).filter((m) => m.rule === rule);

describe('automations through npm start', () => {
  it('"how much is shipping?" gets the quick reply within 2 s, in the customer\'s words', async () => {
    const c = customer();
    const sent = Date.now();
    await say(c, 'how much is shipping?');
    const { contactId } = await until(() => contactOf(c).catch(() => undefined), 5_000);
    const [reply] = await until(async () => (await automated(contactId, 'quick-reply')).filter((m) => m.state !== 'queued').at(0) && automated(contactId, 'quick-reply'), 5_000, { what: 'the quick reply' });
    expect(reply!.at - sent).toBeLessThan(2_000);
    expect(reply).toMatchObject({ origin: 'automation', rule: 'quick-reply' });
    expect(reply!.text).toContain('Shipping is free on orders over HK$500');
  });

  it('"where is my parcel?" gets the status with the ETA window and the tracking link', async () => {
    const c = customer();
    await say(c, 'hello');
    const { contactId } = await until(() => contactOf(c).catch(() => undefined), 5_000);
    await until(async () => ((await api<{ contactId: string; crm?: unknown }>(`/contacts/${contactId}`)) as { inboundCount?: number }).inboundCount === 1, 5_000);
    // The shop's order is in the CRM (the local HubSpot), once the contact is there.
    await until(async () => (await fetch(`${crm}/_local/orders`, { method: 'POST', body: JSON.stringify({ whatsappPhone: `+${c.waId}`, name: '#2001', trackingNumber: 'SF1234567890', carrier: 'sf-express', skus: ['APL-APP2'] }), headers: { 'content-type': 'application/json' } })).ok, 15_000, { what: 'the order in the CRM' });
    await say(c, 'where is my parcel?');
    const [reply] = await until(async () => (await automated(contactId, 'order-status')).at(0) && automated(contactId, 'order-status'), 10_000, { what: 'the order status' });
    expect(reply!.text).toMatch(/Your parcel SF1234567890 is out for delivery\. Expected between \d\d:\d\d( on [^.]+)? and \d\d:\d\d on .+\. Track it: /u);
    // The courier's link goes as a tracked link (AU-8): it leads to the courier's page.
    const link = /Track it: (\S+\/l\/[A-Za-z0-9_-]{22})/u.exec(reply!.text!)?.[1];
    const opened = await fetch(link!, { redirect: 'manual' });
    expect(opened.status).toBe(302);
    expect(opened.headers.get('location')).toMatch(/^https:\/\//u);
  });

  it('4 product questions in 7 days get one coupon, not two on redelivered events', async () => {
    const c = customer();
    const questions = ['is the AirPods Pro in stock?', 'what colours does it come in?', 'does it have a warranty?', 'how long does the battery last?'];
    const wamids: string[] = [];
    for (const q of questions) wamids.push(await say(c, q));
    const { contactId } = await contactOf(c);
    await until(async () => (await automated(contactId, 'offer-high-intent')).length === 1, 15_000, { what: 'the coupon' });
    // Meta redelivers the whole conversation; nothing new is sent.
    for (const [i, q] of questions.entries()) await say(c, q, wamids[i]);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const coupons = await automated(contactId, 'offer-high-intent');
    expect(coupons).toHaveLength(1);
    expect(coupons[0]!.text).toMatch(/code HI10-[A-Z2-9]{8}/u);
  });

  it('"talk to a person" gets an agent and one hand-over message; automation is silent afterwards', async () => {
    const c = customer();
    const asked = await say(c, 'can I talk to a person please');
    const { contactId } = await until(() => contactOf(c).catch(() => undefined), 5_000);
    await until(async () => (await automated(contactId, 'handover')).length === 1, 5_000, { what: 'the hand-over' });
    expect((await contactOf(c)).agentId).toMatch(/^ag-/u);
    await say(c, 'also, what is your return policy?');
    const [quick] = await until(async () => (await automated(contactId, 'quick-reply')).at(0) && automated(contactId, 'quick-reply'), 5_000, { what: 'the quick reply decided' });
    expect(quick!.state).toBe('denied');
    const detail = await api<{ reason?: string }>(`/messages/${quick!.id}`);
    expect(detail.reason).toMatch(/^AU-6/u);
    await say(c, 'can I talk to a person please', asked); // the same message again
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await automated(contactId, 'handover')).toHaveLength(1);
  });
});
