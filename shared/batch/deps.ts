/**
 * What the scheduled CRM-health and export tasks need (SY-6, SY-7, SY-9), and the shared pieces:
 * the contacts' insights as they were last recorded (what the sync sent), contact scans.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { CrmAdapter } from '../crm/port.ts';
import type { ContactInsights } from '../domain/insights.ts';
import type { Contact } from '../domain/records.ts';
import type { MetricsSink } from '../metric-names.ts';
import type { SyncJobSink } from '../queue/sync-jobs.ts';
import { toContact } from '../store/contacts.ts';
import type { Store } from '../store/store.ts';

export interface ExportSink {
  put(key: string, body: string, contentType?: string): Promise<void>;
}

export interface BatchTaskDeps {
  readonly store: Store;
  /** Where the CSV exports go (the bucket's exports/ prefix). */
  readonly exports: ExportSink | undefined;
  readonly crm: () => CrmAdapter;
  readonly syncJobs: SyncJobSink;
  readonly logger: Pick<Logger, 'info' | 'warn'>;
  readonly metrics: MetricsSink;
  readonly now: () => number;
  /** The business's time zone (SCRM_TIME_ZONE): the day, week and month of the reports. */
  readonly timeZone: string;
  readonly random?: () => number;
  readonly hotWordFamily?: ReadonlyMap<string, string>;
}

/**
 * The insights as the last sync recorded them on the contact (segment, scores, tags, hot words):
 * what the CRM was sent, unlike insights computed now (a score that decays since would differ).
 */
export function recordedInsights(contact: Contact): ContactInsights {
  const sentiment = contact.sentimentCount ? (contact.sentimentSum ?? 0) / contact.sentimentCount : undefined;
  return {
    segment: (contact.segment ?? 'new') as ContactInsights['segment'],
    activityScore: contact.activityScore ?? 0,
    priority: contact.priority ?? 0,
    unreadOver24h: false,
    tags: [...(contact.tags ?? [])],
    sentiment,
    hotWords: { ...contact.hotWords },
  };
}

/** Every stored contact (merged-away ones left out) matching a filter on the contact item. */
export async function* scanContacts(store: Store, filter?: { expression: string; names?: Record<string, string>; values?: Record<string, unknown> }): AsyncGenerator<Contact> {
  for await (const page of store.table.scanPages({
    FilterExpression: `sk = :profile${filter ? ` AND (${filter.expression})` : ''}`,
    ExpressionAttributeValues: { ':profile': 'PROFILE', ...filter?.values },
    ...(filter?.names && { ExpressionAttributeNames: filter.names }),
  })) {
    for (const item of page.items) {
      const contact = toContact(item);
      if (!contact.mergedInto) yield contact;
    }
  }
}
