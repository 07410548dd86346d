/**
 * The automation function's parts from a runtime: the send path (submit), the CRM, the courier,
 * the geocoder, the store directory, the scheduler and the sync queue. One wiring for the Lambda
 * handler and the local stack (which brings its own scheduler and bus).
 */
import { linkTracking } from '#shared/outbound/links';
import { GeoPlacesClient } from '@aws-sdk/client-geo-places';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { ConfigError } from '#shared/config';
import { createCourier } from '#shared/courier/factory';
import { runtimeCrmAdapter } from '#shared/crm/factory';
import { inTimeZone, shippedAutomation, shippedStores } from '#shared/domain/automation/bundled';
import type { Automation } from '#shared/domain/automation/config';
import { AmazonLocationGeocoder } from '#shared/geo/amazon-location';
import type { Geocoder } from '#shared/geo/port';
import type { MetricsSink } from '#shared/metric-names';
import { createSubmit, submitStores } from '#shared/outbound/submit';
import type { SendJobSink } from '#shared/queue/send-jobs';
import { ENV } from '#shared/resources';
import type { Runtime } from '#shared/runtime';
import { EventBridgeTimerScheduler, type TimerScheduler } from '#shared/automation/scheduler';
import type { WhatsAppAccountApi } from '#shared/whatsapp/outbound/channel';
import type { AutomationDeps } from './app.ts';

export interface AutomationWiring {
  readonly runtime: Runtime;
  readonly sendJobs: SendJobSink;
  readonly accountApi?: WhatsAppAccountApi | undefined;
  readonly logger: AutomationDeps['logger'];
  readonly metrics: MetricsSink;
  /** Default: EventBridge Scheduler from the configuration. */
  readonly scheduler?: TimerScheduler | undefined;
  readonly geocoder?: Geocoder | undefined;
  readonly automation?: Automation | undefined;
  readonly now?: () => number;
  /** Where tracked links point (AU-8); default SCRM_LINK_BASE_URL. */
  readonly linkBaseUrl?: (() => string | undefined) | undefined;
}

export function automationDeps(w: AutomationWiring): AutomationDeps {
  const { runtime } = w;
  const { config, store } = runtime;
  const automation = inTimeZone(w.automation ?? shippedAutomation(), config.automation.timeZone);
  const submit = createSubmit({
    ...submitStores(store),
    accountApi: w.accountApi,
    jobs: w.sendJobs,
    config,
    ...(w.now && { now: w.now }),
    links: linkTracking(store, runtime.secretSource, w.linkBaseUrl ?? (() => process.env[ENV.linkBaseUrl])),
  });
  const a = config.automation;
  const queueUrl = a.queueUrl;
  const scheduler =
    w.scheduler ??
    (() => {
      if (!queueUrl || !a.queueArn || !a.timerGroup || !a.timerRoleArn) {
        throw new ConfigError(`Invalid configuration: ${ENV.automationQueueUrl}, ${ENV.automationQueueArn}, ${ENV.timerGroup} and ${ENV.timerRoleArn} are needed for the automations' timers`);
      }
      return new EventBridgeTimerScheduler(new SchedulerClient({}), runtime.clients.sqs, { groupName: a.timerGroup, queueArn: a.queueArn, queueUrl, roleArn: a.timerRoleArn, deadLetterArn: a.dlqArn });
    })();
  const geocoder = w.geocoder ?? (config.geocoder.kind === 'amazon-location' ? new AmazonLocationGeocoder(new GeoPlacesClient({ ...(config.geocoder.endpoint && { endpoint: config.geocoder.endpoint }) })) : undefined);
  return {
    store,
    automation,
    submit: submit.submit,
    crm: config.crm.kind === 'none' ? undefined : runtimeCrmAdapter(runtime),
    courier: createCourier({ ...config.courier, timeZone: a.timeZone ?? automation.config.timeZone }, async () => (await runtime.secretSource.current()).courierApiKey ?? ''),
    geocoder,
    shops: shippedStores(),
    scheduler,
    syncJobs: runtime.syncQueue,
    ...(queueUrl && { continueWith: async (event) => void (await runtime.clients.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(event) }))) }),
    timeZone: automation.config.timeZone,
    logger: w.logger,
    metrics: w.metrics,
    ...(w.now && { now: w.now }),
  };
}
