/**
 * Message tags (TG-1) and hot words (TG-2) from the hits of one scan, and the contact-level
 * tags that cumulative hot-word counters earn (e.g. "discount" more than 3 times → price_sensitive).
 */
import type { MessageTag } from './config.ts';
import { MESSAGE_TAGS } from './config.ts';
import type { Hit } from './matcher.ts';
import type { Span } from './scope.ts';
import { isInside, isNegated } from './scope.ts';

export interface TagScope {
  text: string;
  quoted: readonly Span[];
  cues: readonly Hit[];
  maxUnitsBetween: number;
}

/** A hit counts unless it is quoted, or negated where its kind/tag can be negated. */
export function isAsserted(hit: Hit, scope: TagScope, negatable: boolean): boolean {
  if (scope.quoted.length > 0 && isInside(hit, scope.quoted)) return false;
  if (negatable && scope.cues.length > 0 && isNegated(scope.text, hit, scope.cues, scope.maxUnitsBetween)) return false;
  return true;
}

/** Tags in their canonical order (the order of MESSAGE_TAGS). */
export function messageTags(hits: readonly Hit[], scope: TagScope, negatable: ReadonlySet<string>): MessageTag[] {
  const found = new Set<string>();
  for (const hit of hits) {
    if (hit.kind !== 'tag' || found.has(hit.key)) continue;
    if (isAsserted(hit, scope, negatable.has(hit.key))) found.add(hit.key);
  }
  return MESSAGE_TAGS.filter((tag) => found.has(tag));
}

/** Hot-word counts of one message, keyed by hot-word id. Negated or quoted words still count: they were said. */
export function hotWordCounts(hits: readonly Hit[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const hit of hits) if (hit.kind === 'hot') counts[hit.key] = (counts[hit.key] ?? 0) + 1;
  return counts;
}

/** Adds a message's hot-word counts to a contact's cumulative counters (new object). */
export function accumulateHotWords(
  counters: Readonly<Record<string, number>>,
  message: Readonly<Record<string, number>>,
): Record<string, number> {
  const next: Record<string, number> = { ...counters };
  for (const [word, count] of Object.entries(message)) next[word] = (next[word] ?? 0) + count;
  return next;
}

export interface ContactTagRule {
  tag: string;
  family: string;
  moreThan: number;
}

/** Totals per hot-word family from per-word counters. */
export function familyTotals(
  counters: Readonly<Record<string, number>>,
  familyOf: ReadonlyMap<string, string>,
): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const [word, count] of Object.entries(counters)) {
    const family = familyOf.get(word) ?? word;
    totals[family] = (totals[family] ?? 0) + count;
  }
  return totals;
}

/** Contact tags earned by cumulative counters: a family said more than `moreThan` times. */
export function contactTagsFromHotWords(
  counters: Readonly<Record<string, number>>,
  familyOf: ReadonlyMap<string, string>,
  rules: readonly ContactTagRule[],
): string[] {
  const totals = familyTotals(counters, familyOf);
  return rules.filter((rule) => (totals[rule.family] ?? 0) > rule.moreThan).map((rule) => rule.tag);
}
