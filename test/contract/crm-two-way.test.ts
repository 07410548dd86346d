/**
 * Two-way sync end to end (SY-3, ID-3, ID-5), for every CRM with a way back, through the whole
 * local stack and the CRM's stand-in: its notifications (HubSpot's signed webhooks, Salesforce's
 * CDC events through the Event Relay stand-in, Zoho's channel callbacks) come back to our routes
 * and queue, and the stand-in is driven only through the neutral interface (local/crm/stand-in.ts).
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CrmStandIn, StandInTwoWay } from '#local/crm/stand-in';
import type { LocalStack } from '#local/stack';
import { newWamid, textMessage } from '#local/webhooks';
import type { CrmKind } from '#shared/resources';
import { newCustomer, send, startSyncStack, waitSynced, type TestCustomer } from '../helpers/sync-stack.ts';
import { until } from '../helpers/until.ts';

/** The CRMs whose stand-in plays the way back (local/crm/stand-in.ts `twoWay`). */
const TWO_WAY: CrmKind[] = ['hubspot', 'zoho', 'salesforce'];
const secondsAgo = (s: number) => Math.floor(Date.now() / 1000) * 1000 - s * 1000;
const today = () => new Date().toISOString().slice(0, 10);

describe.each(TWO_WAY.map((kind) => [kind]))('two-way sync: %s', (kind: CrmKind) => {
  let stack: LocalStack;
  let crm: CrmStandIn;
  let back: StandInTwoWay;

  beforeAll(async () => {
    stack = await startSyncStack({ env: { SCRM_CRM: kind, SCRM_LOCAL_AUTOMATIONS: 'off' } });
    crm = stack.crmStandIn!;
    back = crm.twoWay!;
    expect(back).toBeDefined();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${stack.url}/api${path}`, { method, headers: { authorization: `Bearer ${stack.env['SCRM_API_TOKEN']}`, 'content-type': 'application/json', 'idempotency-key': `t-${Math.random()}` }, ...(body !== undefined && { body: JSON.stringify(body) }) });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the answers' shapes are asserted field by field below
    return { status: response.status, body: (await response.json()) as any };
  };

  /** A customer who wrote once, synced: our contact id and its CRM record's id. */
  async function customerInCrm(customer: TestCustomer): Promise<{ contactId: string; crmId: string }> {
    const wamid = newWamid();
    await send(stack, textMessage(customer, 'Hello, do you have the kettle?', { wamid, at: secondsAgo(2) }));
    const [row] = await waitSynced(stack, [wamid]);
    const contact = await stack.runtime.store.contacts.get(row!.contactId);
    return { contactId: row!.contactId, crmId: contact!.crmIds![kind]!.id };
  }
  const ours = (contactId: string) => stack.runtime.store.contacts.current(contactId);
  const crmContact = (crmId: string) => crm.contacts().find((c) => c.id === crmId);

  it('a name changed in the CRM comes back to our contact; a repeated notification changes nothing', async () => {
    const customer = newCustomer({ name: 'Mei Ling Chan' });
    const { contactId, crmId } = await customerInCrm(customer);
    await back.editContact(crmId, { firstName: 'May' });
    await until(async () => (await ours(contactId))?.firstName === 'May', 15_000, { what: 'the CRM name on our contact' });
    // The same profile name in the next message does not undo the sales edit.
    const wamid = newWamid();
    await send(stack, textMessage(customer, 'thanks', { wamid, at: secondsAgo(0) }));
    await waitSynced(stack, [wamid]);
    expect((await ours(contactId))?.firstName).toBe('May');
    expect(crmContact(crmId)?.firstName).toBe('May');
  });

  it('an opt-out and a customer level noted by sales become ours', async () => {
    const { contactId, crmId } = await customerInCrm(newCustomer({ name: 'Ka Ho Wong' }));
    await back.editContact(crmId, { customerLevel: 'gold', optedOut: true });
    await until(async () => {
      const c = await ours(contactId);
      return c?.customerLevel === 'gold' && c.consent?.marketing?.state === 'opted_out';
    }, 15_000, { what: 'the level and opt-out on our contact' });
  });

  it('a change on both sides at once: one conflict, the newer value on both sides', async () => {
    const customer = newCustomer({ name: 'Mei Ling Chan' });
    const { contactId, crmId } = await customerInCrm(customer);
    // The customer renames themselves in WhatsApp (older) while sales corrects the name (newer).
    const wamid = newWamid();
    const renamedAt = secondsAgo(0);
    await Promise.all([back.editContact(crmId, { firstName: 'Meg' }, { at: renamedAt + 500 }), send(stack, textMessage({ ...customer, name: 'Maggie Chan' }, 'new name', { wamid, at: renamedAt }))]);
    await waitSynced(stack, [wamid]);
    await until(async () => (await ours(contactId))?.firstName === 'Meg' && crmContact(crmId)?.firstName === 'Meg', 20_000, { what: 'Meg on both sides' });
    const conflicts = (await api('GET', `/conflicts?date=${today()}`)).body as { id: string; contactId: string; field: string; winner: string; theirs: { value: string } }[];
    const mine = conflicts.filter((c) => c.contactId === contactId);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ field: 'firstName', winner: 'theirs', theirs: { value: 'Meg' } });

    // A person decides otherwise: written to both sides.
    const resolved = await api('POST', `/conflicts/${encodeURIComponent(mine[0]!.id)}/resolve`, { value: 'Maggie' });
    expect(resolved.status).toBe(200);
    await until(async () => (await ours(contactId))?.firstName === 'Maggie' && crmContact(crmId)?.firstName === 'Maggie', 20_000, { what: 'the decision on both sides' });
  });

  it('a reply written in the CRM reaches WhatsApp once and shows as delivered in the CRM', async () => {
    const customer = newCustomer({ name: 'Olga Petrova' });
    const { contactId, crmId } = await customerInCrm(customer);
    const replyId = await back.writeReply(crmId, 'Yes, the blue kettle is in stock.');
    await until(async () => back.replies().find((r) => r.id === replyId)?.status?.startsWith('delivered') || back.replies().find((r) => r.id === replyId)?.status?.startsWith('read'), 20_000, { what: 'delivered on the reply record' });
    const sends = stack.graph!.sends().filter((s) => s.summary.includes('blue kettle is in stock'));
    expect(sends).toHaveLength(1);
    const history = await api('GET', `/contacts/${contactId}/messages`);
    expect(history.body.messages.some((m: { text?: string; origin?: string }) => m.text === 'Yes, the blue kettle is in stock.' && m.origin === 'agent')).toBe(true);
    // Not logged into the CRM a second time.
    expect(crm.messages().filter((m) => m.body.includes('blue kettle is in stock'))).toHaveLength(0);
  });

  it('two customers on two numbers with matching names and the same SKU in 90 days: one candidate, merged into one contact with both histories and one CRM record', async () => {
    const first = newCustomer({ name: 'Chan Tai Man' });
    const second = newCustomer({ name: 'Chan Tai Mun' });
    const a = await customerInCrm(first);
    const b = await customerInCrm(second);
    const day = 86_400_000;
    await back.addPurchase(a.crmId, 'APL-IP15PM', Date.now() - 30 * day, 9999);
    await back.addPurchase(b.crmId, 'APL-IP15PM', Date.now() - 5 * day, 9999);
    const run = await fetch(`${stack.url}/local/batch?task=duplicates`, { method: 'POST' });
    expect(run.status).toBe(200);
    const open = (await api('GET', '/duplicates?state=open')).body as { id: string; aId: string; bId: string }[];
    const candidate = open.filter((d) => [d.aId, d.bId].sort().join() === [a.contactId, b.contactId].sort().join());
    expect(candidate).toHaveLength(1);

    const merged = await api('POST', `/duplicates/${encodeURIComponent(candidate[0]!.id)}/merge`);
    expect(merged.status).toBe(200);
    const survivor = merged.body.survivorId as string;
    const history = await api('GET', `/contacts/${survivor}/messages`);
    expect(history.body.messages.filter((m: { direction: string }) => m.direction === 'inbound')).toHaveLength(2);
    expect((await ours(merged.body.absorbedId))?.contactId).toBe(survivor);
    const remaining = crm.contacts().filter((c) => c.id === a.crmId || c.id === b.crmId);
    expect(remaining).toHaveLength(1);
    expect(back.merges()).toHaveLength(1);

    // Undone from the record it left: both stand alone again.
    const undone = await api('POST', `/merges/${encodeURIComponent(merged.body.id)}/undo`);
    expect(undone.status).toBe(200);
    expect((await ours(merged.body.absorbedId))?.contactId).toBe(merged.body.absorbedId);
  });
});

describe('HubSpot deliveries: signed, fresh, once', () => {
  let stack: LocalStack;
  const kind: CrmKind = 'hubspot';
  beforeAll(async () => {
    stack = await startSyncStack({ env: { SCRM_CRM: kind, SCRM_LOCAL_AUTOMATIONS: 'off' } });
  });
  afterAll(async () => {
    await stack?.stop();
  });
  const ours = (contactId: string) => stack.runtime.store.contacts.current(contactId);
  async function customerInCrm(customer: TestCustomer): Promise<{ contactId: string; crmId: string }> {
    const wamid = newWamid();
    await send(stack, textMessage(customer, 'Hello', { wamid, at: secondsAgo(2) }));
    const [row] = await waitSynced(stack, [wamid]);
    const contact = await stack.runtime.store.contacts.get(row!.contactId);
    return { contactId: row!.contactId, crmId: contact!.crmIds![kind]!.id };
  }

  it('a forged HubSpot signature gets 401 and changes nothing', async () => {
    const body = JSON.stringify([{ eventId: 1, subscriptionType: 'object.propertyChange', objectTypeId: '0-1', objectId: 1, propertyName: 'firstname', propertyValue: 'Evil', occurredAt: Date.now() }]);
    const forged = await fetch(`${stack.url}/crm-events/hubspot`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hubspot-signature-v3': 'AAAA', 'x-hubspot-request-timestamp': String(Date.now()) }, body });
    expect(forged.status).toBe(401);
    const signed = (timestamp: number) => {
      const uri = `https://${new URL(stack.url).host}/crm-events/hubspot`;
      return createHmac('sha256', stack.env['HUBSPOT_CLIENT_SECRET']!).update(`POST${uri}${body}${timestamp}`).digest('base64');
    };
    const old = Date.now() - 10 * 60_000;
    const stale = await fetch(`${stack.url}/crm-events/hubspot`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hubspot-signature-v3': signed(old), 'x-hubspot-request-timestamp': String(old) }, body });
    expect(stale.status).toBe(401);
    expect(await stack.runtime.store.twoWay.eventState('hubspot', '1')).toBeUndefined();
  });

  it('a repeated HubSpot event changes nothing', async () => {
    const { contactId, crmId } = await customerInCrm(newCustomer({ name: 'Wing Yee Lau' }));
    const eventId = Math.floor(Math.random() * 1e9);
    const deliver = async (value: string) => {
      const body = JSON.stringify([{ eventId, subscriptionId: 1, portalId: 1, appId: 1, occurredAt: Date.now(), subscriptionType: 'object.propertyChange', attemptNumber: 0, objectId: Number(crmId), objectTypeId: '0-1', propertyName: 'firstname', propertyValue: value, changeSource: 'CRM_UI', sourceId: 'userId:7' }]);
      const timestamp = Date.now();
      const uri = `https://${new URL(stack.url).host}/crm-events/hubspot`;
      const signature = createHmac('sha256', stack.env['HUBSPOT_CLIENT_SECRET']!).update(`POST${uri}${body}${timestamp}`).digest('base64');
      const response = await fetch(`${stack.url}/crm-events/hubspot`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hubspot-signature-v3': signature, 'x-hubspot-request-timestamp': String(timestamp) }, body });
      return { status: response.status, body: (await response.json()) as { accepted: number; repeated: number } };
    };
    expect((await deliver('Winnie')).status).toBe(200);
    await until(async () => (await stack.runtime.store.twoWay.eventState('hubspot', String(eventId))) === 'applied', 15_000, { what: 'the event applied' });
    expect((await ours(contactId))?.firstName).toBe('Winnie');
    // The same event id again, even with another value (a replay): nothing changes.
    const again = await deliver('Mallory');
    expect(again).toEqual({ status: 200, body: { accepted: 0, repeated: 1 } });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await ours(contactId))?.firstName).toBe('Winnie');
  });

});
