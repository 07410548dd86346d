/**
 * What our AWS bill is, per message and per month (OP-3, RP-5, OP-6): AWS list prices
 * (config/aws-prices.json, per region, each with its source and date) times the usage one message
 * was measured to cause (config/aws-usage.json, written by `BENCH_ONLY=cost npm run bench`), plus
 * what a deployment costs whatever the traffic (alarms, dashboard, keys, the secret, the
 * schedules, stored data) for its profile. Pure; both files are validated once, and a wrong entry
 * fails naming it. docs/cost.md explains the model, its sources and its limits.
 *
 * A "message" is one WhatsApp message in or out, with everything it sets off: the webhook that
 * stores it, the status webhooks of an outbound one, the CRM sync, the automation that reads it,
 * the send function, the API call that queued an agent's reply. No free tier is subtracted: free
 * tiers are per account and shared with whatever else runs in it.
 */
import * as z from 'zod/mini';
import '../zod.ts';
import rawPrices from '../../config/aws-prices.json' with { type: 'json' };
import rawUsage from '../../config/aws-usage.json' with { type: 'json' };
import { SCHEDULES, type ScheduleDefinition } from '../resources.ts';

/** Days in the average month (365.25 / 12): what "monthly" means everywhere in the model. */
export const DAYS_PER_MONTH = 30.4375;

export const COST_PROFILES = ['standard', 'small'] as const;
export type CostProfile = (typeof COST_PROFILES)[number];

// ---------------------------------------------------------------------------------------------
// The price file
// ---------------------------------------------------------------------------------------------

const nonNegative = z.number().check(z.gte(0, 'must be a number ≥ 0'));
const price = z.object({
  usd: nonNegative,
  /** How many `unit`s `usd` buys (1,000,000 requests, 1 GB-month …). */
  quantity: z.number().check(z.gt(0, 'must be a number > 0')),
  unit: z.string().check(z.minLength(1)),
  source: z.url(),
  asOf: z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD')),
  verified: z.boolean(),
  seenIn: z.optional(z.array(z.url())),
  note: z.optional(z.string()),
});

const PricesSchema = z.strictObject({
  lambda: z.strictObject({ requests: price, armGbSecond: price }),
  dynamodb: z.strictObject({ writeRequestUnits: price, readRequestUnits: price, storageGbMonth: price, pitrGbMonth: price }),
  sqs: z.strictObject({ standardRequests: price, fifoRequests: price }),
  apiGateway: z.strictObject({ httpRequests: price }),
  s3: z.strictObject({ putRequests: price, getRequests: price, storageGbMonth: price }),
  cloudwatch: z.strictObject({
    logIngestionGb: price,
    logStorageGbMonth: price,
    customMetricMonth: price,
    alarmMetricMonth: price,
    compositeAlarmMonth: price,
    dashboardMonth: price,
  }),
  kms: z.strictObject({ keyMonth: price, requests: price }),
  secretsManager: z.strictObject({ secretMonth: price, apiCalls: price }),
  eventBridge: z.strictObject({ customEvents: price, schedulerInvocations: price }),
  sns: z.strictObject({ publishes: price, emailNotifications: price }),
  xray: z.strictObject({ tracesRecorded: price }),
});

const PriceFileSchema = z.object({
  currency: z.literal('USD'),
  defaultRegion: z.string(),
  regions: z.record(z.string().check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region code (e.g. us-east-1)')), z.object({ name: z.string(), prices: PricesSchema })),
});

type Price = z.infer<typeof price>;
export type RegionPrices = z.infer<typeof PricesSchema>;

export interface AwsPrices {
  readonly defaultRegion: string;
  readonly regions: Readonly<Record<string, { readonly name: string; readonly prices: RegionPrices }>>;
}

const issues = (error: z.core.$ZodError) => error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');

/** config/aws-prices.json (or `raw`), validated. */
export function loadAwsPrices(raw: unknown = rawPrices): AwsPrices {
  const parsed = PriceFileSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`Invalid config/aws-prices.json: ${issues(parsed.error)}`);
  const file = parsed.data;
  if (!file.regions[file.defaultRegion]) throw new Error(`Invalid config/aws-prices.json: defaultRegion: "${file.defaultRegion}" has no prices under regions`);
  return { defaultRegion: file.defaultRegion, regions: file.regions };
}

/** USD per one unit of a price entry. */
const unit = (p: Price) => p.usd / p.quantity;

