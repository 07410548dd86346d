/**
 * The deployment profiles (OP-6) and the reports' infrastructure (RP-*), proven on synthesized
 * templates (unbundled: the functions' code is stack.test.ts's). What each profile deploys that
 * costs money whatever the traffic is counted here, held to config/aws-usage.json `inventory`
 * (which the cost model prices), and priced from config/aws-prices.json.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { App, type PolicyValidationPluginReport } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { BUCKET_LAYOUT, ENV, FUNCTIONS, SCHEDULES } from '#shared/resources';
import { METRICS, METRIC_NAMESPACE } from '#shared/metric-names';
import { awsCostModel, loadAwsPrices, loadAwsUsage } from '#shared/reports/cost-model';
import { buildApp } from '../../infra/app.ts';
import { compliancePacks } from '../../infra/compliance.ts';
import { loadStackConfig, type StackConfigInput } from '../../infra/config.ts';
import { ALARM_THRESHOLDS, SMALL_PROFILE_ALARMS } from '../../infra/constructs/operations.ts';
import { MEDIA_ROUTE_PATH } from '../../infra/constructs/outbound.ts';
import { AWS_MANAGED_SNS_KEY, REPORTS_ROUTE_PATH } from '../../infra/constructs/reports.ts';
import type { ScrmStack } from '../../infra/stack.ts';

type Resource = { Type: string; Properties?: Record<string, unknown> };
type Statement = { Effect: string; Action: string | string[]; Resource?: unknown; Principal?: unknown; Condition?: unknown };

interface Synth {
  readonly app: App;
  readonly stack: ScrmStack;
  readonly resources: Record<string, Resource>;
  readonly nag: { pack: string; report: PolicyValidationPluginReport }[];
}

function synth(settings: StackConfigInput): Synth {
  const { app, stack } = buildApp({ app: new App({ context: { 'aws:cdk:bundling-stacks': [] } }), config: loadStackConfig({ stage: 'test', ...settings }) });
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, Resource>;
  return { app, stack, resources, nag: compliancePacks().map((pack) => ({ pack: pack.name, report: pack.validateScope(app) })) };
}

const ofType = (s: Synth, type: string) => Object.entries(s.resources).filter(([, r]) => r.Type === type);
const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const idOf = (s: Synth, construct: { node: { defaultChild?: unknown } }) => s.stack.getLogicalId(construct.node.defaultChild as never);
const functionNamed = (s: Synth, name: string) => ofType(s, 'AWS::Lambda::Function').find(([, r]) => r.Properties?.['FunctionName'] === `scrm-test-${name}`)!;
const envOf = (s: Synth, name: string) => (functionNamed(s, name)[1].Properties!['Environment'] as { Variables: Record<string, unknown> }).Variables;
const statementsOf = (s: Synth, fnName: string): Statement[] => {
  const fn = s.stack.functions.find((f) => f.name === fnName)!;
  const roleId = idOf(s, fn.role);
  return ofType(s, 'AWS::IAM::Policy')
    .filter(([, r]) => list(r.Properties?.['Roles'] as unknown[]).some((role) => JSON.stringify(role) === JSON.stringify({ Ref: roleId })))
    .flatMap(([, r]) => (r.Properties!['PolicyDocument'] as { Statement: Statement[] }).Statement);
};

/** Alarm metrics as CloudWatch bills them: one per metric an alarm reads (metric math: each metric; a Metrics Insights query: one). */
const alarmMetricsOf = (alarm: Resource) => {
  const p = alarm.Properties!;
  if (p['MetricName']) return 1;
  return (p['Metrics'] as { MetricStat?: unknown; Expression?: string }[]).filter((m) => m.MetricStat !== undefined || m.Expression?.startsWith('SELECT')).length;
};

/** What a profile deploys that costs money whatever the traffic, counted from its template. */
function inventoryOf(s: Synth) {
  const mappings = ofType(s, 'AWS::Lambda::EventSourceMapping').map(([, r]) => JSON.stringify(r.Properties?.['EventSourceArn']));
  const queues = ofType(s, 'AWS::SQS::Queue').filter(([id]) => mappings.some((m) => m.includes(`"${id}"`)));
  return {
    alarmMetrics: ofType(s, 'AWS::CloudWatch::Alarm').reduce((n, [, r]) => n + alarmMetricsOf(r), 0),
    compositeAlarms: ofType(s, 'AWS::CloudWatch::CompositeAlarm').length,
    dashboards: ofType(s, 'AWS::CloudWatch::Dashboard').length,
    kmsKeys: ofType(s, 'AWS::KMS::Key').length,
    secrets: ofType(s, 'AWS::SecretsManager::Secret').length,
    pollingQueues: { standard: queues.filter(([, r]) => r.Properties?.['FifoQueue'] !== true).length, fifo: queues.filter(([, r]) => r.Properties?.['FifoQueue'] === true).length },
  };
}

