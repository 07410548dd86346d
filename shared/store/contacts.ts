/**
 * Contacts: the customer record (ID-2) and every write that changes it. Each write that must
 * happen once is conditional; the running counters are atomic ADDs.
 *
 * Store details the domain does not see: hot-word counters live as one top-level attribute per
 * word (`hw_<word>`, so that one UpdateItem can ADD to any of them without a map having to exist
 * first); they are read back as `contact.hotWords`.
 */
import { createHash } from 'node:crypto';
import type { Consent, ConsentPurpose } from '../domain/consent.ts';
import { DEFAULT_CUSTOMER_LEVEL, type Contact, type CrmLink, type LeadSource, type MessageAnalysis } from '../domain/records.ts';
import { stripKeys, type Item, type TableClient } from './client.ts';
import { keys } from './keys.ts';

/** Contact attribute holding the running count of one hot word (atomic ADD per message). */
export const HOT_WORD_PREFIX = 'hw_';
/** A contact's record in one CRM: `crm_<kind>` = { id, syncedAt } (ids kept per CRM kind). */
export const CRM_LINK_PREFIX = 'crm_';
/** Emoji counters, one attribute per emoji (`em_👍`), like the hot words. */
export const EMOJI_PREFIX = 'em_';

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

/** One inbound message's effect on its contact. */
export interface InboundEffect {
  readonly wamid: string;
  /** When the message was first stored (its row's `receivedAt`): dates the applied mark. */
  readonly receivedAt: number;
  readonly sentAt: number;
  readonly phoneNumberId: string;
  readonly profileName?: string | undefined;
  readonly username?: string | undefined;
  /** The message's analysis: its tags, hot words and sentiment add up on the contact. */
  readonly analysis?: MessageAnalysis | undefined;
  /** The message came from a click-to-WhatsApp ad. */
  readonly referral?: boolean | undefined;
}

/** Contact attribute (string set) with a mark per message whose effects it holds. */
export const APPLIED_ATTRIBUTE = 'appliedMessages';

/**
 * Marks are kept for 8 days, longer than Meta retries a delivery (7 days): a redelivery always
 * finds its mark. Older marks are pruned by the write that finds them.
 */
export const APPLIED_MARK_DAYS = 8;

/** Messages folded into one contact write at most (expression size stays well under 4 KB). */
export const MAX_EFFECTS_PER_WRITE = 20;

const DAY_MS = 86_400_000;
/** Merge chains are short (each merge points at an older contact); a longer one is a data error. */
const MAX_MERGE_HOPS = 5;

/**
 * The applied mark of a message: the UTC day it was first stored and 96 bits of its wamid's
 * hash. The day makes old marks recognisable for pruning; the hash keeps the mark 25 bytes
 * whatever the wamid's length.
 */
export function appliedMark(wamid: string, receivedAt: number): string {
  const day = new Date(receivedAt).toISOString().slice(0, 10).replaceAll('-', '');
  return `${day}#${createHash('sha256').update(wamid).digest('base64url').slice(0, 16)}`;
}

function markDay(mark: string): number {
  const day = mark.slice(0, 8);
  return Date.UTC(Number(day.slice(0, 4)), Number(day.slice(4, 6)) - 1, Number(day.slice(6, 8)));
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

/** Contact attribute holding the consent of one purpose (a map: state, at, source, wamid). */
export const CONSENT_PREFIX = 'consent_';

/** A stored contact item as the domain sees it. */
export function toContact(item: Item): Contact {
  const plain = stripKeys<Record<string, unknown>>(item);
  const hotWords: Record<string, number> = {};
  const emoji: Record<string, number> = {};
  const crmIds: Record<string, CrmLink> = {};
  // Written before ids were kept per CRM: one `crm` = { kind, id, syncedAt }.
  let legacyCrm: (CrmLink & { kind: string }) | undefined;
  const consent: Record<string, Consent> = {};
  const contact: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(plain)) {
    if (name.startsWith(HOT_WORD_PREFIX) && typeof value === 'number') hotWords[name.slice(HOT_WORD_PREFIX.length)] = value;
    else if (name.startsWith(EMOJI_PREFIX) && typeof value === 'number') emoji[name.slice(EMOJI_PREFIX.length)] = value;
    else if (name.startsWith(CRM_LINK_PREFIX) && value && typeof value === 'object') crmIds[name.slice(CRM_LINK_PREFIX.length)] = value as CrmLink;
    else if (name === 'crm' && value && typeof value === 'object') legacyCrm = value as CrmLink & { kind: string };
    else if (name.startsWith(CONSENT_PREFIX) && value && typeof value === 'object') consent[name.slice(CONSENT_PREFIX.length)] = value as Consent;
    else contact[name] = value;
  }
  if (legacyCrm && !crmIds[legacyCrm.kind]) crmIds[legacyCrm.kind] = { id: legacyCrm.id, syncedAt: legacyCrm.syncedAt };
  return {
    ...(contact as unknown as Contact),
    hotWords,
    ...(Object.keys(emoji).length && { emoji }),
    ...(Object.keys(crmIds).length && { crmIds }),
    ...(Object.keys(consent).length && { consent }),
  };
}

