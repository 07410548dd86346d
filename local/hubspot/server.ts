/**
 * A local HubSpot-compatible CRM server: exactly the endpoints the HubSpot adapter and
 * hubspot:setup call, with HubSpot's request and response shapes (date-versioned paths), plus
 * inspection and seeding routes for people and tests:
 *   GET  /               contacts with their orders, tasks, deals and communications (HTML)
 *   GET  /_local/state   every record with its associations (JSON)
 *   GET  /_local/stats   requests by route, for calls-per-message benchmarks
 *   POST /_local/orders  an order for a contact, as a shop connector would make it (LocalOrderInput)
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { renderHomePage } from './page.ts';
import {
  errorBody,
  HubSpotFailure,
  LocalHubSpotStore,
  OBJECT_TYPES,
  SINGULAR,
  compareValues,
  type ChangeOrigin,
  type LocalOrderInput,
  type ObjectType,
  type PropertyChange,
  type SearchFilter,
} from './store.ts';
import { closeServer, listen } from '../http.ts';
import { RollingLimit } from '../crm/rate-limit.ts';
import type { StandInRateLimit } from '../crm/stand-in.ts';

export type { LocalOrderInput } from './store.ts';

/** A canned answer for the next matching API request (consumed once). */
export interface LocalHubSpotFault {
  readonly status?: number;
  readonly retryAfterSeconds?: number;
  readonly body?: unknown;
  /** Only requests with this method. */
  readonly method?: string;
  /** Only requests whose path matches. */
  readonly path?: RegExp;
  /** Only requests this says yes to (beside method and path). */
  readonly match?: (method: string, path: string) => boolean;
  /** Wait this long before answering (to provoke client timeouts). */
  readonly delayMs?: number;
  /** Close the connection without an answer (a network error). */
  readonly dropConnection?: boolean;
  /**
   * Carry out the request for real, then answer only after this long: the write is committed
   * but a client with a shorter timeout never hears of it (the case that tempts a blind retry).
   */
  readonly afterCommitDelayMs?: number;
}

export interface LocalHubSpotOptions {
  readonly port?: number;
  readonly host?: string;
  readonly dataFile?: string;
  /** Search sees only writes older than this. Default 2000 ms. */
  readonly searchLagMs?: number;
  /** When set, requests need `Authorization: Bearer <token>`. */
  readonly token?: string;
  readonly faults?: readonly LocalHubSpotFault[];
  /** Honour `hasUniqueValue` on communications properties. Default true. */
  readonly uniqueValuesOnCommunications?: boolean;
  /** Honour `hasUniqueValue` on deals properties. Default true (HubSpot documents it for deals). */
  readonly uniqueValuesOnDeals?: boolean;
  /** Honour `hasUniqueValue` on tasks properties. Default true; false is how `timeline-scan` for tasks is tested. */
  readonly uniqueValuesOnTasks?: boolean;
  /** Requests allowed per rolling window; more are answered 429 as HubSpot does. */
  readonly rateLimit?: StandInRateLimit | undefined;
  /** The app whose token the API is called with: the `sourceId` of its writes (webhooks, history). */
  readonly appId?: string | undefined;
  /** `type.property` names whose history is kept and served as `propertiesWithHistory`. */
  readonly historyOf?: ReadonlySet<string> | undefined;
  /** Told of the properties each write changed (the webhooks), after the write. */
  readonly onChange?: ((changes: readonly PropertyChange[]) => void) | undefined;
}

