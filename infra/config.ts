/**
 * The stack configuration: one typed, validated object built once at synth time.
 *
 * Values come from CDK context (`npx cdk deploy -c stage=prod -c timeZone=Asia/Hong_Kong …` or the
 * `context` block of cdk.json) and fall back to environment variables, then to defaults. A wrong
 * value fails the synth with a message that names the setting, e.g.
 * `Invalid stack configuration: timeZone: "Mars/Base" is not an IANA time zone`.
 *
 * The AWS account and region are not configuration here: they are deploy parameters
 * (CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION, i.e. the AWS profile or `AWS_REGION` used to deploy).
 */
import { z } from 'zod';
import { CRM_KINDS, ENV, SYNC_RETRY, SYNC_RETRY_LIMITS } from '#shared/resources';

/** Retention periods CloudWatch Logs accepts (days). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/**
 * The deployment profiles (OP-6). `standard`: every alarm, the dashboard and a customer managed
 * key for the alarm topic. `small`: what a small business cannot do without — the secret, the
 * budget, one alarm folding every dead-letter queue, one on failed invocations, one on webhook 5xx
 * and the complaint-rate alarm — and nothing that costs money while idle besides (no dashboard, no
 * customer managed key). docs/cost.md prices both.
 */
export const DEPLOYMENT_PROFILES = ['standard', 'small'] as const;
export type DeploymentProfile = (typeof DEPLOYMENT_PROFILES)[number];

/** ST-1: conversation history is kept at least 180 days. */
export const MIN_RETENTION_DAYS = 180;


