/**
 * The whole system on one machine: AWS-compatible services on loopback, the real function code
 * behind an API Gateway stand-in and SQS event-source pollers, a local HubSpot-compatible CRM,
 * and the pending-sync sweep. dynalite and the sync function run on threads of their own, so the
 * webhook, the store and the CRM sync do not share one event loop (on AWS they are apart too).
 * The send side — the API, the send function and its poller, the outbox sweep — runs against a
 * local Graph API stand-in (local/graph/). The automations (local/automation.ts) take the local
 * bus's events and the local scheduler's timers, against a courier stand-in (local/courier/) and a
 * geocoder stand-in (local/geocoder/). `npm start`, the end-to-end tests and the bench all start this.
 */
import { runtimeStorage } from '#shared/batch/storage-growth';
import { Worker } from 'node:worker_threads';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { LocalEventBus } from '#shared/events/bus';
import { MetricTotals } from './metrics.ts';
import { describeError, logger as defaultLogger } from '#shared/observability';
import { BUCKET_LAYOUT, CRM_EVENTS_FUNCTION_TIMEOUT_SECONDS, CRM_EVENTS_QUEUE, MEDIA_QUEUE, CRM_KINDS, ENV, SECRET_KEYS, SEND_FUNCTION_TIMEOUT_SECONDS, SEND_QUEUE, SYNC_RETRY, syncFunctionTimeoutSeconds, type CrmKind, type SyncRetryPolicy } from '#shared/resources';
import { createRuntime, type Runtime } from '#shared/runtime';
import { mediaJob } from '#shared/queue/media-jobs';
import { messageSyncJob } from '#shared/queue/sync-jobs';
import { requeuePendingMedia, requeuePendingSync } from '#shared/sync/sweep';
import { createRedriveApp } from '#functions/retry/app';
import type { SyncDeps } from '#functions/sync/app';
import { createWebhookApp } from '#functions/webhook/app';
import { startApiGateway } from './api-gateway.ts';
import { CRM_ADDRESS_SETTING, startCrmStandIn } from './crm/stand-ins.ts';
import type { CrmStandIn } from './crm/stand-in.ts';
import { BATCH_TASKS, createBatchApp } from '#functions/batch-export/app';
import { runtimeCrmAdapter } from '#shared/crm/factory';
import type { CrmAdapter } from '#shared/crm/port';
import { ContactInsightsKeeper } from '#shared/sync/insights';
import { shippedIntelligence } from '#shared/domain/intelligence/bundled';
import type { LocalHubSpot } from './hubspot/server.ts';
import { contactsView, rawEventsView } from './inspect.ts';
import { startGraphStandIn, type GraphStandIn } from './graph/server.ts';
import { DEFAULT_BUSINESS } from './webhooks.ts';
import { startEventSource } from './event-source.ts';
import { createApiApp } from '#functions/api/app';
import { createSendApp } from '#functions/send/app';
import { createChannels } from '#shared/whatsapp/outbound/factory';
import { startLocalServices, type LocalServices } from './services.ts';
import { crmEventsApp } from '#functions/crm-events/wiring';
import { mediaApp } from '#functions/media/wiring';
import { crmEventsSender } from '#shared/queue/crm-events';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { IncomingMessage } from 'node:http';
import type { SyncWorkerData, SyncWorkerMessage } from './sync-worker.ts';
import { startLocalAutomation, type LocalAutomation } from './automation.ts';
import { startCourierStandIn, type CourierStandIn } from './courier/server.ts';
import { startGeocoderStandIn } from './geocoder/server.ts';
import { shippedAutomation, shippedStores } from '#shared/domain/automation/bundled';
import { localReports } from './reports.ts';

