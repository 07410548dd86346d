/**
 * A local Zoho CRM: the accounts server's token endpoint and the CRM v8 endpoints the Zoho
 * adapter calls, with Zoho's answer shapes, on one port (its URL is both ZOHO_ACCOUNTS_URL and
 * the `api_domain` its tokens name). Plus what every CRM stand-in offers (local/crm/stand-in.ts):
 * faults by operation, an enforced rate limit answered as Zoho answers it (429, no Retry-After),
 * request counts, a contact typed in by a sales user, and for people:
 *   GET  /               contacts with their messages, deals, tasks and orders (HTML)
 *   GET  /_local/state   every record (JSON)     GET /_local/stats   requests by operation and route
 *   POST /_local/orders  a sales order for a contact, as a shop connector would make it
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { fieldMapping } from '#shared/crm/mappings';
import { crmField } from '#shared/crm/field-mapping';
import { CONTACT, CONTACTS_MODULE, DEAL, DEAL_WON_STAGE, MESSAGE, ORDER, TASK } from '#shared/crm/zoho/fields';
import { lookupId, text, zohoDate, zohoDateTime } from '#shared/crm/zoho/format';
import { ENV, SECRET_KEYS } from '#shared/resources';
import { RollingLimit } from '../crm/rate-limit.ts';
import type { CrmStandIn, StandInContact, StandInFault, StandInOperation, StandInRateLimit, StandInTwoWay } from '../crm/stand-in.ts';
import { closeServer, listen, readBody } from '../http.ts';
import { LocalZohoAccounts, THROTTLE_ANSWER } from './accounts.ts';
import { CriteriaError, parseCriteria } from './criteria.ts';
import { LocalZohoNotifications } from './notifications.ts';
import { renderHomePage } from './page.ts';
import { errorBody, LocalZohoStore, SALES_USER, ZohoFailure, type Answer } from './store.ts';

export const LOCAL_ZOHO_CREDENTIALS = { clientId: '1000.LOCALZOHOCLIENT', clientSecret: 'local-zoho-client-secret', refreshToken: '1000.local-zoho-refresh-token' } as const;

export interface ZohoStandInOptions {
  readonly port?: number;
  readonly host?: string;
  readonly dataFile?: string;
  readonly clientId?: string;
  readonly clientSecret?: string;
  readonly refreshToken?: string;
  /** Search sees only writes older than this. Default 2000 ms (Zoho's index lags seconds). */
  readonly searchLagMs?: number;
  readonly rateLimit?: StandInRateLimit;
  /** Access tokens per refresh token in 10 minutes. Default 10 (Zoho's). */
  readonly maxRefreshesPerWindow?: number;
  /** Lifetime of an access token. Default 3600 s. */
  readonly tokenTtlSeconds?: number;
  /** API credits per rolling 24 hours, reported in X-RATELIMIT-DAY-* headers. Default 50,000. */
  readonly dailyCredits?: number;
}

/** A sales order for a contact, as the shop's connector would create it. */
export interface LocalZohoOrderInput {
  readonly contactCrmId: string;
  readonly name?: string;
  readonly placedAt?: number;
  readonly amount?: number;
  readonly currency?: string;
  readonly status?: string;
  readonly trackingNumber?: string;
  readonly carrier?: string;
  readonly trackingUrl?: string;
  readonly skus?: readonly string[];
}

export interface ZohoStandIn extends CrmStandIn {
  readonly port: number;
  readonly store: LocalZohoStore;
  /** Seeds a sales order (no request, no faults); returns its id. */
  addOrder(input: LocalZohoOrderInput): string;
  /** Every access token stops working: the next API call is answered 401 INVALID_TOKEN. */
  expireAccessTokens(): void;
  rotateRefreshToken(refreshToken: string): void;
  /** Access tokens issued so far. */
  tokenRefreshes(): number;
  /** Requests by route, e.g. `POST /crm/{version}/Contacts/upsert`. */
  routeStats(): Record<string, number>;
  readonly twoWay: StandInTwoWay & {
    /** Resolves once every notification queued so far is delivered or given up. */
    settled(): Promise<void>;
  };
}

interface Route {
  readonly operation: StandInOperation | 'other';
  readonly name: string;
  readonly write: boolean;
  readonly run: (body: unknown, query: URLSearchParams, headers: IncomingMessage['headers']) => Answer;
}

