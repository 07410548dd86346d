/**
 * The local Zoho accounts server: `POST /oauth/v2/token` with `grant_type=refresh_token` (form
 * body or query), answered as Zoho answers it — `{ access_token, api_domain, token_type,
 * expires_in }`; a wrong client `{ error: "invalid_client" }` and a wrong refresh token
 * `{ error: "invalid_code" }`, both with HTTP 200; and, past 10 access tokens per refresh token in
 * 10 minutes, 400 `{ error: "Access Denied", error_description, status: "failure" }`. A refresh
 * token keeps 15 live access tokens: the 16th invalidates the oldest.
 */
import { randomBytes } from 'node:crypto';

export interface LocalAccountsOptions {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly refreshToken: string;
  /** Access tokens one refresh token may get per window. Default 10 (Zoho's). */
  readonly maxRefreshesPerWindow?: number | undefined;
  readonly windowMs?: number | undefined;
  /** Lifetime of an access token. Default 3600 s. */
  readonly tokenTtlSeconds?: number | undefined;
  readonly now: () => number;
}

const MAX_LIVE_TOKENS = 15;
export const THROTTLE_ANSWER = {
  error_description: 'You have made too many requests continuously. Please try again after some time.',
  error: 'Access Denied',
  status: 'failure',
};

export class LocalZohoAccounts {
  /** Access tokens issued. */
  issued = 0;
  private readonly grants: number[] = [];
  private live: { token: string; expiresAt: number }[] = [];
  private refreshToken: string;

  constructor(private readonly options: LocalAccountsOptions) {
    this.refreshToken = options.refreshToken;
  }

  grant(form: URLSearchParams, apiDomain: string): { status: number; body: unknown } {
    if (form.get('grant_type') !== 'refresh_token') return { status: 200, body: { error: 'unsupported_grant_type' } };
    if (form.get('client_id') !== this.options.clientId || form.get('client_secret') !== this.options.clientSecret) {
      return { status: 200, body: { error: 'invalid_client' } };
    }
    if (form.get('refresh_token') !== this.refreshToken) return { status: 200, body: { error: 'invalid_code' } };
    const now = this.options.now();
    const windowMs = this.options.windowMs ?? 10 * 60_000;
    while (this.grants.length && this.grants[0]! <= now - windowMs) this.grants.shift();
    if (this.grants.length >= (this.options.maxRefreshesPerWindow ?? 10)) return { status: 400, body: THROTTLE_ANSWER };
    this.grants.push(now);
    this.issued += 1;
    const ttl = this.options.tokenTtlSeconds ?? 3600;
    const token = `1000.${randomBytes(16).toString('hex')}.${randomBytes(16).toString('hex')}`;
    this.live.push({ token, expiresAt: now + ttl * 1000 });
    if (this.live.length > MAX_LIVE_TOKENS) this.live.shift();
    return {
      status: 200,
      body: { access_token: token, scope: 'ZohoCRM.modules.ALL ZohoCRM.settings.READ', api_domain: apiDomain, token_type: 'Bearer', expires_in: ttl },
    };
  }

  /** Whether an `Authorization` header carries a live token. */
  check(header: string | undefined): 'ok' | 'missing' | 'invalid' {
    const match = /^Zoho-oauthtoken\s+(\S+)$/.exec(header ?? '');
    if (!match) return 'missing';
    const now = this.options.now();
    return this.live.some((t) => t.token === match[1] && t.expiresAt > now) ? 'ok' : 'invalid';
  }

  /** Every access token stops working (as after an hour, or a revoked session). */
  expireAll(): void {
    this.live = [];
  }

  /** A new refresh token replaces the old one (an administrator re-authorised the client). */
  rotateRefreshToken(refreshToken: string): void {
    this.refreshToken = refreshToken;
    this.live = [];
  }
}
