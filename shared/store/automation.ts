/**
 * What the automations keep (AU-*, AG-1, ID-7, RP-13): facts on the contact item (language,
 * address, last order, store visits, coupon, rating, agent, the current conversation), parcels
 * watched for proactive updates, the round-robin turn per language, and the marks that make
 * an effect happen once. Each effect and its "done" mark are one conditional write (dynalite has
 * no transactions): a repeated event finds the mark and changes nothing.
 */
import type { ContactAddress, ContactOrder } from '../domain/records.ts';
import type { TableClient } from './client.ts';
import { keys } from './keys.ts';

/** How many recent order and visit times a contact keeps for the time-window rules. */
const RECENT_TIMES = 20;
/** Effect marks on the contact (by key) are kept this long, then pruned. */
const MARK_DAYS = 30;
const DAY_MS = 86_400_000;

export interface Conversation {
  /** `<contactId>:<startedAt>` */
  readonly id: string;
  readonly startedAt: number;
  /** The conversation's last customer message (it ends after 24 h without one). */
  readonly lastMessageAt?: number;
  readonly agentId?: string;
  readonly handoverAt?: number;
  readonly resolvedAt?: number;
  readonly rating?: number;
}

export interface Parcel {
  readonly trackingNumber: string;
  readonly contactId: string;
  readonly orderId?: string;
  readonly carrier?: string;
  readonly state?: string;
  readonly updatedAt: number;
}

export class AutomationStore {
  constructor(private readonly table: TableClient) {}

  /**
   * Runs `effect` (a SET … expression on the contact) once per `mark`, in the same conditional
   * write as the mark; false when the mark was there (it had run) or the contact does not exist.
   * The first mark of a contact creates the marks map: two writers racing for it both end in a
   * definite answer (the loser writes into the map the winner made).
   */
  async once(contactId: string, mark: string, at: number, effect: { update?: string; names?: Record<string, string>; values?: Record<string, unknown>; condition?: string } = {}): Promise<boolean> {
    const names = { '#marks': 'automationMarks', ...effect.names };
    const extra = effect.condition ? ` AND (${effect.condition})` : '';
    for (let round = 0; round < 5; round++) {
      const into = await this.table.update(keys.contact(contactId), {
        update: `SET #marks.#mark = :at${effect.update ? `, ${effect.update}` : ''}`,
        condition: `attribute_exists(pk) AND attribute_exists(#marks) AND attribute_not_exists(#marks.#mark)${extra}`,
        names: { ...names, '#mark': mark },
        values: { ':at': at, ...effect.values },
      });
      if (into.applied) return true;
      const created = await this.table.update(keys.contact(contactId), {
        update: `SET #marks = :first${effect.update ? `, ${effect.update}` : ''}`,
        condition: `attribute_exists(pk) AND attribute_not_exists(#marks)${extra}`,
        names,
        values: { ':first': { [mark]: at }, ...(effect.update?.includes(':at') && { ':at': at }), ...effect.values },
      });
      if (created.applied) return true;
      // Neither: the mark is there, the contact is not, or the map appeared meanwhile (go again).
      const item = await this.table.get<{ automationMarks?: Record<string, number> }>(keys.contact(contactId), ['automationMarks', 'contactId']);
      if (!item || item.automationMarks?.[mark] !== undefined) return false;
      if (effect.condition) return false; // the caller's own condition did not hold
    }
    throw new Error(`automation mark ${mark} of ${contactId} could not be written`);
  }

  /** Whether an effect's mark is there. */
  async done(contactId: string, mark: string): Promise<boolean> {
    const item = await this.table.get<{ automationMarks?: Record<string, number> }>(keys.contact(contactId), ['automationMarks']);
    return item?.automationMarks?.[mark] !== undefined;
  }

