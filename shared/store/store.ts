/**
 * The single table, one store per aggregate over one small client: contacts, messages (and their
 * sync state), identities, conflicts, raw events, job runs, the outbox, send limits and templates. Created once per process
 * (shared/runtime.ts); the webhook takes the ingest stores only (ingest-store.ts).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TableOptions } from './client.ts';
import { ConflictStore } from './conflicts.ts';
import { createIngestStore, type IngestStore } from './ingest-store.ts';
import { JobRunStore } from './jobs.ts';
import type { RawArchive } from './raw-events.ts';
import { SyncStateStore } from './sync-state.ts';
import { TemplateStore } from './templates.ts';
import { OutboxStore } from './outbox.ts';
import { SendLimitsStore } from './send-limits.ts';
import { AutomationStore } from './automation.ts';
import { TwoWayStore } from './two-way.ts';
import { LinkStore } from './links.ts';

export interface Store extends IngestStore {
  readonly syncState: SyncStateStore;
  readonly conflicts: ConflictStore;
  readonly jobs: JobRunStore;
  readonly templates: TemplateStore;
  readonly outbox: OutboxStore;
  readonly limits: SendLimitsStore;
  readonly automation: AutomationStore;
  readonly twoWay: TwoWayStore;
  /** Tracked links in outbound messages and their clicks (AU-8). */
  readonly links: LinkStore;
}

export function createStore(db: DynamoDBDocumentClient, options: TableOptions, archive?: RawArchive): Store {
  const ingest = createIngestStore(db, options, archive);
  return {
    ...ingest,
    syncState: new SyncStateStore(ingest.table, ingest.messages),
    conflicts: new ConflictStore(ingest.table),
    jobs: new JobRunStore(ingest.table),
    templates: new TemplateStore(ingest.table),
    outbox: new OutboxStore(ingest.table),
    limits: new SendLimitsStore(ingest.table),
    automation: new AutomationStore(ingest.table),
    twoWay: new TwoWayStore(ingest.table),
    links: new LinkStore(ingest.table),
  };
}
