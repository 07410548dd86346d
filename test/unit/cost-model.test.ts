/**
 * The AWS cost model (OP-3, RP-5, OP-6): its arithmetic on a tiny price list and usage worked out
 * by hand, the validation of both files (a wrong entry is named), the schedules counted from their
 * cron expressions, and the published ceilings computed from the shipped files.
 */
import { describe, expect, it } from 'vitest';
import rawPrices from '../../config/aws-prices.json' with { type: 'json' };
import rawUsage from '../../config/aws-usage.json' with { type: 'json' };
import { SCHEDULES, type ScheduleDefinition } from '#shared/resources';
import { COST_PROFILES, DAYS_PER_MONTH, awsCostModel, awsCostOfPeriod, loadAwsPrices, loadAwsUsage, monthlyCost, runsPerMonth } from '#shared/reports/cost-model';

type Json = Record<string, unknown>;
const clone = <T>(value: T): T => structuredClone(value);

/** Every price 0 but those given (USD per quantity). */
function tinyPrices(overrides: Record<string, [number, number]>): Json {
  const prices = clone(rawPrices.regions['us-east-1'].prices) as unknown as Record<string, Record<string, Json>>;
  for (const entries of Object.values(prices)) for (const entry of Object.values(entries)) Object.assign(entry, { usd: 0, quantity: 1 });
  for (const [path, [usd, quantity]] of Object.entries(overrides)) {
    const [service, name] = path.split('.') as [string, string];
    Object.assign(prices[service]![name]!, { usd, quantity });
  }
  return { currency: 'USD', defaultRegion: 'us-east-1', regions: { 'us-east-1': { name: 'Test', prices } } };
}

const TINY_PRICES = tinyPrices({
  'lambda.requests': [0.2, 1_000_000],
  'lambda.armGbSecond': [0.00001, 1],
  'dynamodb.readRequestUnits': [0.5, 1_000_000],
  'dynamodb.writeRequestUnits': [1, 1_000_000],
  'sqs.fifoRequests': [0.5, 1_000_000],
  'cloudwatch.logIngestionGb': [0.5, 1],
  'cloudwatch.logStorageGbMonth': [0.03, 1],
  'cloudwatch.alarmMetricMonth': [0.1, 1],
  'cloudwatch.dashboardMonth': [3, 1],
  'cloudwatch.customMetricMonth': [0.3, 1],
  'kms.keyMonth': [1, 1],
  'secretsManager.secretMonth': [0.4, 1],
  'eventBridge.schedulerInvocations': [1, 1_000_000],
});

const TINY_USAGE = {
  measured: {
    at: '2026-12-02T00:00:00.000Z',
    commit: 'test',
    machine: 'test',
    method: 'by hand: a tiny profile',
    mix: { description: 'one function', messages: 10, inbound: 5, outbound: 5 },
    perMessage: {
      functions: { webhook: { invocations: 2, ms: 100 } },
      dynamodb: { readRequestUnits: 4, writeRequestUnits: 3 },
      sqs: { standardRequests: 0, fifoRequests: 2 },
      apiGatewayRequests: 0,
      s3: { putRequests: 0, getRequests: 0, bytesStored: 0 },
      appLogBytes: 1_000,
      eventBridgeEvents: 0,
      snsPublishes: 0,
    },
    distinctMetrics: 4,
    scheduled: {},
  },
  assumptions: {
    platformLogBytesPerInvocation: 0,
    accessLogBytesPerRequest: 0,
    traceShare: 0,
    coldStartShare: 0,
    initMs: {},
    scheduledRunMs: 2_000,
    idlePollingRequestsPerQueueMonth: 0,
    secretReadsPerMonth: 0,
    storage: { tableGb: 0, bucketGb: 0 },
    logRetentionMonths: 1,
    activeHoursPerDay: 12,
  },
  inventory: {
    functions: { webhook: { memoryMb: 512 }, send: { memoryMb: 512 } },
    profiles: {
      standard: { alarmMetrics: 10, compositeAlarms: 0, dashboards: 1, kmsKeys: 1, secrets: 1, pollingQueues: { standard: 0, fifo: 0 } },
      small: { alarmMetrics: 2, compositeAlarms: 0, dashboards: 0, kmsKeys: 0, secrets: 1, pollingQueues: { standard: 0, fifo: 0 } },
    },
  },
};

