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
  stop(): Promise<void>;
}
