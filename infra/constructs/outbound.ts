/**
 * The outbound side (AU-7): the SCRM's own HTTP API under /api on the webhook's HTTP API (same
 * host as the webhook), the FIFO send queue and the send function.
 *
 *   POST /api/messages → api function (policy, outbox row) → send queue (one group per customer)
 *   → send function (pacing in DynamoDB, claim, Meta or AWS End User Messaging Social) → row
 *
 * The send function also runs the send-side schedules (outbox sweep, template sync, number
 * health; ScheduledJobs invokes it), so it is invoked both ways: a failed job returns to the send
 * queue and its DLQ; a failed scheduled run goes to the failed-runs queue. No reserved
 * concurrency: Meta's per-number pacing is kept in the table, not by limiting the function.
 */
import { Duration } from 'aws-cdk-lib';
import { type HttpApi, HttpMethod, HttpRoute, HttpRouteKey } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { SEND_FUNCTION_TIMEOUT_SECONDS, SEND_QUEUE, type ResourceNames } from '#shared/resources';
import { acknowledge } from '../compliance.ts';
import { AppFunction } from './app-function.ts';
import type { FunctionDefaults } from './crm-sync.ts';
import { JobQueue } from './job-queue.ts';
import type { AppSecrets } from './secrets.ts';
import type { ConversationStorage } from './storage.ts';

/** Where the SCRM API is served on the webhook's HTTP API: every method, every path below /api/. */
export const API_ROUTE_PATH = '/api/{proxy+}';
/** The media links in the CRM (shared/media/links.ts MEDIA_ROUTE). */
export const MEDIA_ROUTE_PATH = '/media/{wamid}';
/** The tracked links in our messages (shared/links/tracked.ts LINK_ROUTE, AU-8). */
export const LINK_ROUTE_PATH = '/l/{token}';

/** The one action of AWS End User Messaging Social the send function calls (IN-7). */
export const SOCIAL_MESSAGING_SEND_ACTION = 'social-messaging:SendWhatsAppMessage';

export interface OutboundProps {
  readonly defaults: FunctionDefaults;
  readonly names: ResourceNames;
  readonly storage: ConversationStorage;
  readonly secrets: AppSecrets;
  readonly syncJobs: JobQueue;
  /** The webhook's HTTP API: the SCRM API gets its routes there. */
  readonly httpApi: HttpApi;
  /** IN-7: the send function may send through AWS End User Messaging Social. */
  readonly socialMessaging: boolean;
}

export class Outbound extends Construct {
  readonly sendJobs: JobQueue;
  readonly sendFunction: AppFunction;
  readonly apiFunction: AppFunction;
  readonly mediaRoute: HttpRoute;
  readonly linkRoute: HttpRoute;
  readonly apiRoute: HttpRoute;

