/**
 * Zoho CRM behind the CRM port, on the v8 REST API of the customer's data centre. See
 * docs/zoho.md for the API facts this relies on, the custom fields and modules to create, and the
 * design decisions.
 */
import { InFlight, type CreatedOnce } from '../in-flight.ts';
import { fieldMapping } from '../mappings.ts';
import type { FieldMapping } from '../field-mapping.ts';
import {
  CrmError,
  type CrmAdapter,
  type CrmBulkResult,
  type CrmCallOptions,
  type CrmContactInput,
  type CrmContactReadBack,
  type CrmContactResult,
  type CrmContactUpdate,
  type CrmLastOrderResult,
  type CrmLimits,
  type CrmMessageInput,
  type CrmMessageResult,
  type CrmMessagesResult,
  type CrmOpportunityInput,
  type CrmOpportunityResult,
  type CrmProfileResult,
  type CrmServiceReport,
  type CrmTaskInput,
  type CrmTaskResult,
} from '../port.ts';
import type { TokenCache } from '../token-cache.ts';
import { BATCH_LIMIT, ZohoApi } from './api.ts';
import { ZohoAuth, type FetchLike, type ZohoCredentialSource } from './auth.ts';
import { upsertContact } from './contacts.ts';
import { DEFAULT_DEAL_CLOSE_DAYS, DEFAULT_DEAL_STAGE, DEFAULT_TASK_STATUS, ORDER } from './fields.ts';
import { UsageMeter, ZohoHttp } from './http.ts';
import { findLastOrder, readContacts, readProfile, updateContacts, type OrderSettings } from './reads.ts';
import { createOpportunity, createTask, logMessage, logMessages, recordServiceReport, type DealSettings } from './records.ts';
import { ZohoTwoWay } from './two-way.ts';

export type { ZohoCredentials, ZohoCredentialSource } from './auth.ts';

export const DEFAULT_ACCOUNTS_URL = 'https://accounts.zoho.com';
export const DEFAULT_API_VERSION = 'v8';

/**
 * Zoho meters API credits per rolling 24 hours and simultaneous calls (5 on Free, 10 on
 * Standard); it documents no per-second rate. The bulk work paces to one request a second on
 * average, well inside both (docs/zoho.md, "Limits"); writes take 100 records.
 */
export const ZOHO_LIMITS: CrmLimits = { requests: 10, windowMs: 10_000, batchSize: 100 };

export interface ZohoAdapterOptions {
  /** The data centre's accounts server. Default https://accounts.zoho.com. */
  readonly accountsUrl?: string | undefined;
  /** `v8` (or `8`). */
  readonly apiVersion?: string | undefined;
  /** Client id, secret and refresh token; read again (`true`) when Zoho refuses them. */
  readonly credentials: ZohoCredentialSource;
  /** Where the access token is kept across invocations (a table row on AWS). Default: memory. */
  readonly tokenCache?: TokenCache | undefined;
  /** Contact field mapping. Default config/crm/zoho.json. */
  readonly mapping?: FieldMapping | undefined;
  readonly fetch?: FetchLike | undefined;
  /** Per-request timeout. Default 10 s. */
  readonly timeoutMs?: number | undefined;
  /** Tries for 5xx, network errors and timeouts. Default 3. */
  readonly maxTries?: number | undefined;
  /** First backoff pause between tries. Default 200 ms. */
  readonly backoffBaseMs?: number | undefined;
  /** Longest 429 wait inside one attempt. Default 10 s. */
  readonly maxInAttemptWaitMs?: number | undefined;
  /** First wait after a 429 (Zoho sends no Retry-After); doubles. Default 1 s. */
  readonly rateLimitWaitMs?: number | undefined;
  /** How long a throttled token refresh is not tried again. Default 10 minutes. */
  readonly refreshThrottleMs?: number | undefined;
  /** Clock (tests). */
  readonly now?: (() => number) | undefined;
  /** Overrides of {@link ZOHO_LIMITS} (CRM_RATE_LIMIT / CRM_RATE_WINDOW_SECONDS). */
  readonly limits?: Partial<CrmLimits> | undefined;
  /** Stage of new deals. Default Qualification. */
  readonly dealStage?: string | undefined;
  /** Closing_Date = intent time + this many days. Default 30. */
  readonly dealCloseDays?: number | undefined;
  /** Pipeline of new deals, when the account has pipelines enabled. */
  readonly dealPipeline?: string | undefined;
  /** Status of new tasks. Default Not Started. */
  readonly taskStatus?: string | undefined;
  /** API name of the contacts' Sales Orders related list. Default SalesOrders. */
  readonly orderRelatedList?: string | undefined;
  /** Write service reports to the WhatsApp_Service_Reports module. Default true. */
  readonly serviceReports?: boolean | undefined;
  /**
   * The Zoho user id the refresh token belongs to: two-way sync marks the changes it made itself
   * (`Modified_By`) as `ours`. Unknown: they are not marked.
   */
  readonly integrationUserId?: string | undefined;
}

