/**
 * The one definition of every stateful resource: table keys and indexes, queues and their
 * redrive policy, bucket layout and schedules. The CDK stack (infra/), the local stack (local/)
 * and the tests all read this module, so a key or a name is never written twice.
 */

/** DynamoDB single table. */
export const TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Epoch seconds; DynamoDB TTL deletes the item after it (ST-1 retention). */
  ttlAttribute: 'expiresAt',
  indexes: {
    /** A contact's history: gsi1pk = CONTACT#<id>, gsi1sk = MSG#<iso time>#<wamid>. */
    byContact: { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
    /**
     * Sparse index of work that is stored but not yet done (a message not yet synced to the
     * CRM). The sweep reads it after a restart or a failed enqueue; the attributes are removed
     * when the work is done, so the index only ever holds what is pending.
     */
    pendingSync: { name: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  },
} as const;

export interface QueueDefinition {
  /** Logical id; the physical name is derived per stage by {@link resourceNames}. */
  readonly id: string;
  readonly fifo: boolean;
  /** Seconds a received job stays invisible: also the pause between two attempts. */
  readonly visibilityTimeoutSeconds: number;
  /** Receives before SQS moves the job to the DLQ: 1 attempt + the retries (SY-4). */
  readonly maxReceiveCount: number;
  readonly batchSize: number;
  readonly retentionDays: number;
}

/**
 * How CRM sync jobs are retried (SY-4): attempts in all (1 + retries) and the pause between two.
 * One definition drives the queue (visibility timeout, redrive), the stack (deploy settings
 * `syncMaxAttempts`, `syncRetryDelaySeconds`), the sync function (env SYNC_MAX_ATTEMPTS,
 * SYNC_RETRY_DELAY_SECONDS, set by the stack from the same values), the local poller and the
 * message row's state: they cannot disagree.
 *
 * The sync function counts attempts on the message row and parks a job in the DLQ itself after
 * the last one (the row marked failed at the same moment). A job it had no time to start is given
 * back unstarted: not an attempt, though SQS counts the receive. So SQS's own redrive, the safety
 * net for a function that dies mid-attempt, allows {@link SYNC_RECEIVE_ALLOWANCE} receives more.
 */
export interface SyncRetryPolicy {
  readonly maxAttempts: number;
  readonly retryDelaySeconds: number;
}

export const SYNC_RETRY: SyncRetryPolicy = { maxAttempts: 4, retryDelaySeconds: 300 };

/** Receives a job may take beyond its attempts before SQS moves it to the DLQ by itself. */
export const SYNC_RECEIVE_ALLOWANCE = 6;

/** The most attempts a job may have; the shortest pause AWS allows (the function needs 1/6 of it). */
export const SYNC_RETRY_LIMITS = { maxAttempts: 10, minRetryDelaySeconds: 60, maxRetryDelaySeconds: 43_200 } as const;

/**
 * CRM sync jobs. FIFO with one message group per contact keeps one customer's messages in the
 * order they arrived while other customers go on in parallel. A failed job comes back after the
 * retry pause (the visibility timeout): 1 attempt + 3 retries 5 minutes apart, then the DLQ.
 */
export function syncQueueDefinition(policy: SyncRetryPolicy = SYNC_RETRY): QueueDefinition {
  return {
    id: 'sync',
    fifo: true,
    visibilityTimeoutSeconds: policy.retryDelaySeconds,
    maxReceiveCount: policy.maxAttempts + SYNC_RECEIVE_ALLOWANCE,
    batchSize: 10,
    retentionDays: 14,
  };
}

export const SYNC_QUEUE: QueueDefinition = syncQueueDefinition();

/**
 * Sync invocations at most at once (the SQS event source's maximum concurrency): the CRM's request
 * limit is shared by them (each paces to its share of CRM_RATE_LIMIT), and a burst takes up to 100
 * jobs per invocation, so a few carry any storm.
 */
export const SYNC_MAX_CONCURRENCY = 4;

/** Longest a sync invocation may run: 1/6 of the queue's visibility timeout (AWS guidance), at most 50 s. */
export function syncFunctionTimeoutSeconds(policy: SyncRetryPolicy = SYNC_RETRY): number {
  return Math.max(1, Math.min(50, Math.floor(policy.retryDelaySeconds / 6)));
}

/** Media download and recompression jobs (MD-1). */
export const MEDIA_QUEUE: QueueDefinition = {
  id: 'media',
  fifo: false,
  visibilityTimeoutSeconds: 360,
  maxReceiveCount: 4,
  batchSize: 5,
  retentionDays: 14,
};

/**
 * Outbound sends (AU-7). FIFO with one group per customer: one customer's messages go in the order
 * they were accepted. The send function claims each message's row before calling Meta, so a job
 * received twice never sends twice; a retryable failure comes back after its backoff (the
 * function sets the visibility), at most 2 retries; SQS's own redrive is only the net for a
 * function that keeps dying.
 */
export const SEND_QUEUE: QueueDefinition = {
  id: 'send',
  fifo: true,
  visibilityTimeoutSeconds: 60,
  maxReceiveCount: 10,
  batchSize: 10,
  retentionDays: 4,
};

/** Longest a send invocation runs (1/6 of the queue's visibility timeout). */
export const SEND_FUNCTION_TIMEOUT_SECONDS = 10;

/**
 * How sends are retried and settled (AU-7): 3 calls to Meta at most (1 + 2 retries) for the
 * retryable codes, backoff 2 s then 8 s (or Meta's Retry-After); a send left `sending` with no
 * answer and no status webhook is marked `unknown` after the settle time and alarmed, never sent
 * again blindly.
 */
export const SEND_RETRY = { maxAttempts: 3, backoffSeconds: [2, 8], settleSeconds: 600 } as const;

/**
 * Automation input (AU-*, AG-1): the EventBridge bus's domain events (a rule targets this queue)
 * and the time-window rules' timers (EventBridge Scheduler one-time schedules deliver here).
 * Standard: every action is keyed, so a repeat changes nothing; a failed event comes back after
 * the visibility timeout, 5 receives, then the DLQ (alarmed).
 */
export const AUTOMATION_QUEUE: QueueDefinition = {
  id: 'automation',
  fifo: false,
  visibilityTimeoutSeconds: 60,
  maxReceiveCount: 5,
  batchSize: 10,
  retentionDays: 4,
};

/** Longest an automation invocation runs (1/6 of the queue's visibility timeout). */
export const AUTOMATION_FUNCTION_TIMEOUT_SECONDS = 10;

/** The domain event types the automation reacts to (the bus rule's detail-type filter). */
export const AUTOMATION_EVENT_TYPES = ['MessageReceived', 'SegmentChanged', 'OrderUpdated', 'ParcelUpdated', 'ConversationResolved'] as const;

/**
 * Changes from the CRM (SY-3): what the signed routes stored (`POST /crm-events/*`) and what
 * Salesforce's Event Relay puts on the partner bus (a rule targets this queue). Standard: every
 * event is applied once (its mark) and field changes are ordered by their time, not by the queue.
 */
export const CRM_EVENTS_QUEUE: QueueDefinition = {
  id: 'crm-events',
  fifo: false,
  visibilityTimeoutSeconds: 60,
  maxReceiveCount: 5,
  batchSize: 10,
  retentionDays: 4,
};

/** Longest a crm-events invocation runs (1/6 of the queue's visibility timeout). */
export const CRM_EVENTS_FUNCTION_TIMEOUT_SECONDS = 10;

export const QUEUES = [SYNC_QUEUE, MEDIA_QUEUE, SEND_QUEUE, AUTOMATION_QUEUE, CRM_EVENTS_QUEUE] as const;

/** Object key prefixes inside the one bucket. */
export const BUCKET_LAYOUT = {
  media: 'media/',
  /** Webhook payloads too large for a table item, kept whole (the table holds a preview). */
  raw: 'raw/',
  archive: 'archive/',
  reports: 'reports/',
  exports: 'exports/',
} as const;

export interface ScheduleDefinition {
  readonly id: string;
  /** EventBridge Scheduler cron expression, evaluated in the configured time zone. */
  readonly cron: string;
  /** The function folder under functions/ that the schedule invokes. */
  readonly target: 'batch-export' | 'reports' | 'send' | 'automation';
  /** The payload the function receives. */
  readonly task: string;
  readonly description: string;
}

export const SCHEDULES: readonly ScheduleDefinition[] = [
  {
    id: 'pending-sweep',
    cron: 'cron(0/15 * * * ? *)',
    target: 'batch-export',
    task: 'sweep',
    description: 'Every 15 minutes: queue again any message stored but not yet synced (nothing accepted is lost)',
  },
  {
    id: 'batch-sync',
    cron: 'cron(0 1-4 * * ? *)',
    target: 'batch-export',
    task: 'batch-sync',
    description: 'Hourly batch CRM sync and pending-sync sweep inside the 1:00-5:00 window (SY-5)',
  },
  {
    id: 'unread-export',
    cron: 'cron(0 2 * * ? *)',
    target: 'batch-export',
    task: 'unread-export',
    description: 'Daily 2:00 export of unread and unanswered conversations (SY-6)',
  },
  {
    id: 'segment-refresh',
    cron: 'cron(0/15 1-4 * * ? *)',
    target: 'batch-export',
    task: 'segment-refresh',
    description: 'The night batch sync (SY-5), every 15 min from 1:00 to 4:45: segments and scores from history (TG-3 churn), the changed contacts written through the CRM\'s batch API inside its limit; each run carries on where the last stopped',
  },
  {
    id: 'reconcile',
    cron: 'cron(30 5 * * ? *)',
    target: 'batch-export',
    task: 'reconcile',
    description: 'Daily 5:30, after the night batch: 100 random synced contacts read back from the CRM and compared field by field (SY-7), the sample as CSV for a person to sign',
  },
  {
    id: 'service-report',
    cron: 'cron(30 2 ? * MON *)',
    target: 'batch-export',
    task: 'service-report',
    description: 'Mondays 2:30: the week\'s median first-response time, per agent, as CSV and into the CRM (SY-6)',
  },
  {
    id: 'keyword-report',
    cron: 'cron(45 2 1 * ? *)',
    target: 'batch-export',
    task: 'keyword-report',
    description: 'The 1st of each month, 2:45: how often each tracked keyword came up last month, as CSV (SY-6)',
  },
  {
    id: 'mapping-check',
    cron: 'cron(0 6 ? * MON *)',
    target: 'batch-export',
    task: 'mapping-check',
    description: 'Mondays 6:00: the share of the week\'s synced records whose mapped fields failed or fell back to defaults (SY-9, alarm above 2 %)',
  },
  {
    id: 'credential-check',
    cron: 'cron(30 0 * * ? *)',
    target: 'batch-export',
    task: 'credential-check',
    description: 'Daily 0:30: the age of every API token, for the alarm on a token older than 25 days (OP-5)',
  },
  {
    id: 'crm-catch-up',
    cron: 'cron(5/15 * * * ? *)',
    target: 'batch-export',
    task: 'crm-catch-up',
    description: 'Every 15 minutes: the CRM\'s changes since the last run (Salesforce SystemModstamp, Zoho Modified_Time, HubSpot lastmodifieddate) for anything a webhook, CDC event or notification missed (SY-3)',
  },
  {
    id: 'crm-watch',
    cron: 'cron(40 0 * * ? *)',
    target: 'batch-export',
    task: 'crm-watch',
    description: 'Daily 0:40: the CRM\'s notification channel renewed before its expiry (Zoho /actions/watch, a week at most)',
  },
  {
    id: 'duplicates',
    cron: 'cron(15 3 * * ? *)',
    target: 'batch-export',
    task: 'duplicates',
    description: 'Daily 3:15: duplicate customers over stored contacts (names ≥ 80 % alike, the same SKU within 90 days), queued for review (ID-3)',
  },
  {
    id: 'archive',
    cron: 'cron(45 1 * * ? *)',
    target: 'batch-export',
    task: 'archive',
    description: 'Nightly 1:45: each month of history due to leave the table (TTL) within a week, archived to S3 archive/ as gzip JSON lines per contact (ST-2)',
  },
  {
    id: 'storage-growth',
    cron: 'cron(50 4 * * ? *)',
    target: 'batch-export',
    task: 'storage-growth',
    description: 'Daily 4:50: the table\'s and the bucket\'s bytes, and what 30 days added as a share of the planned capacity (ST-3: alarm above 5 %)',
  },
  {
    id: 'outbox-sweep',
    cron: 'cron(* * * * ? *)',
    target: 'send',
    task: 'outbox-sweep',
    description: 'Every minute: queue outbound messages that are due (deferred, or queued but not in the queue), mark sends with no answer past the settle time unknown',
  },
  {
    id: 'template-sync',
    cron: 'cron(15 0 * * ? *)',
    target: 'send',
    task: 'template-sync',
    description: 'Daily 0:15: every WABA\'s message templates from Meta into the table (a send checks its template there first)',
  },
  {
    id: 'number-health',
    cron: 'cron(5 * * * ? *)',
    target: 'send',
    task: 'number-health',
    description: 'Hourly: each business number\'s Graph API health and quality rating; three slow checks in a row switch the account to its backup number (OP-2)',
  },
  {
    id: 'follow-up',
    cron: 'cron(0 9 ? * MON *)',
    target: 'automation',
    task: 'follow-up',
    description: 'Mondays 9:00: a follow-up task in the CRM for every potential customer (AU-5)',
  },
  {
    id: 'daily-report',
    cron: 'cron(0 6 * * ? *)',
    target: 'reports',
    task: 'daily',
    description: 'Daily transaction metrics (RP-10)',
  },
  {
    id: 'weekly-report',
    cron: 'cron(0 7 ? * MON *)',
    target: 'reports',
    task: 'weekly',
    description: 'Weekly service, funnel and cost reports (RP-9)',
  },
];

/** Physical names of the resources of one stage. */
export function resourceNames(stage: string) {
  const prefix = `scrm-${stage}`;
  const queueName = (q: QueueDefinition, dlq = false) =>
    `${prefix}-${q.id}${dlq ? '-dlq' : ''}${q.fifo ? '.fifo' : ''}`;
  return {
    table: `${prefix}-table`,
    syncQueue: queueName(SYNC_QUEUE),
    syncDlq: queueName(SYNC_QUEUE, true),
    mediaQueue: queueName(MEDIA_QUEUE),
    mediaDlq: queueName(MEDIA_QUEUE, true),
    sendQueue: queueName(SEND_QUEUE),
    sendDlq: queueName(SEND_QUEUE, true),
    automationQueue: queueName(AUTOMATION_QUEUE),
    automationDlq: queueName(AUTOMATION_QUEUE, true),
    crmEventsQueue: queueName(CRM_EVENTS_QUEUE),
    crmEventsDlq: queueName(CRM_EVENTS_QUEUE, true),
    /** EventBridge Scheduler group of the automations' one-time timers. */
    timerGroup: `${prefix}-timers`,
    bucket: `${prefix}-data`,
    eventBus: `${prefix}-events`,
  };
}

export type ResourceNames = ReturnType<typeof resourceNames>;

/** The function folders that become Lambda functions; each has a handler.ts exporting `handler`. */
export const FUNCTIONS = ['webhook', 'sync', 'retry', 'batch-export', 'reports', 'media', 'send', 'api', 'automation', 'crm-events'] as const;
export type FunctionName = (typeof FUNCTIONS)[number];

/** CRMs with an adapter (SY-2): `SCRM_CRM` picks one. */
export const CRM_KINDS = ['hubspot', 'salesforce', 'zoho', 'webhook'] as const;
export type CrmKind = (typeof CRM_KINDS)[number];

/** Environment variable names the functions read (values set by the stack or the local stack). */
export const ENV = {
  stage: 'SCRM_STAGE',
  tableName: 'SCRM_TABLE_NAME',
  syncQueueUrl: 'SCRM_SYNC_QUEUE_URL',
  syncDlqUrl: 'SCRM_SYNC_DLQ_URL',
  mediaQueueUrl: 'SCRM_MEDIA_QUEUE_URL',
  /** The media DLQ: the media function sends a media that failed for good there (MD-1). */
  mediaDlqUrl: 'SCRM_MEDIA_DLQ_URL',
  sendQueueUrl: 'SCRM_SEND_QUEUE_URL',
  bucketName: 'SCRM_BUCKET_NAME',
  secretArn: 'SCRM_SECRET_ARN',
  eventBusName: 'SCRM_EVENT_BUS_NAME',
  defaultRegion: 'SCRM_DEFAULT_REGION',
  retentionDays: 'SCRM_RETENTION_DAYS',
  /** The storage the business planned for, GB (ST-3): a month adding more than 5 % of it alarms. */
  storageCapacityGb: 'SCRM_STORAGE_CAPACITY_GB',
  graphApiBase: 'WHATSAPP_GRAPH_API_BASE',
  graphApiVersion: 'WHATSAPP_GRAPH_API_VERSION',
  crmKind: 'SCRM_CRM',
  hubspotApiBase: 'HUBSPOT_API_BASE',
  hubspotApiVersion: 'HUBSPOT_API_VERSION',
  /** The org's My Domain base the Salesforce token is asked from (https://acme.my.salesforce.com). */
  salesforceLoginUrl: 'SALESFORCE_LOGIN_URL',
  /** Salesforce REST version: `68.0` or `v68.0`. */
  salesforceApiVersion: 'SALESFORCE_API_VERSION',
  /** Zoho accounts server of the data centre (https://accounts.zoho.com, .eu, .in, .com.au …). */
  zohoAccountsUrl: 'ZOHO_ACCOUNTS_URL',
  /** Zoho CRM API version: `v8` or `8`. */
  zohoApiVersion: 'ZOHO_API_VERSION',
  /** The HubSpot app's id: a change whose `sourceId` is this app is our own write coming back (echo). */
  hubspotAppId: 'HUBSPOT_APP_ID',
  /** The deployment's public base URL (the HTTP API's): CRM notification channels call back to it. */
  publicUrl: 'SCRM_PUBLIC_URL',
  /** Duplicate candidates with at least this name similarity (0.8–1) are merged by the daily search itself; unset: a person decides. */
  duplicateAutoMerge: 'SCRM_DUPLICATE_AUTO_MERGE',
  /** The queue of stored CRM change events (two-way sync, SY-3). */
  crmEventsQueueUrl: 'SCRM_CRM_EVENTS_QUEUE_URL',
  /** Where the generic CRM webhook POSTs its events (a Zapier / Make / Pabbly catch hook). */
  crmWebhookUrl: 'CRM_WEBHOOK_URL',
  /** Requests per window the bulk work may send the CRM (default: the CRM's documented limit). */
  crmRateLimit: 'CRM_RATE_LIMIT',
  crmRateWindowSeconds: 'CRM_RATE_WINDOW_SECONDS',
  /** How long one CRM request may take before it counts as failed (its outcome unknown for a write). */
  crmTimeoutMs: 'CRM_TIMEOUT_MS',
  /** Sync invocations that run side by side at most (the event source's maximum concurrency): each paces to its share of CRM_RATE_LIMIT. */
  syncConcurrency: 'SCRM_SYNC_CONCURRENCY',
  syncMaxAttempts: 'SYNC_MAX_ATTEMPTS',
  syncRetryDelaySeconds: 'SYNC_RETRY_DELAY_SECONDS',
  accounts: 'WHATSAPP_ACCOUNTS',
  dailyLimit: 'WHATSAPP_DAILY_LIMIT',
  dailyApiCalls: 'WHATSAPP_DAILY_API_CALLS',
  messagesPerSecond: 'WHATSAPP_MESSAGES_PER_SECOND',
  automationQueueUrl: 'SCRM_AUTOMATION_QUEUE_URL',
  automationQueueArn: 'SCRM_AUTOMATION_QUEUE_ARN',
  automationDlqArn: 'SCRM_AUTOMATION_DLQ_ARN',
  timerGroup: 'SCRM_TIMER_GROUP',
  timerRoleArn: 'SCRM_TIMER_ROLE_ARN',
  timeZone: 'SCRM_TIME_ZONE',
  /** The SNS topic that announces each report (the reports function publishes to it). */
  reportsTopicArn: 'SCRM_REPORTS_TOPIC_ARN',
  /** The base of tracked links in outbound messages (`<base>/l/<token>`, AU-8): the HTTP API's URL by default. */
  linkBaseUrl: 'SCRM_LINK_BASE_URL',
  /** The stack's deployment profile (`standard` | `small`): the reports' cost model prices it. */
  deployProfile: 'SCRM_PROFILE',
  courierApiBase: 'COURIER_API_BASE',
  courierApiVersion: 'COURIER_API_VERSION',
  geocoder: 'GEOCODER_KIND',
  geoPlacesEndpoint: 'GEO_PLACES_ENDPOINT',
} as const;

/** Keys of the one Secrets Manager secret (a JSON object); locally the same names are env vars. */
export const SECRET_KEYS = {
  appSecret: 'WHATSAPP_APP_SECRET',
  verifyToken: 'WHATSAPP_VERIFY_TOKEN',
  accessToken: 'WHATSAPP_ACCESS_TOKEN',
  hubspotAccessToken: 'HUBSPOT_ACCESS_TOKEN',
  /** Salesforce External Client App (client credentials flow). */
  salesforceClientId: 'SALESFORCE_CLIENT_ID',
  salesforceClientSecret: 'SALESFORCE_CLIENT_SECRET',
  /** Zoho self-client / server-based client and its refresh token. */
  zohoClientId: 'ZOHO_CLIENT_ID',
  zohoClientSecret: 'ZOHO_CLIENT_SECRET',
  zohoRefreshToken: 'ZOHO_REFRESH_TOKEN',
  /** The generic webhook's signing secret (`whsec_…`, Standard Webhooks). */
  crmWebhookSecret: 'CRM_WEBHOOK_SECRET',
  /** The HubSpot project app's client secret: it signs the app's webhooks (`X-HubSpot-Signature-v3`). */
  hubspotClientSecret: 'HUBSPOT_CLIENT_SECRET',
  /** The token of the Zoho notification channel (`/actions/watch`): every callback carries it. */
  zohoChannelToken: 'ZOHO_CHANNEL_TOKEN',
  /** The bearer token of the SCRM's own API (`Authorization: Bearer …`). */
  apiToken: 'SCRM_API_TOKEN',
  /** The courier tracking API's key (AfterShip `as-api-key`) and its webhook signing secret. */
  courierApiKey: 'COURIER_API_KEY',
  courierWebhookSecret: 'COURIER_WEBHOOK_SECRET',
  /** Signs the media links written into the CRM (`/media/{wamid}?sig=…`); absent: derived from the Meta app secret. */
  mediaLinkKey: 'SCRM_MEDIA_LINK_KEY',
} as const;

/** The value the stack writes for every secret key an operator fills in after the first deploy. */
export const SECRET_PLACEHOLDER = 'REPLACE_ME';
