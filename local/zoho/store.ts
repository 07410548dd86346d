/**
 * The data of the local Zoho CRM: records by module with Zoho's write rules (modules.ts), its
 * answer shapes (one `data[]` entry per record: SUCCESS with `details.id`, or an error code with
 * the field it names; DUPLICATE_DATA with `duplicate_record`), upsert by duplicate-check fields as
 * Zoho documents it (the given fields in order, then the module's other unique fields), and a
 * search index that lags writes. Persisted atomically (tmp + rename) to a JSON file when given.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { zohoDateTime } from '#shared/crm/zoho/format';
import { matches, type CriteriaNode } from './criteria.ts';
import { invalidValue, MODULES, type ModuleDef } from './modules.ts';

export interface StoredRecord {
  readonly id: string;
  readonly module: string;
  fields: Record<string, unknown>;
  readonly createdAt: number;
  modifiedAt: number;
}

/** A Zoho-shaped failure of a whole request: status and body. */
export class ZohoFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(typeof body === 'object' && body && 'code' in body ? String((body as { code: unknown }).code) : `status ${status}`);
  }
}

export function errorBody(code: string, message: string, details: Record<string, unknown> = {}) {
  return { code, details, message, status: 'error' };
}

export interface Answer {
  readonly status: number;
  readonly body: unknown;
}

type RecordAnswer = Record<string, unknown>;

const LOCAL_USER = { name: 'Local Admin', id: '5725767000000411001' };
/** Records per write request. */
const WRITE_LIMIT = 100;
/** Readable without being asked for: they are not fields of the layout. */
const SYSTEM_FIELDS = new Set(['id', 'Created_Time', 'Modified_Time', 'Owner']);

/** Related lists on a contact: list API name → the module and its lookup to the contact. */
export const RELATED_LISTS: Readonly<Record<string, { module: string; lookup: string }>> = {
  SalesOrders: { module: 'Sales_Orders', lookup: 'Contact_Name' },
  Deals: { module: 'Deals', lookup: 'Contact_Name' },
  Tasks: { module: 'Tasks', lookup: 'Who_Id' },
  WhatsApp_Messages: { module: 'WhatsApp_Messages', lookup: 'Contact' },
};

