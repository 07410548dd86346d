/**
 * Zoho records read back for two-way sync, as CRM-neutral changes (pure): a contact edited by
 * sales (First_Name, the mapped customer level, the WhatsApp marketing opt-out checkbox), a
 * reply an agent wrote as a Task (checkbox WhatsApp_Reply), a deal closed (Stage Closed Won /
 * Closed Lost). Zoho keeps no time per field, so every two-way field of a contact is dated by the
 * record's Modified_Time — narrowed to the fields a notification names when it names them.
 *
 * A contact edit made by someone else is dated at the end of its Modified_Time second (see
 * contactEvent); its event id keeps the Modified_Time itself.
 *
 * Event ids are the same whether the record came from a notification (resolve) or from the
 * catch-up (changesSince), so the sync side sees one change once: `catchup:<id>:<ms>`, the ms of
 * the record's Modified_Time — for a reply its Created_Time, since our own status write-back moves
 * the Modified_Time and the reply must not be sent twice.
 */
import type { CrmContactChange, CrmEvent, CrmFieldChange, CrmRecordClosed, CrmReply, TwoWayField } from '../two-way.ts';
import { CONTACT, DEAL, DEAL_CLOSED_STAGES, SYSTEM, TASK } from './fields.ts';
import { lookupId, parseZohoTime, text } from './format.ts';
import type { ZohoRecord } from './schemas.ts';

export interface ChangeSettings {
  /** The Contacts field the customer level is mapped to (config/crm/zoho.json). */
  readonly customerLevelField: string | undefined;
  /** The Zoho user this integration writes as: its writes come back as `ours`. Unknown: undefined. */
  readonly integrationUserId: string | undefined;
}

/** What two-way sync reads of each module. */
export function contactFields(settings: ChangeSettings): string[] {
  return [CONTACT.firstName, ...(settings.customerLevelField ? [settings.customerLevelField] : []), CONTACT.marketingOptOut, CONTACT.bsuid, CONTACT.phone, SYSTEM.modifiedTime, SYSTEM.modifiedBy];
}
export const REPLY_FIELDS = [TASK.reply, TASK.who, TASK.description, TASK.replyStatus, SYSTEM.createdTime, SYSTEM.createdBy, SYSTEM.modifiedTime];
export const DEAL_FIELDS = [DEAL.stage, DEAL.contact, DEAL.sku, DEAL.amount, DEAL.closingDate, SYSTEM.modifiedTime];

export function catchUpEventId(recordId: string, at: number): string {
  return `catchup:${recordId}:${at}`;
}

/**
 * The contact's two-way fields as changed at its Modified_Time; `only`: the fields a notification
 * says changed (the others are left out). None when the record has no Modified_Time.
 */
export function contactEvent(record: ZohoRecord, settings: ChangeSettings, only?: readonly string[]): CrmEvent | undefined {
  const modifiedAt = parseZohoTime(record[SYSTEM.modifiedTime]);
  if (modifiedAt === undefined) return undefined;
  const modifiedBy = lookupId(record[SYSTEM.modifiedBy]);
  const ours = settings.integrationUserId !== undefined && modifiedBy !== undefined ? modifiedBy === settings.integrationUserId : undefined;
  // Zoho's times have whole seconds. Someone else's edit is the record's last write, made after
  // every write of ours Zoho applied before it — within that second too: it is dated at the
  // second's end, never before a write of ours it followed.
  const at = ours === true ? modifiedAt : modifiedAt + 999;
  const named = (field: string) => only === undefined || only.includes(field);
  const changes: CrmFieldChange[] = [];
  const add = (field: TwoWayField, crmField: string | undefined) => {
    if (crmField && named(crmField) && crmField in record) changes.push({ field, value: text(record[crmField]) ?? null, at });
  };
  add('firstName', CONTACT.firstName);
  add('customerLevel', settings.customerLevelField);
  const optedOut = record[CONTACT.marketingOptOut] === true && named(CONTACT.marketingOptOut);
  const change: CrmContactChange = {
    kind: 'contact',
    crmId: record.id,
    changes,
    ...(optedOut && { optedOutAt: at }),
    ...(text(record[CONTACT.bsuid]) && { bsuid: text(record[CONTACT.bsuid]) }),
    ...(text(record[CONTACT.phone]) && { phone: text(record[CONTACT.phone]) }),
    ...(ours !== undefined && { ours }),
  };
  if (changes.length === 0 && change.optedOutAt === undefined) return undefined;
  return { eventId: catchUpEventId(record.id, modifiedAt), occurredAt: at, change };
}

/** A Task with WhatsApp_Reply checked, on a contact, with text: a reply to send. */
export function replyEvent(record: ZohoRecord): CrmEvent | undefined {
  if (record[TASK.reply] !== true) return undefined;
  const contactCrmId = lookupId(record[TASK.who]);
  const replyText = text(record[TASK.description])?.trim();
  const at = parseZohoTime(record[SYSTEM.createdTime]) ?? parseZohoTime(record[SYSTEM.modifiedTime]);
  if (!contactCrmId || !replyText || at === undefined) return undefined;
  const change: CrmReply = { kind: 'reply', replyId: record.id, contactCrmId, text: replyText, crmUserId: lookupId(record[SYSTEM.createdBy]), at };
  return { eventId: catchUpEventId(record.id, at), occurredAt: at, change };
}

/** A deal at a closing stage, on a contact. */
export function closedDealEvent(record: ZohoRecord): CrmEvent | undefined {
  const stage = text(record[DEAL.stage]);
  const contactCrmId = lookupId(record[DEAL.contact]);
  const at = parseZohoTime(record[SYSTEM.modifiedTime]);
  if (!stage || !DEAL_CLOSED_STAGES.includes(stage) || !contactCrmId || at === undefined) return undefined;
  const change: CrmRecordClosed = { kind: 'closed', recordType: 'deal', recordId: record.id, contactCrmId, status: stage, at };
  return { eventId: catchUpEventId(record.id, at), occurredAt: at, change };
}
