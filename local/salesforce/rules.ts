/**
 * How the local org checks a write, field by field, with Salesforce's error codes: unknown
 * fields (INVALID_FIELD), read-only ones (INVALID_FIELD_FOR_INSERT_UPDATE), values of the wrong
 * type (JSON_PARSER_ERROR), too long (STRING_TOO_LONG), not in a restricted picklist, lookups to
 * records that are not there (MALFORMED_ID, INVALID_CROSS_REFERENCE_KEY, ENTITY_IS_DELETED),
 * missing required fields (REQUIRED_FIELD_MISSING). Lookups may name their target by an External
 * ID: `"Case__r": { "WhatsApp_Conversation_Id__c": "…" }`.
 */
import { failure, isId, sfDateTime } from './failures.ts';
import { lookupOf, type FieldDef, type ObjectDef } from './schema.ts';

export type Values = Record<string, unknown>;

export interface Lookups {
  /** The state of the record `id` of `object`: there, deleted, or never there. */
  state(object: string | undefined, id: string): 'present' | 'deleted' | 'absent';
  /** Ids of the `object` records whose External ID `field` is `value`. */
  byExternalId(object: string, field: string, value: string): string[];
}

/** The written fields, normalised (numbers, DateTimes in Salesforce's format); null clears. */
export function validate(object: ObjectDef, input: Values, mode: 'create' | 'update', lookups: Lookups): Values {
  const values: Values = {};
  for (const [name, raw] of Object.entries(input)) {
    if (name === 'attributes') continue;
    const relationship = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? lookupOf(object, name) : undefined;
    if (relationship) {
      values[relationship] = resolveByExternalId(object, relationship, raw as Values, lookups);
      continue;
    }
    const field = object.fields[name];
    if (!field) throw failure(400, 'INVALID_FIELD', `No such column '${name}' on sobject of type ${object.name}`);
    if (field.readOnly || (field.createOnly && mode === 'update')) {
      throw failure(400, 'INVALID_FIELD_FOR_INSERT_UPDATE', `Unable to create/update fields: ${name}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`, [name]);
    }
    values[name] = raw === null || raw === undefined || raw === '' ? null : convert(name, field, raw, lookups);
  }
  if (mode === 'create') {
    for (const [name, field] of Object.entries(object.fields)) {
      if (values[name] === undefined && field.defaultValue !== undefined) values[name] = field.defaultValue;
    }
  }
  const missing = Object.entries(object.fields)
    .filter(([name, field]) => field.required && (mode === 'create' ? values[name] === undefined || values[name] === null : values[name] === null))
    .map(([name]) => name);
  if (missing.length) throw failure(400, 'REQUIRED_FIELD_MISSING', `Required fields are missing: [${missing.join(', ')}]`, missing);
  return values;
}

function convert(name: string, field: FieldDef, raw: unknown, lookups: Lookups): unknown {
  const unreadable = (type: string) => failure(400, 'JSON_PARSER_ERROR', `Cannot deserialize instance of ${type} from VALUE_STRING value ${String(raw)} or request may be missing a required field`);
  switch (field.type) {
    case 'double':
    case 'currency': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isFinite(n)) throw unreadable('double');
      return n;
    }
    case 'boolean':
      if (typeof raw !== 'boolean') throw unreadable('boolean');
      return raw;
    case 'date': {
      const match = typeof raw === 'string' ? /^(\d{4}-\d{2}-\d{2})(T.*)?$/.exec(raw) : null;
      if (!match || Number.isNaN(Date.parse(match[1]!))) throw unreadable('date');
      return match[1];
    }
    case 'datetime': {
      const ms = typeof raw === 'string' ? Date.parse(raw.replace(/([+-]\d{2})(\d{2})$/, '$1:$2')) : NaN;
      if (Number.isNaN(ms)) throw unreadable('datetime');
      return sfDateTime(ms);
    }
    case 'reference': {
      if (!isId(raw)) throw failure(400, 'MALFORMED_ID', `${name}: id value of incorrect type: ${String(raw)}`, [name]);
      const state = lookups.state(field.referenceTo, raw);
      if (state === 'deleted') throw failure(400, 'ENTITY_IS_DELETED', 'entity is deleted', [name]);
      if (state === 'absent') throw failure(400, 'INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', [name]);
      return raw;
    }
    default: {
      if (typeof raw === 'object') throw unreadable('String');
      const value = String(raw);
      if (field.length !== undefined && value.length > field.length) {
        throw failure(400, 'STRING_TOO_LONG', `${name}: data value too large: ${value} (max length=${field.length})`, [name]);
      }
      if (field.values && !field.values.includes(value)) {
        throw failure(400, 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', `${name}: bad value for restricted picklist field: ${value}`, [name]);
      }
      return value;
    }
  }
}

function resolveByExternalId(object: ObjectDef, lookup: string, reference: Values, lookups: Lookups): string {
  const target = object.fields[lookup]?.referenceTo;
  const [entry, ...more] = Object.entries(reference).filter(([key]) => key !== 'attributes');
  if (!target || !entry || more.length || typeof entry[1] !== 'string') {
    throw failure(400, 'INVALID_FIELD', `A foreign key reference on ${lookup} names one External ID field and its value`, [lookup]);
  }
  const ids = lookups.byExternalId(target, entry[0], entry[1]);
  if (ids.length === 0) throw failure(400, 'INVALID_FIELD', `Foreign key external ID: ${entry[1]} not found for field ${entry[0]} in entity ${target}`, [lookup]);
  if (ids.length > 1) throw failure(400, 'INVALID_FIELD', `Foreign key external ID: ${entry[1]} matches more than one ${target}`, [lookup]);
  return ids[0]!;
}
