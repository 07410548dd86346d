/**
 * Logging one WhatsApp message as one WhatsApp_Message__c record, and its conversation as one
 * Case (SY-2). Both are upserts by an External ID + Unique field — the wamid, our conversation
 * id — so a repeat, a retry after a lost answer, or a concurrent duplicate end on the same
 * records: idempotent by construction, nothing to look up first. With a conversation, both go
 * in one Composite request (one API call): the Case upsert, then the message upsert pointing at
 * the case through the reference `@{case.id}`; allOrNone keeps them together.
 *
 * The Case's Status is never written: Salesforce fills the picklist's default (New) on create,
 * and an update leaves what the agent set — a case the agent closed is never reopened.
 */
import type { CrmConversation, CrmMessageInput, CrmMessageResult } from '../port.ts';
import { CrmError } from '../port.ts';
import type { FieldValues, SalesforceApi } from './api.ts';
import { recordError, subresponse } from './api.ts';
import { CASE, CASE_ORIGIN_WHATSAPP, cut, dateTime, externalKey, MESSAGE, MESSAGE_BODY_MAX, urlSafeKey } from './fields.ts';
import { createHash } from 'node:crypto';

/** Our analysis tag → Case Type, first match wins (complaints before the rest). */
export const CASE_TYPES: readonly (readonly [tag: string, type: string])[] = [
  ['complaint', 'Complaint'],
  ['order_status', 'Order Status'],
  ['price_inquiry', 'Price Inquiry'],
];
export const DEFAULT_CASE_TYPE = 'Question';

const PRIORITY = { low: 'Low', medium: 'Medium', high: 'High' } as const;

export function caseType(tags: readonly string[], types: readonly (readonly [string, string])[] = CASE_TYPES, fallback = DEFAULT_CASE_TYPE): string {
  return types.find(([tag]) => tags.includes(tag))?.[1] ?? fallback;
}

/**
 * The conversation id as the Case's key. It travels in the Composite subrequest's URL, so an id
 * with characters a URL path would change (or longer than the field) is stored as its hash.
 */
export function caseKey(conversationId: string): string {
  return urlSafeKey(conversationId) ? conversationId : `sha256:${createHash('sha256').update(conversationId).digest('hex')}`;
}

export interface CaseSettings {
  readonly types: readonly (readonly [string, string])[];
  readonly defaultType: string;
}

export async function logMessage(api: SalesforceApi, input: CrmMessageInput, settings: CaseSettings): Promise<CrmMessageResult> {
  const message = messageFields(input);
  if (!input.conversation) {
    const [result] = await api.upsertCollection(MESSAGE.object, MESSAGE.wamid, [message], 'message upsert');
    if (!result?.success || !result.id) throw recordError(result ?? { success: false }, 'message upsert');
    return { crmId: result.id, created: result.created ?? false, calls: api.calls };
  }
  const responses = await api.composite(
    [
      {
        method: 'PATCH',
        path: `/sobjects/${CASE.object}/${CASE.conversationId}/${encodeURIComponent(caseKey(input.conversation.id))}`,
        referenceId: 'conversationCase',
        body: caseFields(input.contactCrmId, input.conversation, settings),
      },
      {
        method: 'PATCH',
        path: `/composite/sobjects/${MESSAGE.object}/${MESSAGE.wamid}`,
        referenceId: 'message',
        body: { allOrNone: true, records: [{ attributes: { type: MESSAGE.object }, ...message, [MESSAGE.case]: '@{conversationCase.id}' }] },
      },
    ],
    'message and case upsert',
  );
  const answer = subresponse(responses, 'message', 'message and case upsert');
  const [result] = Array.isArray(answer.body) ? (answer.body as { id?: unknown; success?: unknown; created?: unknown; errors?: unknown[] }[]) : [];
  if (!result || result.success !== true || typeof result.id !== 'string') {
    throw recordError({ success: false, errors: result?.errors ?? [] }, 'message upsert');
  }
  return { crmId: result.id, created: result.created === true, calls: api.calls };
}

function messageFields(input: CrmMessageInput): FieldValues {
  if (!input.contactCrmId.trim()) throw new CrmError('permanent', "logMessage needs the contact's Salesforce id", { crm: 'salesforce' });
  return {
    [MESSAGE.wamid]: externalKey(input.wamid),
    [MESSAGE.contact]: input.contactCrmId,
    [MESSAGE.direction]: input.direction,
    [MESSAGE.body]: cut(input.body, MESSAGE_BODY_MAX),
    [MESSAGE.sentAt]: dateTime(input.timestamp),
  };
}

/** The Case as the conversation has it now: written on create and on every later message. No Status. */
export function caseFields(contactCrmId: string, conversation: CrmConversation, settings: CaseSettings): FieldValues {
  return {
    ContactId: contactCrmId,
    Origin: CASE_ORIGIN_WHATSAPP,
    Type: caseType(conversation.tags, settings.types, settings.defaultType),
    Subject: cut(conversation.subject.trim() || 'WhatsApp conversation', 255),
    Priority: PRIORITY[conversation.priority],
    ...(conversation.resolvedAt !== undefined && { [CASE.resolvedAt]: dateTime(conversation.resolvedAt) }),
  };
}
