/**
 * The night window's work (SY-5): the pending-sync sweep, and the segment refresh — segments and
 * scores recomputed from history for every contact, since a customer who goes quiet sends no
 * message that would do it (churn after 60 days, TG-3). Changed contacts are written to the CRM
 * and their segment change published; unchanged ones cost nothing.
 */
import { archiveDue } from '#shared/archive/archive';
import type { ArchiveBucket } from '#shared/archive/bucket';
import { measureStorageGrowth, type StorageGrowthDeps } from '#shared/batch/storage-growth';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { CrmAdapter } from '#shared/crm/port';
import { NO_METRICS, type MetricsSink } from '#shared/metric-names';
import { CREDENTIAL_MAX_AGE_DAYS, credentialAges, type CredentialAge } from '#shared/credentials';
import type { SecretSource } from '#shared/secrets';
import { MEDIA_QUEUE } from '#shared/resources';
import type { MediaJobSink } from '#shared/queue/media-jobs';
import type { SyncJobSink } from '#shared/queue/sync-jobs';
import type { Store } from '#shared/store/store';
import type { ContactInsightsKeeper } from '#shared/sync/insights';
import { REFRESH_DEFAULTS, runSegmentRefresh, type RefreshSettings } from '#shared/sync/segment-refresh';
import { requeuePendingMedia, requeuePendingSync } from '#shared/sync/sweep';
import type { BatchTaskDeps } from '#shared/batch/deps';
import { exportUnanswered, keywordReport, serviceReport } from '#shared/batch/exports';
import { mappingCheck, reconcile } from '#shared/batch/health';
import { crmCatchUp, crmWatch, findDuplicates, type TwoWayTaskDeps } from '#shared/batch/two-way';

/** Messages younger than this are still on their first way to the CRM. */
const SWEEP_MIN_AGE_MS = 5 * 60_000;
/** Media younger than the queue's visibility timeout may still be in its first attempt. */
const MEDIA_SWEEP_MIN_AGE_MS = MEDIA_QUEUE.visibilityTimeoutSeconds * 1000 + 60_000;
const SWEEP_LIMIT = 5_000;

export interface BatchDeps extends Partial<Pick<BatchTaskDeps, 'exports' | 'random' | 'hotWordFamily'>>, Pick<TwoWayTaskDeps, 'crmEvents' | 'publicUrl' | 'channelToken' | 'autoMergeAt'> {
  readonly store: Store;
  readonly syncJobs: SyncJobSink;
  /** The media queue: media recorded but not stored is queued again by the sweep (MD-1). */
  readonly mediaJobs?: MediaJobSink | undefined;
  readonly insights: ContactInsightsKeeper;
  /** Built on first use: only the segment refresh talks to the CRM. */
  readonly crm: () => CrmAdapter;
  readonly logger: Pick<Logger, 'info' | 'warn'>;
  readonly metrics?: MetricsSink;
  /** The secrets, for the age of the API tokens (OP-5). */
  readonly secrets?: SecretSource;
  /** How the segment refresh scans (segments, page size, concurrency). */
  readonly refresh?: Partial<RefreshSettings>;
  readonly now?: () => number;
  /** The business's time zone (SCRM_TIME_ZONE) for the reports' days, weeks and months. */
  readonly timeZone?: string;
  /** What storage-growth measures (ST-3): the table's and the bucket's bytes, and the planned capacity. */
  readonly storage?: Pick<StorageGrowthDeps, 'tableBytes' | 'bucketBytes' | 'capacityBytes'> | undefined;
  /** Where months of history go before TTL removes them (ST-2): the bucket's archive/. */
  readonly archive?: ArchiveBucket | undefined;
}

export interface RunOptions {
  /** What is left of the invocation (Lambda's getRemainingTimeInMillis). */
  readonly remainingMs?: () => number;
  /** Start a new segment refresh even if one finished tonight (a run by hand). */
  readonly fresh?: boolean;
}

export interface BatchResult {
  readonly task: string;
  readonly done?: boolean;
  readonly requeued?: number;
  readonly contacts?: number;
  readonly changed?: number;
  readonly failed?: number;
  readonly skipped?: string;
  readonly credentials?: readonly CredentialAge[];
  /** What an export or a health check found (its CSV key, rows, accuracy …). */
  readonly [detail: string]: unknown;
}

/** The tasks `npm run batch -- <task>` and the schedules run. */
export const BATCH_TASKS = ['sweep', 'batch-sync', 'segment-refresh', 'night-sync', 'credential-check', 'unread-export', 'service-report', 'keyword-report', 'reconcile', 'mapping-check', 'crm-catch-up', 'crm-watch', 'duplicates', 'archive', 'storage-growth'] as const;

