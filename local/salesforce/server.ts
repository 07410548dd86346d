/**
 * A local Salesforce org: the OAuth token endpoint of the client credentials flow (answering
 * its own URL as instance_url) and the REST API the Salesforce adapter uses (api.ts), with the
 * org's rules (store.ts), Sforce-Limit-Info on every answer, an enforced request limit answered
 * as Salesforce does (403 REQUEST_LIMIT_EXCEEDED), faults by operation, persistence to a data
 * file and a home page. It is what `SCRM_CRM=salesforce npm start` runs. Besides the API:
 *   GET  /               contacts with their cases, messages, opportunities, tasks, orders (HTML)
 *   GET  /_local/state   every record (JSON)          GET /_local/stats  requests by operation
 *   POST /_local/orders  an order for a contact, as a shop connector would make it
 *   POST /services/Soap/u/{version}   the SOAP API's merge() (soap.ts)
 * Two-way sync (SY-3): every change of a Contact, Task, Case or Opportunity is sent as a Change
 * Data Capture event the way Event Relay puts it on EventBridge (events.ts) to the delivery
 * target; the API writes as the integration user (LOCAL_SALESFORCE_INTEGRATION_USER_ID, the
 * `SALESFORCE_INTEGRATION_USER_ID` of `env`), a sales edit or an agent's reply as theirs.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { CASE, CONTACT, MESSAGE, OPPORTUNITY, TASK } from '#shared/crm/salesforce/fields';
import { RollingLimit } from '../crm/rate-limit.ts';
import { TWO_WAY_FIELD } from '#shared/crm/salesforce/inbound';
import { crmField } from '#shared/crm/field-mapping';
import { fieldMapping } from '#shared/crm/mappings';
import type { CrmStandIn, StandInFault, StandInRateLimit, StandInTwoWay } from '../crm/stand-in.ts';
import { closeServer, listen, readBody } from '../http.ts';
import { dispatch, operationOf } from './api.ts';
import { LocalEventRelay } from './events.ts';
import { SalesforceFailure } from './failures.ts';
import { addOrder, type LocalOrderInput } from './orders.ts';
import { renderHomePage } from './page.ts';
import { buildSchema } from './schema.ts';
import { faultOfStatus, sessionIdOf, SoapFault, soapCall, soapFault } from './soap.ts';
import { DEFAULT_INTEGRATION_USER_ID, LocalSalesforceStore, type StoredRecord } from './store.ts';

export type { LocalOrderInput } from './orders.ts';

export interface SalesforceStandInOptions {
  readonly port?: number;
  readonly host?: string;
  readonly dataFile?: string;
  /** The External Client App's consumer key and secret the token endpoint accepts. */
  readonly clientId?: string;
  readonly clientSecret?: string;
  /**
   * SOQL conditions on fields that are not External IDs (the sales phone fields) see a write only
   * this long after it. Real SOQL does not lag (default 0); External IDs and Id never do here.
   */
  readonly queryLagMs?: number;
  readonly rateLimit?: StandInRateLimit;
  /** The org's rolling 24 h API allocation, reported in Sforce-Limit-Info and enforced. Default 1,000,000. */
  readonly dailyApiLimit?: number;
  /** How long a session lasts (the org's session timeout). Default 2 h. */
  readonly sessionTimeoutMs?: number;
  /** `Object.Field` keys made External ID without Unique, e.g. `Contact.WhatsApp_User_Id__c`. */
  readonly nonUniqueExternalIds?: readonly string[];
  /** Change events' POSTs: pause before a second try (doubling). Default 100 ms. */
  readonly deliveryRetryMs?: number;
}

export interface SalesforceStandInTwoWay extends StandInTwoWay {
  /** Resolves once every change event queued so far is delivered or given up. */
  settled(): Promise<void>;
}

