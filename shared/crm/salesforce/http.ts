/**
 * The HTTP layer under the Salesforce adapter: the session from {@link ClientCredentialsAuth}
 * (renewed once on 401 INVALID_SESSION_ID), per-request timeouts, bounded retries inside one
 * attempt, the caller's deadline, and Salesforce's answers mapped onto {@link CrmError} kinds.
 * Every API request sent is counted, so an operation reports its CRM calls honestly; the
 * `Sforce-Limit-Info` header of every answer is kept for `usage()`. The one SOAP call (merge(),
 * soap.ts) goes through the same loop: its faults are read as the REST statuses of their codes.
 */
import { parseJson, parseRetryAfter } from '../../http.ts';
import { CrmError } from '../port.ts';
import type { CachedToken } from '../token-cache.ts';
import type { ClientCredentialsAuth, FetchLike } from './auth.ts';
import { errorCode, kindOf, REQUEST_LIMIT_EXCEEDED, salesforceError } from './errors.ts';
import { soapAnswer } from './soap.ts';

export interface SalesforceHttpSettings {
  readonly auth: ClientCredentialsAuth;
  /** REST version without the v, e.g. 68.0: paths are /services/data/v68.0/… */
  readonly apiVersion: string;
  readonly fetch: FetchLike;
  readonly timeoutMs: number;
  readonly maxTries: number;
  readonly backoffBaseMs: number;
  /** A 429 whose Retry-After is at most this long is waited out inside the attempt. */
  readonly maxInAttemptWaitMs: number;
}

export interface SalesforceRequest {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Below /services/data/vXX.X, starting with a slash. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | undefined>>;
  readonly body?: unknown;
  /** Names the request in errors, e.g. "contact upsert". */
  readonly what: string;
  /** Answers the caller handles itself (a 404 on a read, 300 or DUPLICATE_VALUE on an upsert). */
  readonly tolerate?: (status: number, body: unknown) => boolean;
  /**
   * The request creates a record (a POST without an idempotency key Salesforce enforces by
   * itself). A lost answer then leaves its outcome unknown: not retried here, the caller looks first.
   */
  readonly creates?: boolean;
}

/**
 * A SOAP API call (`/services/Soap/u/{version}`, soap.ts): the envelope is built per try, since
 * the session id travels in its SessionHeader; a fault answers as its REST status would.
 */
export interface SoapRequest {
  /** The whole envelope for this session id. */
  readonly envelope: (sessionId: string) => string;
  readonly what: string;
  readonly tolerate?: (status: number, body: unknown) => boolean;
}

export interface SalesforceResponse {
  readonly status: number;
  readonly body: unknown;
}

export interface ApiUsage {
  readonly used: number;
  readonly max: number;
}

type Outcome = { kind: 'answer'; status: number; body: unknown; retryAfterMs: number | undefined } | { kind: 'failed'; reason: string };

const parseJsonAnswer = (status: number, text: string) => ({ status, body: parseJson(text) });

/** State shared by all forks of one adapter. */
interface Shared extends SalesforceHttpSettings {
  usage: ApiUsage | undefined;
}

/**
 * Salesforce sends no Retry-After with REQUEST_LIMIT_EXCEEDED. Too many long-running requests
 * clear within a minute; an exhausted 24 h allocation needs longer (it rolls, it does not reset).
 */
export const LIMIT_RETRY_AFTER_MS = 60_000;
export const DAILY_LIMIT_RETRY_AFTER_MS = 15 * 60_000;
/** A request is not started with less time than this left before the deadline. */
const MIN_REQUEST_MS = 250;
const MAX_RATE_LIMIT_WAITS = 3;

/** `api-usage=10018/100000; api-bursts=1/750` → { used: 10018, max: 100000 }. */
export function parseLimitInfo(header: string | null): ApiUsage | undefined {
  const match = header ? /api-usage=(\d+)\/(\d+)/.exec(header) : null;
  return match ? { used: Number(match[1]), max: Number(match[2]) } : undefined;
}

export class SalesforceHttp {
  /** API requests sent through this instance (each try counts; token requests do not). */
  calls = 0;

  private constructor(
    private readonly shared: Shared,
    private readonly deadline: number | undefined,
  ) {}

  static create(settings: SalesforceHttpSettings): SalesforceHttp {
    return new SalesforceHttp({ ...settings, usage: undefined }, undefined);
  }

  /** Same settings and session, its own call counter (one per operation) and deadline. */
  fork(deadline?: number): SalesforceHttp {
    return new SalesforceHttp(this.shared, deadline ?? this.deadline);
  }

  get apiVersion(): string {
    return this.shared.apiVersion;
  }

  usage(): ApiUsage | undefined {
    return this.shared.usage;
  }

  private left(): number {
    return this.deadline === undefined ? Infinity : this.deadline - Date.now();
  }

  private timeout(): number {
    return Math.max(1, Math.min(this.shared.timeoutMs, this.left()));
  }

  private async pause(ms: number): Promise<boolean> {
    if (ms + MIN_REQUEST_MS > this.left()) return false;
    await new Promise((resolve) => setTimeout(resolve, ms));
    return true;
  }

  send(request: SalesforceRequest): Promise<SalesforceResponse> {
    return this.exchange(request, (session) => this.tryOnce(request, session));
  }

