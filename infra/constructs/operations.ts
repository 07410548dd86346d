/**
 * Operations (OP-1): every alarm notifies one SNS topic (KMS-encrypted, TLS-only, optional e-mail
 * subscription), and one dashboard shows the whole flow: webhook API → functions → queues → DLQs.
 * The alarms are described for the on-call person in docs/deploy.md ("Operations").
 */
import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
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
import { FilterPattern, MetricFilter } from 'aws-cdk-lib/aws-logs';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Subscription, SubscriptionProtocol, Topic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { AppFunction } from './app-function.ts';
import { acknowledgeIsDeadLetterQueue } from './job-queue.ts';

export interface OperationsProps {
  readonly stage: string;
  readonly alarmEmail?: string | undefined;
}

/** Thresholds, named so the runbook and the tests can quote them. */
export const ALARM_THRESHOLDS = {
  /** Any message in a DLQ needs a human. */
  deadLetters: 0,
  /** Any failed invocation (errors) or rejected one (throttles) in 5 minutes. */
  functionErrors: 1,
  functionThrottles: 1,
  /** Any 5xx in 5 minutes: Meta is retrying and the message is not stored yet. */
  api5xx: 1,
  /** p99 of the API latency above this for 3 consecutive 5-minute periods. */
  apiP99LatencyMs: 2000,
  /** Share of CRM sync attempts that succeed in an hour, in percent (SY-7: ≥ 99 %). */
  syncSuccessPercent: 99,
} as const;

const PERIOD = Duration.minutes(5);

