/**
 * The "done" marks of CRM follow-up tasks (AU-5), kept on the contact's own item: a map
 * `crmTasks` from a short hash of the task id to `{ taskId, crmKind, crmId, at }`. A task job
 * looks here first (a repeated job costs one read, no CRM call) and writes its mark once the CRM
 * has the task — in the same conditional UpdateItem that stores the contact's CRM id when the job
 * had to create the contact, so there is no state in between (dynalite has no transactions).
 *
 * A mark lost between the CRM's commit and this write (a crash, a timeout) is harmless: the CRM
 * side is idempotent by the task id (create-once.ts), so the repeated job finds the task and
 * writes the mark then. Marks are a cache of what the CRM knows, so the oldest are dropped beyond
 * {@link MAX_TASK_MARKS}: a job as old as that (weeks of weekly follow-ups) finds its task in the
 * CRM instead.
 */
import { createHash } from 'node:crypto';
import type { TableClient } from '../store/client.ts';
import { keys } from '../store/keys.ts';
import { CRM_LINK_PREFIX } from '../store/contacts.ts';

/** Contact attribute holding the task marks (a map). */
export const TASK_MARKS_ATTRIBUTE = 'crmTasks';

/** Marks kept per contact at most (the oldest go first). */
export const MAX_TASK_MARKS = 50;

export interface TaskMark {
  readonly taskId: string;
  /** The CRM the task was created in: a mark of another CRM means nothing to this one. */
  readonly crmKind: string;
  readonly crmId: string;
  /** When the mark was written (ms). */
  readonly at: number;
}

export type TaskMarks = Readonly<Record<string, TaskMark>>;

/** The map key of a task's mark: 24 hex digits of its id's hash (any id, short keys). */
export function taskMarkKey(taskId: string): string {
  return `t${createHash('sha256').update(taskId).digest('hex').slice(0, 24)}`;
}

export class TaskMarkStore {
  constructor(private readonly table: TableClient) {}

  /** Every mark on the contact (none for a contact without any, or without an item). */
  async all(contactId: string): Promise<TaskMarks> {
    const item = await this.table.get<{ crmTasks?: Record<string, TaskMark> }>(keys.contact(contactId), [TASK_MARKS_ATTRIBUTE]);
    return item?.crmTasks ?? {};
  }

  /** The mark of one task in one CRM, from marks already read or from the table. */
  async find(contactId: string, taskId: string, crmKind: string, marks?: TaskMarks): Promise<TaskMark | undefined> {
    const mark = (marks ?? (await this.all(contactId)))[taskMarkKey(taskId)];
    return mark && mark.taskId === taskId && mark.crmKind === crmKind ? mark : undefined;
  }

  /**
   * Writes the mark, and with `crm` the contact's CRM id too, in one UpdateItem on the contact
   * (conditional on the contact existing). `existing` are the marks read before: the oldest beyond
   * {@link MAX_TASK_MARKS} are removed in the same write.
   */
  async record(
    contactId: string,
    mark: TaskMark,
    options: { readonly crm?: { readonly kind: string; readonly id: string } | undefined; readonly existing?: TaskMarks } = {},
  ): Promise<void> {
    const key = taskMarkKey(mark.taskId);
    const names: Record<string, string> = { '#marks': TASK_MARKS_ATTRIBUTE, '#k': key };
    const values: Record<string, unknown> = { ':mark': { ...mark } };
    const extra: string[] = [];
    if (options.crm) {
      extra.push('#crm = :crm');
      names['#crm'] = `${CRM_LINK_PREFIX}${options.crm.kind}`;
      values[':crm'] = { id: options.crm.id, syncedAt: mark.at };
    }
    const stale = Object.entries(options.existing ?? {})
      .filter(([k]) => k !== key)
      .sort(([, a], [, b]) => b.at - a.at)
      .slice(MAX_TASK_MARKS - 1)
      .map(([k]) => k);
    stale.forEach((k, i) => (names[`#o${i}`] = k));
    const remove = stale.length ? ` REMOVE ${stale.map((_, i) => `#marks.#o${i}`).join(', ')}` : '';

    // Into the map when the contact has one; else the map made with this mark. Twice at most:
    // a concurrent first mark can make the map between the two.
    for (let round = 0; round < 2; round++) {
      const into = await this.table.update(keys.contact(contactId), {
        update: `SET ${['#marks.#k = :mark', ...extra].join(', ')}${remove}`,
        condition: 'attribute_exists(pk) AND attribute_exists(#marks)',
        names,
        values,
      });
      if (into.applied) return;
      const made = await this.table.update(keys.contact(contactId), {
        update: `SET ${['#marks = :map', ...extra].join(', ')}`,
        condition: 'attribute_exists(pk) AND attribute_not_exists(#marks)',
        names: { '#marks': TASK_MARKS_ATTRIBUTE, ...(options.crm && { '#crm': names['#crm']! }) },
        values: { ...Object.fromEntries(Object.entries(values).filter(([name]) => name !== ':mark')), ':map': { [key]: { ...mark } } },
      });
      if (made.applied) return;
    }
    throw new Error(`contact ${contactId} is not stored: the mark of task ${mark.taskId} has nowhere to go`);
  }
}
