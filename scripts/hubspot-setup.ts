/**
 * npm run hubspot:setup — creates the WhatsApp properties in the HubSpot account (idempotent).
 * Reads HUBSPOT_API_BASE (default https://api.hubapi.com), HUBSPOT_ACCESS_TOKEN and
 * HUBSPOT_API_VERSION (default 2026-09).
 */
import { DEFAULT_API_BASE, DEFAULT_API_VERSION, setupHubSpot } from '#shared/crm/hubspot/adapter';
import { ENV, SECRET_KEYS } from '#shared/resources';

const accessToken = process.env[SECRET_KEYS.hubspotAccessToken];
if (!accessToken) {
  console.error(`${SECRET_KEYS.hubspotAccessToken} is not set`);
  process.exit(1);
}

const baseUrl = process.env[ENV.hubspotApiBase] ?? DEFAULT_API_BASE;
const apiVersion = process.env[ENV.hubspotApiVersion] ?? DEFAULT_API_VERSION;

try {
  const result = await setupHubSpot({ baseUrl, accessToken, apiVersion });
  console.log(`HubSpot ${baseUrl} (API ${apiVersion})`);
  for (const name of result.created) console.log(`  created  ${name}`);
  for (const name of result.existing) console.log(`  existing ${name}`);
  console.log(
    result.messageIdUnique
      ? 'Message id is unique on communications: messages are de-duplicated by the create itself.'
      : 'Message id is NOT unique on communications: messages are de-duplicated by reading the contact timeline.',
  );
  console.log(
    result.opportunityIdUnique
      ? 'Opportunity id is unique on deals: opportunities are de-duplicated by the create itself.'
      : "Opportunity id is NOT unique on deals: opportunities are de-duplicated by reading the contact's deals.",
  );
} catch (error) {
  console.error('HubSpot setup failed:', error instanceof Error ? error.message : error);
  process.exit(1);
}
