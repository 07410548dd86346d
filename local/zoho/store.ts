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
  /** The users who made and last changed it (Created_By / Modified_By); absent in older data files: the API user. */
  createdBy?: string | undefined;
  modifiedBy?: string | undefined;
}

/** A record written, for the notifications of the channels that watch its module (notifications.ts). */
export interface RecordWrite {
  readonly module: string;
  readonly id: string;
  readonly operation: 'insert' | 'update' | 'delete';
  /** The fields whose value changed (an update). */
  readonly fields: readonly string[];
}

/** Who writes and when: a write through the API is the API user's, now. */
export interface WriteContext {
  /** The record's modification time (default now). */
  readonly at?: number | undefined;
  readonly userId?: string | undefined;
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

/** The user the API's tokens belong to (this integration), and a sales user working in the CRM's page. */
export const LOCAL_USER = { name: 'Local Admin', id: '5725767000000411001' };
export const SALES_USER = { name: 'Local Sales', id: '5725767000000411002' };
const USERS: Readonly<Record<string, string>> = { [LOCAL_USER.id]: LOCAL_USER.name, [SALES_USER.id]: SALES_USER.name };
const user = (id: string | undefined) => ({ name: USERS[id ?? LOCAL_USER.id] ?? 'Local User', id: id ?? LOCAL_USER.id });
/** Records per write request. */
const WRITE_LIMIT = 100;
/** Readable without being asked for: they are not fields of the layout. */
const SYSTEM_FIELDS = new Set(['id', 'Created_Time', 'Modified_Time', 'Owner', 'Modified_By', 'Created_By']);
/** What the list records API sorts by. */
const SORTABLE = new Set(['id', 'Created_Time', 'Modified_Time']);

/** Related lists on a contact: list API name → the module and its lookup to the contact. */
/** Lookups to a contact that a merge moves to the surviving contact. */
const RELATED_LOOKUPS: readonly (readonly [string, string])[] = [
  ['Sales_Orders', 'Contact_Name'],
  ['Deals', 'Contact_Name'],
  ['Tasks', 'Who_Id'],
  ['WhatsApp_Messages', 'Contact'],
];

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
  /** Merges done (Merge Records API), oldest first. */
  private readonly merged: { survivorId: string; loserId: string }[] = [];
  /** Told of every record written (the notification channels). */
  onWrite: ((write: RecordWrite) => void) | undefined;
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
    const data = JSON.parse(text) as { nextId: number; records: StoredRecord[]; merges?: { survivorId: string; loserId: string }[] };
    this.nextId = data.nextId;
    this.merged.push(...(data.merges ?? []));
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
  add(module: string, fields: Record<string, unknown>, context: WriteContext = {}): StoredRecord {
    const def = this.module(module);
    const prepared = this.prepare(def, fields, 0, undefined);
    if ('error' in prepared) throw new ZohoFailure(400, { data: [prepared.error] });
    return this.commit(def, undefined, prepared.fields, context);
  }

  /** Edits a record as a user would in the CRM's page (no request, no faults); throws a refused write. */
  edit(module: string, id: string, changes: Record<string, unknown>, context: WriteContext = {}): StoredRecord {
    const def = this.module(module);
    const existing = this.find(module, id);
    if (!existing) throw new ZohoFailure(400, { data: [recordError('INVALID_DATA', 'the id given seems to be invalid', { api_name: 'id' })] });
    const prepared = this.prepare(def, changes, 0, existing);
    if ('error' in prepared) throw new ZohoFailure(400, { data: [prepared.error] });
    return this.commit(def, existing, prepared.fields, context);
  }

  merges(): { survivorId: string; loserId: string }[] {
    return this.merged.map((m) => ({ ...m }));
  }