export const LOCAL_DEFAULTS = {
  PORT: '3000',
  SCRM_DATA_DIR: '.data',
  WHATSAPP_APP_SECRET: 'local-app-secret',
  WHATSAPP_VERIFY_TOKEN: 'local-verify-token',
  WHATSAPP_ACCESS_TOKEN: 'local-whatsapp-token',
  HUBSPOT_ACCESS_TOKEN: 'local-hubspot-token',
  SCRM_API_TOKEN: 'local-api-token',
  /** Two-way sync (SY-3): the HubSpot app's client secret that signs its webhooks, Zoho's channel token. */
  HUBSPOT_CLIENT_SECRET: 'local-hubspot-client-secret',
  ZOHO_CHANNEL_TOKEN: 'local-zoho-channel-token',
  COURIER_API_KEY: 'local-courier-key',
  COURIER_WEBHOOK_SECRET: 'local-courier-webhook-secret',
  SCRM_DEFAULT_REGION: 'HK',
  /** The stand-in's business number, with its WABA (templates). */
  WHATSAPP_ACCOUNTS: JSON.stringify({ [DEFAULT_BUSINESS.phoneNumberId]: { name: 'Hong Kong', wabaId: DEFAULT_BUSINESS.wabaId } }),
} as const;

export interface LocalStackOptions {
  /** Settings as environment variables (PORT, WHATSAPP_*, HUBSPOT_*, SCRM_*); defaults above. */
  readonly env?: Record<string, string | undefined>;
  /** Keep data here across restarts; in memory when null. Default SCRM_DATA_DIR. */
  readonly dataDir?: string | null;
  /** Port of the local CRM when HUBSPOT_API_BASE is not set; 0 picks a free one. */
  readonly crmPort?: number;
  /** Port of the local Graph API stand-in when WHATSAPP_GRAPH_API_BASE is not set; 0 picks a free one. */
  readonly graphPort?: number;
  /** Ports of the courier and geocoder stand-ins (unless COURIER_API_BASE / GEO_PLACES_ENDPOINT are set); 0 picks a free one. */
  readonly courierPort?: number;
  readonly geocoderPort?: number;
  /** When the stand-in posts each status webhook after a send (ms). */
  readonly graphStatusDelaysMs?: { sent?: number; delivered?: number; read?: number };
  /**
   * How often the outbox sweep runs locally: every minute, as on AWS. dynalite answers an index
   * query by reading the whole table, so sweeping more often slows every other request down.
   */
  readonly outboxSweepIntervalMs?: number;
  /** Search lag of the local CRM (HubSpot's is seconds). */
  readonly crmSearchLagMs?: number;
  /** How often the sweep queues again what is stored but not synced. */
  readonly sweepIntervalMs?: number;
  /** Observes each synced message (bench). */
  readonly onSynced?: SyncDeps['onSynced'];
  readonly pollers?: boolean;
  /** Where the functions log (tests read it); default the shared Powertools logger. */
  readonly logger?: Pick<typeof defaultLogger, 'info' | 'warn' | 'error'>;
}

export interface LocalStack {
  readonly url: string;
  readonly webhookUrl: string;
  readonly crmUrl: string;
  /** The local stand-in of the CRM SCRM_CRM names (unless its address setting points at a real one). */
  readonly crmStandIn: CrmStandIn | undefined;
  /** The HubSpot stand-in itself, when that is the CRM (HubSpot-specific tests). */
  readonly localCrm: LocalHubSpot | undefined;
  /** The Graph API the send path calls (the stand-in's URL unless WHATSAPP_GRAPH_API_BASE is set). */
  readonly graphUrl: string;
  readonly graph: GraphStandIn | undefined;
  /** The geocoder the automations call (the stand-in's URL unless GEO_PLACES_ENDPOINT is set). */
  readonly geocoderUrl: string | undefined;
  /** The courier stand-in (unless COURIER_API_BASE is set). */
  readonly courier: CourierStandIn | undefined;
  /** The automation function and its local scheduler. */
  readonly automation: LocalAutomation;
  /** The outbox sweep, run now (tests). */
  outboxSweep(): Promise<{ queued: number; unknown: number }>;
  readonly services: LocalServices;
  readonly runtime: Runtime;
  readonly env: Record<string, string | undefined>;
  readonly events: LocalEventBus;
  /** What the functions counted (what CloudWatch would show on AWS). */
  readonly metrics: MetricTotals;
  sweep(minAgeMs?: number): Promise<number>;
  redrive(): Promise<{ redriven: number; alreadySynced: number; malformed: number }>;
  stop(): Promise<void>;
}

