/**
 * Scope of a phrase inside a message: is it quoted (someone else's words, a title), or is it
 * negated ("not a complaint", "不是投訴", "не жалоба", "I don't want to unsubscribe")?
 * Works on the normalised text and the hits of matcher.ts.
 */
import type { Hit } from './matcher.ts';
import { isHan, isWordChar } from './normalise.ts';

export interface Span {
  start: number;
  end: number;
}

/** Quoted spans for the configured (open, close) pairs; an unclosed quote quotes nothing. */
export function quotedSpans(text: string, pairs: readonly (readonly [string, string])[]): Span[] {
  const spans: Span[] = [];
  for (const [open, close] of pairs) {
    let from = text.indexOf(open);
    while (from !== -1) {
      const to = text.indexOf(close, from + 1);
      if (to === -1) break;
      spans.push({ start: from, end: to + 1 });
      from = text.indexOf(open, to + 1);
    }
  }
  return spans;
}

export function isInside(hit: Span, spans: readonly Span[]): boolean {
  for (const span of spans) if (span.start <= hit.start && hit.end <= span.end) return true;
  return false;
}

const CLAUSE_BREAK = /[,.;:!?，。；：！？、\n…()（）]|\bbut\b|\bhowever\b|但|不過|不过|(?:^|\s)(?:но|а|зато)(?:\s|$)/;

/** Words (Latin/Cyrillic runs) plus Han characters between two positions. */
function unitsBetween(text: string, from: number, to: number): number {
  let units = 0;
  let inWord = false;
  for (let i = from; i < to; i++) {
    const char = text[i];
    if (isWordChar(char) || char === "'") {
      if (!inWord) units++;
      inWord = true;
    } else {
      inWord = false;
      if (isHan(char)) units++;
    }
  }
  return units;
}

/**
 * A hit is negated when a negation cue ends at most `maxUnits` words/Han characters before it,
 * in the same clause (no punctuation or "but" between).
 */
export function isNegated(text: string, hit: Span, cues: readonly Hit[], maxUnits: number): boolean {
  for (const cue of cues) {
    // A cue may overlap the phrase's first characters (唔想 + 想買) but must start before it.
    if (cue.start >= hit.start || cue.end > hit.end) continue;
    if (cue.end > hit.start) return true;
    if (unitsBetween(text, cue.end, hit.start) > maxUnits) continue;
    if (CLAUSE_BREAK.test(text.slice(cue.end, hit.start))) continue;
    return true;
  }
  return false;
}
