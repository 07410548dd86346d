/**
 * The objects and fields of the local Salesforce org: the standard fields the adapter touches,
 * the custom ones docs/salesforce.md tells an admin to create, and the mapped Contact fields of
 * config/crm/salesforce.json. Field types, lengths, required / unique / External ID, picklists,
 * lookups and defaults are what the store validates writes against, as Salesforce does.
 */
import { CASE, CONTACT, MESSAGE, OPPORTUNITY, ORDER, SERVICE_REPORT, TASK } from '#shared/crm/salesforce/fields';
import { TWO_WAY_FIELD } from '#shared/crm/salesforce/inbound';
import { fieldMapping } from '#shared/crm/mappings';

export type FieldType = 'string' | 'textarea' | 'phone' | 'url' | 'email' | 'picklist' | 'double' | 'currency' | 'boolean' | 'date' | 'datetime' | 'reference' | 'auto';

export interface FieldDef {
  readonly type: FieldType;
  readonly length?: number;
  readonly required?: boolean;
  readonly unique?: boolean;
  readonly externalId?: boolean;
  /** Restricted picklist values (unrestricted picklists take any text). */
  readonly values?: readonly string[];
  readonly defaultValue?: string | boolean;
  readonly referenceTo?: string;
  /** Set by Salesforce (CaseNumber, IsClosed, TotalAmount): never written through the API. */
  readonly readOnly?: boolean;
  /** Written on create only (Opportunity.ContactId). */
  readonly createOnly?: boolean;
}

export interface ObjectDef {
  readonly name: string;
  /** Key prefix of its record ids (003 Contact, 500 Case …). */
  readonly prefix: string;
  readonly fields: Readonly<Record<string, FieldDef>>;
  /** Child relationships a SOQL subquery can name: relationship → child object and its lookup. */
  readonly children?: Readonly<Record<string, { readonly object: string; readonly field: string }>>;
}

const text = (length = 255, extra: Partial<FieldDef> = {}): FieldDef => ({ type: 'string', length, ...extra });
const key = (): FieldDef => ({ type: 'string', length: 255, externalId: true, unique: true });
const ref = (referenceTo: string, extra: Partial<FieldDef> = {}): FieldDef => ({ type: 'reference', referenceTo, ...extra });
const datetime: FieldDef = { type: 'datetime' };
const double: FieldDef = { type: 'double' };

/** The mapped Contact fields (config/crm/salesforce.json) as custom fields of their type. */
function mappedContactFields(): Record<string, FieldDef> {
  const fields: Record<string, FieldDef> = {};
  for (const rule of fieldMapping('salesforce').rules) {
    if (rule.field.startsWith('Mailing')) continue; // standard address fields, below
    fields[rule.field] =
      rule.type === 'enum'
        ? { type: 'picklist', values: [...(rule.values ?? [])] }
        : rule.type === 'number'
          ? double
          : rule.type === 'datetime'
            ? datetime
            : rule.type === 'boolean'
              ? { type: 'boolean' }
              : text(rule.maxLength ?? 255);
  }
  return fields;
}