const MAX_BODY_BYTES = 5 * 1024 * 1024;
const DAY_MS = 86_400_000;
const WRITE_OPERATION: Record<string, StandInOperation> = { [CONTACTS_MODULE]: 'contact-write', [MESSAGE.module]: 'message-write', [DEAL.module]: 'opportunity-write', [TASK.module]: 'task-write' };

export async function startZohoStandIn(options: ZohoStandInOptions = {}): Promise<ZohoStandIn> {
  const now = Date.now;
  const credentials = { clientId: options.clientId ?? LOCAL_ZOHO_CREDENTIALS.clientId, clientSecret: options.clientSecret ?? LOCAL_ZOHO_CREDENTIALS.clientSecret, refreshToken: options.refreshToken ?? LOCAL_ZOHO_CREDENTIALS.refreshToken };
  const searchLagMs = options.searchLagMs ?? 2000;
  const store = new LocalZohoStore({ dataFile: options.dataFile, searchLagMs, now });
  await store.load();
  const notifications = new LocalZohoNotifications({ apiUrl: () => url, now });
  store.onWrite = (write) => notifications.recordWritten(write);
  const customerLevelField = crmField(fieldMapping('zoho'), 'customerLevel');
  const accounts = new LocalZohoAccounts({ ...credentials, maxRefreshesPerWindow: options.maxRefreshesPerWindow, tokenTtlSeconds: options.tokenTtlSeconds, now });
  const limit = new RollingLimit(options.rateLimit);
  const dailyCredits = options.dailyCredits ?? 50_000;
  const credits: number[] = [];
  let faults: StandInFault[] = [];
  const counts = new Map<string, number>();
  const routes = new Map<string, number>();
  const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  let url = '';

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => send(res, 500, errorBody('INTERNAL_ERROR', error instanceof Error ? error.message : 'Internal Server Error')));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = new URL(req.url ?? '/', 'http://local');
    const method = req.method ?? 'GET';
    if (method === 'GET' && target.pathname === '/') return sendHtml(res, renderHomePage(store));
    if (method === 'GET' && target.pathname === '/_local/state') return send(res, 200, { records: Object.fromEntries(['Contacts', 'WhatsApp_Messages', 'Deals', 'Tasks', 'Sales_Orders', 'WhatsApp_Service_Reports'].map((m) => [m, store.all(m)])) });
    if (method === 'GET' && target.pathname === '/_local/stats') return send(res, 200, { ...Object.fromEntries(counts), routes: Object.fromEntries(routes) });
    const raw = await readBody(req, MAX_BODY_BYTES);
    if (method === 'POST' && target.pathname === '/_local/orders') {
      try {
        return send(res, 201, { id: addOrder(JSON.parse(raw) as LocalZohoOrderInput) });
      } catch (error) {
        return error instanceof ZohoFailure ? send(res, error.status, error.body) : send(res, 400, errorBody('INVALID_DATA', 'invalid order'));
      }
    }
    if (method === 'POST' && target.pathname === '/oauth/v2/token') {
      count(counts, 'token');
      const fault = takeFault('token');
      if (fault && fault.afterCommitDelayMs === undefined) return answerFault(res, fault, true);
      const form = new URLSearchParams(raw);
      for (const [key, value] of target.searchParams) if (!form.has(key)) form.set(key, value);
      const granted = accounts.grant(form, url);
      if (fault?.afterCommitDelayMs !== undefined) await sleep(fault.afterCommitDelayMs);
      return send(res, granted.status, granted.body);
    }

    const route = resolveRoute(method, target.pathname);
    if (!route) return send(res, 404, errorBody('INVALID_URL_PATTERN', 'Please check if the URL trying to access is a correct one'));
    count(counts, route.operation);
    count(counts, 'total');
    count(routes, route.name);
    const fault = takeFault(route.operation);
    if (fault && fault.afterCommitDelayMs === undefined) return answerFault(res, fault, false);
    const auth = accounts.check(req.headers.authorization);
    if (auth === 'missing') return send(res, 401, errorBody('AUTHENTICATION_FAILURE', 'Authentication failed'));
    if (auth === 'invalid') return send(res, 401, errorBody('INVALID_TOKEN', 'invalid oauth token'));
    const at = now();
    while (credits.length && credits[0]! <= at - DAY_MS) credits.shift();
    if (credits.length >= dailyCredits || !limit.take()) {
      count(counts, 'rateLimited');
      return send(res, 429, errorBody('TOO_MANY_REQUESTS', 'Too many requests'), creditHeaders());
    }
    credits.push(at);
    let body: unknown;
    try {
      body = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      return send(res, 400, errorBody('INVALID_DATA', 'body is not valid JSON'), creditHeaders());
    }
    let result: Answer;
    try {
      result = route.run(body, target.searchParams, req.headers);
    } catch (error) {
      if (error instanceof ZohoFailure) return send(res, error.status, error.body, creditHeaders());
      if (error instanceof CriteriaError) return send(res, 400, errorBody('INVALID_QUERY', 'invalid query formed', { param_name: 'criteria' }), creditHeaders());
      throw error;
    }
    // Like Zoho, a write is answered once it is durable.
    if (route.write) await store.flushed();
    if (fault?.afterCommitDelayMs !== undefined) await sleep(fault.afterCommitDelayMs);
    send(res, result.status, result.body, creditHeaders());
  }

  function creditHeaders(): Record<string, string> {
    return { 'x-ratelimit-day-limit': String(dailyCredits), 'x-ratelimit-day-remaining': String(Math.max(0, dailyCredits - credits.length)) };
  }

  function takeFault(operation: StandInOperation | 'other'): StandInFault | undefined {
    const index = faults.findIndex((f) => f.operation === operation || (f.operation === 'any' && operation !== 'token'));
    return index < 0 ? undefined : faults.splice(index, 1)[0];
  }

  async function answerFault(res: ServerResponse, fault: StandInFault, token: boolean): Promise<void> {
    if (fault.dropConnection) {
      res.socket?.destroy();
      return;
    }
    const status = fault.status ?? 500;
    if (status === 429) count(counts, 'rateLimited');
    const headers: Record<string, string> = fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {};
    send(res, status, fault.body ?? (token ? tokenFaultBody(status) : apiFaultBody(status)), headers);
  }

  function addOrder(input: LocalZohoOrderInput): string {
    const order = store.add(ORDER.module, {
      [ORDER.subject]: input.name ?? 'Order',
      [ORDER.contact]: { id: input.contactCrmId },
      ...(input.amount !== undefined && { [ORDER.grandTotal]: input.amount }),
      ...(input.currency && { [ORDER.currency]: input.currency }),
      ...(input.status && { [ORDER.status]: input.status }),
      ...(input.carrier && { [ORDER.carrier]: input.carrier }),
      ...(input.trackingNumber && { [ORDER.trackingNumber]: input.trackingNumber }),
      ...(input.trackingUrl && { [ORDER.trackingUrl]: input.trackingUrl }),
      [ORDER.placedAt]: zohoDateTime(input.placedAt ?? now()),
      [ORDER.items]: (input.skus ?? []).map((sku, i) => ({ Product_Name: { name: sku, id: `5725767000009${String(i).padStart(6, '0')}`, Product_Code: sku }, Quantity: 1 })),
    });
    return order.id;
  }

  function resolveRoute(method: string, path: string): Route | undefined {
    const match = /^\/crm\/v\d+\/(.+)$/.exec(path);
    if (!match) return undefined;
    const [module, second, third, ...rest] = match[1]!.split('/').map(decodeURIComponent);
    if (module === 'actions' && second === 'watch' && third === undefined) {
      const watch = (run: Route['run']): Route => ({ operation: 'other', name: `${method} /crm/{version}/actions/watch`, write: false, run });
      if (method === 'POST' || method === 'PUT' || method === 'PATCH') return watch((body) => notifications.write(method, body));
      if (method === 'DELETE') return watch((_, q) => notifications.disable(q.get('channel_ids')));
      if (method === 'GET') return watch(() => notifications.details());
      return undefined;
    }
    if (module && second && third === 'actions' && rest.length === 1 && rest[0] === 'merge' && method === 'POST') {
      return { operation: 'contact-write', name: `POST /crm/{version}/${module}/{id}/actions/merge`, write: true, run: (body) => store.merge(module, second, body) };
    }
    if (!module || rest.length > 0) return undefined;
    const fields = (q: URLSearchParams) => (q.get('fields') ?? '').split(',').filter(Boolean);
    const page = (q: URLSearchParams) => [Math.max(1, Number(q.get('page') ?? 1) || 1), Math.min(200, Math.max(1, Number(q.get('per_page') ?? 200) || 200))] as const;
    const read = (name: string, run: Route['run']): Route => ({ operation: module === CONTACTS_MODULE ? 'contact-read' : 'other', name: `${method} /crm/{version}/${name}`, write: false, run });
    const write = (name: string, run: Route['run']): Route => ({ operation: WRITE_OPERATION[module] ?? 'other', name: `${method} /crm/{version}/${name}`, write: true, run });
    const data = (body: unknown) => (body && typeof body === 'object' ? (body as { data?: unknown }).data : undefined);
    if (second === undefined) {
      if (method === 'POST') return write(module, (body) => store.insert(module, data(body)));
      if (method === 'PUT') return write(module, (body) => store.update(module, data(body)));
      if (method === 'GET') {
        return read(module, (_, q, headers) => {
          if (q.has('ids')) return store.getMany(module, (q.get('ids') ?? '').split(',').filter(Boolean), fields(q));
          const [p, perPage] = page(q);
          const since = headers['if-modified-since'];
          return store.list(module, fields(q), { sortBy: q.get('sort_by'), sortOrder: q.get('sort_order'), page: p, perPage, modifiedSince: typeof since === 'string' ? since : undefined });
        });
      }
      return undefined;
    }
    if (second === 'upsert' && third === undefined && method === 'POST') return write(`${module}/upsert`, (body) => store.upsert(module, data(body), (body as { duplicate_check_fields?: unknown } | undefined)?.duplicate_check_fields));
    if (second === 'search' && third === undefined && method === 'GET') {
      return read(`${module}/search`, (_, q) => {
        const criteria = q.get('criteria');
        if (!criteria) throw new ZohoFailure(400, errorBody('REQUIRED_PARAM_MISSING', 'One of the expected parameter is missing', { param_name: 'criteria' }));
        const [p, perPage] = page(q);
        return store.search(module, parseCriteria(criteria), fields(q), p, perPage);
      });
    }
    if (third === undefined && method === 'GET') return read(`${module}/{id}`, (_, q) => store.get(module, second, fields(q)));
    if (third === undefined && method === 'PUT') return write(`${module}/{id}`, (body) => store.update(module, data(body), second));
    if (third !== undefined && method === 'GET') {
      return read(`${module}/{id}/${third}`, (_, q) => {
        const [p, perPage] = page(q);
        return store.related(module, second, third, fields(q), p, perPage);
      });
    }
    return undefined;
  }

  const listening = await listen(server, options.port ?? 0, options.host);
  url = listening.url;

  /** The CRM's side of two-way sync: a sales user's edits, an agent's replies, purchases, merges. */
  const twoWay: ZohoStandIn['twoWay'] = {
    // Zoho calls back the notify_url of the channel the adapter opened: no target of its own.
    setDeliveryTarget: () => undefined,
    pauseDeliveries: (paused) => notifications.pause(paused),
    async editContact(id, values, editOptions = {}) {
      const changes: Record<string, unknown> = {};
      if (values.firstName !== undefined) changes[CONTACT.firstName] = values.firstName;
      if (values.customerLevel !== undefined) {
        if (!customerLevelField) throw new Error('the customer level is not mapped to a Zoho field');
        changes[customerLevelField] = values.customerLevel;
      }
      if (values.optedOut !== undefined) changes[CONTACT.marketingOptOut] = values.optedOut;
      store.edit(CONTACTS_MODULE, id, changes, { at: editOptions.at, userId: editOptions.userId ?? SALES_USER.id });
      await store.flushed();
    },
    async writeReply(contactId, replyText, replyOptions = {}) {
      const record = store.add(TASK.module, { [TASK.subject]: 'WhatsApp reply', [TASK.who]: { id: contactId }, [TASK.description]: replyText, [TASK.reply]: true, [TASK.status]: 'Not Started' }, { userId: replyOptions.userId ?? SALES_USER.id });
      await store.flushed();
      return record.id;
    },
    replies: () =>
      store
        .all(TASK.module)
        .filter((r) => r.fields[TASK.reply] === true)
        .map((r) => ({ id: r.id, contactId: lookupId(r.fields[TASK.who]) ?? '', text: String(r.fields[TASK.description] ?? ''), status: text(r.fields[TASK.replyStatus])?.split(' ')[0] })),
    async addPurchase(contactId, sku, at, amount) {
      store.add(
        DEAL.module,
        { [DEAL.name]: `Purchase: ${sku}`, [DEAL.stage]: DEAL_WON_STAGE, [DEAL.closingDate]: zohoDate(at), [DEAL.contact]: { id: contactId }, [DEAL.sku]: sku, ...(amount !== undefined && { [DEAL.amount]: amount }) },
        { at, userId: SALES_USER.id },
      );
      await store.flushed();
    },
    merges: () => store.merges(),
    deliveries: () => notifications.deliveries(),
    settled: () => notifications.settled(),
  };

  return {
    kind: 'zoho',
    url,
    port: listening.port,
    store,
    env: {
      [ENV.zohoAccountsUrl]: url,
      [SECRET_KEYS.zohoClientId]: credentials.clientId,
      [SECRET_KEYS.zohoClientSecret]: credentials.clientSecret,
      [SECRET_KEYS.zohoRefreshToken]: credentials.refreshToken,
    },
    capabilities: { salesContacts: true, readBack: true, cases: false },
    contacts: () => store.all(CONTACTS_MODULE).map((r) => toContact(r.id, r.fields)),
    messages: () =>
      store.all(MESSAGE.module).map((r) => ({ id: r.id, wamid: String(r.fields[MESSAGE.messageId] ?? ''), contactId: lookupId(r.fields[MESSAGE.contact]) ?? '', body: String(r.fields[MESSAGE.body] ?? '') })),
    opportunities: () =>
      store
        .all(DEAL.module)
        .filter((r) => text(r.fields[DEAL.opportunityId]))
        .map((r) => ({ id: r.id, opportunityId: String(r.fields[DEAL.opportunityId]), contactId: lookupId(r.fields[DEAL.contact]) ?? '', sku: text(r.fields[DEAL.sku]) })),
    tasks: () =>
      store
        .all(TASK.module)
        .filter((r) => text(r.fields[TASK.taskId]))
        .map((r) => ({ id: r.id, taskId: String(r.fields[TASK.taskId]), contactId: lookupId(r.fields[TASK.who]) ?? '', subject: String(r.fields[TASK.subject] ?? '') })),
    cases: () => [],
    async createSalesContact(input) {
      const record = store.add(CONTACTS_MODULE, {
        [CONTACT.firstName]: input.firstName,
        [CONTACT.lastName]: input.lastName,
        [input.field === 'phone' ? CONTACT.salesPhone : CONTACT.mobile]: input.phone,
        [CONTACT.leadSource]: 'Cold Call',
      });
      await store.flushed();
      // Resolves once the search index shows it.
      await sleep(searchLagMs + 5);
      return record.id;
    },
    setFaults(next) {
      faults = [...next];
    },
    setRateLimit(next) {
      limit.set(next);
    },
    requests: () => Object.fromEntries(counts),
    resetRequests() {
      counts.clear();
      routes.clear();
    },
    addOrder,
    twoWay,
    expireAccessTokens: () => accounts.expireAll(),
    rotateRefreshToken: (token) => accounts.rotateRefreshToken(token),
    tokenRefreshes: () => accounts.issued,
    routeStats: () => Object.fromEntries(routes),
    async stop() {
      await closeServer(server);
      await store.flushed();
    },
  };
}

