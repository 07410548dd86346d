/**
 * The HTTP layer under the HubSpot adapter: bearer auth, timeouts, retries inside one attempt
 * and the mapping of HubSpot's answers onto {@link CrmError} kinds. Every request sent is
 * counted, so an operation can report its CRM calls honestly (retries included).
 */
import { CrmError } from '#shared/crm/port';
import { redact } from '#shared/privacy';
import { hubSpotErrorBody } from './schemas.ts';
import { parseJson, parseRetryAfter } from '../../http.ts';

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** A token that can be read again: after HubSpot refuses it, it may have been rotated (OP-5). */
export interface AccessToken {
  current(): Promise<string>;
  refresh(): Promise<string>;
}

export interface HubSpotHttpOptions {
  /** e.g. https://api.hubapi.com (no trailing slash needed). */
  readonly baseUrl: string;
  /** A fixed token, or one read again when HubSpot answers 401/403. */
  readonly accessToken: string | AccessToken;
  /** Per-request timeout (AbortSignal.timeout). */
  readonly timeoutMs?: number;
  /** A 429 whose Retry-After is at most this long is waited out inside the attempt. */
  readonly maxInAttemptWaitMs?: number;
  /** Tries for 5xx, network errors and timeouts before giving up with `transient`. */
  readonly maxTries?: number;
  /** First backoff pause; doubles on every further try. */
  readonly backoffBaseMs?: number;
  /**
   * Epoch ms by which every request, retry and wait must be over (the caller's time budget):
   * a timeout is cut to what is left, and a wait that would not end in time is not started —
   * the error goes back to the caller instead, to be retried later.
   */
  readonly deadline?: number | undefined;
  readonly fetch?: FetchLike;
}

export interface HubSpotRequest {
  readonly method: 'GET' | 'POST' | 'PATCH';
  /** Path below the base URL, starting with a slash. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | undefined>>;
  readonly body?: unknown;
  /**
   * Answers the caller handles itself (e.g. 404 on a read, a unique-value conflict on a
   * create) instead of having them turned into a {@link CrmError}.
   */
  readonly tolerate?: (status: number, body: unknown) => boolean;
  /**
   * The request creates a record. A timeout, a dropped connection or a 5xx then leaves its
   * outcome unknown — HubSpot may have made the record — so it is not retried here: the caller
   * gets a `transient` error with `outcomeUnknown` and looks for the record before creating again.
   */
  readonly creates?: boolean;
}

export interface HubSpotResponse {
  readonly status: number;
  readonly body: unknown;
}

const DEFAULTS = {
  timeoutMs: 10_000,
  maxInAttemptWaitMs: 10_000,
  maxTries: 3,
  backoffBaseMs: 200,
} as const;

/** Rate-limit waits allowed inside one attempt, on top of the transient tries. */
const MAX_RATE_LIMIT_WAITS = 3;
/** A request is not started with less time than this left before the deadline. */
const MIN_REQUEST_MS = 250;

export class HubSpotHttp {
  /** Requests sent through this instance (each try counts). */
  calls = 0;
  private readonly settings: Required<Omit<HubSpotHttpOptions, 'fetch' | 'deadline' | 'accessToken'>> & { fetch: FetchLike; deadline: number | undefined; accessToken: AccessToken };

  constructor(options: HubSpotHttpOptions) {
    this.settings = {
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
      accessToken: typeof options.accessToken === 'string' ? fixedToken(options.accessToken) : options.accessToken,
      timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
      maxInAttemptWaitMs: options.maxInAttemptWaitMs ?? DEFAULTS.maxInAttemptWaitMs,
      maxTries: Math.max(1, options.maxTries ?? DEFAULTS.maxTries),
      backoffBaseMs: options.backoffBaseMs ?? DEFAULTS.backoffBaseMs,
      deadline: options.deadline,
      fetch: options.fetch ?? ((input, init) => fetch(input, init)),
    };
  }

  /** A client with the same settings, its own call counter (one per operation) and, if given, a deadline. */
  fork(deadline?: number): HubSpotHttp {
    return new HubSpotHttp({ ...this.settings, deadline: deadline ?? this.settings.deadline });
  }

  /** Milliseconds left before the deadline (Infinity without one). */
  private left(): number {
    return this.settings.deadline === undefined ? Infinity : this.settings.deadline - Date.now();
  }

  /** Sleeps `ms` if the request after it can still start in time; false when it could not. */
  private async pause(ms: number): Promise<boolean> {
    if (ms + MIN_REQUEST_MS > this.left()) return false;
    await sleep(ms);
    return true;
  }

