/**
 * Automations and agents (AU-*, AG-1): the automation queue, the automation function and what
 * feeds it.
 *
 *   domain event bus (source whatsapp-scrm, AUTOMATION_EVENT_TYPES) → rule → automation queue
 *   time-window timers: ≤ 15 min ahead → the automation queue with DelaySeconds (by the function);
 *                       later → a one-time EventBridge Scheduler schedule in the timer group,
 *                       delivered to the automation queue with the timer role (its DLQ: the automation DLQ)
 *   automation queue → automation function (partial batch responses, no batching window: a quick
 *                      reply is answered within seconds) → outbox rows + send queue, sync queue,
 *                      CRM, courier API, Amazon Location Places, events on the bus
 *   POST /courier-events on the webhook's HTTP API → api function (verifies the courier's HMAC
 *                      signature with COURIER_WEBHOOK_SECRET, then publishes ParcelUpdated on the bus)
 *
 * MessageReceived comes from the webhook function (the stack lets it put events on the bus);
 * OrderUpdated, ConversationResolved and ParcelUpdated from the api function (granted here);
 * SegmentChanged from sync and batch-export.
 *
 * The automation function also runs the `follow-up` schedule (ScheduledJobs invokes it), so like
 * the send function it is invoked both ways: a failed event returns to the automation queue and its
 * DLQ; a failed scheduled run goes to the failed-runs queue.
 */
import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import { type HttpApi, HttpMethod, HttpRoute, HttpRouteKey } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { type IEventBus, Rule } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import { EVENT_SOURCE } from '#shared/events/bus';
import { AUTOMATION_EVENT_TYPES, AUTOMATION_FUNCTION_TIMEOUT_SECONDS, AUTOMATION_QUEUE, ENV, type ResourceNames } from '#shared/resources';
import { acknowledge } from '../compliance.ts';
import type { StackConfig } from '../config.ts';
import { AppFunction } from './app-function.ts';
import type { FunctionDefaults } from './crm-sync.ts';
import { JobQueue } from './job-queue.ts';
import type { AppSecrets } from './secrets.ts';
import type { ConversationStorage } from './storage.ts';

/** Where the courier (AfterShip) posts its tracking webhooks, on the webhook's HTTP API. */
export const COURIER_EVENTS_PATH = '/courier-events';

/** The two Amazon Location Service Places (v2) actions the automation function calls (ID-7). */
export const GEO_PLACES_ACTIONS = ['geo-places:Geocode', 'geo-places:ReverseGeocode'] as const;

/** The one Scheduler action the automation function has: one-time timers in its own group. */
export const CREATE_SCHEDULE_ACTION = 'scheduler:CreateSchedule';

/**
 * No batching window: Lambda invokes with what the poll returned, at once. A quick reply (AU-1)
 * must go out within seconds; a window would hold the first event of a quiet queue for its length.
 */
export const AUTOMATION_BATCHING_WINDOW = Duration.seconds(0);

/** EventBridge's delivery retries of a domain event to the queue before it goes to the automation DLQ. */
export const AUTOMATION_EVENT_DELIVERY = { retryAttempts: 8, maxEventAge: Duration.hours(6) } as const;

/**
 * The longest a timer waits on the queue with DelaySeconds (SQS's maximum, 15 minutes): the
 * queue-age alarm allows for it on top of the attempts, in case a delayed message counts as old.
 */
export const AUTOMATION_MAX_DELAY = Duration.minutes(15);

/** The environment variables only the automation function gets (besides every function's). */
export const AUTOMATION_ENV_NAMES = [
  ENV.automationQueueUrl,
  ENV.automationQueueArn,
  ENV.automationDlqArn,
  ENV.timerGroup,
  ENV.timerRoleArn,
  ENV.courierApiBase,
  ENV.courierApiVersion,
  ENV.geocoder,
] as const;

/** Read by the local stack only (the local Places stand-in); on AWS the SDK's own endpoint is used. */
export const LOCAL_ONLY_ENV_NAMES = [ENV.geoPlacesEndpoint] as const;

export interface AutomationProps {
  readonly defaults: FunctionDefaults;
  readonly names: ResourceNames;
  readonly storage: ConversationStorage;
  readonly secrets: AppSecrets;
  readonly syncJobs: JobQueue;
  /** Outbound's send queue: an automated message is an outbox row and a send job, like any other. */
  readonly sendJobs: JobQueue;
  /** The domain event bus: the rule reads it, the automation function publishes to it. */
  readonly eventBus: IEventBus;
  /** The webhook's HTTP API and the api function: the courier's webhooks come in there. */
  readonly httpApi: HttpApi;
  readonly apiFunction: AppFunction;
  readonly settings: Pick<StackConfig, 'timeZone' | 'courierApiBase' | 'courierApiVersion' | 'geocoder'>;
}

export class Automation extends Construct {
  readonly automationJobs: JobQueue;
  readonly automationFunction: AppFunction;
  readonly eventRule: Rule;
  readonly timerGroup: ScheduleGroup;
  /** The role one-time timer schedules deliver to the automation queue (and its DLQ) with. */
  readonly timerRole: Role;
  readonly courierEventsRoute: HttpRoute;

