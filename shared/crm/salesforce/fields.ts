/**
 * The Salesforce objects and fields the adapter writes and reads (API names). One list for the
 * adapter, the local stand-in and docs/salesforce.md, which tells an admin what to create.
 * Standard objects: Contact, Case, Opportunity, Task, Order. Custom objects: WhatsApp_Message__c
 * (one record per logged message) and WhatsApp_Service_Report__c (one per week, SY-6).
 */
import { createHash } from 'node:crypto';

/** Value of the standard LeadSource picklist on what this integration creates (SY-2). */
export const LEAD_SOURCE_WHATSAPP = 'WhatsApp';
/** Value of the Case Origin picklist (an admin adds it; Salesforce ships Phone, Email, Web). */
export const CASE_ORIGIN_WHATSAPP = 'WhatsApp';
/**
 * Contact.LastName is required. A customer WhatsApp gave no name gets this one; readProfile
 * reports it as no name, so it never greets anyone as "(WhatsApp)".
 */
export const LAST_NAME_PLACEHOLDER = '(WhatsApp)';

export const CONTACT = {
  object: 'Contact',
  /** BSUID: Text(255), External ID, Unique (case sensitive). */
  bsuid: 'WhatsApp_User_Id__c',
  /** E.164 phone: Text(40), External ID, Unique. */
  phone: 'WhatsApp_Phone__c',
  username: 'WhatsApp_Username__c',
  profileName: 'WhatsApp_Profile_Name__c',
  /** Our contact id: Text(255), External ID (not unique: merges on our side join two). */
  scrmContactId: 'WhatsApp_Contact_Id__c',
} as const;

/** The sales team's own phone fields: a contact with the number there is the customer (matched once). */
export const SALES_PHONE_FIELDS = ['Phone', 'MobilePhone'] as const;

export const MESSAGE = {
  object: 'WhatsApp_Message__c',
  /** The wamid: Text(255), External ID, Unique (case sensitive). */
  wamid: 'Wamid__c',
  contact: 'Contact__c',
  case: 'Case__c',
  /** Picklist inbound | outbound. */
  direction: 'Direction__c',
  /** Long Text Area(32768). */
  body: 'Body__c',
  sentAt: 'Sent_At__c',
} as const;
/** Longest body kept on a message record (the Long Text Area's length). */
export const MESSAGE_BODY_MAX = 32_768;

export const CASE = {
  object: 'Case',
  /** Our conversation id: Text(255), External ID, Unique. */
  conversationId: 'WhatsApp_Conversation_Id__c',
  resolvedAt: 'WhatsApp_Resolved_At__c',
} as const;

export const OPPORTUNITY = {
  object: 'Opportunity',
  /** The wamid of the purchase-intent message: Text(255), External ID, Unique. */
  opportunityId: 'WhatsApp_Opportunity_Id__c',
  sku: 'WhatsApp_SKU__c',
  /** ISO 4217 as WhatsApp gave it: CurrencyIsoCode exists only in multi-currency orgs. */
  currency: 'WhatsApp_Currency__c',
} as const;

export const TASK = {
  object: 'Task',
  /** Activity custom field: Text(255), External ID (and Unique where the org offers it). */
  taskId: 'WhatsApp_Task_Id__c',
} as const;

/** Fields a shop connector fills on the standard Order (Salesforce has no tracking fields). */
export const ORDER = {
  object: 'Order',
  trackingNumber: 'WhatsApp_Tracking_Number__c',
  carrier: 'WhatsApp_Carrier__c',
  trackingUrl: 'WhatsApp_Tracking_Url__c',
  fulfillmentStatus: 'WhatsApp_Fulfillment_Status__c',
  /** When the shop says the order was placed (DateTime); CreatedDate when empty. */
  placedAt: 'WhatsApp_Placed_At__c',
} as const;
/** The Order's Contact lookups a customer's order is found by. */
export const ORDER_CONTACT_FIELDS = ['BillToContactId', 'ShipToContactId', 'CustomerAuthorizedById'] as const;

export const SERVICE_REPORT = {
  object: 'WhatsApp_Service_Report__c',
  /** `service-week:2026-W48`: Text(255), External ID, Unique. */
  reportId: 'Report_Id__c',
  periodStart: 'Period_Start__c',
  periodEnd: 'Period_End__c',
  medianFirstResponseSeconds: 'Median_First_Response_Seconds__c',
  conversations: 'Conversations__c',
  unanswered: 'Unanswered__c',
} as const;

/** External ID text fields hold 255 characters. */
const MAX_KEY_LENGTH = 255;

/**
 * The value an idempotency key is stored as in an External ID field: the key itself when it
 * fits, else `sha256:<hex>` of it (deterministic, so a repeat finds the same record).
 */
export function externalKey(key: string): string {
  return key.length <= MAX_KEY_LENGTH ? key : `sha256:${createHash('sha256').update(key).digest('hex')}`;
}

/**
 * Whether a key can go into the URL of `/sobjects/{object}/{field}/{value}` as it is. Salesforce
 * reads a trailing `.json` / `.xml` (and some other letter suffixes, docs/salesforce.md) as the
 * response format, so values ending in `.letters` are kept out of URLs.
 */
export function urlSafeKey(key: string): boolean {
  return /^[A-Za-z0-9_:+@.-]{1,255}$/.test(key) && !/\.[A-Za-z]+$/.test(key);
}

/** ms → `2026-09-10T10:00:00.000Z` (Salesforce DateTime). */
export function dateTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** ms → `2026-09-10` (Salesforce Date, UTC). */
export function dateOnly(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** A Salesforce DateTime or Date text → ms; undefined when absent or not a date. */
export function parseDateTime(value: unknown): number | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  // Salesforce answers `2026-09-10T10:00:00.000+0000`; Date.parse wants `+00:00`.
  const ms = Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return Number.isNaN(ms) ? undefined : ms;
}

/** Cuts text to `max` characters (Salesforce refuses longer values with STRING_TOO_LONG). */
export function cut(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max);
}
