/** The stack configuration: defaults, coercion of context strings, and errors that name the setting. */
import { describe, expect, it } from 'vitest';
import { App } from 'aws-cdk-lib';
import { buildApp } from '../../infra/app.ts';
import { CONFIG_ENV_FALLBACK, MAX_ACCOUNTS_JSON_LENGTH, accountsEnvironmentSize, MIN_RETENTION_DAYS, StackConfigError, loadStackConfig, readStackConfig } from '../../infra/config.ts';

describe('loadStackConfig', () => {
  it('defaults to a dev stage in Hong Kong time with the 180-day retention of ST-1', () => {
    expect(loadStackConfig({})).toMatchObject({
      stage: 'dev',
      timeZone: 'Asia/Hong_Kong',
      crm: 'hubspot',
      retentionDays: MIN_RETENTION_DAYS,
      defaultRegion: 'HK',
      monthlyBudgetUsd: 30,
    });
    expect(loadStackConfig({}).alarmEmail).toBeUndefined();
  });

  it('reads numbers given as strings (-c key=value) and treats empty strings as unset', () => {
    const config = loadStackConfig({ monthlyBudgetUsd: '12.5', retentionDays: '365', logRetentionDays: '90', alarmEmail: '' });
    expect(config).toMatchObject({ monthlyBudgetUsd: 12.5, retentionDays: 365, logRetentionDays: 90 });
    expect(config.alarmEmail).toBeUndefined();
  });

  it.each([
    [{ timeZone: 'Mars/Base' }, 'Invalid stack configuration: timeZone: "Mars/Base" is not an IANA time zone'],
    [{ timeZone: '+08:00' }, 'timeZone: "+08:00" is not an IANA time zone'],
    [{ crm: 'sap' }, 'crm: "sap" is not one of hubspot'],
    [{ alarmEmail: 'ops-at-example' }, 'alarmEmail: "ops-at-example" is not an e-mail address'],
    [{ monthlyBudgetUsd: 0 }, 'monthlyBudgetUsd: 0 must be a positive amount in USD'],
    [{ monthlyBudgetUsd: 'lots' }, 'monthlyBudgetUsd: "lots" is not a number'],
    [{ retentionDays: 179 }, 'retentionDays: 179 is below the 180 days ST-1 requires'],
    [{ retentionDays: 200.5 }, 'retentionDays: 200.5 must be a whole number of days'],
    [{ logRetentionDays: 2 }, 'logRetentionDays: 2 is not a CloudWatch Logs retention'],
    [{ defaultRegion: 'hk' }, 'defaultRegion: "hk" is not a two-letter ISO 3166 region code'],
    [{ stage: 'Prod!' }, 'stage: "Prod!" must be 1-20 lowercase letters'],
  ])('%j fails with a message naming the setting', (raw, message) => {
    expect(() => loadStackConfig(raw)).toThrow(StackConfigError);
    expect(() => loadStackConfig(raw)).toThrow(message);
  });

  it('names every wrong setting at once', () => {
    expect(() => loadStackConfig({ timeZone: 'Nowhere', crm: 'sap' })).toThrow(/timeZone: .*; crm: /);
  });
});

describe('readStackConfig', () => {
  it('takes CDK context first, then the environment variable of the setting', () => {
    const context: Record<string, unknown> = { stage: 'prod' };
    const env = { [CONFIG_ENV_FALLBACK.stage]: 'ignored', [CONFIG_ENV_FALLBACK.timeZone]: 'Europe/London', [CONFIG_ENV_FALLBACK.monthlyBudgetUsd]: '40' };
    expect(readStackConfig((key) => context[key], env)).toMatchObject({ stage: 'prod', timeZone: 'Europe/London', monthlyBudgetUsd: 40 });
  });

  it('fails the synth before anything is built when a context value is wrong', () => {
    const app = new App({ context: { timeZone: 'Mars/Base' } });
    expect(() => buildApp({ app })).toThrow('Invalid stack configuration: timeZone: "Mars/Base" is not an IANA time zone');
  });
});

