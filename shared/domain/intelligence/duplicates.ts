/**
 * Duplicate customers (ID-3): the same person writing from several numbers. Candidates are
 * pairs whose names are at least 80% similar (normalised Levenshtein ratio) AND who bought the
 * same SKU within 90 days of each other. merge() keeps both histories whole and returns a
 * record that unmerge() uses to restore both contacts.
 */
import { distance } from 'fastest-levenshtein';
import type { ChineseFolding } from './normalise.ts';
import { normaliseText } from './normalise.ts';
import { DAY_MS } from './segments.ts';

export interface Purchase {
  sku: string;
  at: number;
  amount?: number;
}

export interface MergeableContact {
  id: string;
  name: string;
  createdAt: number;
  updatedAt: number;
  phones: string[];
  messageIds: string[];
  purchases: Purchase[];
  tags: string[];
  /** Ids of contacts merged into this one. */
  mergedFrom: string[];
}

export const DUPLICATE_RULES = { minNameSimilarity: 0.8, sameSkuWithinMs: 90 * DAY_MS } as const;

const NO_FOLDING: ChineseFolding = new Map();

/**
 * 1 − Levenshtein distance / longer length, on normalised names (case, width, accents, 繁→简).
 * Distance and lengths are in UTF-16 units (fastest-levenshtein); names in CJK, Latin and
 * Cyrillic are one unit a character.
 */
export function nameSimilarity(a: string, b: string, folding: ChineseFolding = NO_FOLDING): number {
  const x = normaliseText(a, folding);
  const y = normaliseText(b, folding);
  const longest = Math.max(x.length, y.length);
  if (longest === 0) return 0;
  return 1 - distance(x, y) / longest;
}

export interface DuplicateCandidate {
  /** The lexically smaller id first. */
  aId: string;
  bId: string;
  similarity: number;
  sku: string;
}

/**
 * Pairs of contacts that are probably one person. Blocks on SKU first, so only contacts who
 * bought the same product are compared by name.
 */
export function duplicateCandidates(
  contacts: readonly MergeableContact[],
  folding: ChineseFolding = NO_FOLDING,
): DuplicateCandidate[] {
  const bySku = new Map<string, { contact: MergeableContact; at: number }[]>();
  for (const contact of contacts) {
    for (const purchase of contact.purchases) {
      const list = bySku.get(purchase.sku) ?? [];
      list.push({ contact, at: purchase.at });
      bySku.set(purchase.sku, list);
    }
  }
  const found = new Map<string, DuplicateCandidate>();
  for (const [sku, buyers] of bySku) {
    for (let i = 0; i < buyers.length; i++) {
      for (let j = i + 1; j < buyers.length; j++) {
        const p = buyers[i];
        const q = buyers[j];
        if (!p || !q || p.contact.id === q.contact.id) continue;
        if (Math.abs(p.at - q.at) > DUPLICATE_RULES.sameSkuWithinMs) continue;
        const [a, b] = p.contact.id < q.contact.id ? [p.contact, q.contact] : [q.contact, p.contact];
        const key = `${a.id}\u0000${b.id}`;
        if (found.has(key)) continue;
        const similarity = nameSimilarity(a.name, b.name, folding);
        if (similarity >= DUPLICATE_RULES.minNameSimilarity) found.set(key, { aId: a.id, bId: b.id, similarity, sku });
      }
    }
  }
  return [...found.values()].sort((x, y) => (x.aId === y.aId ? (x.bId < y.bId ? -1 : 1) : x.aId < y.aId ? -1 : 1));
}

export interface MergeRecord {
  id: string;
  survivorId: string;
  absorbedId: string;
  at: number;
  /** Both contacts exactly as they were, so the merge can be undone. */
  survivorBefore: MergeableContact;
  absorbedBefore: MergeableContact;
}

export interface MergeResult {
  contact: MergeableContact;
  /** null when nothing changed (same contact, or already merged). */
  record: MergeRecord | null;
}

const union = <T>(first: readonly T[], second: readonly T[], key: (item: T) => string = String): T[] => {
  const seen = new Set(first.map(key));
  const out = [...first];
  for (const item of second) {
    const k = key(item);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(item);
    }
  }
  return out;
};

const purchaseKey = (p: Purchase): string => `${p.sku}@${p.at}`;

/** The older contact survives (creation time, then the smaller id), so merge(a, b) = merge(b, a). */
function survivorFirst(a: MergeableContact, b: MergeableContact): [MergeableContact, MergeableContact] {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? [a, b] : [b, a];
  return a.id < b.id ? [a, b] : [b, a];
}

