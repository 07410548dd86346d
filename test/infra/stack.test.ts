/**
 * The CDK stack, proven by the synthesized template (one synth for the whole file: bundling six
 * functions takes a few seconds) and by the cdk-nag AwsSolutions and Serverless packs.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App, CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import type { PolicyValidationPluginReport } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { BUCKET_LAYOUT, ENV, FUNCTIONS, MEDIA_QUEUE, SCHEDULES, SECRET_KEYS, SYNC_QUEUE, TABLE } from '#shared/resources';
import { buildApp } from '../../infra/app.ts';
import { BUNDLE_FILE, ESM_REQUIRE_BANNER, SHARP_FOR_LAMBDA_ARM64, installPackagesHook, packageSource } from '../../infra/bundling.ts';
import { compliancePacks } from '../../infra/compliance.ts';
import { loadStackConfig } from '../../infra/config.ts';
import { METRICS, METRIC_NAMESPACE } from '#shared/metric-names';
import { APPLICATION_TAG_VALUE } from '../../infra/constructs/cost-controls.ts';
import { WEBHOOK_THROTTLE } from '../../infra/constructs/ingest.ts';
import { ALARM_THRESHOLDS } from '../../infra/constructs/operations.ts';
import { SCHEDULE_RETRY_ATTEMPTS } from '../../infra/constructs/scheduled-jobs.ts';
import type { ScrmStack } from '../../infra/stack.ts';

type Resource = { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string };
type Statement = { Effect: string; Action: string | string[]; Resource?: unknown; Principal?: unknown; Condition?: unknown };

const config = loadStackConfig({
  stage: 'test',
  timeZone: 'Europe/Berlin',
  alarmEmail: 'ops@example.com',
  monthlyBudgetUsd: 25,
  costCentre: 'cc-4711',
  logRetentionDays: 90,
  retentionDays: 365,
});

let outdir: string;
let app: App;
let stack: ScrmStack;
let template: Template;
let resources: Record<string, Resource>;
let nagReports: { pack: string; report: PolicyValidationPluginReport }[];

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const getAttArn = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });
/** The logical id of a construct's CloudFormation resource. */
const idOf = (construct: IConstruct): string => {
  const cfn = construct.node.defaultChild;
  if (!(cfn instanceof CfnElement)) throw new Error(`${construct.node.path} has no CloudFormation resource`);
  return stack.getLogicalId(cfn);
};

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'scrm-cdk-'));
  // The packs are registered exactly as `npx cdk synth` has them: a finding fails this synth.
  ({ app, stack } = buildApp({ config, app: new App({ outdir }) }));
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources as Record<string, Resource>;
  nagReports = compliancePacks().map((pack) => ({ pack: pack.name, report: pack.validateScope(app) }));
});

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

