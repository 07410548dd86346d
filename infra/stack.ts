/**
 * The whole WhatsApp SCRM in one stack, composed of one construct per concern:
 * storage, secrets, work queues, ingest (webhook API), CRM sync, media, outbound (the SCRM API
 * and the send queue and function), automation (its queue, function, event rule, timers and the
 * courier's webhook route), scheduled jobs, operations (alarms, topic, dashboard) and cost controls.
 */
import { CfnOutput, Duration, Lazy, Stack, type StackProps } from 'aws-cdk-lib';
import { EventBus } from 'aws-cdk-lib/aws-events';
import type { Construct } from 'constructs';
import { BUCKET_LAYOUT, ENV, MEDIA_QUEUE, resourceNames, syncQueueDefinition } from '#shared/resources';
import type { StackConfig } from './config.ts';
import type { AppFunction } from './constructs/app-function.ts';
import { AUTOMATION_MAX_DELAY, Automation } from './constructs/automation.ts';
import { CrmEvents } from './constructs/crm-events.ts';
import { CostControls } from './constructs/cost-controls.ts';
import { CrmSync, type FunctionDefaults } from './constructs/crm-sync.ts';
import { WebhookIngest } from './constructs/ingest.ts';
import { JobQueue } from './constructs/job-queue.ts';
import { MediaProcessing } from './constructs/media.ts';
import { Operations } from './constructs/operations.ts';
import { Outbound } from './constructs/outbound.ts';
import { ReportDelivery } from './constructs/reports.ts';
import { ScheduledJobs } from './constructs/scheduled-jobs.ts';
import { AppSecrets } from './constructs/secrets.ts';
import { ConversationStorage } from './constructs/storage.ts';

/**
 * Settings the functions get only when the deployment sets them: the address of a CRM other than
 * HubSpot, the bulk sync's request limit, the CRM request timeout (its default otherwise).
 */
export const OPTIONAL_ENV_NAMES = [ENV.salesforceLoginUrl, ENV.crmWebhookUrl, ENV.crmRateLimit, ENV.crmRateWindowSeconds, ENV.crmTimeoutMs, ENV.hubspotAppId, ENV.duplicateAutoMerge] as const;

export interface ScrmStackProps extends StackProps {
  readonly config: StackConfig;
}

export class ScrmStack extends Stack {
  readonly config: StackConfig;
  readonly storage: ConversationStorage;
  readonly secrets: AppSecrets;
  readonly syncJobs: JobQueue;
  readonly mediaJobs: JobQueue;
  readonly ingest: WebhookIngest;
  readonly crmSync: CrmSync;
  readonly domainEvents: EventBus;
  readonly media: MediaProcessing;
  readonly outbound: Outbound;
  readonly automation: Automation;
  readonly crmEvents: CrmEvents;
  readonly scheduledJobs: ScheduledJobs;
  readonly operations: Operations;
  readonly reports: ReportDelivery;
  readonly costControls: CostControls;
  /** Every function of the stack, by folder name. */
  readonly functions: readonly AppFunction[];

