/**
 * The generic signed webhook behind the CRM port (SCRM_CRM=webhook, SY-2): every CRM write is
 * one signed POST of an event to a catch hook (Zapier Catch Raw Hook, Make custom webhook,
 * Pabbly …), which then does what the business wants with it. docs/crm-webhook.md has the event
 * reference, the API facts it relies on and the decisions.
 *
 * A catch hook answers nothing but "received", so:
 * - idempotency lives in the `webhook-id` header: derived from the event's key (wamid,
 *   opportunity id, task id, report id, the contact's id and state), the receiver drops a repeat;
 * - a contact's CRM id is our contactId, a message's (opportunity's, task's) its webhook-id;
 * - nothing can be read back: findLastOrder, readProfile and readContacts answer empty, with 0 calls.
 */
import type {
  CrmAdapter,
  CrmBulkResult,
  CrmCallOptions,
  CrmContactInput,
  CrmContactResult,
  CrmContactUpdate,
  CrmLastOrderResult,
  CrmLimits,
  CrmMessageInput,
  CrmMessageResult,
  CrmOpportunityInput,
  CrmOpportunityResult,
  CrmProfileResult,
  CrmServiceReport,
  CrmTaskInput,
  CrmTaskResult,
  CrmUpdateOutcome,
  CrmContactReadBack,
} from '#shared/crm/port';
import { CrmError } from '#shared/crm/port';
import type { FieldMapping } from '#shared/crm/field-mapping';
import { fieldMapping } from '#shared/crm/mappings';
import {
  contactsUpdatedBatches,
  contactUpserted,
  MAX_BATCH_CONTACTS,
  MAX_POST_BYTES,
  messageLogged,
  opportunityCreated,
  serviceReport,
  taskCreated,
  type WebhookEvent,
} from './events.ts';
import { WebhookHttp, type FetchLike, type WebhookSecret } from './http.ts';

export { webhookId, EVENT_TYPES, MAX_MESSAGE_BODY_CHARS, MAX_POST_BYTES, type WebhookEventType } from './events.ts';
export type { FetchLike, WebhookSecret } from './http.ts';

/**
 * Default pace of the bulk work: 20 POSTs a second. Zapier documents a 429 from one hook past
 * ~30 requests a second and from one user past 10,000 (some pages: 20,000) every 5 minutes
 * (~33/s); 20/s stays under both with room for the real-time sync. Overridable per deployment
 * (CRM_RATE_LIMIT / CRM_RATE_WINDOW_SECONDS) or with `limits`.
 */
export const DEFAULT_WEBHOOK_LIMITS: CrmLimits = { requests: 20, windowMs: 1_000, batchSize: MAX_BATCH_CONTACTS };

export interface WebhookAdapterOptions {
  /** The catch hook's URL (CRM_WEBHOOK_URL). It is a credential too: never put in an error or log. */
  readonly url: string;
  /** The `whsec_` signing secret (CRM_WEBHOOK_SECRET), read again once after a 401/403. */
  readonly secret: WebhookSecret;
  /** The names of the `fields` keys. Default config/crm/webhook.json. */
  readonly mapping?: FieldMapping | undefined;
  readonly fetch?: FetchLike | undefined;
  /** Per-request timeout. Default 10 s. */
  readonly timeoutMs?: number | undefined;
  /** Tries for 5xx, 408/409/425, network errors and timeouts inside one attempt. Default 3. */
  readonly maxTries?: number | undefined;
  /** First pause between tries (doubles). Default 200 ms. */
  readonly backoffBaseMs?: number | undefined;
  /** A 429 whose Retry-After is at most this is waited out in the attempt. Default 5 s. */
  readonly maxInAttemptWaitMs?: number | undefined;
  /** Requests per window for the bulk work, and contacts per contacts.updated (at most 100). Default {@link DEFAULT_WEBHOOK_LIMITS}. */
  readonly limits?: Partial<CrmLimits> | undefined;
  /** Clock for event and signature timestamps (tests). Default Date.now. */
  readonly now?: (() => number) | undefined;
}