describe('functions', () => {
  it('has one Lambda function per function folder, named scrm-<stage>-<folder>', () => {
    const names = ofType('AWS::Lambda::Function').map(([, r]) => r.Properties?.FunctionName);
    expect(names.sort()).toEqual(FUNCTIONS.map((name) => `scrm-test-${name}`).sort());
  });

  it.each(FUNCTIONS)('%s runs Node.js 24 on arm64 with JSON logs in its own log group, traced', (name) => {
    const fn = stack.functions.find((f) => f.name === name);
    expect(fn).toBeDefined();
    const logGroupId = idOf(fn!.logGroup);
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: `scrm-test-${name}`,
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: Match.anyValue(),
      Timeout: Match.anyValue(),
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: logGroupId } },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: `/aws/lambda/scrm-test-${name}`,
      RetentionInDays: config.logRetentionDays,
    });
  });

  it.each(FUNCTIONS)('%s is bundled as minified ESM with the createRequire banner and a source map', (name) => {
    const fn = stack.functions.find((f) => f.name === name)!;
    const asset = fn.function.node.findChild('Code');
    expect(asset).toBeInstanceOf(Asset);
    const dir = join(outdir, (asset as Asset).assetPath);
    const code = readFileSync(join(dir, BUNDLE_FILE), 'utf8');
    expect(code.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
    expect(existsSync(join(dir, `${BUNDLE_FILE}.map`))).toBe(true);
    // package.json `imports` aliases are resolved by esbuild, never left for the runtime.
    expect(code).not.toMatch(/["']#(shared|functions|local)\//);
    // No CommonJS wrapper around the handler: the export is an ES module export.
    expect(code).toMatch(/export\s*\{[^}]*\bhandler\b/);
  });

  it.each(FUNCTIONS)('%s gets the stack settings by ENV name, Powertools names and source maps', (name) => {
    const [, fn] = ofType('AWS::Lambda::Function').find(([, r]) => r.Properties?.FunctionName === `scrm-test-${name}`)!;
    const env = (fn.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(Object.keys(env)).toEqual(expect.arrayContaining(Object.values(ENV)));
    expect(env).toMatchObject({
      [ENV.stage]: 'test',
      [ENV.retentionDays]: '365',
      [ENV.defaultRegion]: config.defaultRegion,
      [ENV.crmKind]: config.crm,
      POWERTOOLS_SERVICE_NAME: name,
      POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
      NODE_OPTIONS: '--enable-source-maps',
    });
  });

  it('passes the secret by ARN only: no secret key or value in any environment', () => {
    const [secretId] = ofType('AWS::SecretsManager::Secret')[0]!;
    for (const [, fn] of ofType('AWS::Lambda::Function')) {
      const env = (fn.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(env[ENV.secretArn]).toEqual({ Ref: secretId });
      for (const key of Object.values(SECRET_KEYS)) expect(Object.keys(env)).not.toContain(key);
      expect(JSON.stringify(env)).not.toMatch(/REPLACE_ME|SecretString|resolve:secretsmanager/);
    }
  });

  it('the secret holds every SECRET_KEYS name, the verify token generated', () => {
    const [, secret] = ofType('AWS::SecretsManager::Secret')[0]!;
    const generate = secret.Properties?.GenerateSecretString as { SecretStringTemplate: string; GenerateStringKey: string };
    const keys = [...Object.keys(JSON.parse(generate.SecretStringTemplate)), generate.GenerateStringKey];
    expect(keys.sort()).toEqual(Object.values(SECRET_KEYS).sort());
    expect(generate.GenerateStringKey).toBe(SECRET_KEYS.verifyToken);
    expect(secret.DeletionPolicy).toBe('Retain');
  });
});

describe('least privilege', () => {
  const statements = () =>
    ofType('AWS::IAM::Policy').flatMap(([id, r]) =>
      list((r.Properties?.PolicyDocument as { Statement: Statement[] }).Statement).map((s) => ({ id, ...s })),
    );

  it('no IAM policy allows a wildcard action', () => {
    const wildcards = statements()
      .filter((s) => s.Effect === 'Allow')
      .flatMap((s) => list(s.Action).filter((a) => a.includes('*')).map((a) => `${s.id}: ${a}`));
    expect(wildcards).toEqual([]);
    for (const [, role] of ofType('AWS::IAM::Role')) expect(role.Properties?.ManagedPolicyArns).toBeUndefined();
  });

  it('Resource "*" appears only for X-Ray, which has no resource-level permissions', () => {
    const starResources = statements().filter((s) => list(s.Resource).includes('*'));
    expect(starResources.length).toBe(FUNCTIONS.length);
    for (const s of starResources) expect(list(s.Action).sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
  });

  it('the webhook function writes objects only under raw/ (payloads too large for the table)', () => {
    const policy = idOf(stack.ingest.webhookFunction.role.node.findChild('DefaultPolicy'));
    const s3 = statements().filter((s) => s.id === policy && list(s.Action).some((a) => a.startsWith('s3:')));
    expect(s3).toHaveLength(1);
    expect(s3[0]!.Action).toBe('s3:PutObject');
    expect(JSON.stringify(s3[0]!.Resource)).toContain(`/${BUCKET_LAYOUT.raw}*`);
  });

  it('the media function writes only under media/; the retry function reads only the sync DLQ and sends only to the sync queue', () => {
    const media = stack.media.mediaFunction;
    const mediaPolicy = idOf(media.role.node.findChild('DefaultPolicy'));
    const s3 = statements().filter((s) => s.id === mediaPolicy && list(s.Action).some((a) => a.startsWith('s3:')));
    expect(s3).toHaveLength(1);
    expect(s3[0]!.Action).toBe('s3:PutObject');
    expect(JSON.stringify(s3[0]!.Resource)).toContain(`/${BUCKET_LAYOUT.media}*`);

    const retry = stack.crmSync.retryFunction;
    const retryPolicy = idOf(retry.role.node.findChild('DefaultPolicy'));
    const granted = statements()
      .filter((s) => s.id === retryPolicy && !list(s.Action).some((a) => a.startsWith('logs:') || a.startsWith('xray:')))
      .map((s) => ({ actions: list(s.Action).sort(), resource: s.Resource }));
    const dlq = idOf(stack.syncJobs.deadLetterQueue);
    const queue = idOf(stack.syncJobs.queue);
    const sqsGrants = granted.filter((g) => g.actions.some((a) => a.startsWith('sqs:')));
    expect(sqsGrants).toEqual([
      {
        actions: ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'],
        resource: getAttArn(dlq),
      },
      { actions: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'], resource: getAttArn(queue) },
    ]);
    // Besides the queues: the message row (idempotent redrive) and the secret (runtime start), nothing else.
    const services = new Set(granted.flatMap((g) => g.actions.map((a) => a.split(':')[0])));
    expect([...services].sort()).toEqual(['dynamodb', 'secretsmanager', 'sqs']);
    expect(JSON.stringify(granted)).not.toMatch(/s3:|MediaJobs/);
  });
});

describe('storage', () => {
  it('the table has the keys, indexes, TTL, PITR, encryption and retention of TABLE', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        TableName: 'scrm-test-table',
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: Object.values(TABLE.indexes).map((index) =>
          Match.objectLike({
            IndexName: index.name,
            KeySchema: [
              { AttributeName: index.partitionKey, KeyType: 'HASH' },
              { AttributeName: index.sortKey, KeyType: 'RANGE' },
            ],
          }),
        ),
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
        // SSEEnabled without a key: the AWS managed KMS key aws/dynamodb.
        SSESpecification: { SSEEnabled: true },
        DeletionProtectionEnabled: true,
      },
    });
  });

  it('the data bucket is private, TLS-only, encrypted, versioned, logged, tiered and retained', () => {
    const logsBucket = idOf(stack.storage.accessLogsBucket);
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        VersioningConfiguration: { Status: 'Enabled' },
        LoggingConfiguration: { DestinationBucketName: { Ref: logsBucket }, LogFilePrefix: 'data-bucket/' },
        LifecycleConfiguration: {
          Rules: Match.arrayWith([
            Match.objectLike({ Prefix: BUCKET_LAYOUT.archive, Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 30 }] }),
            Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 30 } }),
          ]),
        },
      }),
    });
    const bucket = idOf(stack.storage.bucket);
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucket },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});

