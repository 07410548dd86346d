/**
 * The outbox: one row per message we send, keyed by our own id (deterministic from the caller's
 * idempotency key), written before anything is sent. Its state only moves along
 *
 *   queued | deferred → sending → sent → delivered → read        (failed, unknown on the way)
 *   denied (never sent)
 *
 * and every move is one conditional UpdateItem, so the send is at most once: only a `queued` or
 * `deferred` row can be claimed (→ `sending`), and a row left `sending` (a crash between Meta's
 * answer and our record) is settled by the status webhook, which carries our id in
 * `biz_opaque_callback_data`, or marked `unknown` and alarmed after the settle time — never sent
 * again blindly.
 *
 * Rows that need attention later (queued, deferred, sending) carry a sparse work-index entry
 * (gsi2 `OUTBOX#<shard>` / `<due time>#<id>`); the sweep reads what is due. Terminal rows drop it.
 */
import { createHash } from 'node:crypto';
import type { MessageCategory, MessageOrigin } from '../domain/policy.ts';
import type { Address, OutboundContent } from '../whatsapp/outbound/channel.ts';
import { TABLE } from '../resources.ts';
import type { TableClient } from './client.ts';
import { keys } from './keys.ts';

export const OUTBOUND_STATES = ['queued', 'sending', 'sent', 'delivered', 'read', 'failed', 'denied', 'deferred', 'unknown'] as const;
export type OutboundState = (typeof OUTBOUND_STATES)[number];

export interface MessageCost {
  readonly amount: number;
  readonly currency: string;
  readonly category: string;
  readonly type: string;
  readonly rateCardVersion?: string | undefined;
}

export interface OutboundRow {
  readonly id: string;
  /** sha256 of the request as first accepted: the same key with another body is a conflict. */
  readonly requestHash: string;
  readonly contactId: string;
  /** The business number it goes from (IN-6). */
  readonly phoneNumberId: string;
  readonly to: Address;
  readonly category: MessageCategory;
  readonly origin: MessageOrigin;
  readonly agentId?: string | undefined;
  /** The automation rule that sent it (automations), when one did. */
  readonly rule?: string | undefined;
  /** The policy rule that denied or deferred it (CP-1 …). */
  readonly policyRule?: string | undefined;
  readonly content: OutboundContent;
  /** One line for people, the CRM and the conversation view. */
  readonly summary: string;
  readonly eventKey?: string | undefined;
  readonly replyTo?: string | undefined;
  /** The CRM record of a reply written there (SY-3): its status is written back to it, and it is not logged in the CRM again. */
  readonly crmReply?: { readonly kind: string; readonly replyId: string; readonly contactCrmId: string } | undefined;
  readonly state: OutboundState;
  /** Why it was denied or deferred (the policy's rule and words), or why it failed. */
  readonly reason?: string | undefined;
  readonly notBefore?: number | undefined;
  /** Calls to Meta made for it (AU-7: at most 3). */
  readonly attempts: number;
  readonly wamid?: string | undefined;
  readonly error?: { readonly code: number; readonly title: string } | undefined;
  readonly pricing?: { readonly billable?: boolean | undefined; readonly pricingModel?: string | undefined; readonly category?: string | undefined; readonly type?: string | undefined } | undefined;
  readonly cost?: MessageCost | undefined;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly sendingAt?: number | undefined;
  readonly sentAt?: number | undefined;
  readonly deliveredAt?: number | undefined;
  readonly readAt?: number | undefined;
  readonly failedAt?: number | undefined;
  /** When the message row of the conversation was written for it (the send is then on record). */
  readonly recordedAt?: number | undefined;
  /** When what a failed status means for the customer was applied (once). */
  readonly effectsAt?: number | undefined;
}

/** Our outbound ids: `ob_` + 22 characters, so that a status's callback data is recognisably ours. */
export const OUTBOUND_ID = /^ob_[A-Za-z0-9_-]{22}$/;

/** Our id for a caller's idempotency key: the same key always names the same message. */
export function outboundIdFor(idempotencyKey: string): string {
  return `ob_${createHash('sha256').update(`outbound#${idempotencyKey}`).digest('base64url').slice(0, 22)}`;
}

