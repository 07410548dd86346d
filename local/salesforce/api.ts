/**
 * The REST routes of the local org below /services/data/vXX.X, answered from the store as
 * Salesforce answers them (docs/salesforce.md), and the neutral operation each request counts
 * as (faults, request counts).
 */
import { collectionCreate, collectionRetrieve, collectionUpdate, collectionUpsert, composite, type Answer } from './composite.ts';
import { failure, notFound, SalesforceFailure } from './failures.ts';
import type { Values } from './rules.ts';
import type { LocalSalesforceStore } from './store.ts';

const asObject = (value: unknown): Values => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Values) : {});
const list = (value: string | null) => (value ? value.split(',').map((s) => s.trim()).filter(Boolean) : []);

/** One API request (path below the version, query, parsed body). Throws SalesforceFailure for an error answer. */
export function dispatch(store: LocalSalesforceStore, version: string, method: string, path: string, query: URLSearchParams, body: unknown): Answer {
  const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
  const [root, a, b, c, ...more] = segments;
  if (more.length) throw notFound();
  if (root === 'query' && !a && method === 'GET') {
    const soql = query.get('q');
    if (!soql) throw failure(400, 'MALFORMED_QUERY', 'A query needs q');
    return { status: 200, body: store.query(soql, version) };
  }
  if (root === 'composite' && !a && method === 'POST') {
    return composite(store, body, (subMethod, url, subBody) => {
      const parsed = new URL(url, 'http://local');
      const m = /^\/services\/data\/v(\d{2,3}\.\d)(\/.*)$/.exec(parsed.pathname);
      if (!m) throw failure(400, 'INVALID_URL', 'A subrequest URL starts with /services/data/vXX.X/');
      return dispatch(store, m[1]!, subMethod, m[2]!, parsed.searchParams, subBody);
    });
  }
  if (root === 'composite' && a === 'sobjects') {
    if (!b && method === 'PATCH') return collectionUpdate(store, body);
    if (!b && method === 'POST') return collectionCreate(store, body);
    if (b && !c && method === 'GET') return collectionRetrieve(store, b, list(query.get('ids')), list(query.get('fields')), version);
    if (b && !c && method === 'POST') {
      const input = asObject(body);
      const strings = (value: unknown) => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
      return collectionRetrieve(store, b, strings(input.ids), strings(input.fields), version);
    }
    if (b && c && method === 'PATCH') return collectionUpsert(store, b, c, body, version);
    throw failure(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${method}' not allowed. Allowed are GET,POST,PATCH`);
  }
  if (root === 'sobjects' && a) {
    store.def(a);
    if (!b) {
      if (method !== 'POST') throw failure(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${method}' not allowed. Allowed are POST`);
      const record = store.create(a, withoutId(body));
      return { status: 201, body: { id: record.Id, success: true, errors: [] } };
    }
    if (!c) {
      if (method === 'GET') {
        const fields = list(query.get('fields'));
        return { status: 200, body: store.present(store.existing(a, b), fields.length ? fields : undefined, version) };
      }
      if (method === 'PATCH') {
        store.update(a, b, withoutId(body));
        return { status: 204, body: undefined };
      }
      if (method === 'DELETE') {
        store.remove(a, b);
        return { status: 204, body: undefined };
      }
      throw failure(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${method}' not allowed. Allowed are GET,PATCH,DELETE`);
    }
    // /sobjects/{object}/{externalIdField}/{value}
    if (method === 'PATCH') {
      const { record, created } = store.upsert(a, b, c, withoutId(body), version);
      return { status: created ? 201 : 200, body: { id: record.Id, success: true, errors: [], created } };
    }
    if (method === 'GET') {
      const def = store.def(a);
      if (!def.fields[b]?.externalId) throw failure(404, 'NOT_FOUND', `Provided external ID field does not exist or is not accessible: ${b}`);
      const matching = store.list(a).filter((r) => r.fields[b] === c);
      if (matching.length > 1) throw new SalesforceFailure(300, matching.map((r) => `/services/data/v${version}/sobjects/${a}/${r.Id}`));
      if (!matching[0]) throw notFound();
      const fields = list(query.get('fields'));
      return { status: 200, body: store.present(matching[0], fields.length ? fields : undefined, version) };
    }
    throw failure(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${method}' not allowed. Allowed are GET,PATCH`);
  }
  throw notFound();
}

function withoutId(body: unknown): Values {
  const input = asObject(body);
  if ('Id' in input || 'id' in input) throw failure(400, 'INVALID_FIELD_FOR_INSERT_UPDATE', 'Unable to create/update fields: Id.', ['Id']);
  return input;
}

/** What a Salesforce object is in the neutral terms of local/crm/stand-in.ts. */
function kindOf(object: string | undefined): string {
  switch (object) {
    case 'Contact':
      return 'contact';
    case 'WhatsApp_Message__c':
      return 'message';
    case 'Opportunity':
      return 'opportunity';
    case 'Task':
      return 'task';
    case 'Case':
      return 'case';
    case 'Order':
    case 'OrderItem':
      return 'order';
    case 'WhatsApp_Service_Report__c':
      return 'report';
    default:
      return 'other';
  }
}

/** The operation a request counts as: `contact-read`, `message-write`, … (a Composite by what it writes). */
export function operationOf(method: string, path: string, query: URLSearchParams, body: unknown): string {
  const [root, a, b] = path.split('/').filter(Boolean);
  if (root === 'query') {
    // The top-level FROM: subqueries in parentheses left out.
    const top = (query.get('q') ?? '').replace(/\([^()]*\)/g, '');
    return `${kindOf(/\bFROM\s+([A-Za-z0-9_]+)/i.exec(top)?.[1])}-read`;
  }
  if (root === 'composite' && !a) {
    const urls = (Array.isArray(asObject(body).compositeRequest) ? (asObject(body).compositeRequest as unknown[]) : []).map((r) => String(asObject(r).url ?? ''));
    if (urls.some((u) => u.includes('/WhatsApp_Message__c'))) return 'message-write';
    const first = urls[0]?.replace(/^\/services\/data\/v[\d.]+/, '') ?? '';
    return first ? operationOf('PATCH', first.split('?')[0]!, new URLSearchParams(), undefined) : 'other-write';
  }
  if (root === 'composite' && a === 'sobjects') {
    const reads = method === 'GET' || (method === 'POST' && b !== undefined);
    const records = asObject(body).records;
    const object = b ?? (Array.isArray(records) ? (asObject(asObject(records[0]).attributes).type as string | undefined) : undefined);
    return `${kindOf(object)}-${reads ? 'read' : 'write'}`;
  }
  if (root === 'sobjects') return `${kindOf(a)}-${method === 'GET' ? 'read' : 'write'}`;
  return 'other';
}
