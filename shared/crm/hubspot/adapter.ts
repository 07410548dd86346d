/**
 * HubSpot behind the CRM port, on HubSpot's date-versioned CRM API (default 2026-09).
 * See docs/hubspot.md for the API facts this relies on and the design decisions.
 */
import type {
  CrmAdapter,
  CrmContactInput,
  CrmContactResult,
  CrmMessageInput,
  CrmMessageResult,
} from '#shared/crm/port';
import { ENV } from '#shared/resources';
import { HubSpotApi } from './api.ts';
import { upsertContact } from './contacts.ts';
import { HubSpotHttp, type FetchLike } from './http.ts';
import { logMessage, type MessageDedupStrategy } from './messages.ts';
import { COMMUNICATION } from './properties.ts';
import { DEFAULT_API_BASE, DEFAULT_API_VERSION } from './setup.ts';

export { setupHubSpot, DEFAULT_API_BASE, DEFAULT_API_VERSION } from './setup.ts';
export type { HubSpotSetupOptions, HubSpotSetupResult } from './setup.ts';
export type { MessageDedupStrategy } from './messages.ts';

export interface HubSpotAdapterOptions {
  /** Default `HUBSPOT_API_BASE` or https://api.hubapi.com. */
  readonly baseUrl?: string;
  readonly accessToken: string;
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
  readonly fetch?: FetchLike;
}

export class HubSpotAdapter implements CrmAdapter {
  readonly kind = 'hubspot';
  private readonly api: HubSpotApi;
  private readonly messageDedup: MessageDedupStrategy | 'auto';
  private detectedDedup: Promise<MessageDedupStrategy> | undefined;
  /** Message logs under way in this process, by wamid: a concurrent duplicate joins the first. */
  private readonly inFlight = new Map<string, Promise<CrmMessageResult>>();

  constructor(options: HubSpotAdapterOptions) {
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
    this.messageDedup = options.messageDedup ?? 'auto';
  }

  upsertContact(input: CrmContactInput): Promise<CrmContactResult> {
    return upsertContact(this.api.fork(), input);
  }

  async logMessage(input: CrmMessageInput): Promise<CrmMessageResult> {
    if (input.knownCrmId) return { crmId: input.knownCrmId, created: false, calls: 0 };
    const running = this.inFlight.get(input.wamid);
    if (running) {
      const result = await running;
      return { crmId: result.crmId, created: false, calls: 0 };
    }
    const api = this.api.fork();
    const attempt = this.dedupStrategy(api).then((strategy) => logMessage(api, input, strategy));
    this.inFlight.set(input.wamid, attempt);
    try {
      return await attempt;
    } finally {
      this.inFlight.delete(input.wamid);
    }
  }

  private dedupStrategy(api: HubSpotApi): Promise<MessageDedupStrategy> {
    if (this.messageDedup !== 'auto') return Promise.resolve(this.messageDedup);
    this.detectedDedup ??= api.readProperty('communications', COMMUNICATION.messageId).then(
      (property) => (property?.hasUniqueValue === true ? 'unique-property' : 'timeline-scan'),
      (error: unknown) => {
        this.detectedDedup = undefined;
        throw error;
      },
    );
    return this.detectedDedup;
  }
}
