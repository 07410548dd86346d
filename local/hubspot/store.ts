/**
 * The data of the local HubSpot: records, associations and property definitions, with
 * HubSpot's rules the adapter depends on — unique-value enforcement, property validation,
 * association type checks and a search index that lags writes. Persisted atomically to a JSON
 * file (tmp + rename) when one is given.
 */
import { randomUUID } from 'node:crypto';
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DEFAULT_ORDER_CARRIER_PROPERTY, LINE_ITEM, ORDER } from '#shared/crm/hubspot/properties';

export type ObjectType = 'contacts' | 'communications' | 'deals' | 'tasks' | 'orders' | 'line_items';
export const OBJECT_TYPES: readonly ObjectType[] = ['contacts', 'communications', 'deals', 'tasks', 'orders', 'line_items'];

export interface LocalRecord {
  readonly id: string;
  properties: Record<string, string>;
  readonly createdAt: string;
  updatedAt: string;
  /**
   * The earlier values of the properties whose history is kept (two-way sync's: a reply's id is
   * the time its value was written), newest last. Absent in data files written before.
   */
  history?: Record<string, LocalHistoryEntry[]>;
}

/** One value of a property's history, as `propertiesWithHistory` answers it. */
export interface LocalHistoryEntry {
  readonly value: string;
  readonly timestamp: string;
  readonly sourceType: string;
  readonly sourceId?: string | undefined;
  readonly updatedByUserId?: number | undefined;
}

/**
 * Who made a write, as HubSpot's webhooks and property history say it: an app through the API
 * (INTEGRATION, the app's id) or a person in HubSpot's pages (CRM_UI, `userId:<id>`).
 */
export interface ChangeOrigin {
  readonly changeSource: 'INTEGRATION' | 'CRM_UI';
  readonly sourceId: string;
  readonly userId?: number | undefined;
  /** When (ms): the record's lastmodifieddate and the change's time. Default now. */
  readonly at?: number | undefined;
}

/** A property of a record that a write changed. */
export interface PropertyChange {
  readonly type: ObjectType;
  readonly id: string;
  readonly property: string;
  /** The new value ('' when cleared). */
  readonly value: string;
  readonly at: number;
  readonly origin: ChangeOrigin;
}

export interface LocalAssociation {
  readonly fromType: ObjectType;
  readonly fromId: string;
  readonly toType: ObjectType;
  readonly toId: string;
  readonly typeId: number;
}

export interface LocalProperty {
  readonly name: string;
  readonly label: string;
  readonly type: string;
  readonly fieldType: string;
  readonly groupName: string;
  readonly hasUniqueValue: boolean;
  readonly description?: string;
  readonly options?: readonly { readonly label: string; readonly value: string }[];
}

/** One change, as it is appended to the journal (`<data file>.log`). */
type JournalEntry =
  | { readonly k: 'record'; readonly type: ObjectType; readonly record: LocalRecord }
  | { readonly k: 'association'; readonly a: LocalAssociation }
  | { readonly k: 'property'; readonly type: ObjectType; readonly property: LocalProperty }
  | { readonly k: 'group'; readonly type: ObjectType; readonly name: string }
  | { readonly k: 'merge'; readonly type: ObjectType; readonly from: string; readonly into: string };

/** Journal entries after which the data file is written anew and the journal emptied. */
const COMPACT_AFTER = 20_000;

interface StoreData {
  nextId: number;
  records: Record<ObjectType, Record<string, LocalRecord>>;
  associations: LocalAssociation[];
  properties: Record<ObjectType, Record<string, LocalProperty>>;
  groups: Record<ObjectType, string[]>;
  /** `type:id` of records merged away → the id they were merged into (absent in older data files). */
  mergedInto?: Record<string, string>;
}

/** A HubSpot-shaped failure: status and JSON body. */
export class HubSpotFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body.message));
  }
}

export function errorBody(category: string, message: string, extra: Record<string, unknown> = {}) {
  return { status: 'error', message, correlationId: randomUUID(), category, ...extra };
}

/** HUBSPOT_DEFINED association types the local server knows: [from, to, typeId]. */
const ASSOCIATION_TYPES: readonly [ObjectType, ObjectType, number][] = [
  ['communications', 'contacts', 81],
  ['contacts', 'communications', 82],
  ['deals', 'contacts', 3],
  ['contacts', 'deals', 4],
  ['tasks', 'contacts', 204],
  ['contacts', 'tasks', 203],
  ['orders', 'contacts', 507],
  ['contacts', 'orders', 508],
  ['orders', 'line_items', 513],
  ['line_items', 'orders', 514],
];

export const SINGULAR: Record<ObjectType, string> = {
  contacts: 'Contact',
  communications: 'Communication',
  deals: 'Deal',
  tasks: 'Task',
  orders: 'Order',
  line_items: 'Line item',
};

const DEFAULT_READ: Record<ObjectType, readonly string[]> = {
  contacts: ['email', 'firstname', 'lastname'],
  communications: [],
  deals: ['dealname', 'amount', 'closedate', 'pipeline', 'dealstage'],
  tasks: ['hs_task_subject', 'hs_task_status', 'hs_timestamp'],
  orders: [],
  line_items: ['name', 'quantity', 'price', 'hs_sku'],
};

