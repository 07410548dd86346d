/**
 * Two-way sync (SY-3, ID-5): what comes back from the CRM, in CRM-neutral terms. Each CRM's
 * deliveries (HubSpot webhooks, Salesforce Change Data Capture through Event Relay, Zoho
 * notifications) and its catch-up queries are turned into {@link CrmChange}s by that CRM's
 * module (`shared/crm/<kind>/inbound.ts`); the sync side (shared/sync/two-way.ts) resolves them
 * field by field against ours, newest edit wins, every conflict queued for a person.
 */
import type { CrmCallOptions } from './port.ts';

/**
 * Fields both sides edit. `firstName`: the WhatsApp profile name's first word on our side, the
 * CRM's first name (HubSpot `firstname`, Salesforce `FirstName`, Zoho `First_Name`) on theirs.
 * `customerLevel`: the mapped customer-level field (config/crm/<kind>.json).
 */
export const TWO_WAY_FIELDS = ['firstName', 'customerLevel'] as const;
export type TwoWayField = (typeof TWO_WAY_FIELDS)[number];

/** One field as the CRM changed it: the value (null: cleared) and the CRM's modification time (ms). */
export interface CrmFieldChange {
  readonly field: TwoWayField;
  readonly value: string | null;
  /** HubSpot `occurredAt`, Salesforce `commitTimestamp` / `SystemModstamp`, Zoho `Modified_Time`. */
  readonly at: number;
}

/** A contact record edited in the CRM. */
export interface CrmContactChange {
  readonly kind: 'contact';
  /** The CRM's record id. */
  readonly crmId: string;
  readonly changes: readonly CrmFieldChange[];
  /** Sales noted that the customer opted out of marketing (an opt-out only: opting in needs the customer). */
  readonly optedOutAt?: number | undefined;
  /** The WhatsApp identity fields of the record, when the adapter read them (to find a contact we never linked). */
  readonly bsuid?: string | undefined;
  readonly phone?: string | undefined;
  /** True when the CRM says the change was made by this integration itself (an echo of our own write). */
  readonly ours?: boolean | undefined;
}

/** A reply an agent wrote in the CRM, to be sent on WhatsApp. */
export interface CrmReply {
  readonly kind: 'reply';
  /** The CRM record that holds the reply (HubSpot: `<contactId>:<occurredAt>` of the property change; Salesforce/Zoho: the Task id). */
  readonly replyId: string;
  readonly contactCrmId: string;
  readonly text: string;
  /** The CRM user who wrote it. */
  readonly crmUserId?: string | undefined;
  readonly at: number;
}

/** A Case or deal closed in the CRM: visible to automation. */
export interface CrmRecordClosed {
  readonly kind: 'closed';
  readonly recordType: 'case' | 'deal';
  readonly recordId: string;
  readonly contactCrmId: string;
  /** The CRM's status / stage as written (Closed, closedwon, Closed Won …). */
  readonly status: string;
  readonly at: number;
}

export type CrmChange = CrmContactChange | CrmReply | CrmRecordClosed;

/**
 * A delivery that names records without their values (Zoho's notification carries ids only):
 * the adapter reads them ({@link CrmTwoWay.resolve}).
 */
export interface CrmRecordRef {
  readonly kind: 'ref';
  /** The CRM's module / object (Contacts, Tasks, Deals …). */
  readonly module: string;
  readonly ids: readonly string[];
  /** The operation (create, edit/update, delete) as the CRM names it. */
  readonly operation: string;
  readonly at: number;
  /** The fields the CRM says changed, when it says (Zoho `affected_fields`). */
  readonly fields?: readonly string[] | undefined;
}

/** One event of a delivery: deduplicated by `eventId`, applied in order of `occurredAt`. */
export interface CrmEvent {
  readonly eventId: string;
  readonly occurredAt: number;
  readonly change: CrmChange | CrmRecordRef;
}

/** Delivery status of a reply written in the CRM, written back to its record. */
export type ReplyStatus = 'queued' | 'sent' | 'delivered' | 'read' | 'failed';

/** A purchase of a customer, from the CRM's deals / orders / line items (ID-3). */
export interface CrmPurchase {
  readonly contactCrmId: string;
  readonly sku: string;
  readonly at: number;
  readonly amount?: number | undefined;
}

/** What the two-way sync needs from a CRM adapter besides the one-way port. */
export interface CrmTwoWay {
  /** Reads the records a ref names and returns them as changes (a record gone or not ours: none). */
  resolve(refs: readonly CrmRecordRef[], options?: CrmCallOptions): Promise<{ readonly changes: readonly CrmEvent[]; readonly calls: number }>;
  /**
   * Contacts and replies changed after `since` (ms), oldest first, at most `limit`: the scheduled
   * catch-up for missed deliveries and for orgs without CDC. `cursor` is the time to ask from next.
   */
  changesSince(since: number, limit: number, options?: CrmCallOptions): Promise<{ readonly events: readonly CrmEvent[]; readonly cursor: number; readonly calls: number }>;
  /**
   * The contact's two-way fields as the CRM holds them now, read just before we write ours: a
   * sales edit whose notification is still on its way is then resolved first, not overwritten.
   * Undefined: the record is gone.
   */
  readContact(crmId: string, options?: CrmCallOptions): Promise<{ readonly change: CrmContactChange | undefined; readonly calls: number }>;
  /** Writes two-way field values (a resolved conflict, an edit on our side). */
  writeFields(crmId: string, values: Readonly<Partial<Record<TwoWayField, string | null>>>, options?: CrmCallOptions): Promise<{ readonly calls: number }>;
  /** Writes a CRM-written reply's delivery status on its record. */
  writeReplyStatus(reply: { readonly replyId: string; readonly contactCrmId: string }, status: ReplyStatus, detail: { readonly at: number; readonly wamid?: string | undefined; readonly error?: string | undefined }, options?: CrmCallOptions): Promise<{ readonly calls: number }>;
  /** Purchases (SKU, time) made after `since`, from the CRM's deals / orders / line items. */
  purchasesSince(since: number, options?: CrmCallOptions): Promise<{ readonly purchases: readonly CrmPurchase[]; readonly calls: number }>;
  /** Merges the CRM record `loserCrmId` into `survivorCrmId` (the CRM's own merge); the surviving record's id. */
  mergeContacts(survivorCrmId: string, loserCrmId: string, options?: CrmCallOptions): Promise<{ readonly crmId: string; readonly calls: number }>;
  /**
   * Opens or renews the CRM's notification channel (Zoho `/actions/watch`, at most a week);
   * absent where the CRM pushes without a channel.
   */
  watch?(channel: { readonly channelId: string; readonly token: string; readonly notifyUrl: string; readonly expiresAt: number }, options?: CrmCallOptions): Promise<{ readonly expiresAt: number; readonly calls: number }>;
}

/**
 * A reply's delivery status as the agent reads it on the CRM record: the word, the time (ISO
 * 8601), and the error of a failed send on one line, cut to the field's `max` characters.
 */
export function replyStatusText(status: ReplyStatus, at: number, error: string | undefined, max: number): string {
  const text = `${status} ${new Date(at).toISOString()}${status === 'failed' && error ? `: ${error.replace(/\s+/g, ' ').trim()}` : ''}`;
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function hasTwoWay<T extends object>(adapter: T): adapter is T & { twoWay: CrmTwoWay } {
  return 'twoWay' in adapter && typeof (adapter as { twoWay?: unknown }).twoWay === 'object' && (adapter as { twoWay?: unknown }).twoWay !== null;
}
