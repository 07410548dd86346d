/**
 * The local HubSpot server behind the neutral stand-in interface (local/crm/stand-in.ts), so the
 * shared CRM contract suite, `npm start` and the bench drive it like the other CRMs' stand-ins.
 */
import { setupHubSpot } from '#shared/crm/hubspot/setup';
import { CONTACT, COMMUNICATION, DEAL, TASK } from '#shared/crm/hubspot/properties';
import type { CrmStandIn, StandInFault, StandInOperation, StandInRateLimit } from '../crm/stand-in.ts';
import { startLocalHubSpot, type LocalHubSpot, type LocalHubSpotFault } from './server.ts';

export interface HubSpotStandInOptions {
  readonly port?: number;
  readonly dataFile?: string;
  readonly token?: string;
  /** Search sees only writes older than this (HubSpot's lags seconds). Default 2000 ms. */
  readonly searchLagMs?: number;
  readonly rateLimit?: StandInRateLimit;
}

export const LOCAL_HUBSPOT_TOKEN = 'local-hubspot-token';

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

export async function startHubSpotStandIn(options: HubSpotStandInOptions = {}): Promise<CrmStandIn & { readonly hub: LocalHubSpot }> {
  const token = options.token ?? LOCAL_HUBSPOT_TOKEN;
  const hub = await startLocalHubSpot({
    port: options.port ?? 0,
    token,
    searchLagMs: options.searchLagMs ?? 2000,
    ...(options.dataFile && { dataFile: options.dataFile }),
    ...(options.rateLimit && { rateLimit: options.rateLimit }),
  });
  await setupHubSpot({ baseUrl: hub.url, accessToken: token });
  hub.resetStats();
  const text = (value: string | undefined) => (value === undefined || value === '' ? undefined : value);
  const version = '2026-09';

  return {
    kind: 'hubspot',
    url: hub.url,
    hub,
    env: { HUBSPOT_API_BASE: hub.url, HUBSPOT_ACCESS_TOKEN: token },
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
    stop: () => hub.stop(),
  };
}
