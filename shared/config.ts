/**
 * Runtime configuration: one typed object, validated once at cold start. A wrong or missing
 * value fails at start with a message naming the setting. Secrets: shared/secrets.ts.
 */
import { isSupportedCountry } from 'libphonenumber-js/min';
import * as z from 'zod/mini';
import './zod.ts';
import { CRM_KINDS, ENV, SECRET_KEYS, SYNC_RETRY, SYNC_RETRY_LIMITS } from './resources.ts';
import { DEFAULT_TIME_ZONE } from './reports/time.ts';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** A whole number from an environment string, within bounds. */
const wholeNumber = (bounds: { min?: number; max?: number } = {}) =>
  z.coerce.number().check(
    z.refine((n) => Number.isInteger(n), 'must be a whole number'),
    z.gte(bounds.min ?? 1),
    z.lte(bounds.max ?? Number.MAX_SAFE_INTEGER),
  );
const withDefault = <T extends z.core.SomeType>(schema: T, value: z.core.util.NoUndefined<z.core.output<T>>) => z._default(schema, value);
/** Queue URLs: AWS's, or an emulator's (whose host need not be a valid DNS name). */
const queueUrl = z.string().check(z.regex(/^https?:\/\/\S+\/[^/\s]+$/, 'must be an SQS queue URL'));
const pattern = (re: RegExp, message: string) => z.string().check(z.regex(re, message));

const RuntimeEnvSchema = z.object({
  [ENV.stage]: withDefault(pattern(/^[a-z0-9-]{1,20}$/, 'lowercase letters, digits and dashes'), 'local'),
  [ENV.tableName]: z.string().check(z.minLength(3)),
  [ENV.syncQueueUrl]: queueUrl,
  [ENV.syncDlqUrl]: z.optional(queueUrl),
  [ENV.mediaQueueUrl]: z.optional(queueUrl),
  [ENV.bucketName]: z.optional(z.string().check(z.minLength(3))),
  [ENV.eventBusName]: z.optional(z.string().check(z.minLength(1))),
  [ENV.defaultRegion]: withDefault(
    z.string().check(z.refine((v) => isSupportedCountry(v), 'not an ISO region libphonenumber knows (e.g. HK, TW)')),
    'HK',
  ),
  [ENV.retentionDays]: withDefault(wholeNumber({ min: 30 }), 180),
  [ENV.storageCapacityGb]: withDefault(wholeNumber({ min: 1 }), 50),
  [ENV.graphApiBase]: withDefault(z.url(), 'https://graph.facebook.com'),
  [ENV.graphApiVersion]: withDefault(pattern(/^v\d+\.\d+$/, 'like v25.0'), 'v25.0'),
  [ENV.crmKind]: withDefault(z.enum([...CRM_KINDS, 'none']), 'hubspot'),
  [ENV.hubspotApiBase]: withDefault(z.url(), 'https://api.hubapi.com'),
  [ENV.hubspotApiVersion]: withDefault(pattern(/^\d{4}-\d{2}$/, 'a date version like 2026-09'), '2026-09'),
  // The other CRMs' settings are read as given and checked by the CRM factory (shared/crm/settings.ts),
  // where they are used: the webhook's bundle does not carry their rules.
  /** Seconds between two sync attempts of one job (SY-4: 5 minutes). The stack sets it with the queue. */
  [ENV.syncRetryDelaySeconds]: withDefault(wholeNumber({ max: SYNC_RETRY_LIMITS.maxRetryDelaySeconds }), SYNC_RETRY.retryDelaySeconds),
  /** Attempts before a job goes to the DLQ: 1 + 3 retries (SY-4). The stack sets it with the queue. */
  [ENV.syncMaxAttempts]: withDefault(wholeNumber({ max: SYNC_RETRY_LIMITS.maxAttempts }), SYNC_RETRY.maxAttempts),
  /** Largest webhook body accepted, in bytes (413 above). */
  WEBHOOK_MAX_BODY_BYTES: withDefault(wholeNumber(), 1_048_576),
  /**
   * JSON map of phone_number_id → account (IN-6): its name, WABA id (templates), backup number
   * (OP-2) and channel (IN-7). A plain name is accepted for an account with nothing else set.
   */
  [ENV.accounts]: z.pipe(
    z.optional(z.string()),
    z.transform((v, ctx) => {
      if (!v) return {} as Record<string, AccountConfig>;
      const parsed = z.record(z.string(), z.union([z.string(), AccountSchema])).safeParse(safeJson(v));
      const badKey = parsed.success ? Object.keys(parsed.data).find((id) => !/^\d{1,30}$/.test(id)) : undefined;
      if (badKey !== undefined) {
        ctx.issues.push({ code: 'custom', message: `"${badKey}" is not a phone_number_id (a phone_number_id is digits, e.g. 106540352242922)`, input: v });
        return z.NEVER;
      }
      if (parsed.success) {
        return Object.fromEntries(Object.entries(parsed.data).map(([id, a]) => [id, typeof a === 'string' ? { name: a } : a])) as Record<string, AccountConfig>;
      }
      ctx.issues.push({ code: 'custom', message: `must be a JSON object of phone_number_id to {"name", "wabaId"?, "backupPhoneNumberId"?, "channel"?: "cloud_api" | "social_messaging", "originationId"?}: ${describe(parsed.error)}`, input: v });
      return z.NEVER;
    }),
  ),
  /** CP-6: unique customers reached outside a window per moving 24 h (Meta's tier: 250, 2,000, 10k, 100k). */
  [ENV.dailyLimit]: withDefault(wholeNumber(), 1_000),
  /** CP-6: calls to Meta's API per UTC day. */
  [ENV.dailyApiCalls]: withDefault(wholeNumber(), 10_000),
  /** CP-10: messages per second per number (Meta: 80 by default, up to 1,000). */
  [ENV.messagesPerSecond]: withDefault(wholeNumber({ max: 1_000 }), 80),
  [ENV.sendQueueUrl]: z.optional(queueUrl),
  [ENV.automationQueueUrl]: z.optional(queueUrl),
  [ENV.automationQueueArn]: z.optional(pattern(/^arn:aws[\w-]*:sqs:/, 'an SQS queue ARN')),
  [ENV.automationDlqArn]: z.optional(pattern(/^arn:aws[\w-]*:sqs:/, 'an SQS queue ARN')),
  [ENV.timerGroup]: z.optional(z.string().check(z.minLength(1))),
  [ENV.timerRoleArn]: z.optional(pattern(/^arn:aws[\w-]*:iam::/, 'an IAM role ARN')),
  /** The business's time zone (support hours, dates in messages); default the automation config's. */
  [ENV.timeZone]: z.optional(z.string().check(z.refine((tz) => isTimeZone(tz), 'an IANA time zone like Asia/Hong_Kong'))),
  /** The courier tracking API (AfterShip's); its key is the secret COURIER_API_KEY. */
  [ENV.courierApiBase]: withDefault(z.url(), 'https://api.aftership.com'),
  [ENV.courierApiVersion]: withDefault(pattern(/^\d{4}-\d{2}$/, 'a date version like 2026-07'), '2026-07'),
  /** Where addresses are completed (ID-7): Amazon Location Service, or none. */
  [ENV.geocoder]: withDefault(z.enum(['amazon-location', 'none']), 'amazon-location'),
  [ENV.geoPlacesEndpoint]: z.optional(z.url()),
});

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const AccountSchema = z.object({
  name: z.string().check(z.minLength(1)),
  wabaId: z.optional(z.string().check(z.regex(/^\d{1,30}$/, 'a WABA id is digits'))),
  backupPhoneNumberId: z.optional(z.string().check(z.regex(/^\d{1,30}$/, 'a phone_number_id is digits'))),
  channel: z.optional(z.enum(['cloud_api', 'social_messaging'])),
  /** AWS End User Messaging Social's id of the number (`phone-number-id-…`), for channel social_messaging. */
  originationId: z.optional(z.string().check(z.minLength(1))),
});
export type AccountConfig = z.infer<typeof AccountSchema>;