export function buildSchema(options: { readonly nonUniqueExternalIds?: readonly string[] } = {}): ReadonlyMap<string, ObjectDef> {
  const objects: ObjectDef[] = [
    { name: 'Account', prefix: '001', fields: { Name: text(255, { required: true }) } },
    {
      name: 'Contact',
      prefix: '003',
      fields: {
        FirstName: text(40),
        LastName: text(80, { required: true }),
        Email: { type: 'email', length: 80 },
        Phone: { type: 'phone', length: 40 },
        MobilePhone: { type: 'phone', length: 40 },
        LeadSource: { type: 'picklist' },
        AccountId: ref('Account'),
        Description: { type: 'textarea', length: 32_000 },
        MailingStreet: { type: 'textarea', length: 255 },
        MailingCity: text(40),
        MailingState: text(80),
        MailingPostalCode: text(20),
        MailingCountry: text(80),
        [CONTACT.bsuid]: key(),
        [CONTACT.phone]: { ...key(), length: 40 },
        [CONTACT.username]: text(),
        [CONTACT.profileName]: text(),
        [CONTACT.scrmContactId]: text(255, { externalId: true }),
        // Two-way sync (SY-3): sales notes that the customer wants no marketing.
        [TWO_WAY_FIELD.optOut]: { type: 'boolean', defaultValue: false },
        ...mappedContactFields(),
      },
    },
    {
      name: 'Case',
      prefix: '500',
      fields: {
        CaseNumber: { type: 'auto', readOnly: true },
        ContactId: ref('Contact'),
        Subject: text(255),
        Description: { type: 'textarea', length: 32_000 },
        Status: { type: 'picklist', values: ['New', 'Working', 'Escalated', 'Closed'], defaultValue: 'New' },
        IsClosed: { type: 'boolean', readOnly: true },
        ClosedDate: { type: 'datetime', readOnly: true },
        Origin: { type: 'picklist', values: ['Phone', 'Email', 'Web', 'WhatsApp'] },
        Type: { type: 'picklist' },
        Priority: { type: 'picklist', values: ['High', 'Medium', 'Low'], defaultValue: 'Medium' },
        [CASE.conversationId]: key(),
        [CASE.resolvedAt]: datetime,
      },
    },
    {
      name: 'Opportunity',
      prefix: '006',
      fields: {
        Name: text(120, { required: true }),
        StageName: { type: 'picklist', required: true, values: ['Prospecting', 'Qualification', 'Needs Analysis', 'Value Proposition', 'Id. Decision Makers', 'Perception Analysis', 'Proposal/Price Quote', 'Negotiation/Review', 'Closed Won', 'Closed Lost'] },
        CloseDate: { type: 'date', required: true },
        Amount: { type: 'currency' },
        LeadSource: { type: 'picklist' },
        AccountId: ref('Account'),
        ContactId: ref('Contact', { createOnly: true }),
        Description: { type: 'textarea', length: 32_000 },
        [OPPORTUNITY.opportunityId]: key(),
        [OPPORTUNITY.sku]: text(),
        [OPPORTUNITY.currency]: text(3),
      },
    },
    {
      name: 'Task',
      prefix: '00T',
      fields: {
        WhoId: ref('Contact'),
        WhatId: { type: 'reference' },
        OwnerId: { type: 'reference' },
        Subject: text(255),
        Description: { type: 'textarea', length: 32_000 },
        Status: { type: 'picklist', values: ['Not Started', 'In Progress', 'Completed', 'Waiting on someone else', 'Deferred'], defaultValue: 'Not Started' },
        Priority: { type: 'picklist', values: ['High', 'Normal', 'Low'], defaultValue: 'Normal' },
        ActivityDate: { type: 'date' },
        IsReminderSet: { type: 'boolean', defaultValue: false },
        ReminderDateTime: datetime,
        TaskSubtype: { type: 'picklist' },
        // This org lets activity fields be Unique; docs/salesforce.md explains the orgs that cannot.
        [TASK.taskId]: key(),
        // Two-way sync (SY-3): a reply an agent writes to the customer, and its status written back.
        [TWO_WAY_FIELD.reply]: { type: 'boolean', defaultValue: false },
        [TWO_WAY_FIELD.replyStatus]: text(255),
      },
    },
    {
      name: 'Product2',
      prefix: '01t',
      fields: { Name: text(255, { required: true }), ProductCode: text(255) },
    },
    {
      name: 'Order',
      prefix: '801',
      fields: {
        AccountId: ref('Account', { required: true }),
        EffectiveDate: { type: 'date', required: true },
        Status: { type: 'picklist', values: ['Draft', 'Activated'], defaultValue: 'Draft' },
        Name: text(80),
        OrderNumber: { type: 'auto', readOnly: true },
        TotalAmount: { type: 'currency', readOnly: true },
        BillToContactId: ref('Contact'),
        ShipToContactId: ref('Contact'),
        CustomerAuthorizedById: ref('Contact'),
        [ORDER.trackingNumber]: text(),
        [ORDER.carrier]: text(),
        [ORDER.trackingUrl]: { type: 'url', length: 255 },
        [ORDER.fulfillmentStatus]: text(),
        [ORDER.placedAt]: datetime,
      },
      children: { OrderItems: { object: 'OrderItem', field: 'OrderId' } },
    },
    {
      name: 'OrderItem',
      prefix: '802',
      fields: { OrderId: ref('Order', { required: true }), Product2Id: ref('Product2'), Quantity: double, UnitPrice: { type: 'currency' } },
    },
    {
      name: MESSAGE.object,
      prefix: 'a01',
      fields: {
        Name: { type: 'auto', readOnly: true },
        [MESSAGE.wamid]: key(),
        [MESSAGE.contact]: ref('Contact', { required: true }),
        [MESSAGE.case]: ref('Case'),
        [MESSAGE.direction]: { type: 'picklist', values: ['inbound', 'outbound'] },
        [MESSAGE.body]: { type: 'textarea', length: 32_768 },
        [MESSAGE.sentAt]: datetime,
      },
    },
    {
      name: SERVICE_REPORT.object,
      prefix: 'a02',
      fields: {
        Name: text(80, { required: true }),
        [SERVICE_REPORT.reportId]: key(),
        [SERVICE_REPORT.periodStart]: datetime,
        [SERVICE_REPORT.periodEnd]: datetime,
        [SERVICE_REPORT.medianFirstResponseSeconds]: double,
        [SERVICE_REPORT.conversations]: double,
        [SERVICE_REPORT.unanswered]: double,
      },
    },
  ];
  // An org where an admin made a key field External ID without Unique (upserts can then answer 300).
  const nonUnique = new Set(options.nonUniqueExternalIds ?? []);
  return new Map(
    objects.map((o) => [
      o.name,
      { ...o, fields: Object.fromEntries(Object.entries(o.fields).map(([name, f]) => [name, nonUnique.has(`${o.name}.${name}`) ? { ...f, unique: false } : f])) },
    ]),
  );
}

/** Fields every record has, set by Salesforce. */
export const SYSTEM_FIELDS = ['Id', 'CreatedDate', 'CreatedById', 'LastModifiedDate', 'LastModifiedById', 'SystemModstamp', 'IsDeleted'] as const;

/** The relationship name of a lookup: ContactId → Contact, Case__c → Case__r. */
export function relationshipName(field: string): string {
  return field.endsWith('__c') ? `${field.slice(0, -3)}__r` : field.replace(/Id$/, '');
}

/** The lookup field a relationship name stands for, on this object. */
export function lookupOf(object: ObjectDef, relationship: string): string | undefined {
  return Object.keys(object.fields).find((field) => object.fields[field]!.type === 'reference' && relationshipName(field) === relationship);
}