describe('the sync retry settings drive the queue and the functions alike (hardening, defect 8)', () => {
  it('syncMaxAttempts and syncRetryDelaySeconds set the queue\'s redrive and visibility and the functions\' settings, so they cannot disagree', async () => {
    const { Template } = await import('aws-cdk-lib/assertions');
    const { SYNC_RECEIVE_ALLOWANCE } = await import('#shared/resources');
    // No bundling: the template is what is checked.
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const { stack } = buildApp({ app, config: loadStackConfig({ stage: 'retry', syncMaxAttempts: 6, syncRetryDelaySeconds: 120 }) });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'scrm-retry-sync.fifo',
      VisibilityTimeout: 120,
      RedrivePolicy: { maxReceiveCount: 6 + SYNC_RECEIVE_ALLOWANCE },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'scrm-retry-sync',
      Timeout: 20,
      Environment: { Variables: { SYNC_MAX_ATTEMPTS: '6', SYNC_RETRY_DELAY_SECONDS: '120' } },
    });
  });

  it('a retry pause under a minute (the sync function needs 1/6 of it) is refused, naming the setting', () => {
    expect(() => loadStackConfig({ syncRetryDelaySeconds: 30 })).toThrow('syncRetryDelaySeconds: 30 must be at least 60 seconds');
  });
});