let standard: Synth;
let small: Synth;
let withReportEmail: { standard: Synth; small: Synth };

beforeAll(() => {
  // The inventory's reference deployment: an ops e-mail on the alarm topic, no report e-mail.
  standard = synth({ alarmEmail: 'ops@example.com' });
  small = synth({ alarmEmail: 'ops@example.com', profile: 'small' });
  withReportEmail = {
    standard: synth({ alarmEmail: 'ops@example.com', reportEmail: 'owner@example.com' }),
    small: synth({ alarmEmail: 'ops@example.com', reportEmail: 'owner@example.com', profile: 'small' }),
  };
});

describe('the profile setting', () => {
  it('is standard by default, small on request, anything else refused by name', () => {
    expect(loadStackConfig({}).profile).toBe('standard');
    expect(loadStackConfig({ profile: 'small' }).profile).toBe('small');
    expect(() => loadStackConfig({ profile: 'tiny' })).toThrow('Invalid stack configuration: profile: "tiny" is not one of standard, small');
    expect(() => loadStackConfig({ reportEmail: 'not-an-address' })).toThrow('reportEmail: "not-an-address" is not an e-mail address');
  });
});

describe.each([
  ['standard', () => standard],
  ['small', () => small],
] as const)('the %s profile', (profile, get) => {
  it('deploys what config/aws-usage.json inventories for it (alarm metrics, dashboards, keys, secrets, polled queues)', () => {
    expect(inventoryOf(get())).toEqual(loadAwsUsage().inventory.profiles[profile]);
  });

  it('has the function memory sizes the cost model prices', () => {
    const memory = Object.fromEntries(FUNCTIONS.map((name) => [name, { memoryMb: functionNamed(get(), name)[1].Properties!['MemorySize'] }]));
    expect(memory).toEqual(loadAwsUsage().inventory.functions);
  });

  it.each(['AwsSolutions', 'Serverless'])('the %s pack finds nothing unacknowledged', (pack) => {
    const { report } = get().nag.find((r) => r.pack === pack)!;
    expect(report.violations.map((v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
  });

  it('keeps the secret and the monthly budget, which alerts the alarm topic', () => {
    expect(ofType(get(), 'AWS::SecretsManager::Secret')).toHaveLength(1);
    const [, budget] = ofType(get(), 'AWS::Budgets::Budget')[0]!;
    expect(JSON.stringify(budget.Properties)).toContain(JSON.stringify({ Ref: idOf(get(), get().stack.operations.topic) }));
  });
});

describe('idle cost of each profile (alarms, dashboards, keys, the secret), from config/aws-prices.json', () => {
  const idleItems = (s: Synth) => {
    const p = loadAwsPrices().regions['us-east-1']!.prices;
    const per = (e: { usd: number; quantity: number }) => e.usd / e.quantity;
    const inv = inventoryOf(s);
    return {
      alarms: inv.alarmMetrics * per(p.cloudwatch.alarmMetricMonth) + inv.compositeAlarms * per(p.cloudwatch.compositeAlarmMonth),
      dashboards: inv.dashboards * per(p.cloudwatch.dashboardMonth),
      kmsKeys: inv.kmsKeys * per(p.kms.keyMonth),
      secret: inv.secrets * per(p.secretsManager.secretMonth),
    };
  };
  const total = (items: Record<string, number>) => Object.values(items).reduce((a, b) => a + b, 0);

  it('standard: 87 alarm metrics, the dashboard, the alarm key and the secret cost $13.20 a month; small: 10 alarm metrics and the secret, $1.40', () => {
    expect(idleItems(standard)).toEqual({ alarms: expect.closeTo(8.7, 6), dashboards: 3, kmsKeys: 1, secret: 0.4 });
    expect(total(idleItems(standard))).toBeCloseTo(13.1, 6);
    expect(idleItems(small)).toEqual({ alarms: expect.closeTo(1.0, 6), dashboards: 0, kmsKeys: 0, secret: 0.4 });
    expect(total(idleItems(small))).toBeCloseTo(1.4, 6);
  });

  it('the cost model prices the same items for each profile', () => {
    for (const [profile, s] of [['standard', standard], ['small', small]] as const) {
      const { fixedBreakdown } = awsCostModel({ profile });
      const items = idleItems(s);
      expect(fixedBreakdown.alarms).toBeCloseTo(items.alarms, 9);
      expect(fixedBreakdown.dashboards).toBeCloseTo(items.dashboards, 9);
      expect(fixedBreakdown.kmsKeys).toBeCloseTo(items.kmsKeys, 9);
      expect(fixedBreakdown.secret).toBeGreaterThanOrEqual(items.secret);
    }
    expect(awsCostModel({ profile: 'small' }).idleMonthlyUsd).toBeLessThan(awsCostModel({ profile: 'standard' }).idleMonthlyUsd - 10);
  });
});

describe('the small profile', () => {
  const alarms = () => ofType(small, 'AWS::CloudWatch::Alarm').map(([, r]) => r.Properties!);

  it('has exactly its five alarms, each notifying the alarm topic', () => {
    expect(alarms().map((a) => a['AlarmName']).sort()).toEqual(SMALL_PROFILE_ALARMS.map((name) => `scrm-test-${name}`).sort());
    for (const alarm of alarms()) expect(alarm['AlarmActions']).toEqual([{ Ref: idOf(small, small.stack.operations.topic) }]);
  });

  it('folds every dead-letter queue (job queues and the failed scheduled runs) into one alarm on the fullest', () => {
    const alarm = alarms().find((a) => a['AlarmName'] === 'scrm-test-dead-letters-not-empty')!;
    const metrics = alarm['Metrics'] as { Id: string; Expression?: string; MetricStat?: { Metric: { MetricName: string; Dimensions: { Value: unknown }[] } } }[];
    expect(metrics.find((m) => m.Expression)?.Expression).toMatch(/^MAX\(\[q0(, q\d)+\]\)$/);
    const queues = metrics.filter((m) => m.MetricStat).map((m) => JSON.stringify(m.MetricStat!.Metric.Dimensions[0]!.Value));
    const jobs = small.stack;
    for (const queue of [jobs.syncJobs, jobs.mediaJobs, jobs.outbound.sendJobs, jobs.automation.automationJobs, jobs.crmEvents.jobs].map((j) => j.deadLetterQueue).concat(jobs.scheduledJobs.failedRuns)) {
      expect(queues).toContain(JSON.stringify({ 'Fn::GetAtt': [idOf(small, queue), 'QueueName'] }));
    }
    expect(alarm).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'notBreaching' });
  });

  it("alarms on any failed or throttled invocation with Lambda's account-level metrics, and on webhook 5xx", () => {
    for (const [name, metricName] of [['function-errors', 'Errors'], ['function-throttles', 'Throttles']]) {
      const alarm = alarms().find((a) => a['AlarmName'] === `scrm-test-${name}`)!;
      expect(alarm).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: metricName, Statistic: 'Sum', Threshold: 1 });
      expect(alarm['Dimensions']).toBeUndefined();
    }
    expect(alarms().find((a) => a['AlarmName'] === 'scrm-test-webhook-api-5xx')).toMatchObject({ MetricName: '5xx', Namespace: 'AWS/ApiGateway' });
  });

  it('every schedule sends what it could not deliver to the failed-runs queue: no queue per schedule', () => {
    const failedRuns = { 'Fn::GetAtt': [idOf(small, small.stack.scheduledJobs.failedRuns), 'Arn'] };
    const schedules = ofType(small, 'AWS::Scheduler::Schedule');
    expect(schedules).toHaveLength(SCHEDULES.length);
    for (const [, schedule] of schedules) expect((schedule.Properties!['Target'] as { DeadLetterConfig: unknown }).DeadLetterConfig).toEqual({ Arn: failedRuns });
    expect(ofType(small, 'AWS::SQS::Queue').map(([, r]) => String(r.Properties?.['QueueName'])).filter((name) => name.includes('-schedule-'))).toEqual([]);
  });

  it('has no dashboard and no customer managed key; the alarm topic is TLS-only and acknowledged unencrypted', () => {
    expect(ofType(small, 'AWS::CloudWatch::Dashboard')).toEqual([]);
    expect(ofType(small, 'AWS::KMS::Key')).toEqual([]);
    const alarmTopic = small.resources[idOf(small, small.stack.operations.topic)]!;
    expect(alarmTopic.Properties?.['KmsMasterKeyId']).toBeUndefined();
    const policies = ofType(small, 'AWS::SNS::TopicPolicy').filter(([, r]) => JSON.stringify(r.Properties?.['Topics']).includes(idOf(small, small.stack.operations.topic)));
    expect(JSON.stringify(policies)).toContain('"aws:SecureTransport":"false"');
    expect(small.stack.operations.dashboard).toBeUndefined();
  });

  it('the standard profile keeps every schedule DLQ, the dashboard, the key and its per-function alarms', () => {
    expect(ofType(standard, 'AWS::CloudWatch::Dashboard')).toHaveLength(1);
    expect(ofType(standard, 'AWS::KMS::Key')).toHaveLength(1);
    const names = ofType(standard, 'AWS::CloudWatch::Alarm').map(([, r]) => String(r.Properties!['AlarmName']));
    for (const s of SCHEDULES) expect(names).toContain(`scrm-test-schedule-${s.id}-dlq-not-empty`);
    for (const fn of FUNCTIONS) expect(names).toContain(`scrm-test-${fn}-errors`);
    expect(names).not.toContain('scrm-test-dead-letters-not-empty');
    expect(names).not.toContain('scrm-test-function-errors');
  });
});

