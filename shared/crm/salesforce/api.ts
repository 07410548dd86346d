/**
 * The Salesforce REST endpoints the adapter uses (docs/salesforce.md has the sources). Each
 * method is one request and validates the part of the answer it depends on:
 *   GET   /query?q=                                   SOQL (reads the database: no index lag)
 *   GET   /sobjects/{object}/{id}?fields=             one record
 *   POST  /sobjects/{object}                          create
 *   PATCH /sobjects/{object}/{id}                     update (204)
 *   PATCH /sobjects/{object}/{extIdField}/{value}     upsert: 201 created, 200/204 updated, 300 ambiguous
 *   PATCH /composite/sobjects[/{object}/{extIdField}] sObject Collections update / upsert, ≤ 200 records
 *   GET   /composite/sobjects/{object}?ids=&fields=   sObject Collections read
 *   POST  /composite                                  Composite: ≤ 25 subrequests, one API call
 *   POST  /services/Soap/u/{version}  merge()         SOAP API: the REST API has no merge (soap.ts)
 */
import * as z from 'zod/mini';
import '../../zod.ts';
import { CrmError } from '../port.ts';
import { errorItems, hasErrorCode, isMissingRecord, salesforceError } from './errors.ts';
import type { SalesforceHttp } from './http.ts';
import { mergeEnvelope, parseMergeResponse, type MergeResult } from './soap.ts';

export type FieldValues = Readonly<Record<string, unknown>>;
export type SObjectRecord = Readonly<Record<string, unknown>> & { readonly Id: string };

/** sObject Collections take at most 200 records per request. */
export const COLLECTION_LIMIT = 200;
/** Composite takes at most 25 subrequests (5 of them collections or queries). */
export const COMPOSITE_LIMIT = 25;

const record = z.looseObject({ Id: z.string() });
const queryAnswer = z.object({ totalSize: z.number(), done: z.boolean(), records: z.array(record) });
const saveResult = z.object({ id: z.optional(z.nullable(z.string())), success: z.boolean(), created: z.optional(z.boolean()), errors: z.optional(z.array(z.unknown())) });
const upsertAnswer = z.object({ id: z.string(), created: z.optional(z.boolean()) });
const compositeAnswer = z.object({
  compositeResponse: z.array(z.object({ body: z.unknown(), httpStatusCode: z.number(), referenceId: z.string() })),
});

export type SaveResult = z.infer<typeof saveResult>;

export type UpdateOutcome = { readonly kind: 'updated' } | { readonly kind: 'missing' } | ({ readonly kind: 'duplicate' } & DuplicateHint);
export type UpsertOutcome =
  | { readonly kind: 'upserted'; readonly id: string; readonly created: boolean }
  /** 300: more than one record holds the value (the field is External ID without Unique). */
  | { readonly kind: 'ambiguous'; readonly ids: readonly string[] }
  | ({ readonly kind: 'duplicate' } & DuplicateHint);
/** merge()'s results, or a fault refusing the whole call (its REST status and `[{ errorCode }]`). */
export type MergeOutcome = { readonly kind: 'results'; readonly results: readonly MergeResult[] } | { readonly kind: 'refused'; readonly status: number; readonly body: unknown };
export type CreateOutcome = { readonly kind: 'created'; readonly id: string } | ({ readonly kind: 'duplicate' } & DuplicateHint);

/** What a DUPLICATE_VALUE answer says about the unique field and the record holding the value. */
export interface DuplicateHint {
  readonly field?: string | undefined;
  readonly holderId?: string | undefined;
}

export interface Subrequest {
  readonly method: 'GET' | 'POST' | 'PATCH';
  /** Below /services/data/vXX.X. */
  readonly path: string;
  readonly referenceId: string;
  readonly body?: unknown;
}

export interface SubResponse {
  readonly referenceId: string;
  readonly status: number;
  readonly body: unknown;
}

const isDuplicate = (status: number, body: unknown) => status === 400 && hasErrorCode(body, 'DUPLICATE_VALUE');
const isMissing = (status: number, body: unknown) => (status === 404 || status === 400) && isMissingRecord(body);

export class SalesforceApi {
  constructor(readonly http: SalesforceHttp) {}

  fork(deadline?: number): SalesforceApi {
    return new SalesforceApi(this.http.fork(deadline));
  }

  get calls(): number {
    return this.http.calls;
  }

  /** The versioned path of a Composite subrequest. */
  versioned(path: string): string {
    return `/services/data/v${this.http.apiVersion}${path}`;
  }

  async query(soql: string, what: string): Promise<SObjectRecord[]> {
    const response = await this.http.send({ method: 'GET', path: '/query', query: { q: soql }, what });
    return parse(queryAnswer, response.body, what).records as SObjectRecord[];
  }

