/**
 * The HTTP layer under the Zoho adapter: `Authorization: Zoho-oauthtoken …` against the data
 * centre's `api_domain`, per-request timeouts, bounded retries inside one attempt, and Zoho's
 * answers mapped onto {@link CrmError} kinds without their text (it may echo personal data):
 * only the status, Zoho's error code and field API names are kept.
 *
 * - 401 INVALID_TOKEN / AUTHENTICATION_FAILURE: the token is renewed once (auth.ts), then `auth`.
 * - 429: Zoho sends no Retry-After (its limits are a rolling 24-hour credit budget and a number of
 *   concurrent calls). Waited out inside the attempt with a backoff of 1 s, 2 s (while it fits
 *   `maxInAttemptWaitMs`), then `rate_limited` with `retryAfterMs` 30 s — or 15 minutes when the
 *   credit headers say the day's credits are spent (they come back as the 24-hour window rolls).
 * - 5xx, timeouts, dropped connections: retried with exponential backoff — except a create
 *   (`creates`), whose outcome is then unknown: the caller looks before it writes again.
 */
import { redact } from '#shared/privacy';
import { parseJson } from '../../http.ts';
import { CrmError } from '../port.ts';
import type { CachedToken } from '../token-cache.ts';
import type { FetchLike, ZohoAuth } from './auth.ts';
import { errorBody } from './schemas.ts';

export interface ZohoRequest {
  readonly method: 'GET' | 'POST' | 'PUT';
  /** Path below `/crm/{version}`, starting with a slash (e.g. `/Contacts/upsert`). */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | undefined>>;
  readonly body?: unknown;
  /** Request headers besides authorization and content negotiation (e.g. If-Modified-Since). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Answers the caller reads itself (a write's per-record errors come with 400). */
  readonly tolerate?: (status: number, body: unknown) => boolean;
  /** An insert: a lost answer is not retried here but reported with `outcomeUnknown`. */
  readonly creates?: boolean;
}

export interface ZohoResponse {
  readonly status: number;
  /** Parsed JSON; null for 204 No Content. */
  readonly body: unknown;
}

/** The day's API credits as the last answer that carried Zoho's rate-limit headers reported them. */
export class UsageMeter {
  private last: { used: number; max: number } | undefined;

  record(headers: Headers): void {
    const limit = number(headers.get('x-ratelimit-day-limit') ?? headers.get('x-ratelimit-limit'));
    const remaining = number(headers.get('x-ratelimit-day-remaining') ?? headers.get('x-ratelimit-remaining'));
    if (limit !== undefined && remaining !== undefined) this.last = { used: Math.max(0, limit - remaining), max: limit };
  }

  current(): { used: number; max: number } | undefined {
    return this.last;
  }

  /** True when the last answer said no credits are left. */
  exhausted(): boolean {
    return this.last !== undefined && this.last.used >= this.last.max;
  }
}

export interface ZohoHttpSettings {
  readonly auth: ZohoAuth;
  /** `v8`. */
  readonly apiVersion: string;
  readonly timeoutMs: number;
  readonly maxInAttemptWaitMs: number;
  readonly maxTries: number;
  readonly backoffBaseMs: number;
  /** First wait after a 429 (doubles). */
  readonly rateLimitWaitMs: number;
  readonly fetch: FetchLike;
  readonly now: () => number;
  readonly usage: UsageMeter;
  /** Epoch ms by which every request, retry and wait must be over. */
  readonly deadline?: number | undefined;
}

/** 429 waits inside one attempt. */
const MAX_RATE_LIMIT_WAITS = 2;
/** A request is not started with less time than this before the deadline. */
const MIN_REQUEST_MS = 250;
export const RATE_LIMITED_RETRY_MS = 30_000;
export const CREDITS_EXHAUSTED_RETRY_MS = 15 * 60_000;

export class ZohoHttp {
  /** CRM API requests sent through this instance, each try counted (token requests are not). */
  calls = 0;

  constructor(private readonly settings: ZohoHttpSettings) {}

  /** Same settings and meter, its own call counter (one per operation) and, if given, a deadline. */
  fork(deadline?: number): ZohoHttp {
    return new ZohoHttp({ ...this.settings, deadline: deadline ?? this.settings.deadline });
  }

  private left(): number {
    return this.settings.deadline === undefined ? Infinity : this.settings.deadline - this.settings.now();
  }

  private timeout(): number {
    return Math.max(1, Math.min(this.settings.timeoutMs, this.left()));
  }

  private requireTime(): void {
    if (this.left() < MIN_REQUEST_MS) throw new CrmError('transient', 'no time left in this invocation for another Zoho request', { crm: 'zoho' });
  }

  private async pause(ms: number): Promise<boolean> {
    if (ms + MIN_REQUEST_MS > this.left()) return false;
    await new Promise((resolve) => setTimeout(resolve, ms));
    return true;
  }