const describe = (error: z.core.$ZodError) => error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const SecretsSchema = z.object({
  [SECRET_KEYS.appSecret]: z.string().check(z.minLength(8, 'at least 8 characters (the Meta app secret)')),
  [SECRET_KEYS.verifyToken]: z.string().check(z.minLength(8, 'at least 8 characters')),
  [SECRET_KEYS.accessToken]: z.optional(z.string()),
  [SECRET_KEYS.hubspotAccessToken]: z.optional(z.string()),
  // The other CRMs' keys (SALESFORCE_*, ZOHO_*, CRM_WEBHOOK_SECRET) are checked by the CRM factory, where they are used.
  [SECRET_KEYS.apiToken]: z.optional(z.string().check(z.minLength(12, 'at least 12 characters'))),
  [SECRET_KEYS.courierApiKey]: z.optional(z.string().check(z.minLength(1))),
  [SECRET_KEYS.courierWebhookSecret]: z.optional(z.string().check(z.minLength(8, 'at least 8 characters'))),
  [SECRET_KEYS.mediaLinkKey]: z.optional(z.string().check(z.minLength(16, 'at least 16 characters'))),
});

function parseOrThrow<T extends z.ZodMiniType>(schema: T, input: unknown, what: string): z.infer<T> {
  const result = schema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ConfigError(`Invalid ${what}: ${problems}`);
  }
  return result.data;
}

/** The SALESFORCE_*, ZOHO_* and CRM_* settings as given. */
function crmEnv(env: Record<string, string | undefined>): Readonly<Record<string, string | undefined>> {
  return Object.fromEntries(Object.entries(env).filter(([name, value]) => value && (/^(SALESFORCE|ZOHO|CRM)_/.test(name) || name === 'HUBSPOT_CLIENT_SECRET' || name === 'HUBSPOT_APP_ID')));
}