export class ZohoAdapter implements CrmAdapter {
  readonly kind = 'zoho' as const;
  readonly limits: CrmLimits;
  private readonly api: ZohoApi;
  private readonly usageMeter = new UsageMeter();
  private readonly mapping: FieldMapping;
  private readonly deal: DealSettings;
  private readonly orders: OrderSettings;
  private readonly taskStatus: string;
  private readonly serviceReports: boolean;
  /** Writes under way in this process, by idempotency key: a concurrent duplicate joins the first. */
  private readonly inFlight = new InFlight();
  /** Two-way sync (SY-3): notifications resolved, the Modified_Time catch-up, write-backs, merges, the channel. */
  readonly twoWay: ZohoTwoWay;

  constructor(options: ZohoAdapterOptions) {
    const now = options.now ?? Date.now;
    const maxTries = Math.max(1, options.maxTries ?? 3);
    const backoffBaseMs = options.backoffBaseMs ?? 200;
    const fetchLike: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));
    const auth = new ZohoAuth({
      accountsUrl: options.accountsUrl ?? DEFAULT_ACCOUNTS_URL,
      credentials: options.credentials,
      tokenCache: options.tokenCache,
      fetch: fetchLike,
      now,
      maxTries,
      backoffBaseMs,
      throttleRetryMs: options.refreshThrottleMs,
    });
    const http = new ZohoHttp({
      auth,
      apiVersion: `v${(options.apiVersion ?? DEFAULT_API_VERSION).replace(/^v/i, '')}`,
      timeoutMs: options.timeoutMs ?? 10_000,
      maxInAttemptWaitMs: options.maxInAttemptWaitMs ?? 10_000,
      maxTries,
      backoffBaseMs,
      rateLimitWaitMs: options.rateLimitWaitMs ?? 1000,
      fetch: fetchLike,
      now,
      usage: this.usageMeter,
    });
    this.api = new ZohoApi(http);
    this.limits = { ...ZOHO_LIMITS, ...options.limits };
    this.mapping = options.mapping ?? fieldMapping('zoho');
    this.deal = { stage: options.dealStage ?? DEFAULT_DEAL_STAGE, closeDays: options.dealCloseDays ?? DEFAULT_DEAL_CLOSE_DAYS, pipeline: options.dealPipeline };
    this.orders = { relatedList: options.orderRelatedList ?? ORDER.relatedList };
    this.taskStatus = options.taskStatus ?? DEFAULT_TASK_STATUS;
    this.serviceReports = options.serviceReports ?? true;
    this.twoWay = new ZohoTwoWay(this.api, { mapping: this.mapping, integrationUserId: options.integrationUserId, now });
  }

  upsertContact(input: CrmContactInput, options: CrmCallOptions = {}): Promise<CrmContactResult> {
    return upsertContact(this.api.fork(options.deadline), input, this.mapping);
  }

  logMessage(input: CrmMessageInput, options: CrmCallOptions = {}): Promise<CrmMessageResult> {
    if (input.knownCrmId) return Promise.resolve({ crmId: input.knownCrmId, created: false, calls: 0 });
    requireId(input.contactCrmId, 'logMessage');
    return this.once(`message:${input.wamid}`, () => logMessage(this.api.fork(options.deadline), input));
  }

  /** A burst of messages (≤ `limits.batchSize`) in one insert, idempotent by wamid (records.ts). */
  async logMessages(inputs: readonly CrmMessageInput[], options: CrmCallOptions = {}): Promise<CrmMessagesResult> {
    const most = Math.min(this.limits.batchSize, BATCH_LIMIT);
    // Never a silent cut: the caller maps the ids back by position.
    if (inputs.length > most) throw new CrmError('permanent', `logMessages takes at most ${most} messages`, { crm: 'zoho' });
    for (const input of inputs) requireId(input.contactCrmId, 'logMessages');
    return logMessages(this.api.fork(options.deadline), inputs);
  }

  createOpportunity(input: CrmOpportunityInput, options: CrmCallOptions = {}): Promise<CrmOpportunityResult> {
    if (input.knownCrmId) return Promise.resolve({ crmId: input.knownCrmId, created: false, calls: 0 });
    requireId(input.contactCrmId, 'createOpportunity');
    return this.once(`deal:${input.opportunityId}`, () => createOpportunity(this.api.fork(options.deadline), input, this.deal));
  }

  createTask(input: CrmTaskInput, options: CrmCallOptions = {}): Promise<CrmTaskResult> {
    if (input.knownCrmId) return Promise.resolve({ crmId: input.knownCrmId, created: false, calls: 0 });
    requireId(input.contactCrmId, 'createTask');
    return this.once(`task:${input.taskId}`, () => createTask(this.api.fork(options.deadline), input, this.taskStatus));
  }

  findLastOrder(contactCrmId: string, options: CrmCallOptions = {}): Promise<CrmLastOrderResult> {
    requireId(contactCrmId, 'findLastOrder');
    return findLastOrder(this.api.fork(options.deadline), contactCrmId, this.orders);
  }

  readProfile(contactCrmId: string, options: CrmCallOptions = {}): Promise<CrmProfileResult> {
    requireId(contactCrmId, 'readProfile');
    return readProfile(this.api.fork(options.deadline), contactCrmId);
  }

  updateContacts(updates: readonly CrmContactUpdate[], options: CrmCallOptions = {}): Promise<CrmBulkResult> {
    return updateContacts(this.api.fork(options.deadline), updates, this.mapping, this.limits.batchSize);
  }

  readContacts(crmIds: readonly string[], options: CrmCallOptions = {}): Promise<{ contacts: CrmContactReadBack[]; calls: number }> {
    return readContacts(this.api.fork(options.deadline), crmIds, this.mapping);
  }

  /** Once per report id into WhatsApp_Service_Reports; false when the account has no such module. */
  async recordServiceReport(report: CrmServiceReport, options: CrmCallOptions = {}): Promise<{ recorded: boolean; calls: number }> {
    if (!this.serviceReports) return { recorded: false, calls: 0 };
    const api = this.api.fork(options.deadline);
    try {
      return await recordServiceReport(api, report);
    } catch (error) {
      if (error instanceof CrmError && error.details.category === 'INVALID_MODULE') return { recorded: false, calls: api.calls };
      throw error;
    }
  }

  /** The day's API credits, from the rate-limit headers of the last answer that carried them. */
  usage(): { used: number; max: number } | undefined {
    return this.usageMeter.current();
  }

  /** Joins a write already under way in this process for the same key (shared/crm/in-flight.ts). */
  private once(key: string, write: () => Promise<CreatedOnce>): Promise<CreatedOnce> {
    return this.inFlight.once(key, write);
  }
}

function requireId(contactCrmId: string, what: string): void {
  if (!contactCrmId.trim()) throw new CrmError('permanent', `${what} needs the contact's Zoho id`, { crm: 'zoho' });
}