describe('the outbound settings: business numbers, sending limits, End User Messaging Social (IN-6, CP-6, CP-10, IN-7)', () => {
  it('default to no numbers, 1,000 customers and 10,000 API calls a day, 80 messages a second, no SNS topic', () => {
    const config = loadStackConfig({});
    expect(config).toMatchObject({ whatsappAccounts: '{}', whatsappDailyLimit: 1_000, whatsappDailyApiCalls: 10_000, whatsappMessagesPerSecond: 80 });
    expect(config.socialMessagingTopicArn).toBeUndefined();
  });

  it('accept an account as a name or with its WABA, backup number, channel and origination id, given to the functions compact', () => {
    const config = loadStackConfig({
      whatsappAccounts: `{
        "106540352242922": { "name": "HK shop", "wabaId": "102290129340398", "backupPhoneNumberId": "106540352242923" },
        "106540352242923": "HK shop (backup)",
        "106540352242924": { "name": "TW", "channel": "social_messaging", "originationId": "phone-number-id-0123456789abcdef" }
      }`,
      socialMessagingTopicArn: 'arn:aws:sns:ap-east-1:123456789012:whatsapp-events',
      whatsappDailyLimit: '2000',
      whatsappMessagesPerSecond: '1000',
    });
    expect(JSON.parse(config.whatsappAccounts)).toEqual({
      '106540352242922': { name: 'HK shop', wabaId: '102290129340398', backupPhoneNumberId: '106540352242923' },
      '106540352242923': { name: 'HK shop (backup)' },
      '106540352242924': { name: 'TW', channel: 'social_messaging', originationId: 'phone-number-id-0123456789abcdef' },
    });
    expect(config.whatsappAccounts).toBe(JSON.stringify(JSON.parse(config.whatsappAccounts)));
    expect(config).toMatchObject({ whatsappDailyLimit: 2_000, whatsappMessagesPerSecond: 1_000 });
  });

  it('what the synth accepts, the functions accept at cold start, as the same accounts and limits', async () => {
    const { loadRuntimeConfig } = await import('#shared/config');
    const { ENV } = await import('#shared/resources');
    const config = loadStackConfig({
      whatsappAccounts: '{"106540352242922":{"name":"HK shop","wabaId":"102290129340398","backupPhoneNumberId":"106540352242923","channel":"cloud_api"},"106540352242923":"backup"}',
      whatsappDailyApiCalls: 500,
    });
    const runtime = loadRuntimeConfig({
      [ENV.tableName]: 'scrm-test-table',
      [ENV.syncQueueUrl]: 'https://sqs.ap-east-1.amazonaws.com/123456789012/scrm-test-sync.fifo',
      [ENV.accounts]: config.whatsappAccounts,
      [ENV.dailyLimit]: String(config.whatsappDailyLimit),
      [ENV.dailyApiCalls]: String(config.whatsappDailyApiCalls),
      [ENV.messagesPerSecond]: String(config.whatsappMessagesPerSecond),
    });
    expect(runtime.accounts).toEqual(JSON.parse(config.whatsappAccounts));
    expect(runtime.sending).toEqual({ dailyLimit: 1_000, dailyApiCalls: 500, messagesPerSecond: 80 });
  });

  it.each([
    [{ whatsappAccounts: 'HK shop' }, 'whatsappAccounts: "HK shop" is not JSON'],
    [{ whatsappAccounts: '["106540352242922"]' }, 'whatsappAccounts: must be a JSON object of phone_number_id to account'],
    [{ whatsappAccounts: '{"+85291234567":"HK"}' }, 'whatsappAccounts: "+85291234567" is not a phone_number_id (digits)'],
    [{ whatsappAccounts: '{"1065":{"name":"HK","channel":"sms"}}' }, 'whatsappAccounts: 1065: channel "sms" is not cloud_api or social_messaging'],
    [{ whatsappAccounts: '{"1065":{"name":"HK","colour":"red"}}' }, 'whatsappAccounts: 1065: colour: not a setting of an account'],
    [{ whatsappAccounts: '{"1065":{"name":""}}' }, 'whatsappAccounts: 1065: name must not be empty'],
    [{ whatsappAccounts: '{"1065":{"wabaId":"102290129340398"}}' }, 'whatsappAccounts: 1065: name (the account\'s name) is required'],
    [{ whatsappAccounts: '{"1065":{"name":"HK","wabaId":"waba-1"}}' }, 'whatsappAccounts: 1065: wabaId "waba-1" is not a WABA id (digits)'],
    [{ whatsappAccounts: '{"1065":{"name":"HK","backupPhoneNumberId":"1065"}}' }, 'whatsappAccounts: 1065: backupPhoneNumberId is the number itself'],
    [{ whatsappAccounts: JSON.stringify(Object.fromEntries(Array.from({ length: 80 }, (_, i) => [String(106540352242000 + i), `Shop number ${i}`]))) }, `at most ${MAX_ACCOUNTS_JSON_LENGTH} fit into the functions' environment`],
    [{ whatsappDailyLimit: 0 }, 'whatsappDailyLimit: 0 must be at least 1'],
    [{ whatsappDailyApiCalls: 'lots' }, 'whatsappDailyApiCalls: "lots" is not a number'],
    [{ whatsappMessagesPerSecond: 1_001 }, 'whatsappMessagesPerSecond: 1001 must be at most 1000'],
    [{ whatsappMessagesPerSecond: 2.5 }, 'whatsappMessagesPerSecond: 2.5 must be a whole number'],
    [{ socialMessagingTopicArn: 'whatsapp-events' }, 'socialMessagingTopicArn: "whatsapp-events" is not an SNS topic ARN'],
    [
      { whatsappAccounts: '{"1065":{"name":"HK","channel":"social_messaging"}}' },
      'socialMessagingTopicArn: must be set: whatsappAccounts 1065 use channel social_messaging',
    ],
  ])('%j fails with a message naming the setting', (raw, message) => {
    expect(() => loadStackConfig(raw)).toThrow(StackConfigError);
    expect(() => loadStackConfig(raw)).toThrow(message);
  });

  it('the accounts are measured as Lambda counts them: compact, every plain name made an object, quotes escaped', () => {
    const names = (n: number) => JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [String(106540352242000 + i), `Shop ${i}`])));
    // Find the most plain-name accounts whose text fits; made objects and escaped, they no longer do.
    let n = 1;
    while (names(n + 1).length <= MAX_ACCOUNTS_JSON_LENGTH) n++;
    expect(names(n).length).toBeLessThanOrEqual(MAX_ACCOUNTS_JSON_LENGTH);
    expect(() => loadStackConfig({ whatsappAccounts: names(n) })).toThrow(/as Lambda counts it .* at most 1900 fit into the functions' environment/);
    expect(accountsEnvironmentSize('{"1":{"name":"a"}}')).toBe(18 + 6);
    // Whitespace in the setting does not count.
    const spaced = `{"106540352242922":${' '.repeat(2 * MAX_ACCOUNTS_JSON_LENGTH)}{"name":"HK shop"}}`;
    expect(loadStackConfig({ whatsappAccounts: spaced }).whatsappAccounts).toBe('{"106540352242922":{"name":"HK shop"}}');
  });

  it('fall back to the environment variables the functions read (WHATSAPP_ACCOUNTS, …)', () => {
    const env = {
      [CONFIG_ENV_FALLBACK.whatsappAccounts]: '{"106540352242922":"HK shop"}',
      [CONFIG_ENV_FALLBACK.whatsappMessagesPerSecond]: '200',
      [CONFIG_ENV_FALLBACK.socialMessagingTopicArn]: 'arn:aws:sns:ap-east-1:123456789012:whatsapp-events',
    };
    expect(CONFIG_ENV_FALLBACK).toMatchObject({ whatsappAccounts: 'WHATSAPP_ACCOUNTS', whatsappDailyLimit: 'WHATSAPP_DAILY_LIMIT', whatsappDailyApiCalls: 'WHATSAPP_DAILY_API_CALLS', whatsappMessagesPerSecond: 'WHATSAPP_MESSAGES_PER_SECOND' });
    expect(readStackConfig(() => undefined, env)).toMatchObject({
      whatsappAccounts: '{"106540352242922":{"name":"HK shop"}}',
      whatsappMessagesPerSecond: 200,
      socialMessagingTopicArn: 'arn:aws:sns:ap-east-1:123456789012:whatsapp-events',
    });
  });
});