export interface LocalHubSpot {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
  state(): ReturnType<LocalHubSpotStore['snapshot']>;
  setFaults(faults: readonly LocalHubSpotFault[]): void;
  /** The bearer token requests need from now on (a token rotated in HubSpot's dashboard). */
  setToken(token: string): void;
  stats(): Record<string, number>;
  resetStats(): void;
  /**
   * Seeds an order (with one line item per SKU) for a contact, as the shop's connector would;
   * returns the order's id. Not an API request: not in the stats, no faults.
   */
  addOrder(input: LocalOrderInput): { id: string; lineItemIds: string[] };
  /** Enforces a request limit from now on (undefined: none). */
  setRateLimit(limit: StandInRateLimit | undefined): void;
  /**
   * A record edited in HubSpot's pages by a person (not an API request: not in the stats, no
   * faults), with HubSpot's validation; `origin.at` sets its lastmodifieddate.
   */
  edit(type: ObjectType, id: string, properties: Record<string, unknown>, origin: ChangeOrigin): void;
  /** Merges `mergeId` into `primaryId` as a person in HubSpot's pages would. */
  merge(type: ObjectType, primaryId: string, mergeId: string, origin: ChangeOrigin): void;
  /** Merges done so far (through the API or a page), oldest first. */
  merges(): { readonly type: ObjectType; readonly primaryId: string; readonly mergedId: string }[];
  /** Resolves when every write so far is on disk. */
  flushed(): Promise<void>;
}

type Merge = (type: ObjectType, primaryId: string, mergeId: string, origin: ChangeOrigin) => ReturnType<LocalHubSpotStore['merge']>;

interface Route {
  /** Name in stats, e.g. "POST /crm/objects/{version}/contacts/batch/read". */
  readonly name: string;
  readonly handle: (body: unknown, query: URLSearchParams, origin: ChangeOrigin, merge: Merge) => { status: number; body: unknown };
}

/** The HubSpot user the home page's edits are made as. */
export const LOCAL_PAGE_USER_ID = 1;

const VERSION = String.raw`(\d{4}-\d{2}(?:-beta)?)`;
const TYPE = `(${OBJECT_TYPES.join('|')})`;
const MAX_BODY_BYTES = 5 * 1024 * 1024;

