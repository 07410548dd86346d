import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadRuntimeConfig } from '#shared/config';
import { credentialAges } from '#shared/credentials';
import { SECRET_MAX_AGE_SECONDS, SecretsManagerSource, secretSourceFor } from '#shared/secrets';
import { startLocalSecretsManager, type LocalSecretsManager } from '../helpers/secrets-manager.ts';

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
    expect(config.accounts).toEqual({ '106540352242922': { name: 'Hong Kong' }, '117651463353033': { name: 'Taipei' } });
  });

  it('reads an account with its WABA, backup number and channel; a wrong field is named', () => {
    const accounts = '{"106540352242922":{"name":"Hong Kong","wabaId":"102290129340398","backupPhoneNumberId":"117651463353033","channel":"social_messaging","originationId":"phone-number-id-abc"}}';
    expect(loadRuntimeConfig({ ...minimal, WHATSAPP_ACCOUNTS: accounts }).accounts['106540352242922']).toMatchObject({ wabaId: '102290129340398', channel: 'social_messaging' });
    expect(() => loadRuntimeConfig({ ...minimal, WHATSAPP_ACCOUNTS: '{"106540352242922":{"name":"HK","channel":"sms"}}' })).toThrow(/WHATSAPP_ACCOUNTS: .*channel/);
    expect(() => loadRuntimeConfig({ ...minimal, WHATSAPP_ACCOUNTS: '{"+852":"HK"}' })).toThrow(/WHATSAPP_ACCOUNTS: .*phone_number_id is digits/);
  });

  it('takes the sending limits, Meta\'s per-number rate at most 1,000 a second', () => {
    expect(loadRuntimeConfig(minimal).sending).toEqual({ dailyLimit: 1000, dailyApiCalls: 10000, messagesPerSecond: 80 });
    expect(() => loadRuntimeConfig({ ...minimal, WHATSAPP_MESSAGES_PER_SECOND: '2000' })).toThrow(/WHATSAPP_MESSAGES_PER_SECOND/);
    expect(() => loadRuntimeConfig({ ...minimal, WHATSAPP_DAILY_LIMIT: 'lots' })).toThrow(/WHATSAPP_DAILY_LIMIT/);
  });
});

describe('secrets', () => {
  const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:scrm/test/app-AbCdEf';
  let sm: LocalSecretsManager;
  beforeAll(async () => {
    sm = await startLocalSecretsManager();
  });
  afterAll(async () => {
    await sm.stop();
  });

  it('come from environment variables locally', async () => {
    const secrets = await secretSourceFor({ WHATSAPP_APP_SECRET: 'abcdefgh', WHATSAPP_VERIFY_TOKEN: 'verify-me' }).current();
    expect(secrets).toMatchObject({ appSecret: 'abcdefgh', verifyToken: 'verify-me' });
  });

  it('come from the one Secrets Manager secret when SCRM_SECRET_ARN is set, not from env values', async () => {
    sm.put(ARN, JSON.stringify({ WHATSAPP_APP_SECRET: 'from-secrets-manager', WHATSAPP_VERIFY_TOKEN: 'verify-from-sm', HUBSPOT_ACCESS_TOKEN_ROTATED_AT: '2026-11-20T00:00:00Z' }));
    const secrets = await secretSourceFor({ SCRM_SECRET_ARN: ARN, WHATSAPP_APP_SECRET: 'ignored!' }, sm.client).current();
    expect(secrets.appSecret).toBe('from-secrets-manager');
    expect(secrets.rotatedAt.hubspotAccessToken).toBe(Date.parse('2026-11-20T00:00:00Z'));
  });

  it(`are read with a TTL (${SECRET_MAX_AGE_SECONDS} s): a rotated value is seen after the TTL, and at once on refresh`, async () => {
    const id = `${ARN}-ttl`;
    sm.put(id, JSON.stringify({ WHATSAPP_APP_SECRET: 'secret-one', WHATSAPP_VERIFY_TOKEN: 'verify-me', HUBSPOT_ACCESS_TOKEN: 'token-one' }));
    const cached = new SecretsManagerSource(id, { client: sm.client });
    const short = new SecretsManagerSource(id, { client: sm.client, maxAgeSeconds: 1 });
    expect((await cached.current()).hubspotAccessToken).toBe('token-one');
    expect((await short.current()).hubspotAccessToken).toBe('token-one');
    const reads = sm.reads();
    expect((await cached.current()).hubspotAccessToken).toBe('token-one');
    expect(sm.reads()).toBe(reads); // from the cache

    sm.put(id, JSON.stringify({ WHATSAPP_APP_SECRET: 'secret-one', WHATSAPP_VERIFY_TOKEN: 'verify-me', HUBSPOT_ACCESS_TOKEN: 'token-two' }));
    expect((await cached.current()).hubspotAccessToken).toBe('token-one'); // within the TTL
    expect((await cached.refresh()).hubspotAccessToken).toBe('token-two'); // read again now
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await short.current()).hubspotAccessToken).toBe('token-two'); // the TTL passed
  });

  it('a missing app secret names the setting', async () => {
    expect(() => secretSourceFor({ WHATSAPP_VERIFY_TOKEN: 'verify-me' })).toThrow(/WHATSAPP_APP_SECRET/);
  });

  it('a secret that is not JSON says what it must hold', async () => {
    sm.put(`${ARN}-plain`, 'plain text');
    await expect(new SecretsManagerSource(`${ARN}-plain`, { client: sm.client }).current()).rejects.toThrow(/JSON object with WHATSAPP_APP_SECRET/);
  });
});