describe('queues', () => {
  it.each([
    ['sync', SYNC_QUEUE],
    ['media', MEDIA_QUEUE],
  ] as const)('the %s queue follows its QueueDefinition, with an encrypted DLQ', (_label, definition) => {
    const jobs = definition === SYNC_QUEUE ? stack.syncJobs : stack.mediaJobs;
    const queue = resources[idOf(jobs.queue)]!.Properties!;
    const dlq = resources[idOf(jobs.deadLetterQueue)]!.Properties!;
    expect(queue).toMatchObject({
      VisibilityTimeout: definition.visibilityTimeoutSeconds,
      MessageRetentionPeriod: definition.retentionDays * 86_400,
      SqsManagedSseEnabled: true,
      RedrivePolicy: { maxReceiveCount: definition.maxReceiveCount, deadLetterTargetArn: getAttArn(idOf(jobs.deadLetterQueue)) },
    });
    expect(queue.FifoQueue ?? false).toBe(definition.fifo);
    expect(dlq.FifoQueue ?? false).toBe(definition.fifo);
    expect(dlq.SqsManagedSseEnabled).toBe(true);
  });

  it('every queue refuses requests without TLS', () => {
    const queues = ofType('AWS::SQS::Queue').map(([id]) => id);
    const protectedQueues = ofType('AWS::SQS::QueuePolicy').flatMap(([, r]) => {
      const statements = (r.Properties?.PolicyDocument as { Statement: Statement[] }).Statement;
      const deniesPlainHttp = statements.some(
        (s) => s.Effect === 'Deny' && JSON.stringify(s.Condition) === JSON.stringify({ Bool: { 'aws:SecureTransport': 'false' } }),
      );
      return deniesPlainHttp ? list(r.Properties?.Queues as unknown[]).map((q) => (q as { Ref: string }).Ref) : [];
    });
    expect(protectedQueues.sort()).toEqual(queues.sort());
    for (const [, q] of ofType('AWS::SQS::Queue')) expect(q.Properties?.SqsManagedSseEnabled).toBe(true);
  });

  it('consumers report partial batch failures, use the defined batch size and time out within 1/6 of the visibility timeout', () => {
    const mappings = ofType('AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(2);
    for (const [, mapping] of mappings) {
      const p = mapping.Properties!;
      expect(p.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
      const queueLogicalId = (p.EventSourceArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const queue = resources[queueLogicalId]!.Properties!;
      const definition = queue.FifoQueue ? SYNC_QUEUE : MEDIA_QUEUE;
      expect(p.BatchSize).toBe(definition.batchSize);
      const fn = resources[(p.FunctionName as { Ref: string }).Ref]!.Properties!;
      expect(queue.VisibilityTimeout as number).toBeGreaterThanOrEqual(6 * (fn.Timeout as number));
    }
    expect(stack.crmSync.syncFunction.function.timeout?.toSeconds()).toBeLessThanOrEqual(50);
  });
});

describe('schedules', () => {
  it.each(SCHEDULES)('$id runs $cron in the configured time zone with retries and a DLQ', (definition) => {
    const target = stack.functions.find((f) => f.name === definition.target)!;
    const [, schedule] = ofType('AWS::Scheduler::Schedule').find(([, r]) => r.Properties?.Name === `scrm-test-${definition.id}`)!;
    expect(schedule.Properties).toMatchObject({
      ScheduleExpression: definition.cron,
      ScheduleExpressionTimezone: config.timeZone,
      State: 'ENABLED',
      Target: {
        Arn: getAttArn(idOf(target.function)),
        Input: JSON.stringify({ task: definition.task }),
        RetryPolicy: { MaximumRetryAttempts: SCHEDULE_RETRY_ATTEMPTS },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [expect.stringMatching(/DeadLetters/), 'Arn'] } },
      },
    });
  });

  it('scheduled functions send failed asynchronous runs to an on-failure queue', () => {
    const configs = ofType('AWS::Lambda::EventInvokeConfig');
    expect(configs).toHaveLength(2);
    for (const [, c] of configs) {
      expect(c.Properties?.DestinationConfig).toEqual({ OnFailure: { Destination: expect.anything() } });
    }
  });
});

describe('ingest', () => {
  it('routes GET and POST /webhook to the webhook function', () => {
    const routes = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties?.RouteKey);
    expect(routes.sort()).toEqual(['GET /webhook', 'POST /webhook']);
    template.hasOutput('WebhookUrl', { Value: Match.anyValue() });
  });

  it('throttles the stage and writes JSON access logs to its log group', () => {
    const [, stage] = ofType('AWS::ApiGatewayV2::Stage')[0]!;
    expect(stage.Properties).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: WEBHOOK_THROTTLE.rateLimit, ThrottlingBurstLimit: WEBHOOK_THROTTLE.burstLimit },
      AccessLogSettings: { DestinationArn: getAttArn(idOf(stack.ingest.accessLogs)) },
    });
    const format = (stage.Properties?.AccessLogSettings as { Format: string }).Format;
    expect(JSON.parse(format)).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
  });
});

