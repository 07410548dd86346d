import { describe, expect, it } from 'vitest';
import { ConfigError, loadRuntimeConfig, loadSecrets } from '#shared/config';

const minimal = {
  SCRM_TABLE_NAME: 'scrm-test-table',
  SCRM_SYNC_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/scrm-test-sync.fifo',
};

describe('runtime configuration is validated once, naming the wrong setting', () => {
  it('fills documented defaults', () => {
    const config = loadRuntimeConfig(minimal);
    expect(config).toMatchObject({
      stage: 'local',
      defaultRegion: 'HK',
      retentionDays: 180,
      graphApi: { base: 'https://graph.facebook.com', version: 'v25.0' },
      crm: { kind: 'hubspot', hubspot: { apiVersion: '2026-09' } },
      sync: { retryDelaySeconds: 300, maxAttempts: 4 },
      webhookMaxBodyBytes: 1_048_576,
    });
  });

  it.each([
    [{ SCRM_TABLE_NAME: undefined }, 'SCRM_TABLE_NAME'],
    [{ SCRM_SYNC_QUEUE_URL: 'not a url' }, 'SCRM_SYNC_QUEUE_URL'],
    [{ SCRM_DEFAULT_REGION: 'XX' }, 'SCRM_DEFAULT_REGION'],
    [{ SCRM_RETENTION_DAYS: '7' }, 'SCRM_RETENTION_DAYS'],
    [{ WHATSAPP_GRAPH_API_VERSION: '25' }, 'WHATSAPP_GRAPH_API_VERSION'],
    [{ HUBSPOT_API_VERSION: 'v3' }, 'HUBSPOT_API_VERSION'],
    [{ SCRM_CRM: 'pipedrive' }, 'SCRM_CRM'],
    [{ WHATSAPP_ACCOUNTS: '[1,2]' }, 'WHATSAPP_ACCOUNTS'],
  ])('%o fails with a message naming %s', (override, name) => {
    expect(() => loadRuntimeConfig({ ...minimal, ...override })).toThrow(ConfigError);
    expect(() => loadRuntimeConfig({ ...minimal, ...override })).toThrow(name);
  });

  it('reads several business numbers from WHATSAPP_ACCOUNTS (IN-6)', () => {
    const config = loadRuntimeConfig({ ...minimal, WHATSAPP_ACCOUNTS: '{"106540352242922":"Hong Kong","117651463353033":"Taipei"}' });
    expect(config.accounts).toEqual({ '106540352242922': 'Hong Kong', '117651463353033': 'Taipei' });
  });
});

describe('secrets', () => {
  it('come from environment variables locally', async () => {
    const secrets = await loadSecrets({ WHATSAPP_APP_SECRET: 'abcdefgh', WHATSAPP_VERIFY_TOKEN: 'verify-me' });
    expect(secrets).toMatchObject({ appSecret: 'abcdefgh', verifyToken: 'verify-me' });
  });

  it('come from the one Secrets Manager secret when SCRM_SECRET_ARN is set, not from env values', async () => {
    const client = {
      send: async () => ({ SecretString: JSON.stringify({ WHATSAPP_APP_SECRET: 'from-secrets-manager', WHATSAPP_VERIFY_TOKEN: 'verify-from-sm' }) }),
    };
    const secrets = await loadSecrets({ SCRM_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:1:secret:scrm', WHATSAPP_APP_SECRET: 'ignored!' }, client as never);
    expect(secrets.appSecret).toBe('from-secrets-manager');
  });

  it('a missing app secret names the setting', async () => {
    await expect(loadSecrets({ WHATSAPP_VERIFY_TOKEN: 'verify-me' })).rejects.toThrow(/WHATSAPP_APP_SECRET/);
  });

  it('a secret that is not JSON says what it must hold', async () => {
    const client = { send: async () => ({ SecretString: 'plain text' }) };
    await expect(loadSecrets({ SCRM_SECRET_ARN: 'arn:x' }, client as never)).rejects.toThrow(/JSON object with WHATSAPP_APP_SECRET/);
  });
});
