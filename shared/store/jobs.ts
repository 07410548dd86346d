/**
 * The state of a long job that runs over several invocations (the nightly segment refresh): one
 * item per job, `JOB#<job>` / `CURRENT`, holding the run, a lease (one invocation works on it at a
 * time), and per scan segment the cursor to resume from and its counts. Every write that moves the
 * run forward is conditional on holding the lease.
 */
import type { TableClient } from './client.ts';
import { keys } from './keys.ts';

export interface SegmentProgress {
  /** Where the segment's scan resumes (the last page's LastEvaluatedKey); absent at its start. */
  readonly cursor?: Record<string, unknown> | undefined;
  readonly done: boolean;
  readonly contacts: number;
  readonly changed: number;
}

export interface JobRun {
  readonly runId: number;
  /** The time the run's insights are computed at (its start), ms. */
  readonly at: number;
  readonly segments: number;
  readonly progress: readonly SegmentProgress[];
  /** Contacts that failed and are retried before the run is over (at most {@link MAX_FAILED_KEPT}). */
  readonly failed: readonly string[];
  readonly finishedAt?: number | undefined;
  readonly leaseHolder?: string | undefined;
  readonly leaseUntil?: number | undefined;
}

export const MAX_FAILED_KEPT = 200;

type StoredRun = Omit<JobRun, 'progress' | 'failed'> & { failed?: string[] } & Record<`seg_${number}`, SegmentProgress | undefined>;

export class JobRunStore {
  constructor(private readonly table: TableClient) {}

  async current(job: string): Promise<JobRun | undefined> {
    const item = await this.table.get<StoredRun>(keys.jobRun(job));
    if (!item) return undefined;
    const progress = Array.from({ length: item.segments }, (_, i) => item[`seg_${i}`] ?? { done: false, contacts: 0, changed: 0 });
    return { ...item, progress, failed: item.failed ?? [] };
  }

  /** Starts a new run in place of `replacing` (or of none); false when another invocation started one first. */
  async start(job: string, run: { runId: number; at: number; segments: number }, replacing: number | undefined): Promise<boolean> {
    const segments = Object.fromEntries(Array.from({ length: run.segments }, (_, i) => [`seg_${i}`, { done: false, contacts: 0, changed: 0 }]));
    return this.table.put(
      { ...keys.jobRun(job), ...run, ...segments },
      replacing === undefined ? 'attribute_not_exists(pk)' : 'runId = :previous',
      replacing === undefined ? undefined : { ':previous': replacing },
    );
  }

  /** Takes the run's lease until `until` (epoch ms; renewed with each page); false while another invocation holds it. */
  async lease(job: string, runId: number, holder: string, until: number, now: number): Promise<boolean> {
    const { applied } = await this.table.update(keys.jobRun(job), {
      update: 'SET leaseHolder = :me, leaseUntil = :until',
      condition: 'runId = :run AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now OR leaseHolder = :me)',
      values: { ':me': holder, ':until': until, ':run': runId, ':now': now },
    });
    return applied;
  }

  async release(job: string, runId: number, holder: string): Promise<void> {
    await this.table.update(keys.jobRun(job), {
      update: 'REMOVE leaseHolder, leaseUntil',
      condition: 'runId = :run AND leaseHolder = :me',
      values: { ':me': holder, ':run': runId },
    });
  }

  /** Records a segment's progress (after a page is done), with the contacts that failed on it. */
  async saveSegment(job: string, runId: number, holder: string, segment: number, progress: SegmentProgress, failed: readonly string[], leaseUntil: number): Promise<boolean> {
    const { applied } = await this.table.update(keys.jobRun(job), {
      update: `SET #seg = :progress, leaseUntil = :until${failed.length ? ' ADD failed :failed' : ''}`,
      condition: 'runId = :run AND leaseHolder = :me',
      names: { '#seg': `seg_${segment}` },
      values: { ':progress': stripUndefined(progress), ':run': runId, ':me': holder, ':until': leaseUntil, ...(failed.length && { ':failed': new Set(failed.slice(0, MAX_FAILED_KEPT)) }) },
    });
    return applied;
  }

  /** The contacts that failed again and again, and whether the run is over (none left). */
  async settleFailures(job: string, runId: number, holder: string, stillFailing: readonly string[], retried: readonly string[], now: number): Promise<void> {
    const sets: string[] = [];
    const values: Record<string, unknown> = { ':run': runId, ':me': holder };
    if (stillFailing.length === 0) {
      sets.push('finishedAt = :now');
      values[':now'] = now;
    }
    const removed = retried.filter((id) => !stillFailing.includes(id));
    const update = [sets.length ? `SET ${sets.join(', ')}` : '', removed.length ? 'DELETE failed :removed' : ''].filter(Boolean).join(' ');
    if (removed.length) values[':removed'] = new Set(removed);
    if (!update) return;
    await this.table.update(keys.jobRun(job), { update, condition: 'runId = :run AND leaseHolder = :me', values });
  }
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