/** SCRM_CRM as given (hubspot by default); a wrong one is left for the configuration to name. */
function parseCrmKind(value: string | undefined): CrmKind | 'none' {
  if (value === undefined || value === '') return 'hubspot';
  return value === 'none' || (CRM_KINDS as readonly string[]).includes(value) ? (value as CrmKind | 'none') : 'hubspot';
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const given = options.env ?? {};
  const logger = options.logger ?? defaultLogger;
  const setting = (name: keyof typeof LOCAL_DEFAULTS) => given[name] ?? LOCAL_DEFAULTS[name];
  const dataDir = options.dataDir === null ? undefined : (options.dataDir ?? setting('SCRM_DATA_DIR'));
  // The same retry settings drive the local queue, the poller and the sync function (resources.ts).
  const syncRetry: SyncRetryPolicy = {
    maxAttempts: Number(given[ENV.syncMaxAttempts] ?? SYNC_RETRY.maxAttempts),
    retryDelaySeconds: Number(given[ENV.syncRetryDelaySeconds] ?? SYNC_RETRY.retryDelaySeconds),
  };

  const services = await startLocalServices({ dataDir, syncRetry });
  const stoppers: (() => Promise<void>)[] = [() => services.stop()];
  const stopAll = async () => {
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
  };

  try {
    // The CRM SCRM_CRM names: its local stand-in, unless the setting that points at a real one is given.
    const crmKind = parseCrmKind(given[ENV.crmKind]);
    let crmStandIn: CrmStandIn | undefined;
    let crmUrl = crmKind === 'none' ? '' : (given[CRM_ADDRESS_SETTING[crmKind]] ?? '');
    if (crmKind !== 'none' && !crmUrl) {
      crmStandIn = await startCrmStandIn(crmKind, { port: options.crmPort ?? 0, dataDir, searchLagMs: options.crmSearchLagMs ?? 2000, hubspotToken: setting('HUBSPOT_ACCESS_TOKEN') });
      stoppers.push(() => crmStandIn!.stop());
      crmUrl = crmStandIn.url;
    }
    const localCrm = crmStandIn && 'hub' in crmStandIn ? (crmStandIn as CrmStandIn & { hub: LocalHubSpot }).hub : undefined;

    let graph: GraphStandIn | undefined;
    let graphUrl = given[ENV.graphApiBase];
    const port = Number(setting('PORT'));
    if (!graphUrl) {
      graph = await startGraphStandIn({
        port: options.graphPort ?? 0,
        appSecret: setting('WHATSAPP_APP_SECRET'),
        accessToken: setting('WHATSAPP_ACCESS_TOKEN'),
        // The gateway's port is known once it listens; set below.
        ...(options.graphStatusDelaysMs && { statusDelaysMs: options.graphStatusDelaysMs }),
        messagesPerSecond: Number(given[ENV.messagesPerSecond] ?? 80),
      });
      stoppers.push(() => graph!.close());
      graphUrl = graph.url;
    }

    let courier: CourierStandIn | undefined;
    let courierUrl = given[ENV.courierApiBase];
    if (!courierUrl) {
      courier = await startCourierStandIn({ port: options.courierPort ?? 0, apiKey: setting('COURIER_API_KEY'), webhookSecret: setting('COURIER_WEBHOOK_SECRET') });
      stoppers.push(() => courier!.close());
      courierUrl = courier.url;
    }
    let geoEndpoint = given[ENV.geoPlacesEndpoint];
    if (!geoEndpoint && given[ENV.geocoder] !== 'none') {
      const geocoder = await startGeocoderStandIn({ port: options.geocoderPort ?? 0 });
      stoppers.push(() => geocoder.close());
      geoEndpoint = geocoder.url;
    }

    const env: Record<string, string | undefined> = {
      ...Object.fromEntries(Object.entries(LOCAL_DEFAULTS)),
      ...given,
      ...services.env,
      // The stand-in's address and credentials (a setting given explicitly wins).
      ...Object.fromEntries(Object.entries(crmStandIn?.env ?? {}).filter(([name]) => given[name] === undefined)),
      [ENV.graphApiBase]: graphUrl,
      [ENV.courierApiBase]: courierUrl,
      ...(geoEndpoint && { [ENV.geoPlacesEndpoint]: geoEndpoint }),
    };
    const runtime = await createRuntime(env, services.overrides);
    stoppers.push(async () => runtime.bucket?.destroy());

    const metrics = new MetricTotals();
    const events = new LocalEventBus();
    events.on((event) => logger.info('domain event', { type: event.type, id: event.id }));
    let apiCrm: CrmAdapter | undefined;
    /** The gateway's URL once it listens (the Zoho channel's notify URL). */
    const publicAddress: { url?: string } = {};
    const webhook = createWebhookApp({ ...runtime, syncJobs: runtime.syncQueue, sendJobs: runtime.sendQueue, mediaJobs: runtime.mediaQueue, events, logger, metrics });
    const channels = createChannels(runtime.config, runtime.secretSource);
    const sendJobs = runtime.sendQueue!;
    const api = createApiApp({
      store: runtime.store,
      secretSource: runtime.secretSource,
      jobs: sendJobs,
      accountApi: channels.accountApi,
      config: runtime.config,
      roster: shippedAutomation().roster,
      events,
      syncJobs: runtime.syncQueue,
      storeIds: new Set(shippedStores().map((shop) => shop.id)),
      timeZone: runtime.config.automation.timeZone ?? shippedAutomation().config.timeZone,
      crm: crmKind === 'none' ? undefined : () => (apiCrm ??= runtimeCrmAdapter(runtime)),
      media: runtime.bucket,
      linkBaseUrl: () => publicAddress.url,
      logger,
      metrics,
    });
    // Changes from the CRM (SY-3): the signed routes and the crm-events queue's poller.
    const crmEvents = crmEventsApp({ runtime, queueUrl: services.queueUrls.crmEvents, roster: shippedAutomation().roster, accountApi: channels.accountApi, logger, metrics });
    if (options.pollers !== false) {
      const crmEventsPoller = startEventSource({
        sqs: runtime.clients.sqs,
        queueUrl: services.queueUrls.crmEvents,
        batchSize: CRM_EVENTS_QUEUE.batchSize,
        concurrency: 1,
        handler: (event) => crmEvents.handleQueue(event),
        timeoutMs: CRM_EVENTS_FUNCTION_TIMEOUT_SECONDS * 1000,
        onError: (error) => logger.warn('crm-events poller error', { error: String(error) }),
      });
      stoppers.push(() => crmEventsPoller.stop());
    }
    // Media (MD-1): the media function and its poller, into the local S3.
    if (options.pollers !== false && runtime.bucket) {
      const media = mediaApp({ runtime, dlqUrl: services.queueUrls.mediaDlq, logger, metrics });
      const mediaPoller = startEventSource({
        sqs: runtime.clients.sqs,
        queueUrl: services.queueUrls.media,
        batchSize: MEDIA_QUEUE.batchSize,
        concurrency: 2,
        handler: (event) => media.handleQueue(event),
        // What Lambda gives the media function: 1/6 of the queue's visibility timeout.
        timeoutMs: (MEDIA_QUEUE.visibilityTimeoutSeconds * 1000) / 6,
        onError: (error) => logger.warn('media poller error', { error: String(error) }),
      });
      stoppers.push(() => mediaPoller.stop());
    }
    const automation = startLocalAutomation({ runtime, events, sendJobs, accountApi: channels.accountApi, geoEndpoint, dataDir, logger, metrics, linkBaseUrl: () => publicAddress.url, listen: options.pollers !== false && given['SCRM_LOCAL_AUTOMATIONS'] !== 'off' });
    stoppers.push(async () => automation.stop());
    const sender = createSendApp({
      store: runtime.store,
      channelFor: channels.channelFor,
      accountApi: channels.accountApi,
      sqs: runtime.clients.sqs,
      queueUrl: services.queueUrls.send,
      jobs: sendJobs,
      syncJobs: runtime.syncQueue,
      config: runtime.config,
      logger,
      metrics,
    });
    if (options.pollers !== false) {
      const sendPoller = startEventSource({
        sqs: runtime.clients.sqs,
        queueUrl: services.queueUrls.send,
        batchSize: SEND_QUEUE.batchSize,
        concurrency: 4,
        handler: (event, context) => sender.handle(event, context),
        timeoutMs: SEND_FUNCTION_TIMEOUT_SECONDS * 1000,
        onError: (error) => logger.warn('send poller error', { error: String(error) }),
      });
      stoppers.push(() => sendPoller.stop());
    }
    // Templates listed at start (then daily on AWS); a failure leaves them to the first send that names one.
    await sender.syncTemplates().catch((error: unknown) => logger.warn('template listing failed', { error: String(error) }));
    const outboxSweep = () => sender.sweep();
    const outboxSweeper = setInterval(() => {
      outboxSweep().catch((error: unknown) => logger.warn('outbox sweep failed', { error: String(error) }));
    }, options.outboxSweepIntervalMs ?? 60_000);
    stoppers.push(async () => clearInterval(outboxSweeper));
    const redrive = createRedriveApp({ sqs: runtime.clients.sqs, dlqUrl: services.queueUrls.syncDlq, jobs: runtime.syncQueue, store: runtime.store, logger });

    let syncWorker: { setPublicUrl(url: string): void } | undefined;
    if (options.pollers !== false) {
      // The sync function and its poller on their own thread (local/sync-worker.ts).
      const worker = (syncWorker = await startSyncWorker(
        {
          env,
          overrides: services.overrides,
          queueUrl: services.queueUrls.sync,
          dlqUrl: services.queueUrls.syncDlq,
          // What Lambda gives the sync function on AWS (resources.ts), whatever the local retry pause.
          timeoutMs: syncFunctionTimeoutSeconds() * 1000,
          concurrency: 4,
          forwardLogs: options.logger !== undefined,
          reportSynced: options.onSynced !== undefined,
        },
        (message) => {
          if (message.kind === 'events') void events.publish(message.events);
          else if (message.kind === 'metric') metrics.add(message.metric, message.value, message.dimensions);
          else if (message.kind === 'log') (logger[message.level] as (...args: unknown[]) => void)(...message.args);
          else if (message.kind === 'synced') options.onSynced?.(message.info);
        },
      ));
      stoppers.push(() => worker.stop());
    }

    // Media younger than a minute may be in its first attempt; at start (queues are in memory) all of it goes.
    const sweep = async (minAgeMs = 30_000, mediaMinAgeMs = Math.max(minAgeMs, 60_000)) => {
      const media = runtime.mediaQueue ? await requeuePendingMedia(runtime.store, runtime.mediaQueue, { minAgeMs: mediaMinAgeMs, limit: 1_000, now: Date.now() }) : 0;
      if (media) logger.info('pending media requeued', { media });
      return requeuePendingSync(runtime.store, runtime.syncQueue, { minAgeMs, limit: 1_000, now: Date.now() });
    };
    // After a restart (or a crash mid-enqueue) everything stored but not synced goes back in the queue.
    // Locally by a scan of the rows, not only the pending index: dynalite writes an item's index
    // entries and the item one after the other, so a process killed in between (the crash test)
    // can leave a pending row without its index entry. DynamoDB writes both atomically.
    await requeueEveryPendingRow(runtime.store, runtime.syncQueue);
    await requeueEveryPendingMedia(runtime.store, runtime.mediaQueue);
    await sweep(0);
    const sweeper = setInterval(() => {
      sweep().catch((error: unknown) => logger.warn('sweep failed', { error: String(error) }));
    }, options.sweepIntervalMs ?? 60_000);
    stoppers.push(async () => clearInterval(sweeper));

    // The batch function's tasks, run on demand (`npm run batch -- <task>`); on AWS the schedules run them.
    let batchCrm: CrmAdapter | undefined;
    const batch = createBatchApp({
      store: runtime.store,
      syncJobs: runtime.syncQueue,
      mediaJobs: runtime.mediaQueue,
      storage: runtimeStorage(runtime),
      archive: runtime.bucket,
      insights: new ContactInsightsKeeper({ store: runtime.store, intelligence: shippedIntelligence(), events }),
      crm: () => (batchCrm ??= runtimeCrmAdapter(runtime)),
      logger,
      metrics,
      secrets: runtime.secretSource,
      exports: runtime.bucket,
      timeZone: runtime.config.automation.timeZone,
      hotWordFamily: shippedIntelligence().hotWordFamily,
      crmEvents: crmEventsSender(runtime.clients.sqs, services.queueUrls.crmEvents),
      publicUrl: () => publicAddress.url,
      channelToken: async () => (await runtime.secretSource.current()).crm[SECRET_KEYS.zohoChannelToken],
      ...(given[ENV.duplicateAutoMerge] && { autoMergeAt: Number(given[ENV.duplicateAutoMerge]) }),
    });
    const runBatch = async (_req: unknown, url: URL) => {
      const task = url.searchParams.get('task') ?? '';
      if (!(BATCH_TASKS as readonly string[]).includes(task)) return { status: 400, body: JSON.stringify({ message: `unknown task "${task}": one of ${BATCH_TASKS.join(', ')}` }) };
      try {
        return { status: 200, body: JSON.stringify(await batch.run(task, { remainingMs: () => 14 * 60_000, fresh: url.searchParams.get('fresh') === 'true' }), null, 2) };
      } catch (error) {
        return { status: 500, body: JSON.stringify({ task, message: describeError(error) }) };
      }
    };
    const listExports = async (_req: unknown, url: URL) => {
      if (!runtime.bucket) return { status: 404, body: JSON.stringify({ message: 'no bucket' }) };
      const key = url.searchParams.get('key');
      if (key) {
        if (!key.startsWith(BUCKET_LAYOUT.exports)) return { status: 400, body: JSON.stringify({ message: `only keys under ${BUCKET_LAYOUT.exports}` }) };
        const body = await runtime.bucket.get(key).catch(() => undefined);
        return body === undefined ? { status: 404, body: JSON.stringify({ message: `no export ${key}` }) } : { status: 200, type: 'text/csv; charset=utf-8', body };
      }
      return { status: 200, body: JSON.stringify(await runtime.bucket.list(BUCKET_LAYOUT.exports), null, 2) };
    };

    const tableName = runtime.config.tableName;
    const reports = localReports({ store: runtime.store, bucket: runtime.bucket, metrics, logger });
    const gateway = await startApiGateway(
      {
        lambda: { 'GET /webhook': webhook.handle, 'POST /webhook': webhook.handle, 'ANY /api/*': api.handle, 'ANY /media/*': api.handle, 'ANY /reports/*': api.handle, 'ANY /l/*': api.handle, 'POST /courier-events': api.handle, 'POST /crm-events/hubspot': crmEvents.handleHttp, 'POST /crm-events/zoho': crmEvents.handleHttp },
        local: {
          'GET /health': async () => {
            const parts = await healthOf(runtime, services, crmUrl);
            const ok = Object.values(parts).every((p) => p.ok);
            return { status: ok ? 200 : 503, body: JSON.stringify({ status: ok ? 'ok' : 'degraded', parts }, null, 2) };
          },
          'GET /local/endpoints': async () => ({
            status: 200,
            body: JSON.stringify({ ...services.overrides, tableName, syncQueueUrl: services.queueUrls.sync, syncDlqUrl: services.queueUrls.syncDlq, sendQueueUrl: services.queueUrls.send, crmUrl, graphUrl, courierUrl, geocoderUrl: geoEndpoint }, null, 2),
          }),
          'GET /local/events': async () => ({ status: 200, body: JSON.stringify(events.events(), null, 2) }),
          'GET /local/metrics': async () => ({ status: 200, body: JSON.stringify(metrics.snapshot(), null, 2) }),
          'GET /local/contacts': async () => ({ status: 200, body: JSON.stringify(await contactsView(runtime.clients.documents, tableName), null, 2) }),
          'POST /local/redrive': async () => ({ status: 200, body: JSON.stringify(await redrive.redrive()) }),
          'POST /local/automation/follow-up': async () => ({ status: 200, body: JSON.stringify(await automation.app.task('follow-up', { getRemainingTimeInMillis: () => 60_000 })) }),
          'POST /local/batch': runBatch,
          // Plays Salesforce Event Relay → EventBridge partner bus → rule → crm-events queue.
          'POST /local/partner-events/salesforce': async (req) => {
            const body = await readRequest(req);
            await runtime.clients.sqs.send(new SendMessageCommand({ QueueUrl: services.queueUrls.crmEvents, MessageBody: body }));
            return { status: 200, body: JSON.stringify({ queued: true }) };
          },
          // What the CRM stand-in holds, in the same terms for every CRM (npm run simulate prints it).
          'GET /local/crm': async () => ({
            status: crmStandIn ? 200 : 404,
            body: JSON.stringify(
              crmStandIn
                ? { kind: crmStandIn.kind, url: crmStandIn.url, contacts: crmStandIn.contacts(), messages: crmStandIn.messages(), opportunities: crmStandIn.opportunities(), tasks: crmStandIn.tasks(), cases: crmStandIn.cases() }
                : { message: 'the CRM is not a local stand-in' },
              null,
              2,
            ),
          }),
          'GET /local/exports': listExports,
          // A stored media object's bytes (MD-1), by its key as /local/contacts lists it.
          'GET /local/media/*': async (_req, url) => {
            // `/local/<key>` (the key starts with media/); `/local/media/<key>` is read the same.
            const path = decodeURIComponent(url.pathname.slice('/local/'.length));
            const key = path.startsWith(`${BUCKET_LAYOUT.media}${BUCKET_LAYOUT.media}`) ? path.slice(BUCKET_LAYOUT.media.length) : path;
            if (!key.startsWith(BUCKET_LAYOUT.media) || !runtime.bucket) return { status: 400, body: JSON.stringify({ message: `only keys under ${BUCKET_LAYOUT.media}` }) };
            const object = await runtime.bucket.getObject(key);
            if (!object) return { status: 404, body: JSON.stringify({ message: `no media ${key}` }) };
            const chunks: Uint8Array[] = [];
            for await (const chunk of object.body) chunks.push(chunk);
            return { status: 200, type: object.contentType ?? 'application/octet-stream', body: Buffer.concat(chunks) };
          },
          // The reports (RP-9), built from the aggregates on each request.
          'GET /local/reports': reports,
          'GET /local/reports/*': reports,
          'GET /local/timers': async () => ({ status: 200, body: JSON.stringify(automation.scheduler.pending(), null, 2) }),
          'GET /local/raw-events': async () => ({ status: 200, body: JSON.stringify(await rawEventsView(runtime.clients.documents, tableName), null, 2) }),
        },
      },
      { port },
    );
    stoppers.push(() => gateway.stop());
    // The stand-in answers each send with signed status webhooks to this stack.
    graph?.setWebhookUrl(`${gateway.url}/webhook`);
    // The CRM stand-in's change notifications come to this stack (HubSpot webhooks, Salesforce
    // events); Zoho's channel is opened the way production opens it, by the crm-watch task.
    publicAddress.url = gateway.url;
    syncWorker?.setPublicUrl(gateway.url);
    crmStandIn?.twoWay?.setDeliveryTarget(gateway.url);
    if (crmKind === 'zoho' && crmStandIn) await batch.run('crm-watch').catch((error: unknown) => logger.warn('Zoho notification channel not opened', { error: describeError(error) }));
    courier?.setWebhookUrl(`${gateway.url}/courier-events`);

    return {
      url: gateway.url,
      webhookUrl: `${gateway.url}/webhook`,
      crmUrl,
      crmStandIn,
      localCrm,
      graphUrl,
      graph,
      courier,
      geocoderUrl: geoEndpoint,
      automation,
      outboxSweep,
      services,
      runtime,
      env,
      events,
      metrics,
      sweep,
      redrive: () => redrive.redrive(),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** Starts local/sync-worker.ts; resolves once its poller runs. */
async function startSyncWorker(data: SyncWorkerData, onMessage: (message: SyncWorkerMessage) => void): Promise<{ setPublicUrl(url: string): void; stop(): Promise<void> }> {
  // The worker loads the TypeScript sources through tsx, whoever started this process (npm start, vitest).
  const tsx = process.execArgv.some((arg) => arg.includes('tsx')) ? [] : ['--import', 'tsx'];
  const worker = new Worker(new URL('./sync-worker.ts', import.meta.url), { workerData: data, execArgv: [...process.execArgv, ...tsx] });
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (message: SyncWorkerMessage) => {
      if (message.kind === 'ready') resolve();
      else if (message.kind === 'failed') reject(new Error(`sync worker: ${message.message}`));
      else onMessage(message);
    });
  });
  return {
    setPublicUrl: (url: string) => worker.postMessage({ kind: 'public-url', url }),
    async stop() {
      const stopped = new Promise((resolve) => worker.on('message', (m: SyncWorkerMessage) => m.kind === 'stopped' && resolve(undefined)));
      worker.postMessage({ kind: 'stop' });
      await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, 5000))]);
      await worker.terminate();
    },
  };
}