// ---------------------------------------------------------------------------------------------
// The usage file
// ---------------------------------------------------------------------------------------------

const count = nonNegative;
const ServiceUse = {
  dynamodb: z.strictObject({ readRequestUnits: count, writeRequestUnits: count }),
  sqs: z.strictObject({ standardRequests: count, fifoRequests: count }),
  s3: z.strictObject({ putRequests: count, getRequests: count, bytesStored: count }),
};
const functionUse = z.strictObject({ invocations: count, ms: count });

const profileInventory = z.strictObject({
  alarmMetrics: count,
  compositeAlarms: count,
  dashboards: count,
  kmsKeys: count,
  secrets: count,
  pollingQueues: z.strictObject({ standard: count, fifo: count }),
});

const UsageFileSchema = z.object({
  measured: z.object({
    at: z.string(),
    commit: z.string(),
    machine: z.string(),
    method: z.string(),
    mix: z.object({ description: z.string(), messages: z.number().check(z.gt(0, 'must be > 0')), inbound: count, outbound: count }),
    perMessage: z.strictObject({
      functions: z.record(z.string(), functionUse),
      dynamodb: ServiceUse.dynamodb,
      sqs: ServiceUse.sqs,
      apiGatewayRequests: count,
      s3: ServiceUse.s3,
      appLogBytes: count,
      eventBridgeEvents: count,
      snsPublishes: count,
    }),
    /** Distinct custom metrics (name and dimension values) the traffic published. */
    distinctMetrics: count,
    /** An idle run of a frequent schedule, by schedule id. */
    scheduled: z.record(
      z.string(),
      z.strictObject({ ms: count, dynamodb: ServiceUse.dynamodb, sqsRequests: count, appLogBytes: count }),
    ),
  }),
  assumptions: z.strictObject({
    platformLogBytesPerInvocation: count,
    accessLogBytesPerRequest: count,
    traceShare: z.number().check(z.gte(0), z.lte(1, 'must be a share 0..1')),
    coldStartShare: z.number().check(z.gte(0), z.lte(1, 'must be a share 0..1')),
    initMs: z.record(z.string(), count),
    scheduledRunMs: count,
    idlePollingRequestsPerQueueMonth: count,
    secretReadsPerMonth: count,
    storage: z.strictObject({ tableGb: count, bucketGb: count }),
    logRetentionMonths: count,
    activeHoursPerDay: z.number().check(z.gte(0), z.lte(24, 'must be 0..24 hours')),
    notes: z.optional(z.record(z.string(), z.string())),
  }),
  inventory: z.strictObject({
    $comment: z.optional(z.string()),
    functions: z.record(z.string(), z.strictObject({ memoryMb: z.number().check(z.gte(128), z.lte(10_240, 'must be 128..10240 MB')) })),
    profiles: z.strictObject({ standard: profileInventory, small: profileInventory }),
  }),
});

export interface ProfileInventory {
  /** Alarm metrics (an alarm on metric math counts each metric it reads). */
  readonly alarmMetrics: number;
  readonly compositeAlarms: number;
  readonly dashboards: number;
  readonly kmsKeys: number;
  readonly secrets: number;
  /** Queues a Lambda event source mapping polls (long polling, also when idle). */
  readonly pollingQueues: { readonly standard: number; readonly fifo: number };
}

export type AwsUsage = z.infer<typeof UsageFileSchema>;

/** config/aws-usage.json (or `raw`), validated: every function with a measured use has a memory size. */
export function loadAwsUsage(raw: unknown = rawUsage): AwsUsage {
  const parsed = UsageFileSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`Invalid config/aws-usage.json: ${issues(parsed.error)}`);
  const usage = parsed.data;
  for (const name of Object.keys(usage.measured.perMessage.functions)) {
    if (!usage.inventory.functions[name]) throw new Error(`Invalid config/aws-usage.json: measured.perMessage.functions.${name}: no inventory.functions.${name}.memoryMb`);
  }
  for (const id of Object.keys(usage.measured.scheduled)) {
    if (!SCHEDULES.some((s) => s.id === id)) throw new Error(`Invalid config/aws-usage.json: measured.scheduled.${id}: not a schedule of shared/resources.ts SCHEDULES`);
  }
  return usage;
}

// ---------------------------------------------------------------------------------------------
// Schedules: invocations a month from their cron expressions
// ---------------------------------------------------------------------------------------------