export function createBatchApp(deps: BatchDeps) {
  const now = deps.now ?? Date.now;

  async function refreshSegments(options: RunOptions): Promise<BatchResult> {
    const outcome = await runSegmentRefresh(
      { store: deps.store, insights: deps.insights, crm: deps.crm, logger: deps.logger, now, jobs: deps.syncJobs },
      { ...REFRESH_DEFAULTS, ...deps.refresh },
      { remainingMs: options.remainingMs ?? (() => 14 * 60_000), ...(options.fresh && { fresh: true }) },
    );
    (deps.metrics ?? NO_METRICS).add('contactsRefreshed', outcome.contacts);
    if (outcome.written !== undefined) (deps.metrics ?? NO_METRICS).add('batchContactsWritten', outcome.written);
    if (outcome.failed) (deps.metrics ?? NO_METRICS).add('batchContactsFailed', outcome.failed);
    return { task: 'segment-refresh', ...outcome };
  }

  /** OP-5: every token's age as a metric (the alarm fires above 25 days), and a warning in the log. */
  async function checkCredentials(): Promise<BatchResult> {
    if (!deps.secrets) return { task: 'credential-check', skipped: 'no secrets to check' };
    const credentials = await credentialAges(deps.secrets, now());
    for (const c of credentials) {
      if (c.ageDays === undefined) {
        deps.logger.warn('the rotation date of a token is unknown: write <KEY>_ROTATED_AT into the secret when you rotate it', { credential: c.credential });
        continue;
      }
      (deps.metrics ?? NO_METRICS).add('credentialAgeDays', c.ageDays, { credential: c.credential });
      if (c.ageDays > CREDENTIAL_MAX_AGE_DAYS) deps.logger.warn(`a token is older than ${CREDENTIAL_MAX_AGE_DAYS} days: rotate it`, { credential: c.credential, ageDays: c.ageDays });
    }
    deps.logger.info('credentials checked', { credentials: credentials.map((c) => `${c.credential}:${c.ageDays ?? 'unknown'}`) });
    return { task: 'credential-check', credentials };
  }

  const tasks: TwoWayTaskDeps = {
    crmEvents: deps.crmEvents,
    publicUrl: deps.publicUrl,
    ...(deps.channelToken && { channelToken: deps.channelToken }),
    autoMergeAt: deps.autoMergeAt,
    store: deps.store,
    exports: deps.exports,
    crm: deps.crm,
    syncJobs: deps.syncJobs,
    logger: deps.logger,
    metrics: deps.metrics ?? NO_METRICS,
    now,
    timeZone: deps.timeZone ?? 'UTC',
    ...(deps.random && { random: deps.random }),
    ...(deps.hotWordFamily && { hotWordFamily: deps.hotWordFamily }),
  };

  return {
    async run(task: string, options: RunOptions = {}): Promise<BatchResult> {
      switch (task) {
        case 'sweep':
        case 'batch-sync': {
          const requeued = await requeuePendingSync(deps.store, deps.syncJobs, { minAgeMs: SWEEP_MIN_AGE_MS, limit: SWEEP_LIMIT, now: now() });
          const media = deps.mediaJobs ? await requeuePendingMedia(deps.store, deps.mediaJobs, { minAgeMs: MEDIA_SWEEP_MIN_AGE_MS, limit: SWEEP_LIMIT, now: now() }) : 0;
          deps.logger.info('pending sync requeued', { task, requeued, media });
          return { task, requeued, media };
        }
        case 'segment-refresh':
        case 'night-sync':
          return refreshSegments(options);
        case 'unread-export':
          return { task, ...(await exportUnanswered(tasks)) };
        case 'service-report':
          return { task, ...(await serviceReport(tasks)) };
        case 'keyword-report':
          return { task, ...(await keywordReport(tasks)) };
        case 'reconcile':
          return { task, ...(await reconcile(tasks)) };
        case 'mapping-check':
          return { task, ...(await mappingCheck(tasks)) };
        case 'credential-check':
          return checkCredentials();
        case 'crm-catch-up':
          return { task, ...(await crmCatchUp(tasks)) };
        case 'crm-watch':
          return { task, ...(await crmWatch(tasks)) };
        case 'duplicates':
          return { task, ...(await findDuplicates(tasks)) };
        case 'archive': {
          if (!deps.archive) return { task, skipped: 'no bucket configured (SCRM_BUCKET_NAME)' };
          const months = await archiveDue({ table: deps.store.table, bucket: deps.archive, now });
          deps.logger.info('history archived', { months: months.map((m) => ({ ...m })) });
          return { task, months };
        }
        case 'storage-growth': {
          if (!deps.storage) return { task, skipped: 'no bucket configured (SCRM_BUCKET_NAME)' };
          const growth = await measureStorageGrowth({ ...deps.storage, table: deps.store.table, metrics: tasks.metrics, now });
          deps.logger.info('storage measured', { ...growth });
          return { task, ...growth };
        }
        default:
          // A schedule of a later release lands here until it is built.
          deps.logger.warn('scheduled task not available in this release', { task, available: BATCH_TASKS });
          return { task, skipped: 'not available in this release' };
      }
    },
  };
}
