/**
 * HubSpot behind the CRM port, on HubSpot's date-versioned CRM API (default 2026-09).
 * See docs/hubspot.md for the API facts this relies on and the design decisions.
 */
import {
  CrmError,
  type CrmAdapter,
  type CrmBulkResult,
  type CrmCallOptions,
  type CrmContactReadBack,
  type CrmContactUpdate,
  type CrmLimits,
  type CrmContactInput,
  type CrmContactResult,
  type CrmLastOrderResult,
  type CrmMessageInput,
  type CrmMessageResult,
  type CrmMessagesResult,
  type CrmOpportunityInput,
  type CrmOpportunityResult,
  type CrmProfileResult,
  type CrmTaskInput,
  type CrmTaskResult,
} from '#shared/crm/port';
import type { FieldMapping } from '#shared/crm/field-mapping';
import { fieldMapping } from '#shared/crm/mappings';
import { ENV } from '#shared/resources';
import { HubSpotApi } from './api.ts';
import { readContacts, updateContacts } from './bulk.ts';
import { upsertContact } from './contacts.ts';
import { HubSpotHttp, type AccessToken, type FetchLike } from './http.ts';
import { logMessage, logMessages, type DedupStrategy, type MessageDedupStrategy } from './messages.ts';
import { createOpportunity, type DealSettings } from './opportunities.ts';
import { findLastOrder, type OrderSettings } from './orders.ts';
import { readProfile } from './profile.ts';
import {
  COMMUNICATION,
  DEAL,
  DEFAULT_DEAL_PIPELINE,
  DEFAULT_DEAL_STAGE,
  DEFAULT_ORDER_CARRIER_PROPERTY,
  TASK,
  type HubSpotObjectType,
} from './properties.ts';
import { createTask } from './tasks.ts';
import { HubSpotTwoWay } from './two-way.ts';
import { DEFAULT_API_BASE, DEFAULT_API_VERSION } from './setup.ts';

export { setupHubSpot, DEFAULT_API_BASE, DEFAULT_API_VERSION } from './setup.ts';
export type { HubSpotSetupOptions, HubSpotSetupResult } from './setup.ts';
export type { DedupStrategy, MessageDedupStrategy } from './messages.ts';
export { HubSpotTwoWay } from './two-way.ts';
export {
  AUTOMATION_PROPERTIES,
  CONTACT_ADDRESS_PROPERTIES,
  DEAL,
  INTELLIGENCE_PROPERTIES,
  ORDER,
  TASK,
  TWO_WAY_PROPERTIES,
  SEGMENT_VALUES,
  type Segment,
} from './properties.ts';

export interface HubSpotAdapterOptions {
  /** Default `HUBSPOT_API_BASE` or https://api.hubapi.com. */
  readonly baseUrl?: string;
  /** A fixed token, or one read again when HubSpot refuses it (a rotated token, OP-5). */
  readonly accessToken: string | AccessToken;
  /** Date version in the path, e.g. 2026-09. Default `HUBSPOT_API_VERSION` or 2026-09. */
  readonly apiVersion?: string;
  /** Per-request timeout. Default 10 s. */
  readonly timeoutMs?: number;
  /** A 429 with a Retry-After up to this long is waited out in the attempt. Default 10 s. */
  readonly maxInAttemptWaitMs?: number;
  /** Tries for 5xx, network errors and timeouts. Default 3. */
  readonly maxTries?: number;
  /** First backoff pause between tries. Default 200 ms. */
  readonly backoffBaseMs?: number;
  /**
   * How logged messages are de-duplicated. `auto` (default) reads once per adapter whether
   * HubSpot enforces `hasUniqueValue` on the communications' message id property.
   */
  readonly messageDedup?: MessageDedupStrategy | 'auto';
  /**
   * How opportunities (deals) are de-duplicated. `auto` (default) reads once per adapter whether
   * HubSpot reports `hasUniqueValue` on the deals' opportunity id property.
   */
  readonly opportunityDedup?: DedupStrategy | 'auto';
  /** Internal id of the deal pipeline. Default `default` (HubSpot's default pipeline). */
  readonly dealPipeline?: string;
  /** Internal id of the stage new deals start in. Default `appointmentscheduled`. */
  readonly dealStage?: string;
  /** Close date = intent time + this many days. Default: no close date (HubSpot does not require it). */
  readonly dealCloseDateDays?: number;
  /**
   * How follow-up tasks are de-duplicated. `auto` (default) reads once per adapter whether
   * HubSpot reports `hasUniqueValue` on the tasks' task id property.
   */
  readonly taskDedup?: DedupStrategy | 'auto';
  /**
   * The order property the carrier is read from. HubSpot has no standard one; default
   * `whatsapp_carrier` (a property the shop connector may fill; absent → no carrier).
   */
  readonly orderCarrierProperty?: string;
  readonly fetch?: FetchLike;
  /** Field mapping instead of config/crm/hubspot.json (tests, a second portal). */
  readonly mapping?: FieldMapping | undefined;
  /** The request limit the bulk work paces to (default {@link HUBSPOT_LIMITS}). */
  readonly limits?: Partial<CrmLimits> | undefined;
}