  async get(object: string, id: string, fields: readonly string[], what: string): Promise<SObjectRecord | undefined> {
    return this.read(`/sobjects/${object}/${encodeURIComponent(id)}`, fields, what);
  }

  /** One record by an External ID value (GET /sobjects/{object}/{field}/{value}). */
  async getByExternalId(object: string, field: string, key: string, fields: readonly string[], what: string): Promise<SObjectRecord | undefined> {
    return this.read(`/sobjects/${object}/${field}/${encodeURIComponent(key)}`, fields, what);
  }

  private async read(path: string, fields: readonly string[], what: string): Promise<SObjectRecord | undefined> {
    const response = await this.http.send({ method: 'GET', path, query: { fields: fields.join(',') }, what, tolerate: isMissing });
    if (response.status >= 300) return undefined;
    const found = parse(z.looseObject({ Id: z.optional(z.string()), attributes: z.optional(z.object({ url: z.optional(z.string()) })) }), response.body, what);
    // The Id comes with the record, or in its attributes' URL.
    const id = found.Id ?? found.attributes?.url?.split('/').at(-1);
    if (!id) throw new CrmError('transient', `Unexpected Salesforce answer to the ${what}`, { crm: 'salesforce' });
    return { ...found, Id: id } as SObjectRecord;
  }

  async update(object: string, id: string, fields: FieldValues, what: string): Promise<UpdateOutcome> {
    const response = await this.http.send({
      method: 'PATCH',
      path: `/sobjects/${object}/${encodeURIComponent(id)}`,
      body: fields,
      what,
      tolerate: (status, body) => isMissing(status, body) || isDuplicate(status, body),
    });
    if (response.status < 300) return { kind: 'updated' };
    return isDuplicate(response.status, response.body) ? { kind: 'duplicate', ...duplicateHint(response.body) } : { kind: 'missing' };
  }

  /** Upsert by an External ID in the URL (the body must not carry that field). Idempotent, so retried. */
  async upsert(object: string, field: string, key: string, fields: FieldValues, what: string): Promise<UpsertOutcome> {
    const path = `/sobjects/${object}/${field}/${encodeURIComponent(key)}`;
    const response = await this.http.send({ method: 'PATCH', path, body: fields, what, tolerate: (status, body) => status === 300 || isDuplicate(status, body) });
    if (response.status === 300) return { kind: 'ambiguous', ids: idsFromUrls(response.body) };
    if (isDuplicate(response.status, response.body)) return { kind: 'duplicate', ...duplicateHint(response.body) };
    if (response.status === 204) {
      // Before API 46.0 an update answered 204 without a body: read the id by the key.
      const found = await this.getByExternalId(object, field, key, ['Id'], what);
      if (!found) throw new CrmError('transient', `Salesforce updated the ${what} but cannot read it back`, { crm: 'salesforce' });
      return { kind: 'upserted', id: found.Id, created: false };
    }
    const answer = parse(upsertAnswer, response.body, what);
    return { kind: 'upserted', id: answer.id, created: answer.created ?? response.status === 201 };
  }

  /** A create without an idempotency key Salesforce could check by itself: a lost answer is not retried. */
  async create(object: string, fields: FieldValues, what: string): Promise<CreateOutcome> {
    const response = await this.http.send({ method: 'POST', path: `/sobjects/${object}`, body: fields, what, creates: true, tolerate: isDuplicate });
    if (isDuplicate(response.status, response.body)) return { kind: 'duplicate', ...duplicateHint(response.body) };
    const answer = parse(upsertAnswer, response.body, what);
    return { kind: 'created', id: answer.id };
  }

  /** sObject Collections upsert by External ID (keys in the body, any characters). One result per record. */
  async upsertCollection(object: string, field: string, records: readonly FieldValues[], what: string): Promise<SaveResult[]> {
    const response = await this.http.send({ method: 'PATCH', path: `/composite/sobjects/${object}/${field}`, body: collectionBody(object, records), what });
    return saveResults(response.body, records.length, what);
  }

  /** sObject Collections update by Id, partial success allowed. One result per record. */
  async updateCollection(object: string, records: readonly (FieldValues & { readonly id: string })[], what: string): Promise<SaveResult[]> {
    const response = await this.http.send({ method: 'PATCH', path: '/composite/sobjects', body: { ...collectionBody(object, records), allOrNone: false }, what });
    return saveResults(response.body, records.length, what);
  }

  /** sObject Collections read: one entry per id, null for a record that is not there. */
  async retrieveCollection(object: string, ids: readonly string[], fields: readonly string[], what: string): Promise<(SObjectRecord | null)[]> {
    const response = await this.http.send({ method: 'GET', path: `/composite/sobjects/${object}`, query: { ids: ids.join(','), fields: fields.join(',') }, what });
    const list = parse(z.array(z.nullable(record)), response.body, what);
    return list as (SObjectRecord | null)[];
  }

