/**
 * The data of the local Salesforce org: records by object, with Salesforce's rules the adapter
 * depends on — field validation (rules.ts), unique External IDs (DUPLICATE_VALUE), upserts by
 * External ID (300 when a non-unique one matches twice), tombstones of deleted records
 * (ENTITY_IS_DELETED), all-or-none transactions, and SOQL (soql.ts). Real SOQL reads the
 * database and does not lag; `queryLagMs` emulates a late view for conditions on unindexed
 * fields only (the sales phone fields), so that matching a sales-made contact can be tested
 * against latency without breaking lookups by External ID and the system fields, which are
 * indexed. Persisted by journal.ts.
 *
 * Every write is made by a user: the API's by the integration user (the External Client App's
 * run-as user), a sales edit or an agent's reply by theirs (`as`). It stamps CreatedById /
 * LastModifiedById, LastModifiedDate (a time the writer gives, else now) and SystemModstamp
 * (never before now), and each committed transaction is told to `onCommit` — what Change Data
 * Capture publishes (events.ts). `merge` is the SOAP API's merge() (soap.ts).
 */
import { Journal } from './journal.ts';
import { entityDeleted, failure, isId, notFound, recordId, SalesforceFailure, sfDateTime } from './failures.ts';
import { validate, type Lookups, type Values } from './rules.ts';
import { lookupOf, SYSTEM_FIELDS, type ObjectDef } from './schema.ts';
import { compare, matches, parseSoql, SoqlError, type Path, type Query } from './soql.ts';

export interface StoredRecord {
  readonly Id: string;
  readonly object: string;
  fields: Values;
  readonly CreatedDate: string;
  LastModifiedDate: string;
  /** Absent in data written before two-way sync: LastModifiedDate stands in. */
  SystemModstamp?: string;
  readonly CreatedById?: string;
  LastModifiedById?: string;
}

/** Who writes, and the modification time they give (ms; default now). */
export interface Actor {
  readonly userId: string;
  readonly at?: number | undefined;
}

/** One record's change in a committed transaction (as Change Data Capture sees it). */
export interface RecordChange {
  readonly object: string;
  readonly id: string;
  readonly type: 'CREATE' | 'UPDATE' | 'DELETE' | 'UNDELETE';
  /** The record before the transaction (absent for a create) and after it (absent for a delete). */
  readonly before?: StoredRecord | undefined;
  readonly after?: StoredRecord | undefined;
  /** The user who committed it, and when (ms: the LastModifiedDate it wrote, else now). */
  readonly userId: string;
  readonly at: number;
}

/** A transaction's changes, in the order the records were first touched. */
export type CommitListener = (changes: readonly RecordChange[]) => void;

/** The outcome of merge(): the master, the merged (deleted) records, the re-parented ones. */
export interface MergeOutcome {
  readonly id: string;
  readonly mergedRecordIds: readonly string[];
  readonly updatedRelatedIds: readonly string[];
}

export interface Data {
  seq: number;
  records: Record<string, Record<string, StoredRecord>>;
  /** Deleted record ids → their object (Salesforce answers ENTITY_IS_DELETED for them). */
  deleted: Record<string, string>;
}

interface Transaction {
  readonly undo: Map<string, { readonly object: string; readonly before: StoredRecord | undefined; readonly wasDeleted: boolean }>;
}

const MAX_QUERY_ROWS = 2_000;
/** The integration user of a store not told its own (the user the local token endpoint names). */
export const DEFAULT_INTEGRATION_USER_ID = '0055g00000LOCALAAA';
/** Auto-number formats of the objects that have one. */
const AUTO_NUMBERS: Record<string, { field: string; format: (n: number) => string }> = {
  Case: { field: 'CaseNumber', format: (n) => String(n).padStart(8, '0') },
  Order: { field: 'OrderNumber', format: (n) => String(n).padStart(8, '0') },
  WhatsApp_Message__c: { field: 'Name', format: (n) => `MSG-${String(n).padStart(6, '0')}` },
};

export class LocalSalesforceStore {
  private data: Data = { seq: 0, records: {}, deleted: {} };
  /** Unique field values → record id, per `object.field`. */
  private readonly unique = new Map<string, Map<string, string>>();
  /** What SOQL sees with a lag: each record's recent versions and when they were committed. */
  private readonly versions = new Map<string, { at: number; fields: Values | null }[]>();
  private tx: Transaction | undefined;
  private readonly journal: Journal | undefined;
  private actor: Actor | undefined;
  private readonly mergeLog: { object: string; survivorId: string; loserId: string }[] = [];
  private listener: CommitListener | undefined;
  readonly lookups: Lookups = {
    state: (object, id) => this.state(object, id),
    byExternalId: (object, field, value) => this.holders(this.def(object), field, value).map((r) => r.Id),
  };