const OUTBOX_SHARDS = 4;
const RANK: Partial<Record<OutboundState, number>> = { sent: 1, delivered: 2, read: 3, failed: 4 };
const WORK_STATES = new Set<OutboundState>(['queued', 'deferred', 'sending']);

const shardOf = (id: string) => createHash('sha256').update(id).digest()[0]! % OUTBOX_SHARDS;
const workEntry = (id: string, dueAt: number) => ({ gsi2pk: `OUTBOX#${shardOf(id)}`, gsi2sk: `${new Date(dueAt).toISOString()}#${id}` });

export type StatusName = 'sent' | 'delivered' | 'read' | 'failed';

/**
 * What the webhook needs of the outbox: a row, and a status moving it forward. The send side's
 * writes are in {@link OutboxStore}, so the webhook's bundle carries none of them.
 */
export class OutboxStatusStore {
  constructor(protected readonly table: TableClient) {}

  get(id: string): Promise<OutboundRow | undefined> {
    return this.table.get<OutboundRow>(keys.outbound(id));
  }

  /**
   * A status webhook for one of our messages (found by its callback data). The state moves
   * forward only (an older status arriving late changes nothing but its own time); a status for a
   * row still `sending` or `unknown` settles it, with the wamid. Returns the row as it is now.
   */
  async applyStatus(
    id: string,
    status: { name: StatusName; wamid: string; at: number; error?: OutboundRow['error']; pricing?: OutboundRow['pricing']; cost?: MessageCost | undefined },
    now: number,
  ): Promise<{ advanced: boolean; row: OutboundRow | undefined }> {
    const key = keys.outbound(id);
    const timeField = `${status.name}At`;
    const values: Record<string, unknown> = { ':at': status.at, ':now': now, ':wamid': status.wamid };
    const sets = [`#time = if_not_exists(#time, :at)`, 'wamid = if_not_exists(wamid, :wamid)', 'updatedAt = :now'];
    const names: Record<string, string> = { '#time': timeField };
    if (status.pricing) {
      sets.push('pricing = :pricing');
      values[':pricing'] = status.pricing;
    }
    if (status.cost) {
      sets.push('cost = :cost');
      values[':cost'] = status.cost;
    }
    if (status.error) {
      sets.push('#error = :error');
      values[':error'] = status.error;
      names['#error'] = 'error';
    }
    // In order (sent → delivered → read), one write moves the state and records the time.
    const moved = await this.table.update(key, {
      update: `SET ${[...sets, '#state = :state', 'statusRank = :rank'].join(', ')} REMOVE gsi2pk, gsi2sk`,
      // `<=`: the status our own record already implies (`sent` after Meta's answer) lands in this one write too.
      condition: 'attribute_exists(pk) AND (attribute_not_exists(statusRank) OR statusRank <= :rank) AND #state <> :denied',
      names: { ...names, '#state': 'state' },
      values: { ...values, ':state': status.name, ':rank': RANK[status.name], ':denied': 'denied' },
      returnValues: 'ALL_NEW',
    });
    if (moved.applied) return { advanced: true, row: strip(moved.attributes) };
    // An older status arriving late (or a row that is not ours): its time only.
    const late = await this.table.update(key, { update: `SET ${sets.join(', ')}`, condition: 'attribute_exists(pk)', names, values, returnValues: 'ALL_NEW' });
    return { advanced: false, row: late.applied ? strip(late.attributes) : undefined };
  }

}

export class OutboxStore extends OutboxStatusStore {

  /**
   * Writes a new row once. `due` is when the sweep should look at it (queued and deferred rows).
   * For an id already there, the stored row.
   */
  async create(row: OutboundRow, dueAt?: number): Promise<{ created: true } | { created: false; existing: OutboundRow }> {
    const history = { gsi1pk: keys.historyPartition(row.contactId), gsi1sk: keys.historySort(row.createdAt, row.id) };
    const created = await this.table.put(
      {
        ...keys.outbound(row.id),
        ...row,
        ...history,
        ...(WORK_STATES.has(row.state) && workEntry(row.id, dueAt ?? row.notBefore ?? row.createdAt)),
        expiresAt: this.table.expiresAt(row.createdAt),
      },
      'attribute_not_exists(pk)',
    );
    if (created) return { created: true };
    const existing = await this.get(row.id);
    if (!existing) throw new Error(`outbound ${row.id} reported as existing but not found`);
    return { created: false, existing };
  }

