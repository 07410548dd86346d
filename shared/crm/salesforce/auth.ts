/**
 * OAuth 2.0 client credentials flow with an External Client App: `POST {loginUrl}/services/oauth2/token`
 * with `grant_type=client_credentials`, `client_id`, `client_secret` on the org's My Domain host
 * (login.salesforce.com does not serve this flow). The answer names `instance_url`: every API
 * call goes there, never to the login host. Salesforce gives no `expires_in` (the session lasts
 * the org's session timeout), so a token is used until an API call answers 401 INVALID_SESSION_ID,
 * then renewed once. Tokens live in a {@link TokenCache} so that cold starts reuse them.
 */
import * as z from 'zod/mini';
import '../../zod.ts';
import { parseJson } from '../../http.ts';
import { CrmError } from '../port.ts';
import type { CachedToken, TokenCache } from '../token-cache.ts';
import { MemoryTokenCache } from '../token-cache.ts';
import { errorCode } from './errors.ts';

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface SalesforceCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
}

export interface ClientCredentialsOptions {
  /** The org's My Domain URL, e.g. https://acme.my.salesforce.com. */
  readonly loginUrl: string;
  /**
   * Read on every token request, so a rotated secret takes effect without a redeploy (OP-5);
   * with `refresh` after Salesforce refused them (the cached secrets may be stale).
   */
  readonly credentials: (refresh?: boolean) => Promise<SalesforceCredentials>;
  readonly tokenCache?: TokenCache | undefined;
  readonly fetch: FetchLike;
  readonly maxTries: number;
  readonly backoffBaseMs: number;
}

const tokenAnswer = z.object({
  access_token: z.string().check(z.minLength(1)),
  instance_url: z.url(),
  issued_at: z.optional(z.string()),
});

export class ClientCredentialsAuth {
  private readonly cache: TokenCache;
  /** The token request under way: concurrent callers share it instead of asking for several. */
  private pending: Promise<CachedToken> | undefined;
  /** The session in use here: the token cache (a table row on AWS) is read only without one. */
  private current: CachedToken | undefined;
  /** Token requests sent (not API calls: Salesforce does not count them against the org's limit). */
  requests = 0;

  constructor(private readonly options: ClientCredentialsOptions) {
    this.cache = options.tokenCache ?? new MemoryTokenCache();
  }

  /** The session this process holds, else the cached one (another invocation's), else a new one. */
  async session(timeoutMs: number): Promise<CachedToken> {
    this.current ??= (await this.cache.get()) ?? (await this.fetchToken(timeoutMs));
    return this.current;
  }

  /**
   * After Salesforce refused `failed`: forgets it and returns the token another process may
   * already have put in its place, or a new one.
   */
  async renew(failed: CachedToken, timeoutMs: number): Promise<CachedToken> {
    if (this.current && this.current.accessToken !== failed.accessToken) return this.current; // renewed meanwhile
    this.current = undefined;
    await this.cache.drop(failed.accessToken);
    const cached = await this.cache.get();
    this.current = cached && cached.accessToken !== failed.accessToken ? cached : await this.fetchToken(timeoutMs);
    return this.current;
  }

  private fetchToken(timeoutMs: number): Promise<CachedToken> {
    this.pending ??= this.requestToken(timeoutMs).finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async requestToken(timeoutMs: number): Promise<CachedToken> {
    const used = await this.options.credentials(false);
    try {
      return await this.requestTokenWith(used, timeoutMs);
    } catch (error) {
      if (!(error instanceof CrmError && error.kind === 'auth')) throw error;
      // Refused: the secret may have been rotated since it was read. Read it again, once.
      const fresh = await this.options.credentials(true);
      if (fresh.clientId === used.clientId && fresh.clientSecret === used.clientSecret) throw error;
      return this.requestTokenWith(fresh, timeoutMs);
    }
  }

  private async requestTokenWith({ clientId, clientSecret }: SalesforceCredentials, timeoutMs: number): Promise<CachedToken> {
    if (!clientId || !clientSecret) {
      throw new CrmError('auth', 'Salesforce client id and secret are required (SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET)', { crm: 'salesforce' });
    }
    const url = `${this.options.loginUrl.replace(/\/+$/, '')}/services/oauth2/token`;
    const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }).toString();
    for (let attempt = 1; ; attempt++) {
      let failure: CrmError;
      try {
        this.requests += 1;
        const response = await this.options.fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body,
          signal: AbortSignal.timeout(Math.max(1, timeoutMs)),
        });
        const answer = parseJson(await response.text());
        if (response.ok) {
          const parsed = tokenAnswer.safeParse(answer);
          if (!parsed.success) throw new CrmError('transient', 'Salesforce token answer without access_token / instance_url', { crm: 'salesforce', status: response.status });
          const token: CachedToken = {
            accessToken: parsed.data.access_token,
            apiBase: parsed.data.instance_url.replace(/\/+$/, ''),
            obtainedAt: Date.now(),
          };
          await this.cache.put(token);
          return token;
        }
        const code = errorCode(answer);
        const details = { status: response.status, crm: 'salesforce', ...(code && { category: code }) };
        // invalid_client, invalid_grant (flow not enabled, no run-as user, wrong host): a setting to fix.
        if (response.status < 500 && response.status !== 429) throw new CrmError('auth', `Salesforce refused the client credentials: ${response.status}${code ? ` ${code}` : ''}`, details);
        failure = new CrmError(response.status === 429 ? 'rate_limited' : 'transient', `Salesforce token endpoint ${response.status}`, details);
      } catch (error) {
        if (error instanceof CrmError && (error.kind === 'auth' || error.kind === 'rate_limited')) throw error;
        failure = error instanceof CrmError ? error : new CrmError('transient', `Salesforce token endpoint unreachable: ${error instanceof Error && error.name === 'TimeoutError' ? 'timeout' : String(error)}`, { crm: 'salesforce' });
      }
      if (attempt >= this.options.maxTries) throw failure;
      await new Promise((resolve) => setTimeout(resolve, this.options.backoffBaseMs * 2 ** (attempt - 1)));
    }
  }
}