export class ContactStore {
  constructor(private readonly table: TableClient) {}

  async get(contactId: string): Promise<Contact | undefined> {
    const item = await this.table.get<Item>(keys.contact(contactId));
    return item ? toContact(item) : undefined;
  }

  /** The contact as it is now: a contact merged into another leads to the one it became (a few hops at most). */
  async current(contactId: string): Promise<Contact | undefined> {
    let contact = await this.get(contactId);
    for (let hop = 0; contact?.mergedInto && hop < MAX_MERGE_HOPS; hop++) contact = await this.get(contact.mergedInto);
    return contact;
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
   * Applies inbound messages to their contact, each exactly once: counters, hot words,
   * sentiment and tags (ADD), first/last inbound time, accounts, and the profile as of the
   * newest message. The effect and its "applied" mark are one conditional UpdateItem: the write
   * adds every message's mark (`appliedMessages`) and holds only if none of them is there yet,
   * so a redelivery after any crash — before, during or after this write — can never count a
   * message twice. The contact's base fields (`seed`) are set if absent, so a contact whose first
   * delivery died before creating it is completed here.
   *
   * `known` says the messages were stored before (a redelivery): their contact is read first,
   * so a repeat whose effects are there costs a read, not a refused write.
   */
  async applyInbound(contactId: string, effects: readonly InboundEffect[], seed: ContactSeed, options: { known?: boolean; now?: number } = {}): Promise<void> {
    let pending = [...effects];
    if (options.known && pending.length) {
      const stored = await this.table.get<{ appliedMessages?: string[] }>(keys.contact(contactId), [APPLIED_ATTRIBUTE]);
      const marks = new Set(stored?.appliedMessages ?? []);
      pending = pending.filter((e) => !marks.has(appliedMark(e.wamid, e.receivedAt)));
    }
    for (let i = 0; i < pending.length; i += MAX_EFFECTS_PER_WRITE) {
      await this.applyOnce(contactId, pending.slice(i, i + MAX_EFFECTS_PER_WRITE), seed, options.now ?? Date.now());
    }
  }

  private async applyOnce(contactId: string, effects: readonly InboundEffect[], seed: ContactSeed, now: number): Promise<void> {
    if (effects.length === 0) return;
    const key = keys.contact(contactId);
    const write = inboundWrite(contactId, effects, seed, now);
    // Newest first: the profile and last-inbound time move forward only.
    let result = await this.table.update(key, { ...write.newer, returnValues: 'UPDATED_NEW' });
    // Refused: older than what the contact holds, or applied before. Count it without the profile.
    if (!result.applied) result = await this.table.update(key, { ...write.older, returnValues: 'UPDATED_NEW' });
    if (result.applied) {
      const first = Math.min(...effects.map((e) => e.sentAt));
      const storedFirst = result.attributes?.['firstInboundAt'];
      // An older message than any before (a late delivery): the first inbound time moves back.
      if (typeof storedFirst === 'number' && storedFirst > first) {
        await this.table.update(key, { update: 'SET firstInboundAt = :first', condition: 'firstInboundAt > :first', values: { ':first': first } });
      }
      await this.pruneMarks(contactId, result.attributes?.[APPLIED_ATTRIBUTE], now);
      return;
    }
    // Some of them were applied before: apply the others one by one.
    if (effects.length > 1) for (const effect of effects) await this.applyOnce(contactId, [effect], seed, now);
  }

  /** Removes marks older than {@link APPLIED_MARK_DAYS}, when the write that just ran returned some. */
  private async pruneMarks(contactId: string, marks: unknown, now: number): Promise<void> {
    if (!(marks instanceof Set)) return;
    const cutoff = now - APPLIED_MARK_DAYS * DAY_MS;
    const old = [...(marks as Set<string>)].filter((mark) => markDay(mark) < cutoff).slice(0, 200);
    if (old.length === 0) return;
    await this.table.update(keys.contact(contactId), { update: `DELETE ${APPLIED_ATTRIBUTE} :old`, values: { ':old': new Set(old) } });
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

  /**
   * Marks `loser` as merged into `survivor`: once only (false when it was merged elsewhere
   * meanwhile). Both histories stay readable; the loser's messages count for the survivor.
   */
  async markMerged(loser: string, survivor: string, at: number): Promise<boolean> {
    const { applied } = await this.table.update(keys.contact(loser), {
      update: 'SET mergedInto = :survivor, mergedAt = :at, updatedAt = :at',
      condition: 'attribute_exists(pk) AND (attribute_not_exists(mergedInto) OR mergedInto = :survivor)',
      values: { ':survivor': survivor, ':at': at },
    });
    return applied;
  }

  /** The contacts merged into one (its `mergedFrom`), read alone. */
  async mergedFrom(contactId: string): Promise<string[]> {
    return (await this.table.get<{ mergedFrom?: string[] }>(keys.contact(contactId), ['mergedFrom']))?.mergedFrom ?? [];
  }

  /** Adds contacts merged into `survivor` (the loser and everything merged into it before). */
  async addMergedFrom(survivor: string, merged: readonly string[], at: number): Promise<void> {
    if (merged.length === 0) return;
    await this.table.update(keys.contact(survivor), {
      update: 'ADD mergedFrom :merged SET updatedAt = :at',
      values: { ':merged': new Set(merged), ':at': at },
    });
  }

  /**
   * Records a consent if it is the last word (domain/consent.ts: the later one wins by the
   * customer's time; at the same moment an opt-out wins). One conditional write: a late, older
   * consent changes nothing, and recording the same one again changes nothing. True when recorded.
   */
  async recordConsent(contactId: string, purpose: ConsentPurpose, consent: Consent): Promise<boolean> {
    const newer = '(attribute_not_exists(#c) OR #c.#at < :at';
    const tieBreak = consent.state === 'opted_out' ? ' OR (#c.#at = :at AND #c.#state = :in)' : '';
    const { applied } = await this.table.update(keys.contact(contactId), {
      update: 'SET #c = :consent',
      condition: `attribute_exists(pk) AND ${newer}${tieBreak})`,
      names: { '#c': `${CONSENT_PREFIX}${purpose}`, '#at': 'at', ...(tieBreak && { '#state': 'state' }) },
      values: { ':consent': { ...consent }, ':at': consent.at, ...(tieBreak && { ':in': 'opted_in' }) },
    });
    return applied;
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

  /** Stores the contact's id in the CRM of `crm.kind`, beside those of other CRMs. */
  async setCrm(contactId: string, crm: { kind: string; id: string }, at: number): Promise<void> {
    await this.table.update(keys.contact(contactId), {
      update: 'SET #crm = :crm',
      condition: 'attribute_exists(pk)',
      names: { '#crm': `${CRM_LINK_PREFIX}${crm.kind}` },
      values: { ':crm': { id: crm.id, syncedAt: at } },
    });
    // Which contact the CRM record is, for the changes that come back from the CRM (two-way sync).
    await this.table.put({ ...keys.crmLink(crm.kind, crm.id), contactId, kind: crm.kind, crmId: crm.id, at });
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

/**
 * The UpdateItem of a batch of inbound messages: `newer` also moves the profile and last-inbound
 * time (it holds when the newest message is not older than what the contact has), `older` only
 * counts. Both hold only while none of the messages' marks is on the contact.
 */
function inboundWrite(contactId: string, effects: readonly InboundEffect[], seed: ContactSeed, now: number) {
  const newest = effects.reduce((a, b) => (b.sentAt >= a.sentAt ? b : a));
  const oldest = effects.reduce((a, b) => (b.sentAt < a.sentAt ? b : a));
  // A contact this write creates is created now (its first message may be older).
  const base = seedFields(contactId, seed, now);
  const names: Record<string, string> = { ...Object.fromEntries(Object.keys(base).map((field) => [`#${field}`, field])), '#applied': APPLIED_ATTRIBUTE };
  const values: Record<string, unknown> = {
    ...Object.fromEntries(Object.entries(base).map(([field, value]) => [`:${field}`, value])),
    ':first': oldest.sentAt,
    ':count': effects.length,
    ':accounts': new Set(effects.map((e) => e.phoneNumberId)),
    ':marks': new Set(effects.map((e) => appliedMark(e.wamid, e.receivedAt))),
  };
  const marks = effects.map((e, i) => {
    values[`:m${i}`] = appliedMark(e.wamid, e.receivedAt);
    return `NOT contains(#applied, :m${i})`;
  });
  // waitingSince: the customer's first message no agent has answered yet (AG-1's response time).
  const always = [...Object.keys(base).map((field) => `#${field} = if_not_exists(#${field}, :${field})`), 'firstInboundAt = if_not_exists(firstInboundAt, :first)', 'waitingSince = if_not_exists(waitingSince, :first)'];
  const adds = ['inboundCount :count', 'accounts :accounts', '#applied :marks'];
  const newer: string[] = [];
  const newerValues: Record<string, unknown> = { ':last': newest.sentAt };
  newer.push('lastInboundAt = :last');

  const analysed = effects.filter((e) => e.analysis);
  if (analysed.length) {
    adds.push('sentimentSum :sentiment', 'sentimentCount :scored');
    values[':sentiment'] = Math.round(analysed.reduce((sum, e) => sum + e.analysis!.sentiment, 0) * 1e9) / 1e9;
    values[':scored'] = analysed.length;
    const tags = new Set(analysed.flatMap((e) => e.analysis!.tags));
    if (tags.size) {
      adds.push('tags :tags');
      values[':tags'] = tags;
    }
    const hotWords = new Map<string, number>();
    for (const e of analysed) for (const [word, count] of Object.entries(e.analysis!.hotWords)) hotWords.set(word, (hotWords.get(word) ?? 0) + count);
    [...hotWords].forEach(([word, count], i) => {
      names[`#hw${i}`] = `${HOT_WORD_PREFIX}${word}`;
      values[`:hw${i}`] = count;
      adds.push(`#hw${i} :hw${i}`);
    });
    const emoji = new Map<string, number>();
    for (const e of analysed) for (const [glyph, count] of Object.entries(e.analysis!.emoji ?? {})) emoji.set(glyph, (emoji.get(glyph) ?? 0) + count);
    [...emoji].forEach(([glyph, count], i) => {
      names[`#em${i}`] = `${EMOJI_PREFIX}${glyph}`;
      values[`:em${i}`] = count;
      adds.push(`#em${i} :em${i}`);
    });
    if (newest.analysis) {
      newer.push('lastSentiment = :lastSentiment');
      newerValues[':lastSentiment'] = newest.analysis.sentiment;
    }
  }
  // A click-to-WhatsApp ad opens the 72 h free entry point from its message (CP-1).
  const referred = effects.filter((e) => e.referral).map((e) => e.sentAt);
  if (referred.length) {
    newer.push('lastReferralAt = :referral');
    newerValues[':referral'] = Math.max(...referred);
  }
  if (newest.profileName !== undefined) {
    newer.push('profileName = :name');
    newerValues[':name'] = newest.profileName;
  }
  if (newest.username !== undefined) {
    newer.push('username = :username');
    newerValues[':username'] = newest.username;
  }
  const update = (sets: string[]) => `SET ${sets.join(', ')} ADD ${adds.join(', ')}`;
  const notApplied = marks.join(' AND ');
  return {
    newer: {
      update: update([...always, ...newer]),
      condition: `${notApplied} AND (attribute_not_exists(lastInboundAt) OR lastInboundAt <= :last)`,
      names,
      values: { ...values, ...newerValues },
    },
    older: { update: update(always), condition: notApplied, names, values },
  };
}