  constructor(scope: Construct, id: string, props: AutomationProps) {
    super(scope, id);
    const { defaults, names, storage, secrets, syncJobs, sendJobs, eventBus, settings } = props;

    this.automationJobs = new JobQueue(this, 'AutomationJobs', {
      definition: AUTOMATION_QUEUE,
      queueName: names.automationQueue,
      deadLetterQueueName: names.automationDlq,
    });
    const { queue, deadLetterQueue } = this.automationJobs;

    // The timers' group: removed with the stack (its schedules deliver to the stack's queue).
    this.timerGroup = new ScheduleGroup(this, 'TimerGroup', {
      scheduleGroupName: names.timerGroup,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.timerRole = new Role(this, 'TimerRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          // Only schedules of this account's timer group may use the role (confused deputy).
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnEquals: { 'aws:SourceArn': this.timerGroup.scheduleGroupArn },
        },
      }),
      description: `EventBridge Scheduler delivers the automation timers of ${names.timerGroup} to the automation queue`,
    });
    // The target, and the DLQ a timer Scheduler could not deliver goes to (the schedule's DeadLetterConfig).
    this.timerRole.addToPrincipalPolicy(new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [queue.queueArn, deadLetterQueue.queueArn] }));

    this.automationFunction = new AppFunction(this, 'Automation', {
      ...defaults,
      name: 'automation',
      description: 'Automations and agents: quick replies, hand-over, order and parcel updates, offers, timers, follow-ups',
      // I/O-bound (table, CRM, courier, Places); 512 MB for a short cold start, like send and api.
      memoryMb: 512,
      // 1/6 of the automation queue's visibility timeout (60 s); consumeWith checks it.
      timeout: Duration.seconds(AUTOMATION_FUNCTION_TIMEOUT_SECONDS),
      // Fed by the queue and run by the follow-up schedule: ScheduledJobs gives it its failed-runs queue.
      invocation: 'schedule',
      environment: {
        ...defaults.environment,
        [ENV.automationQueueUrl]: queue.queueUrl,
        [ENV.automationQueueArn]: queue.queueArn,
        [ENV.automationDlqArn]: deadLetterQueue.queueArn,
        [ENV.timerGroup]: this.timerGroup.scheduleGroupName,
        [ENV.timerRoleArn]: this.timerRole.roleArn,
        [ENV.timeZone]: settings.timeZone,
        [ENV.courierApiBase]: settings.courierApiBase,
        [ENV.courierApiVersion]: settings.courierApiVersion,
        [ENV.geocoder]: settings.geocoder,
      },
    });
    const fn = this.automationFunction;
    // SCRM_TIMER_GROUP is the group's name as given (no reference): the group exists before the function.
    fn.function.node.addDependency(this.timerGroup);
    storage.allowTableReadWrite(fn);
    // The CRM and courier tokens are in the secret.
    secrets.allowRead(fn);
    this.automationJobs.consumeWith(fn, { maxBatchingWindow: AUTOMATION_BATCHING_WINDOW });
    // Timers due within 15 minutes go on the queue itself, with DelaySeconds.
    queue.grantSendMessages(fn.role);
    // An automated message is an outbox row and a send job; CRM writes (tasks, orders) are sync jobs.
    sendJobs.queue.grantSendMessages(fn.role);
    syncJobs.queue.grantSendMessages(fn.role);
    eventBus.grantPutEventsTo(fn.role);

    // Later timers: one-time schedules in the timer group only, passing the timer role only.
    // Pseudo parameters, not the stack's env: the same ARN (and acknowledgement) whether or not the deploy region is known at synth.
    const schedulesOfGroup = `arn:${Aws.PARTITION}:scheduler:${Aws.REGION}:${Aws.ACCOUNT_ID}:schedule/${names.timerGroup}/*`;
    fn.role.addToPrincipalPolicy(new PolicyStatement({ actions: [CREATE_SCHEDULE_ACTION], resources: [schedulesOfGroup] }));
    fn.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.timerRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      }),
    );
    acknowledge(
      fn,
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${names.timerGroup}/*]`,
      `Each timer is a one-time schedule named at run time after its key (a repeated timer is refused by name); the grant is scheduler:CreateSchedule alone, on the schedules of the ${names.timerGroup} group alone.`,
    );

    if (settings.geocoder === 'amazon-location') {
      // Places v2 has no resources of ours: the provider resource of the region is the narrowest ARN.
      fn.role.addToPrincipalPolicy(
        new PolicyStatement({ actions: [...GEO_PLACES_ACTIONS], resources: [`arn:${Aws.PARTITION}:geo-places:${Aws.REGION}::provider/default`] }),
      );
    }

    // The domain events the automation reacts to, from the SCRM's own source only.
    this.eventRule = new Rule(this, 'Events', {
      ruleName: `scrm-${defaults.stage}-automation`,
      description: `Domain events the automation reacts to (${AUTOMATION_EVENT_TYPES.join(', ')}) → the automation queue`,
      eventBus,
      eventPattern: { source: [EVENT_SOURCE], detailType: [...AUTOMATION_EVENT_TYPES] },
      // The whole EventBridge event is the message (detail-type, detail = the domain event).
      targets: [new SqsQueue(queue, { deadLetterQueue, ...AUTOMATION_EVENT_DELIVERY })],
    });

    // The api function's part. The courier's tracking webhooks: verified there, published as
    // ParcelUpdated. Its automation routes publish OrderUpdated and ConversationResolved, and an
    // agent's assignment (AG-1) updates the contact in the CRM with a contact sync job.
    this.courierEventsRoute = new HttpRoute(this, 'CourierEventsRoute', {
      httpApi: props.httpApi,
      routeKey: HttpRouteKey.with(COURIER_EVENTS_PATH, HttpMethod.POST),
      integration: new HttpLambdaIntegration('CourierEvents', props.apiFunction.function),
    });
    eventBus.grantPutEventsTo(props.apiFunction.role);
    syncJobs.queue.grantSendMessages(props.apiFunction.role);
    acknowledge(
      this.courierEventsRoute,
      'AwsSolutions-APIG4',
      'The courier (AfterShip) cannot send IAM, JWT or Lambda-authorizer credentials: each webhook carries an HMAC-SHA256 signature of the body made with COURIER_WEBHOOK_SECRET, which the api function checks in constant time before anything is read or published.',
    );
  }
}