/** How many values a cron field of `size` values starting at `first` takes (`*`, `n`, `a-b`, `a/s`, `a-b/s`, lists). */
function fieldCount(field: string, first: number, last: number): number {
  let total = 0;
  for (const part of field.split(',')) {
    const [range = '*', stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    let from = first;
    let to = last;
    if (range !== '*') {
      const [a, b] = range.split('-');
      from = Number(a);
      to = b === undefined ? (stepText === undefined ? from : last) : Number(b);
    }
    if (![from, to, step].every(Number.isInteger) || step < 1) throw new Error(`cron field "${field}" is not one the cost model counts`);
    total += Math.floor((to - from) / step) + 1;
  }
  return total;
}

/**
 * Runs a month of an EventBridge Scheduler cron expression `cron(min hour dom month dow year)`:
 * minutes × hours × days, the days being every day, some weekdays (× 7 / 7 of a month) or some
 * days of the month.
 */
export function runsPerMonth(cron: string): number {
  const fields = /^cron\((.+)\)$/.exec(cron.trim())?.[1]?.split(/\s+/);
  if (!fields || fields.length !== 6) throw new Error(`"${cron}" is not a cron(…) expression of six fields`);
  const [minutes, hours, dom, month, dow] = fields as [string, string, string, string, string];
  if (month !== '*') throw new Error(`"${cron}": a month field other than * is not counted by the cost model`);
  const perDay = fieldCount(minutes, 0, 59) * fieldCount(hours, 0, 23);
  let days: number;
  if (dom === '?' && dow !== '?') days = dow === '*' ? DAYS_PER_MONTH : (dow.split(',').length * DAYS_PER_MONTH) / 7;
  else if (dom === '*' || dom === '?') days = DAYS_PER_MONTH;
  else days = fieldCount(dom, 1, 31);
  return perDay * days;
}

// ---------------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------------

/** USD per message, by service. */
export interface PerMessageBreakdown {
  readonly lambdaRequests: number;
  readonly lambdaDuration: number;
  readonly dynamodb: number;
  readonly sqs: number;
  readonly apiGateway: number;
  readonly s3: number;
  readonly logs: number;
  readonly eventBridge: number;
  readonly sns: number;
  readonly xray: number;
}

/** USD a month whatever the traffic, by item. */
export interface FixedBreakdown {
  readonly alarms: number;
  readonly dashboards: number;
  readonly kmsKeys: number;
  readonly secret: number;
  /** Every scheduled run of a month: Scheduler, Lambda, DynamoDB, SQS, logs, traces. */
  readonly schedules: number;
  /** The table (with point-in-time recovery) and the bucket at the stated size. */
  readonly storage: number;
  /** Lambda's event source mappings long-polling the queues, also when nothing comes. */
  readonly queuePolling: number;
  /** The custom metrics the traffic publishes, in the hours the business is busy (not in the idle floor). */
  readonly metrics: number;
}

export interface AwsCostModel {
  readonly region: string;
  readonly regionName: string;
  readonly profile: CostProfile;
  /** The oldest `asOf` of the prices used. */
  readonly pricesAsOf: string;
  /** Where the figures come from, in a line (the report prints it). */
  readonly source: string;
  /** Prices used that were not verified (price entry paths). */
  readonly unverified: readonly string[];
  readonly perMessageUsd: number;
  /** Fixed a month: the idle floor plus the metrics of a business day. */
  readonly fixedMonthlyUsd: number;
  /** What the deployment costs a month with no traffic at all. */
  readonly idleMonthlyUsd: number;
  readonly breakdown: PerMessageBreakdown;
  readonly fixedBreakdown: FixedBreakdown;
  /** When and how the usage was measured. */
  readonly measuredAt: string;
}

export interface AwsCostOptions {
  readonly region?: string;
  readonly profile?: CostProfile;
  readonly prices?: AwsPrices;
  readonly usage?: AwsUsage;
  readonly schedules?: readonly ScheduleDefinition[];
}

const sum = (values: Record<string, number>) => Object.values(values).reduce((a, b) => a + b, 0);

/** The model for a region (default the price file's) and a deployment profile (default standard). */
export function awsCostModel(options: AwsCostOptions = {}): AwsCostModel {
  const prices = options.prices ?? shippedPrices();
  const usage = options.usage ?? shippedUsage();
  const region = options.region ?? prices.defaultRegion;
  const profile = options.profile ?? 'standard';
  const regional = prices.regions[region];
  if (!regional) throw new Error(`No AWS prices for region "${region}" in config/aws-prices.json (it has ${Object.keys(prices.regions).join(', ')})`);
  if (!(COST_PROFILES as readonly string[]).includes(profile)) throw new Error(`Unknown deployment profile "${String(profile)}" (one of ${COST_PROFILES.join(', ')})`);
  const p = regional.prices;
  const { perMessage } = usage.measured;
  const { assumptions: a, inventory } = usage;
  const memoryGb = (fn: string) => (inventory.functions[fn]?.memoryMb ?? 0) / 1024;

  // Per message.
  const invocations = sum(Object.fromEntries(Object.entries(perMessage.functions).map(([fn, u]) => [fn, u.invocations])));
  const gbSeconds = sum(
    Object.fromEntries(
      Object.entries(perMessage.functions).map(([fn, u]) => [fn, ((u.ms + u.invocations * a.coldStartShare * (a.initMs[fn] ?? 0)) / 1000) * memoryGb(fn)]),
    ),
  );
  const logBytes = perMessage.appLogBytes + invocations * a.platformLogBytesPerInvocation + perMessage.apiGatewayRequests * a.accessLogBytesPerRequest;
  const perGbLogged = unit(p.cloudwatch.logIngestionGb) + unit(p.cloudwatch.logStorageGbMonth) * a.logRetentionMonths;
  const breakdown: PerMessageBreakdown = {
    lambdaRequests: invocations * unit(p.lambda.requests),
    lambdaDuration: gbSeconds * unit(p.lambda.armGbSecond),
    dynamodb: perMessage.dynamodb.readRequestUnits * unit(p.dynamodb.readRequestUnits) + perMessage.dynamodb.writeRequestUnits * unit(p.dynamodb.writeRequestUnits),
    sqs: perMessage.sqs.standardRequests * unit(p.sqs.standardRequests) + perMessage.sqs.fifoRequests * unit(p.sqs.fifoRequests),
    apiGateway: perMessage.apiGatewayRequests * unit(p.apiGateway.httpRequests),
    s3: perMessage.s3.putRequests * unit(p.s3.putRequests) + perMessage.s3.getRequests * unit(p.s3.getRequests),
    logs: (logBytes / 1e9) * perGbLogged,
    eventBridge: perMessage.eventBridgeEvents * unit(p.eventBridge.customEvents),
    sns: perMessage.snsPublishes * unit(p.sns.publishes),
    xray: invocations * a.traceShare * unit(p.xray.tracesRecorded),
  };

  // Fixed a month.
  const inv = inventory.profiles[profile];
  const scheduleRun = (definition: ScheduleDefinition) => {
    const fn = definition.target;
    const run = usage.measured.scheduled[definition.id];
    const ms = run?.ms ?? a.scheduledRunMs;
    const runLogBytes = (run?.appLogBytes ?? 0) + a.platformLogBytesPerInvocation;
    return (
      unit(p.eventBridge.schedulerInvocations) +
      unit(p.lambda.requests) +
      ((ms + a.coldStartShare * (a.initMs[fn] ?? 0)) / 1000) * memoryGb(fn) * unit(p.lambda.armGbSecond) +
      (run ? run.dynamodb.readRequestUnits * unit(p.dynamodb.readRequestUnits) + run.dynamodb.writeRequestUnits * unit(p.dynamodb.writeRequestUnits) + run.sqsRequests * unit(p.sqs.standardRequests) : 0) +
      (runLogBytes / 1e9) * perGbLogged +
      a.traceShare * unit(p.xray.tracesRecorded)
    );
  };
  const schedules = (options.schedules ?? SCHEDULES).reduce((total, s) => total + runsPerMonth(s.cron) * scheduleRun(s), 0);
  const fixedBreakdown: FixedBreakdown = {
    alarms: inv.alarmMetrics * unit(p.cloudwatch.alarmMetricMonth) + inv.compositeAlarms * unit(p.cloudwatch.compositeAlarmMonth),
    dashboards: inv.dashboards * unit(p.cloudwatch.dashboardMonth),
    kmsKeys: inv.kmsKeys * unit(p.kms.keyMonth),
    secret: inv.secrets * unit(p.secretsManager.secretMonth) + a.secretReadsPerMonth * unit(p.secretsManager.apiCalls),
    schedules,
    storage: a.storage.tableGb * (unit(p.dynamodb.storageGbMonth) + unit(p.dynamodb.pitrGbMonth)) + a.storage.bucketGb * unit(p.s3.storageGbMonth),
    queuePolling: a.idlePollingRequestsPerQueueMonth * (inv.pollingQueues.standard * unit(p.sqs.standardRequests) + inv.pollingQueues.fifo * unit(p.sqs.fifoRequests)),
    metrics: usage.measured.distinctMetrics * unit(p.cloudwatch.customMetricMonth) * (a.activeHoursPerDay / 24),
  };
  const fixedMonthlyUsd = sum({ ...fixedBreakdown });
  const used = usedPrices(p);
  return {
    region,
    regionName: regional.name,
    profile,
    pricesAsOf: used.map(([, e]) => e.asOf).sort()[0] ?? '',
    source: `AWS list prices, ${regional.name} (config/aws-prices.json, ${used.filter(([, e]) => !e.verified).length} of ${used.length} figures not verified); usage measured ${usage.measured.at.slice(0, 10)} by ${usage.measured.method.split(':')[0]} (config/aws-usage.json); profile ${profile}; docs/cost.md`,
    unverified: used.filter(([, e]) => !e.verified).map(([path]) => path),
    perMessageUsd: sum({ ...breakdown }),
    fixedMonthlyUsd,
    idleMonthlyUsd: fixedMonthlyUsd - fixedBreakdown.metrics,
    breakdown,
    fixedBreakdown,
    measuredAt: usage.measured.at,
  };
}

function usedPrices(prices: RegionPrices): [string, Price][] {
  return Object.entries(prices).flatMap(([service, entries]) => Object.entries(entries as Record<string, Price>).map(([name, entry]): [string, Price] => [`${service}.${name}`, entry]));
}

/** What `messages` messages over `days` days cost: messages × per message + the fixed month's share of the days. */
export function awsCostOfPeriod(model: Pick<AwsCostModel, 'perMessageUsd' | 'fixedMonthlyUsd'>, messages: number, days: number): number {
  if (!(messages >= 0) || !(days >= 0)) throw new RangeError(`messages and days must be ≥ 0 (got ${messages}, ${days})`);
  return messages * model.perMessageUsd + (model.fixedMonthlyUsd * days) / DAYS_PER_MONTH;
}

export type MonthlyLoad =
  /** A customer base: each customer's month of messages (in and out) is one conversation. */
  | { readonly customers: number; readonly messagesPerCustomer: number }
  /** A daily volume; conversations are counted as `messagesPerCustomer` messages each (default 10). */
  | { readonly messagesPerDay: number; readonly messagesPerCustomer?: number };

export interface MonthlyCost {
  readonly messages: number;
  readonly conversations: number;
  /** The month's AWS cost. */
  readonly usd: number;
  readonly variableUsd: number;
  readonly fixedUsd: number;
  readonly perMessageUsd: number;
  /** usd per 1,000 conversations (a customer's month of messages). */
  readonly perThousandConversations: number;
}

/** A month at a load: the published ceilings (≤ $30 for a small business, < $20 per 1,000 conversations) are read off it. */
export function monthlyCost(model: Pick<AwsCostModel, 'perMessageUsd' | 'fixedMonthlyUsd'>, load: MonthlyLoad): MonthlyCost {
  const perCustomer = load.messagesPerCustomer ?? 10;
  if (!(perCustomer > 0)) throw new RangeError(`messagesPerCustomer must be > 0 (got ${perCustomer})`);
  const messages = 'customers' in load ? load.customers * perCustomer : load.messagesPerDay * DAYS_PER_MONTH;
  const conversations = 'customers' in load ? load.customers : messages / perCustomer;
  if (!(messages >= 0)) throw new RangeError(`the load must be ≥ 0 messages (got ${messages})`);
  const variableUsd = messages * model.perMessageUsd;
  const usd = awsCostOfPeriod(model, messages, DAYS_PER_MONTH);
  return {
    messages,
    conversations,
    usd,
    variableUsd,
    fixedUsd: usd - variableUsd,
    perMessageUsd: messages > 0 ? usd / messages : 0,
    perThousandConversations: conversations > 0 ? (usd / conversations) * 1000 : 0,
  };
}

let prices: AwsPrices | undefined;
let usage: AwsUsage | undefined;
/** The shipped files, validated on first use. */
export function shippedPrices(): AwsPrices {
  return (prices ??= loadAwsPrices());
}
export function shippedUsage(): AwsUsage {
  return (usage ??= loadAwsUsage());
}