export class Operations extends Construct {
  readonly topic: Topic;
  readonly topicKey: Key;
  readonly dashboard: Dashboard;
  readonly alarms: Alarm[] = [];
  private readonly stage: string;
  private readonly deadLetterWidgets: IMetric[] = [];
  private readonly queueAgeWidgets: IMetric[] = [];

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id);
    this.stage = props.stage;

    // A customer managed key: CloudWatch alarms and AWS Budgets can only publish to an encrypted
    // topic if the key policy lets them use the key (the AWS managed aws/sns key cannot).
    this.topicKey = new Key(this, 'TopicKey', {
      description: `Encrypts the scrm-${props.stage} alarm topic`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    for (const service of ['cloudwatch.amazonaws.com', 'budgets.amazonaws.com']) {
      this.topicKey.addToResourcePolicy(
        new PolicyStatement({
          sid: `Allow${service.split('.')[0]}ToPublishToTheAlarmTopic`,
          principals: [new ServicePrincipal(service)],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
          conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
        }),
      );
    }

    this.topic = new Topic(this, 'AlarmTopic', {
      topicName: `scrm-${props.stage}-alarms`,
      displayName: `WhatsApp SCRM ${props.stage} alarms`,
      masterKey: this.topicKey,
      enforceSSL: true,
    });
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
      this.alarmOnDeadLetters('undelivered-alarms', undelivered);
    }

    this.dashboard = new Dashboard(this, 'Dashboard', { dashboardName: `scrm-${props.stage}-flow` });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: `# WhatsApp SCRM (${props.stage})\nMeta → webhook API → webhook function → sync / media queues → sync / media functions → CRM / S3. Night jobs: batch-export and reports. Every alarm: docs/deploy.md, "Operations".`,
        width: 24,
        height: 2,
      }),
    );
  }

  private alarm(name: string, props: { metric: IMetric; threshold: number; description: string; evaluationPeriods?: number; operator?: ComparisonOperator }): Alarm {
    const alarm = new Alarm(this, pascal(name), {
      alarmName: `scrm-${this.stage}-${name}`,
      alarmDescription: `${props.description} Runbook: docs/deploy.md#operations`,
      metric: props.metric,
      threshold: props.threshold,
      evaluationPeriods: props.evaluationPeriods ?? 1,
      comparisonOperator: props.operator ?? ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    alarm.addOkAction(new SnsAction(this.topic));
    this.alarms.push(alarm);
    return alarm;
  }

  /** Messages in a dead-letter queue (> 0): work that will not happen without a human. */
  alarmOnDeadLetters(name: string, queue: IQueue): Alarm {
    const metric = queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum' });
    this.deadLetterWidgets.push(metric.with({ label: name }));
    return this.alarm(`${name}-not-empty`, {
      metric,
      threshold: ALARM_THRESHOLDS.deadLetters,
      operator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      description: `The dead-letter queue ${name} holds messages.`,
    });
  }

  /** The oldest job waited longer than it can while the consumer is healthy. */
  alarmOnQueueAge(name: string, queue: IQueue, maxAge: Duration): Alarm {
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
    this.dashboard.addWidgets(
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
      description: 'The webhook API answered Meta with 5xx: messages are not being stored (Meta retries).',
    });
    this.alarm('webhook-api-p99-latency', {
      metric: latencyP99,
      threshold: ALARM_THRESHOLDS.apiP99LatencyMs,
      evaluationPeriods: 3,
      description: `The webhook API p99 latency is above ${ALARM_THRESHOLDS.apiP99LatencyMs} ms for 15 minutes.`,
    });
    this.dashboard.addWidgets(
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
   * The message flow from the functions' JSON logs, through metric filters (no code in the
   * functions, no bundle weight): messages stored and repeated deliveries (webhook), messages
   * synced, failed sync attempts, sync latency and CRM calls per message (sync), and an alarm when
   * fewer than 99 % of the sync attempts of an hour succeed (SY-7).
   */
  watchMessageFlow(webhook: AppFunction, sync: AppFunction): void {
    const namespace = `WhatsAppScrm/${this.stage}`;
    const filter = (fn: AppFunction, id: string, message: string, metricName: string, metricValue: string, unit = Unit.COUNT) => {
      new MetricFilter(this, id, {
        logGroup: fn.logGroup,
        metricNamespace: namespace,
        metricName,
        filterPattern: FilterPattern.stringValue('$.message', '=', message),
        metricValue,
        unit,
      });
      return new Metric({ namespace, metricName, period: PERIOD, statistic: 'Sum', unit });
    };
    const stored = filter(webhook, 'MessagesStoredFilter', 'delivery stored', 'MessagesStored', '$.messages');
    const duplicates = filter(webhook, 'DuplicatesFilter', 'delivery stored', 'DuplicateDeliveries', '$.duplicates');
    const synced = filter(sync, 'MessagesSyncedFilter', 'message synced', 'MessagesSynced', '1');
    const failed = filter(sync, 'SyncFailedFilter', 'CRM sync attempt failed', 'SyncAttemptsFailed', '1');
    const latency = filter(sync, 'SyncLatencyFilter', 'message synced', 'SyncLatency', '$.latencyMs', Unit.MILLISECONDS);
    const calls = filter(sync, 'CrmCallsFilter', 'message synced', 'CrmCallsPerMessage', '$.calls');

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
    this.dashboard.addWidgets(
      new GraphWidget({ title: 'Messages: stored, repeated deliveries, synced, failed sync attempts', left: [stored, duplicates, synced, failed], width: 12 }),
      new GraphWidget({
        title: 'CRM sync: latency from arrival p50 / p95 (ms), calls per message',
        left: [latency.with({ statistic: 'p50' }), latency.with({ statistic: 'p95' })],
        right: [calls.with({ statistic: 'Average' })],
        width: 12,
      }),
    );
  }

  /** Adds the queue and DLQ overview; call once, after everything is watched. */
  addQueueOverview(): void {
    const widgets: IWidget[] = [];
    if (this.queueAgeWidgets.length > 0) {
      widgets.push(new GraphWidget({ title: 'Queues: age of oldest job (s)', left: this.queueAgeWidgets, width: 12 }));
    }
    if (this.deadLetterWidgets.length > 0) {
      widgets.push(new SingleValueWidget({ title: 'Dead-letter queues: messages', metrics: this.deadLetterWidgets, width: 12, height: 6 }));
    }
    if (widgets.length > 0) this.dashboard.addWidgets(...widgets);
  }
}

function pascal(name: string): string {
  return name.replace(/(^|-)([a-z0-9])/g, (_m, _dash: string, c: string) => c.toUpperCase());
}
