/**
 * Every business metric the functions emit (CloudWatch embedded metric format through
 * Powertools Metrics) and the alarms and dashboard read: one definition for both, so a metric
 * an alarm watches cannot silently stop being emitted (a CDK test holds the two together).
 * No Powertools import here: the CDK app reads this module too.
 */
import type { FunctionName } from './resources.ts';

export const METRIC_NAMESPACE = 'WhatsAppScrm';

export type MetricUnitName = 'Count' | 'Milliseconds' | 'None';

export interface MetricDefinition {
  readonly name: string;
  readonly unit: MetricUnitName;
  /** The function that emits it: its `service` dimension. */
  readonly emittedBy: FunctionName;
}

/** What each metric counts is the comment on its key: not a string, so the functions' bundles do not carry it. */
const metric = <N extends string>(name: N, unit: MetricUnitName, emittedBy: FunctionName) => ({ name, unit, emittedBy }) as const;

export const METRICS = {
  /** messages stored for the first time */
  messagesStored: metric('MessagesStored', 'Count', 'webhook'),
  /** messages Meta delivered again (nothing changed) */
  duplicateDeliveries: metric('DuplicateDeliveries', 'Count', 'webhook'),
  /** webhook events kept raw as unprocessable (look at them) */
  unprocessableEvents: metric('UnprocessableEvents', 'Count', 'webhook'),
  /** messages written to the CRM */
  messagesSynced: metric('MessagesSynced', 'Count', 'sync'),
  /** CRM sync attempts that failed */
  syncAttemptsFailed: metric('SyncAttemptsFailed', 'Count', 'sync'),
  /** sync jobs parked in the DLQ */
  syncJobsParked: metric('SyncJobsParked', 'Count', 'sync'),
  /** sync jobs given back unstarted (no time left in the invocation) */
  syncJobsUnstarted: metric('SyncJobsUnstarted', 'Count', 'sync'),
  /** time from the webhook to the message in the CRM */
  syncLatency: metric('SyncLatency', 'Milliseconds', 'sync'),
  /** CRM requests a synced message took */
  crmCallsPerMessage: metric('CrmCallsPerMessage', 'Count', 'sync'),
  /** CRM answers 401/403: the token is wrong or expired (OP-5) */
  crmAuthFailures: metric('CrmAuthFailures', 'Count', 'sync'),
  /** CRM answers 429 / REQUEST_LIMIT_EXCEEDED (the pacing should keep it at 0) */
  crmRateLimited: metric('CrmRateLimited', 'Count', 'sync'),
  /** share of the CRM's daily API budget used, in % (Salesforce Sforce-Limit-Info, Zoho credits): alarm above 80 */
  crmApiUsage: metric('CrmApiUsage', 'None', 'sync'),
  /** the generic CRM webhook answered 410 Gone: its receiver is switched off (jobs parked) */
  crmWebhookGone: metric('CrmWebhookGone', 'Count', 'sync'),
  /** changes from the CRM applied (two-way sync, SY-3) */
  crmChangesApplied: metric('CrmChangesApplied', 'Count', 'crm-events'),
  /** two-way conflicts queued for review (ID-5: 50–100 a day is normal) */
  crmConflicts: metric('CrmConflicts', 'Count', 'crm-events'),
  /** CRM deliveries refused: a forged or stale signature, a wrong channel token */
  crmEventsRefused: metric('CrmEventsRefused', 'Count', 'crm-events'),
  /** duplicate-customer candidates found by the daily search (ID-3) */
  duplicatesFound: metric('DuplicatesFound', 'Count', 'batch-export'),
  /** contacts the night batch wrote to the CRM through its batch API (SY-5) */
  batchContactsWritten: metric('BatchContactsWritten', 'Count', 'batch-export'),
  /** contacts whose night-batch update failed (batch success = written / (written + failed), SY-7 ≥ 95 %) */
  batchContactsFailed: metric('BatchContactsFailed', 'Count', 'batch-export'),
  /** conversations still waiting for an answer at the daily export (SY-6), each flagged in the CRM */
  unansweredConversations: metric('UnansweredConversations', 'Count', 'batch-export'),
  /** the week's median first-response time (SY-6) */
  medianFirstResponse: metric('MedianFirstResponse', 'Milliseconds', 'batch-export'),
  /** share of sampled CRM fields equal to ours, in % (SY-7: alarm below 99) */
  reconciliationAccuracy: metric('ReconciliationAccuracy', 'None', 'batch-export'),
  /** share of the week's synced records whose mapped fields failed or fell back to defaults, in % (SY-9: alarm above 2) */
  mappingErrorRate: metric('MappingErrorRate', 'None', 'batch-export'),
  /** days since a credential was last rotated (OP-5), per credential */
  credentialAgeDays: metric('CredentialAgeDays', 'None', 'batch-export'),
  /** media kept in S3 (MD-1) */
  mediaStored: metric('MediaStored', 'Count', 'media'),
  /** media kept but flagged: over WhatsApp's limit for its kind, or an image that could not fit 5 MB */
  mediaTooLarge: metric('MediaTooLarge', 'Count', 'media'),
  /** media that could not be kept (a corrupt image, a media id Meta no longer has): in the media DLQ */
  mediaFailed: metric('MediaFailed', 'Count', 'media'),
  /** media fetches retried (Meta or S3 failed for now, a hash that did not match) */
  mediaRetried: metric('MediaRetried', 'Count', 'media'),
  /** bytes of media stored */
  mediaBytes: metric('MediaBytes', 'None', 'media'),
  /** bytes in the table and the bucket, measured daily (ST-3) */
  storageBytes: metric('StorageBytes', 'None', 'batch-export'),
  /** % of the configured capacity added in the last 30 days (ST-3: alarm above 5) */
  storageMonthlyGrowth: metric('StorageMonthlyGrowth', 'None', 'batch-export'),
  /** outbound messages Meta accepted */
  messagesSent: metric('MessagesSent', 'Count', 'send'),
  /** outbound messages that failed for good (Meta's code kept on the row) */
  sendFailures: metric('SendFailures', 'Count', 'send'),
  /** calls to Meta's send API (the failure rate is SendFailures / SendAttempts) */
  sendAttempts: metric('SendAttempts', 'Count', 'send'),
  /** sends with no answer from Meta and no status within the settle time (look at them) */
  sendOutcomeUnknown: metric('SendOutcomeUnknown', 'Count', 'send'),
  /** Meta refused the access token (190): OP-5 */
  whatsappAuthFailures: metric('WhatsAppAuthFailures', 'Count', 'send'),
  /** Meta stopped a number (131042 payment, 368 policy, 131031 locked) or its spam limit (131048) hit */
  accountStopped: metric('AccountStopped', 'Count', 'send'),
  /** health checks of a number slower than 1.5 s (OP-2) */
  numberSlow: metric('NumberHealthSlow', 'Count', 'send'),
  /** an account switched to its backup number after three slow checks (OP-2) */
  numberSwitched: metric('NumberSwitched', 'Count', 'send'),
  /** outbound messages the policy refused, by rule */
  messagesDenied: metric('MessagesDenied', 'Count', 'api'),
  /** contacts the segment refresh went through */
  contactsRefreshed: metric('ContactsRefreshed', 'Count', 'batch-export'),
  /** conversations a customer started (the hand-over rate divides by it, AU-6) */
  conversationsStarted: metric('ConversationsStarted', 'Count', 'automation'),
  /** customers who asked for a person (AU-6: above 15 % of the conversations a flow is broken) */
  handoverRequests: metric('HandoverRequests', 'Count', 'automation'),
  /** messages an automation rule queued for sending, by rule */
  automatedMessages: metric('AutomatedMessages', 'Count', 'automation'),
  /** automation actions not taken (paused after a hand-over, already done, outside the rules) */
  automationSkipped: metric('AutomationSkipped', 'Count', 'automation'),
  /** ratings customers gave after a conversation was resolved (1-5) */
  satisfactionRating: metric('SatisfactionRating', 'None', 'automation'),
  /** addresses completed by the geocoder from a shared position or a typed address */
  addressesCompleted: metric('AddressesCompleted', 'Count', 'automation'),
  /** an agent's first answer after a customer's message: the time between them, by agent (AG-1) */
  agentResponseTime: metric('AgentResponseTime', 'Milliseconds', 'api'),
  /** RP-7: the day's customer messages tagged complaint / customer messages, a fraction 0..1 (published once a day by the daily report; above 0.05 three days in a row alarms) */
  complaintRate: metric('ComplaintRate', 'None', 'reports'),
  /** time the order-status reply took to find the last order in the CRM (AU-2) */
  orderLookupTime: metric('OrderLookupTime', 'Milliseconds', 'automation'),
} as const satisfies Record<string, MetricDefinition>;

export type MetricKey = keyof typeof METRICS;

/** Where the functions' code records a metric: Powertools Metrics on AWS, a counter locally. */
export interface MetricsSink {
  add(metric: MetricKey, value?: number, dimensions?: Readonly<Record<string, string>>): void;
}

/** Records nothing (tests that do not look at metrics). */
export const NO_METRICS: MetricsSink = { add: () => undefined };
