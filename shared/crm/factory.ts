import { ConfigError, type RuntimeConfig, type Secrets } from '../config.ts';
import { HubSpotAdapter } from './hubspot/adapter.ts';
import type { CrmAdapter } from './port.ts';

/** The CRM adapter the configuration names (SCRM_CRM). */
export function createCrmAdapter(config: RuntimeConfig, secrets: Secrets): CrmAdapter {
  switch (config.crm.kind) {
    case 'hubspot':
      if (!secrets.hubspotAccessToken) throw new ConfigError('Invalid secrets: HUBSPOT_ACCESS_TOKEN is required when SCRM_CRM=hubspot');
      return new HubSpotAdapter({
        baseUrl: config.crm.hubspot.baseUrl,
        apiVersion: config.crm.hubspot.apiVersion,
        accessToken: secrets.hubspotAccessToken,
      });
    case 'none':
      throw new ConfigError('Invalid configuration: SCRM_CRM=none has no CRM to sync to; the sync function needs a CRM');
  }
}
