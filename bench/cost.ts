/**
 * What one WhatsApp message uses of AWS, measured (OP-3): a realistic mix of conversations pushed
 * through the real function code in this process — webhook, sync, api, send and automation, each
 * with clients of its own — against the local services (dynalite, fauxqs), the local HubSpot and
 * the Graph API stand-in, which posts the status webhooks back. What each function asks of AWS is
 * counted by SDK middleware on its clients:
 *
 * - DynamoDB request units as DynamoDB bills them: a write 1 WRU per KB of the larger of the item
 *   before and after (both read by a probe around the write, with its own client), once more for
 *   every global secondary index entry written or removed (the indexes project every attribute),
 *   twice inside a transaction; a read 1 RRU per 4 KB read, half when eventually consistent, a
 *   query by the size of what it returned (scaled by ScannedCount over Count when filtered);
 * - SQS requests by queue type (FIFO or standard), S3 requests and bytes put, events published;
 * - each handler's duration (less the probes' time), and the bytes its logger and its metrics
 *   (embedded metric format) write at INFO, with the fields Lambda's context adds to each line.
 *
 * What the local stand-ins cannot show is added from stated assumptions (config/aws-usage.json
 * `assumptions`): an SQS event source's receive and delete per batch, the automation queue that
 * EventBridge delivers to, Lambda's own log lines, the HTTP API's access log line.
 *   BENCH_ONLY=cost npm run bench          BENCH_COST_CUSTOMERS (default 60)
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { execFileSync } from 'node:child_process';
import { Console } from 'node:console';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { type AttributeValue, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import type * as S3 from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createApiApp } from '#functions/api/app';
import { parseAutomationEvent } from '#functions/automation/app';
import { createSendApp } from '#functions/send/app';
import { createSyncApp } from '#functions/sync/app';
import { createWebhookApp } from '#functions/webhook/app';
import { startApiGateway } from '#local/api-gateway';
import { startLocalAutomation } from '#local/automation';
import { startCourierStandIn } from '#local/courier/server';
import { startCrmStandIn } from '#local/crm/stand-ins';
import { startEventSource } from '#local/event-source';
import { startGraphStandIn } from '#local/graph/server';
import { startLocalServices } from '#local/services';
import { LOCAL_DEFAULTS } from '#local/stack';
import { deliver, textMessage, type Customer } from '#local/webhooks';
import { runtimeCrmAdapter } from '#shared/crm/factory';
import { shippedAutomation, shippedStores } from '#shared/domain/automation/bundled';
import { shippedIntelligence } from '#shared/domain/intelligence/bundled';
import { type DomainEvent, type DomainEventBus, LocalEventBus } from '#shared/events/bus';
import { mediaLinkKey } from '#shared/media/links';
import { METRICS, METRIC_NAMESPACE, type MetricKey, type MetricsSink } from '#shared/metric-names';
import { AUTOMATION_EVENT_TYPES, ENV, SEND_FUNCTION_TIMEOUT_SECONDS, SEND_QUEUE, SYNC_QUEUE, TABLE, syncFunctionTimeoutSeconds } from '#shared/resources';
import { awsCostModel, loadAwsUsage, monthlyCost, type AwsUsage } from '#shared/reports/cost-model';
import { createRuntime, type Runtime } from '#shared/runtime';
import { requeuePendingMedia, requeuePendingSync } from '#shared/sync/sweep';
import { createChannels } from '#shared/whatsapp/outbound/factory';

/** The functions the message path runs through (the others run on schedules). */
const PATH_FUNCTIONS = ['webhook', 'sync', 'api', 'send', 'automation'] as const;
type PathFunction = (typeof PATH_FUNCTIONS)[number];

const USAGE_FILE = new URL('../config/aws-usage.json', import.meta.url);

interface Tally {
  invocations: number;
  ms: number;
  rru: number;
  wru: number;
  sqsStandard: number;
  sqsFifo: number;
  s3Put: number;
  s3Get: number;
  s3Bytes: number;
  logBytes: number;
  events: number;
}
const emptyTally = (): Tally => ({ invocations: 0, ms: 0, rru: 0, wru: 0, sqsStandard: 0, sqsFifo: 0, s3Put: 0, s3Get: 0, s3Bytes: 0, logBytes: 0, events: 0 });

/** The invocation a store call belongs to: the probes' time is taken off its duration. */
const invocation = new AsyncLocalStorage<{ probeMs: number }>();

// ---------------------------------------------------------------------------------------------
// DynamoDB request units, as DynamoDB bills them
// ---------------------------------------------------------------------------------------------

type Item = Record<string, AttributeValue>;

