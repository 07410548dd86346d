/**
 * The Zoho CRM endpoints the adapter uses (`{api_domain}/crm/v8/…`), one method per request
 * (reads of more than 100 ids are split), each validating the answer it depends on:
 *   POST /{module}            insert (≤ 100 records; unique fields enforced: DUPLICATE_DATA)
 *   PUT  /{module}            update by id (≤ 100 records)
 *   POST /{module}/upsert     insert or update by `duplicate_check_fields`
 *   GET  /{module}/{id}       one record; GET /{module}?ids=… several (`fields` is required in v8)
 *   GET  /{module}/search     `criteria` search (204 No Content when nothing matches)
 *   GET  /{module}/{id}/{related list}
 * Writes answer one `data[]` entry per record, in the order sent: 200/201 when all succeeded, a
 * multi-status or 400 when some or all failed — the per-record outcomes are returned either way.
 */
import { CrmError } from '../port.ts';
import type { ZohoHttp } from './http.ts';
import { asRecord, errorBody, idOf, readAnswer, writeAnswer, type RecordResult, type ZohoRecord } from './schemas.ts';

export type Values = Readonly<Record<string, unknown>>;

export type WriteResult =
  | { readonly ok: true; readonly id: string; readonly action: 'insert' | 'update' | undefined }
  | {
      readonly ok: false;
      readonly code: string;
      /** The field the error names (details.api_name). */
      readonly field: string | undefined;
      /** DUPLICATE_DATA: the record already holding the unique value. */
      readonly duplicateId: string | undefined;
      /** The record (by id) is not there: deleted or merged in Zoho. */
      readonly missing: boolean;
    };

/** Records per write and ids per read (Zoho's documented maximum). */
export const BATCH_LIMIT = 100;
const SEARCH_PAGE = 200;

export class ZohoApi {
  constructor(readonly http: ZohoHttp) {}

  /** Same endpoints, fresh call counter, and the caller's deadline if given. */
  fork(deadline?: number): ZohoApi {
    return new ZohoApi(this.http.fork(deadline));
  }

  get calls(): number {
    return this.http.calls;
  }

  insert(module: string, records: readonly Values[]): Promise<WriteResult[]> {
    return this.write({ method: 'POST', path: `/${module}`, body: { data: records }, creates: true }, records.length);
  }

  update(module: string, records: readonly (Values & { readonly id: string })[]): Promise<WriteResult[]> {
    return this.write({ method: 'PUT', path: `/${module}`, body: { data: records } }, records.length);
  }

  /**
   * Insert, or update the record whose unique field holds the same value. Zoho checks the given
   * fields in order, then the module's other unique fields; a replay after a lost answer matches
   * the record the first call made, so the HTTP layer may retry it.
   */
  upsert(module: string, records: readonly Values[], duplicateCheckFields: readonly string[]): Promise<WriteResult[]> {
    return this.write({ method: 'POST', path: `/${module}/upsert`, body: { data: records, duplicate_check_fields: duplicateCheckFields } }, records.length);
  }

  /** The record, or undefined when Zoho has none with this id (deleted, merged, never there). */
  async get(module: string, id: string, fields: readonly string[]): Promise<ZohoRecord | undefined> {
    const response = await this.http.send({
      method: 'GET',
      path: `/${module}/${encodeURIComponent(id)}`,
      query: { fields: fields.join(',') },
      tolerate: notThere,
    });
    if (response.status >= 300 || response.status === 204) return undefined;
    return this.records(response.body, 'get')[0];
  }

  /** The records of these ids that exist (absent ones are left out), 100 ids per request. */
  async getMany(module: string, ids: readonly string[], fields: readonly string[]): Promise<ZohoRecord[]> {
    const found: ZohoRecord[] = [];
    for (let i = 0; i < ids.length; i += BATCH_LIMIT) {
      const response = await this.http.send({
        method: 'GET',
        path: `/${module}`,
        query: { ids: ids.slice(i, i + BATCH_LIMIT).join(','), fields: fields.join(',') },
      });
      if (response.status !== 204) found.push(...this.records(response.body, 'get records'));
    }
    return found;
  }

  /** Search by `criteria` (format.ts); none found is 204. The search index lags writes by seconds. */
  async search(module: string, criteria: string, fields: readonly string[]): Promise<ZohoRecord[]> {
    const response = await this.http.send({
      method: 'GET',
      path: `/${module}/search`,
      query: { criteria, fields: fields.join(','), per_page: String(SEARCH_PAGE) },
    });
    return response.status === 204 ? [] : this.records(response.body, 'search');
  }

