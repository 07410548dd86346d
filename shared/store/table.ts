/**
 * The DynamoDB single-table repository. Every write that must happen once is a conditional
 * write (no transactions: dynalite has none, and they are not needed): identity claims, the
 * message row keyed by wamid, the apply lease of a message's effects.
 */
import {
  BatchGetCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { TABLE } from '../resources.ts';
import { DEFAULT_CUSTOMER_LEVEL, HOT_WORD_PREFIX, type Contact, type LeadSource, type MessageAnalysis, type MessageRecord } from '../domain/records.ts';
import type { ConflictRecord } from '../domain/intelligence/conflicts.ts';
import { PENDING_SYNC_SHARDS, keys, type IdentityKey, type SyncWork } from './keys.ts';

export type SyncWorkItem = Pick<MessageRecord, 'wamid' | 'contactId' | 'receivedAt'>;

const DAY_MS = 86_400_000;

export interface TableOptions {
  readonly tableName: string;
  /** Messages and raw events expire this many days after they arrive (ST-1). */
  readonly retentionDays: number;
}

export function isConditionalCheckFailed(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

const identityString = (id: IdentityKey) => `${id.kind}#${id.value}`;

/** What a first delivery knows about a new contact. */
export interface ContactSeed {
  readonly bsuid?: string | undefined;
  readonly parentBsuid?: string | undefined;
  readonly phone?: string | undefined;
  readonly phoneRaw?: string | undefined;
  readonly phoneFlag?: 'unparseable' | 'invalid' | undefined;
  readonly leadSource: LeadSource;
  readonly leadReferral?: Contact['leadReferral'] | undefined;
}

export interface InboundEffect {
  readonly sentAt: number;
  readonly phoneNumberId: string;
  readonly profileName?: string | undefined;
  readonly username?: string | undefined;
  /** The message's analysis: its tags, hot words and sentiment add up on the contact. */
  readonly analysis?: MessageAnalysis | undefined;
}

export class ScrmTable {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly options: TableOptions,
  ) {}

  get name(): string {
    return this.options.tableName;
  }

  private expiresAt(from: number): number {
    return Math.floor((from + this.options.retentionDays * DAY_MS) / 1000);
  }

  // ---------------------------------------------------------------- identities

  /** The contact each identity points to (strongly consistent). */
  async identityOwners(ids: readonly IdentityKey[]): Promise<Map<string, string>> {
    const owners = new Map<string, string>();
    if (ids.length === 0) return owners;
    const result = await this.db.send(
      new BatchGetCommand({
        RequestItems: {
          [this.name]: { Keys: ids.map(keys.identity), ConsistentRead: true, ProjectionExpression: 'pk, contactId' },
        },
      }),
    );
    const byPk = new Map(ids.map((id) => [keys.identity(id).pk, identityString(id)]));
    for (const item of result.Responses?.[this.name] ?? []) {
      const id = byPk.get(item['pk'] as string);
      if (id) owners.set(id, item['contactId'] as string);
    }
    // Identity reads are tiny; unprocessed keys only appear under throttling: read them one by one.
    for (const key of result.UnprocessedKeys?.[this.name]?.Keys ?? []) {
      const item = await this.db.send(new GetCommand({ TableName: this.name, Key: key, ConsistentRead: true }));
      const id = byPk.get(key['pk'] as string);
      if (id && item.Item) owners.set(id, item.Item['contactId'] as string);
    }
    return owners;
  }

  /** Claims an identity for a contact; returns the contact that owns it afterwards (maybe another). */
  async claimIdentity(id: IdentityKey, contactId: string, at: number): Promise<string> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.name,
          Item: { ...keys.identity(id), kind: id.kind, value: id.value, contactId, claimedAt: at },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return contactId;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const existing = await this.db.send(
        new GetCommand({ TableName: this.name, Key: keys.identity(id), ConsistentRead: true }),
      );
      return existing.Item?.['contactId'] as string;
    }
  }

  /** Re-points an identity from one contact to another; false if it no longer pointed to `from`. */
  async moveIdentity(id: IdentityKey, from: string, to: string, at: number): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.name,
          Key: keys.identity(id),
          UpdateExpression: 'SET contactId = :to, movedFrom = :from, movedAt = :at',
          ConditionExpression: 'contactId = :from',
          ExpressionAttributeValues: { ':to': to, ':from': from, ':at': at },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  // ---------------------------------------------------------------- contacts

  async getContact(contactId: string): Promise<Contact | undefined> {
    const result = await this.db.send(
      new GetCommand({ TableName: this.name, Key: keys.contact(contactId), ConsistentRead: true }),
    );
    return result.Item ? stripKeys<Contact>(result.Item) : undefined;
  }

  /** Creates the contact if absent; fills identity fields it does not have yet. Idempotent. */
  async ensureContact(contactId: string, seed: ContactSeed, at: number): Promise<Contact> {
    const fields = seedFields(contactId, seed, at);
    const result = await this.db.send(
      new UpdateCommand({
        TableName: this.name,
        Key: keys.contact(contactId),
        UpdateExpression: `SET updatedAt = :now, ${Object.keys(fields).map((f) => `#${f} = if_not_exists(#${f}, :${f})`).join(', ')}`,
        ExpressionAttributeNames: Object.fromEntries(Object.keys(fields).map((f) => [`#${f}`, f])),
        ExpressionAttributeValues: { ':now': at, ...Object.fromEntries(Object.entries(fields).map(([f, v]) => [`:${f}`, v])) },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return stripKeys<Contact>(result.Attributes ?? {});
  }

  /**
   * Applies one inbound message to its contact in one write: counter, first/last inbound time,
   * account, and the profile as of the newest message. The contact's base fields (`seed`) are
   * set if absent, so a contact whose first delivery died before creating it is completed here.
   * Called once per message (guarded by the message's apply lease).
   */
  async applyInbound(contactId: string, effect: InboundEffect, seed: ContactSeed): Promise<void> {
    const base = seedFields(contactId, seed, effect.sentAt);
    const names = Object.fromEntries(Object.keys(base).map((field) => [`#${field}`, field]));
    const values: Record<string, unknown> = {
      ...Object.fromEntries(Object.entries(base).map(([field, value]) => [`:${field}`, value])),
      ':t': effect.sentAt,
      ':one': 1,
      ':account': new Set([effect.phoneNumberId]),
    };
    const ensure = Object.keys(base).map((field) => `#${field} = if_not_exists(#${field}, :${field})`);
    const always = [...ensure, 'firstInboundAt = if_not_exists(firstInboundAt, :t)'];
    const newer = ['lastInboundAt = :t'];
    const adds = ['inboundCount :one', 'accounts :account'];
    const analysis = effect.analysis;
    if (analysis) {
      adds.push('sentimentSum :sentiment', 'sentimentCount :one');
      values[':sentiment'] = analysis.sentiment;
      newer.push('lastSentiment = :sentiment');
      if (analysis.tags.length) {
        adds.push('tags :tags');
        values[':tags'] = new Set(analysis.tags);
      }
      Object.entries(analysis.hotWords).forEach(([word, count], i) => {
        names[`#hw${i}`] = `${HOT_WORD_PREFIX}${word}`;
        values[`:hw${i}`] = count;
        adds.push(`#hw${i} :hw${i}`);
      });
    }
    if (effect.profileName !== undefined) {
      newer.push('profileName = :name');
      values[':name'] = effect.profileName;
    }
    if (effect.username !== undefined) {
      newer.push('username = :username');
      values[':username'] = effect.username;
    }
    const update = (sets: string[]) => `SET ${sets.join(', ')} ADD ${adds.join(', ')}`;
    const key = { TableName: this.name, Key: keys.contact(contactId), ExpressionAttributeNames: names };
    try {
      await this.db.send(
        new UpdateCommand({
          ...key,
          UpdateExpression: update([...always, ...newer]),
          ConditionExpression: 'attribute_not_exists(lastInboundAt) OR lastInboundAt <= :t',
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      // An older message arriving late: count it, keep the newer profile and time.
      const { ':name': _name, ':username': _username, ...older } = values;
      await this.db.send(new UpdateCommand({ ...key, UpdateExpression: update(always), ExpressionAttributeValues: older }));
    }
  }

  /** Sets the contact's current identities after a number or BSUID change; old ones are kept in history. */
  async applyIdentityChange(
    contactId: string,
    change: { phone?: string | undefined; bsuid?: string | undefined; previousPhone?: string | undefined; previousBsuid?: string | undefined },
    at: number,
  ): Promise<void> {
    const sets = ['updatedAt = :now'];
    const values: Record<string, unknown> = { ':now': at, ':empty': [] };
    if (change.phone) {
      sets.push('phone = :phone');
      values[':phone'] = change.phone;
      sets.push('phoneFlag = :none');
      values[':none'] = null;
    }
    if (change.bsuid) {
      sets.push('bsuid = :bsuid');
      values[':bsuid'] = change.bsuid;
    }
    if (change.previousPhone && change.previousPhone !== change.phone) {
      sets.push('previousPhones = list_append(if_not_exists(previousPhones, :empty), :pp)');
      values[':pp'] = [change.previousPhone];
    }
    if (change.previousBsuid && change.previousBsuid !== change.bsuid) {
      sets.push('previousBsuids = list_append(if_not_exists(previousBsuids, :empty), :pb)');
      values[':pb'] = [change.previousBsuid];
    }
    // The list appends are guarded so a repeated change does not add the old identity twice.
    const guards: string[] = [];
    if (values[':phone']) guards.push('(attribute_not_exists(phone) OR phone <> :phone)');
    if (values[':bsuid']) guards.push('(attribute_not_exists(bsuid) OR bsuid <> :bsuid)');
    if (guards.length === 0) return;
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.name,
          Key: keys.contact(contactId),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: `attribute_exists(pk) AND (${guards.join(' OR ')})`,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error; // already applied
    }
  }

  /** Records that `loser` is the same customer as `winner`; both histories stay readable. */
  async recordMerge(loser: string, winner: string, at: number): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.name,
        Key: keys.contact(loser),
        UpdateExpression: 'SET mergedInto = :winner, updatedAt = :at',
        ExpressionAttributeValues: { ':winner': winner, ':at': at },
      }),
    );
    await this.db.send(
      new UpdateCommand({
        TableName: this.name,
        Key: keys.contact(winner),
        UpdateExpression: 'ADD mergedFrom :loser SET updatedAt = :at',
        ExpressionAttributeValues: { ':loser': new Set([loser]), ':at': at },
      }),
    );
  }

  /** Outbound delivery facts on the contact: last outbound (sent) and last read time (TG-6). */
  async applyDeliveryStatus(contactId: string, status: string, at: number): Promise<void> {
    const field = status === 'read' ? 'lastReadAt' : status === 'sent' ? 'lastOutboundAt' : undefined;
    if (!field) return;
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.name,
          Key: keys.contact(contactId),
          UpdateExpression: `SET ${field} = :t`,
          ConditionExpression: `attribute_exists(pk) AND (attribute_not_exists(${field}) OR ${field} < :t)`,
          ExpressionAttributeValues: { ':t': at },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  async setContactCrm(contactId: string, crm: { kind: string; id: string }, at: number): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.name,
        Key: keys.contact(contactId),
        UpdateExpression: 'SET crm = :crm',
        ExpressionAttributeValues: { ':crm': { ...crm, syncedAt: at } },
      }),
    );
  }

  // ---------------------------------------------------------------- messages

  /**
   * Stores a message once. Returns `created` for the first delivery; for a repeat, the stored row.
   * A new row is pending sync (sparse index) and holds the apply lease of its first delivery.
   */
  async putMessage(record: MessageRecord): Promise<{ created: true } | { created: false; existing: MessageRecord }> {
    const history = {
      gsi1pk: keys.historyPartition(record.contactId),
      gsi1sk: keys.historySort(record.sentAt, record.wamid),
    };
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.name,
          Item: {
            ...keys.message(record.wamid),
            ...history,
            ...keys.syncWork('PENDING', record.wamid, record.receivedAt),
            ...record,
            syncState: 'pending',
            applyLeaseAt: record.receivedAt,
            [TABLE.ttlAttribute]: this.expiresAt(record.receivedAt),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { created: true };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      const existing = await this.getMessage(record.wamid);
      if (!existing) throw new Error(`message ${record.wamid} reported as existing but not found`, { cause: error });
      return { created: false, existing };
    }
  }

  async getMessage(wamid: string): Promise<(MessageRecord & { applyLeaseAt?: number }) | undefined> {
    const result = await this.db.send(
      new GetCommand({ TableName: this.name, Key: keys.message(wamid), ConsistentRead: true }),
    );
    return result.Item ? stripKeys<MessageRecord & { applyLeaseAt?: number }>(result.Item) : undefined;
  }

  /**
   * Takes over the apply lease of a message whose first delivery did not finish applying it
   * (it crashed or failed): only once the lease is older than `leaseMs`, so a delivery still in
   * progress is never doubled.
   */
  async takeApplyLease(wamid: string, now: number, leaseMs: number): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.name,
          Key: keys.message(wamid),
          UpdateExpression: 'SET applyLeaseAt = :now',
          ConditionExpression: 'attribute_not_exists(applied) AND (attribute_not_exists(applyLeaseAt) OR applyLeaseAt < :expired)',
          ExpressionAttributeValues: { ':now': now, ':expired': now - leaseMs },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  async markApplied(wamid: string): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.name,
        Key: keys.message(wamid),
        UpdateExpression: 'SET applied = :yes REMOVE applyLeaseAt',
        ExpressionAttributeValues: { ':yes': true },
      }),
    );
  }

  /**
   * Records a delivery status on an outbound message (created if the status arrives first).
   * Each status keeps its first time (`statusAt_sent`, …); `status` only moves forward
   * (sent → delivered → read), and `failed` is kept with Meta's error code and title.
   */
  async applyMessageStatus(input: {
    wamid: string;
    contactId: string | undefined;
    phoneNumberId: string;
    wabaId: string;
    status: string;
    at: number;
    receivedAt: number;
    error?: MessageRecord['error'] | undefined;
    pricing?: MessageRecord['pricing'] | undefined;
  }): Promise<void> {
    const values: Record<string, unknown> = {
      ':at': input.at,
      ':out': 'outbound',
      ':type': 'unknown',
      ':summary': '[outbound message]',
      ':pn': input.phoneNumberId,
      ':waba': input.wabaId,
      ':wamid': input.wamid,
      ':received': input.receivedAt,
      ':exp': this.expiresAt(input.receivedAt),
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
    await this.db.send(
      new UpdateCommand({
        TableName: this.name,
        Key: keys.message(input.wamid),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.name,
          Key: keys.message(input.wamid),
          UpdateExpression: 'SET #status = :s, statusRank = :rank',
          ConditionExpression: 'attribute_not_exists(statusRank) OR statusRank < :rank',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':s': input.status, ':rank': STATUS_RANK[input.status] ?? 0 },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error; // an older status arriving late
    }
  }

  /** Every contact, page by page (a scan: for the nightly batch only, never on a request path). */
  async *contacts(): AsyncGenerator<Contact> {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new ScanCommand({
          TableName: this.name,
          FilterExpression: 'sk = :profile',
          ExpressionAttributeValues: { ':profile': 'PROFILE' },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) yield stripKeys<Contact>(item);
      start = page.LastEvaluatedKey;
    } while (start);
  }

  /** Stores what the contact's history says now (segment, scores, tags). */
  async recordInsights(contactId: string, insights: { segment: string; activityScore: number; priority: number; tags: readonly string[] }, at: number): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.name,
        Key: keys.contact(contactId),
        UpdateExpression: `SET #segment = :segment, activityScore = :activity, priority = :priority, insightsAt = :at${insights.tags.length ? ' ADD tags :tags' : ''}`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#segment': 'segment' },
        ExpressionAttributeValues: {
          ':segment': insights.segment,
          ':activity': insights.activityScore,
          ':priority': insights.priority,
          ':at': at,
          ...(insights.tags.length && { ':tags': new Set(insights.tags) }),
        },
      }),
    );
  }

  /** Records the CRM id of the opportunity a message created, so a retry reuses it. */
  async recordOpportunity(wamid: string, crmId: string): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.name,
        Key: keys.message(wamid),
        UpdateExpression: 'SET opportunityCrmId = :crm',
        ExpressionAttributeValues: { ':crm': crmId },
      }),
    );
  }

  /** A contact's messages in the order they were sent, from `since` (ms) on; merged contacts included by the caller. */
  async contactHistory(contactId: string, since?: number, fields?: readonly (keyof MessageRecord)[]): Promise<MessageRecord[]> {
    const items: MessageRecord[] = [];
    const projection = fields && {
      ProjectionExpression: fields.map((_, i) => `#f${i}`).join(', '),
      ExpressionAttributeNames: Object.fromEntries(fields.map((field, i) => [`#f${i}`, field])),
    };
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.name,
          IndexName: TABLE.indexes.byContact.name,
          KeyConditionExpression: since === undefined ? 'gsi1pk = :pk' : 'gsi1pk = :pk AND gsi1sk >= :since',
          ExpressionAttributeValues: {
            ':pk': keys.historyPartition(contactId),
            ...(since !== undefined && { ':since': keys.historySort(since, '') }),
          },
          ...projection,
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(page.Items ?? []).map((item) => stripKeys<MessageRecord>(item)));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }

  // ---------------------------------------------------------------- sync state

  /** Messages stored but not yet synced, oldest first, received before `before` (ms). */
  pendingSync(before: number, limit: number): Promise<SyncWorkItem[]> {
    return this.syncWork('PENDING', before, limit);
  }

  /** Messages whose sync failed for good (their job went to the DLQ), oldest first. */
  failedSync(limit: number): Promise<SyncWorkItem[]> {
    return this.syncWork('FAILED', Number.MAX_SAFE_INTEGER / 2, limit);
  }

  private async syncWork(state: SyncWork, before: number, limit: number): Promise<SyncWorkItem[]> {
    const bound = new Date(Math.min(before, 8.64e15)).toISOString();
    const pages = await Promise.all(
      Array.from({ length: PENDING_SYNC_SHARDS }, (_, shard) =>
        this.db.send(
          new QueryCommand({
            TableName: this.name,
            IndexName: TABLE.indexes.pendingSync.name,
            KeyConditionExpression: 'gsi2pk = :pk AND gsi2sk < :bound',
            ExpressionAttributeValues: { ':pk': keys.syncPartition(state, shard), ':bound': bound },
            Limit: limit,
          }),
        ),
      ),
    );
    return pages
      .flatMap((page) => page.Items ?? [])
      .map((item) => ({ wamid: item['wamid'] as string, contactId: item['contactId'] as string, receivedAt: item['receivedAt'] as number }))
      .sort((a, b) => a.receivedAt - b.receivedAt)
      .slice(0, limit);
  }

  async markSynced(wamid: string, crmId: string, at: number): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.name,
        Key: keys.message(wamid),
        UpdateExpression: 'SET syncState = :synced, crmId = :crm, syncedAt = :at REMOVE gsi2pk, gsi2sk, syncError',
        ExpressionAttributeValues: { ':synced': 'synced', ':crm': crmId, ':at': at },
      }),
    );
  }

  /**
   * Keeps the error of a failed attempt. A final failure (the job is now in the DLQ) moves the
   * message from the pending to the failed partition of the work index: the sweep leaves it
   * alone, and a redrive finds it even if the DLQ itself was lost.
   */
  async recordSyncFailure(wamid: string, error: string, attempts: number, final: boolean): Promise<void> {
    const values: Record<string, unknown> = {
      ':error': error.slice(0, 2000),
      ':attempts': attempts,
      ':state': final ? 'failed' : 'pending',
      ':synced': 'synced',
    };
    let park = '';
    if (final) {
      const message = await this.getMessage(wamid);
      if (!message) return;
      const failed = keys.syncWork('FAILED', wamid, message.receivedAt);
      park = ', gsi2pk = :failedPk, gsi2sk = :failedSk';
      values[':failedPk'] = failed.gsi2pk;
      values[':failedSk'] = failed.gsi2sk;
    }
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.name,
          Key: keys.message(wamid),
          UpdateExpression: `SET syncError = :error, syncAttempts = :attempts, syncState = :state${park}`,
          ConditionExpression: 'attribute_exists(pk) AND syncState <> :synced',
          ExpressionAttributeValues: values,
        }),
      );
    } catch (e) {
      if (!isConditionalCheckFailed(e)) throw e; // synced meanwhile: nothing to record
    }
  }

  /** A job sent back from the DLQ: pending again, and back in the pending partition for the sweep. */
  async markRedriven(wamid: string): Promise<boolean> {
    const message = await this.getMessage(wamid);
    if (!message || message.syncState === 'synced') return false;
    const pending = keys.syncWork('PENDING', wamid, message.receivedAt);
    await this.db.send(
      new UpdateCommand({
        TableName: this.name,
        Key: keys.message(wamid),
        UpdateExpression: 'SET syncState = :pending, syncAttempts = :zero, gsi2pk = :pk, gsi2sk = :sk',
        ExpressionAttributeValues: { ':pending': 'pending', ':zero': 0, ':pk': pending.gsi2pk, ':sk': pending.gsi2sk },
      }),
    );
    return true;
  }

  // ---------------------------------------------------------------- conflicts (ID-5)

  /**
   * Keeps a CRM-vs-WhatsApp conflict for human review, under its day. The key is derived from the
   * conflict itself, so recording the same conflict again changes nothing.
   */
  async recordConflict(contactId: string, conflict: ConflictRecord): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.name,
        Item: {
          ...keys.conflict(conflict.day, conflict.at, contactId, conflict.field),
          contactId,
          ...conflict,
          [TABLE.ttlAttribute]: this.expiresAt(conflict.at),
        },
      }),
    );
  }

  /** The conflicts of one UTC day (YYYY-MM-DD), in the order they arose. */
  async conflictsOn(day: string): Promise<(ConflictRecord & { contactId: string })[]> {
    const items: (ConflictRecord & { contactId: string })[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.name,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': keys.conflictDay(day) },
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(page.Items ?? []).map((item) => stripKeys<ConflictRecord & { contactId: string }>(item)));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }

  // ---------------------------------------------------------------- raw events

  /** Keeps an event that could not be understood, once per distinct payload, for a person to see. */
  async putRaw(hash: string, event: { reason: string; field: string; phoneNumberId?: string | undefined; raw: string }, at: number): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.name,
          Item: {
            ...keys.raw(hash),
            gsi1pk: keys.rawDay(at),
            gsi1sk: new Date(at).toISOString(),
            ...event,
            receivedAt: at,
            [TABLE.ttlAttribute]: this.expiresAt(at),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  async rawEventsOf(day: string): Promise<Record<string, unknown>[]> {
    const page = await this.db.send(
      new QueryCommand({
        TableName: this.name,
        IndexName: TABLE.indexes.byContact.name,
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': `RAW#${day}` },
      }),
    );
    return (page.Items ?? []).map((item) => stripKeys(item));
  }
}

/** The fields a contact is created with; each is only set when absent. */
function seedFields(contactId: string, seed: ContactSeed, at: number): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    contactId,
    createdAt: at,
    leadSource: seed.leadSource,
    customerLevel: DEFAULT_CUSTOMER_LEVEL,
    bsuid: seed.bsuid,
    parentBsuid: seed.parentBsuid,
    phone: seed.phone,
    phoneRaw: seed.phoneRaw,
    phoneFlag: seed.phoneFlag,
    leadReferral: seed.leadReferral,
  };
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

const STATUS_RANK: Record<string, number> = { sent: 1, delivered: 2, read: 3, failed: 4 };

const KEY_ATTRIBUTES = new Set(['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', TABLE.ttlAttribute]);

function stripKeys<T>(item: Record<string, unknown>): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(item)) {
    if (KEY_ATTRIBUTES.has(key)) continue;
    out[key] = value instanceof Set ? [...value] : value;
  }
  return out as T;
}
