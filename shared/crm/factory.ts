/**
 * The CRM adapter `SCRM_CRM` names, built from the configuration and the secrets. Credentials are
 * read from the secrets as they are now (a TTL), and again when the CRM refuses them: a rotated
 * token or secret takes effect without a redeploy (OP-5).
 */
import { ConfigError, type RuntimeConfig, type Secrets } from '../config.ts';
import { ENV, SECRET_KEYS, type CrmKind } from '../resources.ts';
import type { SecretSource } from '../secrets.ts';
import { HubSpotAdapter } from './hubspot/adapter.ts';
import { Pacer, pacedFetch } from './pacing.ts';
import { crmSettings } from './settings.ts';
import type { CrmAdapter, CrmLimits } from './port.ts';
import { SalesforceAdapter } from './salesforce/adapter.ts';
import type { TableClient } from '../store/client.ts';
import { TableTokenCache } from '../store/crm-tokens.ts';
import { MemoryTokenCache, type TokenCache } from './token-cache.ts';
import { WebhookAdapter } from './webhook/adapter.ts';
import { ZohoAdapter } from './zoho/adapter.ts';

/** The secret keys each CRM needs. */
const REQUIRED: Record<CrmKind, readonly string[]> = {
  hubspot: [SECRET_KEYS.hubspotAccessToken],
  salesforce: [SECRET_KEYS.salesforceClientId, SECRET_KEYS.salesforceClientSecret],
  zoho: [SECRET_KEYS.zohoClientId, SECRET_KEYS.zohoClientSecret, SECRET_KEYS.zohoRefreshToken],
  webhook: [SECRET_KEYS.crmWebhookSecret],
};

/** A secret key's value: HubSpot's token is a field of its own, the other CRMs' keys are by name. */
function secret(secrets: Secrets, key: string): string | undefined {
  const value = key === SECRET_KEYS.hubspotAccessToken ? secrets.hubspotAccessToken : secrets.crm[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function missingSecret(kind: CrmKind, secrets: Secrets): string | undefined {
  return REQUIRED[kind].find((key) => !secret(secrets, key));
}

/** Fails at start, naming the setting, when the configured CRM has no credentials or no address. */
export function requireCrmSecrets(config: RuntimeConfig, secrets: Secrets): void {
  const kind = config.crm.kind;
  if (kind === 'none') throw new ConfigError('Invalid configuration: SCRM_CRM=none has no CRM to sync to; the sync function needs a CRM');
  const missing = missingSecret(kind, secrets);
  if (missing) throw new ConfigError(`Invalid secrets: ${missing} is required when SCRM_CRM=${kind}`);
  if (kind === 'webhook' && !/^whsec_[A-Za-z0-9+/=]{32,}$/.test(secret(secrets, SECRET_KEYS.crmWebhookSecret) ?? '')) throw new ConfigError('Invalid secrets: CRM_WEBHOOK_SECRET: whsec_ followed by the base64 of at least 24 random bytes (Standard Webhooks)');
  const settings = crmSettings(config);
  if (kind === 'salesforce' && !settings.salesforce.loginUrl) throw new ConfigError('Invalid configuration: SALESFORCE_LOGIN_URL is required when SCRM_CRM=salesforce (the org\'s My Domain, https://<domain>.my.salesforce.com)');
  if (kind === 'webhook' && !settings.webhook.url) throw new ConfigError('Invalid configuration: CRM_WEBHOOK_URL is required when SCRM_CRM=webhook');
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
  const settings = crmSettings(config);
  const limits: Partial<CrmLimits> | undefined = settings.rateLimit;
  const tokenCache = options.tokenCache ?? new MemoryTokenCache();
  // With CRM_RATE_LIMIT set, every request of this process waits for its turn (its share of the
  // limit when several sync invocations run side by side): the CRM never has to answer 429.
  // Without it, the documented limits pace the bulk work only and a 429 is waited out.
  let pacer: Pacer | undefined;
  const share = Math.max(1, options.processes ?? 1);
  const rate = settings.rateLimit;
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
        timeoutMs: settings.timeoutMs,
        ...(fetch && { fetch }),
      });
    case 'salesforce':
      return new SalesforceAdapter({
        loginUrl: settings.salesforce.loginUrl!,
        apiVersion: settings.salesforce.apiVersion,
        credentials: async (refresh = false) => {
          const s = await read(refresh);
          return { clientId: secret(s, SECRET_KEYS.salesforceClientId)!, clientSecret: secret(s, SECRET_KEYS.salesforceClientSecret)! };
        },
        tokenCache,
        limits,
        timeoutMs: settings.timeoutMs,
        integrationUserId: config.crm.env['SALESFORCE_INTEGRATION_USER_ID'] || undefined,
        ...(fetch && { fetch }),
      });
    case 'zoho':
      return new ZohoAdapter({
        accountsUrl: settings.zoho.accountsUrl,
        apiVersion: settings.zoho.apiVersion,
        credentials: async (refresh = false) => {
          const s = await read(refresh);
          return { clientId: secret(s, SECRET_KEYS.zohoClientId)!, clientSecret: secret(s, SECRET_KEYS.zohoClientSecret)!, refreshToken: secret(s, SECRET_KEYS.zohoRefreshToken)! };
        },
        tokenCache,
        limits,
        timeoutMs: settings.timeoutMs,
        ...(fetch && { fetch }),
      });
    case 'webhook':
      return new WebhookAdapter({
        url: settings.webhook.url!,
        secret: async (refresh = false) => secret(await read(refresh), SECRET_KEYS.crmWebhookSecret)!,
        limits,
        timeoutMs: settings.timeoutMs,
        ...(fetch && { fetch }),
      });
  }
  }
}

/** The adapter of a runtime: its OAuth tokens kept in the table, shared by every invocation. */
export function runtimeCrmAdapter(runtime: { readonly config: RuntimeConfig; readonly secretSource: SecretSource; readonly store: { readonly table: TableClient } }): CrmAdapter {
  const processes = Number(process.env[ENV.syncConcurrency] ?? 1);
  return createCrmAdapter(runtime.config, runtime.secretSource, { tokenCache: new TableTokenCache(runtime.store.table, runtime.config.crm.kind), processes: Number.isInteger(processes) && processes > 0 ? processes : 1 });
}
