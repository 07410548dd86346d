/**
 * The modules of the local Zoho CRM and their fields, with the rules Zoho applies on a write that
 * the adapter depends on: mandatory fields (MANDATORY_NOT_FOUND), field types and lengths
 * (INVALID_DATA naming the field), lookups that must point at an existing record, and the unique
 * ("do not allow duplicate values") fields. A field the layout does not have is refused too, so a
 * misspelt API name shows up here instead of in a customer's account.
 */
import { fieldMapping } from '#shared/crm/mappings';
import { CONTACT, CONTACTS_MODULE, DEAL, MESSAGE, ORDER, REPORT, TASK, UNIQUE_FIELDS } from '#shared/crm/zoho/fields';

export type FieldType =
  | { readonly kind: 'text'; readonly max: number }
  | { readonly kind: 'phone' }
  | { readonly kind: 'email' }
  | { readonly kind: 'datetime' }
  | { readonly kind: 'date' }
  | { readonly kind: 'integer' }
  | { readonly kind: 'decimal' }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'picklist'; readonly values?: readonly string[] }
  | { readonly kind: 'lookup'; readonly module: string }
  | { readonly kind: 'user' }
  | { readonly kind: 'subform' };

export interface ModuleDef {
  readonly apiName: string;
  /** Numeric module id, as Zoho names a module in duplicate_record. */
  readonly moduleId: string;
  readonly fields: Readonly<Record<string, FieldType>>;
  readonly mandatory: readonly string[];
  /** User-defined unique fields, checked on every insert and update. */
  readonly unique: readonly string[];
  /** System-defined duplicate check fields (used by upsert only when no fields are given or named). */
  readonly systemDuplicateCheck: readonly string[];
  /** Zoho's upsert supports the module (not Tasks). */
  readonly upsert: boolean;
  /** What a lookup to a record of this module shows as `name`. */
  readonly nameOf: (fields: Readonly<Record<string, unknown>>) => string;
}

const line: FieldType = { kind: 'text', max: 255 };
const area: FieldType = { kind: 'text', max: 32_000 };
const datetime: FieldType = { kind: 'datetime' };

/** Stages of Zoho's standard deal pipeline. */
export const DEAL_STAGES = ['Qualification', 'Needs Analysis', 'Value Proposition', 'Identify Decision Makers', 'Proposal/Price Quote', 'Negotiation/Review', 'Closed Won', 'Closed Lost', 'Closed Lost to Competition'];
export const TASK_STATUSES = ['Not Started', 'Deferred', 'In Progress', 'Completed', 'Waiting for input'];

/** The Contacts fields the shipped mapping names (config/crm/zoho.json), typed as it writes them. */
function mappedContactFields(): Record<string, FieldType> {
  const fields: Record<string, FieldType> = {};
  for (const rule of fieldMapping('zoho').rules) {
    fields[rule.field] =
      rule.type === 'number'
        ? { kind: 'decimal' }
        : rule.type === 'datetime'
          ? datetime
          : rule.type === 'boolean'
            ? { kind: 'boolean' }
            : rule.type === 'enum'
              ? { kind: 'picklist', values: [...(rule.values ?? [])] }
              : { kind: 'text', max: rule.maxLength ?? 255 };
  }
  return fields;
}

function fullName(fields: Readonly<Record<string, unknown>>): string {
  return [fields[CONTACT.firstName], fields[CONTACT.lastName]].filter((v) => typeof v === 'string' && v !== '').join(' ');
}

function named(field: string) {
  return (fields: Readonly<Record<string, unknown>>) => (typeof fields[field] === 'string' ? (fields[field] as string) : '');
}

