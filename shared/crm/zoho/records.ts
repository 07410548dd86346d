/**
 * The records created once per idempotency key (create-once.ts): a logged message (custom module
 * WhatsApp_Messages, keyed by the wamid; a burst of them in one insert), a deal per purchase intent (keyed by our opportunity
 * id), a follow-up task (keyed by our task id) and the week's service report (custom module,
 * keyed by the report id). docs/zoho.md lists the fields to create.
 */
import type { CrmMessageInput, CrmMessageResult, CrmMessagesResult, CrmOpportunityInput, CrmOpportunityResult, CrmServiceReport, CrmTaskInput, CrmTaskResult } from '../port.ts';
import { recordError, type Values, type ZohoApi } from './api.ts';
import { insertOnce } from './create-once.ts';
import { DEAL, LEAD_SOURCE_WHATSAPP, MESSAGE, REPORT, TASK } from './fields.ts';
import { fit, zohoDate, zohoDateTime } from './format.ts';

/** Zoho's limits: record names 120 characters, single lines 255, large multi-lines 32,000. */
const NAME_MAX = 120;
const LINE_MAX = 255;
const BODY_MAX = 32_000;
const DAY_MS = 86_400_000;

export function logMessage(api: ZohoApi, input: CrmMessageInput): Promise<CrmMessageResult> {
  return insertOnce(api, { module: MESSAGE.module, key: input.wamid, keyField: MESSAGE.messageId, what: 'message', record: messageRecord(input) });
}

/**
 * A burst of messages in one insert (≤ 100): each record is claimed by its unique wamid like a
 * single one, so a message already logged (a replay, a duplicate in the burst) resolves to the
 * record Zoho names as holding it. Any other refusal fails the burst, which the sync then logs
 * one by one — safe, since what this insert did write is found again by the same unique key.
 */
export async function logMessages(api: ZohoApi, inputs: readonly CrmMessageInput[]): Promise<CrmMessagesResult> {
  // Messages an earlier attempt logged keep their id; only the others are sent.
  const fresh = inputs.filter((input) => !input.knownCrmId);
  const results = fresh.length === 0 ? [] : await api.insert(MESSAGE.module, fresh.map((input) => ({ ...messageRecord(input), [MESSAGE.messageId]: input.wamid })));
  const ids = results.map((result, i) => {
    if (result.ok) return result.id;
    if (result.code === 'DUPLICATE_DATA' && result.field === MESSAGE.messageId && result.duplicateId) return result.duplicateId;
    throw recordError(result, `logging message ${i + 1} of a burst`);
  });
  let next = 0;
  return { crmIds: inputs.map((input) => input.knownCrmId ?? ids[next++]!), calls: api.calls };
}

function messageRecord(input: CrmMessageInput): Values {
  const direction = input.direction === 'inbound' ? 'Inbound' : 'Outbound';
  return {
    [MESSAGE.name]: fit(`WhatsApp ${direction.toLowerCase()} ${zohoDateTime(input.timestamp).slice(0, 16).replace('T', ' ')} UTC`, NAME_MAX),
    [MESSAGE.contact]: { id: input.contactCrmId },
    [MESSAGE.direction]: direction,
    [MESSAGE.body]: fit(input.body, BODY_MAX),
    [MESSAGE.sentAt]: zohoDateTime(input.timestamp),
    ...(input.conversation && { [MESSAGE.conversationId]: input.conversation.id }),
  };
}

export interface DealSettings {
  /** Stage of new deals (a value of the account's Stage picklist). */
  readonly stage: string;
  /** Closing_Date = intent time + this many days. */
  readonly closeDays: number;
  /** Pipeline name, required by Zoho when the account has pipelines enabled. */
  readonly pipeline?: string | undefined;
}

export function createOpportunity(api: ZohoApi, input: CrmOpportunityInput, settings: DealSettings): Promise<CrmOpportunityResult> {
  const product = input.productName?.trim() || input.sku;
  const price = input.amount !== undefined ? `, ${input.amount}${input.currency ? ` ${input.currency}` : ''}` : '';
  return insertOnce(api, {
    module: DEAL.module,
    key: input.opportunityId,
    keyField: DEAL.opportunityId,
    what: 'deal',
    record: {
      [DEAL.name]: fit(`WhatsApp: ${product}`, NAME_MAX),
      [DEAL.stage]: settings.stage,
      [DEAL.closingDate]: zohoDate(input.createdAt + settings.closeDays * DAY_MS),
      [DEAL.contact]: { id: input.contactCrmId },
      [DEAL.leadSource]: LEAD_SOURCE_WHATSAPP,
      [DEAL.sku]: fit(input.sku, LINE_MAX),
      // Amount is in the org's currency; the customer's currency is kept in the description.
      ...(input.amount !== undefined && Number.isFinite(input.amount) && { [DEAL.amount]: input.amount }),
      ...(settings.pipeline && { [DEAL.pipeline]: settings.pipeline }),
      [DEAL.description]: `Purchase intent on WhatsApp: ${product} (SKU ${input.sku})${price}`,
    },
  });
}

export function createTask(api: ZohoApi, input: CrmTaskInput, status: string): Promise<CrmTaskResult> {
  return insertOnce(api, {
    module: TASK.module,
    key: input.taskId,
    keyField: TASK.taskId,
    what: 'task',
    record: {
      [TASK.subject]: fit(input.subject, LINE_MAX),
      [TASK.dueDate]: zohoDate(input.dueAt),
      [TASK.status]: status,
      [TASK.who]: { id: input.contactCrmId },
      ...(input.body && { [TASK.description]: fit(input.body, BODY_MAX) }),
      ...(input.ownerId && { [TASK.owner]: { id: input.ownerId } }),
    },
  });
}

export async function recordServiceReport(api: ZohoApi, report: CrmServiceReport): Promise<{ recorded: boolean; calls: number }> {
  const median = report.medianFirstResponseMs;
  const result = await insertOnce(api, {
    module: REPORT.module,
    key: report.reportId,
    keyField: REPORT.reportId,
    what: 'service report',
    record: {
      [REPORT.name]: fit(`WhatsApp service ${report.reportId.replace(/^service-week:/, '')}`, NAME_MAX),
      [REPORT.periodStart]: zohoDateTime(report.periodStart),
      [REPORT.periodEnd]: zohoDateTime(report.periodEnd),
      [REPORT.medianFirstResponse]: median === undefined ? null : Math.round(median / 1000),
      [REPORT.conversations]: report.conversations,
      [REPORT.unanswered]: report.unanswered,
    },
  });
  return { recorded: true, calls: result.calls };
}