  constructor(
    readonly schema: ReadonlyMap<string, ObjectDef>,
    private readonly options: { readonly dataFile?: string | undefined; readonly queryLagMs: number; readonly integrationUserId?: string | undefined },
  ) {
    for (const name of schema.keys()) this.data.records[name] = {};
    this.journal = options.dataFile ? new Journal(options.dataFile, () => this.data) : undefined;
  }

  async load(): Promise<void> {
    if (!this.journal) return;
    this.data = await this.journal.load(this.data);
    for (const name of this.schema.keys()) this.data.records[name] ??= {};
    this.unique.clear();
  }

  /** Resolves when every change so far is on disk. */
  flushed(): Promise<void> {
    return this.journal?.flushed() ?? Promise.resolve();
  }

  def(object: string): ObjectDef {
    const def = this.schema.get(object);
    if (!def) throw notFound();
    return def;
  }

  list(object: string): StoredRecord[] {
    return Object.values(this.data.records[object] ?? {});
  }

  find(object: string, id: string): StoredRecord | undefined {
    const records = this.data.records[object] ?? {};
    if (id.length === 18) return records[id];
    return id.length === 15 ? Object.values(records).find((r) => r.Id.startsWith(id)) : undefined;
  }

  state(object: string | undefined, id: string): 'present' | 'deleted' | 'absent' {
    const objects = object ? [object] : [...this.schema.keys()];
    if (objects.some((o) => this.find(o, id))) return 'present';
    return Object.keys(this.data.deleted).some((d) => d === id || d.startsWith(id)) ? 'deleted' : 'absent';
  }

  /** A record that must be there: 404 NOT_FOUND, or ENTITY_IS_DELETED for a deleted one. */
  existing(object: string, id: string): StoredRecord {
    const record = isId(id) ? this.find(object, id) : undefined;
    if (record) return record;
    throw isId(id) && this.state(object, id) === 'deleted' ? entityDeleted() : notFound();
  }

  /** Runs the writes of `fn` all or none: a throw undoes every change it made. Nested calls join the outer one. */
  transaction<T>(fn: () => T): T {
    if (this.tx) return fn();
    this.tx = { undo: new Map() };
    try {
      const result = fn();
      this.commit(this.tx);
      return result;
    } catch (error) {
      this.rollback(this.tx);
      throw error;
    } finally {
      this.tx = undefined;
    }
  }

  get inTransaction(): boolean {
    return this.tx !== undefined;
  }

  /** The API's user (the integration user): who writes when no one else is named. */
  get integrationUserId(): string {
    return this.options.integrationUserId ?? DEFAULT_INTEGRATION_USER_ID;
  }

  /** Runs `fn`'s writes as `actor` (a sales user's edit, an agent's reply), in one transaction. */
  as<T>(actor: Actor, fn: () => T): T {
    const outer = this.actor;
    this.actor = actor;
    try {
      return this.transaction(fn);
    } finally {
      this.actor = outer;
    }
  }

  /** Told every committed transaction's changes (Change Data Capture). */
  onCommit(listener: CommitListener | undefined): void {
    this.listener = listener;
  }

  /** The writer now: its user, LastModifiedDate and SystemModstamp (never before now). */
  private writer(): { userId: string; modified: string; stamp: string } {
    const now = Date.now();
    const at = this.actor?.at ?? now;
    return { userId: this.actor?.userId ?? this.integrationUserId, modified: sfDateTime(at), stamp: sfDateTime(Math.max(at, now)) };
  }

  /** Marks the record written by the writer now. */
  private stamp(record: StoredRecord): void {
    const w = this.writer();
    record.LastModifiedDate = w.modified;
    record.SystemModstamp = w.stamp;
    record.LastModifiedById = w.userId;
  }