/** DynamoDB's item size: attribute names and values (UTF-8 strings, numbers by digits, 3 + 1 per element for lists and maps). */
export function itemSize(item: Item | undefined): number {
  if (!item) return 0;
  return Object.entries(item).reduce((total, [name, value]) => total + Buffer.byteLength(name) + valueSize(value), 0);
}

function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return numberSize(value.N);
  if (value.B !== undefined) return value.B.length;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS) return value.SS.reduce((n, s) => n + Buffer.byteLength(s), 0);
  if (value.NS) return value.NS.reduce((n, s) => n + numberSize(s), 0);
  if (value.BS) return value.BS.reduce((n, b) => n + b.length, 0);
  if (value.L) return 3 + value.L.reduce((n, v) => n + 1 + valueSize(v), 0);
  if (value.M) return 3 + Object.entries(value.M).reduce((n, [k, v]) => n + 1 + Buffer.byteLength(k) + valueSize(v), 0);
  return 0;
}

function numberSize(n: string): number {
  const digits = n.replace(/^-/, '').replace('.', '').replace(/^0+/, '').replace(/e.*$/i, '').length;
  return Math.ceil(Math.max(1, digits) / 2) + 1;
}

const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));
const readUnits = (bytes: number, consistent: boolean) => Math.max(1, Math.ceil(bytes / 4096)) * (consistent ? 1 : 0.5);
const INDEXES = Object.values(TABLE.indexes);

/** Write units of one item write: the table's (the larger image), and each index entry written or removed. */
export function itemWriteUnits(before: Item | undefined, after: Item | undefined, transactional = false): number {
  const table = writeUnits(Math.max(itemSize(before), itemSize(after))) * (transactional ? 2 : 1);
  let indexes = 0;
  for (const index of INDEXES) {
    const keyOf = (item: Item | undefined) => (item?.[index.partitionKey] && item[index.sortKey] ? JSON.stringify([item[index.partitionKey], item[index.sortKey]]) : undefined);
    const was = keyOf(before);
    const is = keyOf(after);
    if (was === undefined && is === undefined) continue;
    if (was !== undefined && is !== undefined && was === is) {
      if (JSON.stringify(before) !== JSON.stringify(after)) indexes += writeUnits(Math.max(itemSize(before), itemSize(after)));
      continue;
    }
    if (was !== undefined) indexes += writeUnits(itemSize(before));
    if (is !== undefined) indexes += writeUnits(itemSize(after));
  }
  return table + indexes;
}

type Middleware = (
  next: (args: { input: unknown }) => Promise<{ output: unknown }>,
  context: { commandName?: string },
) => (args: { input: unknown }) => Promise<{ output: unknown }>;

