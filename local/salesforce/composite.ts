/**
 * sObject Collections (≤ 200 records: create, update by id, upsert by External ID, read by ids)
 * and Composite (≤ 25 subrequests, references `@{ref.field}`, allOrNone) as the local org runs
 * them. Per-record results are SaveResults `{ id, success, errors: [{ statusCode, message,
 * fields }], created? }`; with allOrNone one failed record rolls back the others.
 */
import { failure, SalesforceFailure } from './failures.ts';
import type { Values } from './rules.ts';
import type { LocalSalesforceStore } from './store.ts';

export const COLLECTION_LIMIT = 200;
export const COMPOSITE_LIMIT = 25;
/** Of the subrequests, at most this many may be collections or queries. */
const COMPOSITE_HEAVY_LIMIT = 5;

export interface Answer {
  readonly status: number;
  readonly body: unknown;
}

interface SaveResult {
  id: string | null;
  success: boolean;
  errors: { statusCode: string; message: string; fields: readonly string[] }[];
  created?: boolean;
}

type Save = (record: Values) => { id: string; created?: boolean };

function asObject(value: unknown): Values {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Values) : {};
}

/** The body's records, checked: a list of at most 200, each with `attributes.type`. */
function recordsOf(body: unknown, type?: string): { records: Values[]; allOrNone: boolean } {
  const input = asObject(body);
  if (!Array.isArray(input.records)) throw failure(400, 'INVALID_FIELD', 'records is required: a list of sObjects');
  if (input.records.length > COLLECTION_LIMIT) throw failure(400, 'EXCEEDED_ID_LIMIT', `record limit reached. cannot submit more than ${COLLECTION_LIMIT} records into this call`);
  const records = input.records.map(asObject);
  for (const record of records) {
    const recordType = asObject(record.attributes).type;
    if (typeof recordType !== 'string') throw failure(400, 'INVALID_TYPE', 'Each record needs attributes.type');
    if (type && recordType !== type) throw failure(400, 'INVALID_TYPE', `Every record must be a ${type}`);
  }
  return { records, allOrNone: input.allOrNone === true };
}

/** One record's outcome; `notFound` names what a missing id is called in a collection. */
function outcome(save: Save, record: Values): SaveResult {
  try {
    const { id, created } = save(record);
    return { id, success: true, errors: [], ...(created !== undefined && { created }) };
  } catch (error) {
    if (!(error instanceof SalesforceFailure)) throw error;
    const item = error.item;
    // A well-formed id of a record that never was: Salesforce's collections call it a bad cross reference.
    const statusCode = item.errorCode === 'NOT_FOUND' ? 'INVALID_CROSS_REFERENCE_KEY' : item.errorCode;
    return { id: null, success: false, errors: [{ statusCode, message: statusCode === item.errorCode ? item.message : 'invalid cross reference id', fields: item.fields }] };
  }
}

/**
 * Saves the records. allOrNone (or a Composite allOrNone around it) keeps all or none: the
 * failed record reports its error, the others ALL_OR_NONE_OPERATION_ROLLED_BACK.
 */