describe('the automation settings: courier API and geocoder (AU-2, ID-7)', () => {
  it('default to AfterShip 2026-07 and Amazon Location, and fall back to the variables the functions read', () => {
    expect(loadStackConfig({})).toMatchObject({ courierApiBase: 'https://api.aftership.com', courierApiVersion: '2026-07', geocoder: 'amazon-location' });
    expect(CONFIG_ENV_FALLBACK).toMatchObject({ courierApiBase: 'COURIER_API_BASE', courierApiVersion: 'COURIER_API_VERSION', geocoder: 'GEOCODER_KIND', timeZone: 'SCRM_TIME_ZONE' });
    const env = { COURIER_API_BASE: 'https://courier.example.com', COURIER_API_VERSION: '2026-01', GEOCODER_KIND: 'none' };
    expect(readStackConfig(() => undefined, env)).toMatchObject({ courierApiBase: 'https://courier.example.com', courierApiVersion: '2026-01', geocoder: 'none' });
  });

  it('what the synth accepts, the functions accept at cold start', async () => {
    const { loadRuntimeConfig } = await import('#shared/config');
    const { ENV } = await import('#shared/resources');
    const config = loadStackConfig({ courierApiVersion: '2026-01', geocoder: 'none' });
    const runtime = loadRuntimeConfig({
      [ENV.tableName]: 'scrm-test-table',
      [ENV.syncQueueUrl]: 'https://sqs.ap-east-1.amazonaws.com/123456789012/scrm-test-sync.fifo',
      [ENV.courierApiBase]: config.courierApiBase,
      [ENV.courierApiVersion]: config.courierApiVersion,
      [ENV.geocoder]: config.geocoder,
      [ENV.timeZone]: config.timeZone,
    });
    expect(runtime.courier).toMatchObject({ baseUrl: 'https://api.aftership.com', apiVersion: '2026-01' });
    expect(runtime.geocoder.kind).toBe('none');
    expect(runtime.automation.timeZone).toBe('Asia/Hong_Kong');
  });

  it.each([
    [{ courierApiBase: 'aftership' }, 'courierApiBase: "aftership" is not a URL'],
    [{ courierApiVersion: 'v4' }, 'courierApiVersion: "v4" is not a courier API version such as 2026-07'],
    [{ geocoder: 'google' }, 'geocoder: "google" is not one of amazon-location, none'],
  ])('%j fails with a message naming the setting', (raw, message) => {
    expect(() => loadStackConfig(raw)).toThrow(StackConfigError);
    expect(() => loadStackConfig(raw)).toThrow(message);
  });
});
