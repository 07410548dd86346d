/**
 * Salesforce behind the CRM port, on the REST API (v66.0+, default 68.0) with the OAuth 2.0
 * client credentials flow of an External Client App. docs/salesforce.md has the API facts this
 * relies on (with sources), the objects and fields to create, and the design decisions.
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
  type CrmOpportunityInput,
  type CrmOpportunityResult,
  type CrmProfileResult,
  type CrmServiceReport,
  type CrmTaskInput,
  type CrmTaskResult,
} from '../port.ts';
import type { TokenCache } from '../token-cache.ts';
import { SalesforceApi } from './api.ts';
import { ClientCredentialsAuth, type FetchLike, type SalesforceCredentials } from './auth.ts';
import { readContacts, readProfile, updateContacts } from './bulk.ts';
import { upsertContact } from './contacts.ts';
import { SalesforceHttp } from './http.ts';
import { CASE_TYPES, DEFAULT_CASE_TYPE, logMessage, type CaseSettings } from './messages.ts';
import { createOpportunity, DEFAULT_CLOSE_DATE_DAYS, DEFAULT_OPPORTUNITY_STAGE, type OpportunitySettings } from './opportunities.ts';
import { findLastOrder } from './orders.ts';
import { recordServiceReport } from './reports.ts';
import { createTask } from './tasks.ts';
import { SalesforceTwoWay } from './two-way.ts';

export type { FetchLike, SalesforceCredentials } from './auth.ts';
export { SalesforceTwoWay } from './two-way.ts';
export { CASE_TYPES, DEFAULT_CASE_TYPE, caseType } from './messages.ts';
export * from './fields.ts';

export const DEFAULT_API_VERSION = '68.0';

/**
 * Salesforce has no per-window request limit: a rolling 24 h allocation per org (Enterprise:
 * 100,000 + 1,000 per licence) and at most 25 concurrent requests running 20 s or longer. Bulk
 * work paces to 25 requests per 10 s — 9,000 an hour, under a tenth of the smallest Enterprise
 * allocation, and never near the concurrency limit (docs/salesforce.md). 200 records per
 * sObject Collections request.
 */
export const DEFAULT_LIMITS: CrmLimits = { requests: 25, windowMs: 10_000, batchSize: 200 };

export interface SalesforceAdapterOptions {
  /** The org's My Domain URL (https://acme.my.salesforce.com); the token is asked from here. */
  readonly loginUrl: string;
  /** REST version without the v, e.g. 68.0 (66.0 or later). Default 68.0. */
  readonly apiVersion?: string;
  /**
   * The External Client App's consumer key and secret, read on every token request; with
   * `refresh` once more after Salesforce refused them (a rotated secret, OP-5).
   */
  readonly credentials: (refresh?: boolean) => Promise<SalesforceCredentials>;
  /** Where the access token is kept between calls and invocations. Default: memory. */
  readonly tokenCache?: TokenCache;
  /** Contact field mapping. Default config/crm/salesforce.json. */
  readonly mapping?: FieldMapping;
  readonly fetch?: FetchLike;
  /** Per-request timeout. Default 10 s. */
  readonly timeoutMs?: number;
  /** Tries for 5xx, network errors and timeouts. Default 3. */
  readonly maxTries?: number;
  /** First backoff pause between tries. Default 200 ms. */
  readonly backoffBaseMs?: number;
  /** A 429 with a Retry-After up to this long is waited out in the attempt. Default 10 s. */
  readonly maxInAttemptWaitMs?: number;
  /** Overrides of {@link DEFAULT_LIMITS} (CRM_RATE_LIMIT / CRM_RATE_WINDOW_SECONDS). */
  readonly limits?: Partial<CrmLimits>;
  /** StageName of new opportunities. Default Prospecting. */
  readonly opportunityStage?: string;
  /** CloseDate = intent time + this many days. Default 30. */
  readonly opportunityCloseDateDays?: number;
  /** The Opportunity lookup the contact is written to. Default ContactId (the primary contact role); null: none. */
  readonly opportunityContactField?: string | null;
  /** Tag → Case Type, first match wins. Default {@link CASE_TYPES}. */
  readonly caseTypes?: readonly (readonly [tag: string, type: string])[];
  /** Case Type when no tag matches. Default Question. */
  readonly defaultCaseType?: string;
  /**
   * The Salesforce user this integration writes as (the External Client App's run-as user):
   * records it last modified read back as our own writes. Default: the
   * SALESFORCE_INTEGRATION_USER_ID setting; unset, they are not marked.
   */
  readonly integrationUserId?: string | undefined;
}

export class SalesforceAdapter implements CrmAdapter {
  readonly kind = 'salesforce';
  readonly limits: CrmLimits;
  private readonly api: SalesforceApi;
  private readonly mapping: FieldMapping;
  private readonly opportunity: OpportunitySettings;
  private readonly cases: CaseSettings;
  /** Writes under way in this process by idempotency key: a concurrent duplicate joins the first. */
  private readonly inFlight = new InFlight();
  /** Two-way sync (SY-3): changes read back, fields and reply statuses written, purchases, merges. */
  readonly twoWay: SalesforceTwoWay;