/** Every message row still pending, found by a scan (local data only), queued again in arrival order. */
async function requeueEveryPendingRow(store: Runtime['store'], jobs: Runtime['syncQueue']): Promise<number> {
  const pending: { wamid: string; contactId: string; receivedAt: number }[] = [];
  for await (const page of store.table.scanPages({
    FilterExpression: 'sk = :message AND syncState = :pending',
    ExpressionAttributeValues: { ':message': 'MESSAGE', ':pending': 'pending' },
    ProjectionExpression: 'wamid, contactId, receivedAt',
  })) {
    pending.push(...(page.items as { wamid: string; contactId: string; receivedAt: number }[]));
  }
  pending.sort((a, b) => a.receivedAt - b.receivedAt);
  for (const row of pending) await jobs.enqueue([messageSyncJob(row.wamid, row.contactId)]);
  return pending.length;
}

/** The same for media work (shared/store/media.ts): every item still pending, by a scan. */
async function requeueEveryPendingMedia(store: Runtime['store'], jobs: Runtime['mediaQueue']): Promise<number> {
  if (!jobs) return 0;
  const pending: { wamid: string; contactId: string }[] = [];
  for await (const page of store.table.scanPages({
    FilterExpression: 'sk = :media AND begins_with(gsi2pk, :pending)',
    ExpressionAttributeValues: { ':media': 'MEDIA', ':pending': 'PENDING#MEDIA#' },
    ProjectionExpression: 'wamid, contactId',
  })) {
    pending.push(...(page.items as { wamid: string; contactId: string }[]));
  }
  if (pending.length) await jobs.enqueue(pending.map((w) => mediaJob(w.wamid, w.contactId)));
  return pending.length;
}