describe.each([
  ['standard', () => standard, () => withReportEmail.standard],
  ['small', () => small, () => withReportEmail.small],
] as const)('reports (RP-*) in the %s profile', (profile, get, getWithEmail) => {
  const topicOf = (s: Synth) => s.resources[idOf(s, s.stack.reports.topic)]!;

  it('an SNS topic scrm-<stage>-reports, TLS-only, encrypted as the profile says', () => {
    const s = get();
    expect(topicOf(s).Properties).toMatchObject({ TopicName: 'scrm-test-reports' });
    const key = topicOf(s).Properties!['KmsMasterKeyId'];
    if (profile === 'standard') expect(key).toEqual({ 'Fn::GetAtt': [idOf(s, s.stack.operations.topicKey!), 'Arn'] });
    else expect(JSON.stringify(key)).toContain(AWS_MANAGED_SNS_KEY);
    const policy = ofType(s, 'AWS::SNS::TopicPolicy').find(([, r]) => JSON.stringify(r.Properties?.['Topics']).includes(idOf(s, s.stack.reports.topic)));
    expect(JSON.stringify(policy)).toContain('"aws:SecureTransport":"false"');
    expect(s.stack.reports.undelivered).toBeUndefined();
    expect(ofType(s, 'AWS::SNS::Subscription').filter(([, r]) => JSON.stringify(r.Properties?.['TopicArn']).includes(idOf(s, s.stack.reports.topic)))).toEqual([]);
  });

  it('the reports function alone may publish to it, and gets its ARN as SCRM_REPORTS_TOPIC_ARN', () => {
    const s = get();
    const topicRef = JSON.stringify({ Ref: idOf(s, s.stack.reports.topic) });
    for (const fn of FUNCTIONS) {
      const publishes = statementsOf(s, fn).filter((st) => list(st.Action).includes('sns:Publish') && JSON.stringify(st.Resource) === topicRef);
      expect(publishes, fn).toHaveLength(fn === 'reports' ? 1 : 0);
      expect(envOf(s, fn)[ENV.reportsTopicArn], fn).toEqual(fn === 'reports' ? { Ref: idOf(s, s.stack.reports.topic) } : undefined);
    }
    if (profile === 'standard') {
      const kms = statementsOf(s, 'reports').find((st) => list(st.Action).includes('kms:GenerateDataKey'));
      expect(kms?.Action).toEqual(['kms:GenerateDataKey', 'kms:Decrypt']);
      expect(kms?.Resource).toEqual({ 'Fn::GetAtt': [idOf(s, s.stack.operations.topicKey!), 'Arn'] });
    }
  });

  it('reportEmail subscribes an e-mail address, with a DLQ for what SNS cannot deliver (alarmed in the standard profile)', () => {
    const s = getWithEmail();
    const subscription = ofType(s, 'AWS::SNS::Subscription').find(([, r]) => r.Properties?.['Endpoint'] === 'owner@example.com')!;
    expect(subscription[1].Properties).toMatchObject({ Protocol: 'email', TopicArn: { Ref: idOf(s, s.stack.reports.topic) }, RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [idOf(s, s.stack.reports.undelivered!), 'Arn'] } } });
    const names = ofType(s, 'AWS::CloudWatch::Alarm').map(([, r]) => r.Properties!['AlarmName']);
    if (profile === 'standard') expect(names).toContain('scrm-test-undelivered-reports-not-empty');
    else expect(names).not.toContain('scrm-test-undelivered-reports-not-empty');
  });

  it('the reports function writes and reads reports/ objects and gets SCRM_TIME_ZONE and SCRM_PUBLIC_URL', () => {
    const s = get();
    const objects = statementsOf(s, 'reports').filter((st) => list(st.Action).some((a) => a.startsWith('s3:')));
    expect(objects).toEqual([expect.objectContaining({ Action: ['s3:PutObject', 's3:GetObject'], Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [idOf(s, s.stack.storage.bucket), 'Arn'] }, `/${BUCKET_LAYOUT.reports}*`]] } })]);
    expect(envOf(s, 'reports')).toMatchObject({ [ENV.timeZone]: 'Asia/Hong_Kong', [ENV.publicUrl]: { 'Fn::GetAtt': [idOf(s, s.stack.ingest.api), 'ApiEndpoint'] } });
  });

  it('every function gets SCRM_TIME_ZONE from the stack setting', () => {
    const berlin = synth({ timeZone: 'Europe/Berlin', ...(profile === 'small' && { profile }) });
    for (const fn of FUNCTIONS) expect(envOf(berlin, fn)[ENV.timeZone], fn).toBe('Europe/Berlin');
  });

  it('GET /reports/{name} goes to the function that serves GET /media/{wamid}, without an authoriser, and that function may read reports/ objects', () => {
    const s = get();
    const routes = ofType(s, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties!);
    const reports = routes.find((r) => r['RouteKey'] === `GET ${REPORTS_ROUTE_PATH}`)!;
    const media = routes.find((r) => r['RouteKey'] === `GET ${MEDIA_ROUTE_PATH}`)!;
    expect(reports['AuthorizationType'] ?? 'NONE').toBe('NONE');
    expect(reports['AuthorizerId']).toBeUndefined();
    const integrationOf = (route: Record<string, unknown>) => s.resources[((route['Target'] as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1][1] as { Ref: string }).Ref]!;
    expect(integrationOf(reports).Properties!['IntegrationUri']).toEqual(integrationOf(media).Properties!['IntegrationUri']);
    expect(integrationOf(reports).Properties!['IntegrationUri']).toEqual({ 'Fn::GetAtt': [idOf(s, s.stack.outbound.apiFunction.function), 'Arn'] });
    const reads = statementsOf(s, 'api').filter((st) => JSON.stringify(st.Resource).includes(`/${BUCKET_LAYOUT.reports}*`));
    expect(reads).toEqual([expect.objectContaining({ Action: 's3:GetObject' })]);
  });

  it('alarms when the complaint rate the reports publish stays above 5 % three days in a row', () => {
    const s = get();
    const alarm = ofType(s, 'AWS::CloudWatch::Alarm').map(([, r]) => r.Properties!).find((a) => a['AlarmName'] === 'scrm-test-complaint-rate-above-5-percent-3-days');
    expect(alarm).toMatchObject({
      Namespace: METRIC_NAMESPACE,
      MetricName: METRICS.complaintRate.name,
      Dimensions: expect.arrayContaining([{ Name: 'service', Value: 'reports' }, { Name: 'stage', Value: 'test' }]),
      Unit: 'None',
      Period: 86_400,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      Threshold: ALARM_THRESHOLDS.complaintRate,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: idOf(s, s.stack.operations.topic) }],
    });
    expect((alarm!['Dimensions'] as unknown[]).length).toBe(2);
    expect(METRICS.complaintRate).toEqual({ name: 'ComplaintRate', unit: 'None', emittedBy: 'reports' });
  });
});

describe('the dashboard links to the latest reports (standard profile)', () => {
  it('a text widget with the S3 console URL of reports/latest/ in the data bucket', () => {
    const [, dashboard] = ofType(standard, 'AWS::CloudWatch::Dashboard')[0]!;
    const body = JSON.stringify(dashboard.Properties!['DashboardBody']);
    expect(body).toContain('https://s3.console.aws.amazon.com/s3/buckets/');
    expect(body).toContain(`prefix=${BUCKET_LAYOUT.reports}latest/`);
    expect(body).toMatch(new RegExp(`s3/buckets/",${JSON.stringify({ Ref: idOf(standard, standard.stack.storage.bucket) }).replace(/[{}]/g, '\\$&')},"\\?region=`));
  });
});

describe('outputs', () => {
  it('the reports topic ARN is an output in both profiles; the dashboard name only where there is one', () => {
    for (const s of [standard, small]) Template.fromStack(s.stack).hasOutput('ReportsTopicArn', { Value: { Ref: idOf(s, s.stack.reports.topic) } });
    Template.fromStack(standard.stack).hasOutput('DashboardName', Match.anyValue());
    expect(Template.fromStack(small.stack).findOutputs('DashboardName')).toEqual({});
  });
});
