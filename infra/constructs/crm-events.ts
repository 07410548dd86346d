/**
 * Two-way CRM sync (SY-3): what the CRM changed comes back.
 *
 *   POST /crm-events/hubspot, POST /crm-events/zoho (HTTP API) ──▶ crm-events function (receive:
 *       signature / channel token checked, each event stored once, queued, answered at once)
 *   Salesforce CDC ──▶ Event Relay ──▶ partner event bus ──▶ rule ──▶ crm-events queue
 *   crm-events queue ──▶ crm-events function (apply: field-level last-writer-wins, conflicts,
 *       consent, replies through the policy gate) ──▶ sync queue (the winner to the CRM),
 *       send queue (a reply written in the CRM)
 *
 * The scheduled catch-up (batch function, every 15 minutes) puts what deliveries missed on the same queue.
 */
import { Duration } from 'aws-cdk-lib';
import { type HttpApi, HttpMethod, HttpRoute, HttpRouteKey } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { CfnEventBus, EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { CRM_EVENTS_FUNCTION_TIMEOUT_SECONDS, CRM_EVENTS_QUEUE, type ResourceNames } from '#shared/resources';
import { acknowledge } from '../compliance.ts';
import { AppFunction } from './app-function.ts';
import type { FunctionDefaults } from './crm-sync.ts';
import { JobQueue } from './job-queue.ts';
import type { AppSecrets } from './secrets.ts';
import type { ConversationStorage } from './storage.ts';

export const CRM_EVENT_PATHS = ['/crm-events/hubspot', '/crm-events/zoho'] as const;

export interface CrmEventsProps {
  readonly defaults: FunctionDefaults;
  readonly names: ResourceNames;
  readonly storage: ConversationStorage;
  readonly secrets: AppSecrets;
  readonly httpApi: HttpApi;
  readonly syncJobs: JobQueue;
  readonly sendJobs: JobQueue;
  /** Salesforce Event Relay's partner event source; absent: no partner bus. */
  readonly salesforceEventSource?: string | undefined;
}

export class CrmEvents extends Construct {
  readonly jobs: JobQueue;
  readonly crmEventsFunction: AppFunction;
  readonly partnerRule: Rule | undefined;

  constructor(scope: Construct, id: string, props: CrmEventsProps) {
    super(scope, id);
    const { defaults, storage, secrets } = props;
    this.jobs = new JobQueue(this, 'Jobs', { definition: CRM_EVENTS_QUEUE, queueName: props.names.crmEventsQueue, deadLetterQueueName: props.names.crmEventsDlq });

    this.crmEventsFunction = new AppFunction(this, 'Function', {
      ...defaults,
      name: 'crm-events',
      description: 'Changes from the CRM: receives the signed deliveries, applies them field by field (two-way sync)',
      memoryMb: 256,
      timeout: Duration.seconds(CRM_EVENTS_FUNCTION_TIMEOUT_SECONDS),
      invocation: 'queue',
    });
    storage.allowTableReadWrite(this.crmEventsFunction);
    secrets.allowRead(this.crmEventsFunction);
    this.jobs.queue.grantSendMessages(this.crmEventsFunction.role);
    this.jobs.consumeWith(this.crmEventsFunction);
    props.syncJobs.queue.grantSendMessages(this.crmEventsFunction.role);
    props.sendJobs.queue.grantSendMessages(this.crmEventsFunction.role);

    for (const path of CRM_EVENT_PATHS) {
      const route = new HttpRoute(this, `Route${path.split('/').pop()}`, {
        httpApi: props.httpApi,
        routeKey: HttpRouteKey.with(path, HttpMethod.POST),
        integration: new HttpLambdaIntegration(`CrmEvents${path.split('/').pop()}`, this.crmEventsFunction.function),
      });
      acknowledge(
        route,
        'AwsSolutions-APIG4',
        'CRMs cannot send IAM, JWT or Lambda-authorizer credentials: HubSpot signs each delivery (X-HubSpot-Signature-v3, HMAC-SHA256 with the app client secret, at most 5 minutes old) and Zoho sends the channel token; the function checks them before anything is stored.',
      );
    }

    if (props.salesforceEventSource) {
      // The partner event bus of Salesforce Event Relay (its name is the event source's) and a
      // rule sending the org's change events, whole, to the crm-events queue.
      const bus = new CfnEventBus(this, 'SalesforceBus', { name: props.salesforceEventSource, eventSourceName: props.salesforceEventSource });
      const partnerBus = EventBus.fromEventBusArn(this, 'SalesforcePartnerBus', bus.attrArn);
      this.partnerRule = new Rule(this, 'SalesforceChanges', {
        description: 'Salesforce Change Data Capture through Event Relay → the crm-events queue (two-way sync, SY-3)',
        eventBus: partnerBus,
        eventPattern: { source: [props.salesforceEventSource] },
        targets: [new SqsQueue(this.jobs.queue, { deadLetterQueue: this.jobs.deadLetterQueue, retryAttempts: 10, maxEventAge: Duration.hours(24) })],
      });
    }
  }
}