/** Object types whose records carry `createdate` / `lastmodifieddate`; the others `hs_createdate` / `hs_lastmodifieddate`. */
const PLAIN_SYSTEM_DATES: ReadonlySet<ObjectType> = new Set(['contacts', 'communications', 'deals']);

/** An order seeded for tests and the local stack, as a shop connector would send it. */
export interface LocalOrderInput {
  /** The contact's HubSpot id, or … */
  readonly contactCrmId?: string;
  /** … the E.164 number in its `whatsapp_phone`, `phone` or `mobilephone`. */
  readonly whatsappPhone?: string;
  readonly name?: string;
  /** When the order was placed (ms); default now. */
  readonly placedAt?: number;
  readonly amount?: number;
  readonly currency?: string;
  /** Fulfilment status, e.g. "Shipped". */
  readonly status?: string;
  readonly trackingNumber?: string;
  readonly carrier?: string;
  readonly trackingUrl?: string;
  /** One line item per SKU. */
  readonly skus?: readonly string[];
}

/** Stages of HubSpot's default deal pipeline (internal ids). */
export const DEFAULT_PIPELINE_STAGES = [
  'appointmentscheduled',
  'qualifiedtobuy',
  'presentationscheduled',
  'decisionmakerboughtin',
  'contractsent',
  'closedwon',
  'closedlost',
];

const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

function standardProperties(): Record<ObjectType, Record<string, LocalProperty>> {
  const text = (name: string, groupName: string): LocalProperty => ({
    name,
    label: name,
    type: 'string',
    fieldType: 'text',
    groupName,
    hasUniqueValue: false,
  });
  const select = (name: string, values: string[], groupName = 'communication'): LocalProperty => ({
    ...text(name, groupName),
    type: 'enumeration',
    fieldType: 'select',
    options: values.map((value) => ({ label: value, value })),
  });
  const contacts = ['email', 'firstname', 'lastname', 'phone', 'mobilephone', 'company', 'hs_lead_status', 'lifecyclestage', 'address', 'city', 'state', 'zip', 'country'];
  const datetime = (name: string, groupName: string): LocalProperty => ({ ...text(name, groupName), type: 'datetime', fieldType: 'date' });
  const number = (name: string, groupName: string): LocalProperty => ({ ...text(name, groupName), type: 'number', fieldType: 'number' });
  return {
    contacts: Object.fromEntries(contacts.map((n) => [n, text(n, 'contactinformation')])),
    communications: {
      hs_communication_channel_type: select('hs_communication_channel_type', ['WHATS_APP', 'LINKEDIN_MESSAGE', 'SMS']),
      hs_communication_logged_from: select('hs_communication_logged_from', ['CRM']),
      hs_communication_body: text('hs_communication_body', 'communication'),
      hs_timestamp: { ...text('hs_timestamp', 'communication'), type: 'datetime', fieldType: 'date' },
      hubspot_owner_id: text('hubspot_owner_id', 'communication'),
    },
    deals: {
      dealname: text('dealname', 'dealinformation'),
      pipeline: select('pipeline', ['default'], 'dealinformation'),
      dealstage: select('dealstage', DEFAULT_PIPELINE_STAGES, 'dealinformation'),
      amount: { ...text('amount', 'dealinformation'), type: 'number', fieldType: 'number' },
      closedate: { ...text('closedate', 'dealinformation'), type: 'datetime', fieldType: 'date' },
      description: { ...text('description', 'dealinformation'), fieldType: 'textarea' },
      hubspot_owner_id: text('hubspot_owner_id', 'dealinformation'),
    },
    tasks: {
      hs_timestamp: datetime('hs_timestamp', 'task'),
      hs_task_subject: text('hs_task_subject', 'task'),
      hs_task_body: { ...text('hs_task_body', 'task'), fieldType: 'textarea' },
      hs_task_status: select('hs_task_status', ['NOT_STARTED', 'COMPLETED'], 'task'),
      hs_task_priority: select('hs_task_priority', ['LOW', 'MEDIUM', 'HIGH'], 'task'),
      hs_task_type: select('hs_task_type', ['EMAIL', 'CALL', 'TODO'], 'task'),
      hs_task_reminders: datetime('hs_task_reminders', 'task'),
      hubspot_owner_id: text('hubspot_owner_id', 'task'),
    },
    orders: {
      [ORDER.name]: text(ORDER.name, 'orderinformation'),
      [ORDER.totalPrice]: number(ORDER.totalPrice, 'orderinformation'),
      [ORDER.currency]: text(ORDER.currency, 'orderinformation'),
      [ORDER.fulfillmentStatus]: text(ORDER.fulfillmentStatus, 'orderinformation'),
      [ORDER.trackingNumber]: text(ORDER.trackingNumber, 'orderinformation'),
      [ORDER.trackingUrl]: text(ORDER.trackingUrl, 'orderinformation'),
      [ORDER.externalCreatedAt]: datetime(ORDER.externalCreatedAt, 'orderinformation'),
      hs_external_order_id: text('hs_external_order_id', 'orderinformation'),
      hs_source_store: text('hs_source_store', 'orderinformation'),
      // Not a HubSpot property: the custom one a shop connector may fill (HubSpot has no carrier property).
      [DEFAULT_ORDER_CARRIER_PROPERTY]: text(DEFAULT_ORDER_CARRIER_PROPERTY, 'orderinformation'),
    },
    line_items: {
      name: text('name', 'lineiteminformation'),
      [LINE_ITEM.sku]: text(LINE_ITEM.sku, 'lineiteminformation'),
      quantity: number('quantity', 'lineiteminformation'),
      price: number('price', 'lineiteminformation'),
    },
  };
}

