/**
 * Delivery of one signed event to the receiver (a Zapier / Make catch hook): Standard Webhooks
 * signing, a per-request timeout, bounded retries inside one attempt, and the receiver's answer
 * mapped onto {@link CrmError} kinds. Every POST is counted, so an operation reports its calls
 * honestly (retries included).
 *
 * Retrying here is safe where a CRM create would not be: every try carries the same
 * `webhook-id`, and the receiver drops a repeated id. A lost answer is therefore retried at once
 * (and flagged `outcomeUnknown` if it stays lost), never "looked up first" — there is nothing to
 * look up in a catch hook.
 */
import { Webhook } from 'standardwebhooks';
import { CrmError } from '#shared/crm/port';
import { parseRetryAfter } from '#shared/http';
import type { WebhookEvent } from './events.ts';

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/**
 * The signing secret (`whsec_…`), read when needed. `refresh` true after the receiver refused a
 * signature: the secret may have been rotated since it was read (OP-5), read it again.
 */
export type WebhookSecret = (refresh?: boolean) => Promise<string>;

export interface WebhookHttpOptions {
  readonly url: string;
  readonly secret: WebhookSecret;
  /** Per-request timeout. Default 10 s (Standard Webhooks suggests giving receivers 15–30 s; catch hooks answer at once). */
  readonly timeoutMs?: number | undefined;
  /** Tries for 5xx, 408/409/425, network errors and timeouts. Default 3. */
  readonly maxTries?: number | undefined;
  /** First backoff pause; doubles on every further try. Default 200 ms. */
  readonly backoffBaseMs?: number | undefined;
  /** A 429 (or 5xx) whose Retry-After is at most this long is waited out in the attempt. Default 5 s. */
  readonly maxInAttemptWaitMs?: number | undefined;
  readonly fetch?: FetchLike | undefined;
  /** Clock for `webhook-timestamp` (tests). Default Date.now. */
  readonly now?: (() => number) | undefined;
  /** Epoch ms by which every try and wait must be over (the caller's time budget). */
  readonly deadline?: number | undefined;
}