  async send(request: ZohoRequest): Promise<ZohoResponse> {
    let failures = 0;
    let rateLimitWaits = 0;
    let renewed = false;
    this.requireTime();
    let token = await this.settings.auth.token(this.timeout());
    for (;;) {
      this.requireTime();
      const outcome = await this.tryOnce(request, token);
      if (outcome.kind === 'answer') {
        const { status, body } = outcome;
        if (status >= 200 && status < 300) return { status, body };
        if (request.tolerate?.(status, body)) return { status, body };
        if (status === 401 && !renewed && renewable(body)) {
          renewed = true;
          token = await this.settings.auth.renew(token, this.timeout());
          continue;
        }
        if (status === 429) {
          const spent = this.settings.usage.exhausted();
          const waitMs = this.settings.rateLimitWaitMs * 2 ** rateLimitWaits;
          if (!spent && rateLimitWaits < MAX_RATE_LIMIT_WAITS && waitMs <= this.settings.maxInAttemptWaitMs && (await this.pause(waitMs))) {
            rateLimitWaits += 1;
            continue;
          }
          const retryAfterMs = spent ? CREDITS_EXHAUSTED_RETRY_MS : RATE_LIMITED_RETRY_MS;
          throw new CrmError('rate_limited', `Zoho 429${describe(body)}${spent ? ' (API credits spent)' : ''}`, { status, retryAfterMs, crm: 'zoho', ...codeOf(body) });
        }
        if (status >= 500) {
          failures += 1;
          if (request.creates) {
            throw new CrmError('transient', `Zoho ${status} on a create; the record may have been made${describe(body)}`, { status, crm: 'zoho', outcomeUnknown: true, ...codeOf(body) });
          }
          if (failures < this.settings.maxTries && (await this.pause(this.backoff(failures - 1)))) continue;
          throw new CrmError('transient', `Zoho ${status}${describe(body)}`, { status, crm: 'zoho', ...codeOf(body) });
        }
        throw clientError(status, body);
      }
      failures += 1;
      if (request.creates) {
        throw new CrmError('transient', `Zoho did not answer a create (${outcome.reason}); the record may have been made`, { crm: 'zoho', outcomeUnknown: true });
      }
      if (failures < this.settings.maxTries && (await this.pause(this.backoff(failures - 1)))) continue;
      throw new CrmError('transient', `Zoho unreachable: ${outcome.reason}`, { crm: 'zoho' });
    }
  }

  private async tryOnce(
    request: ZohoRequest,
    token: CachedToken,
  ): Promise<{ kind: 'answer'; status: number; body: unknown } | { kind: 'failed'; reason: string }> {
    const url = new URL(`${token.apiBase}/crm/${this.settings.apiVersion}${request.path}`);
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, value);
    }
    const headers: Record<string, string> = { ...request.headers, authorization: `Zoho-oauthtoken ${token.accessToken}`, accept: 'application/json' };
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    this.calls += 1;
    const timeoutMs = this.timeout();
    try {
      const response = await this.settings.fetch(url.toString(), {
        method: request.method,
        headers,
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      this.settings.usage.record(response.headers);
      const text = await response.text();
      return { kind: 'answer', status: response.status, body: response.status === 204 ? null : parseJson(text) };
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      return { kind: 'failed', reason: name === 'TimeoutError' ? `timeout after ${timeoutMs} ms` : 'connection failed' };
    }
  }

  private backoff(step: number): number {
    return this.settings.backoffBaseMs * 2 ** step;
  }
}

/** A 401 a new token can cure (not OAUTH_SCOPE_MISMATCH: the client lacks a scope). */
function renewable(body: unknown): boolean {
  const parsed = errorBody.safeParse(body);
  return !parsed.success || parsed.data.code === 'INVALID_TOKEN' || parsed.data.code === 'AUTHENTICATION_FAILURE';
}

function clientError(status: number, body: unknown): CrmError {
  const details = { status, crm: 'zoho', ...codeOf(body) };
  if (status === 401 || status === 403) return new CrmError('auth', `Zoho refused the access: ${status}${describe(body)}`, details);
  return new CrmError('permanent', `Zoho ${status}${describe(body)}`, details);
}

function codeOf(body: unknown): { category?: string } {
  const parsed = errorBody.safeParse(body);
  if (parsed.success) return { category: safeName(parsed.data.code) ?? 'UNKNOWN' };
  const first = firstRecordError(body);
  return first ? { category: first.code } : {};
}

/**
 * ` CODE (field)` from Zoho's error body: its code and the API names of the fields it names —
 * never its message or values. A write's per-record errors are summarised the same way.
 */
export function describe(body: unknown): string {
  const parsed = errorBody.safeParse(body);
  if (parsed.success) return summary(parsed.data.code, parsed.data.details);
  const first = firstRecordError(body);
  if (first) return summary(first.code, first.details);
  return typeof body === 'string' && body.trim() ? ': (a non-JSON answer)' : '';
}

function firstRecordError(body: unknown): { code: string; details: unknown } | undefined {
  const data = body && typeof body === 'object' ? (body as { data?: unknown }).data : undefined;
  if (!Array.isArray(data)) return undefined;
  const item = data.find((d: unknown) => d && typeof d === 'object' && (d as { status?: unknown }).status === 'error') as { code?: unknown; details?: unknown } | undefined;
  return item && typeof item.code === 'string' ? { code: safeName(item.code) ?? 'UNKNOWN', details: item.details } : undefined;
}

function summary(code: string, details: unknown): string {
  const names: string[] = [];
  if (details && typeof details === 'object') {
    for (const key of ['api_name', 'param_name', 'expected_data_type']) {
      const value = safeName((details as Record<string, unknown>)[key]);
      if (value) names.push(value);
    }
  }
  return `: ${safeName(code) ?? redact(code)}${names.length ? ` (${names.join(' ')})` : ''}`;
}

/** An API name or error code (letters, digits, `_ . $`), else undefined. */
function safeName(value: unknown): string | undefined {
  return typeof value === 'string' && /^[A-Za-z0-9_.$]{1,80}$/.test(value) ? value : undefined;
}

function number(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}