  constructor(scope: Construct, id: string, props: OutboundProps) {
    super(scope, id);
    const { defaults, names, storage, secrets, syncJobs } = props;

    this.sendJobs = new JobQueue(this, 'SendJobs', { definition: SEND_QUEUE, queueName: names.sendQueue, deadLetterQueueName: names.sendDlq });

    this.sendFunction = new AppFunction(this, 'Send', {
      ...defaults,
      name: 'send',
      description: 'Sends queued outbound WhatsApp messages at most once each; runs the outbox sweep, template sync and number health check',
      // I/O-bound, but a 10 s budget: the CPU share of 512 MB keeps cold starts and signing short.
      memoryMb: 512,
      // 1/6 of the send queue's visibility timeout (60 s); consumeWith checks it.
      timeout: Duration.seconds(SEND_FUNCTION_TIMEOUT_SECONDS),
      // Scheduled (asynchronously) as well as fed by the queue: ScheduledJobs gives it its failed-runs queue.
      invocation: 'schedule',
    });
    storage.allowTableReadWrite(this.sendFunction);
    secrets.allowRead(this.sendFunction);
    // Consume includes sqs:ChangeMessageVisibility: a job that must wait (backoff, pacing) is given back with its pause.
    this.sendJobs.consumeWith(this.sendFunction);
    // The outbox sweep queues due messages again.
    this.sendJobs.queue.grantSendMessages(this.sendFunction.role);
    // A message Meta accepted is logged in the CRM.
    syncJobs.queue.grantSendMessages(this.sendFunction.role);
    if (props.socialMessaging) {
      this.sendFunction.role.addToPrincipalPolicy(new PolicyStatement({ actions: [SOCIAL_MESSAGING_SEND_ACTION], resources: ['*'] }));
      acknowledge(
        this.sendFunction,
        'AwsSolutions-IAM5[Resource::*]',
        'X-Ray has no resource-level permissions; social-messaging:SendWhatsAppMessage is granted on "*" because the sending numbers (origination phone-number ids) are linked in AWS End User Messaging Social after the deploy and change without one. The grant is that single action.',
      );
    }

    this.apiFunction = new AppFunction(this, 'Api', {
      ...defaults,
      name: 'api',
      description: 'The SCRM API: send messages (through the policy and the outbox), contacts, consent, conversations',
      memoryMb: 512,
      // Well inside the HTTP API integration limit (30 s).
      timeout: Duration.seconds(10),
      invocation: 'api',
    });
    storage.allowTableReadWrite(this.apiFunction);
    // The bearer token (SCRM_API_TOKEN) is in the secret.
    secrets.allowRead(this.apiFunction);
    this.sendJobs.queue.grantSendMessages(this.apiFunction.role);

    this.apiRoute = new HttpRoute(this, 'ApiRoute', {
      httpApi: props.httpApi,
      routeKey: HttpRouteKey.with(API_ROUTE_PATH, HttpMethod.ANY),
      integration: new HttpLambdaIntegration('Api', this.apiFunction.function),
    });
    acknowledge(
      this.apiRoute,
      'AwsSolutions-APIG4',
      'Every /api request must carry Authorization: Bearer <SCRM_API_TOKEN>, which the api function compares in constant time with the token in the secret before anything is read or queued (401 otherwise, 503 while no token is set). An API Gateway authorizer would check the same token in a second function.',
    );
    // The media links written into the CRM (MD-1): signed, answered with a 5-minute presigned URL.
    this.mediaRoute = new HttpRoute(this, 'MediaRoute', {
      httpApi: props.httpApi,
      routeKey: HttpRouteKey.with(MEDIA_ROUTE_PATH, HttpMethod.GET),
      integration: new HttpLambdaIntegration('Media', this.apiFunction.function),
    });
    acknowledge(
      this.mediaRoute,
      'AwsSolutions-APIG4',
      'A media link is opened by a CRM user\'s click, which carries no bearer token: each link is a capability signed with HMAC-SHA256 (SCRM_MEDIA_LINK_KEY), checked in constant time before anything is read; the answer is a presigned URL valid 5 minutes, the bucket is never public.',
    );
    // Tracked links (AU-8): a customer's tap on a link in our message, recorded and redirected.
    this.linkRoute = new HttpRoute(this, 'LinkRoute', {
      httpApi: props.httpApi,
      routeKey: HttpRouteKey.with(LINK_ROUTE_PATH, HttpMethod.GET),
      integration: new HttpLambdaIntegration('Link', this.apiFunction.function),
    });
    acknowledge(
      this.linkRoute,
      'AwsSolutions-APIG4',
      'A tracked link is opened by a customer tapping it in WhatsApp, with no credentials: the token is 128 bits of HMAC-SHA256 under the link key, unguessable and carrying no personal data; the answer is a redirect to the URL we sent.',
    );
    // Presigned URLs are signed with the api function's own rights: GetObject under media/ only.
    storage.allowObjects(this.apiFunction, 'media', ['s3:GetObject']);
  }
}
