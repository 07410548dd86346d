import type { CrmKind } from '../resources.ts';

/**
 * The CRM port: what the sync function needs from any CRM. HubSpot, Salesforce, Zoho and the
 * generic webhook are adapters behind it. Adapters are idempotent: the same input twice ends in
 * the same CRM state and returns the same CRM id.
 */

/**
 * What we know about a customer, typed and CRM-neutral (SY-8). Each adapter maps these fields to
 * its own field names with its mapping in `config/crm/<kind>.json` (shared/crm/field-mapping.ts):
 * a field can be switched off there, renamed, or given a default (ID-6).
 */
export interface CrmContactFields {
  /** Segment (TG-3): new, active, potential, high_intent, dormant, churned. */
  readonly segment?: string | undefined;
  readonly tags: readonly string[];
  readonly activityScore?: number | undefined;
  /** Running sentiment 0..1 (TG-5); undefined before the first scored message. */
  readonly sentiment?: number | undefined;
  readonly priority?: number | undefined;
  /** Hot-word counts (TG-2), by hot-word id. */
  readonly hotWords: Readonly<Record<string, number>>;
  /** The emoji the customer uses most, most frequent first (SY-8's default mapping carries them). */
  readonly frequentEmoji: readonly string[];
  /** Inbound messages so far. */
  readonly messageCount: number;
  /** Customer level (ID-6: "new customer" by default). */
  readonly customerLevel?: string | undefined;
  /** Last inbound message (ms) (ID-2). */
  readonly lastInteractionAt?: number | undefined;
  /** Last satisfaction rating 1–5 (RP-13). */
  readonly satisfaction?: number | undefined;
  /** Code of the last coupon an automation gave (AU-4). */
  readonly lastCoupon?: string | undefined;
  /** Our id of the agent the conversation is assigned to (AG-1). */
  readonly agentId?: string | undefined;
  /** The language of the customer's last words (BCP 47, e.g. zh-Hant). */
  readonly language?: string | undefined;
  readonly address?:
    | {
        readonly street?: string | undefined;
        readonly locality?: string | undefined;
        readonly region?: string | undefined;
        readonly postalCode?: string | undefined;
        readonly country?: string | undefined;
      }
    | undefined;
  /** The last purchase intent with a catalogue product (TG-7). */
  readonly opportunity?: { readonly sku: string; readonly productName?: string | undefined; readonly amount?: number | undefined; readonly currency?: string | undefined; readonly at: number } | undefined;
}

/** A customer as the CRM sees it. Identities follow whatsapp-identity.md. */
export interface CrmContactInput {
  /** Our own contact id. */
  readonly contactId: string;
  /** Current business-scoped user id (BSUID): the CRM's unique WhatsApp user id field. */
  readonly bsuid?: string | undefined;
  /** Current phone in E.164: the CRM's unique WhatsApp phone field. */
  readonly phone?: string | undefined;
  /** Identities this customer had before (number or BSUID change): used to find the same CRM record. */
  readonly previousBsuids?: readonly string[] | undefined;
  readonly previousPhones?: readonly string[] | undefined;
  readonly username?: string | undefined;
  readonly profileName?: string | undefined;
  /** The CRM id this CRM's earlier sync stored on our contact (ids are kept per CRM kind). */
  readonly knownCrmId?: string | undefined;
  /** Last interaction time (ms) written to the CRM (ID-2); the same as `fields.lastInteractionAt`. */
  readonly lastInteractionAt?: number | undefined;
  /** The typed insights and facts, mapped by the adapter (SY-8); absent: identity only. */
  readonly fields?: CrmContactFields | undefined;
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
  /** The conversation the message belongs to (a Salesforce Case per conversation, SY-2). */
  readonly conversation?: CrmConversation | undefined;
}

/** A conversation as a support case: opened by its first message, updated by the later ones. */
export interface CrmConversation {
  /** Our conversation id: the idempotency key of its case. */
  readonly id: string;
  readonly startedAt: number;
  /** The analysis tags of the conversation's messages so far (complaint, order_status, price_inquiry …). */
  readonly tags: readonly string[];
  /** A short subject from the analysis (the first words of the first message with words). */
  readonly subject: string;
  /** low | medium | high, from the analysis (priority score, complaint, sentiment). */
  readonly priority: 'low' | 'medium' | 'high';
  /** Set once the conversation is resolved on our side. */
  readonly resolvedAt?: number | undefined;
}