  constructor(options: SalesforceAdapterOptions) {
    const fetchLike: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));
    const maxTries = Math.max(1, options.maxTries ?? 3);
    const backoffBaseMs = options.backoffBaseMs ?? 200;
    const apiVersion = (options.apiVersion ?? DEFAULT_API_VERSION).replace(/^v/, '');
    if (!/^\d{2,3}\.0$/.test(apiVersion)) throw new CrmError('permanent', `Salesforce API version ${apiVersion} is not like 68.0`, { crm: 'salesforce' });
    const auth = new ClientCredentialsAuth({ loginUrl: options.loginUrl, credentials: options.credentials, tokenCache: options.tokenCache, fetch: fetchLike, maxTries, backoffBaseMs });
    const http = SalesforceHttp.create({
      auth,
      apiVersion,
      fetch: fetchLike,
      timeoutMs: options.timeoutMs ?? 10_000,
      maxTries,
      backoffBaseMs,
      maxInAttemptWaitMs: options.maxInAttemptWaitMs ?? 10_000,
    });
    this.api = new SalesforceApi(http);
    this.mapping = options.mapping ?? fieldMapping('salesforce');
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.opportunity = {
      stage: options.opportunityStage ?? DEFAULT_OPPORTUNITY_STAGE,
      closeDateDays: options.opportunityCloseDateDays ?? DEFAULT_CLOSE_DATE_DAYS,
      contactField: options.opportunityContactField === undefined ? 'ContactId' : options.opportunityContactField,
    };
    this.cases = { types: options.caseTypes ?? CASE_TYPES, defaultType: options.defaultCaseType ?? DEFAULT_CASE_TYPE };
    this.twoWay = new SalesforceTwoWay(this.api, { mapping: this.mapping, integrationUserId: options.integrationUserId });
  }

  usage(): { used: number; max: number } | undefined {
    return this.api.http.usage();
  }

  upsertContact(input: CrmContactInput, options: CrmCallOptions = {}): Promise<CrmContactResult> {
    return upsertContact(this.api.fork(options.deadline), input, this.mapping);
  }

  logMessage(input: CrmMessageInput, options: CrmCallOptions = {}): Promise<CrmMessageResult> {
    if (input.knownCrmId) return Promise.resolve({ crmId: input.knownCrmId, created: false, calls: 0 });
    return this.once(`message:${input.wamid}`, () => logMessage(this.api.fork(options.deadline), input, this.cases));
  }

  createOpportunity(input: CrmOpportunityInput, options: CrmCallOptions = {}): Promise<CrmOpportunityResult> {
    if (input.knownCrmId) return Promise.resolve({ crmId: input.knownCrmId, created: false, calls: 0 });
    return this.once(`opportunity:${input.opportunityId}`, () => createOpportunity(this.api.fork(options.deadline), input, this.opportunity));
  }

  createTask(input: CrmTaskInput, options: CrmCallOptions = {}): Promise<CrmTaskResult> {
    if (input.knownCrmId) return Promise.resolve({ crmId: input.knownCrmId, created: false, calls: 0 });
    requireId(input.contactCrmId, 'createTask');
    return this.once(`task:${input.taskId}`, () => createTask(this.api.fork(options.deadline), input));
  }

  findLastOrder(contactCrmId: string, options: CrmCallOptions = {}): Promise<CrmLastOrderResult> {
    requireId(contactCrmId, 'findLastOrder');
    return findLastOrder(this.api.fork(options.deadline), contactCrmId);
  }

  readProfile(contactCrmId: string, options: CrmCallOptions = {}): Promise<CrmProfileResult> {
    requireId(contactCrmId, 'readProfile');
    return readProfile(this.api.fork(options.deadline), contactCrmId);
  }

  updateContacts(updates: readonly CrmContactUpdate[], options: CrmCallOptions = {}): Promise<CrmBulkResult> {
    return updateContacts(this.api.fork(options.deadline), updates, this.mapping, this.limits.batchSize);
  }

  readContacts(crmIds: readonly string[], options: CrmCallOptions = {}): Promise<{ readonly contacts: readonly CrmContactReadBack[]; readonly calls: number }> {
    return readContacts(this.api.fork(options.deadline), crmIds, this.mapping, this.limits.batchSize);
  }

  recordServiceReport(report: CrmServiceReport, options: CrmCallOptions = {}): Promise<{ readonly recorded: boolean; readonly calls: number }> {
    return this.once(`report:${report.reportId}`, async () => {
      const result = await recordServiceReport(this.api.fork(options.deadline), report);
      return { crmId: report.reportId, created: false, calls: result.calls };
    }).then(({ calls }) => ({ recorded: true, calls }));
  }

  /** Joins a write already under way in this process for the same key (shared/crm/in-flight.ts). */
  private once(key: string, write: () => Promise<CreatedOnce>): Promise<CreatedOnce> {
    return this.inFlight.once(key, write);
  }
}

function requireId(contactCrmId: string, what: string): void {
  if (!contactCrmId.trim()) throw new CrmError('permanent', `${what} needs the contact's Salesforce id`, { crm: 'salesforce' });
}