export async function startLocalHubSpot(options: LocalHubSpotOptions = {}): Promise<LocalHubSpot> {
  const store = new LocalHubSpotStore({
    dataFile: options.dataFile,
    searchLagMs: options.searchLagMs ?? 2000,
    uniqueValuesOnCommunications: options.uniqueValuesOnCommunications ?? true,
    uniqueValuesOnDeals: options.uniqueValuesOnDeals ?? true,
    uniqueValuesOnTasks: options.uniqueValuesOnTasks ?? true,
    historyOf: options.historyOf,
    onChange: options.onChange,
  });
  const apiOrigin: ChangeOrigin = { changeSource: 'INTEGRATION', sourceId: options.appId ?? 'local-app' };
  const merges: { type: ObjectType; primaryId: string; mergedId: string }[] = [];
  const merge = (type: ObjectType, primaryId: string, mergedId: string, origin: ChangeOrigin) => {
    const record = store.merge(type, primaryId, mergedId, origin);
    merges.push({ type, primaryId: record.id, mergedId });
    return record;
  };
  const addOrder = (input: LocalOrderInput) => {
    const order = store.addOrder(input);
    return { id: order.id, lineItemIds: store.associatedIds('orders', order.id, 'line_items').map((a) => a.toId) };
  };
  await store.load();
  let faults = [...(options.faults ?? [])];
  let token = options.token;
  const limit = new RollingLimit(options.rateLimit);
  const stats = new Map<string, number>();

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      send(res, 500, errorBody('INTERNAL_ERROR', error instanceof Error ? error.message : String(error)));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const method = req.method ?? 'GET';
    if (method === 'GET' && url.pathname === '/') return sendHtml(res, renderHomePage(store.snapshot()));
    if (method === 'GET' && url.pathname === '/_local/state') return send(res, 200, store.snapshot());
    if (method === 'GET' && url.pathname === '/_local/stats') return send(res, 200, Object.fromEntries(stats));
    if (method === 'POST' && url.pathname === '/_local/stats/reset') {
      stats.clear();
      return send(res, 200, {});
    }
    if (method === 'POST' && url.pathname === '/_local/rate-limit') {
      // { requests, windowMs } enforces a limit from now on; {} lifts it (the bench, from another process).
      const input = asObject(await readJson(req).catch(() => ({})));
      const requests = Number(input.requests);
      const windowMs = Number(input.windowMs);
      limit.set(Number.isInteger(requests) && requests > 0 && windowMs > 0 ? { requests, windowMs } : undefined);
      return send(res, 200, {});
    }
    const editPath = /^\/_local\/(contacts|deals)\/(\d+)$/.exec(url.pathname);
    if (method === 'POST' && editPath) {
      // The home page's edit form: a person's edit in HubSpot's pages (CRM_UI).
      try {
        const form = new URLSearchParams(await readText(req));
        const properties = Object.fromEntries([...form].filter(([name]) => name.startsWith('p.')).map(([name, value]) => [name.slice(2), value]));
        const userId = Number(form.get('userId') ?? LOCAL_PAGE_USER_ID) || LOCAL_PAGE_USER_ID;
        store.update(editPath[1] as ObjectType, editPath[2]!, undefined, properties, { changeSource: 'CRM_UI', sourceId: `userId:${userId}`, userId });
        await store.flushed();
        res.writeHead(303, { location: '/' });
        return void res.end();
      } catch (error) {
        if (error instanceof HubSpotFailure) return send(res, error.status, error.body);
        throw error;
      }
    }
    if (method === 'POST' && url.pathname === '/_local/orders') {
      try {
        const seeded = addOrder(localOrderInput(await readJson(req)));
        await store.flushed();
        return send(res, 201, seeded);
      } catch (error) {
        if (error instanceof HubSpotFailure) return send(res, error.status, error.body);
        if (error instanceof SyntaxError) return send(res, 400, errorBody('VALIDATION_ERROR', 'Invalid JSON body'));
        throw error;
      }
    }

    const route = resolveRoute(store, method, url.pathname);
    const name = route?.name ?? `${method} (unknown)`;
    stats.set(name, (stats.get(name) ?? 0) + 1);
    stats.set('total', (stats.get('total') ?? 0) + 1);

    if (!limit.take()) {
      stats.set('rateLimited', (stats.get('rateLimited') ?? 0) + 1);
      // HubSpot's answer to a private app over its ten-secondly limit (no Retry-After).
      return send(res, 429, { status: 'error', message: 'You have reached your ten_secondly_rolling limit.', errorType: 'RATE_LIMIT', correlationId: randomUUID(), policyName: 'TEN_SECONDLY_ROLLING' });
    }
    if (token !== undefined && req.headers.authorization !== `Bearer ${token}`) {
      return send(
        res,
        401,
        errorBody('INVALID_AUTHENTICATION', 'Authentication credentials not found. This API supports OAuth 2.0 authentication.'),
      );
    }
    const fault = takeFault(method, url.pathname);
    if (fault && fault.afterCommitDelayMs === undefined) return answerFault(res, fault);
    if (!route) return send(res, 404, errorBody('OBJECT_NOT_FOUND', `No route for ${method} ${url.pathname}`));

    let body: unknown;
    try {
      body = await readJson(req);
    } catch {
      return send(res, 400, errorBody('VALIDATION_ERROR', 'Invalid JSON body'));
    }
    try {
      const answer = route.handle(body, url.searchParams, apiOrigin, merge);
      // Records a batch request carried (the bench's measure of how full the batches are).
      const inputs = (body as { inputs?: unknown } | undefined)?.inputs;
      if (route.name.includes('/batch/') && Array.isArray(inputs) && answer.status < 300) stats.set('batchInputs', (stats.get('batchInputs') ?? 0) + inputs.length);
      // Like a real CRM, a write is answered once it is durable (survives a crash of this process).
      if (method !== 'GET') await store.flushed();
      if (fault?.afterCommitDelayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, fault.afterCommitDelayMs));
      send(res, answer.status, answer.body);
    } catch (error) {
      if (error instanceof HubSpotFailure) return send(res, error.status, error.body);
      throw error;
    }
  }

  function takeFault(method: string, path: string): LocalHubSpotFault | undefined {
    const index = faults.findIndex(
      (f) => (!f.method || f.method.toUpperCase() === method) && (!f.path || f.path.test(path)) && (!f.match || f.match(method, path)),
    );
    if (index < 0) return undefined;
    const [fault] = faults.splice(index, 1);
    return fault;
  }

  async function answerFault(res: ServerResponse, fault: LocalHubSpotFault): Promise<void> {
    if (fault.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    if (fault.dropConnection) {
      res.socket?.destroy();
      return;
    }
    const status = fault.status ?? 500;
    if (fault.retryAfterSeconds !== undefined) res.setHeader('retry-after', String(fault.retryAfterSeconds));
    const body =
      fault.body ??
      (status === 429
        ? errorBody('RATE_LIMITS', 'You have reached your secondly limit.', { errorType: 'RATE_LIMIT', policyName: 'SECONDLY' })
        : errorBody(status >= 500 ? 'INTERNAL_ERROR' : 'VALIDATION_ERROR', `Injected fault ${status}`));
    send(res, status, body);
  }

  const listening = await listen(server, options.port, options.host);

  return {
    url: listening.url,
    port: listening.port,
    async stop() {
      await closeServer(server);
      await store.flushed();
    },
    state: () => store.snapshot(),
    setRateLimit: (next) => limit.set(next),
    setFaults(next) {
      faults = [...next];
    },
    setToken(next) {
      token = next;
    },
    stats: () => Object.fromEntries(stats),
    resetStats: () => stats.clear(),
    addOrder,
    edit(type, id, properties, origin) {
      store.update(type, id, undefined, properties, origin);
    },
    merge(type, primaryId, mergeId, origin) {
      merge(type, primaryId, mergeId, origin);
    },
    merges: () => merges.map((m) => ({ ...m })),
    flushed: () => store.flushed(),
  };
}