export class WebhookAdapter implements CrmAdapter {
  readonly kind = 'webhook';
  readonly limits: CrmLimits;
  private readonly http: WebhookHttp;
  private readonly mapping: FieldMapping;
  private readonly now: () => number;
  /** Deliveries under way in this process, by webhook-id: a concurrent duplicate joins the first. */
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(options: WebhookAdapterOptions) {
    if (!/^https?:\/\//i.test(options.url)) throw new Error('WebhookAdapter: url must be an http(s) URL (CRM_WEBHOOK_URL)');
    this.now = options.now ?? Date.now;
    this.mapping = options.mapping ?? fieldMapping('webhook');
    const given = options.limits ?? {};
    this.limits = {
      requests: given.requests ?? DEFAULT_WEBHOOK_LIMITS.requests,
      windowMs: given.windowMs ?? DEFAULT_WEBHOOK_LIMITS.windowMs,
      batchSize: Math.max(1, Math.min(MAX_BATCH_CONTACTS, given.batchSize ?? MAX_BATCH_CONTACTS)),
    };
    this.http = new WebhookHttp({
      url: options.url,
      secret: options.secret,
      timeoutMs: options.timeoutMs,
      maxTries: options.maxTries,
      backoffBaseMs: options.backoffBaseMs,
      maxInAttemptWaitMs: options.maxInAttemptWaitMs,
      fetch: options.fetch,
      now: this.now,
    });
  }

  async upsertContact(input: CrmContactInput, options: CrmCallOptions = {}): Promise<CrmContactResult> {
    requireId(input.contactId, 'upsertContact', 'contactId');
    const calls = await this.deliver(contactUpserted(input, this.mapping, this.now()), options);
    // The receiver keys contacts by our id; "created" is our first sync of it to this CRM.
    return { crmId: input.contactId, created: input.knownCrmId === undefined, matchedExisting: false, calls };
  }

  async logMessage(input: CrmMessageInput, options: CrmCallOptions = {}): Promise<CrmMessageResult> {
    if (input.knownCrmId) return { crmId: input.knownCrmId, created: false, calls: 0 };
    requireId(input.contactCrmId, 'logMessage', 'contact CRM id');
    const event = messageLogged(input);
    const calls = await this.deliver(event, options);
    return { crmId: event.id, created: calls > 0, calls };
  }

  async createOpportunity(input: CrmOpportunityInput, options: CrmCallOptions = {}): Promise<CrmOpportunityResult> {
    if (input.knownCrmId) return { crmId: input.knownCrmId, created: false, calls: 0 };
    requireId(input.contactCrmId, 'createOpportunity', 'contact CRM id');
    const event = opportunityCreated(input);
    const calls = await this.deliver(event, options);
    return { crmId: event.id, created: calls > 0, calls };
  }

  async createTask(input: CrmTaskInput, options: CrmCallOptions = {}): Promise<CrmTaskResult> {
    if (input.knownCrmId) return { crmId: input.knownCrmId, created: false, calls: 0 };
    requireId(input.contactCrmId, 'createTask', 'contact CRM id');
    const event = taskCreated(input, this.now());
    const calls = await this.deliver(event, options);
    return { crmId: event.id, created: calls > 0, calls };
  }

  async recordServiceReport(report: CrmServiceReport, options: CrmCallOptions = {}): Promise<{ recorded: boolean; calls: number }> {
    const calls = await this.deliver(serviceReport(report, this.now()), options);
    return { recorded: true, calls };
  }

  /**
   * One contacts.updated POST per ≤ 100 contacts (halved while over the size cap). The receiver
   * cannot say a contact is unknown, so none is reported `missing`. When no batch got through
   * the error is thrown (as from any other write); after a partial success the undelivered
   * updates carry it, and no further batch is tried once the error says "later" or "gone".
   */
  async updateContacts(updates: readonly CrmContactUpdate[], options: CrmCallOptions = {}): Promise<CrmBulkResult> {
    const http = this.http.fork(options.deadline);
    const outcomes: CrmUpdateOutcome[] = updates.map(() => ({ ok: true }));
    const { batches, tooLarge } = contactsUpdatedBatches(updates, this.mapping, this.now(), { maxContacts: this.limits.batchSize, maxBytes: MAX_POST_BYTES });
    for (const index of tooLarge) {
      outcomes[index] = { ok: false, error: new CrmError('permanent', `one contact's fields exceed the ${MAX_POST_BYTES}-byte webhook body cap`, { crm: 'webhook', category: 'PAYLOAD_TOO_LARGE' }) };
    }
    let delivered = 0;
    let stop: CrmError | undefined;
    for (const batch of batches) {
      const error = stop ?? (await this.sendCatching(http, batch.event));
      if (!error) {
        delivered += 1;
        continue;
      }
      if (delivered === 0 && (error.retryable || error.details.category === 'WEBHOOK_GONE')) throw error;
      for (const index of batch.indexes) outcomes[index] = { ok: false, error };
      if (error.retryable || error.details.category === 'WEBHOOK_GONE') stop = error;
    }
    return { outcomes, calls: http.calls };
  }

  readContacts(_crmIds: readonly string[], _options?: CrmCallOptions): Promise<{ contacts: readonly CrmContactReadBack[]; calls: number }> {
    return Promise.resolve({ contacts: [], calls: 0 });
  }

  findLastOrder(_contactCrmId: string, _options?: CrmCallOptions): Promise<CrmLastOrderResult> {
    return Promise.resolve({ order: undefined, calls: 0 });
  }

  readProfile(_contactCrmId: string, _options?: CrmCallOptions): Promise<CrmProfileResult> {
    return Promise.resolve({ calls: 0 });
  }

  /** Sends the event once per process at a time; the calls (POSTs) it made, 0 when it joined one under way. */
  private async deliver(event: WebhookEvent, options: CrmCallOptions): Promise<number> {
    if (event.bytes > MAX_POST_BYTES) {
      throw new CrmError('permanent', `${event.type} body of ${event.bytes} bytes exceeds the ${MAX_POST_BYTES}-byte webhook body cap`, { crm: 'webhook', category: 'PAYLOAD_TOO_LARGE' });
    }
    const running = this.inFlight.get(event.id);
    if (running) {
      await running;
      return 0;
    }
    const http = this.http.fork(options.deadline);
    const attempt = http.send(event);
    this.inFlight.set(event.id, attempt);
    try {
      await attempt;
      return http.calls;
    } finally {
      this.inFlight.delete(event.id);
    }
  }

  private async sendCatching(http: WebhookHttp, event: WebhookEvent): Promise<CrmError | undefined> {
    try {
      await http.send(event);
      return undefined;
    } catch (error) {
      if (error instanceof CrmError) return error;
      throw error;
    }
  }
}

function requireId(value: string, what: string, name: string): void {
  if (!value.trim()) throw new CrmError('permanent', `${what} needs the ${name}`, { crm: 'webhook', category: 'MISSING_ID' });
}
