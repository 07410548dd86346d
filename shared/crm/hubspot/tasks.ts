/**
 * Creating one HubSpot task per follow-up (AU-5), associated to the contact in the same create
 * request, exactly once: keyed by the unique task property `whatsapp_task_id` (our deterministic
 * task id), through create-once.ts — a refused duplicate (a repeated job, a job whose done mark
 * was lost after HubSpot made the task) is read back, never made twice. An account where the
 * property is not unique falls back to reading the contact's tasks first (`timeline-scan`).
 */
import { CrmError, type CrmTaskInput, type CrmTaskResult } from '#shared/crm/port';
import type { HubSpotApi, PropertyValues } from './api.ts';
import { createOnce, type DedupStrategy } from './create-once.ts';
import { TASK, TASK_TO_CONTACT_TYPE_ID } from './properties.ts';

export function createTask(api: HubSpotApi, input: CrmTaskInput, strategy: DedupStrategy): Promise<CrmTaskResult> {
  return createOnce(
    api,
    {
      objectType: 'tasks',
      key: input.taskId,
      keyProperty: TASK.taskId,
      properties: taskProperties(input),
      contactCrmId: input.contactCrmId,
      associationTypeId: TASK_TO_CONTACT_TYPE_ID,
      what: 'task',
    },
    strategy,
  );
}

/**
 * The task as HubSpot takes it: `hs_timestamp` is the due date (required), a to-do that is not
 * started; the owner only when given (HubSpot leaves it unassigned otherwise).
 */
export function taskProperties(input: CrmTaskInput): PropertyValues {
  if (!Number.isFinite(input.dueAt)) {
    throw new CrmError('permanent', `Task ${input.taskId} has an invalid due time ${input.dueAt}`, { crm: 'hubspot' });
  }
  const subject = input.subject.trim();
  if (!subject) throw new CrmError('permanent', `Task ${input.taskId} has no subject`, { crm: 'hubspot' });
  const values: Record<string, string> = {
    hs_timestamp: new Date(input.dueAt).toISOString(),
    hs_task_subject: subject,
    hs_task_status: 'NOT_STARTED',
    hs_task_type: 'TODO',
    [TASK.taskId]: input.taskId,
  };
  const body = input.body?.trim();
  if (body) values.hs_task_body = body;
  if (input.ownerId) values.hubspot_owner_id = input.ownerId;
  return values;
}