export interface SalesforceStandIn extends CrmStandIn {
  readonly store: LocalSalesforceStore;
  /** Ends every session: the next API call answers 401 INVALID_SESSION_ID. */
  expireTokens(): void;
  /** An agent closes the conversation's case in Salesforce. */
  closeCase(conversationId: string): void;
  /** A record deleted in Salesforce (or merged away). */
  deleteRecord(object: string, id: string): void;
  addOrder(input: LocalOrderInput): { id: string };
  /** Token requests served. */
  tokenRequests(): number;
  readonly twoWay: SalesforceStandInTwoWay;
}

export const LOCAL_SALESFORCE_CLIENT_ID = 'local-salesforce-client-id';
/** The org, its Event Relay, and its users: the API's (the External Client App's run-as user), a sales user, an agent, the shop's connector. */
export const LOCAL_SALESFORCE_ORG_ID = '00D5g00000LOCALEAA';
export const LOCAL_SALESFORCE_RELAY_ID = '0YL5g00000LOCALAAA';
export const LOCAL_SALESFORCE_INTEGRATION_USER_ID = DEFAULT_INTEGRATION_USER_ID;
export const LOCAL_SALESFORCE_SALES_USER_ID = '0055g00000SALESAAA';
export const LOCAL_SALESFORCE_AGENT_USER_ID = '0055g00000AGENTAAA';
export const LOCAL_SALESFORCE_SHOP_USER_ID = '0055g00000SHOPSAAA';
export const LOCAL_SALESFORCE_CLIENT_SECRET = 'local-salesforce-client-secret';
const MAX_BODY_BYTES = 5 * 1024 * 1024;
const DAY_MS = 86_400_000;