/** A burst of messages logged in one go: each one's CRM id, in the order given. */
export interface CrmMessagesResult {
  readonly crmIds: readonly string[];
  readonly calls: number;
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

/** A contact already in the CRM whose mapped fields the night batch updates (SY-5). */
export interface CrmContactUpdate {
  readonly crmId: string;
  readonly contactId: string;
  readonly fields: CrmContactFields;
}

/** One update's outcome: done, gone from the CRM (deleted or merged there), or failed. */
export type CrmUpdateOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly missing: true }
  | { readonly ok: false; readonly missing?: false; readonly error: CrmError };

export interface CrmBulkResult {
  /** One outcome per update, in the order given. */
  readonly outcomes: readonly CrmUpdateOutcome[];
  readonly calls: number;
}

/** A contact as the CRM holds it now, for reconciliation (SY-7): the fields a person can check. */
export interface CrmContactReadBack {
  readonly crmId: string;
  readonly firstName?: string | undefined;
  readonly lastName?: string | undefined;
  /** The WhatsApp phone field (E.164). */
  readonly phone?: string | undefined;
  readonly bsuid?: string | undefined;
  /** The mapped fields as the CRM returns them, by the CRM's field name. */
  readonly values: Readonly<Record<string, unknown>>;
}

/**
 * How hard the CRM may be driven: requests per window and records per batch request. The night
 * batch and the burst sync pace to it (shared/crm/pacing.ts). Values from each CRM's docs,
 * overridable per deployment (`CRM_RATE_LIMIT` / `CRM_RATE_WINDOW_SECONDS`).
 */
export interface CrmLimits {
  /** Requests allowed per window. */
  readonly requests: number;
  readonly windowMs: number;
  /** Most records one batch update request takes (HubSpot 100, Salesforce 200, Zoho 100). */
  readonly batchSize: number;
}

/** The week's service quality (SY-6): written to the CRM's service-quality record once per period. */
export interface CrmServiceReport {
  /** Deterministic id, the idempotency key: `service-week:<ISO week>` (e.g. service-week:2026-W48). */
  readonly reportId: string;
  readonly periodStart: number;
  readonly periodEnd: number;
  /** Median time from a customer's first waiting message to the first answer, ms. */
  readonly medianFirstResponseMs: number | undefined;
  /** Conversations in the period, and those still unanswered at its end. */
  readonly conversations: number;
  readonly unanswered: number;
}

export interface CrmAdapter {
  readonly kind: CrmKind;
  /** The limits the bulk work paces to. */
  readonly limits: CrmLimits;
  /**
   * Updates the mapped fields of contacts already in the CRM, `limits.batchSize` at most per call,
   * through the CRM's batch API (SY-5). No identity lookup, no create: a contact not there is
   * reported `missing`.
   */
  updateContacts(updates: readonly CrmContactUpdate[], options?: CrmCallOptions): Promise<CrmBulkResult>;
  /** The contacts as the CRM holds them (reads only); a missing one is absent from the answer. */
  readContacts(crmIds: readonly string[], options?: CrmCallOptions): Promise<{ readonly contacts: readonly CrmContactReadBack[]; readonly calls: number }>;
  /**
   * Logs a burst of messages (≤ `limits.batchSize`) through the CRM's batch API, all or nothing,
   * idempotent by wamid like {@link logMessage}. The sync uses it when its queue backs up (a
   * campaign reply storm, a CRM outage drained); an adapter without an idempotent batch API has
   * none, and an error means "log them one by one".
   */
  logMessages?(inputs: readonly CrmMessageInput[], options?: CrmCallOptions): Promise<CrmMessagesResult>;
  /** Writes the period's service-quality figures once per `reportId` (SY-6); false when this CRM has no place for them. */
  recordServiceReport(report: CrmServiceReport, options?: CrmCallOptions): Promise<{ readonly recorded: boolean; readonly calls: number }>;
  /**
   * The CRM's own account of its daily API budget, from the last answer that carried it
   * (Salesforce `Sforce-Limit-Info`, Zoho's credit headers); undefined when unknown.
   */
  usage?(): { readonly used: number; readonly max: number } | undefined;
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