describe('token age (OP-5)', () => {
  const DAY = 86_400_000;
  const now = Date.UTC(2026, 11, 1, 0, 30);
  it('a token rotated 26 days ago is 26 days old and over the 25-day line; the daily check counts it as a metric', async () => {
    const { createBatchApp } = await import('#functions/batch-export/app');
    const { MetricTotals } = await import('#local/metrics');
    const secrets = secretSourceFor({
      WHATSAPP_APP_SECRET: 'abcdefgh',
      WHATSAPP_VERIFY_TOKEN: 'verify-me',
      HUBSPOT_ACCESS_TOKEN: 'pat-eu1-x',
      HUBSPOT_ACCESS_TOKEN_ROTATED_AT: new Date(now - 26 * DAY).toISOString(),
      WHATSAPP_ACCESS_TOKEN: 'EAAG-x',
    });
    const metrics = new MetricTotals();
    const warnings: string[] = [];
    const app = createBatchApp({
      store: undefined as never,
      syncJobs: undefined as never,
      insights: undefined as never,
      crm: () => undefined as never,
      logger: { info: () => undefined, warn: (message: string) => void warnings.push(message) },
      metrics,
      secrets,
      now: () => now,
    });
    const result = await app.run('credential-check');
    expect(result.credentials).toEqual([
      { credential: 'hubspot', ageDays: 26, source: 'rotated-at' },
      { credential: 'whatsapp', ageDays: undefined, source: 'unknown' },
    ]);
    expect(metrics.snapshot()).toEqual({ 'CredentialAgeDays credential=hubspot': 26 });
    expect(warnings.join('\n')).toMatch(/older than 25 days/);
    expect(warnings.join('\n')).toMatch(/rotation date of a token is unknown/);
  });

  it('without a rotation date, the age of the secret\'s current value (its last put-secret-value) is used', async () => {
    const sm = await startLocalSecretsManager();
    try {
      sm.put('scrm/age', JSON.stringify({ WHATSAPP_APP_SECRET: 'abcdefgh', WHATSAPP_VERIFY_TOKEN: 'verify-me', HUBSPOT_ACCESS_TOKEN: 'pat-eu1-x' }));
      const ages = await credentialAges(new SecretsManagerSource('scrm/age', { client: sm.client }), Date.now() + 3 * DAY);
      expect(ages).toEqual([{ credential: 'hubspot', ageDays: 3, source: 'secret-version' }]);
    } finally {
      await sm.stop();
    }
  });
});
