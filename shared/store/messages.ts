/**
 * Messages: one row per WhatsApp message, keyed by its wamid and written once; delivery
 * statuses on it; a contact's history through the byContact index.
 *
 * Room for what comes next: our own outbound messages get a row keyed by our id
 * (`keys.outbound`), since the wamid is only known after Meta answered; a status webhook finds
 * that row through the wamid pointer written when the send is recorded.
 */
import type { MessageRecord } from '../domain/records.ts';
import { TABLE } from '../resources.ts';
import type { TableClient } from './client.ts';
import { keys } from './keys.ts';

export type StoredMessage = MessageRecord;

export interface StatusInput {
  readonly wamid: string;
  readonly contactId: string | undefined;
  readonly phoneNumberId: string;
  readonly wabaId: string;
  readonly status: string;
  readonly at: number;
  readonly receivedAt: number;
  readonly error?: MessageRecord['error'] | undefined;
  readonly pricing?: MessageRecord['pricing'] | undefined;
}

const STATUS_RANK: Record<string, number> = { sent: 1, delivered: 2, read: 3, failed: 4 };

export class MessageStore {
  constructor(private readonly table: TableClient) {}

  /**
   * Stores a message once. Returns `created` for the first delivery; for a repeat, the stored row.
   * A new row is pending sync (sparse index).
   */
  async put(record: MessageRecord): Promise<{ created: true } | { created: false; existing: StoredMessage }> {
    const created = await this.table.put(
      {
        ...keys.message(record.wamid),
        gsi1pk: keys.historyPartition(record.contactId),
        gsi1sk: keys.historySort(record.sentAt, record.wamid),
        ...keys.syncWork('PENDING', record.wamid, record.receivedAt),
        ...record,
        syncState: 'pending',
        [TABLE.ttlAttribute]: this.table.expiresAt(record.receivedAt),
      },
      'attribute_not_exists(pk)',
    );
    if (created) return { created: true };
    const existing = await this.get(record.wamid);
    if (!existing) throw new Error(`message ${record.wamid} reported as existing but not found`);
    return { created: false, existing };
  }

  get(wamid: string): Promise<StoredMessage | undefined> {
    return this.table.get<StoredMessage>(keys.message(wamid));
  }

  /**
   * Records a delivery status on an outbound message (created if the status arrives first).
   * Each status keeps its first time (`statusAt_sent`, …); `status` only moves forward
   * (sent → delivered → read), and `failed` is kept with Meta's error code and title.
   */
  async applyStatus(input: StatusInput): Promise<void> {
    const values: Record<string, unknown> = {
      ':at': input.at,
      ':out': 'outbound',
      ':type': 'unknown',
      ':summary': '[outbound message]',
      ':pn': input.phoneNumberId,
      ':waba': input.wabaId,
      ':wamid': input.wamid,
      ':received': input.receivedAt,
      ':exp': this.table.expiresAt(input.receivedAt),
    };
    // A status that arrives before (or without) our own record of the send creates the record.
    const sets = [
      '#statusAt = if_not_exists(#statusAt, :at)',
      'wamid = if_not_exists(wamid, :wamid)',
      'direction = if_not_exists(direction, :out)',
      '#type = if_not_exists(#type, :type)',
      'summary = if_not_exists(summary, :summary)',
      'sentAt = if_not_exists(sentAt, :at)',
      'phoneNumberId = if_not_exists(phoneNumberId, :pn)',
      'wabaId = if_not_exists(wabaId, :waba)',
      'receivedAt = if_not_exists(receivedAt, :received)',
      `${TABLE.ttlAttribute} = if_not_exists(${TABLE.ttlAttribute}, :exp)`,
    ];
    const names: Record<string, string> = { '#statusAt': `statusAt_${input.status}`, '#type': 'type' };
    if (input.contactId) {
      sets.push('contactId = if_not_exists(contactId, :contact)', 'gsi1pk = if_not_exists(gsi1pk, :hpk)', 'gsi1sk = if_not_exists(gsi1sk, :hsk)');
      values[':contact'] = input.contactId;
      values[':hpk'] = keys.historyPartition(input.contactId);
      values[':hsk'] = keys.historySort(input.at, input.wamid);
    }
    if (input.error) {
      sets.push('#error = :error');
      values[':error'] = input.error;
      names['#error'] = 'error';
    }
    if (input.pricing) {
      sets.push('pricing = :pricing');
      values[':pricing'] = input.pricing;
    }
    const key = keys.message(input.wamid);
    await this.table.update(key, { update: `SET ${sets.join(', ')}`, names, values });
    // A failed condition is an older status arriving late: the row keeps the newer one.
    await this.table.update(key, {
      update: 'SET #status = :s, statusRank = :rank',
      condition: 'attribute_not_exists(statusRank) OR statusRank < :rank',
      names: { '#status': 'status' },
      values: { ':s': input.status, ':rank': STATUS_RANK[input.status] ?? 0 },
    });
  }

  /** Records the CRM id of the opportunity a message created, so a retry reuses it. */
  async recordOpportunity(message: Pick<MessageRecord, 'wamid' | 'opportunityCrmIds' | 'opportunityCrmId'>, crm: { kind: string; id: string }): Promise<void> {
    const ids = { ...(message.opportunityCrmId && { hubspot: message.opportunityCrmId }), ...message.opportunityCrmIds, [crm.kind]: crm.id };
    await this.table.update(keys.message(message.wamid), { update: 'SET opportunityCrmIds = :crm REMOVE opportunityCrmId', values: { ':crm': ids } });
  }

  /** A contact's messages in the order they were sent, from `since` (ms) on; merged contacts included by the caller. */
  history(contactId: string, since?: number, fields?: readonly (keyof MessageRecord)[]): Promise<MessageRecord[]> {
    return this.table.queryAll<MessageRecord>({
      IndexName: TABLE.indexes.byContact.name,
      KeyConditionExpression: since === undefined ? 'gsi1pk = :pk' : 'gsi1pk = :pk AND gsi1sk >= :since',
      ExpressionAttributeValues: {
        ':pk': keys.historyPartition(contactId),
        ...(since !== undefined && { ':since': keys.historySort(since, '') }),
      },
      ...(fields && {
        ProjectionExpression: fields.map((_, i) => `#f${i}`).join(', '),
        ExpressionAttributeNames: Object.fromEntries(fields.map((field, i) => [`#f${i}`, field])),
      }),
    });
  }
}