export function loadRuntimeConfig(env: Record<string, string | undefined> = process.env) {
  const e = parseOrThrow(RuntimeEnvSchema, env, 'configuration');
  return {
    stage: e[ENV.stage],
    tableName: e[ENV.tableName],
    syncQueueUrl: e[ENV.syncQueueUrl],
    syncDlqUrl: e[ENV.syncDlqUrl],
    mediaQueueUrl: e[ENV.mediaQueueUrl],
    bucketName: e[ENV.bucketName],
    eventBusName: e[ENV.eventBusName],
    defaultRegion: e[ENV.defaultRegion],
    retentionDays: e[ENV.retentionDays],
    /** The business's time zone: the reports' days and hours, the automations' local times. */
    timeZone: e[ENV.timeZone] ?? DEFAULT_TIME_ZONE,
    storageCapacityGb: e[ENV.storageCapacityGb],
    graphApi: { base: e[ENV.graphApiBase], version: e[ENV.graphApiVersion] },
    crm: {
      kind: e[ENV.crmKind],
      hubspot: { baseUrl: e[ENV.hubspotApiBase], apiVersion: e[ENV.hubspotApiVersion] },
      /** SALESFORCE_*, ZOHO_*, CRM_WEBHOOK_URL, CRM_RATE_*, CRM_TIMEOUT_MS as given: crmSettings() checks them. */
      env: crmEnv(env),
    },
    sync: { retryDelaySeconds: e[ENV.syncRetryDelaySeconds], maxAttempts: e[ENV.syncMaxAttempts] },
    webhookMaxBodyBytes: e.WEBHOOK_MAX_BODY_BYTES,
    accounts: e[ENV.accounts],
    sendQueueUrl: e[ENV.sendQueueUrl],
    sending: { dailyLimit: e[ENV.dailyLimit], dailyApiCalls: e[ENV.dailyApiCalls], messagesPerSecond: e[ENV.messagesPerSecond] },
    automation: {
      queueUrl: e[ENV.automationQueueUrl],
      queueArn: e[ENV.automationQueueArn],
      dlqArn: e[ENV.automationDlqArn],
      timerGroup: e[ENV.timerGroup],
      timerRoleArn: e[ENV.timerRoleArn],
      timeZone: e[ENV.timeZone],
    },
    courier: { kind: 'aftership' as const, baseUrl: e[ENV.courierApiBase], apiVersion: e[ENV.courierApiVersion] },
    geocoder: { kind: e[ENV.geocoder], endpoint: e[ENV.geoPlacesEndpoint] },
  };
}
export type RuntimeConfig = ReturnType<typeof loadRuntimeConfig>;

export interface Secrets {
  readonly appSecret: string;
  readonly verifyToken: string;
  readonly whatsappAccessToken?: string | undefined;
  readonly hubspotAccessToken?: string | undefined;
  /** The other CRMs' secret keys as given (SALESFORCE_*, ZOHO_*, CRM_WEBHOOK_SECRET), by key name. */
  readonly crm: Readonly<Record<string, string | undefined>>;
  /** The bearer token of the SCRM API; without it the API answers 503 (not configured). */
  readonly apiToken?: string | undefined;
  /** The courier tracking API's key and the secret its webhooks are signed with (AU-2, AU-2b). */
  readonly courierApiKey?: string | undefined;
  readonly courierWebhookSecret?: string | undefined;
  /** The key of the media links in the CRM (MD-1); absent: derived from the app secret. */
  readonly mediaLinkKey?: string | undefined;
  /**
   * When each token was last rotated (`<KEY>_ROTATED_AT` in the secret, ISO 8601), for the OP-5
   * alarm on a token older than 25 days. Written by whoever rotates the token.
   */
  readonly rotatedAt: Readonly<Partial<Record<'whatsappAccessToken' | 'hubspotAccessToken', number>>>;
}

const rotationDate = (value: unknown): number | undefined => {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : at;
};

/** The secrets object (Secrets Manager's JSON, or environment variables of the same names), validated. */
export function parseSecrets(raw: unknown): Secrets {
  const s = parseOrThrow(SecretsSchema, raw, 'secrets');
  const all = (raw ?? {}) as Record<string, unknown>;
  const rotatedAt: Partial<Record<'whatsappAccessToken' | 'hubspotAccessToken', number>> = {};
  const whatsapp = rotationDate(all[`${SECRET_KEYS.accessToken}_ROTATED_AT`]);
  const hubspot = rotationDate(all[`${SECRET_KEYS.hubspotAccessToken}_ROTATED_AT`]);
  if (whatsapp !== undefined) rotatedAt.whatsappAccessToken = whatsapp;
  if (hubspot !== undefined) rotatedAt.hubspotAccessToken = hubspot;
  return {
    appSecret: s[SECRET_KEYS.appSecret],
    verifyToken: s[SECRET_KEYS.verifyToken],
    whatsappAccessToken: s[SECRET_KEYS.accessToken],
    hubspotAccessToken: s[SECRET_KEYS.hubspotAccessToken],
    crm: crmEnv(all as Record<string, string | undefined>),
    apiToken: s[SECRET_KEYS.apiToken],
    courierApiKey: s[SECRET_KEYS.courierApiKey],
    courierWebhookSecret: s[SECRET_KEYS.courierWebhookSecret],
    mediaLinkKey: s[SECRET_KEYS.mediaLinkKey],
    rotatedAt,
  };
}