async function healthOf(runtime: Runtime, services: LocalServices, crmUrl: string) {
  const check = async (probe: () => Promise<Record<string, unknown>>) => {
    try {
      return { ok: true, ...(await probe()) };
    } catch (error) {
      return { ok: false, error: String(error) };
    }
  };
  return {
    dynamodb: await check(async () => {
      const table = await runtime.clients.dynamodb.send(new DescribeTableCommand({ TableName: runtime.config.tableName }));
      return { table: runtime.config.tableName, status: table.Table?.TableStatus };
    }),
    sqs: await check(async () => {
      const attributes = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] as const;
      const [queue, dlq] = await Promise.all(
        [services.queueUrls.sync, services.queueUrls.syncDlq].map((url) =>
          runtime.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: [...attributes] })),
        ),
      );
      return {
        syncQueued: Number(queue?.Attributes?.['ApproximateNumberOfMessages'] ?? 0),
        syncInFlight: Number(queue?.Attributes?.['ApproximateNumberOfMessagesNotVisible'] ?? 0),
        deadLetters: Number(dlq?.Attributes?.['ApproximateNumberOfMessages'] ?? 0),
      };
    }),
    crm: await check(async () => {
      const response = await fetch(crmUrl, { signal: AbortSignal.timeout(2000) });
      return { url: crmUrl, status: response.status };
    }),
  };
}

async function readRequest(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
