/**
 * Zoho's OAuth refresh-token flow: `POST {accounts server}/oauth/v2/token` with
 * `grant_type=refresh_token`, `client_id`, `client_secret`, `refresh_token` (form body, so the
 * secrets stay out of URLs and access logs). The answer names `api_domain`, the data centre's API
 * host every CRM call goes to, and `expires_in` (3600 s).
 *
 * Zoho allows 10 access tokens per refresh token in 10 minutes and then refuses with
 * `{ error: "Access Denied", status: "failure" }` for the rest of the window; a refresh token also
 * keeps only 15 live access tokens. So the token is kept in a {@link TokenCache} shared by every
 * invocation (a table row on AWS) and asked for again only when it has expired or Zoho answered
 * INVALID_TOKEN; concurrent callers in one process share one request; and a throttled refresh is
 * a `rate_limited` error that this adapter does not repeat until the window is over. (Two cold
 * processes asking at the same instant may both refresh: 2 of the 10.)
 */
import { parseJson } from '../../http.ts';
import { CrmError } from '../port.ts';
import { MemoryTokenCache, type CachedToken, type TokenCache } from '../token-cache.ts';
import { tokenAnswer, tokenError } from './schemas.ts';

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface ZohoCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly refreshToken: string;
}

/** Reads the credentials; `refresh: true` reads them again from their source (a rotated secret, OP-5). */
export type ZohoCredentialSource = (refresh?: boolean) => Promise<ZohoCredentials>;

export interface ZohoAuthOptions {
  /** The data centre's accounts server, e.g. https://accounts.zoho.eu. */
  readonly accountsUrl: string;
  readonly credentials: ZohoCredentialSource;
  readonly tokenCache?: TokenCache | undefined;
  readonly fetch: FetchLike;
  readonly now: () => number;
  readonly maxTries: number;
  readonly backoffBaseMs: number;
  /** How long a throttled refresh is not tried again. Default: Zoho's 10-minute window. */
  readonly throttleRetryMs?: number | undefined;
}

/** A token is renewed this long before Zoho's expiry, so no call starts with one about to lapse. */
const EXPIRY_MARGIN_MS = 60_000;
const DEFAULT_EXPIRES_IN_S = 3600;
export const REFRESH_THROTTLE_WINDOW_MS = 10 * 60_000;

type Outcome =
  | { readonly kind: 'token'; readonly token: CachedToken }
  | { readonly kind: 'throttled'; readonly status: number }
  | { readonly kind: 'refused'; readonly status: number; readonly code: string }
  | { readonly kind: 'failed'; readonly reason: string; readonly status?: number };

/**
 * The token request under way per cache: concurrent callers in this process — of one adapter or
 * of several sharing the cache — share it instead of each spending one of Zoho's 10 refreshes.
 */
const pendingByCache = new WeakMap<TokenCache, Promise<CachedToken>>();

export class ZohoAuth {
  /** Token requests sent to the accounts server (they cost no CRM API credits). */
  requests = 0;
  private readonly cache: TokenCache;
  /** Until when Zoho refuses refreshes (its throttle): none is sent before. */
  private blockedUntil = 0;
  /** The token Zoho last answered INVALID_TOKEN for: never taken from the cache again. */
  private lastRefused: string | undefined;

  constructor(private readonly options: ZohoAuthOptions) {
    this.cache = options.tokenCache ?? new MemoryTokenCache();
  }

  /** The cached token while it is valid, else a new one. */
  async token(timeoutMs: number): Promise<CachedToken> {
    const cached = await this.cache.get();
    if (cached && !this.expired(cached)) return cached;
    return this.refresh(timeoutMs);
  }

  /**
   * After Zoho refused `failed` (INVALID_TOKEN): forgets it, and returns the token another process
   * may already have put in its place, or a new one.
   */
  async renew(failed: CachedToken, timeoutMs: number): Promise<CachedToken> {
    this.lastRefused = failed.accessToken;
    await this.cache.drop(failed.accessToken);
    const current = await this.cache.get();
    if (current && current.accessToken !== failed.accessToken && !this.expired(current)) return current;
    return this.refresh(timeoutMs);
  }

  private expired(token: CachedToken): boolean {
    return token.expiresAt !== undefined && token.expiresAt - EXPIRY_MARGIN_MS <= this.options.now();
  }

  private refresh(timeoutMs: number): Promise<CachedToken> {
    let pending = pendingByCache.get(this.cache);
    if (!pending) {
      pending = this.request(timeoutMs).finally(() => pendingByCache.delete(this.cache));
      pendingByCache.set(this.cache, pending);
    }
    return pending;
  }