export class LocalZohoStore {
  private readonly records = new Map<string, StoredRecord>();
  /** Records by module, in creation (= id) order. */
  private readonly byModule = new Map<string, Map<string, StoredRecord>>();
  /** Unique and duplicate-check field values → the record holding them (the first, for a non-unique one). */
  private readonly keys = new Map<string, string>();
  /** What the search index holds of each record, with when it was indexed. */
  private readonly indexed = new Map<string, { at: number; fields: Record<string, unknown> }[]>();
  private nextId = 1;
  private dirty = false;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: { readonly dataFile?: string | undefined; readonly searchLagMs: number; readonly now: () => number },
  ) {}

  async load(): Promise<void> {
    if (!this.options.dataFile) return;
    let text: string;
    try {
      text = await readFile(this.options.dataFile, 'utf8');
    } catch {
      return;
    }
    const data = JSON.parse(text) as { nextId: number; records: StoredRecord[] };
    this.nextId = data.nextId;
    for (const record of data.records) {
      this.place(record);
      this.indexed.set(record.id, [{ at: 0, fields: structuredClone(record.fields) }]);
    }
  }

  /** Resolves once every change so far is on disk. */
  flushed(): Promise<void> {
    return this.writing;
  }

  module(name: string): ModuleDef {
    const def = MODULES[name];
    if (!def) throw new ZohoFailure(400, errorBody('INVALID_MODULE', 'the module name given seems to be invalid', { resource_path_index: 0 }));
    return def;
  }

  all(module: string): StoredRecord[] {
    return [...(this.byModule.get(module)?.values() ?? [])];
  }

  find(module: string, id: string): StoredRecord | undefined {
    const record = this.records.get(id);
    return record?.module === module ? record : undefined;
  }

  insert(module: string, data: unknown): Answer {
    const def = this.module(module);
    const results = this.batch(data).map((input, index) => {
      const prepared = this.prepare(def, input, index, undefined);
      return 'error' in prepared ? prepared.error : success(this.commit(def, undefined, prepared.fields), 'record added');
    });
    return answer(results, 201);
  }

  update(module: string, data: unknown, pathId?: string): Answer {
    const def = this.module(module);
    const results = this.batch(data).map((input, index) => {
      const id = pathId ?? (input && typeof input === 'object' ? (input as { id?: unknown }).id : undefined);
      if (typeof id !== 'string' || id === '') return recordError('MANDATORY_NOT_FOUND', 'required field not found', { api_name: 'id', json_path: `$.data[${index}].id` });
      const existing = this.find(module, id);
      if (!existing) return recordError('INVALID_DATA', 'the id given seems to be invalid', { api_name: 'id', json_path: `$.data[${index}].id` });
      const prepared = this.prepare(def, input, index, existing);
      return 'error' in prepared ? prepared.error : success(this.commit(def, existing, prepared.fields), 'record updated');
    });
    return answer(results, 200);
  }

  upsert(module: string, data: unknown, duplicateCheckFields: unknown): Answer {
    const def = this.module(module);
    if (!def.upsert) throw new ZohoFailure(400, errorBody('INVALID_MODULE', 'The given module is not supported in API'));
    const given = duplicateCheckFields === undefined ? [] : Array.isArray(duplicateCheckFields) ? duplicateCheckFields.map(String) : null;
    if (given === null || given.some((f) => !def.unique.includes(f) && !def.systemDuplicateCheck.includes(f))) {
      throw new ZohoFailure(400, errorBody('INVALID_DATA', 'invalid data', { api_name: 'duplicate_check_fields' }));
    }
    // Zoho: the given fields in order, then the other unique fields; system fields only when named (or none given).
    const order = given.length > 0 ? [...given, ...def.unique.filter((f) => !given.includes(f))] : [...def.systemDuplicateCheck, ...def.unique];
    const results = this.batch(data).map((input, index) => {
      const values = input && typeof input === 'object' ? (input as Record<string, unknown>) : {};
      let match: StoredRecord | undefined;
      let matchedField: string | null = null;
      for (const field of order) {
        const value = values[field];
        if (value === undefined || value === null || value === '') continue;
        match = this.holder(def, field, value);
        if (match) {
          matchedField = field;
          break;
        }
      }
      const prepared = this.prepare(def, input, index, match);
      if ('error' in prepared) return prepared.error;
      const record = this.commit(def, match, prepared.fields);
      return { ...success(record, match ? 'record updated' : 'record added'), action: match ? 'update' : 'insert', duplicate_field: matchedField };
    });
    return answer(results, 200);
  }

  /** Seeds a record as a user would type it (no request, no faults); throws a refused write. */
  add(module: string, fields: Record<string, unknown>): StoredRecord {
    const def = this.module(module);
    const prepared = this.prepare(def, fields, 0, undefined);
    if ('error' in prepared) throw new ZohoFailure(400, { data: [prepared.error] });
    return this.commit(def, undefined, prepared.fields);
  }

  get(module: string, id: string, fields: readonly string[]): Answer {
    const def = this.module(module);
    this.checkFields(def, fields);
    const record = this.find(module, id);
    return record ? { status: 200, body: { data: [present(record, fields)] } } : { status: 204, body: null };
  }

  getMany(module: string, ids: readonly string[], fields: readonly string[]): Answer {
    const def = this.module(module);
    this.checkFields(def, fields);
    if (ids.length > WRITE_LIMIT) throw new ZohoFailure(400, errorBody('LIMIT_EXCEEDED', 'too many ids', { param_name: 'ids', limit: WRITE_LIMIT }));
    const found = ids.map((id) => this.find(module, id)).filter((r): r is StoredRecord => r !== undefined);
    return found.length === 0 ? { status: 204, body: null } : { status: 200, body: { data: found.map((r) => present(r, fields)), info: { count: found.length, more_records: false } } };
  }

  /** Search over the index, which sees a write only `searchLagMs` after it was made. */
  search(module: string, criteria: CriteriaNode, fields: readonly string[], page: number, perPage: number): Answer {
    const def = this.module(module);
    this.checkFields(def, fields);
    const visibleAt = this.options.now() - this.options.searchLagMs;
    const hits = this.all(module).filter((record) => {
      const version = (this.indexed.get(record.id) ?? []).filter((v) => v.at <= visibleAt).at(-1);
      return version !== undefined && matches(criteria, version.fields);
    });
    return paged(hits, fields, page, perPage);
  }

  related(module: string, id: string, list: string, fields: readonly string[], page: number, perPage: number): Answer {
    this.module(module);
    const relation = RELATED_LISTS[list];
    if (module !== 'Contacts' || !relation) throw new ZohoFailure(400, errorBody('INVALID_DATA', 'the related list name given seems to be invalid', { param_name: 'related_list' }));
    this.checkFields(this.module(relation.module), fields);
    if (!this.find(module, id)) throw new ZohoFailure(400, errorBody('INVALID_DATA', 'the related id given seems to be invalid', { api_name: 'id' }));
    const hits = this.all(relation.module).filter((r) => (r.fields[relation.lookup] as { id?: string } | undefined)?.id === id);
    return paged(hits, fields, page, perPage);
  }

  private batch(data: unknown): unknown[] {
    if (!Array.isArray(data) || data.length === 0) throw new ZohoFailure(400, errorBody('INVALID_DATA', 'invalid data', { api_name: 'data' }));
    if (data.length > WRITE_LIMIT) throw new ZohoFailure(400, errorBody('LIMIT_EXCEEDED', 'the number of records exceeds the limit', { api_name: 'data', limit: WRITE_LIMIT }));
    return data;
  }

  private checkFields(def: ModuleDef, fields: readonly string[]): void {
    if (fields.length === 0) throw new ZohoFailure(400, errorBody('REQUIRED_PARAM_MISSING', 'One of the expected parameter is missing', { param_name: 'fields' }));
    const unknown = fields.find((f) => !SYSTEM_FIELDS.has(f) && !(f in def.fields));
    if (unknown) throw new ZohoFailure(400, errorBody('INVALID_DATA', 'invalid data', { api_name: unknown, param_name: 'fields' }));
  }

  /** The record's fields after this write, or the error Zoho answers for it. */
  private prepare(def: ModuleDef, input: unknown, index: number, existing: StoredRecord | undefined): { fields: Record<string, unknown> } | { error: RecordAnswer } {
    const path = (field: string) => `$.data[${index}].${field}`;
    if (!input || typeof input !== 'object' || Array.isArray(input)) return { error: recordError('INVALID_DATA', 'invalid data', { json_path: `$.data[${index}]` }) };
    const changes: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(input as Record<string, unknown>)) {
      if (field === 'id' || field.startsWith('$')) continue;
      const type = def.fields[field];
      if (!type) return { error: recordError('INVALID_DATA', 'invalid data', { api_name: field, json_path: path(field) }) };
      const invalid = invalidValue(type, value);
      if (invalid) return { error: recordError('INVALID_DATA', 'invalid data', { api_name: field, json_path: path(field), ...invalid }) };
      if (type.kind === 'lookup' && value !== null) {
        const target = this.find(type.module, (value as { id: string }).id);
        if (!target) return { error: recordError('INVALID_DATA', 'invalid data', { api_name: field, json_path: path(field), expected_data_type: 'lookup' }) };
        changes[field] = { name: MODULES[type.module]!.nameOf(target.fields), id: target.id };
      } else if (type.kind === 'user' && value !== null) {
        changes[field] = { name: LOCAL_USER.name, id: (value as { id: string }).id };
      } else {
        changes[field] = value;
      }
    }
    const fields = { ...existing?.fields, ...changes };
    for (const field of def.mandatory) {
      if (fields[field] === undefined || fields[field] === null || fields[field] === '') {
        return { error: recordError('MANDATORY_NOT_FOUND', 'required field not found', { api_name: field, json_path: path(field) }) };
      }
    }
    for (const field of def.unique) {
      const value = fields[field];
      if (value === undefined || value === null || value === '') continue;
      const holder = this.holder(def, field, value);
      if (holder && holder.id !== existing?.id) {
        return {
          error: recordError('DUPLICATE_DATA', 'duplicate data', {
            api_name: field,
            json_path: path(field),
            duplicate_record: { id: holder.id, module: { api_name: def.apiName, id: def.moduleId }, Owner: LOCAL_USER },
          }),
        };
      }
    }
    return { fields };
  }

  /** The record whose unique or duplicate-check `field` holds `value`. */
  private holder(def: ModuleDef, field: string, value: unknown): StoredRecord | undefined {
    const key = keyOf(def.apiName, field, value);
    const id = key === undefined ? undefined : this.keys.get(key);
    return id === undefined ? undefined : this.records.get(id);
  }

  private keyFields(module: string): readonly string[] {
    const def = MODULES[module];
    return def ? [...def.unique, ...def.systemDuplicateCheck] : [];
  }

  private place(record: StoredRecord): void {
    this.records.set(record.id, record);
    let inModule = this.byModule.get(record.module);
    if (!inModule) this.byModule.set(record.module, (inModule = new Map()));
    inModule.set(record.id, record);
    for (const field of this.keyFields(record.module)) {
      const key = keyOf(record.module, field, record.fields[field]);
      if (key !== undefined && !this.keys.has(key)) this.keys.set(key, record.id);
    }
  }

  private commit(def: ModuleDef, existing: StoredRecord | undefined, fields: Record<string, unknown>): StoredRecord {
    const now = this.options.now();
    let record: StoredRecord;
    if (existing) {
      for (const field of this.keyFields(def.apiName)) {
        const value = existing.fields[field];
        const key = keyOf(def.apiName, field, value);
        if (key === undefined || this.keys.get(key) !== existing.id || fields[field] === value) continue;
        this.keys.delete(key);
        // A duplicate-check field that is not unique may be held by others too: the next one takes it.
        const next = this.all(def.apiName).find((r) => r.id !== existing.id && r.fields[field] === value);
        if (next) this.keys.set(key, next.id);
      }
      existing.fields = fields;
      existing.modifiedAt = now;
      record = existing;
    } else {
      record = { id: `5725767${String(this.nextId++).padStart(12, '0')}`, module: def.apiName, fields, createdAt: now, modifiedAt: now };
    }
    this.place(record);
    const versions = this.indexed.get(record.id) ?? [];
    versions.push({ at: now, fields: structuredClone(fields) });
    // Keep the newest version the index already shows, and those it does not show yet.
    const visibleAt = now - this.options.searchLagMs;
    while (versions.length > 1 && versions[1]!.at <= visibleAt) versions.shift();
    this.indexed.set(record.id, versions);
    this.schedule();
    return record;
  }

  private schedule(): void {
    if (!this.options.dataFile) return;
    this.dirty = true;
    this.writing = this.writing.then(() => this.write());
  }

  private async write(): Promise<void> {
    if (!this.dirty || !this.options.dataFile) return;
    this.dirty = false;
    const file = this.options.dataFile;
    await mkdir(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ nextId: this.nextId, records: [...this.records.values()] }));
    await rename(tmp, file);
  }
}