function countDynamo(client: DynamoDBClient, probe: DynamoDBClient, tally: Tally): void {
  const read = async (tableName: string, key: Item): Promise<Item | undefined> => {
    const started = performance.now();
    try {
      return (await probe.send(new GetItemCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item;
    } finally {
      const store = invocation.getStore();
      if (store) store.probeMs += performance.now() - started;
    }
  };
  const keyOf = (item: Item): Item => ({ [TABLE.partitionKey]: item[TABLE.partitionKey]!, [TABLE.sortKey]: item[TABLE.sortKey]! });
  const middleware: Middleware = (next, context) => async (args) => {
    const name = String(context.commandName ?? '');
    const input = args.input as Record<string, unknown>;
    const table = String(input['TableName'] ?? '');
    // Writes: the item before and after, around the call.
    const writes: { table: string; key: Item; transactional: boolean }[] = [];
    if (name === 'PutItemCommand') writes.push({ table, key: keyOf(input['Item'] as Item), transactional: false });
    if (name === 'UpdateItemCommand' || name === 'DeleteItemCommand') writes.push({ table, key: input['Key'] as Item, transactional: false });
    if (name === 'TransactWriteItemsCommand') {
      for (const entry of input['TransactItems'] as Record<string, { TableName: string; Item?: Item; Key?: Item }>[]) {
        const [kind, op] = Object.entries(entry)[0]!;
        if (kind === 'ConditionCheck') tally.wru += 2;
        else writes.push({ table: op.TableName, key: op.Item ? keyOf(op.Item) : op.Key!, transactional: true });
      }
    }
    if (name === 'BatchWriteItemCommand') {
      for (const [tableName, requests] of Object.entries(input['RequestItems'] as Record<string, { PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }[]>)) {
        for (const r of requests) writes.push({ table: tableName, key: r.PutRequest ? keyOf(r.PutRequest.Item) : r.DeleteRequest!.Key, transactional: false });
      }
    }
    const before = await Promise.all(writes.map((w) => read(w.table, w.key)));
    let result: Awaited<ReturnType<typeof next>>;
    try {
      result = await next(args);
    } catch (error) {
      // A write refused by its condition is billed too (the item's size); nothing changed in the indexes.
      writes.forEach((w, i) => (tally.wru += writeUnits(itemSize(before[i])) * (w.transactional ? 2 : 1)));
      throw error;
    }
    if (writes.length > 0) {
      const after = await Promise.all(writes.map((w) => read(w.table, w.key)));
      writes.forEach((w, i) => (tally.wru += itemWriteUnits(before[i], after[i], w.transactional)));
    }
    const output = result.output as Record<string, unknown>;
    const consistent = input['ConsistentRead'] === true;
    if (name === 'GetItemCommand') tally.rru += readUnits(itemSize(output['Item'] as Item | undefined), consistent);
    if (name === 'BatchGetItemCommand') {
      for (const [tableName, items] of Object.entries((output['Responses'] ?? {}) as Record<string, Item[]>)) {
        const asked = (input['RequestItems'] as Record<string, { Keys: Item[]; ConsistentRead?: boolean }>)[tableName];
        const keys = asked?.Keys.length ?? items.length;
        tally.rru += items.reduce((n, item) => n + readUnits(itemSize(item), asked?.ConsistentRead === true), 0) + Math.max(0, keys - items.length) * readUnits(0, asked?.ConsistentRead === true);
      }
    }
    if (name === 'TransactGetItemsCommand') {
      for (const r of (output['Responses'] ?? []) as { Item?: Item }[]) tally.rru += 2 * readUnits(itemSize(r.Item), true);
    }
    if (name === 'QueryCommand' || name === 'ScanCommand') {
      const items = (output['Items'] ?? []) as Item[];
      const returned = items.reduce((n, item) => n + itemSize(item), 0);
      const countReturned = Number(output['Count'] ?? items.length);
      const scanned = Number(output['ScannedCount'] ?? countReturned);
      const bytes = countReturned > 0 ? (returned / countReturned) * scanned : 0;
      tally.rru += readUnits(bytes, consistent && input['IndexName'] === undefined);
    }
    return result;
  };
  // After the serializer (build step): the input is the marshalled one the document client passed on, the output not yet unmarshalled.
  client.middlewareStack.add(middleware as never, { step: 'build', priority: 'high', name: 'benchCostDynamo' });
}

function countSqs(client: SQSClient, tally: Tally): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String((context as { commandName?: string }).commandName ?? '');
      const input = args.input as { QueueUrl?: string; MessageBody?: string; Entries?: { MessageBody?: string }[] };
      // The local poller's own calls (its visibility bookkeeping) are not the app's.
      if (!/^(SendMessage|SendMessageBatch|ChangeMessageVisibility|ChangeMessageVisibilityBatch|DeleteMessage|DeleteMessageBatch)Command$/.test(name)) return next(args);
      const bytes = Buffer.byteLength(input.MessageBody ?? '') + (input.Entries ?? []).reduce((n, e) => n + Buffer.byteLength(e.MessageBody ?? ''), 0);
      const requests = Math.max(1, Math.ceil(bytes / 65_536));
      if (input.QueueUrl?.endsWith('.fifo')) tally.sqsFifo += requests;
      else tally.sqsStandard += requests;
      return next(args);
    },
    { step: 'initialize', priority: 'high', name: 'benchCostSqs' },
  );
}

function countS3(client: S3Client, tally: Tally): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String((context as { commandName?: string }).commandName ?? '');
      const input = args.input as { Body?: unknown; ContentLength?: number };
      if (/^(PutObject|CopyObject|CreateMultipartUpload|UploadPart|CompleteMultipartUpload|ListObjectsV2|ListObjects)Command$/.test(name)) tally.s3Put++;
      else if (/^(GetObject|HeadObject)Command$/.test(name)) tally.s3Get++;
      if (name === 'PutObjectCommand' || name === 'UploadPartCommand') {
        const body = input.Body;
        tally.s3Bytes += input.ContentLength ?? (typeof body === 'string' ? Buffer.byteLength(body) : body instanceof Uint8Array ? body.length : 0);
      }
      return next(args);
    },
    { step: 'initialize', priority: 'high', name: 'benchCostS3' },
  );
}

/** Points the bucket's lazily made S3 client at one that counts. */
function countBucket(runtime: Runtime, tally: Tally): void {
  const bucket = runtime.bucket as unknown as { client?: Promise<{ s3: S3Client; sdk: typeof S3 }> } | undefined;
  if (!bucket) return;
  bucket.client = import('@aws-sdk/client-s3').then((sdk) => {
    const s3 = new sdk.S3Client(runtime.clients.s3Config);
    countS3(s3, tally);
    return { sdk, s3 };
  });
}

// ---------------------------------------------------------------------------------------------
// Logs and metrics, as each function writes them
// ---------------------------------------------------------------------------------------------

