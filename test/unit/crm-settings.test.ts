/**
 * The CRM adapters' settings: both version spellings accepted, a wrong value named, and the
 * configured CRM's address and credentials required at start.
 */
import { describe, expect, it } from 'vitest';
import { loadRuntimeConfig, parseSecrets } from '#shared/config';
import { requireCrmSecrets } from '#shared/crm/factory';
import { crmSettings } from '#shared/crm/settings';

const base = { SCRM_TABLE_NAME: 'scrm-test', SCRM_SYNC_QUEUE_URL: 'https://sqs.ap-east-1.amazonaws.com/123456789012/scrm-test-sync.fifo', WHATSAPP_APP_SECRET: 'app-secret-123', WHATSAPP_VERIFY_TOKEN: 'verify-123' };
const settings = (env: Record<string, string>) => crmSettings(loadRuntimeConfig({ ...base, ...env }));

describe('CRM settings', () => {
  it('accepts 68.0 and v68.0 for Salesforce, v8 and 8 for Zoho, and normalises them for the paths', () => {
    expect(settings({ SALESFORCE_API_VERSION: 'v68.0' }).salesforce.apiVersion).toBe('68.0');
    expect(settings({ SALESFORCE_API_VERSION: '68.0' }).salesforce.apiVersion).toBe('68.0');
    expect(settings({ ZOHO_API_VERSION: '8' }).zoho.apiVersion).toBe('v8');
    expect(settings({ ZOHO_API_VERSION: 'v8' }).zoho.apiVersion).toBe('v8');
    expect(settings({}).zoho.accountsUrl).toBe('https://accounts.zoho.com');
  });

  it('names a wrong value', () => {
    expect(() => settings({ SALESFORCE_API_VERSION: '68' })).toThrow(/SALESFORCE_API_VERSION: like 68.0 or v68.0/);
    expect(() => settings({ SALESFORCE_LOGIN_URL: 'acme.my.salesforce.com' })).toThrow(/SALESFORCE_LOGIN_URL: not a URL/);
    expect(() => settings({ CRM_RATE_LIMIT: '0' })).toThrow(/CRM_RATE_LIMIT: must be a whole number from 1/);
    expect(() => settings({ CRM_TIMEOUT_MS: 'soon' })).toThrow(/CRM_TIMEOUT_MS/);
  });

  it('CRM_RATE_LIMIT per CRM_RATE_WINDOW_SECONDS, 10 s by default', () => {
    expect(settings({ CRM_RATE_LIMIT: '190' }).rateLimit).toEqual({ requests: 190, windowMs: 10_000 });
    expect(settings({ CRM_RATE_LIMIT: '5', CRM_RATE_WINDOW_SECONDS: '1' }).rateLimit).toEqual({ requests: 5, windowMs: 1_000 });
    expect(settings({}).rateLimit).toBeUndefined();
  });

  it('the configured CRM needs its address and credentials at start, named', () => {
    const check = (env: Record<string, string>) => () => requireCrmSecrets(loadRuntimeConfig({ ...base, ...env }), parseSecrets({ ...base, ...env }));
    expect(check({ SCRM_CRM: 'salesforce', SALESFORCE_CLIENT_ID: 'id', SALESFORCE_CLIENT_SECRET: 's' })).toThrow(/SALESFORCE_LOGIN_URL is required when SCRM_CRM=salesforce/);
    expect(check({ SCRM_CRM: 'salesforce', SALESFORCE_LOGIN_URL: 'https://acme.my.salesforce.com' })).toThrow(/SALESFORCE_CLIENT_ID is required/);
    expect(check({ SCRM_CRM: 'zoho', ZOHO_CLIENT_ID: 'a', ZOHO_CLIENT_SECRET: 'b' })).toThrow(/ZOHO_REFRESH_TOKEN is required/);
    expect(check({ SCRM_CRM: 'webhook', CRM_WEBHOOK_SECRET: `whsec_${'A'.repeat(44)}` })).toThrow(/CRM_WEBHOOK_URL is required/);
    expect(check({ SCRM_CRM: 'webhook', CRM_WEBHOOK_URL: 'https://hooks.zapier.com/hooks/catch/1/a/', CRM_WEBHOOK_SECRET: 'not-a-whsec' })).toThrow(/CRM_WEBHOOK_SECRET: whsec_/);
    expect(check({ SCRM_CRM: 'webhook', CRM_WEBHOOK_URL: 'https://hooks.zapier.com/hooks/catch/1/a/', CRM_WEBHOOK_SECRET: `whsec_${'A'.repeat(44)}` })).not.toThrow();
  });
});