/**
 * Merges two contacts: ids, phones, message ids, purchases and tags are unions (nothing of
 * either history is lost). Idempotent: merging a contact already absorbed changes nothing.
 */
export function merge(a: MergeableContact, b: MergeableContact, now: number): MergeResult {
  if (a.id === b.id) return { contact: a, record: null };
  if (a.mergedFrom.includes(b.id)) return { contact: a, record: null };
  if (b.mergedFrom.includes(a.id)) return { contact: b, record: null };
  const [survivor, absorbed] = survivorFirst(a, b);
  const contact: MergeableContact = {
    id: survivor.id,
    name: survivor.name.trim() !== '' ? survivor.name : absorbed.name,
    createdAt: Math.min(survivor.createdAt, absorbed.createdAt),
    updatedAt: now,
    phones: union(survivor.phones, absorbed.phones),
    messageIds: union(survivor.messageIds, absorbed.messageIds),
    purchases: union(survivor.purchases, absorbed.purchases, purchaseKey),
    tags: union(survivor.tags, absorbed.tags),
    mergedFrom: union(survivor.mergedFrom, [...absorbed.mergedFrom, absorbed.id]),
  };
  const record: MergeRecord = {
    id: `merge:${survivor.id}:${absorbed.id}`,
    survivorId: survivor.id,
    absorbedId: absorbed.id,
    at: now,
    survivorBefore: survivor,
    absorbedBefore: absorbed,
  };
  return { contact, record };
}

/**
 * Undoes a merge: both contacts as they were; messages that arrived on the merged contact
 * after the merge stay with the survivor.
 */
export function unmerge(current: MergeableContact, record: MergeRecord): { survivor: MergeableContact; absorbed: MergeableContact } {
  const known = new Set([...record.survivorBefore.messageIds, ...record.absorbedBefore.messageIds]);
  const arrivedSince = current.messageIds.filter((id) => !known.has(id));
  const survivor =
    arrivedSince.length === 0
      ? record.survivorBefore
      : { ...record.survivorBefore, messageIds: [...record.survivorBefore.messageIds, ...arrivedSince], updatedAt: current.updatedAt };
  return { survivor, absorbed: record.absorbedBefore };
}

/** A stored customer as the daily duplicate search sees it (ID-3). */
export interface DuplicateSubject {
  readonly id: string;
  readonly name: string;
  readonly purchases: readonly Purchase[];
}

/**
 * The daily search over stored contacts (ID-3), without comparing every pair: blocked by SKU,
 * and inside a SKU's buyers sorted by purchase time only those within 90 days of each other are
 * compared — and only when their normalised names' lengths allow 80 % similarity at all (a
 * Levenshtein ratio r needs the shorter name to be at least r × the longer). Names are normalised
 * once. Same answer as {@link duplicateCandidates}; cost about n × (buyers of a SKU in 90 days).
 */
export function searchDuplicates(subjects: readonly DuplicateSubject[], folding: ChineseFolding = NO_FOLDING): DuplicateCandidate[] {
  const names = new Map<string, string>();
  const bySku = new Map<string, { id: string; at: number }[]>();
  for (const s of subjects) {
    names.set(s.id, normaliseText(s.name, folding));
    for (const p of s.purchases) {
      const list = bySku.get(p.sku) ?? [];
      list.push({ id: s.id, at: p.at });
      bySku.set(p.sku, list);
    }
  }
  const found = new Map<string, DuplicateCandidate>();
  const min = DUPLICATE_RULES.minNameSimilarity;
  for (const [sku, buyers] of bySku) {
    buyers.sort((x, y) => x.at - y.at);
    for (let i = 0; i < buyers.length; i++) {
      const p = buyers[i]!;
      const x = names.get(p.id)!;
      if (!x) continue;
      for (let j = i + 1; j < buyers.length; j++) {
        const q = buyers[j]!;
        if (q.at - p.at > DUPLICATE_RULES.sameSkuWithinMs) break;
        if (q.id === p.id) continue;
        const y = names.get(q.id)!;
        if (!y) continue;
        const longest = Math.max(x.length, y.length);
        if (Math.min(x.length, y.length) < min * longest) continue;
        const [aId, bId] = p.id < q.id ? [p.id, q.id] : [q.id, p.id];
        const key = `${aId}\u0000${bId}`;
        if (found.has(key)) continue;
        const similarity = 1 - distance(x, y) / longest;
        if (similarity >= min) found.set(key, { aId, bId, similarity, sku });
      }
    }
  }
  return [...found.values()].sort((x, y) => (x.aId === y.aId ? (x.bId < y.bId ? -1 : 1) : x.aId < y.aId ? -1 : 1));
}