  async send(request: HubSpotRequest): Promise<HubSpotResponse> {
    let transientFailures = 0;
    let rateLimitWaits = 0;
    let token = await this.settings.accessToken.current();
    let refreshed = false;
    for (;;) {
      if (this.left() < MIN_REQUEST_MS) {
        throw new CrmError('transient', 'no time left in this invocation for another HubSpot request', { crm: 'hubspot' });
      }
      const outcome = await this.tryOnce(request, token);
      if (outcome.kind === 'answer') {
        const { status, body, retryAfterMs } = outcome;
        if (status >= 200 && status < 300) return { status, body };
        if (request.tolerate?.(status, body)) return { status, body };
        if ((status === 401 || status === 403) && !refreshed) {
          // The token may have been rotated since it was read: read it again, once.
          refreshed = true;
          const fresh = await this.settings.accessToken.refresh();
          if (fresh !== token) {
            token = fresh;
            continue;
          }
        }
        if (status === 429) {
          const waitMs = retryAfterMs ?? this.backoff(rateLimitWaits);
          if (waitMs <= this.settings.maxInAttemptWaitMs && rateLimitWaits < MAX_RATE_LIMIT_WAITS && (await this.pause(waitMs))) {
            rateLimitWaits += 1;
            continue;
          }
          throw new CrmError('rate_limited', `HubSpot rate limit 429${describe(body)}`, { status, retryAfterMs: waitMs, crm: 'hubspot', ...categoryOf(body) });
        }
        if (status >= 500) {
          transientFailures += 1;
          if (request.creates) {
            throw new CrmError('transient', `HubSpot ${status} on a create; the record may have been made${describe(body)}`, { status, crm: 'hubspot', outcomeUnknown: true, ...categoryOf(body) });
          }
          if (transientFailures < this.settings.maxTries && (await this.pause(this.backoff(transientFailures - 1)))) continue;
          throw new CrmError('transient', `HubSpot ${status}${describe(body)}`, { status, crm: 'hubspot', ...categoryOf(body) });
        }
        throw clientError(status, body);
      }
      transientFailures += 1;
      if (request.creates) {
        throw new CrmError('transient', `HubSpot did not answer a create (${outcome.reason}); the record may have been made`, { crm: 'hubspot', outcomeUnknown: true });
      }
      if (transientFailures < this.settings.maxTries && (await this.pause(this.backoff(transientFailures - 1)))) continue;
      throw new CrmError('transient', `HubSpot unreachable: ${outcome.reason}`, { crm: 'hubspot' });
    }
  }

  private async tryOnce(
    request: HubSpotRequest,
    token: string,
  ): Promise<
    | { kind: 'answer'; status: number; body: unknown; retryAfterMs: number | undefined }
    | { kind: 'failed'; reason: string }
  > {
    const url = new URL(this.settings.baseUrl + request.path);
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, value);
    }
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
    };
    if (request.body !== undefined) headers['content-type'] = 'application/json';
    this.calls += 1;
    const timeoutMs = Math.max(1, Math.min(this.settings.timeoutMs, this.left()));
    try {
      const response = await this.settings.fetch(url.toString(), {
        method: request.method,
        headers,
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text();
      return {
        kind: 'answer',
        status: response.status,
        body: parseJson(text),
        retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
      };
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      const reason = name === 'TimeoutError' ? `timeout after ${timeoutMs} ms` : String(error);
      return { kind: 'failed', reason };
    }
  }

  private backoff(step: number): number {
    return this.settings.backoffBaseMs * 2 ** step;
  }
}

function fixedToken(token: string): AccessToken {
  return { current: async () => token, refresh: async () => token };
}


function clientError(status: number, body: unknown): CrmError {
  const details = { status, crm: 'hubspot', ...categoryOf(body) };
  if (status === 401 || status === 403) {
    return new CrmError('auth', `HubSpot rejected the access token: ${status}${describe(body)}`, details);
  }
  return new CrmError('permanent', `HubSpot ${status}${describe(body)}`, details);
}

function categoryOf(body: unknown): { category?: string } {
  const parsed = hubSpotErrorBody.safeParse(body);
  return parsed.success && parsed.data.category ? { category: parsed.data.category } : {};
}

/**
 * ` CATEGORY: message` from HubSpot's error body, without the personal data its message may
 * echo: the property names and error codes of a validation error, otherwise the message with
 * every value redacted (shared/privacy.ts). Anything else HubSpot answered is not kept.
 */
export function describe(body: unknown): string {
  const parsed = hubSpotErrorBody.safeParse(body);
  if (!parsed.success) return typeof body === 'string' && body.trim() ? ': (a non-JSON answer)' : '';
  const { message, category } = parsed.data;
  return `${category ? ` ${category}` : ''}: ${validationSummary(message) ?? redact(message)}`;
}

/** "Property values were not valid: [{…"name":"email","error":"INVALID_EMAIL"…}]" → "… : email INVALID_EMAIL". */
function validationSummary(message: string): string | undefined {
  const start = message.indexOf('[');
  if (start < 0) return undefined;
  try {
    const items = JSON.parse(message.slice(start)) as unknown;
    if (!Array.isArray(items)) return undefined;
    const parts = items.flatMap((item: unknown) => {
      const { name, error } = (item ?? {}) as { name?: unknown; error?: unknown };
      const safe = (v: unknown) => (typeof v === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(v) ? v : undefined);
      const text = [safe(name), safe(error)].filter(Boolean).join(' ');
      return text ? [text] : [];
    });
    return parts.length ? `${redact(message.slice(0, start)).trim()} ${parts.join('; ')}` : undefined;
  } catch {
    return undefined;
  }
}


function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