/** The unique idempotency-key property of each object type with run-time dedup detection. */
const DEDUP_KEY = { communications: COMMUNICATION.messageId, deals: DEAL.opportunityId, tasks: TASK.taskId } as const;
type DedupObject = keyof typeof DEDUP_KEY;

/**
 * HubSpot's documented burst limit of a private app: 100 requests per 10 s (Free / Starter;
 * 190 on Professional / Enterprise, 250 with the API limit increase). The bulk work paces to the
 * lowest unless `CRM_RATE_LIMIT` says otherwise. Batch endpoints take 100 inputs.
 */
export const HUBSPOT_LIMITS: CrmLimits = { requests: 100, windowMs: 10_000, batchSize: 100 };

export class HubSpotAdapter implements CrmAdapter {
  readonly kind = 'hubspot' as const;
  readonly limits: CrmLimits;
  private readonly mapping: FieldMapping;
  private readonly api: HubSpotApi;
  private readonly dedup: Readonly<Record<DedupObject, DedupStrategy | 'auto'>>;
  private readonly detectedDedup = new Map<DedupObject, Promise<DedupStrategy>>();
  private readonly deal: DealSettings;
  /** Message logs under way in this process, by wamid: a concurrent duplicate joins the first. */
  private readonly inFlight = new Map<string, Promise<CrmMessageResult>>();
  /** Opportunities under way in this process, by opportunity id. */
  private readonly opportunitiesInFlight = new Map<string, Promise<CrmOpportunityResult>>();
  /** Tasks under way in this process, by task id. */
  private readonly tasksInFlight = new Map<string, Promise<CrmTaskResult>>();
  private readonly orders: OrderSettings;
  /** Two-way sync (SY-3): changes read back, fields and reply statuses written, purchases, merges. */
  readonly twoWay: HubSpotTwoWay;

  constructor(options: HubSpotAdapterOptions) {
    this.limits = { ...HUBSPOT_LIMITS, ...options.limits };
    this.mapping = options.mapping ?? fieldMapping('hubspot');
    const http = new HubSpotHttp({
      baseUrl: options.baseUrl ?? process.env[ENV.hubspotApiBase] ?? DEFAULT_API_BASE,
      accessToken: options.accessToken,
      timeoutMs: options.timeoutMs,
      maxInAttemptWaitMs: options.maxInAttemptWaitMs,
      maxTries: options.maxTries,
      backoffBaseMs: options.backoffBaseMs,
      fetch: options.fetch,
    });
    this.api = new HubSpotApi(http, options.apiVersion ?? process.env[ENV.hubspotApiVersion] ?? DEFAULT_API_VERSION);
    this.twoWay = new HubSpotTwoWay(this.api, { mapping: this.mapping });
    this.dedup = {
      communications: options.messageDedup ?? 'auto',
      deals: options.opportunityDedup ?? 'auto',
      tasks: options.taskDedup ?? 'auto',
    };
    this.orders = { carrierProperty: options.orderCarrierProperty ?? DEFAULT_ORDER_CARRIER_PROPERTY };
    this.deal = {
      pipeline: options.dealPipeline ?? DEFAULT_DEAL_PIPELINE,
      stage: options.dealStage ?? DEFAULT_DEAL_STAGE,
      closeDateDays: options.dealCloseDateDays,
    };
  }

  upsertContact(input: CrmContactInput, options: CrmCallOptions = {}): Promise<CrmContactResult> {
    return upsertContact(this.api.fork(options.deadline), input, this.mapping);
  }

  async logMessage(input: CrmMessageInput, options: CrmCallOptions = {}): Promise<CrmMessageResult> {
    if (input.knownCrmId) return { crmId: input.knownCrmId, created: false, calls: 0 };
    const running = this.inFlight.get(input.wamid);
    if (running) {
      const result = await running;
      return { crmId: result.crmId, created: false, calls: 0 };
    }
    const api = this.api.fork(options.deadline);
    const attempt = this.dedupStrategy(api, 'communications').then((strategy) => logMessage(api, input, strategy));
    this.inFlight.set(input.wamid, attempt);
    try {
      return await attempt;
    } finally {
      this.inFlight.delete(input.wamid);
    }
  }

