/**
 * Operations (OP-1): every alarm notifies one SNS topic (KMS-encrypted, TLS-only, optional e-mail
 * subscription), and one dashboard shows the whole flow: webhook API → functions → queues → DLQs.
 * The alarms are described for the on-call person in docs/deploy.md ("Operations").
 *
 * The `small` profile (OP-6, docs/cost.md) keeps only what costs nothing while idle or what a small
 * business cannot do without: one alarm folding every dead-letter queue ({@link SMALL_PROFILE_ALARMS}),
 * one on failed invocations of any function, one on webhook 5xx and the complaint-rate alarm; no
 * dashboard; the alarm topic without a customer managed key (an alarm state change carries no
 * customer data).
 */
import { Aws, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  Unit,
  type IWidget,
  SingleValueWidget,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Subscription, SubscriptionProtocol, Topic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { METRICS, METRIC_NAMESPACE, type MetricKey, type MetricUnitName } from '#shared/metric-names';
import type { FailureKind } from '#shared/whatsapp/outbound/channel';
import { acknowledge } from '../compliance.ts';
import type { DeploymentProfile } from '../config.ts';
import type { AppFunction } from './app-function.ts';
import { acknowledgeIsDeadLetterQueue } from './job-queue.ts';

export interface OperationsProps {
  readonly stage: string;
  readonly alarmEmail?: string | undefined;
  /** `standard` (default) or `small` (see the module comment). */
  readonly profile?: DeploymentProfile;
}

/**
 * The alarms of the `small` profile, by name (scrm-<stage>-<name>): every dead-letter queue in one
 * (at most 10 queues per alarm: metric math reads at most 10 metrics), any failed or throttled
 * invocation of any function in the account (Lambda's account-level metrics), webhook 5xx and
 * the complaint rate (RP-7).
 */
export const SMALL_PROFILE_ALARMS = ['dead-letters-not-empty', 'function-errors', 'function-throttles', 'webhook-api-5xx', 'complaint-rate-above-5-percent-3-days'] as const;

/** Metric math reads at most 10 metrics: the small profile's dead-letter alarm takes the queues 10 at a time. */
const MAX_METRICS_PER_EXPRESSION = 10;

/** Thresholds, named so the runbook and the tests can quote them. */
export const ALARM_THRESHOLDS = {
  /** Any message in a DLQ needs a human. */
  deadLetters: 0,
  /** Share of the planned storage capacity 30 days may add, in percent (ST-3): above it alarms. */
  storageMonthlyGrowthPercent: 5,
  /** Media that could not be kept in an hour (a corrupt image, an id Meta no longer has): any alarms. */
  mediaFailed: 1,
  /** Any failed invocation (errors) or rejected one (throttles) in 5 minutes. */
  functionErrors: 1,
  functionThrottles: 1,
  /** Any 5xx in 5 minutes: Meta is retrying and the message is not stored yet. */
  api5xx: 1,
  /** p99 of the API latency above this for 3 consecutive 5-minute periods. */
  apiP99LatencyMs: 2000,
  /** Share of CRM sync attempts that succeed in an hour, in percent (SY-7: ≥ 99 %). */
  syncSuccessPercent: 99,
  /** Any webhook event kept raw in 5 minutes: a person looks at it. */
  unprocessableEvents: 1,
  /** Any CRM answer 401/403 in 5 minutes (after the secret was read again) (OP-5). */
  crmAuthFailures: 1,
  /** A token last rotated more than this many days ago (OP-5). */
  credentialMaxAgeDays: 25,
  /** Share of the calls to Meta's send API of 15 minutes that ended a message as failed, in percent (above it alarms). */
  sendFailurePercent: 3,
  /** Fewer send attempts than this in 15 minutes never alarm on the rate: 1 failure of 2 is not a trend (1 of 50 is 2 %). */
  sendFailureMinAttempts: 50,
  /** Any send with no answer from Meta and no status within the settle time (it is not sent again). */
  sendOutcomeUnknown: 1,
  /** Any refusal of the WhatsApp access token (Meta code 190, OP-5). */
  whatsappAuthFailures: 1,
  /** Any number Meta stopped (payment, policy, locked) or slowed down (spam limit). */
  accountStopped: 1,
  /** Any switch of an account to its backup number (OP-2). */
  numberSwitched: 1,
  /** Slow (> 1.5 s) or failed hourly health checks in 3 hours (OP-2: three in a row switch to the backup). */
  numberSlowChecks: 3,
  /** Share of the CRM's daily API budget used, in percent (Salesforce Sforce-Limit-Info, Zoho credits): above it alarms. */
  crmApiUsagePercent: 80,
  /** CRM rate-limit answers in 15 minutes that alarm: the pacing should keep them at 0, a few real-time ones are waited out. */
  crmRateLimited: 5,
  /** Any 410 Gone from the generic CRM webhook: its receiver was switched off. */
  crmWebhookGone: 1,
  /** Two-way conflicts in a day: 50–100 is normal (ID-5); twice the top of it means something writes in a loop. */
  crmConflictsPerDay: 200,
  /** CRM deliveries refused in 15 minutes (forged or stale signatures, a wrong channel token). */
  crmEventsRefused: 10,
  /** SY-7: share of the reconciled fields equal to the CRM's, in percent (below it alarms). */
  reconciliationAccuracyPercent: 99,
  /** SY-7: share of the night batch's contact updates that succeeded, in percent (below it alarms). */
  batchSuccessPercent: 95,
  /** SY-9: share of the week's records whose mapped fields failed or fell back to defaults, in percent (above it alarms). */
  mappingErrorPercent: 2,
  /** RP-7: a day's complaint rate (fraction 0..1) above this, three days in a row, is an anomaly. */
  complaintRate: 0.05,
  complaintDays: 3,
  /** AU-6: the share of a day's conversations whose customer asked for a person (above it a flow is broken). */
  handoverRate: 0.15,
  /** Fewer conversations than this in a day never alarm on the hand-over rate: 2 of 5 is not a broken flow. */
  handoverMinConversations: 20,
} as const;

/**
 * The dimension a business metric carries besides `service` and `stage`, as the functions emit
 * it (a metric with its own dimensions is published on its own: CloudWatch knows it only with
 * them). test/infra holds these to the `metrics.add` calls of the code.
 */
export const METRIC_DIMENSIONS = {
  crmAuthFailures: 'crm',
  credentialAgeDays: 'credential',
  sendFailures: 'kind',
  accountStopped: 'reason',
  numberSlow: 'phoneNumberId',
  numberSwitched: 'phoneNumberId',
  messagesDenied: 'rule',
  automatedMessages: 'rule',
  agentResponseTime: 'agentId',
  crmRateLimited: 'crm',
  crmApiUsage: 'crm',
  reconciliationAccuracy: 'crm',
  mappingErrorRate: 'crm',
  crmConflicts: 'crm',
  crmEventsRefused: 'crm',
  crmChangesApplied: 'crm',
} as const satisfies Partial<Record<MetricKey, string>>;

/** The failure kinds that pause instead of ending a message: the send function does not count them in SendFailures. */
type PausingFailureKind = 'marketing_cap' | 'spam_limit' | 'account_blocked';

/**
 * The `kind` values of SendFailures: every kind of failure that ends a message. Typed against
 * FailureKind, so a new kind fails the type check here until it is placed (a metric math alarm
 * reads at most 10 metrics: 8 kinds and the attempts).
 */
export const SEND_FAILURE_KINDS = Object.keys({
  retry: true,
  auth: true,
  window_closed: true,
  undeliverable: true,
  opted_out: true,
  template: true,
  bsuid_not_allowed: true,
  permanent: true,
} as const satisfies Record<Exclude<FailureKind, PausingFailureKind>, true>) as Exclude<FailureKind, PausingFailureKind>[];

const PERIOD = Duration.minutes(5);
const UNIT: Record<MetricUnitName, Unit> = { Count: Unit.COUNT, Milliseconds: Unit.MILLISECONDS, None: Unit.NONE };

export class Operations extends Construct {
  readonly topic: Topic;
  /** The alarm topic's customer managed key (standard profile; the small one has none). */
  readonly topicKey: Key | undefined;
  /** The flow dashboard (standard profile; the small one has none). */
  readonly dashboard: Dashboard | undefined;
  readonly alarms: Alarm[] = [];
  readonly profile: DeploymentProfile;
  private readonly stage: string;
  private readonly deadLetterWidgets: IMetric[] = [];
  private readonly queueAgeWidgets: IMetric[] = [];
  /** Small profile: the dead-letter queues, folded into one alarm by {@link addQueueOverview}. */
  private readonly deadLetterQueues: { name: string; metric: Metric }[] = [];

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id);
    this.stage = props.stage;
    this.profile = props.profile ?? 'standard';
    const full = this.profile === 'standard';

    // A customer managed key: CloudWatch alarms and AWS Budgets can only publish to an encrypted
    // topic if the key policy lets them use the key (the AWS managed aws/sns key cannot).
    if (full) {
      const topicKey = new Key(this, 'TopicKey', {
        description: `Encrypts the scrm-${props.stage} alarm topic`,
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.DESTROY,
        pendingWindow: Duration.days(7),
      });
      for (const service of ['cloudwatch.amazonaws.com', 'budgets.amazonaws.com']) {
        topicKey.addToResourcePolicy(
          new PolicyStatement({
            sid: `Allow${service.split('.')[0]}ToPublishToTheAlarmTopic`,
            principals: [new ServicePrincipal(service)],
            actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            resources: ['*'],
            conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
          }),
        );
      }
      this.topicKey = topicKey;
    }

    this.topic = new Topic(this, 'AlarmTopic', {
      topicName: `scrm-${props.stage}-alarms`,
      displayName: `WhatsApp SCRM ${props.stage} alarms`,
      ...(this.topicKey && { masterKey: this.topicKey }),
      enforceSSL: true,
    });
    if (!this.topicKey) {
      acknowledge(
        this.topic,
        'AwsSolutions-SNS2',
        'Small profile (OP-6): CloudWatch alarms and AWS Budgets can publish to an encrypted topic only through a customer managed key ($1 a month, the largest idle cost of a small deployment); the AWS managed aws/sns key does not let them. The topic carries alarm state changes and budget notices, never customer data, and refuses requests without TLS.',
      );
    }
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowBudgetsToPublish',
        principals: [new ServicePrincipal('budgets.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:budgets::${Aws.ACCOUNT_ID}:*` },
        },
      }),
    );

    if (props.alarmEmail) {
      // Notifications SNS could not deliver (bounces, unconfirmed address) are kept here.
      const undelivered = new Queue(this, 'UndeliveredNotifications', {
        queueName: `scrm-${props.stage}-undelivered-alarms`,
        retentionPeriod: Duration.days(14),
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
      acknowledgeIsDeadLetterQueue(undelivered);
      new Subscription(this, 'AlarmEmail', {
        topic: this.topic,
        protocol: SubscriptionProtocol.EMAIL,
        endpoint: props.alarmEmail,
        deadLetterQueue: undelivered,
      });
      // Small profile: a bounced alarm e-mail has no one to tell (the alarm would go to the same address).
      if (full) this.alarmOnDeadLetters('undelivered-alarms', undelivered);
    }

    if (!full) return;
    this.dashboard = new Dashboard(this, 'Dashboard', { dashboardName: `scrm-${props.stage}-flow` });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: `# WhatsApp SCRM (${props.stage})\nMeta → webhook API → webhook function → sync / media queues → sync / media functions → CRM / S3. Outbound: /api → api function → send queue → send function → Meta. Automation: event bus and timers → automation queue → automation function → send queue. Night jobs: batch-export and reports. Every alarm: docs/deploy.md, "Operations".`,
        width: 24,
        height: 2,
      }),
    );
  }

  /** True in the standard profile: every alarm and the dashboard. */
  private get full(): boolean {
    return this.profile === 'standard';
  }

  private addWidgets(...widgets: IWidget[]): void {
    this.dashboard?.addWidgets(...widgets);
  }

  private alarm(name: string, props: { metric: IMetric; threshold: number; description: string; evaluationPeriods?: number; datapointsToAlarm?: number; operator?: ComparisonOperator }): Alarm {
    const alarm = new Alarm(this, pascal(name), {
      alarmName: `scrm-${this.stage}-${name}`,
      alarmDescription: `${props.description} Runbook: docs/deploy.md#operations`,
      metric: props.metric,
      threshold: props.threshold,
      evaluationPeriods: props.evaluationPeriods ?? 1,
      ...(props.datapointsToAlarm !== undefined && { datapointsToAlarm: props.datapointsToAlarm }),
      comparisonOperator: props.operator ?? ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    alarm.addOkAction(new SnsAction(this.topic));
    this.alarms.push(alarm);
    return alarm;
  }

  /** Messages in a dead-letter queue (> 0): work that will not happen without a human. */
  alarmOnDeadLetters(name: string, queue: IQueue): Alarm | undefined {
    const metric = queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum' });
    if (!this.full) {
      // Folded with the others into one alarm (addQueueOverview).
      this.deadLetterQueues.push({ name, metric });
      return undefined;
    }
    this.deadLetterWidgets.push(metric.with({ label: name }));
    return this.alarm(`${name}-not-empty`, {
      metric,
      threshold: ALARM_THRESHOLDS.deadLetters,
      operator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      description: `The dead-letter queue ${name} holds messages.`,
    });
  }

  /** The oldest job waited longer than it can while the consumer is healthy. */
  alarmOnQueueAge(name: string, queue: IQueue, maxAge: Duration): Alarm | undefined {
    if (!this.full) return undefined;
    const metric = queue.metricApproximateAgeOfOldestMessage({ period: PERIOD, statistic: 'Maximum' });
    this.queueAgeWidgets.push(metric.with({ label: name }));
    return this.alarm(`${name}-oldest-job-age`, {
      metric,
      threshold: maxAge.toSeconds(),
      description: `The oldest job in the ${name} queue is older than ${maxAge.toSeconds()} s: its consumer is failing, throttled or stopped.`,
    });
  }

  /** Errors and throttles of one function, plus its row on the dashboard. */
  watchFunction(fn: AppFunction): void {
    if (!this.full) return;
    const lambda = fn.function;
    const errors = lambda.metricErrors({ period: PERIOD, statistic: 'Sum' });
    const throttles = lambda.metricThrottles({ period: PERIOD, statistic: 'Sum' });
    this.alarm(`${fn.name}-errors`, {
      metric: errors,
      threshold: ALARM_THRESHOLDS.functionErrors,
      description: `The ${fn.name} function failed at least once in 5 minutes.`,
    });
    this.alarm(`${fn.name}-throttles`, {
      metric: throttles,
      threshold: ALARM_THRESHOLDS.functionThrottles,
      description: `The ${fn.name} function was throttled (account or reserved concurrency exhausted).`,
    });
    this.addWidgets(
      new GraphWidget({
        title: `${fn.name}: invocations, errors, throttles`,
        left: [lambda.metricInvocations({ period: PERIOD, statistic: 'Sum' }), errors, throttles],
        width: 12,
      }),
      new GraphWidget({
        title: `${fn.name}: duration p50 / p99 (ms)`,
        left: [lambda.metricDuration({ period: PERIOD, statistic: 'p50' }), lambda.metricDuration({ period: PERIOD, statistic: 'p99' })],
        width: 12,
      }),
    );
  }

  /** 5xx answers and p99 latency of the webhook API. */
  watchApi(api: HttpApi): void {
    const serverErrors = api.metricServerError({ period: PERIOD, statistic: 'Sum' });
    const latencyP99 = api.metricLatency({ period: PERIOD, statistic: 'p99' });
    this.alarm('webhook-api-5xx', {
      metric: serverErrors,
      threshold: ALARM_THRESHOLDS.api5xx,
      description: 'The HTTP API answered with 5xx: on /webhook Meta retries and the messages are not stored yet; on /api the caller retries with the same Idempotency-Key.',
    });
    if (!this.full) return;
    this.alarm('webhook-api-p99-latency', {
      metric: latencyP99,
      threshold: ALARM_THRESHOLDS.apiP99LatencyMs,
      evaluationPeriods: 3,
      description: `The webhook API p99 latency is above ${ALARM_THRESHOLDS.apiP99LatencyMs} ms for 15 minutes.`,
    });
    this.addWidgets(
      new GraphWidget({
        title: 'Webhook API: requests, 4xx, 5xx',
        left: [api.metricCount({ period: PERIOD, statistic: 'Sum' }), api.metricClientError({ period: PERIOD, statistic: 'Sum' }), serverErrors],
        width: 12,
      }),
      new GraphWidget({
        title: 'Webhook API: latency p50 / p99 (ms)',
        left: [api.metricLatency({ period: PERIOD, statistic: 'p50' }), latencyP99],
        width: 12,
      }),
    );
  }

  /**
   * A business metric the functions emit (shared/metric-names.ts: embedded metric format through
   * Powertools Metrics), with the dimensions Powertools gives it: the emitting function as
   * `service` and the stage. The alarms and the dashboard read exactly these.
   */
  businessMetric(key: MetricKey, props: { statistic?: string; period?: Duration; dimensions?: Record<string, string> } = {}): Metric {
    const definition = METRICS[key];
    return new Metric({
      namespace: METRIC_NAMESPACE,
      metricName: definition.name,
      dimensionsMap: { service: definition.emittedBy, stage: this.stage, ...props.dimensions },
      period: props.period ?? PERIOD,
      statistic: props.statistic ?? 'Sum',
      unit: UNIT[definition.unit],
    });
  }

  /**
   * The message flow: messages stored, repeated deliveries and events kept raw (webhook),
   * messages synced, failed sync attempts, jobs parked, sync latency and CRM calls per message
   * (sync); an alarm when fewer than 99 % of the sync attempts of an hour succeed (SY-7) and one
   * when a webhook event had to be kept raw.
   */
  watchMessageFlow(): void {
    if (!this.full) return;
    const stored = this.businessMetric('messagesStored');
    const duplicates = this.businessMetric('duplicateDeliveries');
    const unprocessable = this.businessMetric('unprocessableEvents');
    const synced = this.businessMetric('messagesSynced');
    const failed = this.businessMetric('syncAttemptsFailed');
    const parked = this.businessMetric('syncJobsParked');
    const latency = this.businessMetric('syncLatency');
    const calls = this.businessMetric('crmCallsPerMessage', { statistic: 'Average' });

    const hour = Duration.hours(1);
    const successPercent = new MathExpression({
      expression: 'IF(synced + failed > 0, 100 * synced / (synced + failed), 100)',
      usingMetrics: { synced: synced.with({ period: hour }), failed: failed.with({ period: hour }) },
      period: hour,
      label: 'sync success %',
    });
    this.alarm('sync-success-below-target', {
      metric: successPercent,
      threshold: ALARM_THRESHOLDS.syncSuccessPercent,
      operator: ComparisonOperator.LESS_THAN_THRESHOLD,
      description: `Fewer than ${ALARM_THRESHOLDS.syncSuccessPercent} % of the CRM sync attempts of the last hour succeeded.`,
    });
    this.alarm('webhook-unprocessable-events', {
      metric: unprocessable,
      threshold: ALARM_THRESHOLDS.unprocessableEvents,
      description: 'A webhook event could not be stored as such and was kept raw (no customer identity, a key or an item over the limits): look at it in the raw events.',
    });
    this.addWidgets(
      new GraphWidget({ title: 'Messages: stored, repeated deliveries, kept raw, synced, failed sync attempts, parked', left: [stored, duplicates, unprocessable, synced, failed, parked], width: 12 }),
      new GraphWidget({
        title: 'CRM sync: latency from arrival p50 / p95 (ms), calls per message',
        left: [latency.with({ statistic: 'p50' }), latency.with({ statistic: 'p95' })],
        right: [calls],
        width: 12,
      }),
    );
  }

  /**
   * Expiring credentials (OP-5): an alarm on any 401/403 the CRM answers (the token is wrong,
   * expired or revoked) and one per token older than 25 days (the daily credential check
   * measures it from the rotation date kept in the secret).
   */
  watchCredentials(crmKind: string): void {
    if (!this.full) return;
    const authFailures = this.businessMetric('crmAuthFailures', { dimensions: { crm: crmKind } });
    this.alarm('crm-auth-failures', {
      metric: authFailures,
      threshold: ALARM_THRESHOLDS.crmAuthFailures,
      description: `The CRM (${crmKind}) refused the access token even after reading the secret again: rotate the token in the CRM and put it into the secret.`,
    });
    const ages = (['hubspot', 'whatsapp'] as const).map((credential) => {
      const age = this.businessMetric('credentialAgeDays', { statistic: 'Maximum', period: Duration.days(1), dimensions: { credential } });
      this.alarm(`${credential}-token-older-than-${ALARM_THRESHOLDS.credentialMaxAgeDays}-days`, {
        metric: age,
        threshold: ALARM_THRESHOLDS.credentialMaxAgeDays,
        operator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        description: `The ${credential} access token was last rotated more than ${ALARM_THRESHOLDS.credentialMaxAgeDays} days ago (OP-5: at least every 30 days). Rotate it, then write the new token and <KEY>_ROTATED_AT into the secret.`,
      });
      return age.with({ label: credential });
    });
    this.addWidgets(
      new GraphWidget({ title: 'Credentials: CRM auth failures', left: [authFailures], width: 12 }),
      new GraphWidget({ title: 'Credentials: days since the last rotation', left: ages, width: 12 }),
    );
  }

  /**
   * CRM health (SY-5, SY-7, SY-9, SY-2): the CRM's daily API budget above 80 %, rate-limit
   * answers, a generic webhook gone (410), the daily reconciliation below 99 %, the night batch's
   * success below 95 %, and the weekly mapping check above 2 %.
   */
  watchCrmHealth(crmKind: string): void {
    if (!this.full) return;
    const day = Duration.days(1);
    const crm = { crm: crmKind };
    const usage = this.businessMetric('crmApiUsage', { statistic: 'Maximum', period: Duration.minutes(15), dimensions: crm });
    this.alarm('crm-api-usage-above-80-percent', {
      metric: usage,
      threshold: ALARM_THRESHOLDS.crmApiUsagePercent,
      operator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      description: `The CRM (${crmKind}) reports more than ${ALARM_THRESHOLDS.crmApiUsagePercent} % of its daily API budget used; the bulk sync has slowed to half pace. Raise the CRM's limit or move work to the night.`,
    });
    const limited = this.businessMetric('crmRateLimited', { period: Duration.minutes(15), dimensions: crm });
    this.alarm('crm-rate-limited', {
      metric: limited,
      threshold: ALARM_THRESHOLDS.crmRateLimited,
      description: `The CRM (${crmKind}) answered ${ALARM_THRESHOLDS.crmRateLimited} or more rate-limit errors in 15 minutes: the sync waits them out, but the configured limit (CRM_RATE_LIMIT) is above the account's.`,
    });
    if (crmKind === 'webhook') {
      this.alarm('crm-webhook-gone', {
        metric: this.businessMetric('crmWebhookGone'),
        threshold: ALARM_THRESHOLDS.crmWebhookGone,
        description: 'The CRM webhook answered 410 Gone: the Zap / scenario behind CRM_WEBHOOK_URL was switched off or deleted. Jobs are parked in the sync DLQ; fix the URL and redrive.',
      });
    }
    const accuracy = this.businessMetric('reconciliationAccuracy', { statistic: 'Minimum', period: day, dimensions: crm });
    this.alarm('reconciliation-below-99-percent', {
      metric: accuracy,
      threshold: ALARM_THRESHOLDS.reconciliationAccuracyPercent,
      operator: ComparisonOperator.LESS_THAN_THRESHOLD,
      description: `Fewer than ${ALARM_THRESHOLDS.reconciliationAccuracyPercent} % of the fields of the daily sample of 100 synced contacts equal the CRM's (SY-7): read the sample in exports/reconciliation/.`,
    });
    const written = this.businessMetric('batchContactsWritten', { period: day });
    const failed = this.businessMetric('batchContactsFailed', { period: day });
    const batchSuccess = new MathExpression({
      expression: 'IF(written + failed > 0, 100 * written / (written + failed), 100)',
      usingMetrics: { written, failed },
      period: day,
      label: 'night batch success %',
    });
    this.alarm('batch-sync-success-below-95-percent', {
      metric: batchSuccess,
      threshold: ALARM_THRESHOLDS.batchSuccessPercent,
      operator: ComparisonOperator.LESS_THAN_THRESHOLD,
      description: `Fewer than ${ALARM_THRESHOLDS.batchSuccessPercent} % of the night batch's contact updates succeeded (SY-7); the failed ones are retried by the next run.`,
    });
    const mapping = this.businessMetric('mappingErrorRate', { statistic: 'Maximum', period: day, dimensions: crm });
    this.alarm('mapping-errors-above-2-percent', {
      metric: mapping,
      threshold: ALARM_THRESHOLDS.mappingErrorPercent,
      operator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      description: `More than ${ALARM_THRESHOLDS.mappingErrorPercent} % of the week's synced records had a mapped field fail or fall back to its default (SY-9): read exports/mapping-check/ and config/crm/${crmKind}.json.`,
    });
    // Two-way sync (SY-3): conflicts for review, deliveries refused.
    const conflicts = this.businessMetric('crmConflicts', { period: day, dimensions: crm });
    this.alarm('crm-conflicts-above-200-a-day', {
      metric: conflicts,
      threshold: ALARM_THRESHOLDS.crmConflictsPerDay,
      operator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      description: `More than ${ALARM_THRESHOLDS.crmConflictsPerDay} CRM-vs-WhatsApp conflicts in a day (50–100 is normal, ID-5): a CRM workflow and ours may be writing the same field in turn. Review GET /api/conflicts?date=…`,
    });
    const refused = this.businessMetric('crmEventsRefused', { period: Duration.minutes(15), dimensions: { crm: crmKind } });
    this.alarm('crm-deliveries-refused', {
      metric: refused,
      threshold: ALARM_THRESHOLDS.crmEventsRefused,
      description: `${ALARM_THRESHOLDS.crmEventsRefused} or more CRM deliveries refused in 15 minutes: a wrong or rotated HUBSPOT_CLIENT_SECRET / ZOHO_CHANNEL_TOKEN, a clock off by minutes, or someone forging requests to /crm-events.`,
    });
    this.addWidgets(
      new GraphWidget({ title: 'CRM: API budget used % (max), rate-limit answers', left: [usage], right: [limited], width: 12 }),
      new GraphWidget({ title: 'CRM two-way: conflicts a day, deliveries refused', left: [conflicts], right: [refused], width: 12 }),
      new GraphWidget({ title: 'CRM: reconciliation %, night batch success %, mapping errors %', left: [accuracy, batchSuccess], right: [mapping], width: 12 }),
    );
  }

  /**
   * A business metric emitted with its own dimension (METRIC_DIMENSIONS), summed over every value
   * of it: a Metrics Insights query, so a new number, reason or rule is counted without a deploy.
   */
  businessMetricAcross(key: keyof typeof METRIC_DIMENSIONS, props: { period?: Duration; label?: string; aggregate?: 'SUM' | 'AVG' | 'MAX' } = {}): MathExpression {
    const definition = METRICS[key];
    return new MathExpression({
      expression:
        `SELECT ${props.aggregate ?? 'SUM'}(${definition.name}) FROM SCHEMA("${METRIC_NAMESPACE}", ${METRIC_DIMENSIONS[key]}, service, stage) ` +
        `WHERE service = '${definition.emittedBy}' AND stage = '${this.stage}'`,
      usingMetrics: {},
      period: props.period ?? PERIOD,
      label: props.label ?? definition.name,
    });
  }

  /**
   * The outbound side (AU-7, OP-2, OP-5): the send failure rate of 15 minutes (above 3 % of at
   * least 50 calls to Meta), sends whose outcome is unknown, refused WhatsApp tokens, numbers
   * Meta stopped, slow number health checks and switches to a backup number; and their dashboard.
   */
  watchOutbound(): void {
    if (!this.full) return;
    const quarter = Duration.minutes(15);
    const sent = this.businessMetric('messagesSent');
    const attempts = this.businessMetric('sendAttempts');
    const unknown = this.businessMetric('sendOutcomeUnknown');
    const authFailures = this.businessMetric('whatsappAuthFailures');
    const failuresOf = (period: Duration) =>
      new MathExpression({
        expression: `SUM([${SEND_FAILURE_KINDS.map(variable).join(', ')}])`,
        usingMetrics: Object.fromEntries(SEND_FAILURE_KINDS.map((kind) => [variable(kind), this.businessMetric('sendFailures', { period, dimensions: { [METRIC_DIMENSIONS.sendFailures]: kind } })])),
        period,
        label: 'failed for good',
      });

    const { sendFailurePercent: percent, sendFailureMinAttempts: minAttempts } = ALARM_THRESHOLDS;
    const failureRate = new MathExpression({
      expression: `IF(attempts >= ${minAttempts}, 100 * FILL(failures, 0) / attempts, 0)`,
      usingMetrics: { attempts: attempts.with({ period: quarter }), failures: failuresOf(quarter) },
      period: quarter,
      label: 'send failure % (15 min)',
    });
    this.alarm('send-failure-rate', {
      metric: failureRate,
      threshold: percent,
      operator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      description: `More than ${percent} % of the calls to Meta's send API of the last 15 minutes ended a message as failed (SendFailures / SendAttempts, from ${minAttempts} attempts): Meta's code and title are on each outbound row.`,
    });
    this.alarm('send-outcome-unknown', {
      metric: unknown,
      threshold: ALARM_THRESHOLDS.sendOutcomeUnknown,
      description: 'An outbound message got no answer from Meta and no status webhook within the settle time: it is marked unknown and not sent again. Look at it before sending anything again.',
    });
    this.alarm('whatsapp-auth-failures', {
      metric: authFailures,
      threshold: ALARM_THRESHOLDS.whatsappAuthFailures,
      description: 'Meta refused the WhatsApp access token (code 190) even after the secret was read again: put a new system-user token into the secret (OP-5).',
    });
    const stopped = this.businessMetricAcross('accountStopped', { label: 'numbers stopped' });
    this.alarm('whatsapp-account-stopped', {
      metric: stopped,
      threshold: ALARM_THRESHOLDS.accountStopped,
      description: 'Meta stopped a business number (131042 payment, 368 policy block, 131031 locked; sending waits 6 h) or hit its spam limit (131048; it slows down 15 min).',
    });
    const hour = Duration.hours(1);
    const switched = this.businessMetricAcross('numberSwitched', { period: hour, label: 'switched to the backup' });
    this.alarm('whatsapp-number-switched', {
      metric: switched,
      threshold: ALARM_THRESHOLDS.numberSwitched,
      description: 'An account switched to its backup number after three slow or failed health checks in a row (OP-2); it switches back after a fast check.',
    });
    const slow = this.businessMetricAcross('numberSlow', { period: Duration.hours(3), label: 'slow health checks (3 h)' });
    this.alarm('whatsapp-number-health-slow', {
      metric: slow,
      threshold: ALARM_THRESHOLDS.numberSlowChecks,
      description: `At least ${ALARM_THRESHOLDS.numberSlowChecks} hourly health checks of the business numbers in 3 hours took longer than 1.5 s or failed (OP-2: normal < 800 ms).`,
    });

    this.addWidgets(
      new GraphWidget({
        title: 'Outbound: sent, calls to Meta, failed for good, outcome unknown, token refused',
        left: [sent, attempts, failuresOf(PERIOD), unknown, authFailures],
        width: 12,
      }),
      new GraphWidget({ title: `Outbound: failure rate (% of 15 minutes' calls, from ${minAttempts})`, left: [failureRate], leftAnnotations: [{ value: percent, label: `${percent} %` }], width: 12 }),
    );
    // One Metrics Insights query per widget (CloudWatch reads one per request).
    this.addWidgets(
      new GraphWidget({ title: 'Outbound: refused by the policy', left: [this.businessMetricAcross('messagesDenied', { label: 'denied' })], width: 6 }),
      new GraphWidget({ title: 'Numbers: stopped by Meta', left: [this.businessMetricAcross('accountStopped', { label: 'stopped' })], width: 6 }),
      new GraphWidget({ title: 'Numbers: slow health checks', left: [this.businessMetricAcross('numberSlow', { period: hour, label: 'slow' })], width: 6 }),
      new GraphWidget({ title: 'Numbers: switched to the backup', left: [this.businessMetricAcross('numberSwitched', { period: hour, label: 'switched' })], width: 6 }),
    );
  }

  /**
   * The automation (AU-*, AG-1): an alarm when more than 15 % of a day's conversations (from 20)
   * asked for a person (AU-6: a flow is broken), and the automation's dashboard row: conversations,
   * hand-overs, automated messages, actions skipped, addresses completed, satisfaction and the
   * agents' response time.
   */
  watchAutomation(): void {
    if (!this.full) return;
    const day = Duration.days(1);
    const started = this.businessMetric('conversationsStarted');
    const handovers = this.businessMetric('handoverRequests');
    const { handoverRate: rate, handoverMinConversations: minConversations } = ALARM_THRESHOLDS;
    const percent = Math.round(rate * 100);
    const handoverRateOf = (period: Duration) =>
      new MathExpression({
        expression: `IF(started >= ${minConversations}, FILL(handovers, 0) / started, 0)`,
        usingMetrics: { started: started.with({ period }), handovers: handovers.with({ period }) },
        period,
        label: `hand-over rate (from ${minConversations} conversations)`,
      });
    this.alarm('automation-handover-rate', {
      metric: handoverRateOf(day),
      threshold: rate,
      operator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      description: `More than ${percent} % of the last day's conversations asked for a person (HandoverRequests / ConversationsStarted, from ${minConversations} conversations): an automated flow is likely broken (AU-6).`,
    });
    this.addWidgets(
      new GraphWidget({
        title: 'Automation: conversations started, hand-overs, actions skipped, addresses completed',
        left: [started, handovers, this.businessMetric('automationSkipped'), this.businessMetric('addressesCompleted')],
        width: 12,
      }),
      new GraphWidget({
        title: `Automation: hand-over rate (1 day, from ${minConversations}), satisfaction (average)`,
        left: [handoverRateOf(day)],
        leftAnnotations: [{ value: rate, label: `${percent} %` }],
        right: [this.businessMetric('satisfactionRating', { statistic: 'Average', period: day })],
        width: 6,
      }),
      new GraphWidget({
        title: "Automation: the order-status reply's CRM lookup p50 / p90 (ms)",
        left: [this.businessMetric('orderLookupTime', { statistic: 'p50' }), this.businessMetric('orderLookupTime', { statistic: 'p90' })],
        width: 6,
      }),
    );
    // One Metrics Insights query per widget (CloudWatch reads one per request).
    this.addWidgets(
      new GraphWidget({ title: 'Automation: messages queued by the rules (every rule)', left: [this.businessMetricAcross('automatedMessages', { label: 'automated messages' })], width: 12 }),
      new GraphWidget({ title: 'Agents: response time, average over every agent (ms)', left: [this.businessMetricAcross('agentResponseTime', { aggregate: 'AVG', label: 'agent response (average)' })], width: 12 }),
    );
  }

  /** Media kept and lost (MD-1), and the storage's growth against the planned capacity (ST-3). */
  watchMediaAndStorage(capacityGb: number): void {
    if (!this.full) return;
    const day = Duration.days(1);
    const growth = this.businessMetric('storageMonthlyGrowth', { statistic: 'Maximum', period: day });
    this.alarm('storage-growth-above-5-percent-a-month', {
      metric: growth,
      threshold: ALARM_THRESHOLDS.storageMonthlyGrowthPercent,
      operator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      description: `The last 30 days added more than ${ALARM_THRESHOLDS.storageMonthlyGrowthPercent} % of the planned ${capacityGb} GB (table + bucket, ST-3): media or history grows faster than planned. Check the media volume, the retention (SCRM_RETENTION_DAYS) and storageCapacityGb.`,
    });
    const failed = this.businessMetric('mediaFailed', { period: Duration.hours(1) });
    this.alarm('media-failed', {
      metric: failed,
      threshold: ALARM_THRESHOLDS.mediaFailed,
      description: 'A customer\'s photo, voice note or document could not be kept (MD-1): the message row\'s media.reason says why; the job is in the media DLQ (npm run redrive after a fix). Meta keeps media 7 days.',
    });
    this.addWidgets(
      new GraphWidget({ title: 'Media: stored, flagged too large, failed, retried', left: [this.businessMetric('mediaStored'), this.businessMetric('mediaTooLarge'), failed, this.businessMetric('mediaRetried')], width: 12 }),
      new GraphWidget({ title: 'Storage: bytes (table + bucket), 30-day growth % of capacity', left: [this.businessMetric('storageBytes', { statistic: 'Maximum', period: day })], right: [growth], width: 12 }),
    );
  }

  /**
   * RP-7: the complaint rate the daily report publishes (a fraction 0..1, once a day) above 5 %
   * three days in a row. In both profiles.
   */
  watchReports(): void {
    const day = Duration.days(1);
    const { complaintRate: rate, complaintDays: days } = ALARM_THRESHOLDS;
    const complaints = this.businessMetric('complaintRate', { statistic: 'Maximum', period: day });
    this.alarm(`complaint-rate-above-${Math.round(rate * 100)}-percent-${days}-days`, {
      metric: complaints,
      threshold: rate,
      evaluationPeriods: days,
      datapointsToAlarm: days,
      operator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      description: `More than ${Math.round(rate * 100)} % of the customer messages were complaints ${days} days in a row (RP-7, the daily report's ComplaintRate): read the complaints section of the latest daily report (reports/latest/).`,
    });
    this.addWidgets(new GraphWidget({ title: 'Reports: complaint rate a day (fraction)', left: [complaints], leftAnnotations: [{ value: rate, label: `${Math.round(rate * 100)} %` }], width: 12 }));
  }

  /** Standard profile: a text widget linking to the latest reports (reports/latest/ of the data bucket in the S3 console). */
  linkReports(bucketName: string, prefix: string): void {
    const region = Stack.of(this).region;
    this.addWidgets(
      new TextWidget({
        markdown: `## Reports\nThe latest daily and weekly reports (HTML, CSV, JSON): [${prefix} in the S3 console](https://s3.console.aws.amazon.com/s3/buckets/${bucketName}?region=${region}&prefix=${prefix}&showversions=false). Each report is also announced on the reports topic.`,
        width: 12,
        height: 2,
      }),
    );
  }

  /**
   * Small profile: failed or throttled invocations of any function (Lambda's account-level
   * metrics, one each instead of two per function: a small business's account runs this stack).
   */
  watchFunctionsTogether(): void {
    if (this.full) return;
    for (const [name, metricName, what] of [
      ['function-errors', 'Errors', 'failed'],
      ['function-throttles', 'Throttles', 'was throttled'],
    ] as const) {
      this.alarm(name, {
        metric: new Metric({ namespace: 'AWS/Lambda', metricName, period: PERIOD, statistic: 'Sum' }),
        threshold: ALARM_THRESHOLDS.functionErrors,
        description: `A function of this account ${what} at least once in 5 minutes (small profile: one alarm for every function; the function's own Errors / Throttles metrics say which).`,
      });
    }
  }

  /** Adds the queue and DLQ overview (small profile: the one dead-letter alarm); call once, after everything is watched. */
  addQueueOverview(): void {
    if (!this.full) {
      this.foldDeadLetters();
      return;
    }
    const widgets: IWidget[] = [];
    if (this.queueAgeWidgets.length > 0) {
      widgets.push(new GraphWidget({ title: 'Queues: age of oldest job (s)', left: this.queueAgeWidgets, width: 12 }));
    }
    if (this.deadLetterWidgets.length > 0) {
      widgets.push(new SingleValueWidget({ title: 'Dead-letter queues: messages', metrics: this.deadLetterWidgets, width: 12, height: 6 }));
    }
    if (widgets.length > 0) this.addWidgets(...widgets);
  }

  /** Small profile: every dead-letter queue in one alarm (10 queues per alarm, metric math's limit). */
  private foldDeadLetters(): void {
    for (let start = 0; start < this.deadLetterQueues.length; start += MAX_METRICS_PER_EXPRESSION) {
      const part = this.deadLetterQueues.slice(start, start + MAX_METRICS_PER_EXPRESSION);
      const usingMetrics = Object.fromEntries(part.map((q, i) => [`q${i}`, q.metric]));
      const suffix = start === 0 ? '' : `-${start / MAX_METRICS_PER_EXPRESSION + 1}`;
      this.alarm(`dead-letters-not-empty${suffix}`, {
        metric: new MathExpression({ expression: `MAX([${Object.keys(usingMetrics).join(', ')}])`, usingMetrics, period: PERIOD, label: 'messages in the fullest dead-letter queue' }),
        threshold: ALARM_THRESHOLDS.deadLetters,
        operator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        description: `A dead-letter queue holds messages (small profile: one alarm for ${part.map((q) => q.name).join(', ')}); the SQS console's ApproximateNumberOfMessagesVisible says which.`,
      });
    }
  }
}

/** A metric math variable for a failure kind: a lowercase letter first, letters and digits only. */
function variable(kind: string): string {
  return `f${pascal(kind.replaceAll('_', '-'))}`;
}

function pascal(name: string): string {
  return name.replace(/(^|-)([a-z0-9])/g, (_m, _dash: string, c: string) => c.toUpperCase());
}
