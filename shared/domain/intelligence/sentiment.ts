/**
 * Sentiment (TG-5): a lexicon and emoji score per message, 0..1 with 0.5 neutral, and a running
 * per-contact score. Limits are written down in docs/intelligence.md.
 */
import type { Hit } from './matcher.ts';
import type { TagScope } from './tags.ts';
import { isAsserted } from './tags.ts';

export const NEUTRAL_SENTIMENT = 0.5;
/** "not bad" is mildly good, "not good" mildly bad: a negated word counts half, sign flipped. */
export const NEGATED_WEIGHT = 0.5;

/** Sum of weights (a negated word: half weight, opposite sign), squashed to 0..1 by the logistic function. */
export function messageSentiment(hits: readonly Hit[], scope: TagScope, negationFlips: boolean): number {
  let sum = 0;
  for (const hit of hits) {
    if (hit.kind !== 'sentiment') continue;
    if (scope.quoted.length > 0 && !isAsserted(hit, { ...scope, cues: [] }, false)) continue;
    const negated = negationFlips && !isAsserted(hit, { ...scope, quoted: [] }, true);
    sum += negated ? -NEGATED_WEIGHT * hit.weight : hit.weight;
  }
  if (sum === 0) return NEUTRAL_SENTIMENT;
  return Math.round((1 / (1 + Math.exp(-sum))) * 1000) / 1000;
}

export interface ContactSentiment {
  /** Exponential moving average of the message scores that carried sentiment. */
  score: number;
  /** Messages that moved the score. */
  samples: number;
}

export const INITIAL_CONTACT_SENTIMENT: ContactSentiment = { score: NEUTRAL_SENTIMENT, samples: 0 };

/**
 * EMA with weight `alpha` for the newest message; a message scored exactly neutral (no
 * sentiment words) leaves the contact's score alone. The first scored message sets the score.
 */
export function updateContactSentiment(prev: ContactSentiment, messageScore: number, alpha = 0.3): ContactSentiment {
  if (messageScore === NEUTRAL_SENTIMENT) return prev;
  const score = prev.samples === 0 ? messageScore : prev.score + alpha * (messageScore - prev.score);
  return { score: Math.round(score * 1000) / 1000, samples: prev.samples + 1 };
}