  async createOpportunity(input: CrmOpportunityInput, options: CrmCallOptions = {}): Promise<CrmOpportunityResult> {
    if (input.knownCrmId) return { crmId: input.knownCrmId, created: false, calls: 0 };
    const running = this.opportunitiesInFlight.get(input.opportunityId);
    if (running) {
      const result = await running;
      return { crmId: result.crmId, created: false, calls: 0 };
    }
    const api = this.api.fork(options.deadline);
    const attempt = this.dedupStrategy(api, 'deals').then((strategy) =>
      createOpportunity(api, input, strategy, this.deal),
    );
    this.opportunitiesInFlight.set(input.opportunityId, attempt);
    try {
      return await attempt;
    } finally {
      this.opportunitiesInFlight.delete(input.opportunityId);
    }
  }

  async logMessages(inputs: readonly CrmMessageInput[], options: CrmCallOptions = {}): Promise<CrmMessagesResult> {
    const api = this.api.fork(options.deadline);
    // Without HubSpot's unique key a batch create could log a message twice: one at a time then.
    if ((await this.dedupStrategy(api, 'communications')) !== 'unique-property') throw new CrmError('permanent', 'batch logging needs the unique whatsapp_message_id property', { crm: 'hubspot', category: 'BATCH_UNSUPPORTED' });
    return logMessages(api, inputs.slice(0, this.limits.batchSize));
  }

  findLastOrder(contactCrmId: string, options: CrmCallOptions = {}): Promise<CrmLastOrderResult> {
    requireId(contactCrmId, 'findLastOrder');
    return findLastOrder(this.api.fork(options.deadline), contactCrmId, this.orders);
  }

  readProfile(contactCrmId: string, options: CrmCallOptions = {}): Promise<CrmProfileResult> {
    requireId(contactCrmId, 'readProfile');
    return readProfile(this.api.fork(options.deadline), contactCrmId);
  }

  async createTask(input: CrmTaskInput, options: CrmCallOptions = {}): Promise<CrmTaskResult> {
    if (input.knownCrmId) return { crmId: input.knownCrmId, created: false, calls: 0 };
    requireId(input.contactCrmId, 'createTask');
    const running = this.tasksInFlight.get(input.taskId);
    if (running) {
      const result = await running;
      return { crmId: result.crmId, created: false, calls: 0 };
    }
    const api = this.api.fork(options.deadline);
    const attempt = this.dedupStrategy(api, 'tasks').then((strategy) => createTask(api, input, strategy));
    this.tasksInFlight.set(input.taskId, attempt);
    try {
      return await attempt;
    } finally {
      this.tasksInFlight.delete(input.taskId);
    }
  }

  updateContacts(updates: readonly CrmContactUpdate[], options: CrmCallOptions = {}): Promise<CrmBulkResult> {
    return updateContacts(this.api.fork(options.deadline), updates, this.mapping);
  }

  readContacts(crmIds: readonly string[], options: CrmCallOptions = {}): Promise<{ contacts: CrmContactReadBack[]; calls: number }> {
    return readContacts(this.api.fork(options.deadline), crmIds, this.mapping);
  }

  /**
   * HubSpot has no object every account can write a weekly figure to (custom objects need
   * Enterprise, reports are read-only over the API): the service report stays the CSV export
   * (docs/hubspot.md, "Service quality").
   */
  recordServiceReport(): Promise<{ recorded: boolean; calls: number }> {
    return Promise.resolve({ recorded: false, calls: 0 });
  }

  /** The configured strategy, or (auto) what HubSpot reports about the key property, read once. */
  private dedupStrategy(api: HubSpotApi, objectType: DedupObject & HubSpotObjectType): Promise<DedupStrategy> {
    const configured = this.dedup[objectType];
    if (configured !== 'auto') return Promise.resolve(configured);
    let detected = this.detectedDedup.get(objectType);
    if (!detected) {
      detected = api.readProperty(objectType, DEDUP_KEY[objectType]).then(
        (property): DedupStrategy => (property?.hasUniqueValue === true ? 'unique-property' : 'timeline-scan'),
        (error: unknown) => {
          this.detectedDedup.delete(objectType);
          throw error;
        },
      );
      this.detectedDedup.set(objectType, detected);
    }
    return detected;
  }
}

function requireId(contactCrmId: string, what: string): void {
  if (!contactCrmId.trim()) throw new CrmError('permanent', `${what} needs the contact's HubSpot id`, { crm: 'hubspot' });
}
