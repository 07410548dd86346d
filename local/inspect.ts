/**
 * Read-only views of the local table for people and the simulator: every contact with its
 * identities and its messages in order. Scans are fine here (local data only), never on AWS.
 */
import { paginateScan, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface ContactView {
  readonly contact: Record<string, unknown>;
  readonly identities: { kind: string; value: string }[];
  readonly messages: Record<string, unknown>[];
}

async function scanAll(db: DynamoDBDocumentClient, tableName: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for await (const page of paginateScan({ client: db }, { TableName: tableName })) items.push(...(page.Items ?? []));
  return items;
}

const plain = (value: unknown): unknown => (value instanceof Set ? [...value] : value);

export async function contactsView(db: DynamoDBDocumentClient, tableName: string): Promise<ContactView[]> {
  const items = await scanAll(db, tableName);
  const views = new Map<string, ContactView>();
  for (const item of items) {
    if (item['sk'] !== 'PROFILE') continue;
    const { pk: _pk, sk: _sk, ...contact } = item;
    views.set(item['contactId'] as string, {
      contact: Object.fromEntries(Object.entries(contact).map(([k, v]) => [k, plain(v)])),
      identities: [],
      messages: [],
    });
  }
  for (const item of items) {
    const view = views.get(item['contactId'] as string);
    if (!view) continue;
    if (item['sk'] === 'IDENTITY') view.identities.push({ kind: item['kind'] as string, value: item['value'] as string });
    if (item['sk'] === 'MESSAGE') {
      const { pk: _pk, sk: _sk, gsi1pk: _a, gsi1sk: _b, gsi2pk: _c, gsi2sk: _d, raw: _raw, ...message } = item;
      view.messages.push(message['media'] ? { ...message, media: mediaView(message['media'] as Record<string, unknown>) } : message);
    }
  }
  for (const view of views.values()) view.messages.sort((a, b) => (a['sentAt'] as number) - (b['sentAt'] as number));
  return [...views.values()].sort((a, b) => ((a.contact['createdAt'] as number) ?? 0) - ((b.contact['createdAt'] as number) ?? 0));
}

export async function rawEventsView(db: DynamoDBDocumentClient, tableName: string): Promise<Record<string, unknown>[]> {
  return (await scanAll(db, tableName)).filter((item) => item['sk'] === 'RAW');
}

/** A message's media as people read it: where it is stored, how big, its state (`pending` until fetched). */
function mediaView(media: Record<string, unknown>): Record<string, unknown> {
  const { s3Key, state, ...rest } = media;
  return { key: s3Key, bytes: rest['bytes'], contentType: rest['contentType'], sha256: rest['sha256'], state: state ?? 'pending', ...rest };
}