/** True when `name` is an IANA time zone name that the runtime (and EventBridge Scheduler) knows. */
export function isIanaTimeZone(name: string): boolean {
  // Offsets such as "+08:00" are accepted by Intl but not by EventBridge Scheduler: require a name.
  if (name !== 'UTC' && !/^[A-Za-z]+(?:\/[A-Za-z0-9_+-]+)+$/.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const quoted = (value: unknown) => JSON.stringify(value);

/** Numbers arrive as strings from `-c key=value` and from the environment. */
const numberFrom = () =>
  z.preprocess(
    (v) => (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v),
    z.number({ error: (issue) => `${quoted(issue.input)} is not a number` }),
  );

/** A whole-number setting within bounds (numbers arrive as strings from the context and the environment). */
const wholeNumberSetting = (bounds: { min: number; max?: number }) =>
  numberFrom().pipe(
    z
      .number()
      .int({ error: (i) => `${quoted(i.input)} must be a whole number` })
      .min(bounds.min, { error: (i) => `${quoted(i.input)} must be at least ${bounds.min}` })
      .max(bounds.max ?? Number.MAX_SAFE_INTEGER, { error: (i) => `${quoted(i.input)} must be at most ${bounds.max}` }),
  );

/** Meta's highest per-number throughput (CP-10); the functions refuse more too. */
export const MAX_MESSAGES_PER_SECOND = 1_000;

/**
 * Longest WHATSAPP_ACCOUNTS value accepted, as Lambda counts it ({@link accountsEnvironmentSize}:
 * compact, inside the environment's JSON with its quotes escaped). It goes into every function's
 * environment, whose variables Lambda limits to 4 KB in all: the other settings take about 1.4 KB,
 * the automation function's up to 2.1 KB (its queue, DLQ and timer role ARNs, with a 20-character
 * stage); test/infra holds the worst case to the limit.
 */
export const MAX_ACCOUNTS_JSON_LENGTH = 1_900;

/** The geocoders the automation function knows (shared/config.ts reads GEOCODER_KIND as one of them). */
export const GEOCODER_KINDS = ['amazon-location', 'none'] as const;

const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,256}$/;
const DIGITS = /^\d{1,30}$/;

/** One business number's settings, as shared/config.ts reads them at cold start. */
const AccountSchema = z
  .object({
    name: z.string({ error: 'name (the account\'s name) is required' }).min(1, { error: 'name must not be empty' }),
    wabaId: z.string().regex(DIGITS, { error: (i) => `wabaId ${quoted(i.input)} is not a WABA id (digits)` }).optional(),
    backupPhoneNumberId: z.string().regex(DIGITS, { error: (i) => `backupPhoneNumberId ${quoted(i.input)} is not a phone_number_id (digits)` }).optional(),
    channel: z.enum(['cloud_api', 'social_messaging'], { error: (i) => `channel ${quoted(i.input)} is not cloud_api or social_messaging` }).optional(),
    /** AWS End User Messaging Social's id of the number (`phone-number-id-…`); default the phone_number_id. */
    originationId: z.string().min(1, { error: 'originationId must not be empty' }).optional(),
  })
  .strict();

/** What WHATSAPP_ACCOUNTS takes of Lambda's 4 KB: the value inside the environment's JSON (quotes escaped). */
export function accountsEnvironmentSize(compact: string): number {
  return JSON.stringify(compact).length - 2;
}

/** The accounts JSON validated, each plain name made an object; or what is wrong with it. */
function parseAccounts(text: string): Record<string, z.infer<typeof AccountSchema>> | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return `${quoted(text.length > 60 ? `${text.slice(0, 60)}…` : text)} is not JSON`;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return 'must be a JSON object of phone_number_id to account';
  const accounts: Record<string, z.infer<typeof AccountSchema>> = {};
  const problems: string[] = [];
  for (const [id, value] of Object.entries(json)) {
    if (!DIGITS.test(id)) {
      problems.push(`${quoted(id)} is not a phone_number_id (digits)`);
      continue;
    }
    const parsed = AccountSchema.safeParse(typeof value === 'string' ? { name: value } : value);
    if (!parsed.success) {
      problems.push(`${id}: ${parsed.error.issues.map((issue) => (issue.code === 'unrecognized_keys' ? `${issue.keys.join(', ')}: not a setting of an account (name, wabaId, backupPhoneNumberId, channel, originationId)` : issue.message)).join(', ')}`);
      continue;
    }
    if (parsed.data.backupPhoneNumberId === id) {
      problems.push(`${id}: backupPhoneNumberId is the number itself`);
      continue;
    }
    accounts[id] = parsed.data;
  }
  if (problems.length > 0) return problems.join('; ');
  // Measured as Lambda counts it: compact, every account an object (a plain name grows by 9), and
  // inside the environment's JSON, where each quote is escaped.
  const size = accountsEnvironmentSize(JSON.stringify(accounts));
  if (size > MAX_ACCOUNTS_JSON_LENGTH) return `is ${size} characters as Lambda counts it in the functions' environment (compact, each account an object, quotes escaped); at most ${MAX_ACCOUNTS_JSON_LENGTH} fit into the functions' environment`;
  return accounts;
}