  /**
   * GET /{module} without ids: one page of the module's records sorted by id, Created_Time or
   * Modified_Time; with If-Modified-Since, only the records modified after it. None: 204.
   */
  list(module: string, fields: readonly string[], query: { readonly sortBy?: string | null; readonly sortOrder?: string | null; readonly page: number; readonly perPage: number; readonly modifiedSince?: string | undefined }): Answer {
    const def = this.module(module);
    this.checkFields(def, fields);
    const sortBy = query.sortBy ?? 'id';
    if (!SORTABLE.has(sortBy)) throw new ZohoFailure(400, errorBody('INVALID_DATA', 'invalid data', { param_name: 'sort_by', supported_values: [...SORTABLE] }));
    const order = query.sortOrder ?? 'desc';
    if (order !== 'asc' && order !== 'desc') throw new ZohoFailure(400, errorBody('INVALID_DATA', 'invalid data', { param_name: 'sort_order', supported_values: ['asc', 'desc'] }));
    let after: number | undefined;
    if (query.modifiedSince !== undefined) {
      after = Date.parse(query.modifiedSince);
      if (Number.isNaN(after)) throw new ZohoFailure(400, errorBody('INVALID_DATA', 'invalid data', { header_name: 'If-Modified-Since', expected_data_type: 'datetime' }));
    }
    const key = (r: StoredRecord) => (sortBy === 'Created_Time' ? r.createdAt : sortBy === 'Modified_Time' ? r.modifiedAt : 0);
    const hits = this.all(module)
      .filter((r) => after === undefined || r.modifiedAt > after)
      .sort((a, b) => key(a) - key(b) || a.id.localeCompare(b.id));
    if (order === 'desc') hits.reverse();
    return paged(hits, fields, query.page, query.perPage);
  }