  constructor(scope: Construct, id: string, props: ScrmStackProps) {
    super(scope, id, props);
    // Server access logs are granted by bucket policy, not by the legacy log-delivery ACL.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
    const { config } = props;
    this.config = config;
    const names = resourceNames(config.stage);

    this.storage = new ConversationStorage(this, 'Storage', { names });
    this.secrets = new AppSecrets(this, 'Secrets', { stage: config.stage, crm: config.crm });
    const syncRetry = { maxAttempts: config.syncMaxAttempts, retryDelaySeconds: config.syncRetryDelaySeconds };
    this.syncJobs = new JobQueue(this, 'SyncJobs', { definition: syncQueueDefinition(syncRetry), queueName: names.syncQueue, deadLetterQueueName: names.syncDlq });
    this.mediaJobs = new JobQueue(this, 'MediaJobs', { definition: MEDIA_QUEUE, queueName: names.mediaQueue, deadLetterQueueName: names.mediaDlq });

    // Domain events (a segment change …) for automations to react to (TG-3).
    this.domainEvents = new EventBus(this, 'DomainEvents', { eventBusName: names.eventBus });

    const defaults: FunctionDefaults = {
      stage: config.stage,
      logRetentionDays: config.logRetentionDays,
      environment: {
        [ENV.stage]: config.stage,
        [ENV.tableName]: this.storage.table.tableName,
        [ENV.bucketName]: this.storage.bucket.bucketName,
        [ENV.syncQueueUrl]: this.syncJobs.queue.queueUrl,
        [ENV.syncDlqUrl]: this.syncJobs.deadLetterQueue.queueUrl,
        [ENV.mediaQueueUrl]: this.mediaJobs.queue.queueUrl,
        // The ARN only: functions read the values at cold start with their read grant.
        [ENV.secretArn]: this.secrets.secret.secretArn,
        [ENV.eventBusName]: this.domainEvents.eventBusName,
        [ENV.defaultRegion]: config.defaultRegion,
        // The business's calendar: every function that writes day counters (and the reports) cuts days there.
        [ENV.timeZone]: config.timeZone,
        [ENV.retentionDays]: String(config.retentionDays),
        [ENV.crmKind]: config.crm,
        [ENV.graphApiBase]: config.graphApiBase,
        [ENV.graphApiVersion]: config.graphApiVersion,
        [ENV.hubspotApiBase]: config.hubspotApiBase,
        [ENV.hubspotApiVersion]: config.hubspotApiVersion,
        [ENV.salesforceApiVersion]: config.salesforceApiVersion,
        [ENV.zohoAccountsUrl]: config.zohoAccountsUrl,
        [ENV.zohoApiVersion]: config.zohoApiVersion,
        ...(config.salesforceLoginUrl && { [ENV.salesforceLoginUrl]: config.salesforceLoginUrl }),
        ...(config.crmWebhookUrl && { [ENV.crmWebhookUrl]: config.crmWebhookUrl }),
        ...(config.crmRateLimit !== undefined && { [ENV.crmRateLimit]: String(config.crmRateLimit) }),
        ...(config.crmRateWindowSeconds !== undefined && { [ENV.crmRateWindowSeconds]: String(config.crmRateWindowSeconds) }),
        // The same values as the sync queue's redrive and visibility above.
        [ENV.syncMaxAttempts]: String(syncRetry.maxAttempts),
        [ENV.syncRetryDelaySeconds]: String(syncRetry.retryDelaySeconds),
        // The send queue is Outbound's (made below, with the functions of the send side).
        [ENV.sendQueueUrl]: Lazy.string({ produce: () => this.outbound.sendJobs.queue.queueUrl }),
        ...(config.hubspotAppId && { [ENV.hubspotAppId]: config.hubspotAppId }),
        ...(config.salesforceIntegrationUserId && { SALESFORCE_INTEGRATION_USER_ID: config.salesforceIntegrationUserId }),
        ...(config.duplicateAutoMerge !== undefined && { [ENV.duplicateAutoMerge]: String(config.duplicateAutoMerge) }),
        // The business numbers (IN-6) and the sending limits (CP-6, CP-10), validated at synth.
        [ENV.accounts]: config.whatsappAccounts,
        [ENV.dailyLimit]: String(config.whatsappDailyLimit),
        [ENV.dailyApiCalls]: String(config.whatsappDailyApiCalls),
        [ENV.messagesPerSecond]: String(config.whatsappMessagesPerSecond),
      },
    };

    const shared = { defaults, storage: this.storage, secrets: this.secrets };
    this.ingest = new WebhookIngest(this, 'Ingest', {
      ...shared,
      syncJobs: this.syncJobs,
      mediaJobs: this.mediaJobs,
      socialMessagingTopicArn: config.socialMessagingTopicArn,
    });
    this.crmSync = new CrmSync(this, 'CrmSync', { ...shared, syncJobs: this.syncJobs });
    this.domainEvents.grantPutEventsTo(this.crmSync.syncFunction.role);
    this.media = new MediaProcessing(this, 'Media', { ...shared, mediaJobs: this.mediaJobs, socialMessaging: config.socialMessagingTopicArn !== undefined });
    this.outbound = new Outbound(this, 'Outbound', {
      ...shared,
      names,
      syncJobs: this.syncJobs,
      httpApi: this.ingest.api,
      socialMessaging: config.socialMessagingTopicArn !== undefined,
    });
    this.automation = new Automation(this, 'Automation', {
      ...shared,
      names,
      syncJobs: this.syncJobs,
      sendJobs: this.outbound.sendJobs,
      eventBus: this.domainEvents,
      httpApi: this.ingest.api,
      apiFunction: this.outbound.apiFunction,
      settings: config,
    });
    this.crmEvents = new CrmEvents(this, 'CrmEvents', {
      ...shared,
      names,
      httpApi: this.ingest.api,
      syncJobs: this.syncJobs,
      sendJobs: this.outbound.sendJobs,
      salesforceEventSource: config.salesforceEventSource,
    });
    this.scheduledJobs = new ScheduledJobs(this, 'ScheduledJobs', {
      ...shared,
      timeZone: config.timeZone,
      syncJobs: this.syncJobs,
      sendFunction: this.outbound.sendFunction,
      automationFunction: this.automation.automationFunction,
      sharedDeadLetters: config.profile === 'small',
    });
    // The CRM catch-up puts what deliveries missed on the crm-events queue; the Zoho channel calls back to the API.
    this.crmEvents.jobs.queue.grantSendMessages(this.scheduledJobs.batchExportFunction.role);
    for (const fn of [this.crmEvents.crmEventsFunction, this.scheduledJobs.batchExportFunction]) {
      fn.function.addEnvironment(ENV.crmEventsQueueUrl, this.crmEvents.jobs.queue.queueUrl);
    }
    // The API's URL: the Zoho channel's notify URL, and the media links the sync writes into the CRM.
    for (const fn of [this.crmEvents.crmEventsFunction, this.scheduledJobs.batchExportFunction, this.crmSync.syncFunction]) {
      fn.function.addEnvironment(ENV.publicUrl, this.ingest.api.apiEndpoint);
    }
    // Tracked links in our messages point at the API (AU-8): the send path of the API and the automations.
    for (const fn of [this.outbound.apiFunction, this.automation.automationFunction]) fn.function.addEnvironment(ENV.linkBaseUrl, this.ingest.api.apiEndpoint);
    // The sweep queues again media recorded but not stored (MD-1); storage growth against the plan (ST-3).
    this.mediaJobs.queue.grantSendMessages(this.scheduledJobs.batchExportFunction.role);
    this.scheduledJobs.batchExportFunction.function.addEnvironment(ENV.storageCapacityGb, String(config.storageCapacityGb));
    // The segment refresh publishes segment changes too.
    this.domainEvents.grantPutEventsTo(this.scheduledJobs.batchExportFunction.role);
    // Every stored customer message is announced to the automations (MessageReceived).
    this.domainEvents.grantPutEventsTo(this.ingest.webhookFunction.role);
    // A complaint streak (RP-7) is a ComplaintRateHigh event; the cost model prices the deployed profile.
    this.domainEvents.grantPutEventsTo(this.scheduledJobs.reportsFunction.role);
    this.scheduledJobs.reportsFunction.function.addEnvironment(ENV.deployProfile, config.profile);

    this.functions = [
      this.ingest.webhookFunction,
      this.crmSync.syncFunction,
      this.crmSync.retryFunction,
      this.scheduledJobs.batchExportFunction,
      this.scheduledJobs.reportsFunction,
      this.media.mediaFunction,
      this.outbound.sendFunction,
      this.outbound.apiFunction,
      this.automation.automationFunction,
      this.crmEvents.crmEventsFunction,
    ];

    this.operations = new Operations(this, 'Operations', { stage: config.stage, alarmEmail: config.alarmEmail, profile: config.profile });
    this.operations.watchApi(this.ingest.api);
    this.operations.watchFunctionsTogether();
    this.operations.watchMessageFlow();
    this.operations.watchCredentials(config.crm);
    this.operations.watchCrmHealth(config.crm);
    this.operations.watchOutbound();
    this.operations.watchAutomation();
    this.operations.watchMediaAndStorage(config.storageCapacityGb);
    this.operations.watchReports();
    for (const fn of this.functions) this.operations.watchFunction(fn);
    for (const jobs of [this.syncJobs, this.mediaJobs, this.outbound.sendJobs, this.automation.automationJobs, this.crmEvents.jobs]) {
      // Older than every attempt (visibility × receives) means the queue is not being drained;
      // the automation's short timers may also wait on it, delayed by up to 15 minutes.
      const attempts = jobs.definition.visibilityTimeoutSeconds * jobs.definition.maxReceiveCount;
      const maxAge = Duration.seconds(jobs === this.automation.automationJobs ? attempts + AUTOMATION_MAX_DELAY.toSeconds() : attempts);
      this.operations.alarmOnQueueAge(jobs.definition.id, jobs.queue, maxAge);
      this.operations.alarmOnDeadLetters(`${jobs.definition.id}-dlq`, jobs.deadLetterQueue);
    }
    this.operations.alarmOnDeadLetters('scheduled-failures', this.scheduledJobs.failedRuns);
    if (this.ingest.socialMessagingDeadLetters) this.operations.alarmOnDeadLetters('social-messaging-dlq', this.ingest.socialMessagingDeadLetters);
    for (const run of this.scheduledJobs.runs) {
      // Small profile: the schedules share the failed-runs queue, alarmed above.
      if (run.deadLetterQueue !== this.scheduledJobs.failedRuns) this.operations.alarmOnDeadLetters(`schedule-${run.definition.id}-dlq`, run.deadLetterQueue);
    }

    // The reports (RP-*): their topic, the report links on the HTTP API, the latest reports on the dashboard.
    this.reports = new ReportDelivery(this, 'Reports', {
      stage: config.stage,
      reportsFunction: this.scheduledJobs.reportsFunction,
      apiFunction: this.outbound.apiFunction,
      httpApi: this.ingest.api,
      storage: this.storage,
      topicKey: this.operations.topicKey,
      reportEmail: config.reportEmail,
    });
    if (this.reports.undelivered && config.profile === 'standard') this.operations.alarmOnDeadLetters('undelivered-reports', this.reports.undelivered);
    this.operations.linkReports(this.storage.bucket.bucketName, `${BUCKET_LAYOUT.reports}latest/`);
    this.operations.addQueueOverview();

    this.costControls = new CostControls(this, 'Cost', {
      stage: config.stage,
      costCentre: config.costCentre,
      monthlyBudgetUsd: config.monthlyBudgetUsd,
      alarmTopic: this.operations.topic,
    });

    new CfnOutput(this, 'SecretName', { value: this.secrets.secret.secretName, description: 'Fill in with aws secretsmanager put-secret-value' });
    new CfnOutput(this, 'TableName', { value: this.storage.table.tableName });
    new CfnOutput(this, 'BucketName', { value: this.storage.bucket.bucketName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.operations.topic.topicArn });
    new CfnOutput(this, 'RetryFunctionName', { value: this.crmSync.retryFunction.function.functionName, description: 'Invoke to move failed sync jobs back to the queue' });
    new CfnOutput(this, 'EventBusName', { value: this.domainEvents.eventBusName, description: 'Domain events (source whatsapp-scrm), e.g. SegmentChanged' });
    if (this.operations.dashboard) new CfnOutput(this, 'DashboardName', { value: this.operations.dashboard.dashboardName });
    new CfnOutput(this, 'ReportsTopicArn', { value: this.reports.topic.topicArn, description: 'Each daily and weekly report is announced here (subscribe with reportEmail or aws sns subscribe)' });
    new CfnOutput(this, 'TimerGroupName', { value: this.automation.timerGroup.scheduleGroupName, description: "EventBridge Scheduler group of the automation's one-time timers (aws scheduler list-schedules --group-name …)" });
    new CfnOutput(this, 'ApiUrl', { value: `${this.ingest.api.apiEndpoint}/api`, description: 'The SCRM API (Authorization: Bearer <SCRM_API_TOKEN from the secret>), e.g. POST <ApiUrl>/messages' });
  }
}