/** The body of POST /_local/orders as an order input; a field of the wrong type is a 400 naming it. */
function localOrderInput(body: unknown): LocalOrderInput {
  const input = asObject(body);
  const wrong = (name: string): never => {
    throw new HubSpotFailure(400, errorBody('VALIDATION_ERROR', `"${name}" has the wrong type`));
  };
  const text = (name: string) => {
    const value = input[name];
    return value === undefined || value === null ? undefined : typeof value === 'string' ? value : wrong(name);
  };
  const num = (name: string) => {
    const value = input[name];
    return value === undefined || value === null ? undefined : typeof value === 'number' && Number.isFinite(value) ? value : wrong(name);
  };
  const skus = input.skus === undefined ? undefined : Array.isArray(input.skus) && input.skus.every((s) => typeof s === 'string') ? (input.skus as string[]) : wrong('skus');
  const order: LocalOrderInput = {
    contactCrmId: text('contactCrmId'),
    whatsappPhone: text('whatsappPhone'),
    name: text('name'),
    placedAt: num('placedAt'),
    amount: num('amount'),
    currency: text('currency'),
    status: text('status'),
    trackingNumber: text('trackingNumber'),
    carrier: text('carrier'),
    trackingUrl: text('trackingUrl'),
    skus,
  };
  if (!order.contactCrmId && !order.whatsappPhone) throw new HubSpotFailure(400, errorBody('VALIDATION_ERROR', 'An order needs "contactCrmId" or "whatsappPhone"'));
  return order;
}

