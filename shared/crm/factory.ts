/**
 * The CRM adapter `SCRM_CRM` names, built from the configuration and the secrets. Credentials are
 * read from the secrets as they are now (a TTL), and again when the CRM refuses them: a rotated
 * token or secret takes effect without a redeploy (OP-5).
 */
import { ConfigError, type RuntimeConfig, type Secrets } from '../config.ts';
import { SECRET_KEYS, type CrmKind } from '../resources.ts';
import type { SecretSource } from '../secrets.ts';
import { HubSpotAdapter } from './hubspot/adapter.ts';
import { Pacer, pacedFetch } from './pacing.ts';
import type { CrmAdapter, CrmLimits } from './port.ts';
import { SalesforceAdapter } from './salesforce/adapter.ts';
import type { TableClient } from '../store/client.ts';
import { TableTokenCache } from '../store/crm-tokens.ts';
import { MemoryTokenCache, type TokenCache } from './token-cache.ts';
import { WebhookAdapter } from './webhook/adapter.ts';
import { ZohoAdapter } from './zoho/adapter.ts';

/** The secrets each CRM needs, and the settings. */
const REQUIRED: Record<CrmKind, readonly (keyof Secrets)[]> = {
  hubspot: ['hubspotAccessToken'],
  salesforce: ['salesforceClientId', 'salesforceClientSecret'],
  zoho: ['zohoClientId', 'zohoClientSecret', 'zohoRefreshToken'],
  webhook: ['crmWebhookSecret'],
};
const SECRET_NAME: Partial<Record<keyof Secrets, string>> = {
  hubspotAccessToken: SECRET_KEYS.hubspotAccessToken,
  salesforceClientId: SECRET_KEYS.salesforceClientId,
  salesforceClientSecret: SECRET_KEYS.salesforceClientSecret,
  zohoClientId: SECRET_KEYS.zohoClientId,
  zohoClientSecret: SECRET_KEYS.zohoClientSecret,
  zohoRefreshToken: SECRET_KEYS.zohoRefreshToken,
  crmWebhookSecret: SECRET_KEYS.crmWebhookSecret,
};

function missingSecret(kind: CrmKind, secrets: Secrets): string | undefined {
  const key = REQUIRED[kind].find((k) => !secrets[k]);
  return key && (SECRET_NAME[key] ?? key);
}

/** Fails at start, naming the setting, when the configured CRM has no credentials or no address. */
export function requireCrmSecrets(config: RuntimeConfig, secrets: Secrets): void {
  const kind = config.crm.kind;
  if (kind === 'none') throw new ConfigError('Invalid configuration: SCRM_CRM=none has no CRM to sync to; the sync function needs a CRM');
  const missing = missingSecret(kind, secrets);
  if (missing) throw new ConfigError(`Invalid secrets: ${missing} is required when SCRM_CRM=${kind}`);
  if (kind === 'salesforce' && !config.crm.salesforce.loginUrl) throw new ConfigError('Invalid configuration: SALESFORCE_LOGIN_URL is required when SCRM_CRM=salesforce (the org\'s My Domain, https://<domain>.my.salesforce.com)');
  if (kind === 'webhook' && !config.crm.webhook.url) throw new ConfigError('Invalid configuration: CRM_WEBHOOK_URL is required when SCRM_CRM=webhook');
}

export interface CrmAdapterOptions {
  /** Where OAuth tokens are kept across invocations (the table on AWS); memory by default. */
  readonly tokenCache?: TokenCache | undefined;
  /** Processes sharing CRM_RATE_LIMIT side by side (the sync function's maximum concurrency). */
  readonly processes?: number | undefined;
}

export function createCrmAdapter(config: RuntimeConfig, secrets: SecretSource, options: CrmAdapterOptions = {}): CrmAdapter {
  const kind = config.crm.kind;
  if (kind === 'none') throw new ConfigError('Invalid configuration: SCRM_CRM=none has no CRM to sync to; the sync function needs a CRM');
  /** The secrets now, or after a refresh; failing with the setting's name when one is missing. */
  const read = async (refresh: boolean): Promise<Secrets> => {
    const current = refresh ? await secrets.refresh() : await secrets.current();
    const missing = missingSecret(kind, current);
    if (missing) throw new ConfigError(`Invalid secrets: ${missing} is required when SCRM_CRM=${kind}`);
    return current;
  };
  const limits: Partial<CrmLimits> | undefined = config.crm.rateLimit;
  const tokenCache = options.tokenCache ?? new MemoryTokenCache();
  // With CRM_RATE_LIMIT set, every request of this process waits for its turn (its share of the
  // limit when several sync invocations run side by side): the CRM never has to answer 429.
  // Without it, the documented limits pace the bulk work only and a 429 is waited out.
  let pacer: Pacer | undefined;
  const share = Math.max(1, options.processes ?? 1);
  const rate = config.crm.rateLimit;
  // The pacer reads the adapter's report of the CRM's daily budget (usage()): made on first request.
  const fetch = rate ? pacedFetch(() => (pacer ??= new Pacer({ requests: Math.max(1, Math.floor(rate.requests / share)), windowMs: rate.windowMs }, adapter))) : undefined;
  const adapter = build(kind);
  return adapter;

  function build(crm: CrmKind): CrmAdapter {
  switch (crm) {
    case 'hubspot':
      return new HubSpotAdapter({
        baseUrl: config.crm.hubspot.baseUrl,
        apiVersion: config.crm.hubspot.apiVersion,
        accessToken: { current: async () => (await read(false)).hubspotAccessToken!, refresh: async () => (await read(true)).hubspotAccessToken! },
        limits,
        timeoutMs: config.crm.timeoutMs,
        ...(fetch && { fetch }),
      });
    case 'salesforce':
      return new SalesforceAdapter({
        loginUrl: config.crm.salesforce.loginUrl!,
        apiVersion: config.crm.salesforce.apiVersion,
        credentials: async (refresh = false) => {
          const s = await read(refresh);
          return { clientId: s.salesforceClientId!, clientSecret: s.salesforceClientSecret! };
        },
        tokenCache,
        limits,
        timeoutMs: config.crm.timeoutMs,
        ...(fetch && { fetch }),
      });
    case 'zoho':
      return new ZohoAdapter({
        accountsUrl: config.crm.zoho.accountsUrl,
        apiVersion: config.crm.zoho.apiVersion,
        credentials: async (refresh = false) => {
          const s = await read(refresh);
          return { clientId: s.zohoClientId!, clientSecret: s.zohoClientSecret!, refreshToken: s.zohoRefreshToken! };
        },
        tokenCache,
        limits,
        timeoutMs: config.crm.timeoutMs,
        ...(fetch && { fetch }),
      });
    case 'webhook':
      return new WebhookAdapter({
        url: config.crm.webhook.url!,
        secret: async (refresh = false) => (await read(refresh)).crmWebhookSecret!,
        limits,
        timeoutMs: config.crm.timeoutMs,
        ...(fetch && { fetch }),
      });
  }
  }
}

/** The adapter of a runtime: its OAuth tokens kept in the table, shared by every invocation. */
export function runtimeCrmAdapter(runtime: { readonly config: RuntimeConfig; readonly secretSource: SecretSource; readonly store: { readonly table: TableClient } }): CrmAdapter {
  return createCrmAdapter(runtime.config, runtime.secretSource, { tokenCache: new TableTokenCache(runtime.store.table, runtime.config.crm.kind) });
}