/** The index key of a field value; none for an empty one (nothing to match). */
function keyOf(module: string, field: string, value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? `${module}\u0000${field}\u0000${value}` : undefined;
}

function success(record: StoredRecord, message: string): RecordAnswer {
  return {
    code: 'SUCCESS',
    details: { Modified_Time: zohoDateTime(record.modifiedAt), Modified_By: LOCAL_USER, Created_Time: zohoDateTime(record.createdAt), id: record.id, Created_By: LOCAL_USER },
    message,
    status: 'success',
  };
}

function recordError(code: string, message: string, details: Record<string, unknown>): RecordAnswer {
  return { code, details, message, status: 'error' };
}

/** All succeeded: `okStatus`; all failed: 400; some of each: 207 (multi-status). */
function answer(results: RecordAnswer[], okStatus: number): Answer {
  const failed = results.filter((r) => r.status === 'error').length;
  const status = failed === 0 ? okStatus : failed === results.length ? 400 : 207;
  return { status, body: { data: results } };
}

function present(record: StoredRecord, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { id: record.id };
  for (const field of fields) {
    if (field === 'Created_Time') out[field] = zohoDateTime(record.createdAt);
    else if (field === 'Modified_Time') out[field] = zohoDateTime(record.modifiedAt);
    else if (field === 'Owner') out[field] = LOCAL_USER;
    else if (field !== 'id') out[field] = record.fields[field] ?? null;
  }
  return out;
}

function paged(hits: StoredRecord[], fields: readonly string[], page: number, perPage: number): Answer {
  const start = (page - 1) * perPage;
  const slice = hits.slice(start, start + perPage);
  if (slice.length === 0) return { status: 204, body: null };
  return { status: 200, body: { data: slice.map((r) => present(r, fields)), info: { per_page: perPage, count: slice.length, page, more_records: start + perPage < hits.length } } };
}