  create(object: string, input: Values): StoredRecord {
    return this.transaction(() => {
      const def = this.def(object);
      const values = validate(def, input, 'create', this.lookups);
      this.checkUnique(def, values, undefined);
      const seq = ++this.data.seq;
      const auto = AUTO_NUMBERS[object];
      if (auto) values[auto.field] = auto.format(seq);
      const w = this.writer();
      const record: StoredRecord = { Id: recordId(def.prefix, seq), object, fields: {}, CreatedDate: w.modified, LastModifiedDate: w.modified, SystemModstamp: w.stamp, CreatedById: w.userId, LastModifiedById: w.userId };
      this.apply(record, derive(def, values, {}));
      this.remember(record.Id, object);
      this.data.records[object]![record.Id] = record;
      this.index(record, 'add');
      return record;
    });
  }

  update(object: string, id: string, input: Values): StoredRecord {
    return this.transaction(() => {
      const def = this.def(object);
      const record = this.existing(object, id);
      const values = validate(def, input, 'update', this.lookups);
      const merged = derive(def, { ...record.fields, ...values }, record.fields);
      this.checkUnique(def, merged, record.Id);
      this.remember(record.Id, object);
      this.index(record, 'remove');
      record.fields = {};
      this.apply(record, merged);
      this.stamp(record);
      this.index(record, 'add');
      return record;
    });
  }

  /**
   * Sets a lookup as Salesforce itself does (a merge re-parenting a child): no field rules (the
   * lookup may be create-only), the record stamped by the writer.
   */
  reparent(object: string, id: string, field: string, value: string): StoredRecord {
    return this.transaction(() => {
      const record = this.existing(object, id);
      this.remember(record.Id, object);
      record.fields = { ...record.fields, [field]: value };
      this.stamp(record);
      return record;
    });
  }

  /**
   * The SOAP API's merge(): the losers' child records re-parented to the master (every lookup
   * to the object), the master stamped, the losers deleted — one transaction. Refused as
   * Salesforce refuses: ENTITY_IS_DELETED (a record deleted or merged already),
   * INVALID_CROSS_REFERENCE_KEY (never there), INVALID_ID_FIELD (the master itself).
   */
  merge(object: string, masterId: string, loserIds: readonly string[]): MergeOutcome {
    const outcome = this.transaction(() => {
      const def = this.def(object);
      const refused = (id: string) => (this.state(object, id) === 'deleted' ? failure(400, 'ENTITY_IS_DELETED', 'entity is deleted', ['Id']) : failure(400, 'INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', ['Id']));
      const master = isId(masterId) ? this.find(object, masterId) : undefined;
      if (!master) throw refused(masterId);
      const losers = loserIds.map((id) => {
        const loser = isId(id) ? this.find(object, id) : undefined;
        if (!loser) throw refused(id);
        if (loser.Id === master.Id) throw failure(400, 'INVALID_ID_FIELD', 'A record cannot be merged with itself', ['Id']);
        return loser;
      });
      const updatedRelatedIds: string[] = [];
      for (const child of this.schema.values()) {
        for (const [field, f] of Object.entries(child.fields)) {
          if (f.type !== 'reference' || f.referenceTo !== def.name) continue;
          for (const record of this.list(child.name)) {
            if (!losers.some((l) => record.fields[field] === l.Id)) continue;
            this.reparent(child.name, record.Id, field, master.Id);
            updatedRelatedIds.push(record.Id);
          }
        }
      }
      this.remember(master.Id, object);
      this.stamp(master);
      for (const loser of losers) this.remove(object, loser.Id);
      return { id: master.Id, mergedRecordIds: losers.map((l) => l.Id), updatedRelatedIds: [...new Set(updatedRelatedIds)] };
    });
    for (const loserId of outcome.mergedRecordIds) this.mergeLog.push({ object, survivorId: outcome.id, loserId });
    return outcome;
  }

  /** The merges done since the org started (merged records are deleted; the log is not persisted). */
  merges(): { readonly object: string; readonly survivorId: string; readonly loserId: string }[] {
    return [...this.mergeLog];
  }

  /** PATCH by External ID: created, updated, or 300 with the matching records' URLs. */
  upsert(object: string, field: string, value: string, input: Values, version: string): { record: StoredRecord; created: boolean } {
    const def = this.def(object);
    if (!def.fields[field]?.externalId) throw failure(404, 'NOT_FOUND', `Provided external ID field does not exist or is not accessible: ${field}`);
    if (field in input) throw failure(400, 'INVALID_FIELD', `The External ID field ${field} is in the URL; it must not be in the request body as well`, [field]);
    const holders = this.holders(def, field, value);
    if (holders.length > 1) throw new SalesforceFailure(300, holders.map((r) => `/services/data/v${version}/sobjects/${object}/${r.Id}`));
    if (holders.length === 1) return { record: this.update(object, holders[0]!.Id, input), created: false };
    return { record: this.create(object, { ...input, [field]: value }), created: true };
  }

