/**
 * Where an OAuth access token is kept between calls and across invocations. Zoho caps how often
 * a refresh token may be used, and Salesforce sessions last hours: a Lambda that asked for a new
 * token on every cold start would hit the cap. On AWS the cache is a row of the table
 * (store/crm-tokens.ts); in tests and locally by default it is memory.
 */
export interface CachedToken {
  readonly accessToken: string;
  /** The API base the token answer named (Salesforce `instance_url`, Zoho `api_domain`). */
  readonly apiBase: string;
  /** When the token stops working (ms); undefined when the CRM does not say (Salesforce). */
  readonly expiresAt?: number | undefined;
  readonly obtainedAt: number;
}

export interface TokenCache {
  get(): Promise<CachedToken | undefined>;
  put(token: CachedToken): Promise<void>;
  /** Forgets the token, unless another process has already replaced it with a newer one. */
  drop(accessToken: string): Promise<void>;
}

export class MemoryTokenCache implements TokenCache {
  private token: CachedToken | undefined;
  get(): Promise<CachedToken | undefined> {
    return Promise.resolve(this.token);
  }
  put(token: CachedToken): Promise<void> {
    this.token = token;
    return Promise.resolve();
  }
  drop(accessToken: string): Promise<void> {
    if (this.token?.accessToken === accessToken) this.token = undefined;
    return Promise.resolve();
  }
}