function toContact(id: string, fields: Readonly<Record<string, unknown>>): StandInContact {
  return {
    id,
    bsuid: text(fields[CONTACT.bsuid]),
    phone: text(fields[CONTACT.phone]),
    salesPhones: [fields[CONTACT.salesPhone], fields[CONTACT.mobile]].map(text).filter((p): p is string => p !== undefined),
    firstName: text(fields[CONTACT.firstName]),
    lastName: text(fields[CONTACT.lastName]),
    leadSource: text(fields[CONTACT.leadSource]),
    fields,
  };
}

function tokenFaultBody(status: number): unknown {
  if (status === 400 || status === 429) return THROTTLE_ANSWER;
  return status >= 500 ? 'Internal Server Error' : { error: 'invalid_client' };
}

function apiFaultBody(status: number): unknown {
  if (status === 429) return errorBody('TOO_MANY_REQUESTS', 'Too many requests');
  if (status === 401) return errorBody('INVALID_TOKEN', 'invalid oauth token');
  if (status === 403) return errorBody('NO_PERMISSION', 'permission denied');
  if (status === 404) return errorBody('INVALID_URL_PATTERN', 'Please check if the URL trying to access is a correct one');
  if (status >= 500) return errorBody('INTERNAL_ERROR', 'Internal Server Error');
  return errorBody('INVALID_DATA', 'invalid data');
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  if (status === 204) {
    res.writeHead(204, headers);
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain;charset=utf-8' : 'application/json;charset=utf-8', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

function sendHtml(res: ServerResponse, html: string): void {
  res.writeHead(200, { 'content-type': 'text/html;charset=utf-8' });
  res.end(html);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
