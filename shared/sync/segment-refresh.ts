/**
 * The nightly segment refresh (TG-3: a customer who goes quiet sends no message that would make
 * them churned), built to finish on any number of contacts:
 *
 * - **Resumable.** The run keeps, per segment of a parallel scan, the cursor after its last
 *   finished page (store/jobs.ts). An invocation that runs out of time stops after its page; a
 *   killed one loses at most its pages in flight, which are redone (the refresh is idempotent).
 *   The schedule invokes the task every 15 minutes of the night window; each invocation carries
 *   on the current run, and once it is over the rest of the night has nothing to do.
 * - **Parallel, bounded.** The scan's segments are read side by side; the contacts of a page are
 *   refreshed a bounded number at a time. A contact with no message in the insight window needs no
 *   history read at all (its history would be empty).
 * - **CRM first.** A changed contact is written to the CRM before the change is recorded here, so
 *   a failed CRM update is found changed again. Contacts that fail are retried before the run ends.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { crmContactInput } from '../crm/contact-input.ts';
import type { CrmAdapter } from '../crm/port.ts';
import { insightsChanged } from '../domain/insights.ts';
import type { Contact } from '../domain/records.ts';
import { mapLimit } from '../ingest/pipeline.ts';
import { toContact } from '../store/contacts.ts';
import type { JobRun } from '../store/jobs.ts';
import type { Store } from '../store/store.ts';
import type { ContactInsightsKeeper } from './insights.ts';

export const REFRESH_JOB = 'segment-refresh';

export interface RefreshSettings {
  /** Segments of the parallel scan (DynamoDB TotalSegments). */
  readonly segments: number;
  /** Items a scan page reads at most. */
  readonly pageSize: number;
  /** Contacts of a page refreshed at the same time. */
  readonly concurrency: number;
  /** A finished run this recent is not started again (the rest of the night). */
  readonly minIntervalMs: number;
  /** Time kept back at the end of an invocation (save the cursors, answer). */
  readonly reserveMs: number;
  /**
   * How long the run's lease lasts past each finished page: an invocation that died (killed,
   * timed out) holds up the run at most this long.
   */
  readonly leaseMs: number;
}

export const REFRESH_DEFAULTS: RefreshSettings = {
  segments: 8,
  pageSize: 500,
  concurrency: 8,
  minIntervalMs: 20 * 3_600_000,
  reserveMs: 60_000,
  leaseMs: 60_000,
};

export interface RefreshDeps {
  readonly store: Store;
  readonly insights: ContactInsightsKeeper;
  readonly crm: () => CrmAdapter;
  readonly logger: Pick<Logger, 'info' | 'warn'>;
  readonly now: () => number;
}

export interface RefreshOutcome {
  /** The run is over (every contact refreshed, or nothing to do tonight). */
  readonly done: boolean;
  /** Contacts this invocation went through, and how many of them changed. */
  readonly contacts: number;
  readonly changed: number;
  /** Contacts that failed and are retried before the run ends. */
  readonly failed: number;
  readonly skipped?: string;
}