  /**
   * One page of the module's records (GET /{module}), sorted by `sortBy` (id, Created_Time or
   * Modified_Time); with `modifiedSince`, only records modified after it (the If-Modified-Since
   * header, to the second). Unlike search, the list reads the records themselves: no index lag.
   * Nothing modified is 204 (or 304 Not Modified).
   */
  async list(module: string, fields: readonly string[], options: { readonly sortBy: 'id' | 'Created_Time' | 'Modified_Time'; readonly sortOrder: 'asc' | 'desc'; readonly modifiedSince?: string | undefined; readonly page?: number | undefined }): Promise<{ records: ZohoRecord[]; more: boolean }> {
    const response = await this.http.send({
      method: 'GET',
      path: `/${module}`,
      query: { fields: fields.join(','), sort_by: options.sortBy, sort_order: options.sortOrder, page: String(options.page ?? 1), per_page: String(SEARCH_PAGE) },
      ...(options.modifiedSince !== undefined && { headers: { 'If-Modified-Since': options.modifiedSince } }),
      tolerate: (status) => status === 304,
    });
    if (response.status === 204 || response.status === 304) return { records: [], more: false };
    const parsed = readAnswer.safeParse(response.body);
    if (!parsed.success) throw unexpected('list records');
    return { records: parsed.data.data.map(asRecord), more: parsed.data.info?.more_records === true };
  }

  /** One page of a record's related list; an unknown parent record reads as an empty list. */
  async related(module: string, id: string, list: string, fields: readonly string[], page = 1): Promise<{ records: ZohoRecord[]; more: boolean }> {
    const response = await this.http.send({
      method: 'GET',
      path: `/${module}/${encodeURIComponent(id)}/${list}`,
      query: { fields: fields.join(','), page: String(page), per_page: String(SEARCH_PAGE) },
      tolerate: notThere,
    });
    if (response.status >= 300 || response.status === 204) return { records: [], more: false };
    const parsed = readAnswer.safeParse(response.body);
    if (!parsed.success) throw unexpected('related records');
    return { records: parsed.data.data.map(asRecord), more: parsed.data.info?.more_records === true };
  }

  private async write(request: Parameters<ZohoHttp['send']>[0], count: number): Promise<WriteResult[]> {
    if (count === 0) return [];
    if (count > BATCH_LIMIT) throw new CrmError('permanent', `Zoho takes at most ${BATCH_LIMIT} records per write`, { crm: 'zoho' });
    const response = await this.http.send({ ...request, tolerate: (status, body) => status === 400 && writeAnswer.safeParse(body).success });
    const parsed = writeAnswer.safeParse(response.body);
    if (!parsed.success || parsed.data.data.length !== count) {
      const error = unexpected(`${request.method} ${request.path}`, response.status);
      // A create answered in a shape we cannot read may still have made the record.
      throw request.creates ? new CrmError('transient', error.message, { ...error.details, outcomeUnknown: true }) : error;
    }
    return parsed.data.data.map(toWriteResult);
  }

  private records(body: unknown, what: string): ZohoRecord[] {
    const parsed = readAnswer.safeParse(body);
    if (!parsed.success) throw unexpected(what);
    return parsed.data.data.map(asRecord);
  }
}

function toWriteResult(result: RecordResult): WriteResult {
  const details = result.details;
  if (result.status === 'success' || result.code === 'SUCCESS') {
    const id = idOf(details?.id);
    if (id) return { ok: true, id, action: result.action === 'insert' || result.action === 'update' ? result.action : undefined };
  }
  const field = details?.api_name;
  return {
    ok: false,
    code: result.code,
    field,
    duplicateId: idOf(details?.duplicate_record?.id),
    // A deleted or merged id: INVALID_DATA naming the id field (older answers: details.id only).
    missing: result.code === 'INVALID_DATA' && (field === 'id' || (field === undefined && details?.id !== undefined)),
  };
}

/**
 * No such record, on a read by id: 404, or 400 INVALID_DATA about the id. An INVALID_DATA naming
 * another field (a field in `fields` the account does not have) is a real error.
 */
function notThere(status: number, body: unknown): boolean {
  if (status === 404) return true;
  const parsed = errorBody.safeParse(body);
  if (status !== 400 || !parsed.success || parsed.data.code !== 'INVALID_DATA') return false;
  const details = parsed.data.details;
  const field = details && typeof details === 'object' ? (details as { api_name?: unknown }).api_name : undefined;
  return field === undefined || field === 'id';
}

function unexpected(what: string, status?: number): CrmError {
  return new CrmError('transient', `Zoho answered ${what} in an unexpected shape`, { crm: 'zoho', ...(status !== undefined && { status }) });
}

/** A refused record write as an error: its code and field name only. */
export function recordError(result: WriteResult, what: string): CrmError {
  if (result.ok) return new CrmError('transient', `Zoho gave no outcome for ${what}`, { crm: 'zoho' });
  const kind = result.code === 'INTERNAL_ERROR' ? 'transient' : 'permanent';
  const code = apiName(result.code) ?? 'UNKNOWN';
  const field = apiName(result.field);
  return new CrmError(kind, `Zoho refused ${what}: ${code}${field ? ` (${field})` : ''}`, { crm: 'zoho', category: code });
}

/** An error code or field API name as Zoho names them, else nothing (never free text). */
function apiName(value: string | undefined): string | undefined {
  return value !== undefined && /^[A-Za-z0-9_.$]{1,80}$/.test(value) ? value : undefined;
}
