/**
 * The CRM adapters' settings (SALESFORCE_*, ZOHO_*, CRM_WEBHOOK_URL, CRM_RATE_*, CRM_TIMEOUT_MS),
 * checked where they are used — the CRM factory — so the webhook's bundle does not carry their
 * rules. A wrong value stops the CRM's function at start with a message naming the setting.
 */
import { ConfigError, type RuntimeConfig } from '../config.ts';
import { ENV } from '../resources.ts';

export interface CrmSettings {
  /** `apiVersion` without the v (68.0): paths are /services/data/v68.0/… */
  readonly salesforce: { readonly loginUrl: string | undefined; readonly apiVersion: string };
  /** `apiVersion` with the v (v8): paths are /crm/v8/… */
  readonly zoho: { readonly accountsUrl: string; readonly apiVersion: string };
  readonly webhook: { readonly url: string | undefined };
  /** How long one CRM request may take (ms). */
  readonly timeoutMs: number;
  /** CRM_RATE_LIMIT requests per CRM_RATE_WINDOW_SECONDS (default 10 s), when set. */
  readonly rateLimit: { readonly requests: number; readonly windowMs: number } | undefined;
}

function fail(name: string, why: string): never {
  throw new ConfigError(`Invalid configuration: ${name}: ${why}`);
}

function url(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    const parsed = new URL(value);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') fail(name, `not an http(s) URL: ${value}`);
    return value.replace(/\/+$/, '');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    return fail(name, `not a URL: ${value}`);
  }
}

function whole(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) fail(name, `must be a whole number from ${min} to ${max}, got ${value}`);
  return n;
}

export function crmSettings(config: RuntimeConfig): CrmSettings {
  const e = config.crm.env;
  const salesforceVersion = e[ENV.salesforceApiVersion] ?? '68.0';
  if (!/^v?\d{2,3}\.0$/.test(salesforceVersion)) fail(ENV.salesforceApiVersion, `like 68.0 or v68.0, got ${salesforceVersion}`);
  const zohoVersion = e[ENV.zohoApiVersion] ?? 'v8';
  if (!/^v?\d+$/.test(zohoVersion)) fail(ENV.zohoApiVersion, `like v8 or 8, got ${zohoVersion}`);
  const requests = whole(ENV.crmRateLimit, e[ENV.crmRateLimit], 1, 1_000_000);
  const windowSeconds = whole(ENV.crmRateWindowSeconds, e[ENV.crmRateWindowSeconds], 1, 86_400);
  return {
    salesforce: { loginUrl: url(ENV.salesforceLoginUrl, e[ENV.salesforceLoginUrl]), apiVersion: salesforceVersion.replace(/^v/, '') },
    zoho: { accountsUrl: url(ENV.zohoAccountsUrl, e[ENV.zohoAccountsUrl]) ?? 'https://accounts.zoho.com', apiVersion: `v${zohoVersion.replace(/^v/, '')}` },
    webhook: { url: url(ENV.crmWebhookUrl, e[ENV.crmWebhookUrl]) },
    timeoutMs: whole(ENV.crmTimeoutMs, e[ENV.crmTimeoutMs], 100, 60_000) ?? 10_000,
    rateLimit: requests === undefined ? undefined : { requests, windowMs: (windowSeconds ?? 10) * 1000 },
  };
}