/** One schedule, every hour, on the send function. */
const HOURLY = [{ id: 'hourly', cron: 'cron(0 * * * ? *)', target: 'send', task: 'x', description: 'test' }] as unknown as ScheduleDefinition[];
const tiny = (profile: 'standard' | 'small' = 'standard') => awsCostModel({ prices: loadAwsPrices(TINY_PRICES), usage: loadAwsUsage(TINY_USAGE), schedules: HOURLY, profile });

describe('the arithmetic, on a tiny price list and usage worked out by hand', () => {
  it('per message: requests, GB-seconds (measured ms × configured memory), request units, FIFO requests, logged bytes', () => {
    const m = tiny();
    // 2 invocations × $0.2 per million; 0.1 s × 0.5 GB × $0.00001; 4 RRU × $0.5/M + 3 WRU × $1/M; 2 × $0.5/M; 1,000 bytes × ($0.5 + $0.03 a month kept) per GB.
    expect(m.breakdown.lambdaRequests).toBeCloseTo(4e-7, 15);
    expect(m.breakdown.lambdaDuration).toBeCloseTo(5e-7, 15);
    expect(m.breakdown.dynamodb).toBeCloseTo(2e-6 + 3e-6, 15);
    expect(m.breakdown.sqs).toBeCloseTo(1e-6, 15);
    expect(m.breakdown.logs).toBeCloseTo(5.3e-7, 15);
    expect(m.breakdown.xray).toBe(0);
    expect(m.perMessageUsd).toBeCloseTo(7.43e-6, 15);
  });

  it('fixed a month: alarm metrics, dashboard, key, secret, the schedule\'s runs, and the business day\'s metrics (not in the idle floor)', () => {
    const m = tiny();
    // 730.5 hourly runs × (scheduler $1/M + request $0.2/M + 2 s × 0.5 GB × $0.00001).
    const schedules = 24 * DAYS_PER_MONTH * (1e-6 + 2e-7 + 1e-5);
    expect(m.fixedBreakdown).toEqual({
      alarms: expect.closeTo(1, 12),
      dashboards: 3,
      kmsKeys: 1,
      secret: 0.4,
      schedules: expect.closeTo(schedules, 12),
      storage: 0,
      queuePolling: 0,
      metrics: expect.closeTo(4 * 0.3 * 0.5, 12),
    });
    expect(m.fixedMonthlyUsd).toBeCloseTo(1 + 3 + 1 + 0.4 + schedules + 0.6, 12);
    expect(m.idleMonthlyUsd).toBeCloseTo(1 + 3 + 1 + 0.4 + schedules, 12);
    // The small profile: 2 alarm metrics and the secret.
    expect(tiny('small').idleMonthlyUsd).toBeCloseTo(0.2 + 0.4 + schedules, 12);
  });

  it('a period: messages × per message + the fixed month × days / 30.4375', () => {
    const m = tiny();
    expect(awsCostOfPeriod(m, 1_000, 7)).toBeCloseTo(1_000 * 7.43e-6 + (m.fixedMonthlyUsd * 7) / 30.4375, 12);
    expect(awsCostOfPeriod({ perMessageUsd: 0.001, fixedMonthlyUsd: 30.4375 }, 500, 2)).toBeCloseTo(0.5 + 2, 12);
    expect(() => awsCostOfPeriod(m, -1, 1)).toThrow(RangeError);
  });

  it('a month at a load: customers × messages each, per 1,000 conversations; or a daily volume', () => {
    const model = { perMessageUsd: 0.001, fixedMonthlyUsd: 10 };
    expect(monthlyCost(model, { customers: 500, messagesPerCustomer: 10 })).toEqual({
      messages: 5_000,
      conversations: 500,
      usd: expect.closeTo(15, 12),
      variableUsd: expect.closeTo(5, 12),
      fixedUsd: expect.closeTo(10, 12),
      perMessageUsd: expect.closeTo(0.003, 12),
      perThousandConversations: expect.closeTo(30, 12),
    });
    const daily = monthlyCost(model, { messagesPerDay: 1_000 });
    expect(daily.messages).toBeCloseTo(30_437.5, 9);
    expect(daily.conversations).toBeCloseTo(3_043.75, 9);
    expect(daily.usd).toBeCloseTo(30.4375 + 10, 9);
  });
});

