/**
 * The CDK stack, proven by the synthesized template (one synth for the whole file: bundling the
 * functions takes a few seconds) and by the cdk-nag AwsSolutions and Serverless packs. The IN-7
 * variant (an End User Messaging Social topic configured) is synthesized once more, unbundled.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App, CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import type { PolicyValidationPluginReport } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { AUTOMATION_EVENT_TYPES, AUTOMATION_FUNCTION_TIMEOUT_SECONDS, AUTOMATION_QUEUE, BUCKET_LAYOUT, CRM_EVENTS_QUEUE, ENV, FUNCTIONS, MEDIA_QUEUE, SCHEDULES, SECRET_KEYS, SEND_FUNCTION_TIMEOUT_SECONDS, SEND_QUEUE, SYNC_MAX_CONCURRENCY, SYNC_QUEUE, TABLE } from '#shared/resources';
import { buildApp } from '../../infra/app.ts';
import { BUNDLE_FILE, ESM_REQUIRE_BANNER, SHARP_FOR_LAMBDA_ARM64, installPackagesHook, packageSource } from '../../infra/bundling.ts';
import { compliancePacks } from '../../infra/compliance.ts';
import { MAX_ACCOUNTS_JSON_LENGTH, accountsEnvironmentSize, loadStackConfig } from '../../infra/config.ts';
import { METRICS, METRIC_NAMESPACE } from '#shared/metric-names';
import { EVENT_SOURCE } from '#shared/events/bus';
import {
  AUTOMATION_ENV_NAMES,
  AUTOMATION_EVENT_DELIVERY,
  AUTOMATION_MAX_DELAY,
  COURIER_EVENTS_PATH,
  CREATE_SCHEDULE_ACTION,
  GEO_PLACES_ACTIONS,
  LOCAL_ONLY_ENV_NAMES,
} from '../../infra/constructs/automation.ts';
import { APPLICATION_TAG_VALUE } from '../../infra/constructs/cost-controls.ts';
import { WEBHOOK_THROTTLE } from '../../infra/constructs/ingest.ts';
import { ALARM_THRESHOLDS, METRIC_DIMENSIONS, SEND_FAILURE_KINDS } from '../../infra/constructs/operations.ts';
import { API_ROUTE_PATH, LINK_ROUTE_PATH, MEDIA_ROUTE_PATH, SOCIAL_MESSAGING_SEND_ACTION } from '../../infra/constructs/outbound.ts';
import { REPORTS_ROUTE_PATH } from '../../infra/constructs/reports.ts';
import { MEDIA_FUNCTION_MEMORY_MB, SOCIAL_MESSAGING_MEDIA_ACTION } from '../../infra/constructs/media.ts';
import { DEPLOYED_KEYS } from '../../infra/constructs/secrets.ts';
import { SCHEDULE_RETRY_ATTEMPTS } from '../../infra/constructs/scheduled-jobs.ts';
import { OPTIONAL_ENV_NAMES, type ScrmStack } from '../../infra/stack.ts';
import { CRM_EVENT_PATHS } from '../../infra/constructs/crm-events.ts';

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
  whatsappAccounts: JSON.stringify({
    '106540352242922': { name: 'HK shop', wabaId: '102290129340398', backupPhoneNumberId: '106540352242923' },
    '106540352242923': 'HK shop (backup)',
  }),
  whatsappDailyLimit: 2_000,
  whatsappMessagesPerSecond: 100,
});

let outdir: string;
let app: App;
let stack: ScrmStack;
let template: Template;
let resources: Record<string, Resource>;
let nagReports: { pack: string; report: PolicyValidationPluginReport }[];

/** Every ENV value, as a set to look names up in. */
const ENV_NAMES: Record<string, true> = Object.fromEntries(Object.values(ENV).map((name) => [name, true]));
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
    // Every ENV name but the local stack's own; the automation's settings on the automation function only.
    const automationOnly = (key: string) => (AUTOMATION_ENV_NAMES as readonly string[]).includes(key);
    const localOnly = (key: string) => (LOCAL_ONLY_ENV_NAMES as readonly string[]).includes(key) || (OPTIONAL_ENV_NAMES as readonly string[]).includes(key);
    const syncOnly = (key: string) => key === ENV.syncConcurrency;
    // Settings only some functions get (the 4 KB environment limit): two-way sync's queue (crm-events
    // and the catch-up's batch-export), the public URL (the Zoho channel, the media links the sync
    // writes, the report links), the media DLQ (media), the planned storage (batch-export's storage
    // growth), the reports topic and the deployment profile its cost model prices (reports).
    const only: Partial<Record<string, readonly string[]>> = {
      [ENV.crmEventsQueueUrl]: ['crm-events', 'batch-export'],
      [ENV.publicUrl]: ['crm-events', 'batch-export', 'sync', 'reports'],
      [ENV.reportsTopicArn]: ['reports'],
      [ENV.deployProfile]: ['reports'],
      [ENV.linkBaseUrl]: ['api', 'automation'],
      [ENV.mediaDlqUrl]: ['media'],
      [ENV.storageCapacityGb]: ['batch-export'],
    };
    const gets = (key: string) => only[key] === undefined || only[key]!.includes(name);
    const expected = Object.values(ENV).filter((key) => !localOnly(key) && (name === 'automation' || !automationOnly(key)) && (name === 'sync' || !syncOnly(key)) && gets(key));
    expect(Object.keys(env).filter((key) => key in ENV_NAMES).sort()).toEqual(expected.sort());
    expect(env).toMatchObject({
      [ENV.stage]: 'test',
      [ENV.retentionDays]: '365',
      [ENV.defaultRegion]: config.defaultRegion,
      // Every function cuts days in the business's time zone (day counters, reports).
      [ENV.timeZone]: config.timeZone,
      [ENV.crmKind]: config.crm,
      [ENV.accounts]: config.whatsappAccounts,
      [ENV.dailyLimit]: '2000',
      [ENV.dailyApiCalls]: '10000',
      [ENV.messagesPerSecond]: '100',
      [ENV.sendQueueUrl]: { Ref: idOf(stack.outbound.sendJobs.queue) },
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

  it('the secret holds the first release\'s keys, the verify token generated; later keys (SCRM_API_TOKEN, COURIER_*) are the operator\'s', () => {
    const [, secret] = ofType('AWS::SecretsManager::Secret')[0]!;
    const generate = secret.Properties?.GenerateSecretString as { SecretStringTemplate: string; GenerateStringKey: string };
    const keys = [...Object.keys(JSON.parse(generate.SecretStringTemplate)), generate.GenerateStringKey];
    expect(keys.sort()).toEqual([...DEPLOYED_KEYS].sort());
    expect(generate.GenerateStringKey).toBe(SECRET_KEYS.verifyToken);
    expect(secret.DeletionPolicy).toBe('Retain');
    // Every key is either in the template or written by the operator (docs/deploy.md, step 6).
    expect(Object.values(SECRET_KEYS).filter((key) => !(DEPLOYED_KEYS as readonly string[]).includes(key))).toEqual([
      SECRET_KEYS.salesforceClientId,
      SECRET_KEYS.salesforceClientSecret,
      SECRET_KEYS.zohoClientId,
      SECRET_KEYS.zohoClientSecret,
      SECRET_KEYS.zohoRefreshToken,
      SECRET_KEYS.crmWebhookSecret,
      SECRET_KEYS.hubspotClientSecret,
      SECRET_KEYS.zohoChannelToken,
      SECRET_KEYS.apiToken,
      SECRET_KEYS.courierApiKey,
      SECRET_KEYS.courierWebhookSecret,
      SECRET_KEYS.mediaLinkKey,
    ]);
  });

  it('the secret resource is exactly as first deployed: a changed GenerateSecretString makes CloudFormation overwrite the filled-in values', () => {
    const [, secret] = ofType('AWS::SecretsManager::Secret')[0]!;
    expect(secret.Properties).toMatchObject({
      Name: 'scrm/test/app',
      Description: 'WhatsApp SCRM (test): WHATSAPP_APP_SECRET, WHATSAPP_VERIFY_TOKEN, WHATSAPP_ACCESS_TOKEN, HUBSPOT_ACCESS_TOKEN. Fill in with put-secret-value (docs/deploy.md).',
      GenerateSecretString: {
        SecretStringTemplate: '{"WHATSAPP_APP_SECRET":"REPLACE_ME","WHATSAPP_ACCESS_TOKEN":"REPLACE_ME","HUBSPOT_ACCESS_TOKEN":"REPLACE_ME"}',
        GenerateStringKey: 'WHATSAPP_VERIFY_TOKEN',
        ExcludePunctuation: true,
        PasswordLength: 40,
      },
    });
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

  it('the media function puts, reads and deletes only under media/, and sends only to the media DLQ; the retry function reads only the sync DLQ and sends only to the sync queue', () => {
    const media = stack.media.mediaFunction;
    const mediaPolicy = idOf(media.role.node.findChild('DefaultPolicy'));
    const s3 = statements().filter((s) => s.id === mediaPolicy && list(s.Action).some((a) => a.startsWith('s3:')));
    expect(s3).toHaveLength(1);
    expect(list(s3[0]!.Action).sort()).toEqual(['s3:DeleteObject', 's3:GetObject', 's3:PutObject']);
    expect(JSON.stringify(s3[0]!.Resource)).toContain(`/${BUCKET_LAYOUT.media}*`);
    const sends = statements().filter((s) => s.id === mediaPolicy && list(s.Action).includes('sqs:SendMessage'));
    expect(sends.map((s) => s.Resource)).toEqual([getAttArn(idOf(stack.mediaJobs.deadLetterQueue))]);
    const mediaEnv = (ofType('AWS::Lambda::Function').find(([, r]) => r.Properties?.FunctionName === 'scrm-test-media')![1].Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(mediaEnv[ENV.mediaDlqUrl]).toEqual({ Ref: idOf(stack.mediaJobs.deadLetterQueue) });

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
  const jobQueues = () => [stack.syncJobs, stack.mediaJobs, stack.outbound.sendJobs, stack.automation.automationJobs, stack.crmEvents.jobs];

  it.each([
    ['sync', SYNC_QUEUE],
    ['media', MEDIA_QUEUE],
    ['send', SEND_QUEUE],
    ['automation', AUTOMATION_QUEUE],
  ] as const)('the %s queue follows its QueueDefinition, with an encrypted DLQ', (_label, definition) => {
    const jobs = jobQueues().find((q) => q.definition.id === definition.id)!;
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
    expect(mappings).toHaveLength(5);
    for (const [, mapping] of mappings) {
      const p = mapping.Properties!;
      expect(p.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
      const queueLogicalId = (p.EventSourceArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const queue = resources[queueLogicalId]!.Properties!;
      const { definition } = jobQueues().find((q) => idOf(q.queue) === queueLogicalId)!;
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

  it('scheduled functions (batch-export, reports, send, automation) send failed asynchronous runs to the failed-runs queue', () => {
    const configs = ofType('AWS::Lambda::EventInvokeConfig');
    const scheduled = [stack.scheduledJobs.batchExportFunction, stack.scheduledJobs.reportsFunction, stack.outbound.sendFunction, stack.automation.automationFunction];
    expect(configs.map(([, c]) => (c.Properties?.FunctionName as { Ref: string }).Ref).sort()).toEqual(scheduled.map((fn) => idOf(fn.function)).sort());
    for (const [, c] of configs) {
      expect(c.Properties).toMatchObject({
        DestinationConfig: { OnFailure: { Destination: getAttArn(idOf(stack.scheduledJobs.failedRuns)) } },
        MaximumRetryAttempts: 2,
      });
    }
  });

  it('outbox-sweep (every minute), template-sync (daily) and number-health (hourly) run the send function, with the scheduler allowed to invoke it only', () => {
    const send = SCHEDULES.filter((d) => d.target === 'send');
    expect(send.map((d) => d.id).sort()).toEqual(['number-health', 'outbox-sweep', 'template-sync']);
    const sendArn = getAttArn(idOf(stack.outbound.sendFunction.function));
    const roles = new Set<string>();
    for (const definition of send) {
      const [, schedule] = ofType('AWS::Scheduler::Schedule').find(([, r]) => r.Properties?.Name === `scrm-test-${definition.id}`)!;
      const target = schedule.Properties!.Target as { Arn: unknown; RoleArn: { 'Fn::GetAtt': [string, string] }; Input: string };
      expect(target.Arn).toEqual(sendArn);
      expect(JSON.parse(target.Input)).toEqual({ task: definition.task });
      roles.add(target.RoleArn['Fn::GetAtt'][0]);
    }
    expect(roles.size).toBe(1);
    const [role] = roles;
    const invokes = ofType('AWS::IAM::Policy')
      .filter(([, r]) => list(r.Properties?.Roles).some((ref) => JSON.stringify(ref) === JSON.stringify({ Ref: role })))
      .flatMap(([, r]) => list((r.Properties?.PolicyDocument as { Statement: Statement | Statement[] }).Statement));
    const lambda = invokes.filter((st) => list(st.Action).some((a) => a.startsWith('lambda:')));
    expect(lambda.flatMap((st) => list(st.Action))).toEqual(['lambda:InvokeFunction']);
    const targets = JSON.stringify(lambda.flatMap((st) => list(st.Resource)));
    expect(targets).toContain(idOf(stack.outbound.sendFunction.function));
    expect(targets).not.toMatch(/BatchExport|Reports|Webhook|OutboundApi/);
    // Besides the invocation: only the schedules' own DLQs.
    expect(invokes.filter((st) => !lambda.includes(st)).flatMap((st) => list(st.Action))).toEqual(send.map(() => 'sqs:SendMessage'));
  });
});

describe('ingest', () => {
  it('routes GET and POST /webhook to the webhook function, and ANY /api/{proxy+}, GET /media/{wamid}, GET /reports/{name}, GET /l/{token} and POST /courier-events on the same HTTP API', () => {
    const routes = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties?.RouteKey);
    expect(routes.sort()).toEqual([`ANY ${API_ROUTE_PATH}`, `GET ${MEDIA_ROUTE_PATH}`, `GET ${REPORTS_ROUTE_PATH}`, `GET ${LINK_ROUTE_PATH}`, 'GET /webhook', ...CRM_EVENT_PATHS.map((path) => `POST ${path}`), `POST ${COURIER_EVENTS_PATH}`, 'POST /webhook'].sort());
    template.hasOutput('WebhookUrl', { Value: Match.anyValue() });
    expect(ofType('AWS::ApiGatewayV2::Api')).toHaveLength(1);
    expect(ofType('AWS::ApiGatewayV2::Stage')).toHaveLength(1);
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
    // Job DLQs (sync, media, send, automation, crm-events), one per schedule, the failed runs, the undelivered alarm e-mails.
    expect(deadLetterQueues).toHaveLength(5 + SCHEDULES.length + 1 + 1);
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

  it('the sync, media, send and automation queues alarm on the age of their oldest job', () => {
    const ages = alarms().filter((a) => a.MetricName === 'ApproximateAgeOfOldestMessage');
    const attempts = (q: typeof SYNC_QUEUE) => q.visibilityTimeoutSeconds * q.maxReceiveCount;
    // The automation's short timers may wait on its queue too, delayed by up to 15 minutes.
    expect(ages.map((a) => a.Threshold).sort()).toEqual(
      [...[SYNC_QUEUE, MEDIA_QUEUE, SEND_QUEUE, CRM_EVENTS_QUEUE].map(attempts), attempts(AUTOMATION_QUEUE) + AUTOMATION_MAX_DELAY.toSeconds()].sort(),
    );
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'scrm-test-send-oldest-job-age',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [idOf(stack.outbound.sendJobs.queue), 'QueueName'] } }],
      Threshold: SEND_QUEUE.visibilityTimeoutSeconds * SEND_QUEUE.maxReceiveCount,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'scrm-test-send-dlq-not-empty',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [idOf(stack.outbound.sendJobs.deadLetterQueue), 'QueueName'] } }],
    });
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

  it('the HTTP API (webhook and /api) alarms on 5xx and on p99 latency', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AWS/ApiGateway', MetricName: '5xx', Statistic: 'Sum' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/ApiGateway',
      MetricName: 'Latency',
      ExtendedStatistic: 'p99',
      Threshold: ALARM_THRESHOLDS.apiP99LatencyMs,
    });
  });

  it('every alarm notifies the one alarm topic, which is KMS-encrypted, TLS-only and has the e-mail subscription', () => {
    // The other topic announces the reports (test/infra/profiles.test.ts).
    expect(ofType('AWS::SNS::Topic').map(([id]) => id).sort()).toEqual([idOf(stack.operations.topic), idOf(stack.reports.topic)].sort());
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
  /** `SELECT SUM(Name) FROM SCHEMA("Ns", dim, service, stage) WHERE service = 'x' AND stage = 'y'`, taken apart. */
  const INSIGHTS_QUERY = /^SELECT SUM\((\w+)\) FROM SCHEMA\("([^"]+)", (\w+), service, stage\) WHERE service = '([\w-]+)' AND stage = '([\w-]+)'$/;

  /** Every metric an alarm reads, with its namespace and dimensions (math expressions and Metrics Insights queries included). */
  const alarmMetrics = () =>
    ofType('AWS::CloudWatch::Alarm').flatMap(([, r]) => {
      const p = r.Properties as { MetricName?: string; Namespace?: string; Dimensions?: { Name: string; Value: unknown }[]; Metrics?: { Expression?: string; MetricStat?: { Metric: { MetricName: string; Namespace: string; Dimensions?: { Name: string; Value: unknown }[] } } }[] };
      const direct = p.MetricName ? [{ name: p.MetricName, namespace: p.Namespace!, dimensions: p.Dimensions ?? [], across: undefined as string | undefined }] : [];
      const math = (p.Metrics ?? []).flatMap((m) => (m.MetricStat ? [{ name: m.MetricStat.Metric.MetricName, namespace: m.MetricStat.Metric.Namespace, dimensions: m.MetricStat.Metric.Dimensions ?? [], across: undefined }] : []));
      const queries = (p.Metrics ?? []).flatMap((m) => {
        if (!m.Expression?.startsWith('SELECT')) return [];
        const match = INSIGHTS_QUERY.exec(m.Expression);
        expect(match, m.Expression).not.toBeNull();
        const [, name, namespace, across, service, stage] = match!;
        return [{ name: name!, namespace: namespace!, dimensions: [{ Name: 'service', Value: service }, { Name: 'stage', Value: stage }], across }];
      });
      return [...direct, ...math, ...queries];
    });

  it('every business metric an alarm reads is one the code emits (METRICS), with the emitting function and the stage as dimensions', () => {
    const ours = alarmMetrics().filter((m) => m.namespace === METRIC_NAMESPACE);
    const watched = [
      'messagesSynced', 'syncAttemptsFailed', 'unprocessableEvents', 'crmAuthFailures', 'credentialAgeDays',
      'sendAttempts', 'sendFailures', 'sendOutcomeUnknown', 'whatsappAuthFailures', 'accountStopped', 'numberSwitched', 'numberSlow',
      'conversationsStarted', 'handoverRequests',
      'crmApiUsage', 'crmRateLimited', 'reconciliationAccuracy', 'batchContactsWritten', 'batchContactsFailed', 'mappingErrorRate',
      'crmConflicts', 'crmEventsRefused',
      'mediaFailed', 'storageMonthlyGrowth',
      'complaintRate',
    ] as const;
    expect(new Set(ours.map((m) => m.name))).toEqual(new Set(watched.map((key) => METRICS[key].name)));
    const definitions = Object.entries(METRICS);
    for (const m of ours) {
      const [key, definition] = definitions.find(([, d]) => d.name === m.name) ?? [];
      expect(definition, `${m.name} is emitted by the code`).toBeDefined();
      const dims = Object.fromEntries(m.dimensions.map((d) => [d.Name, d.Value]));
      expect(dims).toMatchObject({ service: definition!.emittedBy, stage: 'test' });
      // Exactly the dimensions the code emits it with: service, stage and its own one, if any.
      const own = METRIC_DIMENSIONS[key as keyof typeof METRIC_DIMENSIONS] as string | undefined;
      const names = [...Object.keys(dims), ...(m.across ? [m.across] : [])].sort();
      expect(names, m.name).toEqual(['service', 'stage', ...(own ? [own] : [])].sort());
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
    ['webhook (MessageReceived)', () => stack.ingest.webhookFunction],
    ['api (OrderUpdated, ConversationResolved, ParcelUpdated)', () => stack.outbound.apiFunction],
    ['automation', () => stack.automation.automationFunction],
    ['reports (ComplaintRateHigh)', () => stack.scheduledJobs.reportsFunction],
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

/** What a function's role may do (logs and X-Ray left out): actions and resource per statement. */
function statementsOf(fn: { role: IConstruct }) {
  const roleId = idOf(fn.role);
  return ofType('AWS::IAM::Policy')
    .filter(([, r]) => list(r.Properties?.Roles).some((role: unknown) => JSON.stringify(role) === JSON.stringify({ Ref: roleId })))
    .flatMap(([, r]) => list((r.Properties?.PolicyDocument as { Statement: Statement | Statement[] }).Statement))
    .filter((st) => !list(st.Action).some((a) => a.startsWith('logs:') || a.startsWith('xray:')))
    .map((st) => ({ actions: list(st.Action).sort(), resource: st.Resource }));
}

describe('outbound (AU-7): the SCRM API, the send queue and the send function', () => {
  const SEND = ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'];
  const CONSUME = ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'];

  it('the send function consumes the send FIFO queue (its batch size, partial batch responses), whose FIFO DLQ takes a job after its receives', () => {
    const send = stack.outbound.sendFunction;
    const queue = stack.outbound.sendJobs;
    const [, mapping] = ofType('AWS::Lambda::EventSourceMapping').find(([, r]) => JSON.stringify(r.Properties?.FunctionName) === JSON.stringify({ Ref: idOf(send.function) }))!;
    expect(mapping.Properties).toMatchObject({
      EventSourceArn: getAttArn(idOf(queue.queue)),
      BatchSize: SEND_QUEUE.batchSize,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(resources[idOf(queue.queue)]!.Properties).toMatchObject({
      QueueName: 'scrm-test-send.fifo',
      FifoQueue: true,
      VisibilityTimeout: SEND_QUEUE.visibilityTimeoutSeconds,
      RedrivePolicy: { maxReceiveCount: SEND_QUEUE.maxReceiveCount, deadLetterTargetArn: getAttArn(idOf(queue.deadLetterQueue)) },
    });
    expect(resources[idOf(queue.deadLetterQueue)]!.Properties).toMatchObject({ QueueName: 'scrm-test-send-dlq.fifo', FifoQueue: true });
    const fn = resources[idOf(send.function)]!.Properties!;
    expect(fn.Timeout).toBe(SEND_FUNCTION_TIMEOUT_SECONDS);
    expect(SEND_QUEUE.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(6 * SEND_FUNCTION_TIMEOUT_SECONDS);
    // Pacing is kept in DynamoDB: no reserved concurrency to throttle (and alarm) on.
    expect(fn.ReservedConcurrentExecutions).toBeUndefined();
  });

  it('the send function may use the table, consume and send to the send queue (setting a job\'s visibility), send to the sync queue and read the secret; nothing else', () => {
    const granted = statementsOf(stack.outbound.sendFunction);
    const sendQueue = getAttArn(idOf(stack.outbound.sendJobs.queue));
    const sqs = granted.filter((g) => g.actions.some((a) => a.startsWith('sqs:')));
    expect(sqs).toEqual(
      expect.arrayContaining([
        { actions: CONSUME, resource: sendQueue },
        { actions: SEND, resource: sendQueue },
        { actions: SEND, resource: getAttArn(idOf(stack.syncJobs.queue)) },
        // Failed scheduled runs (outbox sweep, template sync, number health).
        { actions: SEND, resource: getAttArn(idOf(stack.scheduledJobs.failedRuns)) },
      ]),
    );
    expect(sqs).toHaveLength(4);
    expect([...new Set(granted.flatMap((g) => g.actions.map((a) => a.split(':')[0])))].sort()).toEqual(['dynamodb', 'secretsmanager', 'sqs']);
    expect(granted.flatMap((g) => g.actions)).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query', 'secretsmanager:GetSecretValue']));
    expect(JSON.stringify(granted)).not.toContain(SOCIAL_MESSAGING_SEND_ACTION);
  });

  it('the api function may use the table, send to the send and sync queues, put events on the bus, read the secret and media/ and reports/ objects; nothing else', () => {
    const granted = statementsOf(stack.outbound.apiFunction);
    expect(granted.filter((g) => g.actions.some((a) => a.startsWith('sqs:')))).toEqual([
      { actions: SEND, resource: getAttArn(idOf(stack.outbound.sendJobs.queue)) },
      // An agent's assignment (AG-1) updates the contact in the CRM.
      { actions: SEND, resource: getAttArn(idOf(stack.syncJobs.queue)) },
    ]);
    // OrderUpdated, ConversationResolved and the courier's ParcelUpdated go to the automations.
    expect(granted.filter((g) => g.actions.some((a) => a.startsWith('events:')))).toEqual([{ actions: ['events:PutEvents'], resource: getAttArn(idOf(stack.domainEvents)) }]);
    expect([...new Set(granted.flatMap((g) => g.actions.map((a) => a.split(':')[0])))].sort()).toEqual(['dynamodb', 'events', 's3', 'secretsmanager', 'sqs']);
    expect(granted.flatMap((g) => g.actions)).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:Query', 'secretsmanager:GetSecretValue']));
    // The media and report links are presigned with its own rights: reading under media/ and reports/, nothing else of the bucket.
    const s3 = granted.filter((g) => g.actions.some((a) => a.startsWith('s3:')));
    expect(s3.map((g) => g.actions)).toEqual([['s3:GetObject'], ['s3:GetObject']]);
    expect(JSON.stringify(s3[0]!.resource)).toContain(`/${BUCKET_LAYOUT.media}*`);
    expect(JSON.stringify(s3[1]!.resource)).toContain(`/${BUCKET_LAYOUT.reports}*`);
  });

  it('ANY /api/{proxy+} on the webhook\'s HTTP API (same host) goes to the api function, which API Gateway may invoke for that route only', () => {
    const [, route] = ofType('AWS::ApiGatewayV2::Route').find(([, r]) => r.Properties?.RouteKey === `ANY ${API_ROUTE_PATH}`)!;
    expect(route.Properties?.ApiId).toEqual({ Ref: idOf(stack.ingest.api) });
    const integrationId = JSON.stringify(route.Properties?.Target).match(/"Ref":"([^"]+)"/)![1]!;
    expect(resources[integrationId]!.Properties).toMatchObject({
      ApiId: { Ref: idOf(stack.ingest.api) },
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      IntegrationUri: getAttArn(idOf(stack.outbound.apiFunction.function)),
    });
    // One permission per route: this one, GET /media/{wamid}, GET /reports/{name}, GET /l/{token} and POST /courier-events.
    const permissions = ofType('AWS::Lambda::Permission').filter(([, r]) => JSON.stringify(r.Properties?.FunctionName) === JSON.stringify(getAttArn(idOf(stack.outbound.apiFunction.function))));
    expect(permissions).toHaveLength(5);
    for (const [, permission] of permissions) expect(permission.Properties).toMatchObject({ Principal: 'apigateway.amazonaws.com', Action: 'lambda:InvokeFunction' });
    expect(permissions.map(([, p]) => JSON.stringify(p.Properties?.SourceArn).match(/\/\*\/\*?(\/[^"]*)"/)?.[1]).sort()).toEqual([COURIER_EVENTS_PATH, '/api/{proxy+}', MEDIA_ROUTE_PATH, REPORTS_ROUTE_PATH, LINK_ROUTE_PATH].sort());
    template.hasOutput('ApiUrl', { Value: Match.anyValue() });
  });

  it('the send and api functions get the send queue URL and the account and limit settings', () => {
    for (const fn of [stack.outbound.sendFunction, stack.outbound.apiFunction]) {
      const env = (resources[idOf(fn.function)]!.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(env[ENV.sendQueueUrl]).toEqual({ Ref: idOf(stack.outbound.sendJobs.queue) });
      expect(JSON.parse(env[ENV.accounts] as string)).toEqual({
        '106540352242922': { name: 'HK shop', wabaId: '102290129340398', backupPhoneNumberId: '106540352242923' },
        '106540352242923': { name: 'HK shop (backup)' },
      });
    }
  });
});

describe('outbound alarms (AU-7, OP-2, OP-5)', () => {
  const alarmNamed = (name: string) => {
    const found = ofType('AWS::CloudWatch::Alarm').find(([, r]) => r.Properties?.AlarmName === `scrm-test-${name}`);
    expect(found, name).toBeDefined();
    return found![1].Properties as Record<string, unknown> & { Metrics?: { Id: string; Expression?: string; ReturnData?: boolean; Period?: number; MetricStat?: { Metric: { MetricName: string; Dimensions: { Name: string; Value: string }[] }; Period: number; Stat: string } }[] };
  };

  it('alarms when more than 3 % of 15 minutes\' send attempts failed, from 50 attempts, every failure kind counted', () => {
    const alarm = alarmNamed('send-failure-rate');
    expect(alarm).toMatchObject({ Threshold: ALARM_THRESHOLDS.sendFailurePercent, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'notBreaching', EvaluationPeriods: 1 });
    const metrics = alarm.Metrics!;
    const rate = metrics.find((m) => m.ReturnData)!;
    expect(rate.Expression).toBe(`IF(attempts >= ${ALARM_THRESHOLDS.sendFailureMinAttempts}, 100 * FILL(failures, 0) / attempts, 0)`);
    const stats = metrics.filter((m) => m.MetricStat);
    expect(stats.every((m) => m.MetricStat!.Period === 900 && m.MetricStat!.Stat === 'Sum')).toBe(true);
    expect(stats.find((m) => m.Id === 'attempts')!.MetricStat!.Metric.MetricName).toBe(METRICS.sendAttempts.name);
    const failures = stats.filter((m) => m.MetricStat!.Metric.MetricName === METRICS.sendFailures.name);
    expect(failures.map((m) => m.MetricStat!.Metric.Dimensions.find((d) => d.Name === 'kind')!.Value).sort()).toEqual([...SEND_FAILURE_KINDS].sort());
    // The sum of the kinds is what the rate divides; a metric math alarm reads at most 10 metrics.
    expect(metrics.find((m) => m.Id === 'failures')!.Expression).toBe(`SUM([${failures.map((m) => m.Id).join(', ')}])`);
    expect(stats.length).toBeLessThanOrEqual(10);
  });

  it('the failure rate stays quiet below its minimum and alarms above 3 % from it (the expression, evaluated)', () => {
    // The alarm's expression, for one 15-minute period: IF(attempts >= min, 100 * failures / attempts, 0).
    const rate = (attempts: number, failures: number) => (attempts >= ALARM_THRESHOLDS.sendFailureMinAttempts ? (100 * failures) / attempts : 0);
    const alarms = (attempts: number, failures: number) => rate(attempts, failures) > ALARM_THRESHOLDS.sendFailurePercent;
    expect(alarms(2, 1)).toBe(false);
    expect(alarms(49, 10)).toBe(false);
    expect(alarms(50, 1)).toBe(false);
    expect(alarms(100, 3)).toBe(false);
    expect(alarms(50, 2)).toBe(true);
    expect(alarms(1000, 31)).toBe(true);
  });

  it.each([
    ['send-outcome-unknown', 'sendOutcomeUnknown', ALARM_THRESHOLDS.sendOutcomeUnknown],
    ['whatsapp-auth-failures', 'whatsappAuthFailures', ALARM_THRESHOLDS.whatsappAuthFailures],
  ] as const)('%s: any %s in 5 minutes', (name, key, threshold) => {
    expect(alarmNamed(name)).toMatchObject({
      MetricName: METRICS[key].name,
      Namespace: METRIC_NAMESPACE,
      Dimensions: [{ Name: 'service', Value: 'send' }, { Name: 'stage', Value: 'test' }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: threshold,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it.each([
    ['whatsapp-account-stopped', 'accountStopped', 300, ALARM_THRESHOLDS.accountStopped],
    ['whatsapp-number-switched', 'numberSwitched', 3_600, ALARM_THRESHOLDS.numberSwitched],
    ['whatsapp-number-health-slow', 'numberSlow', 10_800, ALARM_THRESHOLDS.numberSlowChecks],
  ] as const)('%s sums %s over every value of its own dimension (a Metrics Insights query)', (name, key, period, threshold) => {
    const alarm = alarmNamed(name);
    expect(alarm).toMatchObject({ Threshold: threshold, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching' });
    expect(alarm.Metrics).toEqual([
      expect.objectContaining({
        Expression: `SELECT SUM(${METRICS[key].name}) FROM SCHEMA("${METRIC_NAMESPACE}", ${METRIC_DIMENSIONS[key]}, service, stage) WHERE service = 'send' AND stage = 'test'`,
        Period: period,
        ReturnData: true,
      }),
    ]);
  });

  it('the dashboard shows the outbound side, one Metrics Insights query per widget', () => {
    const [, dashboard] = ofType('AWS::CloudWatch::Dashboard')[0]!;
    const body = JSON.stringify(dashboard.Properties?.DashboardBody);
    for (const title of ['Outbound: sent', 'Outbound: failure rate', 'Outbound: refused by the policy', 'Numbers: stopped by Meta', 'Numbers: slow health checks', 'Numbers: switched to the backup']) {
      expect(body).toContain(title);
    }
    const widgets = (JSON.parse((dashboard.Properties?.DashboardBody as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('')) as { widgets: { properties: { metrics?: unknown[][] } }[] }).widgets;
    const queriesPerWidget = widgets.map((widget) => (widget.properties.metrics ?? []).filter((m) => JSON.stringify(m).includes('SELECT ')).length);
    // Outbound: refused, stopped, slow, switched; automation: messages by rule, agents' response time.
    expect(queriesPerWidget.filter((n) => n > 0)).toEqual([1, 1, 1, 1, 1, 1]);
    // A widget with a Metrics Insights query has nothing else.
    for (const widget of widgets.filter((w) => JSON.stringify(w).includes('SELECT '))) expect(widget.properties.metrics).toHaveLength(1);
  });
});

describe('the metrics the alarms read are emitted with exactly those dimensions', () => {
  /** Every `.add('<metric key>', …)` call in the functions and shared code, with the names of its own dimensions. */
  const emissions = () => {
    const root = join(import.meta.dirname, '..', '..');
    const files = ['functions', 'shared'].flatMap((dir) =>
      (readdirSync(join(root, dir), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).map((f) => join(root, dir, f)),
    );
    return files.flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/\.add\('(\w+)'([^;\n]*)/g)]
        .filter(([, key]) => key! in METRICS)
        .map(([, key, rest]) => {
          const literal = /\{([^{}]*)\}\s*\)/.exec(rest!)?.[1];
          const dimensions = literal ? literal.split(',').map((part) => part.split(':')[0]!.trim()).filter(Boolean).sort() : [];
          return { key: key as keyof typeof METRICS, dimensions, at: file.slice(root.length + 1) };
        }),
    );
  };

  it('finds the emissions of the watched metrics', () => {
    const keys = new Set(emissions().map((e) => e.key));
    for (const key of ['sendAttempts', 'sendFailures', 'sendOutcomeUnknown', 'whatsappAuthFailures', 'accountStopped', 'numberSlow', 'numberSwitched', 'crmAuthFailures', 'credentialAgeDays', 'messagesDenied'] as const) {
      expect(keys, key).toContain(key);
    }
  });

  it('each metric is emitted with its METRIC_DIMENSIONS dimension, or with none when it has none', () => {
    for (const { key, dimensions, at } of emissions()) {
      const own = (METRIC_DIMENSIONS as Partial<Record<string, string>>)[key];
      expect(dimensions, `${key} in ${at}`).toEqual(own ? [own] : []);
    }
  });
});

describe('CRM health (SY-5, SY-7, SY-9)', () => {
  it('alarms on the CRM API budget above 80 %, rate limits, reconciliation below 99 %, night batch success below 95 % and mapping errors above 2 %', () => {
    const expectAlarm = (name: string, props: Record<string, unknown>) => template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: `scrm-test-${name}`, ...props });
    expectAlarm('crm-api-usage-above-80-percent', { MetricName: METRICS.crmApiUsage.name, Threshold: 80, ComparisonOperator: 'GreaterThanThreshold', Dimensions: Match.arrayWith([{ Name: 'crm', Value: 'hubspot' }, { Name: 'service', Value: 'sync' }]) });
    expectAlarm('crm-rate-limited', { MetricName: METRICS.crmRateLimited.name, Threshold: ALARM_THRESHOLDS.crmRateLimited, Period: 900 });
    expectAlarm('reconciliation-below-99-percent', { MetricName: METRICS.reconciliationAccuracy.name, Threshold: 99, ComparisonOperator: 'LessThanThreshold', Period: 86_400, Dimensions: Match.arrayWith([{ Name: 'service', Value: 'batch-export' }]) });
    expectAlarm('batch-sync-success-below-95-percent', { Threshold: 95, ComparisonOperator: 'LessThanThreshold', Metrics: Match.arrayWith([Match.objectLike({ Expression: Match.stringLikeRegexp('100 \\* written') })]) });
    expectAlarm('mapping-errors-above-2-percent', { MetricName: METRICS.mappingErrorRate.name, Threshold: 2, ComparisonOperator: 'GreaterThanThreshold' });
    // The webhook's 410 alarm exists only when the webhook is the CRM.
    expect(ofType('AWS::CloudWatch::Alarm').some(([, r]) => r.Properties?.AlarmName === 'scrm-test-crm-webhook-gone')).toBe(false);
  });

  it('the reconciliation, service report, keyword report and mapping check run on their schedules through the batch function', () => {
    const batch = SCHEDULES.filter((d) => ['reconcile', 'service-report', 'keyword-report', 'mapping-check', 'unread-export', 'segment-refresh'].includes(d.task));
    expect(batch.map((d) => d.target)).toEqual(Array.from({ length: 6 }, () => 'batch-export'));
    // The night batch sync runs inside the 1:00-5:00 window (SY-5).
    expect(SCHEDULES.find((d) => d.id === 'segment-refresh')!.cron).toBe('cron(0/15 1-4 * * ? *)');
  });

  it('the sync function runs at most SYNC_MAX_CONCURRENCY invocations at once, each told its share of the CRM limit', () => {
    const sync = stack.functions.find((f) => f.name === 'sync')!;
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { FunctionName: { Ref: idOf(sync.function) }, ScalingConfig: { MaximumConcurrency: SYNC_MAX_CONCURRENCY } });
    const variables = (resources[idOf(sync.function)]!.Properties!.Environment as { Variables: Record<string, string> }).Variables;
    expect(variables[ENV.syncConcurrency]).toBe(String(SYNC_MAX_CONCURRENCY));
  });

  describe('with Salesforce as the CRM', () => {
    let variant: { stack: ScrmStack; resources: Record<string, Resource> };
    beforeAll(() => {
      const built = buildApp({
        app: new App({ context: { 'aws:cdk:bundling-stacks': [] } }),
        config: loadStackConfig({ stage: 'test', crm: 'salesforce', salesforceLoginUrl: 'https://acme.my.salesforce.com', salesforceApiVersion: 'v68.0', crmRateLimit: 50, crmRateWindowSeconds: 20 }),
      });
      variant = { stack: built.stack, resources: Template.fromStack(built.stack).toJSON().Resources as Record<string, Resource> };
    });

    it('gives the functions the Salesforce settings, and the secret names the keys to fill in', () => {
      const sync = variant.stack.functions.find((f) => f.name === 'sync')!;
      const variables = (variant.resources[variant.stack.getLogicalId(sync.function.node.defaultChild as CfnElement)]!.Properties!.Environment as { Variables: Record<string, string> }).Variables;
      expect(variables).toMatchObject({ SCRM_CRM: 'salesforce', SALESFORCE_LOGIN_URL: 'https://acme.my.salesforce.com', SALESFORCE_API_VERSION: 'v68.0', CRM_RATE_LIMIT: '50', CRM_RATE_WINDOW_SECONDS: '20' });
      const secret = Object.values(variant.resources).find((r) => r.Type === 'AWS::SecretsManager::Secret')!;
      expect(secret.Properties!['Description']).toContain('SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET');
      // The generated template is unchanged: the values an operator filled in are never replaced.
      expect(JSON.parse((secret.Properties!['GenerateSecretString'] as { SecretStringTemplate: string }).SecretStringTemplate)).not.toHaveProperty('SALESFORCE_CLIENT_ID');
      const alarms = Object.values(variant.resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm').map((r) => r.Properties!['AlarmName']);
      expect(alarms).toEqual(expect.arrayContaining(['scrm-test-crm-api-usage-above-80-percent', 'scrm-test-reconciliation-below-99-percent']));
    });

    it('a Salesforce or webhook stack without its address does not synthesize, naming the setting', () => {
      expect(() => loadStackConfig({ crm: 'salesforce' })).toThrow(/salesforceLoginUrl: must be set when crm is salesforce/);
      expect(() => loadStackConfig({ crm: 'webhook' })).toThrow(/crmWebhookUrl: must be set when crm is webhook/);
    });

    it('the webhook as the CRM alarms when its receiver answers 410 Gone', () => {
      const built = buildApp({ app: new App({ context: { 'aws:cdk:bundling-stacks': [] } }), config: loadStackConfig({ stage: 'test', crm: 'webhook', crmWebhookUrl: 'https://hooks.zapier.com/hooks/catch/1/abc/' }) });
      Template.fromStack(built.stack).hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'scrm-test-crm-webhook-gone', MetricName: METRICS.crmWebhookGone.name, Threshold: 1 });
    });
  });
});

describe('IN-7: AWS End User Messaging Social', () => {
  const TOPIC = 'arn:aws:sns:ap-east-1:123456789012:whatsapp-events';
  let linked: { app: App; stack: ScrmStack; resources: Record<string, Resource> };

  beforeAll(() => {
    // The template only: no bundling.
    const variant = buildApp({
      app: new App({ context: { 'aws:cdk:bundling-stacks': [] } }),
      config: loadStackConfig({
        stage: 'test',
        socialMessagingTopicArn: TOPIC,
        whatsappAccounts: JSON.stringify({ '106540352242922': { name: 'HK shop', channel: 'social_messaging', originationId: 'phone-number-id-0123456789abcdef' } }),
      }),
    });
    linked = { ...variant, resources: Template.fromStack(variant.stack).toJSON().Resources as Record<string, Resource> };
  });

  const idIn = (s: ScrmStack, construct: IConstruct) => s.getLogicalId(construct.node.defaultChild as CfnElement);

  it('without socialMessagingTopicArn: no SNS subscription to a function and no End User Messaging Social grant', () => {
    expect(ofType('AWS::SNS::Subscription').filter(([, r]) => r.Properties?.Protocol === 'lambda')).toEqual([]);
    expect(JSON.stringify(ofType('AWS::IAM::Policy'))).not.toContain('social-messaging:');
    expect(stack.ingest.socialMessagingDeadLetters).toBeUndefined();
  });

  it('with it, the webhook function subscribes to the topic, with a DLQ for what SNS cannot deliver', () => {
    const subscriptions = Object.values(linked.resources).filter((r) => r.Type === 'AWS::SNS::Subscription' && r.Properties?.Protocol === 'lambda');
    expect(subscriptions).toHaveLength(1);
    const webhook = idIn(linked.stack, linked.stack.ingest.webhookFunction.function);
    const dlq = idIn(linked.stack, linked.stack.ingest.socialMessagingDeadLetters!);
    expect(subscriptions[0]!.Properties).toMatchObject({
      TopicArn: TOPIC,
      Endpoint: getAttArn(webhook),
      RedrivePolicy: { deadLetterTargetArn: getAttArn(dlq) },
    });
    const invoke = Object.values(linked.resources).filter((r) => r.Type === 'AWS::Lambda::Permission' && r.Properties?.Principal === 'sns.amazonaws.com');
    expect(invoke).toHaveLength(1);
    expect(invoke[0]!.Properties).toMatchObject({ FunctionName: getAttArn(webhook), SourceArn: TOPIC });
  });

  it('an SNS event the webhook function still fails after Lambda\'s retries goes to the same DLQ, which is alarmed', () => {
    const webhook = idIn(linked.stack, linked.stack.ingest.webhookFunction.function);
    const dlq = idIn(linked.stack, linked.stack.ingest.socialMessagingDeadLetters!);
    const config = Object.values(linked.resources).find((r) => r.Type === 'AWS::Lambda::EventInvokeConfig' && JSON.stringify(r.Properties?.FunctionName) === JSON.stringify({ Ref: webhook }));
    expect(config?.Properties).toMatchObject({ DestinationConfig: { OnFailure: { Destination: getAttArn(dlq) } }, MaximumRetryAttempts: 2 });
    expect(linked.resources[dlq]!.Properties).toMatchObject({ QueueName: 'scrm-test-social-messaging-dlq', SqsManagedSseEnabled: true });
    const alarm = Object.values(linked.resources).find((r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties?.AlarmName === 'scrm-test-social-messaging-dlq-not-empty');
    expect(alarm?.Properties).toMatchObject({ Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq, 'QueueName'] } }], Threshold: 0 });
  });

  it('the send function alone may call SendWhatsAppMessage, the media function alone GetWhatsAppMessageMedia, and nothing else of End User Messaging Social', () => {
    const grants = Object.entries(linked.resources)
      .filter(([, r]) => r.Type === 'AWS::IAM::Policy')
      .flatMap(([id, r]) => list((r.Properties?.PolicyDocument as { Statement: Statement[] }).Statement).map((st) => ({ id, ...st })))
      .filter((st) => list(st.Action).some((a) => a.startsWith('social-messaging:')));
    expect(grants).toHaveLength(2);
    expect(grants).toContainEqual(expect.objectContaining({ id: idIn(linked.stack, linked.stack.outbound.sendFunction.role.node.findChild('DefaultPolicy')), Action: SOCIAL_MESSAGING_SEND_ACTION, Resource: '*' }));
    expect(grants).toContainEqual(expect.objectContaining({ id: idIn(linked.stack, linked.stack.media.mediaFunction.role.node.findChild('DefaultPolicy')), Action: SOCIAL_MESSAGING_MEDIA_ACTION, Resource: '*' }));
  });

  it.each(['AwsSolutions', 'Serverless'])('the %s pack finds nothing unacknowledged in this variant either', (pack) => {
    const { report } = compliancePacks()
      .map((p) => ({ name: p.name, report: p.validateScope(linked.app) }))
      .find((r) => r.name === pack)!;
    expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
    expect(report.success).toBe(true);
  });
});

describe('automation (AU-*, AG-1): the automation queue, function, event rule, timers and the courier route', () => {
  const roleStatements = (role: IConstruct) => {
    const roleId = idOf(role);
    return ofType('AWS::IAM::Policy')
      .filter(([, r]) => list(r.Properties?.Roles).some((ref: unknown) => JSON.stringify(ref) === JSON.stringify({ Ref: roleId })))
      .flatMap(([, r]) => list((r.Properties?.PolicyDocument as { Statement: Statement | Statement[] }).Statement));
  };
  const granted = () =>
    roleStatements(stack.automation.automationFunction.role)
      .filter((st) => !list(st.Action).some((a) => a.startsWith('logs:') || a.startsWith('xray:')))
      .map((st) => ({ actions: list(st.Action).sort(), resource: st.Resource, condition: st.Condition }));
  const SEND = ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'];
  const CONSUME = ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'];
  const fnProps = () => resources[idOf(stack.automation.automationFunction.function)]!.Properties!;
  const queueId = () => idOf(stack.automation.automationJobs.queue);
  const dlqId = () => idOf(stack.automation.automationJobs.deadLetterQueue);
  const alarmNamed = (name: string) => {
    const found = ofType('AWS::CloudWatch::Alarm').find(([, r]) => r.Properties?.AlarmName === `scrm-test-${name}`);
    expect(found, name).toBeDefined();
    return found![1].Properties as Record<string, unknown> & { Metrics?: { Id: string; Expression?: string; ReturnData?: boolean; Period?: number; MetricStat?: { Metric: { MetricName: string; Dimensions: { Name: string; Value: string }[] }; Period: number; Stat: string } }[] };
  };

  it('the automation function runs Node.js 24 on arm64 within 1/6 of its queue\'s visibility timeout, with its settings', () => {
    expect(fnProps()).toMatchObject({
      FunctionName: 'scrm-test-automation',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: AUTOMATION_FUNCTION_TIMEOUT_SECONDS,
    });
    expect(AUTOMATION_QUEUE.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(6 * AUTOMATION_FUNCTION_TIMEOUT_SECONDS);
    const env = (fnProps().Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env).toMatchObject({
      [ENV.automationQueueUrl]: { Ref: queueId() },
      [ENV.automationQueueArn]: getAttArn(queueId()),
      [ENV.automationDlqArn]: getAttArn(dlqId()),
      [ENV.timerGroup]: 'scrm-test-timers',
      [ENV.timerRoleArn]: getAttArn(idOf(stack.automation.timerRole)),
      [ENV.timeZone]: config.timeZone,
      [ENV.courierApiBase]: 'https://api.aftership.com',
      [ENV.courierApiVersion]: '2026-07',
      [ENV.geocoder]: 'amazon-location',
      // What the send and api functions get too.
      [ENV.tableName]: { Ref: idOf(stack.storage.table) },
      [ENV.sendQueueUrl]: { Ref: idOf(stack.outbound.sendJobs.queue) },
      [ENV.syncQueueUrl]: { Ref: idOf(stack.syncJobs.queue) },
      [ENV.secretArn]: { Ref: idOf(stack.secrets.secret) },
      [ENV.eventBusName]: { Ref: idOf(stack.domainEvents) },
      [ENV.accounts]: config.whatsappAccounts,
      [ENV.hubspotApiBase]: config.hubspotApiBase,
      [ENV.hubspotApiVersion]: config.hubspotApiVersion,
    });
    expect(env[ENV.geoPlacesEndpoint]).toBeUndefined();
    // The group exists before the function (its name is given as such, not by reference).
    expect(resources[idOf(stack.automation.automationFunction.function)] as Resource & { DependsOn?: string[] }).toMatchObject({ DependsOn: expect.arrayContaining([idOf(stack.automation.timerGroup)]) });
  });

  it('consumes the standard automation queue (batch size, partial batch responses, no batching window), whose DLQ takes an event after 5 receives', () => {
    const [, mapping] = ofType('AWS::Lambda::EventSourceMapping').find(([, r]) => JSON.stringify(r.Properties?.FunctionName) === JSON.stringify({ Ref: idOf(stack.automation.automationFunction.function) }))!;
    expect(mapping.Properties).toMatchObject({
      EventSourceArn: getAttArn(queueId()),
      BatchSize: AUTOMATION_QUEUE.batchSize,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(mapping.Properties!.MaximumBatchingWindowInSeconds as number).toBeLessThanOrEqual(1);
    expect(resources[queueId()]!.Properties).toMatchObject({
      QueueName: 'scrm-test-automation',
      VisibilityTimeout: AUTOMATION_QUEUE.visibilityTimeoutSeconds,
      MessageRetentionPeriod: AUTOMATION_QUEUE.retentionDays * 86_400,
      RedrivePolicy: { maxReceiveCount: AUTOMATION_QUEUE.maxReceiveCount, deadLetterTargetArn: getAttArn(dlqId()) },
    });
    expect(resources[queueId()]!.Properties!.FifoQueue).toBeUndefined();
    expect(resources[dlqId()]!.Properties).toMatchObject({ QueueName: 'scrm-test-automation-dlq', SqsManagedSseEnabled: true });
  });

  it('a rule on the domain bus sends the 5 event types of source whatsapp-scrm to the queue, with the DLQ and retries', () => {
    const rules = ofType('AWS::Events::Rule');
    expect(rules).toHaveLength(1);
    const [ruleId, rule] = rules[0]!;
    expect(rule.Properties).toMatchObject({
      Name: 'scrm-test-automation',
      EventBusName: { Ref: idOf(stack.domainEvents) },
      EventPattern: { source: [EVENT_SOURCE], 'detail-type': [...AUTOMATION_EVENT_TYPES] },
      State: 'ENABLED',
    });
    expect(AUTOMATION_EVENT_TYPES).toEqual(['MessageReceived', 'SegmentChanged', 'OrderUpdated', 'ParcelUpdated', 'ConversationResolved']);
    expect(rule.Properties!.Targets).toEqual([
      {
        Id: expect.any(String),
        Arn: getAttArn(queueId()),
        DeadLetterConfig: { Arn: getAttArn(dlqId()) },
        RetryPolicy: { MaximumRetryAttempts: AUTOMATION_EVENT_DELIVERY.retryAttempts, MaximumEventAgeInSeconds: AUTOMATION_EVENT_DELIVERY.maxEventAge.toSeconds() },
      },
    ]);
    // EventBridge may send to the queue and to its DLQ, for this rule only.
    for (const id of [queueId(), dlqId()]) {
      const [, policy] = ofType('AWS::SQS::QueuePolicy').find(([, r]) => JSON.stringify(r.Properties?.Queues) === JSON.stringify([{ Ref: id }]))!;
      const allows = (policy.Properties!.PolicyDocument as { Statement: Statement[] }).Statement.filter((st) => st.Effect === 'Allow');
      expect(allows).toHaveLength(1);
      expect(allows[0]).toMatchObject({
        Principal: { Service: 'events.amazonaws.com' },
        Resource: getAttArn(id),
        Condition: { ArnEquals: { 'aws:SourceArn': getAttArn(ruleId) } },
      });
      expect(list(allows[0]!.Action)).toContain('sqs:SendMessage');
    }
  });

  it('the timers\' schedule group is named per stage; its role is for Scheduler of this account and group only, and may only send to the queue and its DLQ', () => {
    const groupId = idOf(stack.automation.timerGroup);
    expect(resources[groupId]).toMatchObject({ Type: 'AWS::Scheduler::ScheduleGroup', Properties: { Name: 'scrm-test-timers' }, DeletionPolicy: 'Delete' });
    const role = resources[idOf(stack.automation.timerRole)]!.Properties!;
    expect((role.AssumeRolePolicyDocument as { Statement: Statement[] }).Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } }, ArnEquals: { 'aws:SourceArn': getAttArn(groupId) } },
      },
    ]);
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(roleStatements(stack.automation.timerRole)).toEqual([{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: [getAttArn(queueId()), getAttArn(dlqId())] }]);
    template.hasOutput('TimerGroupName', { Value: 'scrm-test-timers' });
  });

  it('the function may create schedules in the timer group only, and pass the timer role to Scheduler only', () => {
    const scheduler = granted().filter((g) => g.actions.some((a) => a.startsWith('scheduler:')));
    expect(scheduler).toEqual([
      {
        actions: [CREATE_SCHEDULE_ACTION],
        resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':scheduler:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':schedule/scrm-test-timers/*']] },
        condition: undefined,
      },
    ]);
    const passRole = granted().filter((g) => g.actions.some((a) => a.startsWith('iam:')));
    expect(passRole).toEqual([
      { actions: ['iam:PassRole'], resource: getAttArn(idOf(stack.automation.timerRole)), condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } } },
    ]);
    // No other function may create schedules or pass roles.
    const others = ofType('AWS::IAM::Policy')
      .filter(([id]) => id !== idOf(stack.automation.automationFunction.role.node.findChild('DefaultPolicy')))
      .flatMap(([, r]) => list((r.Properties?.PolicyDocument as { Statement: Statement | Statement[] }).Statement))
      .flatMap((st) => list(st.Action));
    expect(others.filter((a) => a.startsWith('scheduler:') || a.startsWith('iam:'))).toEqual([]);
  });

  it('the function may use the table, consume and send to its queue, send to the send and sync queues, put events, read the secret and geocode; nothing else', () => {
    const g = granted();
    const sqs = g.filter((x) => x.actions.some((a) => a.startsWith('sqs:'))).map(({ actions, resource }) => ({ actions, resource }));
    expect(sqs).toEqual(
      expect.arrayContaining([
        { actions: CONSUME, resource: getAttArn(queueId()) },
        // Timers due within 15 minutes: the queue itself, with DelaySeconds.
        { actions: SEND, resource: getAttArn(queueId()) },
        { actions: SEND, resource: getAttArn(idOf(stack.outbound.sendJobs.queue)) },
        { actions: SEND, resource: getAttArn(idOf(stack.syncJobs.queue)) },
        // Failed follow-up runs.
        { actions: SEND, resource: getAttArn(idOf(stack.scheduledJobs.failedRuns)) },
      ]),
    );
    expect(sqs).toHaveLength(5);
    expect(g.filter((x) => x.actions.some((a) => a.startsWith('geo-places:')))).toEqual([
      {
        actions: [...GEO_PLACES_ACTIONS].sort(),
        resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':geo-places:', { Ref: 'AWS::Region' }, '::provider/default']] },
        condition: undefined,
      },
    ]);
    expect(GEO_PLACES_ACTIONS).toEqual(['geo-places:Geocode', 'geo-places:ReverseGeocode']);
    expect(g.filter((x) => x.actions.some((a) => a.startsWith('events:')))).toEqual([{ actions: ['events:PutEvents'], resource: getAttArn(idOf(stack.domainEvents)), condition: undefined }]);
    expect([...new Set(g.flatMap((x) => x.actions.map((a) => a.split(':')[0])))].sort()).toEqual(['dynamodb', 'events', 'geo-places', 'iam', 'scheduler', 'secretsmanager', 'sqs']);
    expect(g.flatMap((x) => x.actions)).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query', 'secretsmanager:GetSecretValue']));
    expect(JSON.stringify(g)).not.toMatch(/s3:|social-messaging:|MediaJobs/);
  });

  it('the follow-up schedule runs the automation function with {task: "follow-up"}, and its failed runs go to the failed-runs queue', () => {
    const followUp = SCHEDULES.filter((d) => d.target === 'automation');
    expect(followUp.map((d) => d.id)).toEqual(['follow-up']);
    const [, schedule] = ofType('AWS::Scheduler::Schedule').find(([, r]) => r.Properties?.Name === 'scrm-test-follow-up')!;
    const target = schedule.Properties!.Target as { Arn: unknown; RoleArn: { 'Fn::GetAtt': [string, string] }; Input: string };
    expect(target.Arn).toEqual(getAttArn(idOf(stack.automation.automationFunction.function)));
    expect(JSON.parse(target.Input)).toEqual({ task: 'follow-up' });
    expect(schedule.Properties).toMatchObject({ ScheduleExpression: 'cron(0 9 ? * MON *)', ScheduleExpressionTimezone: config.timeZone });
    // Its scheduler role invokes the automation function and nothing else.
    const lambda = ofType('AWS::IAM::Policy')
      .filter(([, r]) => list(r.Properties?.Roles).some((ref) => JSON.stringify(ref) === JSON.stringify({ Ref: target.RoleArn['Fn::GetAtt'][0] })))
      .flatMap(([, r]) => list((r.Properties?.PolicyDocument as { Statement: Statement | Statement[] }).Statement))
      .filter((st) => list(st.Action).some((a) => a.startsWith('lambda:')));
    expect(JSON.stringify(lambda.flatMap((st) => list(st.Resource)))).toContain(idOf(stack.automation.automationFunction.function));
    expect(JSON.stringify(lambda.flatMap((st) => list(st.Resource)))).not.toMatch(/Send|BatchExport|Reports/);
  });

  it('POST /courier-events on the webhook\'s HTTP API goes to the api function, without IAM or authorizer (the function checks the HMAC)', () => {
    const [, route] = ofType('AWS::ApiGatewayV2::Route').find(([, r]) => r.Properties?.RouteKey === `POST ${COURIER_EVENTS_PATH}`)!;
    expect(route.Properties).toMatchObject({ ApiId: { Ref: idOf(stack.ingest.api) }, AuthorizationType: 'NONE' });
    const integrationId = JSON.stringify(route.Properties?.Target).match(/"Ref":"([^"]+)"/)![1]!;
    expect(resources[integrationId]!.Properties).toMatchObject({
      ApiId: { Ref: idOf(stack.ingest.api) },
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      IntegrationUri: getAttArn(idOf(stack.outbound.apiFunction.function)),
    });
  });

  it('alarms when the automation DLQ holds an event, when the function fails, and when its queue is not drained', () => {
    expect(alarmNamed('automation-dlq-not-empty')).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId(), 'QueueName'] } }],
      Threshold: ALARM_THRESHOLDS.deadLetters,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(alarmNamed('automation-errors')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: idOf(stack.automation.automationFunction.function) } }],
      Threshold: ALARM_THRESHOLDS.functionErrors,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Period: 300,
    });
    expect(alarmNamed('automation-oldest-job-age')).toMatchObject({
      Threshold: AUTOMATION_QUEUE.visibilityTimeoutSeconds * AUTOMATION_QUEUE.maxReceiveCount + 900,
    });
    for (const name of ['automation-dlq-not-empty', 'automation-errors', 'automation-handover-rate']) {
      expect(alarmNamed(name).AlarmActions).toEqual([{ Ref: idOf(stack.operations.topic) }]);
    }
  });

  it('AU-6: alarms when more than 15 % of a day\'s conversations asked for a person, from 20 conversations', () => {
    const alarm = alarmNamed('automation-handover-rate');
    expect(alarm).toMatchObject({ Threshold: 0.15, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'notBreaching', EvaluationPeriods: 1 });
    expect(ALARM_THRESHOLDS).toMatchObject({ handoverRate: 0.15, handoverMinConversations: 20 });
    const metrics = alarm.Metrics!;
    expect(metrics.find((m) => m.ReturnData)!.Expression).toBe('IF(started >= 20, FILL(handovers, 0) / started, 0)');
    const stat = (id: string) => metrics.find((m) => m.Id === id)!.MetricStat!;
    expect(stat('started').Metric.MetricName).toBe('ConversationsStarted');
    expect(stat('handovers').Metric.MetricName).toBe('HandoverRequests');
    for (const id of ['started', 'handovers']) {
      expect(stat(id)).toMatchObject({ Period: 86_400, Stat: 'Sum' });
      expect(stat(id).Metric.Dimensions).toEqual([{ Name: 'service', Value: 'automation' }, { Name: 'stage', Value: 'test' }]);
    }
  });

  it('the hand-over rate stays quiet below 20 conversations and alarms above 15 % from them (the expression, evaluated)', () => {
    const rate = (started: number, handovers: number) => (started >= ALARM_THRESHOLDS.handoverMinConversations ? handovers / started : 0);
    const alarms = (started: number, handovers: number) => rate(started, handovers) > ALARM_THRESHOLDS.handoverRate;
    expect(alarms(5, 4)).toBe(false);
    expect(alarms(19, 19)).toBe(false);
    expect(alarms(20, 3)).toBe(false);
    expect(alarms(100, 15)).toBe(false);
    expect(alarms(20, 4)).toBe(true);
    expect(alarms(100, 16)).toBe(true);
  });

  it('the dashboard shows the automation function, its queue and the automation\'s metrics', () => {
    const [, dashboard] = ofType('AWS::CloudWatch::Dashboard')[0]!;
    const body = JSON.stringify(dashboard.Properties?.DashboardBody);
    for (const text of ['automation: invocations, errors, throttles', 'automation: duration', 'Automation: conversations started', 'Automation: hand-over rate', 'Automation: messages queued by the rules', 'Agents: response time', 'automation-dlq', 'OrderLookupTime', 'SatisfactionRating']) {
      expect(body, text).toContain(text);
    }
  });
});

describe('automation: a deploy with its account and region known at synth (as `cdk deploy` has them)', () => {
  it.each(['AwsSolutions', 'Serverless'])('the %s pack finds nothing unacknowledged', (pack) => {
    const saved = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
    process.env.CDK_DEFAULT_ACCOUNT = '123456789012';
    process.env.CDK_DEFAULT_REGION = 'ap-east-1';
    try {
      const variant = buildApp({ complianceChecks: false, app: new App({ context: { 'aws:cdk:bundling-stacks': [] } }), config: loadStackConfig({ stage: 'test' }) });
      expect(variant.stack.region).toBe('ap-east-1');
      const { report } = compliancePacks()
        .map((p) => ({ name: p.name, report: p.validateScope(variant.app) }))
        .find((r) => r.name === pack)!;
      expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
    } finally {
      for (const [key, value] of [['CDK_DEFAULT_ACCOUNT', saved.account], ['CDK_DEFAULT_REGION', saved.region]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });
});

describe('automation: the geocoder setting', () => {
  it('with geocoder "none" the automation function gets no Amazon Location grant', () => {
    const variant = buildApp({ complianceChecks: false, app: new App({ context: { 'aws:cdk:bundling-stacks': [] } }), config: loadStackConfig({ stage: 'test', geocoder: 'none' }) });
    const variantResources = Template.fromStack(variant.stack).toJSON().Resources as Record<string, Resource>;
    expect(JSON.stringify(Object.values(variantResources).filter((r) => r.Type === 'AWS::IAM::Policy'))).not.toContain('geo-places:');
    const fn = Object.values(variantResources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties?.FunctionName === 'scrm-test-automation')!;
    expect((fn.Properties!.Environment as { Variables: Record<string, unknown> }).Variables[ENV.geocoder]).toBe('none');
  });
});

describe('every function\'s environment fits Lambda\'s 4 KB with the longest settings accepted', () => {
  it('a 20-character stage and business numbers of MAX_ACCOUNTS_JSON_LENGTH, resolved as CloudFormation would (long region, 64-character role names)', () => {
    const stage = 'abcdefghij-klmnopqrs';
    expect(stage).toHaveLength(20);
    // As many accounts as fit, as Lambda counts them.
    const accountsOf = (n: number) => JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [String(106540352242000 + i), { name: `Shop number ${i}` }])));
    let n = 1;
    while (accountsEnvironmentSize(accountsOf(n + 1)) <= MAX_ACCOUNTS_JSON_LENGTH) n++;
    const variant = buildApp({ complianceChecks: false, app: new App({ context: { 'aws:cdk:bundling-stacks': [] } }), config: loadStackConfig({ stage, whatsappAccounts: accountsOf(n) }) });
    const res = Template.fromStack(variant.stack).toJSON().Resources as Record<string, Resource>;
    const region = 'ap-southeast-1';
    const account = '123456789012';
    const resolve = (value: unknown): string => {
      if (typeof value === 'string') return value;
      const ref = (value as { Ref?: string }).Ref;
      const getAtt = (value as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
      const id = ref ?? getAtt?.[0];
      const r = id ? res[id] : undefined;
      const p = r?.Properties ?? {};
      if (r?.Type === 'AWS::SQS::Queue') return ref ? `https://sqs.${region}.amazonaws.com/${account}/${p.QueueName as string}` : `arn:aws:sqs:${region}:${account}:${p.QueueName as string}`;
      if (r?.Type === 'AWS::IAM::Role' && getAtt) return `arn:aws:iam::${account}:role/${'r'.repeat(64)}`;
      if (r?.Type === 'AWS::SecretsManager::Secret') return `arn:aws:secretsmanager:${region}:${account}:secret:${p.Name as string}-AbCdEf`;
      if (r?.Type === 'AWS::DynamoDB::Table') return p.TableName as string;
      if (r?.Type === 'AWS::S3::Bucket') return `scrm-${stage}-data-${account}-${region}`;
      if (r?.Type === 'AWS::Events::EventBus') return p.Name as string;
      if (r?.Type === 'AWS::SNS::Topic' && ref) return `arn:aws:sns:${region}:${account}:${p.TopicName as string}`;
      if (r?.Type === 'AWS::ApiGatewayV2::Api' && getAtt?.[1] === 'ApiEndpoint') return `https://abcdefghij.execute-api.${region}.amazonaws.com`;
      throw new Error(`no resolution for ${JSON.stringify(value)} (${r?.Type}): teach this test the new kind of value`);
    };
    const functions = Object.values(res).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions).toHaveLength(FUNCTIONS.length);
    for (const fn of functions) {
      const variables = (fn.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
      const resolved = Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, resolve(v)]));
      // Counted as the JSON Lambda stores (keys, values, quotes and separators): the stricter measure.
      expect(JSON.stringify(resolved).length, fn.Properties!.FunctionName as string).toBeLessThanOrEqual(4_096);
    }
  });
});

describe('two-way sync (SY-3)', () => {
  it('Salesforce Event Relay: its partner bus and a rule sending the org\'s change events to the crm-events queue, with a DLQ', () => {
    const source = 'aws.partner/salesforce.com/00D5g000000AbcdEAA/0YLRM0000004CXX4AA';
    const variant = buildApp({ complianceChecks: false, app: new App({ context: { 'aws:cdk:bundling-stacks': [] } }), config: loadStackConfig({ stage: 'test', crm: 'salesforce', salesforceLoginUrl: 'https://acme.my.salesforce.com', salesforceEventSource: source }) });
    const t = Template.fromStack(variant.stack);
    t.hasResourceProperties('AWS::Events::EventBus', { Name: source, EventSourceName: source });
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: [source] },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('CrmEventsJobs'), 'Arn'] }, DeadLetterConfig: Match.anyValue() })],
    });
    // Without the setting there is no partner bus: the catch-up alone brings Salesforce's changes.
    expect(stack.crmEvents.partnerRule).toBeUndefined();
  });

  it('refuses a partner event source that is not Event Relay\'s', () => {
    expect(() => loadStackConfig({ stage: 'test', salesforceEventSource: 'aws.partner/other.com/x' })).toThrow(/salesforceEventSource: .* is not an Event Relay partner event source/);
  });
});

describe('media and storage (MD-1, ST-1..ST-3)', () => {
  it('the media function has the measured memory and a timeout of 1/6 of the media queue\'s visibility, fed by the media queue in its batches', () => {
    const [, fn] = ofType('AWS::Lambda::Function').find(([, r]) => r.Properties?.FunctionName === 'scrm-test-media')!;
    expect(fn.Properties).toMatchObject({ MemorySize: MEDIA_FUNCTION_MEMORY_MB, Timeout: MEDIA_QUEUE.visibilityTimeoutSeconds / 6 });
    const mappings = ofType('AWS::Lambda::EventSourceMapping').filter(([, r]) => JSON.stringify(r.Properties?.FunctionName).includes(idOf(stack.media.mediaFunction.function)));
    expect(mappings).toHaveLength(1);
    expect(mappings[0]![1].Properties).toMatchObject({ BatchSize: MEDIA_QUEUE.batchSize, FunctionResponseTypes: ['ReportBatchItemFailures'] });
  });

  it('archive and storage growth run nightly on the batch function', () => {
    for (const id of ['archive', 'storage-growth']) {
      const schedule = SCHEDULES.find((s) => s.id === id)!;
      const [, resource] = ofType('AWS::Scheduler::Schedule').find(([, r]) => JSON.stringify(r.Properties?.Target).includes(`task\\":\\"${schedule.task}\\"`))!;
      expect(resource.Properties).toMatchObject({ ScheduleExpression: schedule.cron });
    }
  });

  it('alarms when 30 days add more than 5 % of the planned capacity, and on any media that could not be kept', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, r]) => r.Properties!);
    const growth = alarms.find((a) => String(a['AlarmName']).endsWith('storage-growth-above-5-percent-a-month'));
    expect(growth).toMatchObject({ Threshold: 5, ComparisonOperator: 'GreaterThanThreshold', MetricName: METRICS.storageMonthlyGrowth.name });
    expect(alarms.find((a) => String(a['AlarmName']).endsWith('media-failed'))).toMatchObject({ MetricName: METRICS.mediaFailed.name });
  });

  it('the batch function may size the table and list the bucket, and write and read archive/ only', () => {
    const granted = statementsOf(stack.scheduledJobs.batchExportFunction);
    expect(granted.flatMap((g) => g.actions)).toEqual(expect.arrayContaining(['dynamodb:DescribeTable', 's3:ListBucket']));
    const archive = granted.filter((g) => JSON.stringify(g.resource).includes(`/${BUCKET_LAYOUT.archive}*`));
    expect(archive.flatMap((g) => g.actions).sort()).toEqual(['s3:GetObject', 's3:PutObject']);
  });
});