describe('monitoring', () => {
  const alarms = () => ofType('AWS::CloudWatch::Alarm').map(([, r]) => r.Properties!);
  const topicRef = () => ({ Ref: idOf(stack.operations.topic) });

  it('every dead-letter queue (job, schedule, failed-run and notification DLQs) has a "> 0" alarm', () => {
    const deadLetterQueues = ofType('AWS::SQS::Queue')
      .filter(([, q]) => !q.Properties?.RedrivePolicy)
      .map(([id]) => id);
    expect(deadLetterQueues).toHaveLength(2 + SCHEDULES.length + 1 + 1);
    for (const id of deadLetterQueues) {
      const watching = alarms().filter(
        (a) =>
          a.MetricName === 'ApproximateNumberOfMessagesVisible' &&
          JSON.stringify(a.Dimensions) === JSON.stringify([{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id, 'QueueName'] } }]),
      );
      expect(watching, id).toHaveLength(1);
      expect(watching[0]).toMatchObject({ Threshold: ALARM_THRESHOLDS.deadLetters, ComparisonOperator: 'GreaterThanThreshold' });
    }
  });

  it('the sync and media queues alarm on the age of their oldest job', () => {
    const ages = alarms().filter((a) => a.MetricName === 'ApproximateAgeOfOldestMessage');
    expect(ages.map((a) => a.Threshold).sort()).toEqual(
      [SYNC_QUEUE, MEDIA_QUEUE].map((q) => q.visibilityTimeoutSeconds * q.maxReceiveCount).sort(),
    );
  });

  it.each(FUNCTIONS)('%s alarms on errors and throttles', (name) => {
    const fnId = idOf(stack.functions.find((f) => f.name === name)!.function);
    for (const metric of ['Errors', 'Throttles']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: metric,
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId } }],
        Threshold: 1,
        AlarmActions: [topicRef()],
      });
    }
  });

  it('the webhook API alarms on 5xx and on p99 latency', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AWS/ApiGateway', MetricName: '5xx', Statistic: 'Sum' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApiGateway',
      MetricName: 'Latency',
      ExtendedStatistic: 'p99',
      Threshold: ALARM_THRESHOLDS.apiP99LatencyMs,
    });
  });

  it('every alarm notifies the one topic, which is KMS-encrypted, TLS-only and has the e-mail subscription', () => {
    expect(ofType('AWS::SNS::Topic')).toHaveLength(1);
    for (const alarm of alarms()) expect(alarm.AlarmActions).toEqual([topicRef()]);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      RedrivePolicy: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Allow', Action: 'sns:Publish', Principal: { Service: 'budgets.amazonaws.com' } }),
        ]),
      },
    });
    for (const service of ['cloudwatch.amazonaws.com', 'budgets.amazonaws.com']) {
      template.hasResourceProperties('AWS::KMS::Key', {
        EnableKeyRotation: true,
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({ Principal: { Service: service }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] }),
          ]),
        },
      });
    }
  });

  it('one dashboard shows the flow', () => {
    expect(ofType('AWS::CloudWatch::Dashboard')).toHaveLength(1);
  });
});