function saveAll(store: LocalSalesforceStore, records: Values[], allOrNone: boolean, save: Save): Answer {
  if (!allOrNone && !store.inTransaction) return { status: 200, body: records.map((record) => store.transaction(() => outcome(save, record))) };
  let results: SaveResult[] = [];
  try {
    store.transaction(() => {
      results = records.map((record) => outcome(save, record));
      if (results.some((r) => !r.success)) throw new RolledBack();
    });
  } catch (error) {
    if (!(error instanceof RolledBack)) throw error;
    const rolledBack = results.map((r): SaveResult =>
      r.success ? { id: null, success: false, errors: [{ statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK', message: 'Record rolled back because not all records were valid and the request was using AllOrNone header', fields: [] }] } : r,
    );
    // Inside a Composite with allOrNone the failure must stop it (and roll it back) too.
    if (store.inTransaction) throw new SalesforceFailure(400, rolledBack);
    return { status: 200, body: rolledBack };
  }
  return { status: 200, body: results };
}

class RolledBack extends Error {}

const fieldsOf = (record: Values, ...omit: string[]) => Object.fromEntries(Object.entries(record).filter(([key]) => key !== 'attributes' && !omit.includes(key)));

export function collectionCreate(store: LocalSalesforceStore, body: unknown): Answer {
  const { records, allOrNone } = recordsOf(body);
  return saveAll(store, records, allOrNone, (record) => {
    if (record.id !== undefined || record.Id !== undefined) throw failure(400, 'INVALID_FIELD', 'Records to create must not have an id');
    return { id: store.create(asObject(record.attributes).type as string, fieldsOf(record)).Id };
  });
}

export function collectionUpdate(store: LocalSalesforceStore, body: unknown): Answer {
  const { records, allOrNone } = recordsOf(body);
  return saveAll(store, records, allOrNone, (record) => {
    const id = record.id ?? record.Id;
    if (typeof id !== 'string') throw failure(400, 'MISSING_ARGUMENT', 'Id not specified in an update call', ['Id']);
    return { id: store.update(asObject(record.attributes).type as string, id, fieldsOf(record, 'id', 'Id')).Id };
  });
}

export function collectionUpsert(store: LocalSalesforceStore, object: string, field: string, body: unknown, version: string): Answer {
  const def = store.def(object);
  if (!def.fields[field]?.externalId) throw failure(404, 'NOT_FOUND', `Provided external ID field does not exist or is not accessible: ${field}`);
  const { records, allOrNone } = recordsOf(body, object);
  return saveAll(store, records, allOrNone, (record) => {
    const value = record[field];
    if (typeof value !== 'string' || value === '') throw failure(400, 'MISSING_ARGUMENT', `${field} not specified`, [field]);
    try {
      const { record: saved, created } = store.upsert(object, field, value, fieldsOf(record, field), version);
      return { id: saved.Id, created };
    } catch (error) {
      if (error instanceof SalesforceFailure && error.status === 300) throw failure(300, 'DUPLICATE_EXTERNAL_ID', `${field}: more than one record found for external id field`, [field]);
      throw error;
    }
  });
}

/** ids and fields from the query (GET) or the body (POST); one entry per id, null when not readable. */
export function collectionRetrieve(store: LocalSalesforceStore, object: string, ids: readonly string[], fields: readonly string[], version: string): Answer {
  store.def(object);
  if (ids.length === 0 || fields.length === 0) throw failure(400, 'MISSING_ARGUMENT', 'ids and fields are required');
  if (ids.length > 2_000) throw failure(400, 'EXCEEDED_ID_LIMIT', 'more than 2000 ids');
  return {
    status: 200,
    body: ids.map((id) => {
      const record = store.find(object, id);
      return record ? store.present(record, fields, version) : null;
    }),
  };
}

export interface Subrequest {
  readonly method: string;
  readonly url: string;
  readonly referenceId: string;
  readonly body?: unknown;
}

/** Runs a Composite request; `dispatch` answers one subrequest as the API would. */
export function composite(store: LocalSalesforceStore, body: unknown, dispatch: (method: string, url: string, body: unknown) => Answer): Answer {
  const input = asObject(body);
  const requests = Array.isArray(input.compositeRequest) ? input.compositeRequest.map(asObject) : undefined;
  if (!requests?.length) throw failure(400, 'JSON_PARSER_ERROR', 'compositeRequest is required');
  if (requests.length > COMPOSITE_LIMIT) throw failure(400, 'LIMIT_EXCEEDED', `Composite takes at most ${COMPOSITE_LIMIT} subrequests`);
  const subrequests: Subrequest[] = requests.map((r) => {
    if (typeof r.method !== 'string' || typeof r.url !== 'string' || typeof r.referenceId !== 'string' || !/^[A-Za-z0-9_]+$/.test(r.referenceId)) {
      throw failure(400, 'JSON_PARSER_ERROR', 'Each subrequest needs method, url and a referenceId of letters, digits and underscores');
    }
    return { method: r.method.toUpperCase(), url: r.url, referenceId: r.referenceId, body: r.body };
  });
  if (subrequests.filter((s) => /\/(composite\/sobjects|query)\b/.test(s.url)).length > COMPOSITE_HEAVY_LIMIT) {
    throw failure(400, 'LIMIT_EXCEEDED', `At most ${COMPOSITE_HEAVY_LIMIT} subrequests may be collections or queries`);
  }
  if (subrequests.some((s) => /\/composite\/?$/.test(s.url.split('?')[0]!))) throw failure(400, 'INVALID_URL', 'A Composite request cannot hold another');
  const halted = (message: string): Answer => ({ status: 400, body: [{ errorCode: 'PROCESSING_HALTED', message }] });
  const answers = new Map<string, Answer>();
  const run = (sub: Subrequest): Answer => {
    try {
      return dispatch(sub.method, resolve(sub.url, answers), resolve(sub.body, answers));
    } catch (error) {
      if (error instanceof SalesforceFailure) return { status: error.status, body: error.body };
      if (error instanceof UnresolvedReference) return halted(error.message);
      throw error;
    }
  };
  const results: Answer[] = [];
  if (input.allOrNone === true) {
    try {
      store.transaction(() => {
        for (const sub of subrequests) {
          const answer = run(sub);
          results.push(answer);
          answers.set(sub.referenceId, answer);
          if (answer.status >= 300) throw new RolledBack();
        }
      });
    } catch (error) {
      if (!(error instanceof RolledBack)) throw error;
      const failedAt = results.length - 1;
      const rolledBack = 'The transaction was rolled back since another operation in the same transaction failed.';
      for (let i = 0; i < subrequests.length; i++) if (i !== failedAt) results[i] = halted(rolledBack);
    }
  } else {
    for (const sub of subrequests) {
      const answer = run(sub);
      results.push(answer);
      answers.set(sub.referenceId, answer);
    }
  }
  return {
    status: 200,
    body: { compositeResponse: subrequests.map((sub, i) => ({ body: results[i]!.body, httpHeaders: {}, httpStatusCode: results[i]!.status, referenceId: sub.referenceId })) },
  };
}

class UnresolvedReference extends Error {}

const REFERENCE = /@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}/g;

/** Replaces `@{ref.path}` in a URL or body with the value from an earlier subrequest's answer. */
function resolve<T>(value: T, answers: ReadonlyMap<string, Answer>): T {
  if (typeof value === 'string') {
    const whole = new RegExp(`^${REFERENCE.source}$`).exec(value);
    if (whole) return lookup(whole[1]!, whole[2]!, answers) as T;
    return value.replace(REFERENCE, (_, ref: string, path: string) => String(lookup(ref, path, answers))) as T;
  }
  if (Array.isArray(value)) return value.map((v: unknown) => resolve(v, answers)) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, answers)])) as T;
  return value;
}

function lookup(ref: string, path: string, answers: ReadonlyMap<string, Answer>): unknown {
  const answer = answers.get(ref);
  const missing = () => new UnresolvedReference(`Invalid reference specified. No value for ${ref}${path} found in ${ref}. Provided referenceId ids are case-sensitive.`);
  if (!answer || answer.status >= 300) throw missing();
  let current: unknown = answer.body;
  for (const [, name, index] of path.matchAll(/\.([A-Za-z0-9_]+)|\[(\d+)\]/g)) {
    current = name !== undefined ? asObject(current)[name] : Array.isArray(current) ? current[Number(index)] : undefined;
  }
  if (current === undefined || current === null || typeof current === 'object') throw missing();
  return current;
}
