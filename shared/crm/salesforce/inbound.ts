/**
 * Salesforce Change Data Capture through Event Relay (SY-3), pure. Event Relay puts each change
 * event on an EventBridge partner bus: `detail-type` names the channel (`ContactChangeEvent`,
 * `/data/ContactChangeEvent` …), `detail.payload` is the event with its `ChangeEventHeader`
 * (entityName, recordIds, changeType, changedFields, commitTimestamp, commitUser) and the changed
 * fields' new values; `detail.replayId` / `detail.id` identify it.
 *
 * The event id is the EventBridge event's `id` when Event Relay redelivers the same event with it,
 * else the header's transactionKey + sequenceNumber, which Salesforce keeps for one change.
 *
 * Contact's name is a compound field: a change event carries `Name: { FirstName, LastName, … }`
 * and an update lists `Name.FirstName` in changedFields. An update names what changed: a field
 * not in changedFields is not reported even when the payload carries it (null); one listed
 * without a value was cleared.
 */
import * as z from 'zod/mini';
import '../../zod.ts';
import type { CrmChange, CrmEvent, CrmFieldChange } from '../two-way.ts';

export const TWO_WAY_FIELD = {
  /** The Task an agent writes to answer the customer on WhatsApp. */
  reply: 'WhatsApp_Reply__c',
  /** The reply's delivery status, written back by us. */
  replyStatus: 'WhatsApp_Status__c',
  /** Sales noted that the customer wants no marketing. */
  optOut: 'WhatsApp_Marketing_Opt_Out__c',
} as const;

const Header = z.looseObject({
  entityName: z.string(),
  recordIds: z.array(z.string()),
  changeType: z.string(),
  changedFields: z.optional(z.array(z.string())),
  commitTimestamp: z.number(),
  commitUser: z.optional(z.string()),
  transactionKey: z.optional(z.string()),
  sequenceNumber: z.optional(z.number()),
});
const EventSchema = z.looseObject({
  id: z.optional(z.string()),
  source: z.string(),
  'detail-type': z.optional(z.string()),
  detail: z.looseObject({
    payload: z.looseObject({ ChangeEventHeader: Header }),
    replayId: z.optional(z.union([z.string(), z.number()])),
    id: z.optional(z.string()),
  }),
});

const CLOSED_OPPORTUNITY = /^Closed (Won|Lost)$/;
/** Contact fields a change event nests in a compound field. */
const COMPOUND_OF: Readonly<Record<string, string>> = { FirstName: 'Name', LastName: 'Name', Salutation: 'Name' };

export function parseSalesforceEvent(event: unknown, options: { customerLevelField: string; integrationUserId?: string | undefined }): { events: CrmEvent[] } | { error: string } {
  const parsed = EventSchema.safeParse(event);
  if (!parsed.success) return { error: `not a Salesforce change event from Event Relay: ${parsed.error.issues.map((i) => `${i.path.map(String).join('.') || 'event'}: ${i.message}`).join('; ')}` };
  const { detail } = parsed.data;
  const payload = detail.payload as Record<string, unknown> & { ChangeEventHeader: z.infer<typeof Header> };
  const h = payload.ChangeEventHeader;
  const at = h.commitTimestamp;
  const eventId = String(detail.replayId ?? parsed.data.id ?? detail.id ?? `${h.transactionKey ?? 'tx'}:${h.sequenceNumber ?? 0}`);
  const ours = options.integrationUserId !== undefined && h.commitUser === options.integrationUserId ? true : undefined;
  const listed = h.changeType === 'UPDATE' && h.changedFields !== undefined && h.changedFields.length > 0 ? new Set(h.changedFields) : undefined;
  /** The field's value in the payload (top level, or in its compound field); undefined: not there. */
  const raw = (field: string): unknown => {
    if (field in payload && payload[field] !== undefined) return payload[field];
    const compound = COMPOUND_OF[field] ? payload[COMPOUND_OF[field]] : undefined;
    return compound && typeof compound === 'object' ? (compound as Record<string, unknown>)[field] : undefined;
  };
  const has = (field: string) => (listed ? listed.has(field) || (COMPOUND_OF[field] !== undefined && listed.has(`${COMPOUND_OF[field]}.${field}`)) : raw(field) !== undefined);
  const text = (field: string): string | null => {
    const v = raw(field);
    return v === null || v === undefined || v === '' ? null : String(v);
  };
  const events: CrmEvent[] = [];
  const push = (change: CrmChange | CrmEvent['change'], suffix = '') => events.push({ eventId: `${eventId}${suffix}`, occurredAt: at, change });
  if (h.changeType.startsWith('GAP_') || h.changeType === 'GAP_OVERFLOW') {
    // Salesforce could not say what changed: the records are read back.
    if (h.recordIds.length) push({ kind: 'ref', module: h.entityName, ids: h.recordIds, operation: h.changeType, at });
    return { events };
  }
  if (h.changeType !== 'CREATE' && h.changeType !== 'UPDATE') return { events };
  switch (h.entityName) {
    case 'Contact': {
      const changes: CrmFieldChange[] = [];
      if (has('FirstName')) changes.push({ field: 'firstName', value: text('FirstName'), at });
      if (options.customerLevelField && has(options.customerLevelField)) changes.push({ field: 'customerLevel', value: text(options.customerLevelField), at });
      const optedOut = has(TWO_WAY_FIELD.optOut) && raw(TWO_WAY_FIELD.optOut) === true;
      if (!changes.length && !optedOut) break;
      h.recordIds.forEach((crmId, i) => push({ kind: 'contact', crmId, changes, ...(optedOut && { optedOutAt: at }), ...(ours && { ours }) }, h.recordIds.length > 1 ? `:${i}` : ''));
      break;
    }
    case 'Task': {
      if (h.changeType !== 'CREATE' || payload[TWO_WAY_FIELD.reply] !== true || ours) break;
      const who = text('WhoId');
      const body = text('Description');
      if (!who || !body) break;
      const user = text('CreatedById') ?? h.commitUser;
      h.recordIds.forEach((replyId) => push({ kind: 'reply', replyId, contactCrmId: who, text: body, ...(user && { crmUserId: user }), at }));
      break;
    }
    case 'Case':
    case 'Opportunity': {
      const closed = h.entityName === 'Case' ? payload['IsClosed'] === true || text('Status') === 'Closed' : CLOSED_OPPORTUNITY.test(text('StageName') ?? '');
      if (!closed) break;
      const contact = text('ContactId');
      const status = text(h.entityName === 'Case' ? 'Status' : 'StageName') ?? 'Closed';
      for (const recordId of h.recordIds) {
        if (contact) push({ kind: 'closed', recordType: h.entityName === 'Case' ? 'case' : 'deal', recordId, contactCrmId: contact, status, at }, `:${recordId}`);
        // The event carries only what changed: whose record it is, the adapter reads.
        else push({ kind: 'ref', module: h.entityName, ids: [recordId], operation: 'closed', at }, `:${recordId}`);
      }
      break;
    }
  }
  return { events };
}