export const MODULES: Readonly<Record<string, ModuleDef>> = {
  [CONTACTS_MODULE]: {
    apiName: CONTACTS_MODULE,
    moduleId: '5725767000000002179',
    fields: {
      ...mappedContactFields(),
      [CONTACT.firstName]: { kind: 'text', max: 40 },
      [CONTACT.lastName]: { kind: 'text', max: 80 },
      Email: { kind: 'email' },
      [CONTACT.salesPhone]: { kind: 'phone' },
      [CONTACT.mobile]: { kind: 'phone' },
      [CONTACT.leadSource]: { kind: 'picklist' },
      Mailing_Street: line,
      Mailing_City: line,
      Mailing_State: line,
      Mailing_Zip: line,
      Mailing_Country: line,
      Description: area,
      [CONTACT.bsuid]: line,
      [CONTACT.phone]: line,
      [CONTACT.username]: line,
      [CONTACT.profileName]: line,
      [CONTACT.scrmContactId]: line,
      [CONTACT.marketingOptOut]: { kind: 'boolean' },
    },
    mandatory: [CONTACT.lastName],
    unique: UNIQUE_FIELDS[CONTACTS_MODULE] ?? [],
    systemDuplicateCheck: ['Email'],
    upsert: true,
    nameOf: fullName,
  },
  [DEAL.module]: {
    apiName: DEAL.module,
    moduleId: '5725767000000002181',
    fields: {
      [DEAL.name]: { kind: 'text', max: 120 },
      [DEAL.stage]: { kind: 'picklist', values: DEAL_STAGES },
      [DEAL.closingDate]: { kind: 'date' },
      [DEAL.amount]: { kind: 'decimal' },
      [DEAL.contact]: { kind: 'lookup', module: CONTACTS_MODULE },
      [DEAL.pipeline]: line,
      [DEAL.leadSource]: { kind: 'picklist' },
      [DEAL.description]: area,
      [DEAL.opportunityId]: line,
      [DEAL.sku]: line,
    },
    mandatory: [DEAL.name, DEAL.stage],
    unique: UNIQUE_FIELDS[DEAL.module] ?? [],
    systemDuplicateCheck: [DEAL.name],
    upsert: true,
    nameOf: named(DEAL.name),
  },
  [TASK.module]: {
    apiName: TASK.module,
    moduleId: '5725767000000002193',
    fields: {
      [TASK.subject]: line,
      [TASK.dueDate]: { kind: 'date' },
      [TASK.status]: { kind: 'picklist', values: TASK_STATUSES },
      Priority: { kind: 'picklist' },
      [TASK.who]: { kind: 'lookup', module: CONTACTS_MODULE },
      [TASK.description]: area,
      [TASK.owner]: { kind: 'user' },
      [TASK.taskId]: line,
      [TASK.reply]: { kind: 'boolean' },
      [TASK.replyStatus]: line,
    },
    mandatory: [TASK.subject],
    unique: UNIQUE_FIELDS[TASK.module] ?? [],
    systemDuplicateCheck: [],
    upsert: false,
    nameOf: named(TASK.subject),
  },
  [ORDER.module]: {
    apiName: ORDER.module,
    moduleId: '5725767000000002195',
    fields: {
      [ORDER.subject]: line,
      [ORDER.status]: { kind: 'picklist' },
      [ORDER.grandTotal]: { kind: 'decimal' },
      [ORDER.currency]: line,
      [ORDER.carrier]: { kind: 'picklist' },
      [ORDER.contact]: { kind: 'lookup', module: CONTACTS_MODULE },
      [ORDER.items]: { kind: 'subform' },
      [ORDER.trackingNumber]: line,
      [ORDER.trackingUrl]: line,
      [ORDER.placedAt]: datetime,
    },
    mandatory: [ORDER.subject],
    unique: [],
    systemDuplicateCheck: [ORDER.subject],
    upsert: true,
    nameOf: named(ORDER.subject),
  },
  [MESSAGE.module]: {
    apiName: MESSAGE.module,
    moduleId: '5725767000000810001',
    fields: {
      [MESSAGE.name]: { kind: 'text', max: 120 },
      [MESSAGE.messageId]: line,
      [MESSAGE.contact]: { kind: 'lookup', module: CONTACTS_MODULE },
      [MESSAGE.direction]: { kind: 'picklist', values: ['Inbound', 'Outbound'] },
      [MESSAGE.body]: area,
      [MESSAGE.sentAt]: datetime,
      [MESSAGE.conversationId]: line,
    },
    mandatory: [MESSAGE.name],
    unique: UNIQUE_FIELDS[MESSAGE.module] ?? [],
    systemDuplicateCheck: [MESSAGE.name],
    upsert: true,
    nameOf: named(MESSAGE.name),
  },
  [REPORT.module]: {
    apiName: REPORT.module,
    moduleId: '5725767000000810003',
    fields: {
      [REPORT.name]: { kind: 'text', max: 120 },
      [REPORT.reportId]: line,
      [REPORT.periodStart]: datetime,
      [REPORT.periodEnd]: datetime,
      [REPORT.medianFirstResponse]: { kind: 'integer' },
      [REPORT.conversations]: { kind: 'integer' },
      [REPORT.unanswered]: { kind: 'integer' },
    },
    mandatory: [REPORT.name],
    unique: UNIQUE_FIELDS[REPORT.module] ?? [],
    systemDuplicateCheck: [REPORT.name],
    upsert: true,
    nameOf: named(REPORT.name),
  },
};

const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:[+-]\d{2}:\d{2})$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const PHONE = /^\+?[\d\s().-]{3,30}$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]{2,}$/;

/** Why a value does not fit the field (Zoho's `expected_data_type` and limits), or undefined when it does. */
export function invalidValue(type: FieldType, value: unknown): { expected_data_type: string; maximum_length?: number } | undefined {
  if (value === null) return undefined;
  switch (type.kind) {
    case 'text':
      if (typeof value !== 'string') return { expected_data_type: 'text' };
      return value.length > type.max ? { expected_data_type: 'text', maximum_length: type.max } : undefined;
    case 'phone':
      return typeof value === 'string' && PHONE.test(value) ? undefined : { expected_data_type: 'phone' };
    case 'email':
      return typeof value === 'string' && EMAIL.test(value) ? undefined : { expected_data_type: 'email' };
    case 'datetime':
      return typeof value === 'string' && DATETIME.test(value) && !Number.isNaN(Date.parse(value)) ? undefined : { expected_data_type: 'datetime' };
    case 'date':
      return typeof value === 'string' && DATE.test(value) && !Number.isNaN(Date.parse(value)) ? undefined : { expected_data_type: 'date' };
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value) ? undefined : { expected_data_type: 'integer' };
    case 'decimal':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : { expected_data_type: 'double' };
    case 'boolean':
      return typeof value === 'boolean' ? undefined : { expected_data_type: 'boolean' };
    case 'picklist':
      if (typeof value !== 'string') return { expected_data_type: 'picklist' };
      return type.values && !type.values.includes(value) ? { expected_data_type: 'picklist' } : undefined;
    case 'lookup':
    case 'user':
      return value && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string' ? undefined : { expected_data_type: type.kind === 'user' ? 'ownerlookup' : 'lookup' };
    case 'subform':
      return Array.isArray(value) ? undefined : { expected_data_type: 'subform' };
  }
}
