/** The stack configuration: defaults, coercion of context strings, and errors that name the setting. */
import { describe, expect, it } from 'vitest';
import { App } from 'aws-cdk-lib';
import { buildApp } from '../../infra/app.ts';
import { CONFIG_ENV_FALLBACK, MIN_RETENTION_DAYS, StackConfigError, loadStackConfig, readStackConfig } from '../../infra/config.ts';

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