  remove(object: string, id: string): void {
    this.transaction(() => {
      const record = this.existing(object, id);
      this.remember(record.Id, object);
      this.index(record, 'remove');
      delete this.data.records[object]![record.Id];
      this.data.deleted[record.Id] = object;
    });
  }

  /** A record as the REST API answers it: attributes, then the fields asked for (or all). */
  present(record: StoredRecord, fields?: readonly string[], version = '68.0'): Record<string, unknown> {
    // Salesforce adds the Id to the fields asked for.
    const names = fields ? [...new Set([...fields, 'Id'])] : [...SYSTEM_FIELDS, ...Object.keys(this.def(record.object).fields)];
    const out: Record<string, unknown> = { attributes: { type: record.object, url: `/services/data/v${version}/sobjects/${record.object}/${record.Id}` } };
    for (const name of names) {
      if (name !== 'Id' && !(name in this.def(record.object).fields) && !(SYSTEM_FIELDS as readonly string[]).includes(name)) {
        throw failure(400, 'INVALID_FIELD', `No such column '${name}' on entity '${record.object}'.`);
      }
      out[name] = this.field(record, record.fields, name);
    }
    return out;
  }

  query(soql: string, version: string): { totalSize: number; done: boolean; records: Record<string, unknown>[] } {
    let query: Query;
    try {
      query = parseSoql(soql);
    } catch (error) {
      if (error instanceof SoqlError) throw failure(400, 'MALFORMED_QUERY', error.message);
      throw error;
    }
    const def = this.schema.get(query.from);
    if (!def) throw failure(400, 'INVALID_TYPE', `sObject type '${query.from}' is not supported.`);
    const rows = this.run(def, query, this.list(def.name), version);
    return { totalSize: rows.length, done: true, records: rows };
  }

  // ---- querying -----------------------------------------------------------------------

  private run(def: ObjectDef, query: Query, candidates: readonly StoredRecord[], version: string): Record<string, unknown>[] {
    for (const item of query.select) if (item.kind === 'field') this.checkPath(def, item.path);
    for (const o of query.orderBy) this.checkPath(def, o.path);
    const entries = candidates.map((record) => ({ record, view: record.fields }));
    const get = (entry: { record: StoredRecord; view: Values }) => (path: Path) => this.path(entry.record, entry.view, path);
    // A condition on an indexed field (Id, External IDs) reads the record as it is; on another
    // field (the sales phone fields), as the emulated lag lets it see the record (undefined: not yet).
    const condition = (record: StoredRecord) => (path: Path) => {
      this.checkPath(def, path);
      if (!this.lags(def, path)) return this.path(record, record.fields, path);
      const view = this.view(record);
      return view ? this.path(record, view, path) : undefined;
    };
    const hits = query.where ? entries.filter((entry) => matches(query.where!, condition(entry.record))) : entries;
    hits.sort((a, b) => {
      for (const o of query.orderBy) {
        const x = get(a)(o.path);
        const y = get(b)(o.path);
        const xNull = x === null || x === undefined;
        const yNull = y === null || y === undefined;
        if (xNull || yNull) {
          if (xNull && yNull) continue;
          return xNull === o.nullsLast ? 1 : -1;
        }
        const order = compare(x, y);
        if (order !== 0) return o.descending ? -order : order;
      }
      return a.record.Id < b.record.Id ? -1 : 1;
    });
    return hits.slice(0, Math.min(query.limit ?? MAX_QUERY_ROWS, MAX_QUERY_ROWS)).map((entry) => {
      const row: Record<string, unknown> = { attributes: { type: def.name, url: `/services/data/v${version}/sobjects/${def.name}/${entry.record.Id}` } };
      for (const item of query.select) {
        if (item.kind === 'field') this.select(row, entry.record, entry.view, item.path);
        else row[item.query.from] = this.children(def, entry.record, item.query, version);
      }
      return row;
    });
  }