  /** A SOAP call: same session, renewal, retries, deadline and counting as {@link send}. */
  sendSoap(request: SoapRequest): Promise<SalesforceResponse> {
    return this.exchange({ what: request.what, tolerate: request.tolerate }, (session) => this.trySoap(request, session));
  }

  private async exchange(request: Pick<SalesforceRequest, 'what' | 'tolerate' | 'creates'>, attempt: (session: CachedToken) => Promise<Outcome>): Promise<SalesforceResponse> {
    if (this.left() < MIN_REQUEST_MS) {
      throw new CrmError('transient', `no time left in this invocation for the Salesforce ${request.what}`, { crm: 'salesforce' });
    }
    let session = await this.shared.auth.session(this.timeout());
    let renewed = false;
    let transientFailures = 0;
    let rateLimitWaits = 0;
    for (;;) {
      if (this.left() < MIN_REQUEST_MS) {
        throw new CrmError('transient', `no time left in this invocation for the Salesforce ${request.what}`, { crm: 'salesforce' });
      }
      const outcome = await attempt(session);
      if (outcome.kind === 'failed') {
        transientFailures += 1;
        if (request.creates) {
          throw new CrmError('transient', `Salesforce did not answer the ${request.what} (${outcome.reason}); the record may have been made`, { crm: 'salesforce', outcomeUnknown: true });
        }
        if (transientFailures < this.shared.maxTries && (await this.pause(this.backoff(transientFailures - 1)))) continue;
        throw new CrmError('transient', `Salesforce unreachable on the ${request.what}: ${outcome.reason}`, { crm: 'salesforce' });
      }
      const { status, body, retryAfterMs } = outcome;
      if (status >= 200 && status < 300) return { status, body };
      if (request.tolerate?.(status, body)) return { status, body };
      if (status === 401 && !renewed) {
        // The session timed out or was revoked (INVALID_SESSION_ID): a new token, once.
        renewed = true;
        session = await this.shared.auth.renew(session, this.timeout());
        continue;
      }
      const kind = kindOf(status, body);
      if (kind === 'rate_limited') {
        const limitExceeded = errorCode(body) === REQUEST_LIMIT_EXCEEDED;
        const waitMs = retryAfterMs ?? (limitExceeded ? this.limitRetryAfter() : this.backoff(rateLimitWaits));
        if (waitMs <= this.shared.maxInAttemptWaitMs && rateLimitWaits < MAX_RATE_LIMIT_WAITS && (await this.pause(waitMs))) {
          rateLimitWaits += 1;
          continue;
        }
        throw salesforceError(status, body, request.what, { retryAfterMs: waitMs });
      }
      if (kind === 'transient') {
        transientFailures += 1;
        // A 5xx may come after the write; a lock or query timeout is a transaction that did not commit.
        if (request.creates && status >= 500) throw salesforceError(status, body, request.what, { outcomeUnknown: true });
        if (transientFailures < this.shared.maxTries && (await this.pause(this.backoff(transientFailures - 1)))) continue;
      }
      throw salesforceError(status, body, request.what);
    }
  }

  /** An exhausted daily allocation (by the last Sforce-Limit-Info) waits longer than a concurrency limit. */
  private limitRetryAfter(): number {
    const usage = this.shared.usage;
    return usage && usage.used >= usage.max ? DAILY_LIMIT_RETRY_AFTER_MS : LIMIT_RETRY_AFTER_MS;
  }

  private tryOnce(request: SalesforceRequest, session: CachedToken): Promise<Outcome> {
    const url = new URL(`${session.apiBase}/services/data/v${this.shared.apiVersion}${request.path}`);
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, value);
    }
    const headers: Record<string, string> = { authorization: `Bearer ${session.accessToken}`, accept: 'application/json' };
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    return this.fetchOnce(url.toString(), { method: request.method, headers, body: request.body === undefined ? undefined : JSON.stringify(request.body) }, parseJsonAnswer);
  }

  private trySoap(request: SoapRequest, session: CachedToken): Promise<Outcome> {
    const url = `${session.apiBase}/services/Soap/u/${this.shared.apiVersion}`;
    // The Partner WSDL's operations all have soapAction "".
    const headers = { 'content-type': 'text/xml; charset=UTF-8', accept: 'text/xml', soapaction: '""' };
    return this.fetchOnce(url, { method: 'POST', headers, body: request.envelope(session.accessToken) }, soapAnswer);
  }

  /** One request, counted; its answer read by `read` (JSON, or SOAP's XML). */
  private async fetchOnce(url: string, init: { method: string; headers: Record<string, string>; body: string | undefined }, read: (status: number, text: string) => { status: number; body: unknown }): Promise<Outcome> {
    this.calls += 1;
    const timeoutMs = this.timeout();
    try {
      const response = await this.shared.fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
      const text = await response.text();
      const usage = parseLimitInfo(response.headers.get('sforce-limit-info'));
      if (usage) this.shared.usage = usage;
      return { kind: 'answer', ...read(response.status, text), retryAfterMs: parseRetryAfter(response.headers.get('retry-after')) };
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      return { kind: 'failed', reason: name === 'TimeoutError' ? `timeout after ${timeoutMs} ms` : String(error) };
    }
  }

  private backoff(step: number): number {
    return this.shared.backoffBaseMs * 2 ** step;
  }
}