  /** Drops marks older than their retention (called now and then; a mark only prevents repeats of recent events). */
  async pruneMarks(contactId: string, marks: Readonly<Record<string, number>> | undefined, now: number): Promise<void> {
    const old = Object.entries(marks ?? {}).filter(([, at]) => now - at > MARK_DAYS * DAY_MS).map(([mark]) => mark).slice(0, 50);
    if (!old.length) return;
    await this.table.update(keys.contact(contactId), {
      update: `REMOVE ${old.map((_, i) => `#marks.#m${i}`).join(', ')}`,
      names: { '#marks': 'automationMarks', ...Object.fromEntries(old.map((m, i) => [`#m${i}`, m])) },
    });
  }

  /** The customer's language from their latest message (by the customer's time). */
  async setLanguage(contactId: string, language: string, at: number): Promise<void> {
    await this.table.update(keys.contact(contactId), {
      update: 'SET #language = :l, languageAt = :at',
      condition: 'attribute_exists(pk) AND (attribute_not_exists(languageAt) OR languageAt < :at)',
      names: { '#language': 'language' },
      values: { ':l': language, ':at': at },
    });
  }

  async setFirstName(contactId: string, firstName: string): Promise<void> {
    await this.table.update(keys.contact(contactId), { update: 'SET firstName = :f', condition: 'attribute_exists(pk)', values: { ':f': firstName } });
  }

  /** The address, when newer than the one kept (ID-7). */
  async setAddress(contactId: string, address: ContactAddress): Promise<boolean> {
    const { applied } = await this.table.update(keys.contact(contactId), {
      update: 'SET address = :a',
      condition: 'attribute_exists(pk) AND (attribute_not_exists(address) OR address.#at < :at)',
      names: { '#at': 'at' },
      values: { ':a': { ...address }, ':at': address.at },
    });
    return applied;
  }

  /**
   * An order (once per event id): appended to the recent orders (atomic `list_append`, so two
   * orders at the same moment both stay), its time to the order times; the newest is the last order.
   */
  async recordOrder(contactId: string, order: ContactOrder, eventId: string): Promise<boolean> {
    const recent = { orderId: order.orderId, placedAt: order.placedAt, skus: order.skus ?? [] };
    const applied = await this.once(contactId, eventId, order.placedAt, {
      update: 'lastOrder = if_not_exists(lastOrder, :o), recentOrders = list_append(if_not_exists(recentOrders, :none), :recent), orderTimes = list_append(if_not_exists(orderTimes, :none), :time)',
      values: { ':o': { ...order }, ':recent': [recent], ':time': [order.placedAt], ':none': [] },
    });
    if (!applied) return false;
    await this.table.update(keys.contact(contactId), {
      update: 'SET lastOrder = :o',
      condition: 'lastOrder.placedAt < :t',
      values: { ':o': { ...order }, ':t': order.placedAt },
    });
    await this.trim(contactId, ['recentOrders', 'orderTimes']);
    return true;
  }

  /** A store visit (once per event id), appended like an order. */
  async recordStoreVisit(contactId: string, at: number, eventId: string): Promise<boolean> {
    const applied = await this.once(contactId, eventId, at, { update: 'storeVisitTimes = list_append(if_not_exists(storeVisitTimes, :none), :time)', values: { ':time': [at], ':none': [] } });
    if (!applied) return false;
    await this.table.update(keys.contact(contactId), {
      update: 'SET lastStoreVisitAt = :t',
      condition: 'attribute_not_exists(lastStoreVisitAt) OR lastStoreVisitAt < :t',
      values: { ':t': at },
    });
    await this.trim(contactId, ['storeVisitTimes']);
    return true;
  }

  /** Keeps the newest {@link RECENT_TIMES} of each list (the oldest removed; a no-op while short). */
  private async trim(contactId: string, lists: readonly string[]): Promise<void> {
    const item = await this.table.get<Record<string, unknown[] | undefined>>(keys.contact(contactId), [...lists]);
    for (const list of lists) {
      const length = item?.[list]?.length ?? 0;
      if (length <= RECENT_TIMES * 2) continue;
      const drop = length - RECENT_TIMES;
      // Conditional on the length read: an append in between makes this a no-op, trimmed next time.
      await this.table.update(keys.contact(contactId), {
        update: `REMOVE ${Array.from({ length: drop }, (_, i) => `#l[${i}]`).join(', ')}`,
        condition: 'size(#l) = :n',
        names: { '#l': list },
        values: { ':n': length },
      });
    }
  }

