/**
 * Where the reports go (RP-1 … RP-13): an SNS topic `scrm-<stage>-reports` that announces each
 * report (optional e-mail subscription), published to by the reports function alone; the report
 * links (`GET /reports/{name}`, HMAC-signed like the media links) on the HTTP API, served by the
 * api function, which may read `reports/` objects to presign them. The reports function itself
 * (schedules, table read, `reports/` objects) is ScheduledJobs'.
 *
 * Encryption follows the profile: the standard profile encrypts the topic with the alarm topic's
 * customer managed key; the small one with the AWS managed `aws/sns` key (a Lambda function may
 * publish to it; only CloudWatch alarms and Budgets need a customer managed key).
 */
import { Duration } from 'aws-cdk-lib';
import { type HttpApi, HttpMethod, HttpRoute, HttpRouteKey } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Alias, type IKey } from 'aws-cdk-lib/aws-kms';
import { Subscription, SubscriptionProtocol, Topic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '#shared/resources';
import { acknowledge } from '../compliance.ts';
import type { AppFunction } from './app-function.ts';
import { acknowledgeIsDeadLetterQueue } from './job-queue.ts';
import type { ConversationStorage } from './storage.ts';

/** The report links on the HTTP API (signed like the media links, answered with a presigned URL). */
export const REPORTS_ROUTE_PATH = '/reports/{name}';

/** The AWS managed SNS key (small profile). */
export const AWS_MANAGED_SNS_KEY = 'alias/aws/sns';

export interface ReportDeliveryProps {
  readonly stage: string;
  readonly reportsFunction: AppFunction;
  /** The api function: it serves the report links (as it serves GET /media/{wamid}). */
  readonly apiFunction: AppFunction;
  readonly httpApi: HttpApi;
  readonly storage: ConversationStorage;
  /** The customer managed key of the alarm topic (standard profile); absent: the AWS managed aws/sns key. */
  readonly topicKey?: IKey | undefined;
  /** Optional e-mail address subscribed to the topic. */
  readonly reportEmail?: string | undefined;
}

export class ReportDelivery extends Construct {
  readonly topic: Topic;
  readonly route: HttpRoute;
  /** Notifications SNS could not deliver to the report e-mail (when one is subscribed). */
  readonly undelivered: Queue | undefined;

  constructor(scope: Construct, id: string, props: ReportDeliveryProps) {
    super(scope, id);
    const { reportsFunction, apiFunction, storage } = props;

    this.topic = new Topic(this, 'Topic', {
      topicName: `scrm-${props.stage}-reports`,
      displayName: `WhatsApp SCRM ${props.stage} reports`,
      masterKey: props.topicKey ?? Alias.fromAliasName(this, 'AwsManagedSnsKey', AWS_MANAGED_SNS_KEY),
      enforceSSL: true,
    });
    // Only the reports function announces reports; with our own key it needs a data key from it
    // (the two actions by name: grantPublish would allow the kms:GenerateDataKey* wildcard).
    reportsFunction.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['sns:Publish'], resources: [this.topic.topicArn] }));
    if (props.topicKey) reportsFunction.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [props.topicKey.keyArn] }));
    reportsFunction.function.addEnvironment(ENV.reportsTopicArn, this.topic.topicArn);
    // The report links in the announcement and the report point at the HTTP API.
    reportsFunction.function.addEnvironment(ENV.publicUrl, props.httpApi.apiEndpoint);

    if (props.reportEmail) {
      this.undelivered = new Queue(this, 'UndeliveredNotifications', {
        queueName: `scrm-${props.stage}-undelivered-reports`,
        retentionPeriod: Duration.days(14),
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
      acknowledgeIsDeadLetterQueue(this.undelivered);
      new Subscription(this, 'ReportEmail', {
        topic: this.topic,
        protocol: SubscriptionProtocol.EMAIL,
        endpoint: props.reportEmail,
        deadLetterQueue: this.undelivered,
      });
    }

    this.route = new HttpRoute(this, 'Route', {
      httpApi: props.httpApi,
      routeKey: HttpRouteKey.with(REPORTS_ROUTE_PATH, HttpMethod.GET),
      integration: new HttpLambdaIntegration('Reports', apiFunction.function),
    });
    acknowledge(
      this.route,
      'AwsSolutions-APIG4',
      "A report link is opened from the report's e-mail or the CRM, which carries no bearer token: each link is a capability signed with HMAC-SHA256 (as the media links), checked in constant time before anything is read; the answer is a short-lived presigned URL, the bucket is never public.",
    );
    // Presigned URLs are signed with the api function's own rights: GetObject under reports/ only.
    storage.allowObjects(apiFunction, 'reports', ['s3:GetObject']);
  }
}