  private children(def: ObjectDef, parent: StoredRecord, query: Query, version: string) {
    const child = def.children?.[query.from];
    if (!child) throw failure(400, 'INVALID_TYPE', `Didn't understand relationship '${query.from}' in FROM part of query call.`);
    const childDef = this.def(child.object);
    const rows = this.run(childDef, query, this.list(child.object).filter((r) => r.fields[child.field] === parent.Id), version);
    return rows.length ? { totalSize: rows.length, done: true, records: rows } : null;
  }

  private checkPath(def: ObjectDef, path: Path): void {
    const [head, ...rest] = path;
    if (rest.length === 0) {
      if (head && (head in def.fields || (SYSTEM_FIELDS as readonly string[]).includes(head))) return;
      throw failure(400, 'INVALID_FIELD', `No such column '${head}' on entity '${def.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name.`);
    }
    const lookup = head ? lookupOf(def, head) : undefined;
    const target = lookup ? def.fields[lookup]?.referenceTo : undefined;
    if (!target) throw failure(400, 'INVALID_FIELD', `Didn't understand relationship '${head}' in field path.`);
    this.checkPath(this.def(target), rest);
  }

  /**
   * Puts a selected field into the row; a parent field as SOQL answers it, nested under the
   * relationship (`Product2: { attributes, ProductCode }`), or `Product2: null` without a parent.
   */
  private select(row: Record<string, unknown>, record: StoredRecord, view: Values, path: Path): void {
    const [head, ...rest] = path;
    if (!head) return;
    if (rest.length === 0) {
      row[head] = this.field(record, view, head);
      return;
    }
    const parent = this.parent(record, view, head);
    if (!parent) {
      row[head] = null;
      return;
    }
    const nested = (row[head] as Record<string, unknown> | null | undefined) ?? { attributes: { type: parent.record.object, url: `/services/data/v68.0/sobjects/${parent.record.object}/${parent.record.Id}` } };
    row[head] = nested;
    this.select(nested, parent.record, parent.view, rest);
  }

  /** The record a relationship of this record points at, as SOQL sees it. */
  private parent(record: StoredRecord, view: Values, relationship: string): { record: StoredRecord; view: Values } | undefined {
    const def = this.def(record.object);
    const lookup = lookupOf(def, relationship);
    const target = lookup ? def.fields[lookup]?.referenceTo : undefined;
    const id = lookup ? view[lookup] : undefined;
    const parent = target && typeof id === 'string' ? this.find(target, id) : undefined;
    return parent ? { record: parent, view: parent.fields } : undefined;
  }

  /** The value at a (dotted) path: a field of the record, or of the record a lookup points at. */
  private path(record: StoredRecord, view: Values, path: Path): unknown {
    const [head, ...rest] = path;
    if (!head) return undefined;
    if (rest.length === 0) return this.field(record, view, head);
    const parent = this.parent(record, view, head);
    return parent ? this.path(parent.record, parent.view, rest) : null;
  }

  private field(record: StoredRecord, view: Values, name: string): unknown {
    if (name === 'Id') return record.Id;
    if (name === 'CreatedDate') return record.CreatedDate;
    if (name === 'LastModifiedDate') return record.LastModifiedDate;
    if (name === 'SystemModstamp') return record.SystemModstamp ?? record.LastModifiedDate;
    if (name === 'CreatedById') return record.CreatedById ?? this.integrationUserId;
    if (name === 'LastModifiedById') return record.LastModifiedById ?? record.CreatedById ?? this.integrationUserId;
    if (name === 'IsDeleted') return false;
    if (record.object === 'Order' && name === 'TotalAmount') {
      const items = this.list('OrderItem').filter((i) => i.fields.OrderId === record.Id);
      return items.length ? items.reduce((sum, i) => sum + Number(i.fields.Quantity ?? 1) * Number(i.fields.UnitPrice ?? 0), 0) : null;
    }
    return view[name] ?? null;
  }

  /** Whether a condition on this path sees writes late: any field but Id and External IDs, when a lag is set. */
  private lags(def: ObjectDef, path: Path): boolean {
    if (this.options.queryLagMs <= 0 || path.length !== 1 || (SYSTEM_FIELDS as readonly string[]).includes(path[0]!)) return false;
    return !def.fields[path[0]!]?.externalId;
  }

  /** The record as a lagging condition sees it now: the newest version committed before the lag. */
  private view(record: StoredRecord): Values | undefined {
    if (this.options.queryLagMs <= 0) return record.fields;
    const versions = this.versions.get(record.Id);
    if (!versions) return record.fields; // loaded from disk: long since visible
    const cutoff = Date.now() - this.options.queryLagMs;
    const seen = versions.filter((v) => v.at <= cutoff).at(-1);
    return seen?.fields ?? undefined;
  }