  private async request(timeoutMs: number): Promise<CachedToken> {
    const wait = this.blockedUntil - this.options.now();
    if (wait > 0) throw throttled(wait, undefined);
    let credentials = await this.options.credentials(false);
    let reread = false;
    for (let attempt = 1; ; ) {
      const outcome = await this.post(credentials, timeoutMs);
      switch (outcome.kind) {
        case 'token':
          await this.cache.put(outcome.token);
          return outcome.token;
        case 'throttled': {
          // Another process may have refreshed meanwhile (that is often why Zoho refuses): use its token.
          const shared = await this.cache.get();
          if (shared && !this.expired(shared) && shared.accessToken !== this.lastRefused) return shared;
          const retryAfterMs = this.options.throttleRetryMs ?? REFRESH_THROTTLE_WINDOW_MS;
          this.blockedUntil = this.options.now() + retryAfterMs;
          throw throttled(retryAfterMs, outcome.status);
        }
        case 'refused': {
          // The refresh token or client may have been rotated in the secret: read it once more.
          if (!reread) {
            reread = true;
            const fresh = await this.options.credentials(true);
            if (!sameCredentials(fresh, credentials)) {
              credentials = fresh;
              continue;
            }
          }
          throw new CrmError('auth', `Zoho refused the refresh token or client: ${outcome.status} ${outcome.code}`, {
            status: outcome.status,
            crm: 'zoho',
            category: outcome.code,
          });
        }
        case 'failed':
          if (attempt >= this.options.maxTries) {
            throw new CrmError('transient', `Zoho accounts server: ${outcome.reason}`, { crm: 'zoho', ...(outcome.status !== undefined && { status: outcome.status }) });
          }
          await new Promise((resolve) => setTimeout(resolve, this.options.backoffBaseMs * 2 ** (attempt - 1)));
          attempt += 1;
      }
    }
  }

  private async post(credentials: ZohoCredentials, timeoutMs: number): Promise<Outcome> {
    if (!credentials.clientId || !credentials.clientSecret || !credentials.refreshToken) {
      throw new CrmError('auth', 'Zoho client id, client secret and refresh token are required (ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET, ZOHO_REFRESH_TOKEN)', { crm: 'zoho' });
    }
    const url = `${this.options.accountsUrl.replace(/\/+$/, '')}/oauth/v2/token`;
    const body = new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: credentials.clientId,
      client_secret: credentials.clientSecret,
      refresh_token: credentials.refreshToken,
    }).toString();
    let response: Response;
    let answer: unknown;
    try {
      this.requests += 1;
      response = await this.options.fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body,
        signal: AbortSignal.timeout(Math.max(1, timeoutMs)),
      });
      answer = parseJson(await response.text());
    } catch (error) {
      const reason = error instanceof Error && error.name === 'TimeoutError' ? `timeout after ${timeoutMs} ms` : 'unreachable';
      return { kind: 'failed', reason };
    }
    const status = response.status;
    const granted = tokenAnswer.safeParse(answer);
    if (status < 300 && granted.success) {
      const data = granted.data;
      if (!data.api_domain) {
        // Only a client with Zoho CRM scopes gets one; retrying cannot help.
        return { kind: 'refused', status, code: 'NO_API_DOMAIN' };
      }
      const seconds = data.expires_in_sec ?? (data.expires_in !== undefined && data.expires_in > 86_400 ? data.expires_in / 1000 : data.expires_in) ?? DEFAULT_EXPIRES_IN_S;
      const obtainedAt = this.options.now();
      return {
        kind: 'token',
        token: { accessToken: data.access_token, apiBase: data.api_domain.replace(/\/+$/, ''), expiresAt: obtainedAt + seconds * 1000, obtainedAt },
      };
    }
    if (status === 429) return { kind: 'throttled', status };
    const refused = tokenError.safeParse(answer);
    if (refused.success) {
      // The throttle answer is `{ error: "Access Denied", status: "failure" }` (error localised).
      if (refused.data.status === 'failure' || refused.data.error === 'Access Denied') return { kind: 'throttled', status };
      if (status < 500) return { kind: 'refused', status, code: safeCode(refused.data.error) };
    }
    if (status >= 500 || status < 300) return { kind: 'failed', reason: `answer ${status} without a token`, status };
    return { kind: 'refused', status, code: 'UNKNOWN' };
  }
}

function throttled(retryAfterMs: number, status: number | undefined): CrmError {
  return new CrmError('rate_limited', `Zoho throttles access-token refreshes (10 per refresh token in 10 minutes); retry in ${Math.ceil(retryAfterMs / 1000)} s`, {
    crm: 'zoho',
    retryAfterMs,
    category: 'ACCESS_DENIED',
    ...(status !== undefined && { status }),
  });
}

function sameCredentials(a: ZohoCredentials, b: ZohoCredentials): boolean {
  return a.clientId === b.clientId && a.clientSecret === b.clientSecret && a.refreshToken === b.refreshToken;
}

/** An OAuth error code (invalid_code, invalid_client …), never free text. */
function safeCode(value: string): string {
  return /^[A-Za-z0-9_ .-]{1,64}$/.test(value) ? value : 'UNKNOWN';
}
