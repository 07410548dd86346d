/**
 * The local HubSpot server behind the neutral stand-in interface (local/crm/stand-in.ts), so the
 * shared CRM contract suite, `npm start` and the bench drive it like the other CRMs' stand-ins.
 */
import { crmField } from '#shared/crm/field-mapping';
import { hubSpotReplyId } from '#shared/crm/hubspot/inbound';
import { setupHubSpot } from '#shared/crm/hubspot/setup';
import { CONTACT, COMMUNICATION, DEAL, TASK, TWO_WAY_PROPERTIES } from '#shared/crm/hubspot/properties';
import { fieldMapping } from '#shared/crm/mappings';
import type { CrmStandIn, StandInFault, StandInOperation, StandInRateLimit, StandInReply, StandInTwoWay } from '../crm/stand-in.ts';
import { LOCAL_PAGE_USER_ID, startLocalHubSpot, type LocalHubSpot, type LocalHubSpotFault } from './server.ts';
import type { ChangeOrigin, PropertyChange } from './store.ts';
import { LocalHubSpotWebhooks } from './webhooks.ts';

export interface HubSpotStandInOptions {
  readonly port?: number;
  readonly dataFile?: string;
  readonly token?: string;
  /** Search sees only writes older than this (HubSpot's lags seconds). Default 2000 ms. */
  readonly searchLagMs?: number;
  readonly rateLimit?: StandInRateLimit;
  /** The project app's client secret that signs the webhooks. Default {@link LOCAL_HUBSPOT_CLIENT_SECRET}. */
  readonly clientSecret?: string;
  /** The project app's id (the `sourceId` of its writes). Default {@link LOCAL_HUBSPOT_APP_ID}. */
  readonly appId?: string;
  /** Webhook POSTs' pause before a second try (doubling). Default 100 ms. */
  readonly deliveryRetryMs?: number;
}

export const LOCAL_HUBSPOT_TOKEN = 'local-hubspot-token';
export const LOCAL_HUBSPOT_CLIENT_SECRET = 'local-hubspot-client-secret';
export const LOCAL_HUBSPOT_APP_ID = '4242001';

/** The HubSpot stand-in: the neutral interface, its server, and its webhooks (SY-3). */
export type HubSpotStandIn = CrmStandIn & { readonly hub: LocalHubSpot; readonly twoWay: HubSpotStandInTwoWay };

export interface HubSpotStandInTwoWay extends StandInTwoWay {
  /** Resolves once every webhook queued so far is sent or given up. */
  settled(): Promise<void>;
}

const OBJECT = String.raw`/crm/objects/[^/]+`;
/** Which requests each neutral operation stands for. */
const OPERATIONS: Record<Exclude<StandInOperation, 'any' | 'token'>, (method: string, path: string) => boolean> = {
  'contact-read': (method, path) => new RegExp(`^${OBJECT}/contacts/(batch/read|search)$`).test(path) || (method === 'GET' && new RegExp(`^${OBJECT}/contacts/[^/]+$`).test(path)),
  'contact-write': (method, path) => (method === 'PATCH' && new RegExp(`^${OBJECT}/contacts/[^/]+$`).test(path)) || (method === 'POST' && new RegExp(`^${OBJECT}/contacts(/batch/update)?$`).test(path)),
  'message-write': (method, path) => method === 'POST' && new RegExp(`^${OBJECT}/communications(/batch/create)?$`).test(path),
  'opportunity-write': (method, path) => method === 'POST' && new RegExp(`^${OBJECT}/deals$`).test(path),
  'task-write': (method, path) => method === 'POST' && new RegExp(`^${OBJECT}/tasks$`).test(path),
};

function hubspotFault(fault: StandInFault): LocalHubSpotFault {
  const { operation, ...rest } = fault;
  if (operation === 'any') return rest;
  // HubSpot's private-app token is static: a token fault is an API request answered 401.
  if (operation === 'token') return { ...rest, status: rest.status ?? 401 };
  return { ...rest, match: OPERATIONS[operation] };
}