const DEFAULTS = { timeoutMs: 10_000, maxTries: 3, backoffBaseMs: 200, maxInAttemptWaitMs: 5_000 } as const;
/** Rate-limit waits allowed inside one attempt, on top of the transient tries. */
const MAX_RATE_LIMIT_WAITS = 2;
/** A request is not started with less time than this left before the deadline. */
const MIN_REQUEST_MS = 250;
/** 4xx answers that mean "not now" rather than "never": 408 Request Timeout, 409 Conflict, 425 Too Early. */
const TRANSIENT_4XX = new Set([408, 409, 425]);
/** Network error codes raised before the request left: the receiver cannot have the event. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'ENETUNREACH', 'EHOSTUNREACH', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT']);

const CRM = 'webhook';

type Outcome =
  | { readonly kind: 'answer'; readonly status: number; readonly retryAfterMs: number | undefined }
  | { readonly kind: 'failed'; readonly reason: string; readonly maybeDelivered: boolean };

export class WebhookHttp {
  /** POSTs sent through this instance (each try counts). */
  calls = 0;
  private readonly settings: {
    readonly url: string;
    readonly secret: WebhookSecret;
    readonly timeoutMs: number;
    readonly maxTries: number;
    readonly backoffBaseMs: number;
    readonly maxInAttemptWaitMs: number;
    readonly fetch: FetchLike;
    readonly now: () => number;
    readonly deadline: number | undefined;
  };

  constructor(options: WebhookHttpOptions) {
    this.settings = {
      url: options.url,
      secret: options.secret,
      timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
      maxTries: Math.max(1, options.maxTries ?? DEFAULTS.maxTries),
      backoffBaseMs: options.backoffBaseMs ?? DEFAULTS.backoffBaseMs,
      maxInAttemptWaitMs: options.maxInAttemptWaitMs ?? DEFAULTS.maxInAttemptWaitMs,
      fetch: options.fetch ?? ((input, init) => fetch(input, init)),
      now: options.now ?? Date.now,
      deadline: options.deadline,
    };
  }

  /** A client with the same settings, its own call counter (one per operation) and, if given, a deadline. */
  fork(deadline?: number): WebhookHttp {
    return new WebhookHttp({ ...this.settings, deadline: deadline ?? this.settings.deadline });
  }

  /** Delivers the event (2xx) or throws a {@link CrmError}; never with the receiver's answer in it. */
  async send(event: WebhookEvent): Promise<void> {
    let transientFailures = 0;
    let rateLimitWaits = 0;
    let refreshed = false;
    /** An earlier try may have reached the receiver (timeout, connection lost after sending). */
    let maybeDelivered = false;
    let secret = await this.readSecret(false);
    for (;;) {
      if (this.left() < MIN_REQUEST_MS) {
        throw new CrmError('transient', 'no time left in this invocation for another webhook POST', { crm: CRM, ...(maybeDelivered && { outcomeUnknown: true }) });
      }
      const outcome = await this.tryOnce(event, secret);
      if (outcome.kind === 'failed') {
        maybeDelivered ||= outcome.maybeDelivered;
        transientFailures += 1;
        if (transientFailures < this.settings.maxTries && (await this.pause(this.backoff(transientFailures - 1)))) continue;
        throw new CrmError('transient', `webhook receiver unreachable: ${outcome.reason}`, { crm: CRM, category: 'WEBHOOK_UNREACHABLE', ...(maybeDelivered && { outcomeUnknown: true }) });
      }
      const { status, retryAfterMs } = outcome;
      if (status >= 200 && status < 300) return;
      if ((status === 401 || status === 403) && !refreshed) {
        // The receiver refused the signature: the secret may have been rotated since it was read.
        refreshed = true;
        const fresh = await this.readSecret(true);
        if (fresh !== secret) {
          secret = fresh;
          continue;
        }
      }
      if (status === 429) {
        const waitMs = retryAfterMs ?? this.backoff(rateLimitWaits);
        if (waitMs <= this.settings.maxInAttemptWaitMs && rateLimitWaits < MAX_RATE_LIMIT_WAITS && (await this.pause(waitMs))) {
          rateLimitWaits += 1;
          continue;
        }
        throw new CrmError('rate_limited', 'webhook receiver rate limit 429', { status, retryAfterMs: waitMs, crm: CRM, category: 'RATE_LIMITED' });
      }
      if (status >= 500 || TRANSIENT_4XX.has(status)) {
        transientFailures += 1;
        const waitMs = retryAfterMs ?? this.backoff(transientFailures - 1);
        if (transientFailures < this.settings.maxTries && waitMs <= this.settings.maxInAttemptWaitMs && (await this.pause(waitMs))) continue;
        throw new CrmError('transient', `webhook receiver answered ${status}`, {
          status,
          crm: CRM,
          category: `HTTP_${status}`,
          ...(retryAfterMs !== undefined && { retryAfterMs }),
          ...(maybeDelivered && { outcomeUnknown: true }),
        });
      }
      throw refusal(status);
    }
  }

  private async readSecret(refresh: boolean): Promise<string> {
    const secret = String((await this.settings.secret(refresh)) ?? '');
    if (!/^whsec_[A-Za-z0-9+/]+={0,2}$/.test(secret.trim())) {
      // Kind auth: a configuration fault an alarm shows, fixed by putting the right secret in place.
      throw new CrmError('auth', 'the webhook signing secret (CRM_WEBHOOK_SECRET) is not whsec_ followed by a base64 key', { crm: CRM, category: 'WEBHOOK_SECRET_INVALID' });
    }
    return secret.trim();
  }

  private async tryOnce(event: WebhookEvent, secret: string): Promise<Outcome> {
    // Signed at every try: `webhook-timestamp` is the attempt's time (a receiver refuses one
    // older than its tolerance, 5 minutes), while `webhook-id` stays the event's.
    const at = new Date(this.settings.now());
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'scrm-crm-webhook/1',
      'webhook-id': event.id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(event.id, at, event.body),
    };
    this.calls += 1;
    const timeoutMs = Math.max(1, Math.min(this.settings.timeoutMs, this.left()));
    try {
      const response = await this.settings.fetch(this.settings.url, {
        method: 'POST',
        headers,
        body: event.body,
        // Standard Webhooks: a redirect is a failure (the URL should be updated), not followed.
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
      // The answer is never read: it may echo what we sent (a phone number, a name).
      await response.body?.cancel().catch(() => undefined);
      return { kind: 'answer', status: response.status, retryAfterMs };
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      if (name === 'TimeoutError' || name === 'AbortError') return { kind: 'failed', reason: `timeout after ${timeoutMs} ms`, maybeDelivered: true };
      const code = causeCode(error);
      return { kind: 'failed', reason: code ?? name, maybeDelivered: code === undefined || !NOT_SENT_CODES.has(code) };
    }
  }

  /** Milliseconds left before the deadline (Infinity without one). */
  private left(): number {
    return this.settings.deadline === undefined ? Infinity : this.settings.deadline - Date.now();
  }

  /** Sleeps `ms` if the request after it can still start in time; false when it could not. */
  private async pause(ms: number): Promise<boolean> {
    if (ms + MIN_REQUEST_MS > this.left()) return false;
    await new Promise((resolve) => setTimeout(resolve, ms));
    return true;
  }

  private backoff(step: number): number {
    return this.settings.backoffBaseMs * 2 ** step;
  }
}

/** A final refusal: 410 the receiver is gone, 401/403 the signature, 3xx a moved URL, other 4xx. */
function refusal(status: number): CrmError {
  if (status === 410) {
    // Standard Webhooks: 410 means "stop sending". The job parks; an alarm asks for a new URL.
    return new CrmError('permanent', 'webhook receiver answered 410 Gone: it takes no more events (Zap or scenario deleted or off); set a new CRM_WEBHOOK_URL', { status, crm: CRM, category: 'WEBHOOK_GONE' });
  }
  if (status === 401 || status === 403) {
    return new CrmError('auth', `webhook receiver refused the signature: ${status} (is CRM_WEBHOOK_SECRET the receiver's secret?)`, { status, crm: CRM, category: 'WEBHOOK_AUTH' });
  }
  if (status >= 300 && status < 400) {
    return new CrmError('permanent', `webhook receiver redirected (${status}); redirects are not followed, set CRM_WEBHOOK_URL to the final URL`, { status, crm: CRM, category: 'WEBHOOK_REDIRECT' });
  }
  if (status === 413) return new CrmError('permanent', 'webhook receiver refused the body as too large (413)', { status, crm: CRM, category: 'PAYLOAD_TOO_LARGE' });
  return new CrmError('permanent', `webhook receiver answered ${status}`, { status, crm: CRM, category: `HTTP_${status}` });
}

/** `ECONNREFUSED` and the like from fetch's `cause` (undici), if any. */
function causeCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 3 && current && typeof current === 'object'; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
