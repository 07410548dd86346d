/**
 * Where Meta's webhooks come in: an HTTP API with GET /webhook (subscription verification) and
 * POST /webhook (events), both to the webhook function. Stage throttling protects the function
 * and the table from retry storms; JSON access logs go to their own log group. The SCRM API
 * (Outbound) adds its routes to the same HTTP API.
 *
 * IN-7: for WhatsApp accounts linked to AWS End User Messaging Social, AWS publishes Meta's
 * webhooks to an SNS topic; with `socialMessagingTopicArn` the webhook function subscribes to it.
 * SNS invokes it asynchronously: what SNS cannot deliver, and what the function still fails after
 * Lambda's 2 retries, is kept in one dead-letter queue (alarmed), so no event is dropped.
 */
import { CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { LambdaSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge } from '../compliance.ts';
import { AppFunction } from './app-function.ts';
import type { FunctionDefaults } from './crm-sync.ts';
import { type JobQueue, acknowledgeIsDeadLetterQueue } from './job-queue.ts';
import type { AppSecrets } from './secrets.ts';
import type { ConversationStorage } from './storage.ts';

/** The path Meta calls; the full URL is the stack output `WebhookUrl`. */
export const WEBHOOK_PATH = '/webhook';

/**
 * OP-7 plans for 1,000+ messages an hour at peak (≈ 0.3 requests/s); Meta batches and retries.
 * 50 requests/s with a burst of 100 is two orders of magnitude of headroom while capping what a
 * flood (or a misbehaving retry loop) can cost.
 */
export const WEBHOOK_THROTTLE = { rateLimit: 50, burstLimit: 100 } as const;

export interface WebhookIngestProps {
  readonly defaults: FunctionDefaults;
  readonly storage: ConversationStorage;
  readonly secrets: AppSecrets;
  readonly syncJobs: JobQueue;
  readonly mediaJobs: JobQueue;
  /** IN-7: the End User Messaging Social topic of the linked accounts' webhooks. */
  readonly socialMessagingTopicArn?: string | undefined;
}

export class WebhookIngest extends Construct {
  readonly api: HttpApi;
  readonly apiStage: HttpStage;
  readonly accessLogs: LogGroup;
  readonly webhookUrl: string;
  readonly webhookFunction: AppFunction;
  /** IN-7: SNS events not delivered to the webhook function, or failed there after Lambda's retries. */
  readonly socialMessagingDeadLetters: Queue | undefined;

  constructor(scope: Construct, id: string, props: WebhookIngestProps) {
    super(scope, id);
    const { defaults, storage, secrets, syncJobs, mediaJobs } = props;

    this.webhookFunction = new AppFunction(this, 'Webhook', {
      ...defaults,
      name: 'webhook',
      description: 'Verifies, parses, classifies and stores Meta webhooks, then queues their jobs',
      // Classification is pure CPU; more memory buys CPU and a shorter answer to Meta.
      memoryMb: 512,
      // Meta expects a quick 200; the HTTP API integration limit is 30 s.
      timeout: Duration.seconds(10),
      invocation: 'api',
    });
    storage.allowTableReadWrite(this.webhookFunction);
    // A payload too large for a table item is kept whole under raw/ (nothing accepted is lost).
    storage.allowObjectWrite(this.webhookFunction, 'raw');
    secrets.allowRead(this.webhookFunction);
    syncJobs.queue.grantSendMessages(this.webhookFunction.role);
    mediaJobs.queue.grantSendMessages(this.webhookFunction.role);

    this.api = new HttpApi(this, 'Api', {
      apiName: `scrm-${defaults.stage}-webhook`,
      description: 'Meta WhatsApp Cloud API webhook',
      createDefaultStage: false,
    });

    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      logGroupName: `/aws/apigateway/scrm-${defaults.stage}-webhook`,
      retention: defaults.logRetentionDays as RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.apiStage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: WEBHOOK_THROTTLE,
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        // Structured (JSON); no query string: the GET verification carries the verify token in it.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTime',
            routeKey: '$context.routeKey',
            status: '$context.status',
            responseLength: '$context.responseLength',
            responseLatency: '$context.responseLatency',
            integrationLatency: '$context.integrationLatency',
            integrationStatus: '$context.integrationStatus',
            integrationError: '$context.integrationErrorMessage',
            error: '$context.error.message',
            userAgent: '$context.identity.userAgent',
          }),
        ),
      },
    });

    this.api.addRoutes({
      path: WEBHOOK_PATH,
      methods: [HttpMethod.GET, HttpMethod.POST],
      integration: new HttpLambdaIntegration('Webhook', this.webhookFunction.function),
    });

    this.socialMessagingDeadLetters = props.socialMessagingTopicArn ? this.subscribeToSocialMessaging(props.socialMessagingTopicArn, defaults.stage) : undefined;

    // The $default stage is served at the API endpoint itself (no stage segment in the path).
    this.webhookUrl = `${this.api.apiEndpoint}${WEBHOOK_PATH}`;
    new CfnOutput(this, 'WebhookUrl', {
      key: 'WebhookUrl',
      value: this.webhookUrl,
      description: "Callback URL for Meta's app dashboard (WhatsApp > Configuration > Webhook)",
    });

    acknowledge(
      this,
      'AwsSolutions-APIG4',
      'Meta cannot send IAM, JWT or Lambda-authorizer credentials: POST is authenticated by the X-Hub-Signature-256 HMAC of the body with the app secret, GET by the verify token, both checked in the webhook function before anything is stored.',
    );
    acknowledge(
      this,
      'Serverless-APIGWXrayEnabled',
      'HTTP APIs (API Gateway v2) do not support X-Ray tracing; the webhook function itself is traced (Tracing.ACTIVE).',
    );
  }

  private subscribeToSocialMessaging(topicArn: string, stage: string): Queue {
    const deadLetters = new Queue(this, 'SocialMessagingDeadLetters', {
      queueName: `scrm-${stage}-social-messaging-dlq`,
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    acknowledgeIsDeadLetterQueue(deadLetters);
    const topic = Topic.fromTopicArn(this, 'SocialMessagingTopic', topicArn);
    topic.addSubscription(new LambdaSubscription(this.webhookFunction.function, { deadLetterQueue: deadLetters }));
    this.webhookFunction.sendFailedInvocationsTo(deadLetters);
    return deadLetters;
  }
}
