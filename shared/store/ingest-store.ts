/**
 * The stores a delivery's ingest needs — contacts, messages, identities, raw events — over the one
 * table client. The webhook is built with these only (store.ts adds the others).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TableClient, type TableOptions } from './client.ts';
import { ContactStore } from './contacts.ts';
import { IdentityStore } from './identities.ts';
import { MediaStore } from './media.ts';
import { MessageStore } from './messages.ts';
import { OutboxStatusStore } from './outbox.ts';
import { RawEventStore, type RawArchive } from './raw-events.ts';
import { StatsStore } from './stats.ts';

export interface IngestStore {
  readonly table: TableClient;
  readonly contacts: ContactStore;
  readonly messages: MessageStore;
  readonly identities: IdentityStore;
  readonly rawEvents: RawEventStore;
  /** Our outbound messages: status webhooks move them forward. */
  readonly outbox: OutboxStatusStore;
  /** Media waiting to be fetched and stored (MD-1). */
  readonly media: MediaStore;
  /** The reports' aggregates, counted as events happen (RP-1 … RP-13). */
  readonly stats: StatsStore;
}

export type StoreFactory<S extends IngestStore> = (db: DynamoDBDocumentClient, options: TableOptions, archive?: RawArchive) => S;

export function createIngestStore(db: DynamoDBDocumentClient, options: TableOptions, archive?: RawArchive): IngestStore {
  const table = new TableClient(db, options);
  return {
    table,
    contacts: new ContactStore(table),
    messages: new MessageStore(table),
    identities: new IdentityStore(table),
    rawEvents: new RawEventStore(table, archive),
    outbox: new OutboxStatusStore(table),
    media: new MediaStore(table),
    stats: new StatsStore(table, options.timeZone),
  };
}
