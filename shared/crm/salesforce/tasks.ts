/**
 * A follow-up Task for the sales team on the customer's Contact (WhoId), once per task id (AU-5).
 * The id lives in the activity custom field WhatsApp_Task_Id__c (External ID). Salesforce does
 * not offer Unique on every org's activity fields, so the task is looked for by its id before it
 * is created; where the field is Unique, a concurrent duplicate is refused and read back.
 */
import type { CrmTaskInput, CrmTaskResult } from '../port.ts';
import type { SalesforceApi } from './api.ts';
import { createOnce } from './create-once.ts';
import { cut, dateOnly, dateTime, externalKey, TASK } from './fields.ts';

export function createTask(api: SalesforceApi, input: CrmTaskInput): Promise<CrmTaskResult> {
  const key = externalKey(input.taskId);
  return createOnce(api, {
    object: TASK.object,
    keyField: TASK.taskId,
    key,
    what: 'task',
    lookFirst: true,
    fields: {
      WhoId: input.contactCrmId,
      Subject: cut(input.subject, 255),
      ...(input.body && { Description: cut(input.body, 32_000) }),
      Status: 'Not Started',
      Priority: 'Normal',
      ActivityDate: dateOnly(input.dueAt),
      // ActivityDate has no time: the reminder carries it.
      IsReminderSet: true,
      ReminderDateTime: dateTime(input.dueAt),
      ...(input.ownerId && { OwnerId: input.ownerId }),
      [TASK.taskId]: key,
    },
  });
}