  // ---- rules and bookkeeping ----------------------------------------------------------

  /** Records whose External ID `field` holds `value` (exact: our key fields are case sensitive). */
  private holders(def: ObjectDef, field: string, value: string): StoredRecord[] {
    if (def.fields[field]?.unique) {
      const id = this.uniqueValues(def.name, field).get(value);
      const record = id ? this.find(def.name, id) : undefined;
      return record ? [record] : [];
    }
    return this.list(def.name)
      .filter((r) => r.fields[field] === value)
      .sort((a, b) => (a.Id < b.Id ? -1 : 1));
  }

  private checkUnique(def: ObjectDef, values: Values, selfId: string | undefined): void {
    for (const [name, field] of Object.entries(def.fields)) {
      const value = values[name];
      if (!field.unique || typeof value !== 'string') continue;
      const holder = this.uniqueValues(def.name, name).get(value);
      if (holder && holder !== selfId) throw failure(400, 'DUPLICATE_VALUE', `duplicate value found: ${name} duplicates value on record with id: ${holder}`);
    }
  }

  private uniqueValues(object: string, field: string): Map<string, string> {
    const key = `${object}.${field}`;
    let values = this.unique.get(key);
    if (!values) {
      values = new Map();
      for (const record of this.list(object)) if (typeof record.fields[field] === 'string') values.set(record.fields[field] as string, record.Id);
      this.unique.set(key, values);
    }
    return values;
  }

  private index(record: StoredRecord, change: 'add' | 'remove'): void {
    const def = this.def(record.object);
    for (const [name, field] of Object.entries(def.fields)) {
      const value = record.fields[name];
      if (!field.unique || typeof value !== 'string') continue;
      const values = this.uniqueValues(record.object, name);
      if (change === 'add') values.set(value, record.Id);
      else if (values.get(value) === record.Id) values.delete(value);
    }
  }

  private apply(record: StoredRecord, values: Values): void {
    for (const [name, value] of Object.entries(values)) {
      if (value === null || value === undefined) delete record.fields[name];
      else record.fields[name] = value;
    }
  }

  private remember(id: string, object: string): void {
    if (!this.tx || this.tx.undo.has(id)) return;
    const before = this.find(object, id);
    this.tx.undo.set(id, { object, before: before && structuredClone(before), wasDeleted: id in this.data.deleted });
  }

  private commit(tx: Transaction): void {
    const at = Date.now();
    const changes: RecordChange[] = [];
    for (const [id, { object, before, wasDeleted }] of tx.undo) {
      const record = this.find(object, id);
      const versions = this.versions.get(id) ?? [];
      versions.push({ at, fields: record ? { ...record.fields } : null });
      this.versions.set(id, versions.slice(-10));
      this.journal?.append(record ? { k: 'put', r: structuredClone(record), seq: this.data.seq } : { k: 'del', object, id });
      const type = record ? (before ? 'UPDATE' : wasDeleted ? 'UNDELETE' : 'CREATE') : before ? 'DELETE' : undefined;
      if (!type) continue;
      const modified = record ? Date.parse(record.LastModifiedDate.replace(/([+-]\d{2})(\d{2})$/, '$1:$2')) : NaN;
      changes.push({ object, id, type, before, after: record && structuredClone(record), userId: (record ? record.LastModifiedById : undefined) ?? this.writer().userId, at: Number.isNaN(modified) ? at : modified });
    }
    if (changes.length) this.listener?.(changes);
  }

  private rollback(tx: Transaction): void {
    for (const [id, { object, before, wasDeleted }] of tx.undo) {
      const current = this.find(object, id);
      if (current) this.index(current, 'remove');
      if (before) {
        this.data.records[object]![id] = before;
        this.index(before, 'add');
      } else {
        delete this.data.records[object]![id];
      }
      if (wasDeleted) this.data.deleted[id] = object;
      else delete this.data.deleted[id];
    }
  }

}

/** Fields Salesforce sets from others: a Case is closed by its Status. */
function derive(def: ObjectDef, values: Values, before: Values): Values {
  if (def.name !== 'Case' || values.Status === undefined) return values;
  const closed = values.Status === 'Closed';
  return { ...values, IsClosed: closed, ClosedDate: closed ? (before.ClosedDate ?? sfDateTime(Date.now())) : null };
}