function byteCounter(tally: Tally): Console {
  const sink = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      tally.logBytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      if (process.env['BENCH_COST_DEBUG'] && /"level":"(ERROR|WARN)"/.test(String(chunk))) process.stderr.write(chunk);
      done();
    },
  });
  return new Console({ stdout: sink, stderr: sink });
}

/** A Powertools logger at INFO (the level the stack deploys with) with the fields Lambda's context adds to every line. */
function functionLogger(fn: string, tally: Tally): Logger {
  const logger = new Logger({ serviceName: fn, logLevel: 'INFO' });
  logger.setLogLevel('INFO');
  (logger as unknown as { console: Console }).console = byteCounter(tally);
  logger.appendPersistentKeys({
    cold_start: false,
    function_arn: `arn:aws:lambda:ap-east-1:123456789012:function:scrm-prod-${fn}`,
    function_memory_size: '512',
    function_name: `scrm-prod-${fn}`,
    function_request_id: '3f1c2b9e-7a4d-4c1e-9b2a-5d6e7f8a9b0c',
    xray_trace_id: '1-67890abc-1234567890abcdef12345678',
  });
  return logger;
}

const UNITS = { Count: MetricUnit.Count, Milliseconds: MetricUnit.Milliseconds, None: MetricUnit.NoUnit } as const;

/** Powertools Metrics as the function emits them (flushed after each invocation), counted; and the distinct metrics. */
function functionMetrics(fn: string, tally: Tally, distinct: Set<string>): { sink: MetricsSink; flush(): void } {
  const counter = byteCounter(tally);
  // Its warnings ("No application metrics to publish", after an invocation that emitted none) go to the function's log too.
  const metrics = new Metrics({ namespace: METRIC_NAMESPACE, serviceName: fn, defaultDimensions: { stage: 'prod' }, logger: counter });
  (metrics as unknown as { console: Console }).console = counter;
  const sink: MetricsSink = {
    add(metric: MetricKey, value = 1, dimensions?: Readonly<Record<string, string>>) {
      const { name, unit } = METRICS[metric];
      distinct.add(`${fn}|${name}|${JSON.stringify(Object.entries(dimensions ?? {}).sort())}`);
      if (!dimensions || Object.keys(dimensions).length === 0) {
        metrics.addMetric(name, UNITS[unit], value);
        return;
      }
      const single = metrics.singleMetric();
      (single as unknown as { console: Console }).console = counter;
      for (const [key, dimension] of Object.entries(dimensions)) single.addDimension(key, dimension);
      single.addMetric(name, UNITS[unit], value);
    },
  };
  return { sink, flush: () => metrics.publishStoredMetrics() };
}

// ---------------------------------------------------------------------------------------------
// The bench
// ---------------------------------------------------------------------------------------------

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface CostBenchResult {
  readonly usage: AwsUsage;
  readonly markdown: string;
}

