/**
 * The night window's work (SY-5): the pending-sync sweep, and the segment refresh — segments and
 * scores recomputed from history for every contact, since a customer who goes quiet sends no
 * message that would do it (churn after 60 days, TG-3). Changed contacts are written to the CRM
 * and their segment change published; unchanged ones cost nothing.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { crmContactInput } from '#shared/crm/contact-input';
import { insightsChanged } from '#shared/domain/insights';
import type { CrmAdapter } from '#shared/crm/port';
import { NO_METRICS, type MetricsSink } from '#shared/metric-names';
import { describeError } from '#shared/observability';
import { CREDENTIAL_MAX_AGE_DAYS, credentialAges, type CredentialAge, type SecretSource } from '#shared/secrets';
import type { SyncJobSink } from '#shared/queue/sync-jobs';
import type { Store } from '#shared/store/store';
import type { ContactInsightsKeeper } from '#shared/sync/insights';
import { requeuePendingSync } from '#shared/sync/sweep';

/** Messages younger than this are still on their first way to the CRM. */
const SWEEP_MIN_AGE_MS = 5 * 60_000;
const SWEEP_LIMIT = 5_000;

export interface BatchDeps {
  readonly store: Store;
  readonly syncJobs: SyncJobSink;
  readonly insights: ContactInsightsKeeper;
  /** Built on first use: only the segment refresh talks to the CRM. */
  readonly crm: () => CrmAdapter;
  readonly logger: Pick<Logger, 'info' | 'warn'>;
  readonly metrics?: MetricsSink;
  /** The secrets, for the age of the API tokens (OP-5). */
  readonly secrets?: SecretSource;
  readonly now?: () => number;
}

export interface BatchResult {
  readonly task: string;
  readonly requeued?: number;
  readonly contacts?: number;
  readonly changed?: number;
  readonly failed?: number;
  readonly skipped?: string;
  readonly credentials?: readonly CredentialAge[];
}

export function createBatchApp(deps: BatchDeps) {
  const now = deps.now ?? Date.now;

  async function refreshSegments(): Promise<BatchResult> {
    const at = now();
    let contacts = 0;
    let changed = 0;
    const failures: string[] = [];
    for await (const contact of deps.store.contacts.all()) {
      if (contact.mergedInto) continue; // its history counts in the contact it became
      contacts++;
      try {
        const insights = await deps.insights.compute(contact, at);
        if (!insightsChanged(contact, insights)) continue;
        // The CRM first: only once it has the change is it recorded here, so a failed CRM
        // update is found changed again (and retried) by the next run.
        if (contact.crm) {
          const crm = deps.crm();
          const result = await crm.upsertContact(crmContactInput(contact, insights, crm.kind));
          if (contact.crm.kind !== crm.kind || contact.crm.id !== result.crmId) await deps.store.contacts.setCrm(contact.contactId, { kind: crm.kind, id: result.crmId }, at);
        }
        await deps.insights.record(contact, insights, at, at);
        changed++;
      } catch (error) {
        failures.push(contact.contactId);
        deps.logger.warn('segment refresh failed for a contact; the others go on', { contactId: contact.contactId, reason: describeError(error) });
      }
    }
    deps.logger.info('segments refreshed', { contacts, changed, failed: failures.length });
    (deps.metrics ?? NO_METRICS).add('contactsRefreshed', contacts);
    // A failed run is retried by the scheduler (then its DLQ and alarm); the refresh is idempotent.
    if (failures.length) throw new Error(`segment refresh failed for ${failures.length} of ${contacts} contacts`);
    return { task: 'segment-refresh', contacts, changed, failed: 0 };
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

  return {
    async run(task: string): Promise<BatchResult> {
      switch (task) {
        case 'sweep':
        case 'batch-sync': {
          const requeued = await requeuePendingSync(deps.store, deps.syncJobs, { minAgeMs: SWEEP_MIN_AGE_MS, limit: SWEEP_LIMIT, now: now() });
          deps.logger.info('pending sync requeued', { task, requeued });
          return { task, requeued };
        }
        case 'segment-refresh':
          return refreshSegments();
        case 'credential-check':
          return checkCredentials();
        default:
          // Tasks of later releases (unread export, archive, reconciliation) land here until built.
          deps.logger.warn('scheduled task not available in this release', { task });
          return { task, skipped: 'not available in this release' };
      }
    },
  };
}