  /**
   * queued|deferred → sending, one attempt more. Undefined when someone else has it (or it is
   * done). `dueOnly`: only a queued row that is due (the send function's first try, no read).
   */
  async claim(id: string, now: number, settleMs: number, options: { dueOnly?: boolean } = {}): Promise<OutboundRow | undefined> {
    const work = workEntry(id, now + settleMs);
    const result = await this.table.update(keys.outbound(id), {
      update: 'SET #state = :sending, sendingAt = :now, updatedAt = :now, gsi2pk = :wpk, gsi2sk = :wsk ADD attempts :one',
      condition: options.dueOnly ? '#state = :queued AND (attribute_not_exists(notBefore) OR notBefore <= :now)' : '#state IN (:queued, :deferred)',
      names: { '#state': 'state' },
      values: { ':sending': 'sending', ':queued': 'queued', ...(!options.dueOnly && { ':deferred': 'deferred' }), ':now': now, ':one': 1, ':wpk': work.gsi2pk, ':wsk': work.gsi2sk },
      returnValues: 'ALL_NEW',
    });
    return result.applied ? strip(result.attributes) : undefined;
  }

  /**
   * Meta accepted it: the wamid is known, and the message is already in the conversation
   * (`recordedAt`: the send function writes the message row first). From `sending` or `unknown`
   * (settled late); a status webhook that got there first keeps its further state.
   */
  async recordAccepted(id: string, wamid: string, now: number): Promise<boolean> {
    const moved = await this.table.update(keys.outbound(id), {
      update: 'SET #state = :sent, wamid = :wamid, sentAt = if_not_exists(sentAt, :now), recordedAt = :now, updatedAt = :now, statusRank = :rank REMOVE gsi2pk, gsi2sk',
      condition: '#state IN (:sending, :unknown)',
      names: { '#state': 'state' },
      values: { ':sent': 'sent', ':wamid': wamid, ':now': now, ':sending': 'sending', ':unknown': 'unknown', ':rank': RANK.sent },
    });
    if (moved.applied) return true;
    await this.table.update(keys.outbound(id), { update: 'SET recordedAt = if_not_exists(recordedAt, :now), wamid = if_not_exists(wamid, :wamid)', condition: 'attribute_exists(pk)', values: { ':now': now, ':wamid': wamid } });
    return false;
  }

  /**
   * Back to the queue (a retryable failure, a deferral at send time): due again at `notBefore`.
   * `unclaimed`: the claim is given back before any call to Meta, so it was no attempt.
   */
  async requeue(id: string, input: { state: 'queued' | 'deferred'; notBefore: number; reason?: string | undefined; error?: OutboundRow['error']; unclaimed?: boolean }, now: number): Promise<boolean> {
    const work = workEntry(id, input.notBefore);
    const values: Record<string, unknown> = { ':state': input.state, ':nb': input.notBefore, ':now': now, ':sending': 'sending', ':wpk': work.gsi2pk, ':wsk': work.gsi2sk };
    const sets = ['#state = :state', 'notBefore = :nb', 'updatedAt = :now', 'gsi2pk = :wpk', 'gsi2sk = :wsk'];
    if (input.reason) {
      sets.push('reason = :reason');
      values[':reason'] = input.reason;
    }
    if (input.error) {
      sets.push('#error = :error');
      values[':error'] = input.error;
    }
    if (input.unclaimed) values[':minus'] = -1;
    const result = await this.table.update(keys.outbound(id), {
      update: `SET ${sets.join(', ')}${input.unclaimed ? ' ADD attempts :minus' : ''}`,
      condition: '#state IN (:sending, :queued, :deferred)',
      names: { '#state': 'state', ...(input.error && { '#error': 'error' }) },
      values: { ...values, ':queued': 'queued', ':deferred': 'deferred' },
    });
    return result.applied;
  }