export const StackConfigSchema = z.object({
  /** Deployment stage; part of every physical name (scrm-<stage>-…). */
  stage: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,19}$/, { error: (i) => `${quoted(i.input)} must be 1-20 lowercase letters, digits or "-", starting with a letter` })
    .default('dev'),
  /** IANA time zone the schedules run in (the 1:00-5:00 batch window is local time). */
  timeZone: z
    .string()
    .refine(isIanaTimeZone, { error: (i) => `${quoted(i.input)} is not an IANA time zone` })
    .default('Asia/Hong_Kong'),
  /** Which CRM adapter the sync function uses. */
  crm: z.enum(CRM_KINDS, { error: (i) => `${quoted(i.input)} is not one of ${CRM_KINDS.join(', ')}` }).default('hubspot'),
  /** What the deployment keeps running besides the functions (OP-6): `standard` or `small` (see DEPLOYMENT_PROFILES). */
  profile: z.enum(DEPLOYMENT_PROFILES, { error: (i) => `${quoted(i.input)} is not one of ${DEPLOYMENT_PROFILES.join(', ')}` }).default('standard'),
  /** Optional e-mail address subscribed to the alarm topic. */
  alarmEmail: z.email({ error: (i) => `${quoted(i.input)} is not an e-mail address` }).optional(),
  /** Optional e-mail address subscribed to the reports topic (each daily and weekly report announced). */
  reportEmail: z.email({ error: (i) => `${quoted(i.input)} is not an e-mail address` }).optional(),
  /** Monthly AWS cost budget (USD); alerts at 80% actual and 100% forecast. OP-6: ≤ $30 for a small business. */
  monthlyBudgetUsd: numberFrom()
    .pipe(z.number().positive({ error: (i) => `${quoted(i.input)} must be a positive amount in USD` }))
    .default(30),
  /** Days a conversation is kept (ST-1: at least 180); the app computes the TTL from it. */
  retentionDays: numberFrom()
    .pipe(
      z
        .number()
        .int({ error: (i) => `${quoted(i.input)} must be a whole number of days` })
        .min(MIN_RETENTION_DAYS, { error: (i) => `${quoted(i.input)} is below the ${MIN_RETENTION_DAYS} days ST-1 requires` }),
    )
    .default(MIN_RETENTION_DAYS),
  /** The storage the business planned for, GB (ST-3): the growth alarm fires when 30 days add more than 5 % of it. */
  storageCapacityGb: numberFrom()
    .pipe(z.number().int({ error: (i) => `${quoted(i.input)} must be a whole number of GB` }).min(1, { error: (i) => `${quoted(i.input)} must be at least 1 GB` }))
    .default(50),
  /** Cost allocation tag value (finance's cost centre). */
  costCentre: z.string().trim().min(1, { error: 'must not be empty' }).max(256).default('whatsapp-scrm'),
  /** Retention of function and API access logs (a CloudWatch Logs retention value). */
  logRetentionDays: numberFrom()
    .pipe(
      z.number().refine((n) => (LOG_RETENTION_DAYS as readonly number[]).includes(n), {
        error: (i) => `${quoted(i.input)} is not a CloudWatch Logs retention (one of ${LOG_RETENTION_DAYS.join(', ')})`,
      }),
    )
    .default(30),
  /** ISO 3166 region used to parse phone numbers written without a country code (e.g. HK). */
  defaultRegion: z
    .string()
    .regex(/^[A-Z]{2}$/, { error: (i) => `${quoted(i.input)} is not a two-letter ISO 3166 region code such as HK` })
    .default('HK'),
  /** Graph API base URL and version; pointing them elsewhere needs no code change. */
  graphApiBase: z.url({ error: (i) => `${quoted(i.input)} is not a URL` }).default('https://graph.facebook.com'),
  graphApiVersion: z.string().regex(/^v\d+\.\d+$/, { error: (i) => `${quoted(i.input)} is not a Graph API version such as v25.0` }).default('v25.0'),
  hubspotApiBase: z.url({ error: (i) => `${quoted(i.input)} is not a URL` }).default('https://api.hubapi.com'),
  /** HubSpot date-based API version (shared/config.ts validates the same form at cold start). */
  hubspotApiVersion: z.string().regex(/^\d{4}-\d{2}$/, { error: (i) => `${quoted(i.input)} is not a HubSpot API version such as 2026-09` }).default('2026-09'),
  /** Salesforce: the org's My Domain base (https://<domain>.my.salesforce.com), where the token is asked; required when crm is salesforce. */
  salesforceLoginUrl: z.url({ error: (i) => `${quoted(i.input)} is not a URL` }).optional(),
  salesforceApiVersion: z.string().regex(/^v?\d{2,3}\.0$/, { error: (i) => `${quoted(i.input)} is not a Salesforce API version such as 68.0 or v68.0` }).default('68.0'),
  /** Zoho: the accounts server of the org's data centre (https://accounts.zoho.com, .eu, .in, .com.au, .jp …). */
  zohoAccountsUrl: z.url({ error: (i) => `${quoted(i.input)} is not a URL` }).default('https://accounts.zoho.com'),
  zohoApiVersion: z.string().regex(/^v?\d+$/, { error: (i) => `${quoted(i.input)} is not a Zoho CRM API version such as v8 or 8` }).default('v8'),
  /**
   * Salesforce Event Relay's partner event source (aws.partner/salesforce.com/<orgId>/<relayId>):
   * its bus is created and a rule sends the org's Change Data Capture events to the crm-events
   * queue (SY-3). Unset: the scheduled SystemModstamp catch-up alone brings the changes back.
   */
  salesforceEventSource: z.string().regex(/^aws\.partner\/salesforce\.com\/[A-Za-z0-9]+\/[A-Za-z0-9]+$/, { error: (i) => `${quoted(i.input)} is not an Event Relay partner event source such as aws.partner/salesforce.com/00D5g000000XXXXEAA/0YLRM000000XXXX4AA` }).optional(),
  /** The Salesforce integration user's id (005…): CDC events it committed are our own writes coming back. */
  salesforceIntegrationUserId: z.string().regex(/^005[A-Za-z0-9]{12}([A-Za-z0-9]{3})?$/, { error: (i) => `${quoted(i.input)} is not a Salesforce user id (005…)` }).optional(),
  /** The HubSpot app's id: webhook events whose sourceId names it are our own writes coming back. */
  hubspotAppId: z.string().regex(/^\d{1,20}$/, { error: (i) => `${quoted(i.input)} is not a HubSpot app id (digits)` }).optional(),
  /** Duplicate candidates at least this alike (0.8–1) are merged by the daily search itself (ID-3); unset: a person decides. */
  duplicateAutoMerge: numberFrom().pipe(z.number().min(0.8, { error: (i) => `${quoted(i.input)} must be 0.8 to 1 (names at least 80 % alike are candidates)` }).max(1)).optional(),
  /** The generic webhook's catch hook URL (Zapier / Make / Pabbly); required when crm is webhook. */
  crmWebhookUrl: z.url({ error: (i) => `${quoted(i.input)} is not a URL` }).optional(),
  /** Requests per window the bulk sync may send the CRM (its plan's limit); default the CRM's documented one. */
  crmRateLimit: numberFrom().pipe(z.number().int().positive({ error: (i) => `${quoted(i.input)} must be a whole number of requests` })).optional(),
  crmRateWindowSeconds: numberFrom().pipe(z.number().int().min(1).max(86_400, { error: (i) => `${quoted(i.input)} must be 1 to 86400 seconds` })).optional(),
  /** Attempts of a CRM sync job before it goes to the DLQ (1 + retries; SY-4: 4). Drives the queue and the function. */
  syncMaxAttempts: numberFrom()
    .pipe(
      z
        .number()
        .int({ error: (i) => `${quoted(i.input)} must be a whole number` })
        .min(1, { error: (i) => `${quoted(i.input)} must be at least 1` })
        .max(SYNC_RETRY_LIMITS.maxAttempts, { error: (i) => `${quoted(i.input)} must be at most ${SYNC_RETRY_LIMITS.maxAttempts}` }),
    )
    .default(SYNC_RETRY.maxAttempts),
  /** Seconds between two attempts of a CRM sync job (SY-4: 300). The queue's visibility timeout; the sync function gets 1/6 of it. */
  syncRetryDelaySeconds: numberFrom()
    .pipe(
      z
        .number()
        .int({ error: (i) => `${quoted(i.input)} must be a whole number of seconds` })
        .min(SYNC_RETRY_LIMITS.minRetryDelaySeconds, { error: (i) => `${quoted(i.input)} must be at least ${SYNC_RETRY_LIMITS.minRetryDelaySeconds} seconds (the sync function runs for 1/6 of it)` })
        .max(SYNC_RETRY_LIMITS.maxRetryDelaySeconds, { error: (i) => `${quoted(i.input)} must be at most ${SYNC_RETRY_LIMITS.maxRetryDelaySeconds} seconds (SQS's longest visibility timeout)` }),
    )
    .default(SYNC_RETRY.retryDelaySeconds),
  /**
   * The business numbers (IN-6), as the functions read them (env WHATSAPP_ACCOUNTS): a JSON object
   * of phone_number_id → account name, or → {name, wabaId?, backupPhoneNumberId?, channel?,
   * originationId?}. Validated here as the functions validate it at cold start, and given to
   * every function compact.
   */
  whatsappAccounts: z
    .string()
    .transform((text, ctx) => {
      const accounts = parseAccounts(text);
      if (typeof accounts === 'string') {
        ctx.addIssue({ code: 'custom', message: accounts });
        return z.NEVER;
      }
      return JSON.stringify(accounts);
    })
    .default('{}'),
  /** CP-6: unique customers reached outside a service window per moving 24 h (Meta's messaging tier: 250, 2,000, 10,000, 100,000). */
  whatsappDailyLimit: wholeNumberSetting({ min: 1 }).default(1_000),
  /** CP-6: calls to Meta's send API per UTC day, over every number. */
  whatsappDailyApiCalls: wholeNumberSetting({ min: 1 }).default(10_000),
  /** CP-10: messages per second per number (Meta: 80 by default, up to 1,000 when Meta raised it). */
  whatsappMessagesPerSecond: wholeNumberSetting({ min: 1, max: MAX_MESSAGES_PER_SECOND }).default(80),
  /** AU-2: the courier tracking API (AfterShip's); its key and webhook secret are in the secret (COURIER_API_KEY, COURIER_WEBHOOK_SECRET). */
  courierApiBase: z.url({ error: (i) => `${quoted(i.input)} is not a URL` }).default('https://api.aftership.com'),
  /** AfterShip's date-based API version (shared/config.ts validates the same form at cold start). */
  courierApiVersion: z.string().regex(/^\d{4}-\d{2}$/, { error: (i) => `${quoted(i.input)} is not a courier API version such as 2026-07` }).default('2026-07'),
  /**
   * ID-7: where the automation completes addresses: `amazon-location` (Amazon Location Service
   * Places v2, ReverseGeocode and Geocode; the automation function is granted those two) or
   * `none` (no geocoding, no grant).
   */
  geocoder: z.enum(GEOCODER_KINDS, { error: (i) => `${quoted(i.input)} is not one of ${GEOCODER_KINDS.join(', ')}` }).default('amazon-location'),
  /**
   * IN-7: the SNS topic AWS End User Messaging Social publishes a linked WhatsApp account's
   * webhooks to. When set, the webhook function subscribes to it and the send function may call
   * SendWhatsAppMessage (for accounts whose `channel` is `social_messaging`).
   */
  socialMessagingTopicArn: z
    .string()
    .regex(SNS_TOPIC_ARN, { error: (i) => `${quoted(i.input)} is not an SNS topic ARN such as arn:aws:sns:ap-east-1:123456789012:whatsapp-events` })
    .optional(),
}).superRefine((config, ctx) => {
  // The CRM the sync writes to needs its address.
  if (config.crm === 'salesforce' && !config.salesforceLoginUrl) ctx.addIssue({ code: 'custom', path: ['salesforceLoginUrl'], message: "must be set when crm is salesforce: the org's My Domain, https://<domain>.my.salesforce.com" });
  if (config.crm === 'webhook' && !config.crmWebhookUrl) ctx.addIssue({ code: 'custom', path: ['crmWebhookUrl'], message: 'must be set when crm is webhook: the catch hook URL of the Zap or scenario' });
  // An account linked to AWS gets its webhooks (messages and the statuses that settle our sends) from the topic only.
  const accounts = parseAccounts(config.whatsappAccounts);
  if (typeof accounts === 'string') return; // already reported on whatsappAccounts
  const viaAws = Object.entries(accounts)
    .filter(([, account]) => account.channel === 'social_messaging')
    .map(([id]) => id);
  if (viaAws.length > 0 && !config.socialMessagingTopicArn) {
    ctx.addIssue({
      code: 'custom',
      path: ['socialMessagingTopicArn'],
      message: `must be set: whatsappAccounts ${viaAws.join(', ')} use channel social_messaging, whose webhooks AWS End User Messaging Social publishes to an SNS topic`,
    });
  }
});

