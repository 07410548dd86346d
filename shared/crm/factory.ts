import { ConfigError, type RuntimeConfig, type Secrets } from '../config.ts';
import type { SecretSource } from '../secrets.ts';
import { HubSpotAdapter } from './hubspot/adapter.ts';
import type { CrmAdapter } from './port.ts';

/** Fails at start, naming the setting, when the configured CRM has no credentials. */
export function requireCrmSecrets(config: RuntimeConfig, secrets: Secrets): void {
  if (config.crm.kind === 'hubspot' && !secrets.hubspotAccessToken) {
    throw new ConfigError('Invalid secrets: HUBSPOT_ACCESS_TOKEN is required when SCRM_CRM=hubspot');
  }
  if (config.crm.kind === 'none') throw new ConfigError('Invalid configuration: SCRM_CRM=none has no CRM to sync to; the sync function needs a CRM');
}

/**
 * The CRM adapter the configuration names (SCRM_CRM). Its token is read from the secrets as they
 * are now (a TTL), and again when the CRM refuses it: a rotated token takes effect without a
 * redeploy (OP-5).
 */
export function createCrmAdapter(config: RuntimeConfig, secrets: SecretSource): CrmAdapter {
  const token = async (read: () => Promise<Secrets>) => {
    const value = (await read()).hubspotAccessToken;
    if (!value) throw new ConfigError('Invalid secrets: HUBSPOT_ACCESS_TOKEN is required when SCRM_CRM=hubspot');
    return value;
  };
  switch (config.crm.kind) {
    case 'hubspot':
      return new HubSpotAdapter({
        baseUrl: config.crm.hubspot.baseUrl,
        apiVersion: config.crm.hubspot.apiVersion,
        accessToken: { current: () => token(() => secrets.current()), refresh: () => token(() => secrets.refresh()) },
      });
    case 'none':
      throw new ConfigError('Invalid configuration: SCRM_CRM=none has no CRM to sync to; the sync function needs a CRM');
  }
}
