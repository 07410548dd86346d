/**
 * The CRM port: what the sync function needs from any CRM. HubSpot, Salesforce, Zoho and the
 * generic webhook are adapters behind it. Adapters are idempotent: the same input twice ends in
 * the same CRM state and returns the same CRM id.
 */

/** A customer as the CRM sees it. Identities follow whatsapp-identity.md. */
export interface CrmContactInput {
  /** Our own contact id. */
  readonly contactId: string;
  /** Current business-scoped user id (BSUID); the CRM's unique `whatsapp_user_id`. */
  readonly bsuid?: string | undefined;
  /** Current phone in E.164; the CRM's unique `whatsapp_phone`. */
  readonly phone?: string | undefined;
  /** Identities this customer had before (number or BSUID change): used to find the same CRM record. */
  readonly previousBsuids?: readonly string[] | undefined;
  readonly previousPhones?: readonly string[] | undefined;
  readonly username?: string | undefined;
  readonly profileName?: string | undefined;
  /** The CRM id stored on our contact by an earlier sync, if any. */
  readonly knownCrmId?: string | undefined;
  /** Last interaction time (ms) written to the CRM (ID-2). */
  readonly lastInteractionAt?: number | undefined;
  /** Further mapped properties (tags, segment, scores …), already in the CRM's property names. */
  readonly properties?: Readonly<Record<string, string | number | boolean | null>> | undefined;
}

export interface CrmContactResult {
  readonly crmId: string;
  /** True when this call created the CRM record. */
  readonly created: boolean;
  /** True when an existing record (e.g. one the sales team made) was matched by phone. */
  readonly matchedExisting: boolean;
  /** CRM calls this operation made (for the calls-per-message budget). */
  readonly calls: number;
}

export interface CrmMessageInput {
  /** WhatsApp message id: the idempotency key of the logged message. */
  readonly wamid: string;
  readonly contactCrmId: string;
  readonly direction: 'inbound' | 'outbound';
  /** Plain-text rendering of the message (text body, caption, or a description of the media). */
  readonly body: string;
  /** When the message was sent (ms). */
  readonly timestamp: number;
  /** The CRM id stored on our message by an earlier attempt, if any. */
  readonly knownCrmId?: string | undefined;
}

export interface CrmMessageResult {
  readonly crmId: string;
  readonly created: boolean;
  readonly calls: number;
}

/** A sales opportunity from a purchase-intent message (TG-7). */
export interface CrmOpportunityInput {
  /** Deterministic id: the wamid of the message that showed the intent. The idempotency key. */
  readonly opportunityId: string;
  readonly contactCrmId: string;
  readonly sku: string;
  readonly productName?: string | undefined;
  readonly amount?: number | undefined;
  readonly currency?: string | undefined;
  /** When the intent was expressed (ms). */
  readonly createdAt: number;
  readonly knownCrmId?: string | undefined;
}

export interface CrmOpportunityResult {
  readonly crmId: string;
  readonly created: boolean;
  readonly calls: number;
}

/** A customer's order as the CRM (or the shop behind it) reports it (AU-2, AU-3). */
export interface CrmOrder {
  readonly crmId: string;
  readonly name?: string | undefined;
  /** When the customer placed it (ms): the shop's order time if known, else when the CRM got it. */
  readonly placedAt: number;
  readonly amount?: number | undefined;
  readonly currency?: string | undefined;
  /** Fulfilment / shipping status as the shop wrote it (free text, e.g. "Packing", "Shipped"). */
  readonly status?: string | undefined;
  /** Absent until the order has shipped (or the shop does not report it). */
  readonly trackingNumber?: string | undefined;
  readonly carrier?: string | undefined;
  readonly trackingUrl?: string | undefined;
  /** SKUs of the order's line items, when it has any with a SKU. */
  readonly skus?: readonly string[] | undefined;
}

export interface CrmLastOrderResult {
  /** The customer's most recent order; undefined when the CRM has none for them. */
  readonly order: CrmOrder | undefined;
  readonly calls: number;
}

export interface CrmProfileResult {
  /** Names as the CRM holds them (sales may have corrected what WhatsApp gave); absent when unknown. */
  readonly firstName?: string | undefined;
  readonly lastName?: string | undefined;
  readonly calls: number;
}

/** A follow-up task for the sales team, on the customer's CRM record (AU-5). */
export interface CrmTaskInput {
  /**
   * Deterministic id, the idempotency key: the same task asked for twice is one task
   * (e.g. `follow-up:<contactId>:<isoWeek>`).
   */
  readonly taskId: string;
  readonly contactCrmId: string;
  readonly subject: string;
  readonly body?: string | undefined;
  /** Due time (ms). */
  readonly dueAt: number;
  /** The CRM user the task is assigned to; the CRM's default when absent. */
  readonly ownerId?: string | undefined;
  /** The CRM id stored by an earlier attempt, if any. */
  readonly knownCrmId?: string | undefined;
}

export interface CrmTaskResult {
  readonly crmId: string;
  readonly created: boolean;
  readonly calls: number;
}

/** How long a call may take: the caller's time budget (e.g. what is left of a Lambda invocation). */
export interface CrmCallOptions {
  /** Epoch ms by which the call must be over — answered, or failed as `transient` to be retried. */
  readonly deadline?: number | undefined;
}

export interface CrmAdapter {
  readonly kind: string;
  upsertContact(input: CrmContactInput, options?: CrmCallOptions): Promise<CrmContactResult>;
  logMessage(input: CrmMessageInput, options?: CrmCallOptions): Promise<CrmMessageResult>;
  createOpportunity(input: CrmOpportunityInput, options?: CrmCallOptions): Promise<CrmOpportunityResult>;
  /** The customer's most recent order (reads only). */
  findLastOrder(contactCrmId: string, options?: CrmCallOptions): Promise<CrmLastOrderResult>;
  /** The customer's names as the CRM holds them (reads only); none for a record that is gone. */
  readProfile(contactCrmId: string, options?: CrmCallOptions): Promise<CrmProfileResult>;
  /** Creates the task once per `taskId`, associated to the contact. */
  createTask(input: CrmTaskInput, options?: CrmCallOptions): Promise<CrmTaskResult>;
}

export type CrmErrorKind =
  /** 429: come back after retryAfterMs. */
  | 'rate_limited'
  /** 5xx, timeout, network: worth retrying. */
  | 'transient'
  /** 401/403: the token is wrong or expired (alarm, OP-5). Retried, since a rotated token fixes it. */
  | 'auth'
  /** 4xx validation: retrying the same request cannot succeed. */
  | 'permanent';

/**
 * A CRM call that failed. It carries the status, the CRM's own error category and a message
 * without personal data — never the CRM's answer itself, which may echo the customer's phone,
 * e-mail or name: the error is logged, kept on the message row and put on the DLQ message.
 */
export class CrmError extends Error {
  override readonly name = 'CrmError';
  constructor(
    readonly kind: CrmErrorKind,
    message: string,
    readonly details: {
      readonly status?: number;
      readonly retryAfterMs?: number;
      readonly crm?: string;
      /** The CRM's error category or code (e.g. HubSpot's VALIDATION_ERROR). */
      readonly category?: string;
      /**
       * A write that may have happened: the CRM did not answer in time or failed after it got
       * the request. The caller looks before it writes again, never retries blindly.
       */
      readonly outcomeUnknown?: boolean;
    } = {},
  ) {
    super(message);
  }

  get retryable(): boolean {
    return this.kind !== 'permanent';
  }
}