  /** The coupon a rule gave (once per grant key): recorded on the contact. */
  async grantCoupon(contactId: string, key: string, coupon: { code: string; rule: string; value: string; issuedAt: number }): Promise<boolean> {
    return this.once(contactId, `coupon:${key}`, coupon.issuedAt, { update: 'lastCoupon = :c', values: { ':c': coupon } });
  }

  /**
   * A rating 1–5 for a conversation (once per conversation): on the contact, and on the
   * conversation when it is still the contact's current one (a rating of an older one stays on
   * the contact only). False when it was recorded before.
   */
  async recordRating(contactId: string, conversationId: string, score: number, at: number): Promise<boolean> {
    const mark = `rating:${conversationId}`;
    const satisfaction = { ':s': { score, at, conversationId } };
    const onConversation = await this.once(contactId, mark, at, {
      update: 'satisfaction = :s, #conv.#rating = :score',
      condition: '#conv.#id = :cid',
      names: { '#conv': 'conversation', '#rating': 'rating', '#id': 'id' },
      values: { ...satisfaction, ':score': score, ':cid': conversationId },
    });
    if (onConversation) return true;
    if (await this.done(contactId, mark)) return false;
    return this.once(contactId, mark, at, { update: 'satisfaction = :s', values: satisfaction });
  }

  /**
   * The conversation a customer's message belongs to: the open one (not resolved, and its last
   * customer message less than `idleMs` before), else a new one from `at`. Returns whether this
   * message started it. The open conversation's last message time moves forward (one write; no
   * history read).
   */
  async openConversation(contactId: string, at: number, current: Conversation | undefined, idleMs: number): Promise<{ conversation: Conversation; started: boolean }> {
    if (current && current.startedAt === at) return { conversation: current, started: true }; // a repeat of the message that started it
    if (current && current.startedAt > at) return { conversation: current, started: false }; // a late message of an earlier conversation
    const last = current?.lastMessageAt ?? current?.startedAt;
    if (current && current.resolvedAt === undefined && last !== undefined && at - last < idleMs) {
      await this.table.update(keys.contact(contactId), {
        update: 'SET conversation.lastMessageAt = :at',
        condition: 'conversation.id = :id AND (attribute_not_exists(conversation.lastMessageAt) OR conversation.lastMessageAt < :at)',
        values: { ':at': at, ':id': current.id },
      });
      return { conversation: current, started: false };
    }
    const next: Conversation = { id: `${contactId}:${at}`, startedAt: at, lastMessageAt: at };
    const { applied } = await this.table.update(keys.contact(contactId), {
      // A new conversation waits for an answer from its first message.
      update: 'SET conversation = :c, waitingSince = :at',
      condition: 'attribute_exists(pk) AND (attribute_not_exists(conversation) OR conversation.startedAt < :at)',
      values: { ':c': next, ':at': at },
    });
    return applied ? { conversation: next, started: true } : { conversation: current ?? next, started: false };
  }

  /** Ends the conversation (idempotent): its resolved time, or the one recorded before. */
  async resolveConversation(contactId: string, at: number): Promise<Conversation | undefined> {
    const { applied, attributes } = await this.table.update(keys.contact(contactId), {
      update: 'SET conversation.resolvedAt = :at REMOVE waitingSince',
      condition: 'attribute_exists(conversation) AND attribute_not_exists(conversation.resolvedAt)',
      values: { ':at': at },
      returnValues: 'ALL_NEW',
    });
    if (applied) return attributes?.['conversation'] as Conversation;
    const item = await this.table.get<{ conversation?: Conversation }>(keys.contact(contactId), ['conversation']);
    return item?.conversation;
  }

