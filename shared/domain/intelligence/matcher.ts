/**
 * One Aho–Corasick automaton for every rule phrase (tags, intents, hot words, sentiment,
 * negation cues, neutral phrases), built once from the config; one pass over the normalised
 * message finds all of them. Latin/Cyrillic phrases match whole words (a trailing `*` in the
 * config makes the phrase a stem: `скидк*` matches скидка, скидку, скидки); Chinese phrases
 * match anywhere, since Chinese is written without spaces.
 */
import { PhraseAutomaton } from './automaton.ts';
import type { ChineseFolding } from './normalise.ts';
import { isWordChar, normaliseText } from './normalise.ts';

export type HitKind = 'tag' | 'product_question' | 'greeting' | 'hot' | 'sentiment' | 'negation' | 'neutral';

export interface RulePhrase {
  kind: HitKind;
  /** Tag name, hot word id, or '' for kinds without a key. */
  key: string;
  /** Sentiment weight; 0 for other kinds. */
  weight: number;
  /** The phrase as written in the config, `*` included. */
  phrase: string;
  /** Config path for error messages, e.g. `rules.tags.complaint.zh-Hant[3]`. */
  source: string;
}

interface CompiledPhrase {
  kind: HitKind;
  key: string;
  weight: number;
  wordStart: boolean;
  wordEnd: boolean;
}

export interface Hit {
  kind: HitKind;
  key: string;
  weight: number;
  start: number;
  end: number;
}

export interface RuleMatcher {
  scan(normalisedText: string): Hit[];
  readonly phraseCount: number;
}

/** Compiles the phrases; returns the problems (by config path) instead of throwing. */
export function compileRuleMatcher(
  phrases: readonly RulePhrase[],
  folding: ChineseFolding,
): { matcher: RuleMatcher; problems: string[] } {
  const problems: string[] = [];
  const seen = new Set<string>();
  const entries: { pattern: string; data: CompiledPhrase }[] = [];
  for (const rule of phrases) {
    const stem = rule.phrase.endsWith('*');
    const body = normaliseText(stem ? rule.phrase.slice(0, -1) : rule.phrase, folding);
    if (body.length === 0) {
      problems.push(`${rule.source}: phrase is empty after normalisation`);
      continue;
    }
    const id = `${rule.kind}\u0000${rule.key}\u0000${body}\u0000${stem}`;
    if (seen.has(id)) continue;
    seen.add(id);
    entries.push({
      pattern: body,
      data: {
        kind: rule.kind,
        key: rule.key,
        weight: rule.weight,
        wordStart: isWordChar(body[0]),
        wordEnd: !stem && isWordChar(body[body.length - 1]),
      },
    });
  }
  const automaton = new PhraseAutomaton<CompiledPhrase>(entries);
  const scan = (text: string): Hit[] => {
    const hits: Hit[] = [];
    for (const match of automaton.search(text)) {
      const data = match.data;
      if (data === undefined) continue;
      if (data.wordStart && isWordChar(text[match.start - 1])) continue;
      if (data.wordEnd && isWordChar(text[match.end])) continue;
      hits.push({ kind: data.kind, key: data.key, weight: data.weight, start: match.start, end: match.end });
    }
    return suppressContained(hits);
  };
  return { matcher: { scan, phraseCount: entries.length }, problems };
}

/** Which longer hits swallow a shorter hit of this kind lying inside them. */
const SWALLOWED_BY: Record<HitKind, ReadonlySet<HitKind>> = {
  negation: new Set<HitKind>(['tag', 'product_question', 'greeting', 'sentiment', 'negation', 'neutral']),
  tag: new Set<HitKind>(['tag', 'neutral']),
  product_question: new Set<HitKind>(['tag', 'neutral']),
  greeting: new Set<HitKind>(['tag', 'product_question', 'neutral']),
  sentiment: new Set<HitKind>(['sentiment', 'neutral']),
  hot: new Set<HitKind>(['hot']),
  neutral: new Set<HitKind>(),
};

/**
 * Drops a hit lying inside a longer hit that gives the words their meaning: the 不 of 不錯
 * is no negation, the "stop" of "stop working" no opt-out, the 退款 of 退款政策 no complaint.
 */
export function suppressContained(hits: readonly Hit[]): Hit[] {
  const kept: Hit[] = [];
  for (const hit of hits) {
    const swallowers = SWALLOWED_BY[hit.kind];
    let swallowed = false;
    for (const other of hits) {
      if (
        other !== hit &&
        swallowers.has(other.kind) &&
        other.start <= hit.start &&
        hit.end <= other.end &&
        other.end - other.start > hit.end - hit.start
      ) {
        swallowed = true;
        break;
      }
    }
    if (!swallowed) kept.push(hit);
  }
  return kept;
}