export async function runSegmentRefresh(
  deps: RefreshDeps,
  settings: RefreshSettings,
  options: { remainingMs: () => number; fresh?: boolean },
): Promise<RefreshOutcome> {
  const { store, logger } = deps;
  const me = randomUUID();
  const nothing = (skipped: string, done: boolean): RefreshOutcome => ({ done, contacts: 0, changed: 0, failed: 0, skipped });

  // The current run, or a new one.
  let run = await store.jobs.current(REFRESH_JOB);
  const now = deps.now();
  if (!run || (run.finishedAt !== undefined && (options.fresh || now - run.finishedAt >= settings.minIntervalMs))) {
    const fresh = { runId: now, at: now, segments: settings.segments };
    if (!(await store.jobs.start(REFRESH_JOB, fresh, run?.runId))) return nothing('another invocation started the run', false);
    run = (await store.jobs.current(REFRESH_JOB))!;
  } else if (run.finishedAt !== undefined) {
    return nothing(`already refreshed at ${new Date(run.finishedAt).toISOString()}`, true);
  }
  const deadline = () => deps.now() + options.remainingMs() - settings.reserveMs;
  if (!(await store.jobs.lease(REFRESH_JOB, run.runId, me, deps.now() + settings.leaseMs, deps.now()))) {
    return nothing('another invocation is refreshing', false);
  }

  const totals = { contacts: 0, changed: 0, failed: 0 };
  const current: JobRun = run;
  try {
    await Promise.all(
      current.progress.map(async (progress, segment) => {
        if (progress.done) return;
        let { cursor, contacts, changed } = progress;
        for await (const page of store.table.scanPages(
          {
            FilterExpression: 'sk = :profile',
            ExpressionAttributeValues: { ':profile': 'PROFILE' },
            Segment: segment,
            TotalSegments: current.segments,
            Limit: settings.pageSize,
          },
          cursor,
        )) {
          const failed: string[] = [];
          const results = await mapLimit(page.items.map(toContact), settings.concurrency, async (contact) => {
            if (contact.mergedInto) return 'skipped' as const; // its history counts in the contact it became
            try {
              return (await refreshContact(deps, contact, current.at)) ? ('changed' as const) : ('same' as const);
            } catch (error) {
              failed.push(contact.contactId);
              logger.warn('segment refresh failed for a contact; it is tried again before the run ends', { contactId: contact.contactId, reason: String(error) });
              return 'failed' as const;
            }
          });
          const went = results.filter((r) => r !== 'skipped').length;
          const now = results.filter((r) => r === 'changed').length;
          contacts += went;
          changed += now;
          totals.contacts += went;
          totals.changed += now;
          totals.failed += failed.length;
          cursor = page.next;
          if (!(await store.jobs.saveSegment(REFRESH_JOB, current.runId, me, segment, { cursor, done: !page.next, contacts, changed }, failed, deps.now() + settings.leaseMs))) {
            throw new Error('the refresh lost its lease to another invocation');
          }
          if (page.next && deadline() < deps.now()) return; // out of time: the next invocation carries on
        }
      }),
    );

    const after = (await store.jobs.current(REFRESH_JOB))!;
    if (!after.progress.every((p) => p.done)) {
      logger.info('segment refresh paused; the next invocation carries on', { ...totals });
      return { done: false, ...totals };
    }
    // Every segment is through: the contacts that failed get one more try each invocation.
    const retried = [...after.failed];
    const stillFailing: string[] = [];
    for (const contactId of retried) {
      const contact = await store.contacts.get(contactId);
      try {
        if (contact && !contact.mergedInto && (await refreshContact(deps, contact, after.at))) totals.changed++;
      } catch {
        stillFailing.push(contactId);
      }
    }
    await store.jobs.settleFailures(REFRESH_JOB, current.runId, me, stillFailing, retried, deps.now());
    logger.info('segments refreshed', { ...totals, stillFailing: stillFailing.length });
    if (stillFailing.length) {
      // Visible (the scheduled-failures queue and its alarm); the next invocation tries them again.
      throw new Error(`segment refresh failed for ${stillFailing.length} contact(s), kept for the next invocation`);
    }
    return { done: true, ...totals, failed: 0 };
  } finally {
    await store.jobs.release(REFRESH_JOB, current.runId, me).catch(() => undefined);
  }
}

/** One contact: insights now, and if they changed, the CRM first, then our record. True when changed. */
async function refreshContact(deps: RefreshDeps, contact: Contact, at: number): Promise<boolean> {
  const insights = await deps.insights.compute(contact, at);
  if (!insightsChanged(contact, insights)) return false;
  if (contact.crm) {
    const crm = deps.crm();
    const result = await crm.upsertContact(crmContactInput(contact, insights, crm.kind));
    if (contact.crm.kind !== crm.kind || contact.crm.id !== result.crmId) await deps.store.contacts.setCrm(contact.contactId, { kind: crm.kind, id: result.crmId }, deps.now());
  }
  await deps.insights.record(contact, insights, at, deps.now());
  return true;
}