  /** A deferred row decided again before any send: queued (allowed), denied, or deferred further. */
  async redecide(id: string, input: { state: 'queued' | 'deferred' | 'denied'; notBefore?: number | undefined; reason?: string | undefined }, now: number): Promise<boolean> {
    const values: Record<string, unknown> = { ':state': input.state, ':now': now, ':deferred': 'deferred' };
    const sets = ['#state = :state', 'updatedAt = :now'];
    const removes: string[] = [];
    if (input.reason !== undefined) {
      sets.push('reason = :reason');
      values[':reason'] = input.reason;
    }
    if (input.notBefore !== undefined) {
      sets.push('notBefore = :nb');
      values[':nb'] = input.notBefore;
    }
    if (input.state === 'denied') removes.push('gsi2pk', 'gsi2sk');
    // Allowed now: the deferral's reason and time go with it.
    if (input.state === 'queued') removes.push(...(input.reason === undefined ? ['reason'] : []), ...(input.notBefore === undefined ? ['notBefore'] : []));
    else {
      const work = workEntry(id, input.notBefore ?? now);
      sets.push('gsi2pk = :wpk', 'gsi2sk = :wsk');
      values[':wpk'] = work.gsi2pk;
      values[':wsk'] = work.gsi2sk;
    }
    const result = await this.table.update(keys.outbound(id), {
      update: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
      condition: '#state = :deferred',
      names: { '#state': 'state' },
      values,
    });
    return result.applied;
  }

  /** A final failure (not retried): Meta's code and title, or our reason. */
  async recordFailed(id: string, error: { code: number; title: string }, now: number, reason?: string): Promise<boolean> {
    const result = await this.table.update(keys.outbound(id), {
      update: `SET #state = :failed, #error = :error, failedAt = if_not_exists(failedAt, :now), updatedAt = :now, statusRank = :rank${reason ? ', reason = :reason' : ''} REMOVE gsi2pk, gsi2sk`,
      condition: '#state IN (:sending, :queued, :deferred)',
      names: { '#state': 'state', '#error': 'error' },
      values: { ':failed': 'failed', ':error': error, ':now': now, ':rank': RANK.failed, ':sending': 'sending', ':queued': 'queued', ':deferred': 'deferred', ...(reason && { ':reason': reason }) },
    });
    return result.applied;
  }

  /** The effects of a failed status are applied (they are applied once per message). */
  async markEffects(id: string, now: number): Promise<void> {
    await this.table.update(keys.outbound(id), { update: 'SET effectsAt = :now', condition: 'attribute_exists(pk)', values: { ':now': now } });
  }

  /** A send whose fate stayed unknown past the settle time: `unknown`, for a person (alarmed). */
  async markUnknown(id: string, sendingBefore: number, now: number): Promise<boolean> {
    const result = await this.table.update(keys.outbound(id), {
      update: 'SET #state = :unknown, updatedAt = :now, reason = :reason REMOVE gsi2pk, gsi2sk',
      condition: '#state = :sending AND sendingAt < :cutoff',
      names: { '#state': 'state' },
      values: { ':unknown': 'unknown', ':sending': 'sending', ':cutoff': sendingBefore, ':now': now, ':reason': 'no answer from Meta and no status webhook within the settle time; not sent again' },
    });
    return result.applied;
  }

  /** Rows whose work is due (queued or deferred to send, sending to settle), oldest first, per shard. */
  async due(now: number, limit = 500): Promise<OutboundRow[]> {
    const cutoff = new Date(now).toISOString();
    const rows: OutboundRow[] = [];
    for (let shard = 0; shard < OUTBOX_SHARDS && rows.length < limit; shard++) {
      for await (const item of this.table.query({
        IndexName: TABLE.indexes.pendingSync.name,
        KeyConditionExpression: 'gsi2pk = :pk AND gsi2sk < :cutoff',
        ExpressionAttributeValues: { ':pk': `OUTBOX#${shard}`, ':cutoff': cutoff },
      })) {
        // The index is read eventually consistent: whoever acts on a row does so conditionally.
        const row = strip(item);
        if (row && WORK_STATES.has(row.state)) rows.push(row);
        if (rows.length >= limit) break;
      }
    }
    return rows;
  }
}

function strip(item: Record<string, unknown> | undefined): OutboundRow | undefined {
  if (!item) return undefined;
  const { pk: _pk, sk: _sk, gsi1pk: _a, gsi1sk: _b, gsi2pk: _c, gsi2sk: _d, expiresAt: _e, statusRank: _f, ...rest } = item;
  return rest as unknown as OutboundRow;
}