describe('validation names the wrong entry', () => {
  it('a price that is negative, missing or unknown', () => {
    const negative = clone(TINY_PRICES) as { regions: Record<string, { prices: Record<string, Record<string, Json>> }> };
    negative.regions['us-east-1']!.prices['lambda']!['requests']!['usd'] = -1;
    expect(() => loadAwsPrices(negative)).toThrow(/^Invalid config\/aws-prices\.json: regions\.us-east-1\.prices\.lambda\.requests\.usd: must be a number ≥ 0/);
    const missing = clone(TINY_PRICES) as { regions: Record<string, { prices: Record<string, Record<string, Json>> }> };
    delete missing.regions['us-east-1']!.prices['dynamodb']!['readRequestUnits'];
    expect(() => loadAwsPrices(missing)).toThrow('regions.us-east-1.prices.dynamodb.readRequestUnits');
    const unknown = clone(TINY_PRICES) as { regions: Record<string, { prices: Record<string, Record<string, Json>> }> };
    unknown.regions['us-east-1']!.prices['sqs']!['fairQueueRequests'] = unknown.regions['us-east-1']!.prices['sqs']!['fifoRequests']!;
    expect(() => loadAwsPrices(unknown)).toThrow(/regions\.us-east-1\.prices\.sqs.*fairQueueRequests/);
    const noSource = clone(TINY_PRICES) as { regions: Record<string, { prices: Record<string, Record<string, Json>> }> };
    noSource.regions['us-east-1']!.prices['kms']!['keyMonth']!['asOf'] = 'December';
    expect(() => loadAwsPrices(noSource)).toThrow('regions.us-east-1.prices.kms.keyMonth.asOf: a date YYYY-MM-DD');
    expect(() => loadAwsPrices({ ...clone(TINY_PRICES), defaultRegion: 'eu-west-1' })).toThrow('defaultRegion: "eu-west-1" has no prices');
  });

  it('a usage figure, a function without its memory size, a schedule that does not exist', () => {
    const negative = clone(TINY_USAGE);
    negative.measured.perMessage.dynamodb.writeRequestUnits = -3;
    expect(() => loadAwsUsage(negative)).toThrow(/^Invalid config\/aws-usage\.json: measured\.perMessage\.dynamodb\.writeRequestUnits: must be a number ≥ 0/);
    const share = clone(TINY_USAGE);
    share.assumptions.traceShare = 2;
    expect(() => loadAwsUsage(share)).toThrow('assumptions.traceShare: must be a share 0..1');
    const unknownFunction = clone(TINY_USAGE) as unknown as { measured: { perMessage: { functions: Json } } };
    unknownFunction.measured.perMessage.functions['mailer'] = { invocations: 1, ms: 1 };
    expect(() => loadAwsUsage(unknownFunction)).toThrow('measured.perMessage.functions.mailer: no inventory.functions.mailer.memoryMb');
    const unknownSchedule = clone(TINY_USAGE) as unknown as { measured: { scheduled: Json } };
    unknownSchedule.measured.scheduled['hourly-sweep'] = { ms: 1, dynamodb: { readRequestUnits: 0, writeRequestUnits: 0 }, sqsRequests: 0, appLogBytes: 0 };
    expect(() => loadAwsUsage(unknownSchedule)).toThrow('measured.scheduled.hourly-sweep: not a schedule of shared/resources.ts SCHEDULES');
    const profile = clone(TINY_USAGE) as unknown as { inventory: { profiles: Record<string, Json> } };
    delete profile.inventory.profiles['small'];
    expect(() => loadAwsUsage(profile)).toThrow('inventory.profiles.small');
  });

  it('a region the price file does not have', () => {
    expect(() => awsCostModel({ region: 'eu-west-1' })).toThrow('No AWS prices for region "eu-west-1" in config/aws-prices.json (it has us-east-1, ap-southeast-1, ap-east-1)');
  });
});

