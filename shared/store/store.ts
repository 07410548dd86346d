/**
 * The single table, one store per aggregate over one small client: contacts, messages (and their
 * sync state), identities, conflicts and raw events. Created once per process (shared/runtime.ts).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TableClient, type TableOptions } from './client.ts';
import { ConflictStore } from './conflicts.ts';
import { ContactStore } from './contacts.ts';
import { IdentityStore } from './identities.ts';
import { JobRunStore } from './jobs.ts';
import { MessageStore } from './messages.ts';
import { RawEventStore, type RawArchive } from './raw-events.ts';
import { SyncStateStore } from './sync-state.ts';

export interface Store {
  readonly table: TableClient;
  readonly contacts: ContactStore;
  readonly messages: MessageStore;
  readonly syncState: SyncStateStore;
  readonly identities: IdentityStore;
  readonly conflicts: ConflictStore;
  readonly rawEvents: RawEventStore;
  readonly jobs: JobRunStore;
}

export function createStore(db: DynamoDBDocumentClient, options: TableOptions, archive?: RawArchive): Store {
  const table = new TableClient(db, options);
  const messages = new MessageStore(table);
  return {
    table,
    contacts: new ContactStore(table),
    messages,
    syncState: new SyncStateStore(table, messages),
    identities: new IdentityStore(table),
    conflicts: new ConflictStore(table),
    rawEvents: new RawEventStore(table, archive),
    jobs: new JobRunStore(table),
  };
}