export interface StoreOptions {
  readonly dataFile?: string;
  readonly searchLagMs: number;
  /** Whether `hasUniqueValue` is honoured on communications (HubSpot documents it for contacts). */
  readonly uniqueValuesOnCommunications: boolean;
  /** Whether `hasUniqueValue` is honoured on deals (HubSpot documents it; false emulates an account where it is not). */
  readonly uniqueValuesOnDeals: boolean;
  /** Whether `hasUniqueValue` is honoured on tasks (not documented for activities; false emulates an account where it is not). */
  readonly uniqueValuesOnTasks: boolean;
  /** `type.property` names whose history is kept (and served as `propertiesWithHistory`). */
  readonly historyOf?: ReadonlySet<string> | undefined;
  /** Told of every property a write changed, after the write. */
  readonly onChange?: ((changes: readonly PropertyChange[]) => void) | undefined;
}

/** The origin of writes through the API when the caller names none. */
export const API_ORIGIN: ChangeOrigin = { changeSource: 'INTEGRATION', sourceId: 'unknown-app' };
const HISTORY_KEPT = 20;

export class LocalHubSpotStore {
  private data: StoreData = emptyData();
  /** What search sees: versions of each record with the time they were written. */
  private readonly searchVersions = new Map<string, { at: number; properties: Record<string, string>; updatedAt: string }[]>();
  /** Unique property values → record id, per `type.property`; built on first use, kept on every write. */
  private readonly uniqueIndex = new Map<string, Map<string, string>>();
  /** Associations by `fromType:fromId:toType`; built on first use, kept on every association. */
  private associationIndex: Map<string, LocalAssociation[]> | undefined;
  /** The write loop under way, if any; `pending` holds the changes it has still to append. */
  private writer: Promise<void> | undefined;
  private pending: JournalEntry[] = [];
  private journalled = 0;

  constructor(private readonly options: StoreOptions) {}