describe('schedules: runs a month from their cron expressions', () => {
  it.each([
    ['cron(* * * * ? *)', 60 * 24 * DAYS_PER_MONTH],
    ['cron(0/15 * * * ? *)', 4 * 24 * DAYS_PER_MONTH],
    ['cron(5/15 * * * ? *)', 4 * 24 * DAYS_PER_MONTH],
    ['cron(0/15 1-4 * * ? *)', 16 * DAYS_PER_MONTH],
    ['cron(0 1-4 * * ? *)', 4 * DAYS_PER_MONTH],
    ['cron(5 * * * ? *)', 24 * DAYS_PER_MONTH],
    ['cron(30 2 ? * MON *)', DAYS_PER_MONTH / 7],
    ['cron(45 2 1 * ? *)', 1],
  ])('%s runs %d times a month', (cron, runs) => {
    expect(runsPerMonth(cron)).toBeCloseTo(runs, 9);
  });

  it('counts every shipped schedule', () => {
    const total = SCHEDULES.reduce((n, s) => n + runsPerMonth(s.cron), 0);
    expect(total).toBeGreaterThan(60 * 24 * DAYS_PER_MONTH);
    expect(() => runsPerMonth('rate(5 minutes)')).toThrow('is not a cron(…) expression');
  });
});

describe('the shipped files', () => {
  it('every price names its AWS pricing page and date; every unverified one says why', () => {
    const prices = loadAwsPrices();
    expect(Object.keys(prices.regions)).toEqual(expect.arrayContaining(['us-east-1', 'ap-east-1', 'ap-southeast-1']));
    for (const [region, { prices: entries }] of Object.entries(prices.regions)) {
      for (const [service, items] of Object.entries(entries)) {
        for (const [name, entry] of Object.entries(items as Record<string, { source: string; asOf: string; verified: boolean; note?: string }>)) {
          expect(entry.source, `${region}.${service}.${name}`).toMatch(/^https:\/\/aws\.amazon\.com\//);
          if (!entry.verified) expect(entry.note, `${region}.${service}.${name}`).toBeTruthy();
        }
      }
    }
    // The DynamoDB on-demand price cut of November 2024 and the arm64 Lambda price.
    const us = prices.regions['us-east-1']!.prices;
    expect(us.dynamodb.writeRequestUnits).toMatchObject({ usd: 0.625, quantity: 1_000_000, verified: true });
    expect(us.dynamodb.readRequestUnits).toMatchObject({ usd: 0.125, quantity: 1_000_000, verified: true });
    expect(us.lambda.armGbSecond).toMatchObject({ usd: 0.0000133334, quantity: 1, verified: true });
  });

  it('the usage was measured (not the placeholder) and the model feeds the report\'s cost.model', () => {
    const usage = loadAwsUsage(rawUsage);
    expect(usage.measured.method).toMatch(/^bench\/cost\.ts/);
    expect(usage.measured.mix.messages).toBeGreaterThan(100);
    for (const profile of COST_PROFILES) {
      const m = awsCostModel({ profile });
      expect(m).toMatchObject({ region: 'us-east-1', profile, pricesAsOf: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/), source: expect.stringContaining('config/aws-prices.json') });
      expect(m.perMessageUsd).toBeGreaterThan(0);
      expect(m.fixedMonthlyUsd).toBeGreaterThan(m.idleMonthlyUsd);
    }
  });

  describe.each(COST_PROFILES)('the published ceilings hold, %s profile', (profile) => {
    const model = () => awsCostModel({ profile });
    it('≤ $30 a month for a small business (500 customers × 10 messages)', () => {
      expect(monthlyCost(model(), { customers: 500, messagesPerCustomer: 10 }).usd).toBeLessThanOrEqual(30);
    });
    it.each([
      ['5,000 customers', { customers: 5_000, messagesPerCustomer: 10 }],
      ['50,000 customers', { customers: 50_000, messagesPerCustomer: 10 }],
      ['10,000 messages a day', { messagesPerDay: 10_000 }],
    ] as const)('< $20 per 1,000 conversations at %s', (_label, load) => {
      expect(monthlyCost(model(), load).perThousandConversations).toBeLessThan(20);
    });
  });

  it('the small profile idles far below the standard one', () => {
    expect(awsCostModel({ profile: 'small' }).idleMonthlyUsd).toBeLessThan(5);
    expect(awsCostModel({ profile: 'standard' }).idleMonthlyUsd - awsCostModel({ profile: 'small' }).idleMonthlyUsd).toBeCloseTo(7.7 + 3 + 1, 6);
  });
});