export async function startSalesforceStandIn(options: SalesforceStandInOptions = {}): Promise<SalesforceStandIn> {
  const clientId = options.clientId ?? LOCAL_SALESFORCE_CLIENT_ID;
  const clientSecret = options.clientSecret ?? LOCAL_SALESFORCE_CLIENT_SECRET;
  const queryLagMs = options.queryLagMs ?? 0;
  const sessionTimeoutMs = options.sessionTimeoutMs ?? 2 * 3_600_000;
  const dailyLimit = options.dailyApiLimit ?? 1_000_000;
  const store = new LocalSalesforceStore(buildSchema({ nonUniqueExternalIds: options.nonUniqueExternalIds }), { dataFile: options.dataFile, queryLagMs, integrationUserId: LOCAL_SALESFORCE_INTEGRATION_USER_ID });
  await store.load();
  const relay = new LocalEventRelay({ orgId: LOCAL_SALESFORCE_ORG_ID, relayId: LOCAL_SALESFORCE_RELAY_ID, integrationUserId: LOCAL_SALESFORCE_INTEGRATION_USER_ID, ...(options.deliveryRetryMs !== undefined && { retryMs: options.deliveryRetryMs }) });
  store.onCommit((changes) => relay.publish(changes));
  const levelField = crmField(fieldMapping('salesforce'), 'customerLevel');

  const sessions = new Map<string, number>();
  const limit = new RollingLimit(options.rateLimit);
  const daily: number[] = [];
  const stats = new Map<string, number>();
  let faults: StandInFault[] = [];
  let tokens = 0;
  let url = '';
  const count = (name: string) => stats.set(name, (stats.get(name) ?? 0) + 1);

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      send(res, 500, [{ errorCode: 'UNKNOWN_EXCEPTION', message: error instanceof Error ? error.message : String(error) }]);
    });
  });
  server.on('clientError', (_error, socket) => socket.destroy());

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestUrl = new URL(req.url ?? '/', 'http://local');
    const method = req.method ?? 'GET';
    const path = requestUrl.pathname;
    let text: string;
    try {
      text = await readBody(req, MAX_BODY_BYTES);
    } catch {
      return send(res, 413, [{ errorCode: 'REQUEST_TOO_LARGE', message: 'The request body is too large' }]);
    }
    if (method === 'GET' && path === '/') return sendHtml(res, renderHomePage(store));
    if (method === 'GET' && path === '/_local/state') return send(res, 200, snapshot());
    if (method === 'GET' && path === '/_local/stats') return send(res, 200, Object.fromEntries(stats));
    if (method === 'POST' && path === '/_local/orders') {
      try {
        const seeded = store.as({ userId: LOCAL_SALESFORCE_SHOP_USER_ID }, () => addOrder(store, JSON.parse(text || '{}') as LocalOrderInput));
        await store.flushed();
        return send(res, 201, seeded);
      } catch (error) {
        if (error instanceof SalesforceFailure) return send(res, error.status, error.body);
        return send(res, 400, [{ errorCode: 'JSON_PARSER_ERROR', message: 'Invalid JSON body' }]);
      }
    }
    if (path === '/services/oauth2/token') return token(res, method, text, requestUrl.searchParams);
    if (/^\/services\/Soap\/u\/\d{2,3}\.\d$/.test(path)) return soap(res, method, text);
    if (method === 'GET' && /^\/services\/data\/?$/.test(path)) {
      return send(res, 200, ['66.0', '67.0', '68.0'].map((version) => ({ label: `v${version}`, url: `/services/data/v${version}`, version })));
    }
    const m = /^\/services\/data\/v(\d{2,3}\.\d)(\/.*)?$/.exec(path);
    if (!m) return send(res, 404, [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }]);
    const version = m[1]!;
    const rest = m[2] ?? '/';
    let body: unknown;
    try {
      body = text ? (JSON.parse(text) as unknown) : undefined;
    } catch {
      return send(res, 400, [{ errorCode: 'JSON_PARSER_ERROR', message: 'Unexpected character in the request body' }]);
    }
    const operation = operationOf(method, rest, requestUrl.searchParams, body);
    count(operation);
    count('total');

    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const issued = bearer ? sessions.get(bearer) : undefined;
    if (issued === undefined || Date.now() - issued > sessionTimeoutMs) {
      return send(res, 401, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
    }
    const now = Date.now();
    while (daily.length && daily[0]! <= now - DAY_MS) daily.shift();
    if (!limit.take() || daily.length >= dailyLimit) {
      count('rateLimited');
      return send(res, 403, [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
    }
    daily.push(now);

    const fault = takeFault(operation);
    if (fault && fault.afterCommitDelayMs === undefined) return answerFault(res, fault, false);
    let answer: { status: number; body: unknown };
    try {
      answer = dispatch(store, version, method, rest, requestUrl.searchParams, body);
    } catch (error) {
      if (error instanceof SalesforceFailure) answer = { status: error.status, body: error.body };
      else if (error instanceof URIError) answer = { status: 404, body: [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }] };
      else throw error;
    }
    // Like Salesforce, a write is answered once it is durable.
    if (method !== 'GET') await store.flushed();
    if (fault?.afterCommitDelayMs !== undefined) await sleep(fault.afterCommitDelayMs);
    send(res, answer.status, answer.body);
  }

  /** The SOAP API: merge() only, authenticated by the SessionHeader, with the REST API's limits and faults. */
  async function soap(res: ServerResponse, method: string, text: string): Promise<void> {
    const answer = (a: { status: number; body: string }) => sendXml(res, a.status, a.body);
    if (method !== 'POST') return answer(soapFault('INVALID_OPERATION', 'The SOAP API takes POST'));
    count('contact-write');
    count('total');
    const issued = sessions.get(sessionIdOf(text) ?? '');
    if (issued === undefined || Date.now() - issued > sessionTimeoutMs) return answer(soapFault('INVALID_SESSION_ID', 'Invalid Session ID found in SessionHeader: Illegal Session'));
    const now = Date.now();
    while (daily.length && daily[0]! <= now - DAY_MS) daily.shift();
    if (!limit.take() || daily.length >= dailyLimit) {
      count('rateLimited');
      return answer(soapFault('REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.'));
    }
    daily.push(now);
    const fault = takeFault('contact-write');
    if (fault?.dropConnection) return void res.socket?.destroy();
    if (fault && fault.afterCommitDelayMs === undefined) return answer(faultOfStatus(fault.status ?? 500));
    let result: { status: number; body: string };
    try {
      result = soapCall(store, text);
    } catch (error) {
      if (!(error instanceof SoapFault)) throw error;
      result = soapFault(error.code, error.message);
    }
    await store.flushed();
    if (fault?.afterCommitDelayMs !== undefined) await sleep(fault.afterCommitDelayMs);
    answer(result);
  }

  function sendXml(res: ServerResponse, status: number, body: string): void {
    if (res.headersSent) return;
    res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8', 'sforce-limit-info': `api-usage=${daily.length}/${dailyLimit}` });
    res.end(body);
  }

  async function token(res: ServerResponse, method: string, text: string, query: URLSearchParams): Promise<void> {
    count('token');
    tokens += 1;
    if (method !== 'POST') return send(res, 405, { error: 'invalid_request', error_description: 'must use HTTP POST' }, false);
    const fault = takeFault('token');
    if (fault && fault.afterCommitDelayMs === undefined) return answerFault(res, fault, true);
    const form = new URLSearchParams(text);
    const param = (name: string) => form.get(name) ?? query.get(name);
    if (param('grant_type') !== 'client_credentials') return send(res, 400, { error: 'unsupported_grant_type', error_description: 'grant type not supported' }, false);
    if (param('client_id') !== clientId) return send(res, 400, { error: 'invalid_client_id', error_description: 'client identifier invalid' }, false);
    if (param('client_secret') !== clientSecret) return send(res, 400, { error: 'invalid_client', error_description: 'invalid client credentials' }, false);
    const accessToken = `00D5g00000LOCAL!${randomBytes(24).toString('base64url')}`;
    const issuedAt = Date.now();
    sessions.set(accessToken, issuedAt);
    // The token issued, its answer late (a client with a shorter timeout never hears of it).
    if (fault?.afterCommitDelayMs !== undefined) await sleep(fault.afterCommitDelayMs);
    send(
      res,
      200,
      {
        access_token: accessToken,
        signature: randomBytes(32).toString('base64'),
        scope: 'api',
        instance_url: url,
        id: `${url}/id/${LOCAL_SALESFORCE_ORG_ID}/${LOCAL_SALESFORCE_INTEGRATION_USER_ID}`,
        token_type: 'Bearer',
        issued_at: String(issuedAt),
        token_format: 'opaque',
      },
      false,
    );
  }

  function takeFault(operation: string): StandInFault | undefined {
    const index = faults.findIndex((f) => f.operation === operation || (f.operation === 'any' && operation !== 'token'));
    if (index < 0) return undefined;
    return faults.splice(index, 1)[0];
  }

  async function answerFault(res: ServerResponse, fault: StandInFault, oauth: boolean): Promise<void> {
    if (fault.dropConnection) {
      res.socket?.destroy();
      return;
    }
    const status = fault.status ?? 500;
    if (fault.retryAfterSeconds !== undefined) res.setHeader('retry-after', String(fault.retryAfterSeconds));
    send(res, status, fault.body ?? (oauth ? oauthFaultBody(status) : faultBody(status)), !oauth);
  }

  function send(res: ServerResponse, status: number, body: unknown, limitInfo = true): void {
    if (res.headersSent) return;
    const headers: Record<string, string> = { 'content-type': 'application/json;charset=UTF-8' };
    if (limitInfo) headers['sforce-limit-info'] = `api-usage=${daily.length}/${dailyLimit}`;
    res.writeHead(status, headers);
    res.end(body === undefined || status === 204 ? undefined : JSON.stringify(body));
  }

  function snapshot() {
    return Object.fromEntries([...store.schema.keys()].map((object) => [object, store.list(object).map((r) => store.present(r))]));
  }

  const listening = await listen(server, options.port ?? 0, options.host);
  url = listening.url;
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
  const userOf = (userId: string | undefined, fallback: string) => {
    const id = userId ?? fallback;
    if (!/^005[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$/.test(id)) throw new Error(`a Salesforce user id is 005 and 12 or 15 letters and digits, got "${id}"`);
    return id;
  };

  const twoWay: SalesforceStandInTwoWay = {
    setDeliveryTarget: (target) => relay.setTarget(target),
    pauseDeliveries: (paused) => relay.pause(paused),
    async editContact(id, values, editOptions = {}) {
      const fields: Record<string, unknown> = {};
      if (values.firstName !== undefined) fields.FirstName = values.firstName;
      if (values.customerLevel !== undefined) {
        if (!levelField) throw new Error('the customer level is not mapped to a Salesforce field (config/crm/salesforce.json)');
        fields[levelField] = values.customerLevel;
      }
      if (values.optedOut !== undefined) fields[TWO_WAY_FIELD.optOut] = values.optedOut;
      if (Object.keys(fields).length === 0) throw new Error('editContact needs a first name, a customer level or an opt-out');
      store.as({ userId: userOf(editOptions.userId, LOCAL_SALESFORCE_SALES_USER_ID), at: editOptions.at }, () => store.update('Contact', id, fields));
      await store.flushed();
    },
    async writeReply(contactId, replyText, replyOptions = {}) {
      if (!replyText.trim()) throw new Error('a reply needs a text');
      const task = store.as({ userId: userOf(replyOptions.userId, LOCAL_SALESFORCE_AGENT_USER_ID) }, () =>
        store.create(TASK.object, { WhoId: contactId, Subject: 'WhatsApp reply', Description: replyText, TaskSubtype: 'Task', [TWO_WAY_FIELD.reply]: true }),
      );
      await store.flushed();
      return task.Id;
    },
    replies: () =>
      store
        .list(TASK.object)
        .filter((t) => t.fields[TWO_WAY_FIELD.reply] === true)
        .map((t) => ({ id: t.Id, contactId: String(t.fields.WhoId ?? ''), text: String(t.fields.Description ?? ''), ...(text(t.fields[TWO_WAY_FIELD.replyStatus]) && { status: text(t.fields[TWO_WAY_FIELD.replyStatus]) }) })),
    async addPurchase(contactId, sku, at, amount) {
      // An order with one item, as the shop's connector writes it: what purchasesSince reads.
      store.as({ userId: LOCAL_SALESFORCE_SHOP_USER_ID }, () => addOrder(store, { contactCrmId: contactId, placedAt: at, skus: [sku], ...(amount !== undefined && { amount }) }));
      await store.flushed();
    },
    merges: () => store.merges().filter((m) => m.object === 'Contact').map((m) => ({ survivorId: m.survivorId, loserId: m.loserId })),
    deliveries: () => relay.deliveries(),
    settled: () => relay.settled(),
  };

  return {
    kind: 'salesforce',
    url,
    store,
    env: {
      SCRM_CRM: 'salesforce',
      SALESFORCE_LOGIN_URL: url,
      SALESFORCE_API_VERSION: '68.0',
      SALESFORCE_CLIENT_ID: clientId,
      SALESFORCE_CLIENT_SECRET: clientSecret,
      SALESFORCE_INTEGRATION_USER_ID: LOCAL_SALESFORCE_INTEGRATION_USER_ID,
    },
    capabilities: { salesContacts: true, readBack: true, cases: true },
    contacts: () =>
      store.list('Contact').map((c) => ({
        id: c.Id,
        bsuid: text(c.fields[CONTACT.bsuid]),
        phone: text(c.fields[CONTACT.phone]),
        salesPhones: [c.fields.Phone, c.fields.MobilePhone].filter((p): p is string => typeof p === 'string' && p !== ''),
        firstName: text(c.fields.FirstName),
        lastName: text(c.fields.LastName),
        leadSource: text(c.fields.LeadSource),
        fields: fieldsOf(c),
      })),
    messages: () => store.list(MESSAGE.object).map((m) => ({ id: m.Id, wamid: String(m.fields[MESSAGE.wamid] ?? ''), contactId: String(m.fields[MESSAGE.contact] ?? ''), body: String(m.fields[MESSAGE.body] ?? '') })),
    opportunities: () =>
      store.list(OPPORTUNITY.object).map((o) => ({ id: o.Id, opportunityId: String(o.fields[OPPORTUNITY.opportunityId] ?? ''), contactId: String(o.fields.ContactId ?? ''), sku: text(o.fields[OPPORTUNITY.sku]) })),
    tasks: () => store.list(TASK.object).map((t) => ({ id: t.Id, taskId: String(t.fields[TASK.taskId] ?? ''), contactId: String(t.fields.WhoId ?? ''), subject: String(t.fields.Subject ?? '') })),
    cases: () =>
      store.list(CASE.object).map((c) => ({
        id: c.Id,
        conversationId: String(c.fields[CASE.conversationId] ?? ''),
        contactId: String(c.fields.ContactId ?? ''),
        type: text(c.fields.Type),
        status: String(c.fields.Status ?? ''),
        subject: text(c.fields.Subject),
        priority: text(c.fields.Priority),
      })),
    async createSalesContact(input) {
      const record = store.as({ userId: LOCAL_SALESFORCE_SALES_USER_ID }, () => store.create('Contact', { FirstName: input.firstName, LastName: input.lastName, [input.field === 'phone' ? 'Phone' : 'MobilePhone']: input.phone, LeadSource: 'Phone Inquiry' }));
      await store.flushed();
      // Found by SOQL once the (emulated) lag has passed.
      if (queryLagMs > 0) await sleep(queryLagMs + 10);
      return record.Id;
    },
    setFaults(next) {
      faults = [...next];
    },
    setRateLimit: (next) => limit.set(next),
    requests: () => Object.fromEntries(stats),
    resetRequests: () => stats.clear(),
    expireTokens: () => sessions.clear(),
    closeCase(conversationId) {
      const found = store.list(CASE.object).find((c) => c.fields[CASE.conversationId] === conversationId);
      if (!found) throw new Error(`no case for conversation ${conversationId}`);
      store.as({ userId: LOCAL_SALESFORCE_AGENT_USER_ID }, () => store.update(CASE.object, found.Id, { Status: 'Closed' }));
    },
    deleteRecord: (object, id) => store.as({ userId: LOCAL_SALESFORCE_SALES_USER_ID }, () => store.remove(object, id)),
    addOrder: (input) => store.as({ userId: LOCAL_SALESFORCE_SHOP_USER_ID }, () => addOrder(store, input)),
    twoWay,
    tokenRequests: () => tokens,
    async stop() {
      await relay.settled();
      await closeServer(server);
      await store.flushed();
    },
  };
}

function fieldsOf(record: StoredRecord): Record<string, unknown> {
  return { Id: record.Id, CreatedDate: record.CreatedDate, LastModifiedDate: record.LastModifiedDate, ...record.fields };
}

/** What Salesforce answers for a status (an injected fault without a body of its own). */
function faultBody(status: number): unknown {
  const item = (errorCode: string, message: string) => [{ message, errorCode }];
  if (status === 401) return item('INVALID_SESSION_ID', 'Session expired or invalid');
  // Salesforce's request limits (the 24 h allocation, concurrent long requests) answer 403; a 429 is only injected.
  if (status === 403 || status === 429) return item('REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.');
  if (status === 404) return item('NOT_FOUND', 'The requested resource does not exist');
  if (status === 503) return item('SERVER_UNAVAILABLE', 'Server temporarily unavailable');
  if (status >= 500) return item('UNKNOWN_EXCEPTION', 'An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-12345 (-1234567890)');
  return item('INVALID_FIELD', `Injected fault ${status}`);
}

function oauthFaultBody(status: number): unknown {
  if (status >= 500) return { error: 'server_error', error_description: 'internal server error' };
  if (status === 429) return { error: 'rate_limit_exceeded', error_description: 'too many requests' };
  return { error: 'invalid_grant', error_description: 'authentication failure' };
}

function sendHtml(res: ServerResponse, html: string): void {
  res.writeHead(200, { 'content-type': 'text/html;charset=utf-8' });
  res.end(html);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