  async load(): Promise<void> {
    if (!this.options.dataFile) return;
    try {
      const text = await readFile(this.options.dataFile, 'utf8');
      const loaded = JSON.parse(text) as Partial<StoreData>;
      const empty = emptyData();
      // Per object type, so a file written before an object type existed still loads.
      this.data = {
        nextId: loaded.nextId ?? empty.nextId,
        associations: loaded.associations ?? empty.associations,
        records: { ...empty.records, ...loaded.records },
        properties: Object.fromEntries(
          OBJECT_TYPES.map((t) => [t, { ...empty.properties[t], ...loaded.properties?.[t] }]),
        ) as StoreData['properties'],
        groups: { ...empty.groups, ...loaded.groups },
        ...(loaded.mergedInto && { mergedInto: loaded.mergedInto }),
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    // What was journalled after the data file was last written, then both made one again.
    await this.replay(this.options.dataFile);
    await mkdir(dirname(this.options.dataFile), { recursive: true });
    await this.compact();
  }

  /** Resolves when every write so far is on disk. */
  flushed(): Promise<void> {
    return this.writer ?? Promise.resolve();
  }

  // ---- records -------------------------------------------------------------------------

  create(type: ObjectType, properties: Record<string, unknown>, associations: unknown, origin: ChangeOrigin = API_ORIGIN): LocalRecord {
    const values = this.validProperties(type, properties);
    // HubSpot puts a deal without a pipeline into the default pipeline.
    if (type === 'deals' && !values.pipeline) values.pipeline = 'default';
    const links = this.validAssociations(type, associations);
    this.assertUnique(type, values, undefined);
    const at = origin.at ?? Date.now();
    const now = new Date(at).toISOString();
    const record: LocalRecord = {
      id: String(this.data.nextId++),
      properties: values,
      createdAt: now,
      updatedAt: now,
    };
    this.data.records[type][record.id] = record;
    this.index(type, record, 'add');
    const changed = this.remember(type, record, Object.entries(values), origin, at);
    // The record before its associations, so that a replay finds both ends.
    this.wrote(type, record);
    for (const link of links) this.associate(type, record.id, link.toType, link.toId, link.typeId);
    this.tell(changed);
    return record;
  }

  /** Throws what a create of each would throw, or for two inputs holding the same unique value: nothing is written. */
  checkCreates(type: ObjectType, inputs: readonly Record<string, unknown>[]): void {
    const seen = new Set<string>();
    for (const properties of inputs) {
      const values = this.validProperties(type, properties);
      this.assertUnique(type, values, undefined);
      for (const [name, value] of Object.entries(values)) {
        if (!this.data.properties[type][name]?.hasUniqueValue || value === '') continue;
        const key = `${name}=${value}`;
        if (seen.has(key)) throw new HubSpotFailure(409, errorBody('CONFLICT', `Duplicate value for unique property ${name} within the batch`));
        seen.add(key);
      }
    }
  }

  update(type: ObjectType, key: string, idProperty: string | undefined, properties: Record<string, unknown>, origin: ChangeOrigin = API_ORIGIN): LocalRecord {
    const record = this.find(type, key, idProperty);
    if (!record) throw notFound();
    const values = this.validProperties(type, properties);
    this.assertUnique(type, values, record.id);
    const at = origin.at ?? Date.now();
    const changedValues = Object.entries(values).filter(([name, value]) => (record.properties[name] ?? '') !== value);
    this.index(type, record, 'remove');
    for (const [name, value] of Object.entries(values)) {
      if (value === '') delete record.properties[name];
      else record.properties[name] = value;
    }
    this.index(type, record, 'add');
    record.updatedAt = new Date(at).toISOString();
    const changed = this.remember(type, record, changedValues, origin, at);
    this.wrote(type, record);
    this.tell(changed);
    return record;
  }

  /**
   * HubSpot's merge: `mergeId` into `primaryId`. The primary keeps its id and its values, taking
   * the other's where it has none (the unique WhatsApp identities too, once the other is gone);
   * the other's associations move to it and the other is removed. Merged ids are kept, so a read
   * of a merged-away id answers the primary, as HubSpot does.
   */
  merge(type: ObjectType, primaryId: string, mergeId: string, origin: ChangeOrigin = API_ORIGIN): LocalRecord {
    if (primaryId === mergeId) throw new HubSpotFailure(400, errorBody('VALIDATION_ERROR', 'An object cannot be merged with itself'));
    const primary = this.data.records[type][primaryId];
    const merged = this.data.records[type][mergeId];
    if (!primary || !merged) throw new HubSpotFailure(404, errorBody('OBJECT_NOT_FOUND', `Could not find ${SINGULAR[type]} ${!primary ? primaryId : mergeId} to merge`));
    this.index(type, merged, 'remove');
    delete this.data.records[type][mergeId];
    this.data.mergedInto = { ...this.data.mergedInto, [`${type}:${mergeId}`]: primaryId };
    this.persist({ k: 'merge', type, from: mergeId, into: primaryId });
    for (const a of this.data.associations.filter((x) => x.fromType === type && x.fromId === mergeId)) {
      if (!this.associatedIds(type, primaryId, a.toType).some((b) => b.toId === a.toId)) this.associate(type, primaryId, a.toType, a.toId, a.typeId);
    }
    this.unlink(type, mergeId);
    const taken = Object.fromEntries(Object.entries(merged.properties).filter(([name]) => primary.properties[name] === undefined || primary.properties[name] === ''));
    return Object.keys(taken).length > 0 ? this.update(type, primaryId, undefined, taken, origin) : primary;
  }

  /** The id a merged-away record lives on as (itself when not merged). */
  survivorOf(type: ObjectType, id: string): string {
    let current = id;
    for (let i = 0; i < 100; i++) {
      const next = this.data.mergedInto?.[`${type}:${current}`];
      if (next === undefined) return current;
      current = next;
    }
    return current;
  }

  /** Records the history of the changed values it keeps; the changes, for {@link tell}. */
  private remember(type: ObjectType, record: LocalRecord, changed: readonly [string, string][], origin: ChangeOrigin, at: number): PropertyChange[] {
    const timestamp = new Date(at).toISOString();
    for (const [name, value] of changed) {
      if (!this.options.historyOf?.has(`${type}.${name}`)) continue;
      const history = (record.history ??= {});
      const entry: LocalHistoryEntry = { value, timestamp, sourceType: origin.changeSource, sourceId: origin.sourceId, ...(origin.userId !== undefined && { updatedByUserId: origin.userId }) };
      history[name] = [...(history[name] ?? []), entry].slice(-HISTORY_KEPT);
    }
    return changed.map(([property, value]) => ({ type, id: record.id, property, value, at, origin }));
  }

  private tell(changes: readonly PropertyChange[]): void {
    if (changes.length > 0) this.options.onChange?.(changes);
  }

  /** Drops every association from or to a record (it is gone). */
  private unlink(type: ObjectType, id: string): void {
    const gone = (a: LocalAssociation) => (a.fromType === type && a.fromId === id) || (a.toType === type && a.toId === id);
    if (!this.data.associations.some(gone)) return;
    this.data.associations = this.data.associations.filter((a) => !gone(a));
    this.associationIndex = undefined;
  }

  find(type: ObjectType, key: string, idProperty: string | undefined): LocalRecord | undefined {
    if (!idProperty || idProperty === 'hs_object_id') return this.data.records[type][this.survivorOf(type, key)];
    const property = this.data.properties[type][idProperty];
    if (!property?.hasUniqueValue) {
      throw new HubSpotFailure(
        400,
        errorBody('VALIDATION_ERROR', `Property "${idProperty}" is not a unique identifier property of ${type}`),
      );
    }
    return this.holderOf(type, idProperty, key);
  }

  /** Records search can see: the newest version written at least `searchLagMs` ago. */
  search(type: ObjectType, filterGroups: readonly { filters: readonly SearchFilter[] }[]): LocalRecord[] {
    const visibleBefore = Date.now() - this.options.searchLagMs;
    const hits: LocalRecord[] = [];
    for (const record of Object.values(this.data.records[type])) {
      const versions = this.searchVersions.get(`${type}:${record.id}`);
      const version = versions ? versions.filter((v) => v.at <= visibleBefore).at(-1) : { properties: record.properties, updatedAt: record.updatedAt };
      if (!version) continue;
      const indexed = version.properties;
      // Search filters on the system properties too (lastmodifieddate for the catch-up).
      const searchable = { ...this.systemProperties(type, { ...record, updatedAt: version.updatedAt }), ...indexed };
      if (filterGroups.some((group) => group.filters.every((f) => matches(searchable, f)))) {
        hits.push({ ...record, properties: indexed, updatedAt: version.updatedAt });
      }
    }
    return hits.sort((a, b) => Number(a.id) - Number(b.id));
  }

  /** hs_object_id and the create / modify dates, by the names the object type uses. */
  systemProperties(type: ObjectType, record: Pick<LocalRecord, 'id' | 'createdAt' | 'updatedAt'>): Record<string, string> {
    const plain = PLAIN_SYSTEM_DATES.has(type);
    return {
      hs_object_id: record.id,
      [plain ? 'createdate' : 'hs_createdate']: record.createdAt,
      [plain ? 'lastmodifieddate' : 'hs_lastmodifieddate']: record.updatedAt,
    };
  }

  associatedIds(fromType: ObjectType, fromId: string, toType: ObjectType): LocalAssociation[] {
    return [...(this.associations().get(`${fromType}:${fromId}:${toType}`) ?? [])];
  }

  private associations(): Map<string, LocalAssociation[]> {
    if (!this.associationIndex) {
      this.associationIndex = new Map();
      for (const a of this.data.associations) this.indexAssociation(a);
    }
    return this.associationIndex;
  }

  private indexAssociation(a: LocalAssociation): void {
    const key = `${a.fromType}:${a.fromId}:${a.toType}`;
    const list = this.associationIndex!.get(key);
    if (list) list.push(a);
    else this.associationIndex!.set(key, [a]);
  }

  /** The record holding `value` in the unique property `name`, through the index. */
  private holderOf(type: ObjectType, name: string, value: string): LocalRecord | undefined {
    const id = this.uniqueValues(type, name).get(value);
    return id === undefined ? undefined : this.data.records[type][id];
  }

  private uniqueValues(type: ObjectType, name: string): Map<string, string> {
    const key = `${type}.${name}`;
    let values = this.uniqueIndex.get(key);
    if (!values) {
      values = new Map();
      for (const record of Object.values(this.data.records[type])) {
        const value = record.properties[name];
        if (value) values.set(value, record.id);
      }
      this.uniqueIndex.set(key, values);
    }
    return values;
  }

  /** Adds or removes a record's unique values in the indexes already built. */
  private index(type: ObjectType, record: LocalRecord, change: 'add' | 'remove'): void {
    for (const [name, value] of Object.entries(record.properties)) {
      const values = this.uniqueIndex.get(`${type}.${name}`);
      if (!values || !value) continue;
      if (change === 'add') values.set(value, record.id);
      else if (values.get(value) === record.id) values.delete(value);
    }
  }

  /** A record as HubSpot returns it: requested (or default) properties plus system ones. */
  present(type: ObjectType, record: LocalRecord, requested?: readonly string[], withHistory?: readonly string[]) {
    const names = requested && requested.length > 0 ? requested : [...DEFAULT_READ[type], ...Object.keys(record.properties)];
    const properties: Record<string, string | null> = this.systemProperties(type, record);
    for (const name of names) properties[name] = record.properties[name] ?? properties[name] ?? null;
    const base = { id: record.id, properties, createdAt: record.createdAt, updatedAt: record.updatedAt, archived: false };
    if (!withHistory || withHistory.length === 0) return base;
    // HubSpot lists a property's history newest first; a value without kept history is one entry.
    const history = (name: string) => {
      const kept = record.history?.[name];
      if (kept && kept.length > 0) return [...kept].reverse();
      const value = record.properties[name];
      return value === undefined ? [] : [{ value, timestamp: record.updatedAt, sourceType: 'UNKNOWN' }];
    };
    return { ...base, propertiesWithHistory: Object.fromEntries(withHistory.map((name) => [name, history(name)])) };
  }

  /**
   * An order with its line items (one per SKU), associated to the contact, as a shop connector
   * would create it — through the same validation as the API.
   */
  addOrder(input: LocalOrderInput): LocalRecord {
    const contact = input.contactCrmId
      ? this.data.records.contacts[input.contactCrmId]
      : Object.values(this.data.records.contacts).find((c) =>
          [c.properties['whatsapp_phone'], c.properties['phone'], c.properties['mobilephone']].includes(input.whatsappPhone ?? '\u0000'),
        );
    if (!contact) {
      throw new HubSpotFailure(
        404,
        errorBody('OBJECT_NOT_FOUND', `No contact ${input.contactCrmId ? `#${input.contactCrmId}` : 'with that WhatsApp phone'} for the order`),
      );
    }
    const link = (id: string, typeId: number) => ({ to: { id }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: typeId }] });
    const lineItems = (input.skus ?? []).map((sku) => this.create('line_items', { name: sku, [LINE_ITEM.sku]: sku, quantity: 1 }, []));
    const properties: Record<string, unknown> = {
      [ORDER.name]: input.name,
      [ORDER.externalCreatedAt]: new Date(input.placedAt ?? Date.now()).toISOString(),
      [ORDER.totalPrice]: input.amount,
      [ORDER.currency]: input.currency,
      [ORDER.fulfillmentStatus]: input.status,
      [ORDER.trackingNumber]: input.trackingNumber,
      [ORDER.trackingUrl]: input.trackingUrl,
      [DEFAULT_ORDER_CARRIER_PROPERTY]: input.carrier,
    };
    const given = Object.fromEntries(Object.entries(properties).filter(([, value]) => value !== undefined && value !== ''));
    return this.create('orders', given, [link(contact.id, 507), ...lineItems.map((item) => link(item.id, 513))]);
  }

  // ---- properties ----------------------------------------------------------------------

  createProperty(type: ObjectType, input: Record<string, unknown>): LocalProperty {
    const name = typeof input.name === 'string' ? input.name : '';
    if (!/^[a-z][a-z0-9_]*$/.test(name) || typeof input.label !== 'string' || typeof input.type !== 'string') {
      throw new HubSpotFailure(400, errorBody('VALIDATION_ERROR', 'A property needs name, label, type, fieldType and groupName'));
    }
    if (this.data.properties[type][name]) {
      throw new HubSpotFailure(409, errorBody('OBJECT_ALREADY_EXISTS', `Property named '${name}' already exists.`));
    }
    const wantsUnique = input.hasUniqueValue === true;
    const property: LocalProperty = {
      name,
      label: input.label,
      type: input.type,
      fieldType: typeof input.fieldType === 'string' ? input.fieldType : 'text',
      groupName: typeof input.groupName === 'string' ? input.groupName : 'default',
      hasUniqueValue:
        wantsUnique &&
        (type !== 'communications' || this.options.uniqueValuesOnCommunications) &&
        (type !== 'deals' || this.options.uniqueValuesOnDeals) &&
        (type !== 'tasks' || this.options.uniqueValuesOnTasks),
      ...(typeof input.description === 'string' ? { description: input.description } : {}),
      ...(Array.isArray(input.options) ? { options: input.options as LocalProperty['options'] } : {}),
    };
    this.data.properties[type][name] = property;
    this.persist({ k: 'property', type, property });
    return property;
  }

  property(type: ObjectType, name: string): LocalProperty | undefined {
    return this.data.properties[type][name];
  }

  properties(type: ObjectType): LocalProperty[] {
    return Object.values(this.data.properties[type]);
  }

  createGroup(type: ObjectType, name: string): boolean {
    if (this.data.groups[type].includes(name)) return false;
    this.data.groups[type].push(name);
    this.persist({ k: 'group', type, name });
    return true;
  }

  // ---- inspection ----------------------------------------------------------------------

  snapshot() {
    const linked = (fromType: ObjectType, id: string, toType: ObjectType) =>
      this.associatedIds(fromType, id, toType).map((a) => a.toId);
    return {
      contacts: Object.values(this.data.records.contacts).map((r) => ({
        ...structuredClone(r),
        communicationIds: linked('contacts', r.id, 'communications'),
        dealIds: linked('contacts', r.id, 'deals'),
        orderIds: linked('contacts', r.id, 'orders'),
        taskIds: linked('contacts', r.id, 'tasks'),
      })),
      communications: Object.values(this.data.records.communications).map((r) => ({
        ...structuredClone(r),
        contactIds: linked('communications', r.id, 'contacts'),
      })),
      deals: Object.values(this.data.records.deals).map((r) => ({
        ...structuredClone(r),
        contactIds: linked('deals', r.id, 'contacts'),
      })),
      tasks: Object.values(this.data.records.tasks).map((r) => ({
        ...structuredClone(r),
        contactIds: linked('tasks', r.id, 'contacts'),
      })),
      orders: Object.values(this.data.records.orders).map((r) => ({
        ...structuredClone(r),
        contactIds: linked('orders', r.id, 'contacts'),
        lineItemIds: linked('orders', r.id, 'line_items'),
        skus: linked('orders', r.id, 'line_items')
          .map((id) => this.data.records.line_items[id]?.properties[LINE_ITEM.sku])
          .filter((sku): sku is string => !!sku),
      })),
      lineItems: Object.values(this.data.records.line_items).map((r) => structuredClone(r)),
      properties: structuredClone(this.data.properties),
    };
  }

  // ---- rules ---------------------------------------------------------------------------

  private validProperties(type: ObjectType, input: Record<string, unknown>): Record<string, string> {
    const problems: { isValid: false; message: string; error: string; name: string }[] = [];
    const values: Record<string, string> = {};
    for (const [name, raw] of Object.entries(input)) {
      const property = this.data.properties[type][name];
      if (!property) {
        problems.push({ isValid: false, message: `Property "${name}" does not exist`, error: 'PROPERTY_DOESNT_EXIST', name });
        continue;
      }
      const value = raw === null || raw === undefined ? '' : String(raw);
      const problem = value === '' ? undefined : invalidValue(property, value);
      if (problem) {
        problems.push({ isValid: false, ...problem, name });
        continue;
      }
      // HubSpot answers datetimes in ISO 8601 whichever of its two input formats was used.
      values[name] = property.type === 'datetime' && /^\d+$/.test(value) ? new Date(Number(value)).toISOString() : value;
    }
    if (problems.length > 0) {
      throw new HubSpotFailure(
        400,
        errorBody('VALIDATION_ERROR', `Property values were not valid: ${JSON.stringify(problems)}`),
      );
    }
    return values;
  }

  private validAssociations(type: ObjectType, input: unknown) {
    const links: { toType: ObjectType; toId: string; typeId: number }[] = [];
    for (const item of Array.isArray(input) ? (input as unknown[]) : []) {
      const entry = item as { to?: { id?: unknown }; types?: { associationCategory?: unknown; associationTypeId?: unknown }[] };
      const toId = String(entry.to?.id ?? '');
      for (const t of entry.types ?? []) {
        const known = ASSOCIATION_TYPES.find(([from, , id]) => from === type && id === Number(t.associationTypeId));
        if (!known || t.associationCategory !== 'HUBSPOT_DEFINED') {
          throw new HubSpotFailure(
            400,
            errorBody('VALIDATION_ERROR', `Invalid association type ${String(t.associationTypeId)} for ${type}`),
          );
        }
        if (!this.data.records[known[1]][toId]) {
          throw new HubSpotFailure(
            400,
            errorBody('VALIDATION_ERROR', `Association target ${known[1]} ${toId} does not exist`),
          );
        }
        links.push({ toType: known[1], toId, typeId: known[2] });
      }
    }
    return links;
  }

  private assertUnique(type: ObjectType, values: Record<string, string>, selfId: string | undefined): void {
    for (const [name, value] of Object.entries(values)) {
      if (value === '' || !this.data.properties[type][name]?.hasUniqueValue) continue;
      const holder = this.holderOf(type, name, value);
      if (holder && holder.id !== selfId) {
        throw new HubSpotFailure(
          409,
          errorBody('CONFLICT', `${SINGULAR[type]} already exists. Existing ID: ${holder.id}`, {
            errors: [{ message: `${value} already has that value on ${name}. Existing ID: ${holder.id}`, in: name }],
          }),
        );
      }
    }
  }

  private associate(fromType: ObjectType, fromId: string, toType: ObjectType, toId: string, typeId: number): void {
    const inverse = ASSOCIATION_TYPES.find(([from, to]) => from === toType && to === fromType);
    const added: LocalAssociation[] = [{ fromType, fromId, toType, toId, typeId }];
    if (inverse) added.push({ fromType: toType, fromId: toId, toType: fromType, toId: fromId, typeId: inverse[2] });
    for (const a of added) {
      this.data.associations.push(a);
      if (this.associationIndex) this.indexAssociation(a);
      this.persist({ k: 'association', a });
    }
  }

  private wrote(type: ObjectType, record: LocalRecord): void {
    const key = `${type}:${record.id}`;
    const versions = this.searchVersions.get(key) ?? [];
    versions.push({ at: Date.now(), properties: { ...record.properties }, updatedAt: record.updatedAt });
    this.searchVersions.set(key, versions.slice(-10));
    this.persist({ k: 'record', type, record: structuredClone(record) });
  }

  /**
   * Keeps a change on disk: appended to the journal (`<data file>.log`, one JSON line a change),
   * so a write costs what it changed, not the whole data set. Changes made while an append is under
   * way go out together in the next one. The data file itself is written anew at start and every
   * {@link COMPACT_AFTER} changes (tmp + rename), and the journal emptied.
   */
  private persist(entry: JournalEntry): void {
    const file = this.options.dataFile;
    if (!file) return;
    this.pending.push(entry);
    this.writer ??= (async () => {
      try {
        // The folder exists: load() made it.
        while (this.pending.length) {
          const entries = this.pending;
          this.pending = [];
          await appendFile(journalOf(file), `${entries.map((e) => JSON.stringify(e)).join('\n')}\n`, 'utf8');
          this.journalled += entries.length;
          if (this.journalled >= COMPACT_AFTER) await this.compact();
        }
      } finally {
        this.writer = undefined;
      }
    })();
  }

  /** The data file written anew from memory, the journal emptied (a replay of both is idempotent). */
  private async compact(): Promise<void> {
    const file = this.options.dataFile;
    if (!file) return;
    // Everything changed so far is in this snapshot; what changes meanwhile is journalled after it.
    const snapshot = JSON.stringify(this.data);
    const tmp = `${file}.${process.pid}.${randomUUID()}.tmp`;
    await writeFile(tmp, snapshot, 'utf8');
    await rename(tmp, file);
    const journal = [...this.pending];
    this.pending = [];
    await writeFile(journalOf(file), journal.length ? `${journal.map((e) => JSON.stringify(e)).join('\n')}\n` : '', 'utf8');
    this.journalled = journal.length;
  }

  /** Replays the journal written after the data file (a last line cut short by a crash is dropped). */
  private async replay(file: string): Promise<void> {
    let text: string;
    try {
      text = await readFile(journalOf(file), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    const seen = new Set(this.data.associations.map(associationKey));
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      let entry: JournalEntry;
      try {
        entry = JSON.parse(line) as JournalEntry;
      } catch {
        continue; // the change whose answer the crash cut off
      }
      switch (entry.k) {
        case 'record':
          this.data.records[entry.type][entry.record.id] = entry.record;
          this.data.nextId = Math.max(this.data.nextId, Number(entry.record.id) + 1);
          break;
        case 'association':
          if (!seen.has(associationKey(entry.a))) {
            seen.add(associationKey(entry.a));
            this.data.associations.push(entry.a);
          }
          break;
        case 'property':
          this.data.properties[entry.type][entry.property.name] = entry.property;
          break;
        case 'group':
          if (!this.data.groups[entry.type].includes(entry.name)) this.data.groups[entry.type].push(entry.name);
          break;
        case 'merge': {
          // The record merged away, and every association from or to it (moved ones were journalled after).
          delete this.data.records[entry.type][entry.from];
          this.data.mergedInto = { ...this.data.mergedInto, [`${entry.type}:${entry.from}`]: entry.into };
          const gone = (a: LocalAssociation) => (a.fromType === entry.type && a.fromId === entry.from) || (a.toType === entry.type && a.toId === entry.from);
          this.data.associations = this.data.associations.filter((a) => !gone(a));
          for (const key of [...seen]) if (key.includes(`${entry.type}:${entry.from}:`)) seen.delete(key);
          break;
        }
      }
    }
  }
}

const journalOf = (file: string) => `${file}.log`;
const associationKey = (a: LocalAssociation) => `${a.fromType}:${a.fromId}:${a.toType}:${a.toId}:${a.typeId}`;

export interface SearchFilter {
  readonly propertyName: string;
  readonly operator: string;
  readonly value?: string;
}

function matches(properties: Record<string, string>, filter: SearchFilter): boolean {
  const actual = properties[filter.propertyName];
  switch (filter.operator) {
    case 'EQ':
      return actual !== undefined && actual.toLowerCase() === String(filter.value ?? '').toLowerCase();
    case 'NEQ':
      return actual?.toLowerCase() !== String(filter.value ?? '').toLowerCase();
    case 'HAS_PROPERTY':
      return actual !== undefined && actual !== '';
    case 'NOT_HAS_PROPERTY':
      return actual === undefined || actual === '';
    case 'GT':
    case 'GTE':
    case 'LT':
    case 'LTE': {
      if (actual === undefined || actual === '') return false;
      const order = compareValues(actual, String(filter.value ?? ''));
      return filter.operator === 'GT' ? order > 0 : filter.operator === 'GTE' ? order >= 0 : filter.operator === 'LT' ? order < 0 : order <= 0;
    }
    default:
      throw new HubSpotFailure(400, errorBody('VALIDATION_ERROR', `Unsupported filter operator ${filter.operator}`));
  }
}

/**
 * Orders two property values as HubSpot's search does: numbers by value, datetimes by time (a
 * filter value in ms against a stored ISO 8601 date, or the other way round), the rest as text.
 */
export function compareValues(a: string, b: string): number {
  const asNumber = (v: string) => (/^-?\d+(?:\.\d+)?$/.test(v) ? Number(v) : ISO_DATETIME.test(v) ? Date.parse(v) : NaN);
  const x = asNumber(a);
  const y = asNumber(b);
  if (Number.isFinite(x) && Number.isFinite(y)) return x === y ? 0 : x < y ? -1 : 1;
  return a.localeCompare(b);
}

/** Why HubSpot would refuse this value for the property (by its type and options), if it would. */
function invalidValue(property: LocalProperty, value: string): { message: string; error: string } | undefined {
  if (property.options && !property.options.some((o) => o.value === value)) {
    return {
      message: `${value} was not one of the allowed options: ${property.options.map((o) => o.value).join(', ')}`,
      error: 'INVALID_OPTION',
    };
  }
  switch (property.type) {
    case 'number':
      return /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(value)
        ? undefined
        : { message: `${value} is not a valid number`, error: 'INVALID_FLOAT' };
    case 'bool':
      return value === 'true' || value === 'false'
        ? undefined
        : { message: `${value} is not a valid boolean`, error: 'INVALID_BOOLEAN' };
    case 'datetime':
    case 'date':
      return /^\d+$/.test(value) || (ISO_DATETIME.test(value) && !Number.isNaN(Date.parse(value)))
        ? undefined
        : { message: `${value} is not a valid ISO 8601 or millisecond timestamp`, error: 'INVALID_DATE' };
    default:
      return undefined;
  }
}

function notFound(): HubSpotFailure {
  return new HubSpotFailure(404, errorBody('OBJECT_NOT_FOUND', 'resource not found'));
}

function emptyData(): StoreData {
  return {
    nextId: 1001,
    records: { contacts: {}, communications: {}, deals: {}, tasks: {}, orders: {}, line_items: {} },
    associations: [],
    properties: standardProperties(),
    groups: {
      contacts: ['contactinformation'],
      communications: ['communication'],
      deals: ['dealinformation'],
      tasks: ['task'],
      orders: ['orderinformation'],
      line_items: ['lineiteminformation'],
    },
  };
}