describe('cost', () => {
  it('a monthly cost budget alerts the topic at 80% actual and 100% forecast', () => {
    const topic = { Ref: idOf(stack.operations.topic) };
    template.hasResourceProperties('AWS::Budgets::Budget', {
      Budget: Match.objectLike({ BudgetType: 'COST', TimeUnit: 'MONTHLY', BudgetLimit: { Amount: 25, Unit: 'USD' } }),
      NotificationsWithSubscribers: [
        {
          Notification: { NotificationType: 'ACTUAL', ComparisonOperator: 'GREATER_THAN', Threshold: 80, ThresholdType: 'PERCENTAGE' },
          Subscribers: [{ SubscriptionType: 'SNS', Address: topic }],
        },
        {
          Notification: { NotificationType: 'FORECASTED', ComparisonOperator: 'GREATER_THAN', Threshold: 100, ThresholdType: 'PERCENTAGE' },
          Subscribers: [{ SubscriptionType: 'SNS', Address: topic }],
        },
      ],
    });
  });

  it('every taggable resource carries the application, stage and cost-centre tags', () => {
    const expected = [
      { Key: 'application', Value: APPLICATION_TAG_VALUE },
      { Key: 'cost-centre', Value: 'cc-4711' },
      { Key: 'stage', Value: 'test' },
    ];
    const tagged = Object.entries(resources).filter(([, r]) => r.Properties?.Tags !== undefined);
    const types = new Set(tagged.map(([, r]) => r.Type));
    for (const type of ['AWS::Lambda::Function', 'AWS::DynamoDB::Table', 'AWS::S3::Bucket', 'AWS::SQS::Queue', 'AWS::SNS::Topic', 'AWS::SecretsManager::Secret', 'AWS::Logs::LogGroup', 'AWS::IAM::Role', 'AWS::KMS::Key']) {
      expect(types, type).toContain(type);
    }
    for (const [id, r] of tagged) {
      const tags = r.Properties!.Tags;
      if (Array.isArray(tags)) expect(tags, id).toEqual(expect.arrayContaining(expected));
      else expect(tags, id).toMatchObject(Object.fromEntries(expected.map((t) => [t.Key, t.Value])));
    }
  });
});