export async function benchCost(options: { customers?: number } = {}): Promise<CostBenchResult> {
  const customersCount = options.customers ?? Number(process.env['BENCH_COST_CUSTOMERS'] ?? 60);
  const tallies = Object.fromEntries(PATH_FUNCTIONS.map((fn) => [fn, emptyTally()])) as Record<PathFunction, Tally>;
  const distinctMetrics = new Set<string>();
  const stoppers: (() => Promise<unknown>)[] = [];
  const services = await startLocalServices({ dataDir: undefined });
  stoppers.push(() => services.stop());
  try {
    const crm = await startCrmStandIn('hubspot', { port: 0, searchLagMs: 50, hubspotToken: LOCAL_DEFAULTS.HUBSPOT_ACCESS_TOKEN });
    stoppers.push(() => crm.stop());
    const graph = await startGraphStandIn({ port: 0, appSecret: LOCAL_DEFAULTS.WHATSAPP_APP_SECRET, accessToken: LOCAL_DEFAULTS.WHATSAPP_ACCESS_TOKEN, statusDelaysMs: { sent: 100, delivered: 300, read: 2_000 } });
    stoppers.push(() => graph.close());
    const courier = await startCourierStandIn({ port: 0, apiKey: LOCAL_DEFAULTS.COURIER_API_KEY, webhookSecret: LOCAL_DEFAULTS.COURIER_WEBHOOK_SECRET });
    stoppers.push(() => courier.close());
    const env: Record<string, string | undefined> = {
      ...LOCAL_DEFAULTS,
      ...services.env,
      ...crm.env,
      [ENV.graphApiBase]: graph.url,
      [ENV.courierApiBase]: courier.url,
      [ENV.geocoder]: 'none',
      [ENV.timeZone]: 'Asia/Hong_Kong',
    };

    // Each function with its own runtime (clients, store): what it asks of AWS is its own.
    const probe = new DynamoDBClient({ region: 'us-east-1', endpoint: services.overrides.dynamodbEndpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    stoppers.push(async () => probe.destroy());
    const runtimes = {} as Record<PathFunction, Runtime>;
    const loggers = {} as Record<PathFunction, Logger>;
    const sinks = {} as Record<PathFunction, ReturnType<typeof functionMetrics>>;
    const buses = {} as Record<PathFunction, DomainEventBus>;
    const bus = new LocalEventBus();
    for (const fn of PATH_FUNCTIONS) {
      const runtime = await createRuntime(env, services.overrides);
      countDynamo(runtime.clients.dynamodb, probe, tallies[fn]);
      countSqs(runtime.clients.sqs, tallies[fn]);
      countBucket(runtime, tallies[fn]);
      runtimes[fn] = runtime;
      loggers[fn] = functionLogger(fn, tallies[fn]);
      sinks[fn] = functionMetrics(fn, tallies[fn], distinctMetrics);
      buses[fn] = {
        publish: async (events: readonly DomainEvent[]) => {
          tallies[fn].events += events.length;
          await bus.publish(events);
        },
      };
    }
    /** One invocation of `fn`: its duration less the probes', its metrics flushed as logMetrics does. */
    const invoke = async <T>(fn: PathFunction, run: () => Promise<T>): Promise<T> => {
      const store = { probeMs: 0 };
      const started = performance.now();
      try {
        return await invocation.run(store, run);
      } finally {
        tallies[fn].invocations++;
        tallies[fn].ms += Math.max(0, performance.now() - started - store.probeMs);
        sinks[fn].flush();
        lastActivity = performance.now();
      }
    };
    let lastActivity = performance.now();

    const rt = runtimes;
    const webhook = createWebhookApp({ ...rt.webhook, syncJobs: rt.webhook.syncQueue, sendJobs: rt.webhook.sendQueue, mediaJobs: rt.webhook.mediaQueue, events: buses.webhook, logger: loggers.webhook, metrics: sinks.webhook.sink });
    const channels = createChannels(rt.send.config, rt.send.secretSource);
    const api = createApiApp({
      store: rt.api.store,
      secretSource: rt.api.secretSource,
      jobs: rt.api.sendQueue!,
      accountApi: createChannels(rt.api.config, rt.api.secretSource).accountApi,
      config: rt.api.config,
      roster: shippedAutomation().roster,
      events: buses.api,
      syncJobs: rt.api.syncQueue,
      storeIds: new Set(shippedStores().map((shop) => shop.id)),
      timeZone: rt.api.config.automation.timeZone ?? shippedAutomation().config.timeZone,
      crm: () => runtimeCrmAdapter(rt.api),
      media: rt.api.bucket,
      logger: loggers.api,
      metrics: sinks.api.sink,
    });
    const sender = createSendApp({
      store: rt.send.store,
      channelFor: channels.channelFor,
      accountApi: channels.accountApi,
      sqs: rt.send.clients.sqs,
      queueUrl: services.queueUrls.send,
      jobs: rt.send.sendQueue!,
      syncJobs: rt.send.syncQueue,
      config: rt.send.config,
      logger: loggers.send,
      metrics: sinks.send.sink,
    });
    await sender.syncTemplates().catch(() => undefined);
    const gatewayAddress: { url?: string } = {};
    const sync = createSyncApp({
      store: rt.sync.store,
      crm: runtimeCrmAdapter(rt.sync),
      sqs: rt.sync.clients.sqs,
      jobs: rt.sync.syncQueue,
      queueUrl: services.queueUrls.sync,
      dlqUrl: services.queueUrls.syncDlq,
      config: rt.sync.config.sync,
      logger: loggers.sync,
      intelligence: shippedIntelligence(),
      events: buses.sync,
      metrics: sinks.sync.sink,
      mediaLinks: { publicUrl: () => gatewayAddress.url, key: async () => mediaLinkKey(await rt.sync.secretSource.current()) },
    });
    const automation = startLocalAutomation({ runtime: rt.automation, events: bus, sendJobs: rt.automation.sendQueue!, accountApi: channels.accountApi, logger: loggers.automation, metrics: sinks.automation.sink, listen: false });
    stoppers.push(async () => automation.stop());
    // The automation queue: EventBridge's rule delivers each event, one invocation each (Lambda's batch at this rate).
    const automationTypes = new Set<string>(AUTOMATION_EVENT_TYPES);
    let automationPending = 0;
    bus.on((event) => {
      if (!automationTypes.has(event.type)) return;
      const parsed = parseAutomationEvent(JSON.stringify(event));
      if ('error' in parsed) return;
      automationPending++;
      setImmediate(() => {
        void invoke('automation', () => automation.app.handleEvent(parsed, { deadline: Date.now() + 10_000 }))
          .catch(() => undefined)
          .finally(() => automationPending--);
      });
    });

    // Pollers play the event source mappings, on clients that do not count (their receive and delete are added per batch below).
    const pollerClients = await createRuntime(env, services.overrides);
    const pollers = [
      startEventSource({ sqs: pollerClients.clients.sqs, queueUrl: services.queueUrls.sync, batchSize: SYNC_QUEUE.batchSize, concurrency: 2, timeoutMs: syncFunctionTimeoutSeconds() * 1000, handler: (event, context) => invoke('sync', () => sync.handle(event, context)) }),
      startEventSource({ sqs: pollerClients.clients.sqs, queueUrl: services.queueUrls.send, batchSize: SEND_QUEUE.batchSize, concurrency: 2, timeoutMs: SEND_FUNCTION_TIMEOUT_SECONDS * 1000, handler: (event, context) => invoke('send', () => sender.handle(event, context)) }),
    ];
    stoppers.push(async () => Promise.all(pollers.map((p) => p.stop())));

    let gatewayRequests = 0;
    const http = (fn: 'webhook' | 'api', handle: (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>) => (event: APIGatewayProxyEventV2) => {
      gatewayRequests++;
      return invoke(fn, () => handle(event));
    };
    const gateway = await startApiGateway(
      { lambda: { 'GET /webhook': http('webhook', webhook.handle), 'POST /webhook': http('webhook', webhook.handle), 'ANY /api/*': http('api', api.handle), 'ANY /media/*': http('api', api.handle) }, local: {} },
      { port: 0 },
    );
    stoppers.push(() => gateway.stop());
    gatewayAddress.url = gateway.url;
    graph.setWebhookUrl(`${gateway.url}/webhook`);
    const secret = LOCAL_DEFAULTS.WHATSAPP_APP_SECRET;

    // The mix: each customer asks about a product, the shipping (a quick reply answers), a
    // discount and thanks; an agent answers twice through the API. 4 in, 2 agent replies and
    // what the automations send; every outbound message comes back as sent, delivered and read.
    const questions = ['Hi, is the iPhone 15 Pro Max 256GB in stock at Central?', 'How much is shipping?', 'Is there a discount this week?', 'Thanks, see you tomorrow!'];
    const replies = ['Yes, we have it in stock in Central (natural titanium).', 'This week it is 10 % off with the code SPRING10.'];
    const customers: Customer[] = Array.from({ length: customersCount }, (_, i) => ({ waId: `8529${String(5_000_000 + i).padStart(7, '0')}`, bsuid: `HK.cost${Date.now()}${i}`, name: `Cost ${i}` }));
    let inbound = 0;
    let agentReplies = 0;
    const conversation = async (customer: Customer, index: number) => {
      for (const [step, question] of questions.entries()) {
        const response = await deliver(`${gateway.url}/webhook`, textMessage(customer, question), secret);
        if (response.status === 200) inbound++;
        else if (process.env['BENCH_COST_DEBUG']) console.log('webhook', response.status, await response.text());
        await sleep(400);
        if (step === 0 || step === 2) {
          const contacts = (await (await fetch(`${gateway.url}/api/contacts?phone=%2B${customer.waId}`, { headers: { authorization: `Bearer ${LOCAL_DEFAULTS.SCRM_API_TOKEN}` } })).json()) as { contacts?: { contactId: string }[] };
          const contactId = contacts.contacts?.[0]?.contactId;
          if (!contactId) {
            if (process.env['BENCH_COST_DEBUG']) console.log('no contact', JSON.stringify(contacts));
            continue;
          }
          const sent = await fetch(`${gateway.url}/api/messages`, {
            method: 'POST',
            headers: { authorization: `Bearer ${LOCAL_DEFAULTS.SCRM_API_TOKEN}`, 'idempotency-key': `cost-${index}-${step}`, 'content-type': 'application/json' },
            body: JSON.stringify({ to: { contactId }, category: 'service', text: replies[step === 0 ? 0 : 1], origin: 'agent', agentId: 'ag-mei' }),
          });
          if (sent.status === 202) agentReplies++;
          else if (process.env['BENCH_COST_DEBUG']) console.log('send', sent.status, await sent.text());
          await sleep(400);
        }
      }
    };
    const started = Date.now();
    const pool = 8;
    for (let i = 0; i < customers.length; i += pool) await Promise.all(customers.slice(i, i + pool).map((c, j) => conversation(c, i + j)));
    // Quiet: every job, status webhook and automation done.
    const deadline = performance.now() + 180_000;
    while (performance.now() < deadline) {
      await graph.idle();
      if (automationPending === 0 && performance.now() - lastActivity > 6_000) break;
      await sleep(500);
    }
    const outbound = graph.sends().length;
    const trafficSeconds = (Date.now() - started) / 1000;
    const snapshot = structuredClone(tallies);

    // Idle runs of the frequent schedules, after the traffic (the outbox and the pending index empty).
    const scheduled: AwsUsage['measured']['scheduled'] = {};
    const measureRun = async (id: string, fn: PathFunction, run: () => Promise<unknown>) => {
      const before = structuredClone(tallies[fn]);
      for (let i = 0; i < 3; i++) await invoke(fn, run);
      const t = tallies[fn];
      scheduled[id] = {
        ms: round((t.ms - before.ms) / 3),
        dynamodb: { readRequestUnits: round((t.rru - before.rru) / 3), writeRequestUnits: round((t.wru - before.wru) / 3) },
        sqsRequests: round((t.sqsStandard + t.sqsFifo - before.sqsStandard - before.sqsFifo) / 3),
        appLogBytes: round((t.logBytes - before.logBytes) / 3),
      };
    };
    await measureRun('outbox-sweep', 'send', () => sender.sweep());
    // The batch function's sweep (pending sync and media), on the sync runtime's counted clients.
    await measureRun('pending-sweep', 'sync', async () => {
      await requeuePendingMedia(rt.sync.store, rt.sync.mediaQueue!, { minAgeMs: 60_000, limit: 1_000, now: Date.now() });
      return requeuePendingSync(rt.sync.store, rt.sync.syncQueue, { minAgeMs: 30_000, limit: 1_000, now: Date.now() });
    });

    const messages = inbound + outbound;
    const per = (n: number) => round(n / messages);
    // An SQS event source's receive and delete per batch; EventBridge's delivery to the automation queue (send, receive, delete).
    const functions = Object.fromEntries(PATH_FUNCTIONS.map((fn) => [fn, { invocations: per(snapshot[fn].invocations), ms: per(snapshot[fn].ms) }]));
    const total = (pick: (t: Tally) => number) => PATH_FUNCTIONS.reduce((n, fn) => n + pick(snapshot[fn]), 0);
    const events = total((t) => t.events);
    const automationEvents = snapshot.automation.invocations;
    const measured: AwsUsage['measured'] = {
      at: new Date().toISOString(),
      commit: gitCommit(),
      machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GB, Node ${process.version}`,
      method: `bench/cost.ts: ${customersCount} conversations through the real function code in one process against dynalite, fauxqs, the local HubSpot and the Graph API stand-in (status webhooks back); SDK middleware counted DynamoDB request units (item images probed around each write, index entries included), SQS, S3 and events per function; handler durations less the probes; logger and metric bytes at INFO (${trafficSeconds.toFixed(0)} s of traffic)`,
      mix: {
        description: `${customersCount} customers, each: 4 messages in (a product question, "how much is shipping?", a discount question, thanks), 2 agent replies through POST /api/messages, the automations' replies; each outbound message's sent, delivered and read status webhooks`,
        messages,
        inbound,
        outbound,
      },
      perMessage: {
        functions,
        dynamodb: { readRequestUnits: per(total((t) => t.rru)), writeRequestUnits: per(total((t) => t.wru)) },
        sqs: {
          standardRequests: per(total((t) => t.sqsStandard) + 3 * automationEvents),
          fifoRequests: per(total((t) => t.sqsFifo) + 2 * (snapshot.sync.invocations + snapshot.send.invocations)),
        },
        apiGatewayRequests: per(gatewayRequests),
        s3: { putRequests: per(total((t) => t.s3Put)), getRequests: per(total((t) => t.s3Get)), bytesStored: per(total((t) => t.s3Bytes)) },
        appLogBytes: per(total((t) => t.logBytes)),
        eventBridgeEvents: per(events),
        snsPublishes: 0,
      },
      distinctMetrics: distinctMetrics.size,
      scheduled,
    };
    if (agentReplies === 0 || outbound === 0) throw new Error(`the mix sent nothing (agent replies ${agentReplies}, outbound ${outbound}): the measurement would be wrong`);
    const previous = JSON.parse(readFileSync(USAGE_FILE, 'utf8')) as AwsUsage;
    const usage = loadAwsUsage({ ...previous, measured });
    const byFunction = Object.fromEntries(PATH_FUNCTIONS.map((fn) => [fn, { rru: per(snapshot[fn].rru), wru: per(snapshot[fn].wru), logBytes: per(snapshot[fn].logBytes) }]));
    return { usage, markdown: costMarkdown(usage, { agentReplies, trafficSeconds, byFunction }) };
  } finally {
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
  }
}

const round = (n: number) => Math.round(n * 10_000) / 10_000;

function gitCommit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${sha} (with uncommitted changes)` : sha;
  } catch {
    return 'unknown';
  }
}

const usd = (n: number, digits = 2) => `$${n.toFixed(digits)}`;

/** The reference loads of docs/cost.md. */
export const REFERENCE_LOADS = [
  { label: '500 customers × 10 messages', load: { customers: 500, messagesPerCustomer: 10 } },
  { label: '5,000 customers × 8 messages', load: { customers: 5_000, messagesPerCustomer: 8 } },
  { label: '5,000 customers × 12 messages', load: { customers: 5_000, messagesPerCustomer: 12 } },
  { label: '50,000 customers × 10 messages', load: { customers: 50_000, messagesPerCustomer: 10 } },
  { label: '10,000 messages a day (1,000 an hour at peak)', load: { messagesPerDay: 10_000 } },
] as const;

export function costMarkdown(usage: AwsUsage, info: { agentReplies: number; trafficSeconds: number; byFunction?: Record<string, { rru: number; wru: number; logBytes: number }> }): string {
  const m = usage.measured;
  const p = m.perMessage;
  const models = { standard: awsCostModel({ usage, profile: 'standard' }), small: awsCostModel({ usage, profile: 'small' }) };
  const fnRows = Object.entries(p.functions).map(([fn, u]) => {
    const memory = usage.inventory.functions[fn]?.memoryMb ?? 0;
    const f = info.byFunction?.[fn];
    return `| ${fn} | ${u.invocations.toFixed(3)} | ${u.ms.toFixed(1)} ms | ${memory} MB | ${((u.ms / 1000) * (memory / 1024)).toFixed(5)} | ${f ? f.rru.toFixed(2) : ''} | ${f ? f.wru.toFixed(2) : ''} | ${f ? f.logBytes.toFixed(0) : ''} |`;
  });
  const b = models.standard.breakdown;
  return [
    `${m.mix.description}: ${m.mix.messages} messages (${m.mix.inbound} in, ${m.mix.outbound} out, ${info.agentReplies} of them agent replies) in ${info.trafficSeconds.toFixed(0)} s, commit ${m.commit}. Per message:`,
    '',
    '| function | invocations | handler time (local) | memory | GB-s | RRU | WRU | log bytes |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...fnRows,
    '',
    `DynamoDB ${p.dynamodb.readRequestUnits.toFixed(2)} RRU + ${p.dynamodb.writeRequestUnits.toFixed(2)} WRU · SQS ${p.sqs.fifoRequests.toFixed(2)} FIFO + ${p.sqs.standardRequests.toFixed(2)} standard requests · ${p.apiGatewayRequests.toFixed(2)} HTTP API requests · S3 ${p.s3.putRequests.toFixed(3)} PUT / ${p.s3.getRequests.toFixed(3)} GET · ${p.eventBridgeEvents.toFixed(2)} events · ${p.appLogBytes.toFixed(0)} log bytes (app + metrics) · ${m.distinctMetrics} distinct custom metrics.`,
    '',
    `Per message at ${models.standard.regionName} list prices: ${usd(models.standard.perMessageUsd, 6)} (Lambda requests ${usd(b.lambdaRequests, 6)}, duration ${usd(b.lambdaDuration, 6)}, DynamoDB ${usd(b.dynamodb, 6)}, SQS ${usd(b.sqs, 6)}, HTTP API ${usd(b.apiGateway, 6)}, logs ${usd(b.logs, 6)}, EventBridge ${usd(b.eventBridge, 6)}, X-Ray ${usd(b.xray, 6)}). Fixed a month: standard ${usd(models.standard.fixedMonthlyUsd)} (idle ${usd(models.standard.idleMonthlyUsd)}), small ${usd(models.small.fixedMonthlyUsd)} (idle ${usd(models.small.idleMonthlyUsd)}).`,
    '',
    '| load (a month) | messages | standard | small | standard per 1,000 conversations | small per 1,000 conversations |',
    '|---|---:|---:|---:|---:|---:|',
    ...REFERENCE_LOADS.map(({ label, load }) => {
      const s = monthlyCost(models.standard, load);
      const k = monthlyCost(models.small, load);
      return `| ${label} | ${Math.round(s.messages).toLocaleString('en-US')} | ${usd(s.usd)} | ${usd(k.usd)} | ${usd(s.perThousandConversations)} | ${usd(k.perThousandConversations)} |`;
    }),
  ].join('\n');
}

/** Writes the measured usage into config/aws-usage.json (the assumptions and the inventory stay). */
export function writeUsage(usage: AwsUsage): void {
  writeFileSync(USAGE_FILE, `${JSON.stringify(usage, null, 2)}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await benchCost();
  writeUsage(result.usage);
  console.log(result.markdown);
}