  /** Assigns the conversation to an agent (by the hand-over's key, once; or by a person, always). */
  async assign(contactId: string, agentId: string, at: number, key?: string): Promise<boolean> {
    const effect = { update: 'agentId = :a, assignedAt = :at', values: { ':a': agentId } };
    if (key) return this.once(contactId, `assign:${key}`, at, effect);
    const { applied } = await this.table.update(keys.contact(contactId), {
      update: 'SET agentId = :a, assignedAt = :at, conversation.agentId = :a',
      condition: 'attribute_exists(pk) AND attribute_exists(conversation)',
      values: { ':a': agentId, ':at': at },
    });
    if (applied) return true;
    const plain = await this.table.update(keys.contact(contactId), { update: 'SET agentId = :a, assignedAt = :at', condition: 'attribute_exists(pk)', values: { ':a': agentId, ':at': at } });
    return plain.applied;
  }

  /** Marks the conversation handed over to a person. */
  async markHandover(contactId: string, agentId: string | undefined, at: number): Promise<void> {
    await this.table
      .update(keys.contact(contactId), {
        update: `SET conversation.handoverAt = :at${agentId ? ', conversation.agentId = :a' : ''}`,
        condition: 'attribute_exists(conversation)',
        values: { ':at': at, ...(agentId && { ':a': agentId }) },
      })
      .catch(() => undefined);
  }

  /** Pages of the (unmerged) contacts in a segment, from `start` (a page's `next`): the weekly follow-up's scan. */
  contactsInSegment(segment: string, start?: Record<string, unknown>): AsyncGenerator<{ items: Record<string, unknown>[]; next: Record<string, unknown> | undefined }> {
    return this.table.scanPages(
      { FilterExpression: 'sk = :profile AND #segment = :segment AND attribute_not_exists(mergedInto)', ExpressionAttributeNames: { '#segment': 'segment' }, ExpressionAttributeValues: { ':profile': 'PROFILE', ':segment': segment } },
      start,
    );
  }

  /** The next round-robin turn of a language (atomic ADD). */
  async nextTurn(language: string): Promise<number> {
    const { attributes } = await this.table.update(keys.roundRobin(language), { update: 'ADD turn :one', values: { ':one': 1 }, returnValues: 'UPDATED_NEW' });
    return Number(attributes?.['turn'] ?? 1) - 1;
  }

  /** A parcel watched for updates (AU-2b): which customer it belongs to; its courier state is kept as it is. */
  async watchParcel(parcel: Omit<Parcel, 'updatedAt' | 'state'> & { readonly watchedAt: number }): Promise<void> {
    await this.table.update(keys.parcel(parcel.trackingNumber), {
      update: `SET trackingNumber = :n, contactId = :c, updatedAt = if_not_exists(updatedAt, :zero), expiresAt = :exp${parcel.orderId ? ', orderId = :o' : ''}${parcel.carrier ? ', carrier = :carrier' : ''}`,
      values: {
        ':n': parcel.trackingNumber,
        ':c': parcel.contactId,
        ':zero': 0,
        ':exp': this.table.expiresAt(parcel.watchedAt),
        ...(parcel.orderId && { ':o': parcel.orderId }),
        ...(parcel.carrier && { ':carrier': parcel.carrier }),
      },
    });
  }

  async parcel(trackingNumber: string): Promise<Parcel | undefined> {
    return this.table.get<Parcel>(keys.parcel(trackingNumber));
  }

  /** The parcel's state when newer than the one kept; false for an old or repeated update. */
  async updateParcel(trackingNumber: string, state: string, at: number): Promise<boolean> {
    const { applied } = await this.table.update(keys.parcel(trackingNumber), {
      update: 'SET #state = :s, updatedAt = :at',
      condition: 'attribute_exists(pk) AND (updatedAt < :at OR (updatedAt = :at AND #state <> :s))',
      names: { '#state': 'state' },
      values: { ':s': state, ':at': at },
    });
    return applied;
  }
}