function resolveRoute(store: LocalHubSpotStore, method: string, path: string): Route | undefined {
  let m: RegExpExecArray | null;
  const objects = (suffix: string) => new RegExp(`^/crm/objects/${VERSION}/${TYPE}${suffix}$`);

  if (method === 'POST' && (m = objects('').exec(path))) {
    const type = m[2] as ObjectType;
    return route(method, `/crm/objects/{version}/${type}`, (body, _query, origin) => {
      const input = asObject(body);
      const record = store.create(type, asObject(input.properties), input.associations, origin);
      return { status: 201, body: store.present(type, record, Object.keys(record.properties)) };
    });
  }
  if (method === 'POST' && (m = objects('/batch/read').exec(path))) {
    const type = m[2] as ObjectType;
    return route(method, `/crm/objects/{version}/${type}/batch/read`, (body) => batchRead(store, type, asObject(body)));
  }
  if (method === 'POST' && (m = objects('/batch/create').exec(path))) {
    const type = m[2] as ObjectType;
    return route(method, `/crm/objects/{version}/${type}/batch/create`, (body, _query, origin) => batchCreate(store, type, asObject(body), origin));
  }
  if (method === 'POST' && (m = objects('/batch/update').exec(path))) {
    const type = m[2] as ObjectType;
    return route(method, `/crm/objects/{version}/${type}/batch/update`, (body, _query, origin) => batchUpdate(store, type, asObject(body), origin));
  }
  if (method === 'POST' && (m = objects('/merge').exec(path))) {
    const type = m[2] as ObjectType;
    return route(method, `/crm/objects/{version}/${type}/merge`, (body, _query, origin, merge) => {
      const input = asObject(body);
      const primary = typeof input.primaryObjectId === 'string' || typeof input.primaryObjectId === 'number' ? String(input.primaryObjectId) : '';
      const other = typeof input.objectIdToMerge === 'string' || typeof input.objectIdToMerge === 'number' ? String(input.objectIdToMerge) : '';
      if (!primary || !other) throw new HubSpotFailure(400, errorBody('VALIDATION_ERROR', 'A merge needs "primaryObjectId" and "objectIdToMerge"'));
      const record = merge(type, primary, other, origin);
      return { status: 200, body: store.present(type, record, Object.keys(record.properties)) };
    });
  }
  if (method === 'POST' && (m = objects('/search').exec(path))) {
    const type = m[2] as ObjectType;
    return route(method, `/crm/objects/{version}/${type}/search`, (body) => search(store, type, asObject(body)));
  }
  if ((method === 'GET' || method === 'PATCH') && (m = objects('/([^/]+)').exec(path))) {
    const type = m[2] as ObjectType;
    const key = decodeURIComponent(m[3] ?? '');
    return route(method, `/crm/objects/{version}/${type}/{id}`, (body, query, origin) => {
      const idProperty = query.get('idProperty') ?? undefined;
      if (method === 'PATCH') {
        const record = store.update(type, key, idProperty, asObject(asObject(body).properties), origin);
        return { status: 200, body: store.present(type, record, Object.keys(record.properties)) };
      }
      const record = store.find(type, key, idProperty);
      if (!record) return { status: 404, body: errorBody('OBJECT_NOT_FOUND', 'resource not found') };
      return { status: 200, body: store.present(type, record, listParam(query.get('properties'))) };
    });
  }
  if (method === 'POST' && (m = new RegExp(`^/crm/associations/${VERSION}/${TYPE}/${TYPE}/batch/read$`).exec(path))) {
    const from = m[2] as ObjectType;
    const to = m[3] as ObjectType;
    return route(method, `/crm/associations/{version}/${from}/${to}/batch/read`, (body) =>
      associationsRead(store, from, to, asObject(body)),
    );
  }
  const properties = (suffix: string) => new RegExp(`^/crm/properties/${VERSION}/${TYPE}${suffix}$`);
  if (method === 'POST' && (m = properties('/groups').exec(path))) {
    const type = m[2] as ObjectType;
    return route(method, `/crm/properties/{version}/${type}/groups`, (body) => {
      const input = asObject(body);
      const name = typeof input.name === 'string' ? input.name : '';
      if (!store.createGroup(type, name)) {
        throw new HubSpotFailure(409, errorBody('OBJECT_ALREADY_EXISTS', `Property group '${name}' already exists.`));
      }
      return { status: 201, body: { name, label: input.label ?? name, displayOrder: input.displayOrder ?? -1, archived: false } };
    });
  }
  if ((method === 'POST' || method === 'GET') && (m = properties('').exec(path))) {
    const type = m[2] as ObjectType;
    return route(method, `/crm/properties/{version}/${type}`, (body) =>
      method === 'POST'
        ? { status: 201, body: store.createProperty(type, asObject(body)) }
        : { status: 200, body: { results: store.properties(type) } },
    );
  }
  if (method === 'GET' && (m = properties('/([^/]+)').exec(path))) {
    const type = m[2] as ObjectType;
    const name = decodeURIComponent(m[3] ?? '');
    return route(method, `/crm/properties/{version}/${type}/{name}`, () => {
      const property = store.property(type, name);
      return property
        ? { status: 200, body: property }
        : { status: 404, body: errorBody('OBJECT_NOT_FOUND', `Unable to find property ${name}`) };
    });
  }
  return undefined;
}

