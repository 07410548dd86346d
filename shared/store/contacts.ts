/**
 * Contacts: the customer record (ID-2) and every write that changes it. Each write that must
 * happen once is conditional; the running counters are atomic ADDs.
 *
 * Store details the domain does not see: hot-word counters live as one top-level attribute per
 * word (`hw_<word>`, so that one UpdateItem can ADD to any of them without a map having to exist
 * first); they are read back as `contact.hotWords`.
 */
import { DEFAULT_CUSTOMER_LEVEL, type Contact, type LeadSource, type MessageAnalysis } from '../domain/records.ts';
import { stripKeys, type Item, type TableClient } from './client.ts';
import { keys } from './keys.ts';

/** Contact attribute holding the running count of one hot word (atomic ADD per message). */
export const HOT_WORD_PREFIX = 'hw_';

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

export interface IdentityChangeFields {
  readonly phone?: string | undefined;
  readonly bsuid?: string | undefined;
  readonly previousPhone?: string | undefined;
  readonly previousBsuid?: string | undefined;
}

export interface StoredInsights {
  readonly segment: string;
  readonly activityScore: number;
  readonly priority: number;
  readonly tags: readonly string[];
  /** Set when the segment changed: when it did. */
  readonly segmentChangedAt?: number | undefined;
}

/** A stored contact item as the domain sees it. */
export function toContact(item: Item): Contact {
  const plain = stripKeys<Record<string, unknown>>(item);
  const hotWords: Record<string, number> = {};
  const contact: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(plain)) {
    if (name.startsWith(HOT_WORD_PREFIX) && typeof value === 'number') hotWords[name.slice(HOT_WORD_PREFIX.length)] = value;
    else contact[name] = value;
  }
  return { ...(contact as unknown as Contact), hotWords };
}

export class ContactStore {
  constructor(private readonly table: TableClient) {}

  async get(contactId: string): Promise<Contact | undefined> {
    const item = await this.table.get<Item>(keys.contact(contactId));
    return item ? toContact(item) : undefined;
  }

  /** Creates the contact if absent; fills identity fields it does not have yet. Idempotent. */
  async ensure(contactId: string, seed: ContactSeed, at: number): Promise<Contact> {
    const fields = seedFields(contactId, seed, at);
    const { attributes } = await this.table.update(keys.contact(contactId), {
      update: `SET updatedAt = :now, ${Object.keys(fields).map((f) => `#${f} = if_not_exists(#${f}, :${f})`).join(', ')}`,
      names: Object.fromEntries(Object.keys(fields).map((f) => [`#${f}`, f])),
      values: { ':now': at, ...Object.fromEntries(Object.entries(fields).map(([f, v]) => [`:${f}`, v])) },
      returnValues: 'ALL_NEW',
    });
    return toContact(attributes ?? {});
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
    const key = keys.contact(contactId);
    const first = await this.table.update(key, {
      update: update([...always, ...newer]),
      condition: 'attribute_not_exists(lastInboundAt) OR lastInboundAt <= :t',
      names,
      values,
    });
    if (first.applied) return;
    // An older message arriving late: count it, keep the newer profile and time.
    const { ':name': _name, ':username': _username, ...older } = values;
    await this.table.update(key, { update: update(always), names, values: older });
  }

  /** Sets the contact's current identities after a number or BSUID change; old ones are kept in history. */
  async applyIdentityChange(contactId: string, change: IdentityChangeFields, at: number): Promise<void> {
    const sets = ['updatedAt = :now'];
    const values: Record<string, unknown> = { ':now': at };
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
      values[':empty'] = [];
    }
    if (change.previousBsuid && change.previousBsuid !== change.bsuid) {
      sets.push('previousBsuids = list_append(if_not_exists(previousBsuids, :empty), :pb)');
      values[':pb'] = [change.previousBsuid];
      values[':empty'] = [];
    }
    // The list appends are guarded so a repeated change does not add the old identity twice.
    const guards: string[] = [];
    if (values[':phone']) guards.push('(attribute_not_exists(phone) OR phone <> :phone)');
    if (values[':bsuid']) guards.push('(attribute_not_exists(bsuid) OR bsuid <> :bsuid)');
    if (guards.length === 0) return;
    // A failed condition means the change is already applied.
    await this.table.update(keys.contact(contactId), {
      update: `SET ${sets.join(', ')}`,
      condition: `attribute_exists(pk) AND (${guards.join(' OR ')})`,
      values,
    });
  }

  /** Records that `loser` is the same customer as `winner`; both histories stay readable. */
  async recordMerge(loser: string, winner: string, at: number): Promise<void> {
    await this.table.update(keys.contact(loser), {
      update: 'SET mergedInto = :winner, updatedAt = :at',
      values: { ':winner': winner, ':at': at },
    });
    await this.table.update(keys.contact(winner), {
      update: 'ADD mergedFrom :loser SET updatedAt = :at',
      values: { ':loser': new Set([loser]), ':at': at },
    });
  }

  /** Outbound delivery facts on the contact: last outbound (sent) and last read time (TG-6). */
  async applyDeliveryStatus(contactId: string, status: string, at: number): Promise<void> {
    const field = status === 'read' ? 'lastReadAt' : status === 'sent' ? 'lastOutboundAt' : undefined;
    if (!field) return;
    await this.table.update(keys.contact(contactId), {
      update: `SET ${field} = :t`,
      condition: `attribute_exists(pk) AND (attribute_not_exists(${field}) OR ${field} < :t)`,
      values: { ':t': at },
    });
  }

  async setCrm(contactId: string, crm: { kind: string; id: string }, at: number): Promise<void> {
    await this.table.update(keys.contact(contactId), {
      update: 'SET crm = :crm',
      values: { ':crm': { ...crm, syncedAt: at } },
    });
  }

  /** Stores what the contact's history says now (segment, scores, tags). */
  async recordInsights(contactId: string, insights: StoredInsights, at: number): Promise<void> {
    const changed = insights.segmentChangedAt !== undefined;
    await this.table.update(keys.contact(contactId), {
      update: `SET #segment = :segment, activityScore = :activity, priority = :priority, insightsAt = :at${changed ? ', segmentAt = :changedAt' : ''}${insights.tags.length ? ' ADD tags :tags' : ''}`,
      condition: 'attribute_exists(pk)',
      names: { '#segment': 'segment' },
      values: {
        ':segment': insights.segment,
        ':activity': insights.activityScore,
        ':priority': insights.priority,
        ':at': at,
        ...(changed && { ':changedAt': insights.segmentChangedAt }),
        ...(insights.tags.length && { ':tags': new Set(insights.tags) }),
      },
    });
  }

  /** Every contact, page by page (a scan: for the nightly batch only, never on a request path). */
  async *all(): AsyncGenerator<Contact> {
    for await (const page of this.table.scanPages({ FilterExpression: 'sk = :profile', ExpressionAttributeValues: { ':profile': 'PROFILE' } })) {
      for (const item of page.items) yield toContact(item);
    }
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
