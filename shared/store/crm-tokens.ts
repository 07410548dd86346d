/**
 * The CRM's OAuth access token in the table, shared by every invocation (shared/crm/token-cache.ts):
 * Zoho caps refreshes per refresh token, and a cold start must not cost one. The token is a
 * secret: the item holds it only until it expires (TTL), and a newer token is never overwritten
 * by an older one (two invocations refreshing at once keep the later).
 */
import type { CachedToken, TokenCache } from '../crm/token-cache.ts';
import type { TableClient } from './client.ts';
import { keys } from './keys.ts';

/** A token the CRM gives no lifetime for is kept this long (Salesforce sessions last hours). */
const DEFAULT_KEEP_MS = 2 * 3_600_000;

export class TableTokenCache implements TokenCache {
  constructor(
    private readonly table: TableClient,
    private readonly kind: string,
  ) {}

  async get(): Promise<CachedToken | undefined> {
    const item = await this.table.get<{ accessToken?: string; apiBase: string; tokenExpiresAt?: number; obtainedAt: number }>(keys.crmToken(this.kind));
    if (!item?.accessToken) return undefined;
    return { accessToken: item.accessToken, apiBase: item.apiBase, expiresAt: item.tokenExpiresAt, obtainedAt: item.obtainedAt };
  }

  async put(token: CachedToken): Promise<void> {
    const keepUntil = token.expiresAt ?? token.obtainedAt + DEFAULT_KEEP_MS;
    await this.table.update(keys.crmToken(this.kind), {
      // expiresAt is the table's TTL attribute (epoch seconds); the token's own expiry is tokenExpiresAt (ms).
      update: 'SET accessToken = :token, apiBase = :base, obtainedAt = :at, expiresAt = :ttl' + (token.expiresAt === undefined ? ' REMOVE tokenExpiresAt' : ', tokenExpiresAt = :exp'),
      condition: 'attribute_not_exists(obtainedAt) OR obtainedAt <= :at',
      values: {
        ':token': token.accessToken,
        ':base': token.apiBase,
        ':at': token.obtainedAt,
        ':ttl': Math.ceil(keepUntil / 1000),
        ...(token.expiresAt !== undefined && { ':exp': token.expiresAt }),
      },
    });
  }

  async drop(accessToken: string): Promise<void> {
    await this.table.update(keys.crmToken(this.kind), {
      update: 'REMOVE accessToken, apiBase, tokenExpiresAt',
      condition: 'accessToken = :token',
      values: { ':token': accessToken },
    });
  }
}