function route(method: string, template: string, handle: Route['handle']): Route {
  return { name: `${method} ${template}`, handle };
}

/** Creates every input or none (HubSpot refuses the whole batch on one invalid or duplicate input). */
function batchCreate(store: LocalHubSpotStore, type: ObjectType, body: Record<string, unknown>, origin: ChangeOrigin) {
  const startedAt = new Date().toISOString();
  const inputs = Array.isArray(body.inputs) ? body.inputs.map(asObject) : [];
  if (inputs.length > 100) throw new HubSpotFailure(400, errorBody('VALIDATION_ERROR', 'At most 100 inputs per batch'));
  store.checkCreates(type, inputs.map((i) => asObject(i.properties)));
  const results = inputs.map((input) => {
    const record = store.create(type, asObject(input.properties), input.associations, origin);
    return store.present(type, record, Object.keys(record.properties));
  });
  return { status: 201, body: { status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() } };
}

/** Updates the records that exist; the missing ones are named in a 207's OBJECT_NOT_FOUND error. */
function batchUpdate(store: LocalHubSpotStore, type: ObjectType, body: Record<string, unknown>, origin: ChangeOrigin) {
  const startedAt = new Date().toISOString();
  const inputs = Array.isArray(body.inputs) ? body.inputs.map(asObject) : [];
  if (inputs.length > 100) throw new HubSpotFailure(400, errorBody('VALIDATION_ERROR', 'At most 100 inputs per batch'));
  const results = [];
  const missing: string[] = [];
  for (const input of inputs) {
    const id = String(input.id ?? '');
    if (!store.find(type, id, undefined)) {
      missing.push(id);
      continue;
    }
    const record = store.update(type, id, undefined, asObject(input.properties), origin);
    results.push(store.present(type, record, Object.keys(record.properties)));
  }
  const base = { status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() };
  if (missing.length === 0) return { status: 200, body: base };
  return {
    status: 207,
    body: { ...base, numErrors: 1, errors: [{ status: 'error', category: 'OBJECT_NOT_FOUND', message: 'Could not update some objects, they may be deleted or not exist.', context: { ids: missing } }] },
  };
}