export type StackConfig = z.infer<typeof StackConfigSchema>;
export type StackConfigInput = z.input<typeof StackConfigSchema>;
export type StackConfigKey = keyof StackConfig;

/** Environment variable read when a setting is not in the CDK context. */
export const CONFIG_ENV_FALLBACK: Readonly<Record<StackConfigKey, string>> = {
  stage: ENV.stage,
  timeZone: ENV.timeZone,
  crm: ENV.crmKind,
  profile: 'SCRM_PROFILE',
  alarmEmail: 'SCRM_ALARM_EMAIL',
  reportEmail: 'SCRM_REPORT_EMAIL',
  monthlyBudgetUsd: 'SCRM_MONTHLY_BUDGET_USD',
  retentionDays: ENV.retentionDays,
  storageCapacityGb: ENV.storageCapacityGb,
  costCentre: 'SCRM_COST_CENTRE',
  logRetentionDays: 'SCRM_LOG_RETENTION_DAYS',
  defaultRegion: ENV.defaultRegion,
  graphApiBase: ENV.graphApiBase,
  graphApiVersion: ENV.graphApiVersion,
  hubspotApiBase: ENV.hubspotApiBase,
  hubspotApiVersion: ENV.hubspotApiVersion,
  salesforceLoginUrl: ENV.salesforceLoginUrl,
  salesforceApiVersion: ENV.salesforceApiVersion,
  zohoAccountsUrl: ENV.zohoAccountsUrl,
  zohoApiVersion: ENV.zohoApiVersion,
  crmWebhookUrl: ENV.crmWebhookUrl,
  salesforceEventSource: 'SCRM_SALESFORCE_EVENT_SOURCE',
  salesforceIntegrationUserId: 'SALESFORCE_INTEGRATION_USER_ID',
  hubspotAppId: ENV.hubspotAppId,
  duplicateAutoMerge: ENV.duplicateAutoMerge,
  crmRateLimit: ENV.crmRateLimit,
  crmRateWindowSeconds: ENV.crmRateWindowSeconds,
  syncMaxAttempts: ENV.syncMaxAttempts,
  syncRetryDelaySeconds: ENV.syncRetryDelaySeconds,
  whatsappAccounts: ENV.accounts,
  whatsappDailyLimit: ENV.dailyLimit,
  whatsappDailyApiCalls: ENV.dailyApiCalls,
  whatsappMessagesPerSecond: ENV.messagesPerSecond,
  courierApiBase: ENV.courierApiBase,
  courierApiVersion: ENV.courierApiVersion,
  geocoder: ENV.geocoder,
  socialMessagingTopicArn: 'SCRM_SOCIAL_MESSAGING_TOPIC_ARN',
};

export class StackConfigError extends Error {
  override readonly name = 'StackConfigError';
}

/**
 * Validates raw settings (strings or numbers; empty strings count as unset) into the stack
 * configuration. Pure: throws {@link StackConfigError} naming each wrong setting.
 */
export function loadStackConfig(raw: Readonly<Record<string, unknown>>): StackConfig {
  const cleaned = Object.fromEntries(
    Object.entries(raw).filter(([, v]) => v !== undefined && v !== null && !(typeof v === 'string' && v.trim() === '')),
  );
  const parsed = StackConfigSchema.safeParse(cleaned);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  throw new StackConfigError(`Invalid stack configuration: ${problems.join('; ')}`);
}

/** Reads every setting from CDK context first, then from its environment variable. */
export function readStackConfig(
  tryGetContext: (key: string) => unknown,
  env: Readonly<Record<string, string | undefined>> = process.env,
): StackConfig {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(CONFIG_ENV_FALLBACK) as StackConfigKey[]) {
    raw[key] = tryGetContext(key) ?? env[CONFIG_ENV_FALLBACK[key]];
  }
  return loadStackConfig(raw);
}