export async function startHubSpotStandIn(options: HubSpotStandInOptions = {}): Promise<HubSpotStandIn> {
  const token = options.token ?? LOCAL_HUBSPOT_TOKEN;
  const clientSecret = options.clientSecret ?? LOCAL_HUBSPOT_CLIENT_SECRET;
  const appId = options.appId ?? LOCAL_HUBSPOT_APP_ID;
  const levelProperty = crmField(fieldMapping('hubspot'), 'customerLevel') ?? 'whatsapp_customer_level';
  const webhooks = new LocalHubSpotWebhooks({ appId, clientSecret, customerLevelProperty: levelProperty, ...(options.deliveryRetryMs !== undefined && { retryMs: options.deliveryRetryMs }) });
  const replies = new LocalReplies();
  const hub = await startLocalHubSpot({
    port: options.port ?? 0,
    token,
    appId,
    historyOf: new Set([`contacts.${TWO_WAY_PROPERTIES.reply}`, `contacts.${TWO_WAY_PROPERTIES.replyStatus}`]),
    onChange: (changes) => {
      replies.observe(changes);
      webhooks.notify(changes);
    },
    searchLagMs: options.searchLagMs ?? 2000,
    ...(options.dataFile && { dataFile: options.dataFile }),
    ...(options.rateLimit && { rateLimit: options.rateLimit }),
  });
  await setupHubSpot({ baseUrl: hub.url, accessToken: token });
  replies.load(hub);
  hub.resetStats();
  const person = (userId: string | undefined, at?: number): ChangeOrigin => {
    const id = Number(userId ?? LOCAL_PAGE_USER_ID);
    if (!Number.isInteger(id) || id <= 0) throw new Error(`a HubSpot user id is a positive whole number, got "${userId}"`);
    return { changeSource: 'CRM_UI', sourceId: `userId:${id}`, userId: id, ...(at !== undefined && { at }) };
  };
  const twoWay: HubSpotStandInTwoWay = {
    setDeliveryTarget: (url) => webhooks.setTarget(url),
    pauseDeliveries: (paused) => webhooks.pause(paused),
    async editContact(id, values, editOptions = {}) {
      const properties: Record<string, string> = {};
      if (values.firstName !== undefined) properties['firstname'] = values.firstName;
      if (values.customerLevel !== undefined) properties[levelProperty] = values.customerLevel;
      if (values.optedOut !== undefined) properties[TWO_WAY_PROPERTIES.marketingOptOut] = String(values.optedOut);
      if (Object.keys(properties).length === 0) throw new Error('editContact needs a first name, a customer level or an opt-out');
      hub.edit('contacts', id, properties, person(editOptions.userId, editOptions.at));
      await hub.flushed();
    },
    async writeReply(contactId, text, replyOptions = {}) {
      if (!text.trim()) throw new Error('a reply needs a text');
      // Two replies in one millisecond would share the property's history entry (and so the id).
      const at = Math.max(Date.now(), replies.lastAt() + 1);
      hub.edit('contacts', contactId, { [TWO_WAY_PROPERTIES.reply]: text }, person(replyOptions.userId, at));
      await hub.flushed();
      return hubSpotReplyId(contactId, at);
    },
    replies: () => replies.list(),
    async addPurchase(contactId, sku, at, amount) {
      // An order with one line item, as the shop's connector makes it: what purchasesSince reads.
      hub.addOrder({ contactCrmId: contactId, placedAt: at, skus: [sku], ...(amount !== undefined && { amount }) });
      await hub.flushed();
      // Resolves once search sees the order (it lags writes), as a purchase made a while ago would be.
      await new Promise((resolve) => setTimeout(resolve, (options.searchLagMs ?? 2000) + 20));
    },
    merges: () => hub.merges().filter((m) => m.type === 'contacts').map((m) => ({ survivorId: m.primaryId, loserId: m.mergedId })),
    deliveries: () => webhooks.deliveries(),
    settled: () => webhooks.settled(),
  };
  const text = (value: string | undefined) => (value === undefined || value === '' ? undefined : value);
  const version = '2026-09';

  return {
    kind: 'hubspot',
    url: hub.url,
    hub,
    env: { HUBSPOT_API_BASE: hub.url, HUBSPOT_ACCESS_TOKEN: token, HUBSPOT_CLIENT_SECRET: clientSecret, HUBSPOT_APP_ID: appId },
    capabilities: { salesContacts: true, readBack: true, cases: false },
    contacts: () =>
      hub.state().contacts.map((c) => ({
        id: c.id,
        bsuid: text(c.properties[CONTACT.bsuid]),
        phone: text(c.properties[CONTACT.phone]),
        salesPhones: [c.properties['phone'], c.properties['mobilephone']].filter((p): p is string => !!p),
        firstName: text(c.properties['firstname']),
        lastName: text(c.properties['lastname']),
        leadSource: text(c.properties[CONTACT.leadSource]),
        fields: { ...c.properties },
      })),
    messages: () =>
      hub.state().communications.map((m) => ({
        id: m.id,
        wamid: m.properties[COMMUNICATION.messageId] ?? '',
        contactId: m.contactIds[0] ?? '',
        body: m.properties['hs_communication_body'] ?? '',
      })),
    opportunities: () =>
      hub.state().deals.map((d) => ({ id: d.id, opportunityId: d.properties[DEAL.opportunityId] ?? '', contactId: d.contactIds[0] ?? '', sku: text(d.properties[DEAL.sku]) })),
    tasks: () =>
      hub.state().tasks.map((t) => ({ id: t.id, taskId: t.properties[TASK.taskId] ?? '', contactId: t.contactIds[0] ?? '', subject: t.properties['hs_task_subject'] ?? '' })),
    cases: () => [],
    async createSalesContact(input) {
      const field = input.field === 'phone' ? 'phone' : 'mobilephone';
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const created = await fetch(`${hub.url}/crm/objects/${version}/contacts`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ properties: { firstname: input.firstName, lastname: input.lastName, [field]: input.phone }, associations: [] }),
      });
      if (created.status !== 201) throw new Error(`the local HubSpot refused the sales contact: ${created.status}`);
      const { id } = (await created.json()) as { id: string };
      // Like a sales user's record, it is found by search only once HubSpot has indexed it.
      const deadline = Date.now() + (options.searchLagMs ?? 2000) + 5_000;
      for (;;) {
        const found = await fetch(`${hub.url}/crm/objects/${version}/contacts/search`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ filterGroups: [{ filters: [{ propertyName: field, operator: 'EQ', value: input.phone }] }] }),
        });
        const { results } = (await found.json()) as { results: { id: string }[] };
        if (results.some((r) => r.id === id)) break;
        if (Date.now() > deadline) throw new Error(`the local HubSpot's search did not index contact ${id}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      hub.resetStats();
      return id;
    },
    setFaults: (faults) => hub.setFaults(faults.map(hubspotFault)),
    setRateLimit: (limit) => hub.setRateLimit(limit),
    requests: () => hub.stats(),
    resetRequests: () => hub.resetStats(),
    twoWay,
    async stop() {
      await webhooks.settled();
      await hub.stop();
    },
  };
}

/**
 * The replies agents wrote (each value of a contact's reply property) and the status written back
 * after each: a status belongs to the contact's latest reply when it was written.
 */
class LocalReplies {
  private readonly replies: { id: string; contactId: string; text: string; at: number; status?: string }[] = [];

  /** The replies already in a persisted account, from the reply property's history. */
  load(hub: LocalHubSpot): void {
    for (const contact of hub.state().contacts) {
      const history = contact.history ?? {};
      const events = [
        ...(history[TWO_WAY_PROPERTIES.reply] ?? []).map((h) => ({ property: TWO_WAY_PROPERTIES.reply, value: h.value, at: Date.parse(h.timestamp) })),
        ...(history[TWO_WAY_PROPERTIES.replyStatus] ?? []).map((h) => ({ property: TWO_WAY_PROPERTIES.replyStatus, value: h.value, at: Date.parse(h.timestamp) })),
      ].sort((a, b) => a.at - b.at);
      for (const e of events) this.apply(contact.id, e.property, e.value, e.at);
    }
  }

  observe(changes: readonly PropertyChange[]): void {
    for (const change of changes) if (change.type === 'contacts') this.apply(change.id, change.property, change.value, change.at);
  }

  lastAt(): number {
    return this.replies.at(-1)?.at ?? 0;
  }

  list(): StandInReply[] {
    return this.replies.map((r) => ({ id: r.id, contactId: r.contactId, text: r.text, ...(r.status !== undefined && { status: r.status }) }));
  }

  private apply(contactId: string, property: string, value: string, at: number): void {
    if (property === TWO_WAY_PROPERTIES.reply && value.trim()) this.replies.push({ id: hubSpotReplyId(contactId, at), contactId, text: value, at });
    if (property === TWO_WAY_PROPERTIES.replyStatus) {
      const latest = this.replies.filter((r) => r.contactId === contactId).at(-1);
      if (latest) latest.status = value || undefined;
    }
  }
}