function batchRead(store: LocalHubSpotStore, type: ObjectType, body: Record<string, unknown>) {
  const startedAt = new Date().toISOString();
  const idProperty = typeof body.idProperty === 'string' ? body.idProperty : undefined;
  const requested = Array.isArray(body.properties) ? body.properties.map(String) : undefined;
  const withHistory = Array.isArray(body.propertiesWithHistory) ? body.propertiesWithHistory.map(String) : undefined;
  const inputs = Array.isArray(body.inputs) ? body.inputs.map((i) => String(asObject(i).id ?? '')) : [];
  if (inputs.length > 100) throw new HubSpotFailure(400, errorBody('VALIDATION_ERROR', 'At most 100 inputs per batch'));
  const results = [];
  const missing: string[] = [];
  for (const key of inputs) {
    const record = store.find(type, key, idProperty);
    if (record) results.push(store.present(type, record, requested, withHistory));
    else missing.push(key);
  }
  const base = { status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() };
  if (missing.length === 0) return { status: 200, body: base };
  const label = SINGULAR[type].toUpperCase();
  return {
    status: 207,
    body: {
      ...base,
      numErrors: 1,
      errors: [
        {
          status: 'error',
          category: 'OBJECT_NOT_FOUND',
          message: `Could not get some ${label} objects, they may be deleted or not exist. Check that ids are valid.`,
          context: { ids: missing },
        },
      ],
    },
  };
}

function search(store: LocalHubSpotStore, type: ObjectType, body: Record<string, unknown>) {
  const groups = Array.isArray(body.filterGroups) ? body.filterGroups.map(asObject) : [];
  if (groups.length > 5) throw new HubSpotFailure(400, errorBody('VALIDATION_ERROR', 'At most 5 filterGroups'));
  const filterGroups = groups.map((g) => ({
    filters: (Array.isArray(g.filters) ? g.filters : []).map((f) => asObject(f) as unknown as SearchFilter),
  }));
  const limit = typeof body.limit === 'number' ? Math.min(body.limit, 200) : 10;
  const requested = Array.isArray(body.properties) ? body.properties.map(String) : undefined;
  const hits = filterGroups.length > 0 ? store.search(type, filterGroups) : store.search(type, [{ filters: [] }]);
  // HubSpot sorts by one property (then by id); `after` is the offset of the next page, at most 10,000.
  const sort = Array.isArray(body.sorts) ? asObject(body.sorts[0]) : {};
  if (typeof sort.propertyName === 'string') {
    const name = sort.propertyName;
    const sign = sort.direction === 'DESCENDING' ? -1 : 1;
    const valueOf = (r: (typeof hits)[number]) => ({ ...store.systemProperties(type, r), ...r.properties })[name] ?? '';
    hits.sort((a, b) => sign * compareValues(valueOf(a), valueOf(b)) || Number(a.id) - Number(b.id));
  }
  const offset = Number(body.after ?? 0) || 0;
  if (offset + limit > 10_000) throw new HubSpotFailure(400, errorBody('VALIDATION_ERROR', 'Search pages end at 10,000 results'));
  const page = hits.slice(offset, offset + limit);
  return {
    status: 200,
    body: { total: hits.length, results: page.map((r) => store.present(type, r, requested)), ...(offset + limit < hits.length && { paging: { next: { after: String(offset + limit) } } }) },
  };
}

function associationsRead(store: LocalHubSpotStore, from: ObjectType, to: ObjectType, body: Record<string, unknown>) {
  const pageSize = 500;
  const startedAt = new Date().toISOString();
  const inputs = Array.isArray(body.inputs) ? body.inputs.map(asObject) : [];
  const results = inputs.map((input) => {
    const id = String(input.id ?? '');
    const offset = Number(input.after ?? 0) || 0;
    const all = store.associatedIds(from, id, to);
    const page = all.slice(offset, offset + pageSize);
    return {
      from: { id },
      to: page.map((a) => ({
        toObjectId: Number(a.toId),
        associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId: a.typeId, label: null }],
      })),
      ...(offset + pageSize < all.length ? { paging: { next: { after: String(offset + pageSize) } } } : {}),
    };
  });
  return { status: 200, body: { status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() } };
}

function asObject(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function listParam(value: string | null): string[] | undefined {
  return value ? value.split(',').filter(Boolean) : undefined;
}

async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new Error('body too large');
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json;charset=utf-8' });
  res.end(JSON.stringify(body));
}

function sendHtml(res: ServerResponse, html: string): void {
  res.writeHead(200, { 'content-type': 'text/html;charset=utf-8' });
  res.end(html);
}