describe('cdk-nag', () => {
  it.each(['AwsSolutions', 'Serverless'])('the %s pack finds no unacknowledged error or warning', (pack) => {
    const { report } = nagReports.find((r) => r.pack === pack)!;
    const findings = report.violations.map((v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('no nag rule surfaces as an annotation either', () => {
    const annotations = Annotations.fromStack(stack);
    expect(annotations.findError('*', Match.stringLikeRegexp('(AwsSolutions|Serverless)-.*'))).toEqual([]);
    expect(annotations.findWarning('*', Match.stringLikeRegexp('(AwsSolutions|Serverless)-.*'))).toEqual([]);
  });

  it('every acknowledgement carries its reason', () => {
    const acknowledgements: { path: string; id: string; reason: unknown }[] = [];
    for (const node of app.node.findAll()) {
      for (const entry of node.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(entry.data as Record<string, unknown>)) acknowledgements.push({ path: node.node.path, id, reason });
      }
    }
    expect(acknowledgements.length).toBeGreaterThan(0);
    const withoutReason = acknowledgements.filter((a) => typeof a.reason !== 'string' || a.reason.trim().length < 30);
    expect(withoutReason).toEqual([]);
  });
});

describe('business metrics: emitted by the code, watched by the alarms (OP-1, SY-7)', () => {
  /** Every metric an alarm reads, with its namespace and dimensions (math expressions included). */
  const alarmMetrics = () =>
    ofType('AWS::CloudWatch::Alarm').flatMap(([, r]) => {
      const p = r.Properties as { MetricName?: string; Namespace?: string; Dimensions?: { Name: string; Value: unknown }[]; Metrics?: { MetricStat?: { Metric: { MetricName: string; Namespace: string; Dimensions?: { Name: string; Value: unknown }[] } } }[] };
      const direct = p.MetricName ? [{ name: p.MetricName, namespace: p.Namespace!, dimensions: p.Dimensions ?? [] }] : [];
      const math = (p.Metrics ?? []).flatMap((m) => (m.MetricStat ? [{ name: m.MetricStat.Metric.MetricName, namespace: m.MetricStat.Metric.Namespace, dimensions: m.MetricStat.Metric.Dimensions ?? [] }] : []));
      return [...direct, ...math];
    });

  it('every business metric an alarm reads is one the code emits (METRICS), with the emitting function and the stage as dimensions', () => {
    const ours = alarmMetrics().filter((m) => m.namespace === METRIC_NAMESPACE);
    expect(new Set(ours.map((m) => m.name))).toEqual(
      new Set([METRICS.messagesSynced.name, METRICS.syncAttemptsFailed.name, METRICS.unprocessableEvents.name, METRICS.crmAuthFailures.name, METRICS.credentialAgeDays.name]),
    );
    const definitions = Object.values(METRICS);
    for (const m of ours) {
      const definition = definitions.find((d) => d.name === m.name);
      expect(definition, `${m.name} is emitted by the code`).toBeDefined();
      const dims = Object.fromEntries(m.dimensions.map((d) => [d.Name, d.Value]));
      expect(dims).toMatchObject({ service: definition!.emittedBy, stage: 'test' });
    }
    // No alarm hangs on the wording of a log line any more.
    expect(ofType('AWS::Logs::MetricFilter')).toEqual([]);
  });

  it('the functions publish metrics under the same namespace, as their service name', () => {
    for (const fn of stack.functions) {
      const variables = (resources[idOf(fn.function)]!.Properties!.Environment as { Variables: Record<string, string> }).Variables;
      expect(variables).toMatchObject({ POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE, POWERTOOLS_SERVICE_NAME: fn.name });
    }
  });

  it('alarms when fewer than 99 % of an hour\'s sync attempts succeed', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'scrm-test-sync-success-below-target',
      Threshold: 99,
      ComparisonOperator: 'LessThanThreshold',
      Metrics: Match.arrayWith([Match.objectLike({ Expression: Match.stringLikeRegexp('100 \\* synced') })]),
    });
  });

  it('OP-5: alarms on CRM 401/403 answers and on a token older than 25 days, per token', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'scrm-test-crm-auth-failures',
      MetricName: METRICS.crmAuthFailures.name,
      Dimensions: Match.arrayWith([{ Name: 'crm', Value: 'hubspot' }]),
      Threshold: 1,
    });
    for (const credential of ['hubspot', 'whatsapp']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `scrm-test-${credential}-token-older-than-25-days`,
        MetricName: METRICS.credentialAgeDays.name,
        Dimensions: Match.arrayWith([{ Name: 'credential', Value: credential }]),
        Threshold: 25,
        ComparisonOperator: 'GreaterThanThreshold',
        Period: 86_400,
      });
    }
  });

  it('alarms when a webhook event had to be kept raw (poison: a person looks at it)', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'scrm-test-webhook-unprocessable-events',
      MetricName: METRICS.unprocessableEvents.name,
      Namespace: METRIC_NAMESPACE,
      Threshold: 1,
    });
  });
});

