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
import { crmContactFields } from '../crm/mapping.ts';
import { Pacer } from '../crm/pacing.ts';
import { CrmError, type CrmAdapter, type CrmUpdateOutcome } from '../crm/port.ts';
import { insightsChanged, type ContactInsights } from '../domain/insights.ts';
import { contactSyncJob, type SyncJobSink } from '../queue/sync-jobs.ts';
import { contactCrmId, type Contact } from '../domain/records.ts';
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
  /** Where contacts the CRM no longer has go (the real-time sync makes them again). */
  readonly jobs?: SyncJobSink | undefined;
  /** Paces the batch requests; default the CRM's own limits. */
  readonly pacer?: Pacer | undefined;
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
  /** Contacts written to the CRM through its batch API, the batch requests, and 429s met (0 when paced). */
  readonly written?: number;
  readonly batches?: number;
  readonly rateLimited?: number;
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
  const writer = new BulkWriter(deps);
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
          const toCrm: Changed[] = [];
          const results = await mapLimit(page.items.map(toContact), settings.concurrency, async (contact) => {
            if (contact.mergedInto) return 'skipped' as const; // its history counts in the contact it became
            try {
              const changed = await refreshContact(deps, contact, current.at);
              if (changed && typeof changed === 'object') {
                toCrm.push(changed);
                return 'pending' as const;
              }
              return changed ? ('changed' as const) : ('same' as const);
            } catch (error) {
              failed.push(contact.contactId);
              logger.warn('segment refresh failed for a contact; it is tried again before the run ends', { contactId: contact.contactId, reason: String(error) });
              return 'failed' as const;
            }
          });
          // The page's changed contacts to the CRM in batches before its cursor is saved: a killed
          // invocation redoes the page and finds them changed again (nothing recorded yet).
          const written = await writer.write(toCrm, current.at);
          failed.push(...written.failed);
          results.push(...Array.from({ length: written.changed }, () => 'changed' as const));
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
      logger.info('segment refresh paused; the next invocation carries on', { ...totals, ...writer.stats });
      return { done: false, ...totals, ...writer.stats };
    }
    // Every segment is through: the contacts that failed get one more try each invocation.
    const retried = [...after.failed];
    const stillFailing: string[] = [];
    for (const contactId of retried) {
      const contact = await store.contacts.get(contactId);
      try {
        if (!contact || contact.mergedInto) continue;
        const changed = await refreshContact(deps, contact, after.at);
        if (changed && typeof changed === 'object') {
          const written = await writer.write([changed], after.at);
          if (written.failed.length) throw new Error('the CRM update failed again');
        }
        if (changed) totals.changed++;
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
    return { done: true, ...totals, ...writer.stats, failed: 0 };
  } finally {
    await store.jobs.release(REFRESH_JOB, current.runId, me).catch(() => undefined);
  }
}

/** A changed contact whose CRM record gets the new fields before they are recorded here. */
interface Changed {
  readonly contact: Contact;
  readonly crmId: string;
  readonly insights: ContactInsights;
}

/**
 * One contact: its insights now. Unchanged → false. Changed and in the CRM → returned, for the
 * batch (the CRM first, then our record). Changed and not in the CRM yet → recorded here (true):
 * its first message's sync creates it with the current fields.
 */
async function refreshContact(deps: RefreshDeps, contact: Contact, at: number): Promise<boolean | Changed> {
  const insights = await deps.insights.compute(contact, at);
  if (!insightsChanged(contact, insights)) return false;
  const crmId = contactCrmId(contact, deps.crm().kind);
  if (crmId) return { contact, crmId, insights };
  await deps.insights.record(contact, insights, at, deps.now());
  return true;
}

/**
 * Writes changed contacts to the CRM through its batch API (`limits.batchSize` per request),
 * paced to its request limit so it never answers 429 (SY-5). A contact the CRM no longer has
 * (deleted or merged there) is handed to the real-time path (a contact job finds or makes it
 * again); one whose update failed is reported failed and retried before the run ends.
 */