  /**
   * POST /{module}/{master}/actions/merge (Merge Records API): up to two children merged into
   * the master — the `_fields` named taken from the child, its related records moved to the
   * master, the child deleted.
   */
  merge(module: string, masterId: string, body: unknown): Answer {
    const def = this.module(module);
    if (module !== 'Contacts') throw new ZohoFailure(400, errorBody('INVALID_MODULE', 'the module name given seems to be invalid'));
    const master = this.find(module, masterId);
    if (!master) throw new ZohoFailure(400, errorBody('INVALID_DATA', 'Master record id is not available', { api_name: 'id' }));
    const merge = body && typeof body === 'object' ? (body as { merge?: unknown }).merge : undefined;
    if (!Array.isArray(merge) || merge.length !== 1) throw new ZohoFailure(400, errorBody('INVALID_DATA', 'The merge JSON array has reached its limit', { api_name: 'merge' }));
    const data = (merge[0] as { data?: unknown } | null)?.data;
    if (!Array.isArray(data) || data.length === 0) throw new ZohoFailure(400, errorBody('INVALID_DATA', 'Atleast one child record id is required to be merged', { api_name: 'data' }));
    if (data.length > 2) throw new ZohoFailure(400, errorBody('INVALID_DATA', 'The data JSON object has reached its limit', { api_name: 'data' }));
    const children: { record: StoredRecord; fields: string[] }[] = [];
    for (const [index, item] of data.entries()) {
      const id = (item as { id?: unknown } | null)?.id;
      if (typeof id !== 'string' || id === '') throw new ZohoFailure(400, errorBody('MANDATORY_NOT_FOUND', 'The ID of the child record is empty', { api_name: 'id', json_path: `$.merge[0].data[${index}].id` }));
      if (id === masterId || children.some((c) => c.record.id === id)) throw new ZohoFailure(400, errorBody('DUPLICATE_DATA', 'Similar ID is already given for merging', { api_name: 'id', json_path: `$.merge[0].data[${index}].id` }));
      const record = this.find(module, id);
      if (!record) throw new ZohoFailure(400, errorBody('INVALID_DATA', 'the id given seems to be invalid', { api_name: 'id', json_path: `$.merge[0].data[${index}].id` }));
      const named = (item as { _fields?: unknown })._fields;
      if (!Array.isArray(named)) throw new ZohoFailure(400, errorBody('MANDATORY_NOT_FOUND', 'required field not found', { api_name: '_fields', json_path: `$.merge[0].data[${index}]._fields` }));
      const fields = named.map((f) => (f as { api_name?: unknown } | null)?.api_name);
      const unknown = fields.findIndex((f) => typeof f !== 'string' || !(f in def.fields));
      if (unknown >= 0) throw new ZohoFailure(400, errorBody('MANDATORY_NOT_FOUND', 'The API names in the field JSON array cannot be empty', { api_name: 'api_name', json_path: `$.merge[0].data[${index}]._fields[${unknown}]` }));
      children.push({ record, fields: fields as string[] });
    }
    const taken: Record<string, unknown> = {};
    for (const child of children) for (const field of child.fields) taken[field] = child.record.fields[field] ?? null;
    // The children's unique values go with them, so the master may take them.
    for (const child of children) this.remove(child.record);
    for (const child of children) {
      for (const [related, lookup] of RELATED_LOOKUPS) {
        for (const record of this.all(related)) {
          if ((record.fields[lookup] as { id?: string } | undefined)?.id === child.record.id) this.commit(this.module(related), record, { ...record.fields, [lookup]: { name: def.nameOf(master.fields), id: masterId } });
        }
      }
      this.merged.push({ survivorId: masterId, loserId: child.record.id });
    }
    this.commit(def, master, { ...master.fields, ...taken });
    return { status: 200, body: { merge: [{ code: 'SUCCESS', details: { id: masterId }, message: 'The records have been merged successfully', status: 'success' }] } };
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

  private commit(def: ModuleDef, existing: StoredRecord | undefined, fields: Record<string, unknown>, context: WriteContext = {}): StoredRecord {
    const now = this.options.now();
    const at = context.at ?? now;
    const changed = existing ? Object.keys({ ...existing.fields, ...fields }).filter((f) => JSON.stringify(existing.fields[f]) !== JSON.stringify(fields[f])) : Object.keys(fields);
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
      existing.modifiedAt = at;
      existing.modifiedBy = context.userId ?? LOCAL_USER.id;
      record = existing;
    } else {
      const by = context.userId ?? LOCAL_USER.id;
      record = { id: `5725767${String(this.nextId++).padStart(12, '0')}`, module: def.apiName, fields, createdAt: at, modifiedAt: at, createdBy: by, modifiedBy: by };
    }
    this.place(record);
    const versions = this.indexed.get(record.id) ?? [];
    versions.push({ at: now, fields: structuredClone(fields) });
    // Keep the newest version the index already shows, and those it does not show yet.
    const visibleAt = now - this.options.searchLagMs;
    while (versions.length > 1 && versions[1]!.at <= visibleAt) versions.shift();
    this.indexed.set(record.id, versions);
    this.schedule();
    this.onWrite?.({ module: def.apiName, id: record.id, operation: existing ? 'update' : 'insert', fields: changed });
    return record;
  }

  /** Deletes a record: gone from its module, its unique values and the index. */
  private remove(record: StoredRecord): void {
    for (const field of this.keyFields(record.module)) {
      const key = keyOf(record.module, field, record.fields[field]);
      if (key !== undefined && this.keys.get(key) === record.id) this.keys.delete(key);
    }
    this.records.delete(record.id);
    this.byModule.get(record.module)?.delete(record.id);
    this.indexed.delete(record.id);
    this.schedule();
    this.onWrite?.({ module: record.module, id: record.id, operation: 'delete', fields: [] });
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
    await writeFile(tmp, JSON.stringify({ nextId: this.nextId, records: [...this.records.values()], merges: this.merged }));
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
    details: { Modified_Time: zohoDateTime(record.modifiedAt), Modified_By: user(record.modifiedBy), Created_Time: zohoDateTime(record.createdAt), id: record.id, Created_By: user(record.createdBy) },
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
    else if (field === 'Modified_By') out[field] = user(record.modifiedBy);
    else if (field === 'Created_By') out[field] = user(record.createdBy);
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