describe('domain events', () => {
  it('has one EventBridge bus, named per stage, whose name every function receives', () => {
    template.resourceCountIs('AWS::Events::EventBus', 1);
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'scrm-test-events' });
    for (const [, fn] of ofType('AWS::Lambda::Function')) {
      expect(Object.keys((fn.Properties?.Environment as { Variables: Record<string, unknown> }).Variables)).toContain('SCRM_EVENT_BUS_NAME');
    }
  });

  it.each([
    ['sync', () => stack.crmSync.syncFunction],
    ['batch-export', () => stack.scheduledJobs.batchExportFunction],
  ])('%s may put events on that bus and nowhere else', (_, fn) => {
    const roleId = idOf(fn().role);
    const statements = ofType('AWS::IAM::Policy')
      .filter(([, r]) => list(r.Properties?.Roles).some((role: unknown) => JSON.stringify(role).includes(roleId)))
      .flatMap(([, r]) => list((r.Properties?.PolicyDocument as { Statement: Statement | Statement[] }).Statement));
    const puts = statements.filter((st) => list(st.Action).includes('events:PutEvents'));
    expect(puts).toHaveLength(1);
    expect(JSON.stringify(puts[0]!.Resource)).toContain(idOf(stack.domainEvents));
  });
});

describe('sharp for the media function', () => {
  const arm64Present = SHARP_FOR_LAMBDA_ARM64.required.every((pkg) => packageSource(pkg) !== undefined);
  const mediaBundle = () => join(outdir, (stack.media.mediaFunction.function.node.findChild('Code') as Asset).assetPath);

  it.runIf(arm64Present)('installs sharp and its linux-arm64 binaries next to the bundle', () => {
    for (const pkg of SHARP_FOR_LAMBDA_ARM64.packages) expect(existsSync(join(mediaBundle(), 'node_modules', pkg)), pkg).toBe(true);
    expect(existsSync(join(mediaBundle(), 'node_modules', '@img', 'sharp-linux-x64'))).toBe(false);
  });

  it.runIf(!arm64Present)('warns, naming the missing linux-arm64 packages, when they are not installed', () => {
    Annotations.fromStack(stack).hasWarning(
      `/${stack.stackName}/Media/Media`,
      Match.stringLikeRegexp('@img/sharp-linux-arm64.*not found in node_modules'),
    );
  });

  it('copies every sharp package from the arm64 install, first source first, without a warning', () => {
    const root = mkdtempSync(join(tmpdir(), 'scrm-sharp-'));
    const arm64 = join(root, 'arm64', 'node_modules');
    const host = join(root, 'host', 'node_modules');
    for (const pkg of SHARP_FOR_LAMBDA_ARM64.packages) {
      mkdirSync(join(arm64, pkg), { recursive: true });
      writeFileSync(join(arm64, pkg, 'package.json'), '{}');
    }
    mkdirSync(join(host, '@img', 'sharp-linux-x64'), { recursive: true });
    writeFileSync(join(host, '@img', 'sharp-linux-x64', 'package.json'), '{}');
    const scope = new Stack(new App(), 'SharpProbe');
    const commands = installPackagesHook(scope, SHARP_FOR_LAMBDA_ARM64, [arm64, host]).afterBundling('/in', '/out');
    rmSync(root, { recursive: true, force: true });
    expect(commands).toHaveLength(SHARP_FOR_LAMBDA_ARM64.packages.length);
    for (const pkg of SHARP_FOR_LAMBDA_ARM64.packages) {
      expect(commands).toContain(`mkdir -p "${join('/out/node_modules', pkg, '..')}" && cp -R "${join(arm64, pkg)}" "${join('/out/node_modules', pkg)}"`);
    }
    expect(commands.join('\n')).not.toContain('sharp-linux-x64');
    expect(Annotations.fromStack(scope).findWarning('*', Match.anyValue())).toEqual([]);
  });

  it('never bundles sharp into the media bundle', () => {
    const code = readFileSync(join(mediaBundle(), BUNDLE_FILE), 'utf8');
    expect(code).not.toMatch(/libvips|sharp-linux/);
  });
});