/** How long a partial batch waits for more contacts before it goes. */
const LINGER_MS = 200;

class BulkWriter {
  private pacer: Pacer | undefined;
  readonly stats = { written: 0, batches: 0, rateLimited: 0 };

  constructor(private readonly deps: RefreshDeps) {}

  /** Contacts waiting for a batch, from every segment: a page's remainder fills up with the next ones. */
  private pending: { item: Changed; done: (outcome: CrmUpdateOutcome | undefined) => void }[] = [];
  private linger: ReturnType<typeof setTimeout> | undefined;

  async write(changed: readonly Changed[], at: number): Promise<{ changed: number; failed: string[] }> {
    if (!changed.length) return { changed: 0, failed: [] };
    const crm = this.deps.crm();
    this.pacer ??= this.deps.pacer ?? new Pacer(crm.limits, crm);
    const outcomes = await Promise.all(changed.map((item) => new Promise<CrmUpdateOutcome | undefined>((done) => this.enqueue(crm, { item, done }))));
    const failed: string[] = [];
    let written = 0;
    const missing: Changed[] = [];
    for (const [i, item] of changed.entries()) {
      const outcome = outcomes[i];
      if (!outcome || (!outcome.ok && !outcome.missing)) {
        failed.push(item.contact.contactId);
        continue;
      }
      if (!outcome.ok) missing.push(item);
      await this.deps.insights.record(item.contact, item.insights, at, this.deps.now());
      written++;
      if (outcome.ok) this.stats.written++;
    }
    if (missing.length) {
      // Gone from the CRM: the contact job looks the customer up by identity and makes the record again.
      await this.deps.jobs?.enqueue(missing.map((m) => contactSyncJob(m.contact.contactId, `night-${at}`)), { redrive: `night-${at}` });
      this.deps.logger.warn('contacts missing in the CRM handed to the real-time sync', { count: missing.length });
    }
    return { changed: written, failed };
  }

  /**
   * Full batches go at once; a partial one waits a moment for other segments' contacts to fill it
   * (fewer, fuller requests inside the same limit), then goes as it is.
   */
  private enqueue(crm: CrmAdapter, entry: { item: Changed; done: (outcome: CrmUpdateOutcome | undefined) => void }): void {
    this.pending.push(entry);
    const size = crm.limits.batchSize;
    while (this.pending.length >= size) void this.flush(crm, this.pending.splice(0, size));
    if (this.pending.length && !this.linger) {
      this.linger = setTimeout(() => {
        this.linger = undefined;
        if (this.pending.length) void this.flush(crm, this.pending.splice(0, size));
      }, LINGER_MS);
    }
  }

  private async flush(crm: CrmAdapter, batch: readonly { item: Changed; done: (outcome: CrmUpdateOutcome | undefined) => void }[]): Promise<void> {
    const result = await this.send(
      crm,
      batch.map((b) => b.item),
    );
    batch.forEach((b, i) => b.done(result instanceof Error ? undefined : result[i]));
  }

  private async send(crm: CrmAdapter, batch: readonly Changed[]): Promise<readonly CrmUpdateOutcome[] | Error> {
    const updates = batch.map((c) => ({ crmId: c.crmId, contactId: c.contact.contactId, fields: crmContactFields(c.contact, c.insights) }));
    for (let tries = 0; ; tries++) {
      const answered = await this.pacer!.acquire();
      this.stats.batches++;
      try {
        return (await crm.updateContacts(updates)).outcomes;
      } catch (error) {
        answered();
        if (error instanceof CrmError && error.kind === 'rate_limited' && tries < 3) {
          // Should not happen when paced; if the CRM's limit is lower than configured, wait it out.
          this.stats.rateLimited++;
          await new Promise((resolve) => setTimeout(resolve, error.details.retryAfterMs ?? 1_000));
          continue;
        }
        this.deps.logger.warn('a batch update failed; its contacts are tried again before the run ends', { size: batch.length, reason: String(error) });
        return error instanceof Error ? error : new Error(String(error));
      } finally {
        answered();
      }
    }
  }
}