  /**
   * SOAP merge() of `loserIds` into `masterId` (Contact, Account, Lead; at most two at once). Not
   * a create: a try whose answer was lost is sent again, and then refused for the loser already
   * gone, which the caller checks. A fault about the request (4xx codes) is returned, not thrown.
   */
  async merge(object: string, masterId: string, loserIds: readonly string[], what: string): Promise<MergeOutcome> {
    const response = await this.http.sendSoap({ envelope: (sessionId) => mergeEnvelope(sessionId, object, masterId, loserIds), what, tolerate: (status) => status === 400 || status === 404 });
    if (response.status >= 300) return { kind: 'refused', status: response.status, body: response.body };
    const results = typeof response.body === 'string' ? parseMergeResponse(response.body) : undefined;
    if (!results || results.length !== 1) throw new CrmError('transient', `Unexpected Salesforce answer to the ${what}`, { crm: 'salesforce' });
    return { kind: 'results', results };
  }

  /** Composite: the subrequests in order, in one API call; `allOrNone` rolls all back when one fails. */
  async composite(subrequests: readonly Subrequest[], what: string, allOrNone = true): Promise<SubResponse[]> {
    if (subrequests.length > COMPOSITE_LIMIT) throw new CrmError('permanent', `A composite request takes at most ${COMPOSITE_LIMIT} subrequests`, { crm: 'salesforce' });
    const response = await this.http.send({
      method: 'POST',
      path: '/composite',
      body: {
        allOrNone,
        collateSubrequests: false,
        compositeRequest: subrequests.map((s) => ({ method: s.method, url: this.versioned(s.path), referenceId: s.referenceId, ...(s.body !== undefined && { body: s.body }) })),
      },
      what,
    });
    return parse(compositeAnswer, response.body, what).compositeResponse.map((r) => ({ referenceId: r.referenceId, status: r.httpStatusCode, body: r.body }));
  }
}

/**
 * The subresponse of `referenceId`, or the error that stopped the composite: with allOrNone the
 * other subrequests answer 400 PROCESSING_HALTED, so the real failure is the one without it.
 */
export function subresponse(responses: readonly SubResponse[], referenceId: string, what: string): SubResponse {
  // A 300 (an upsert key matching several records) fails the composite as much as a 4xx.
  const failed = responses.find((r) => r.status >= 300 && !hasErrorCode(r.body, 'PROCESSING_HALTED')) ?? responses.find((r) => r.status >= 300);
  if (failed) throw salesforceError(failed.status, failed.body, `${what} (${failed.referenceId})`);
  const found = responses.find((r) => r.referenceId === referenceId);
  if (!found) throw new CrmError('transient', `Salesforce answered the ${what} without ${referenceId}`, { crm: 'salesforce' });
  return found;
}

/** A failed record of a collection as a CrmError (its codes and fields, never its message). */
export function recordError(result: SaveResult, what: string): CrmError {
  return salesforceError(400, { errors: result.errors ?? [] }, what);
}

function collectionBody(object: string, records: readonly FieldValues[]) {
  if (records.length > COLLECTION_LIMIT) throw new CrmError('permanent', `sObject Collections take at most ${COLLECTION_LIMIT} records`, { crm: 'salesforce' });
  return { allOrNone: true, records: records.map((r) => ({ attributes: { type: object }, ...r })) };
}

function saveResults(body: unknown, expected: number, what: string): SaveResult[] {
  const results = parse(z.array(saveResult), body, what);
  if (results.length !== expected) throw new CrmError('transient', `Salesforce answered ${results.length} results for ${expected} records on the ${what}`, { crm: 'salesforce' });
  return results;
}

/** 300's body lists the matching records' URLs: …/sobjects/Contact/003… */
function idsFromUrls(body: unknown): string[] {
  const urls = Array.isArray(body) ? body.filter((u): u is string => typeof u === 'string') : [];
  return urls.map((u) => u.split('/').at(-1) ?? '').filter((id) => /^[A-Za-z0-9]{15,18}$/.test(id)).sort();
}

/** "duplicate value found: WhatsApp_Phone__c duplicates value on record with id: 003…" → field and id. */
function duplicateHint(body: unknown): DuplicateHint {
  const items = Array.isArray(body) ? (body as { message?: unknown }[]) : [];
  const message = items.map((i) => (typeof i?.message === 'string' ? i.message : '')).join(' ');
  const field = /duplicate value found: ([A-Za-z0-9_]+)/.exec(message)?.[1] ?? errorItems(body)[0]?.fields[0];
  const holderId = /record with id: ([A-Za-z0-9]{15,18})/.exec(message)?.[1];
  return { field, holderId };
}

function parse<T>(schema: z.ZodMiniType<T>, body: unknown, what: string): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new CrmError('transient', `Unexpected Salesforce answer to the ${what}`, { crm: 'salesforce' });
  return parsed.data;
}
