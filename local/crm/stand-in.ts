/**
 * What every local CRM stand-in offers besides its CRM's own API, so that one contract test suite
 * (test/contract/crm-contract.test.ts), `npm start` and the bench can drive any of them:
 * neutral read-outs of what the CRM holds, faults by operation, a rate limit it enforces, and a
 * contact made "by a sales user" (not through our adapter).
 */
import type { CrmKind } from '#shared/resources';

/** A contact as the stand-in holds it, in neutral terms. */
export interface StandInContact {
  readonly id: string;
  /** The WhatsApp user id field (BSUID). */
  readonly bsuid?: string | undefined;
  /** The WhatsApp phone field (E.164). */
  readonly phone?: string | undefined;
  /** The CRM's own phone fields (HubSpot phone/mobilephone, Salesforce Phone/MobilePhone, Zoho Phone/Mobile). */
  readonly salesPhones: readonly string[];
  readonly firstName?: string | undefined;
  readonly lastName?: string | undefined;
  /** The lead source as the CRM holds it (WhatsApp for contacts we created). */
  readonly leadSource?: string | undefined;
  /** Every field value the CRM holds, by the CRM's field name. */
  readonly fields: Readonly<Record<string, unknown>>;
}

/** A logged WhatsApp message (HubSpot communication, Salesforce Task, Zoho Note, webhook event). */
export interface StandInMessage {
  readonly id: string;
  readonly wamid: string;
  /** The CRM contact it is on. */
  readonly contactId: string;
  readonly body: string;
}

export interface StandInOpportunity {
  readonly id: string;
  /** Our opportunity id (the wamid of the purchase-intent message). */
  readonly opportunityId: string;
  readonly contactId: string;
  readonly sku?: string | undefined;
}

export interface StandInTask {
  readonly id: string;
  readonly taskId: string;
  readonly contactId: string;
  readonly subject: string;
}

/** A support case per conversation (Salesforce only). */
export interface StandInCase {
  readonly id: string;
  readonly conversationId: string;
  readonly contactId: string;
  readonly type?: string | undefined;
  readonly status: string;
  readonly subject?: string | undefined;
  readonly priority?: string | undefined;
}

/** What kind of request a fault hits. */
export type StandInOperation = 'token' | 'contact-read' | 'contact-write' | 'message-write' | 'opportunity-write' | 'task-write' | 'any';

/** A canned answer for the next matching request (consumed once). */
export interface StandInFault {
  readonly operation: StandInOperation;
  /** HTTP status to answer with; the body is what this CRM sends for it (429, 5xx, 400 …). */
  readonly status?: number;
  readonly retryAfterSeconds?: number;
  /**
   * Carry out the request for real, then answer only after this long: the write is committed but
   * a client with a shorter timeout never hears of it (a crash after the CRM wrote).
   */
  readonly afterCommitDelayMs?: number;
  /** Close the connection without an answer. */
  readonly dropConnection?: boolean;
  /** A body to answer with instead of the CRM's usual one (e.g. one echoing personal data). */
  readonly body?: unknown;
}

export interface StandInRateLimit {
  /** Requests allowed per window; more are answered as this CRM answers a rate limit. */
  readonly requests: number;
  readonly windowMs: number;
}

export interface CrmStandIn {
  readonly kind: CrmKind;
  /** Base URL of the stand-in (its API and its home page). */
  readonly url: string;
  /** Settings and secrets (env var names → values) that point the product at this stand-in. */
  readonly env: Readonly<Record<string, string>>;
  /** Contact, message, opportunity and task scenarios it can play (the webhook has no sales contacts). */
  readonly capabilities: { readonly salesContacts: boolean; readonly readBack: boolean; readonly cases: boolean };
  contacts(): StandInContact[];
  messages(): StandInMessage[];
  opportunities(): StandInOpportunity[];
  tasks(): StandInTask[];
  cases(): StandInCase[];
  /**
   * A contact typed in by a sales user, with the customer's number in the CRM's own phone field
   * (`phone`: HubSpot phone, Salesforce Phone, Zoho Phone; `mobile`: mobilephone, MobilePhone,
   * Mobile). Resolves with its id once the CRM's search/query finds it.
   */
  createSalesContact(input: { readonly phone: string; readonly field: 'phone' | 'mobile'; readonly firstName: string; readonly lastName: string }): Promise<string>;
  setFaults(faults: readonly StandInFault[]): void;
  /** Enforces a rate limit from now on (undefined: none). */
  setRateLimit(limit: StandInRateLimit | undefined): void;
  /** API requests served since the last reset: by operation, `total`, and `rateLimited` (answered 429/limit). */
  requests(): Readonly<Record<string, number>>;
  resetRequests(): void;
  /** Edits by sales, replies by agents and the notifications they trigger (SY-3); absent for the generic webhook. */
  readonly twoWay?: StandInTwoWay | undefined;
  stop(): Promise<void>;
}

/** A reply an agent wrote in the CRM (HubSpot: the contact's reply property; Salesforce and Zoho: a Task). */
export interface StandInReply {
  /** The reply's id as the adapter names it (`CrmReply.replyId`). */
  readonly id: string;
  readonly contactId: string;
  readonly text: string;
  /** The delivery status our side wrote back (sent, delivered, read, failed), if any yet. */
  readonly status?: string | undefined;
}

/**
 * The CRM's side of two-way sync, as a sales user or an agent would act on it, and the change
 * notifications the real CRM sends for it: HubSpot's signed webhooks (v3) to
 * `<target>/crm-events/hubspot`; Salesforce's Change Data Capture events, shaped as Event Relay
 * puts them on an EventBridge partner bus, to `<target>/local/partner-events/salesforce`; Zoho's
 * notifications to the `notify_url` of the channel our adapter opened with `/actions/watch`.
 */
export interface StandInTwoWay {
  /** Where notifications go (the local stack's gateway URL); none are sent before it is set. */
  setDeliveryTarget(url: string): void;
  /** Holds notifications back (a missed delivery: the catch-up must find the change); released ones are not sent later. */
  pauseDeliveries(paused: boolean): void;
  /**
   * A sales user edits the contact in the CRM's page: first name, the mapped customer level, the
   * marketing opt-out. `at` sets the CRM's modification time (default now).
   */
  editContact(id: string, values: { readonly firstName?: string; readonly customerLevel?: string; readonly optedOut?: boolean }, options?: { readonly at?: number; readonly userId?: string }): Promise<void>;
  /** An agent writes a reply to the customer in the CRM; resolves with its id. */
  writeReply(contactId: string, text: string, options?: { readonly userId?: string }): Promise<string>;
  replies(): StandInReply[];
  /** A purchase of the contact (a deal / order with a line item of this SKU), `at` ms. */
  addPurchase(contactId: string, sku: string, at: number, amount?: number): Promise<void>;
  /** Merges the CRM itself has done (`loserId` is gone from contacts()). */
  merges(): { readonly survivorId: string; readonly loserId: string }[];
  /** Notifications sent so far. */
  deliveries(): number;
}
