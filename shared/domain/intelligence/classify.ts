/**
 * classify(): one message in, its tags, hot words, sentiment, main intent and SKU out.
 * One normalisation, one pass of the rule automaton, one pass of the catalogue automaton.
 */
import type { Intent, MessageTag } from './config.ts';
import type { Intelligence } from './intelligence.ts';
import { shippedIntelligence } from './bundled.ts';
import type { Hit } from './matcher.ts';
import { normaliseText } from './normalise.ts';
import { quotedSpans } from './scope.ts';
import { messageSentiment } from './sentiment.ts';
import type { TagScope } from './tags.ts';
import { hotWordCounts, isAsserted, messageTags } from './tags.ts';

export interface Classification {
  tags: MessageTag[];
  hotWords: Record<string, number>;
  /** 0..1, 0.5 neutral. */
  sentiment: number;
  intent: Intent;
  sku: string | null;
}

export interface ClassifyOptions {
  /**
   * The customer's language if known (zh-Hant, zh-Hans, en, ru). Informational: the rules of
   * every language always apply, because customers mix languages in one message.
   */
  lang?: string;
  /** Compiled rules to use instead of the default config (tests, other tenants). */
  intelligence?: Intelligence;
}

/** A question mark, a question particle, or an asking verb (想問, 請問, wondering, подскажите…). */
const QUESTION =
  /[?？]|[吗嗎呢咩嘛么]|想問|想问|請問|请问|想知|問下|问一下|\bwonder|\bwant to know\b|\bask\b|(?:^|\s)ли(?:\s|$)|подскаж|хочу знать|интересует/;

function present(kind: 'product_question' | 'greeting', hits: readonly Hit[], scope: TagScope): boolean {
  for (const hit of hits) if (hit.kind === kind && isAsserted(hit, scope, false)) return true;
  return false;
}

/**
 * The main purpose of the message: the first entry of the configured precedence list that is
 * present. Tags come from the rules; product_question is a product-question phrase, or a
 * catalogue product named in a question; greeting is a greeting/thanks phrase. Else `other`.
 */
function mainIntent(
  intelligence: Intelligence,
  tags: readonly MessageTag[],
  hits: readonly Hit[],
  scope: TagScope,
  sku: string | null,
): Intent {
  for (const candidate of intelligence.precedence) {
    if (candidate === 'product_question') {
      if (present('product_question', hits, scope) || (sku !== null && QUESTION.test(scope.text))) return candidate;
    } else if (candidate === 'greeting') {
      if (present('greeting', hits, scope)) return candidate;
    } else if ((tags as readonly string[]).includes(candidate)) {
      return candidate as Intent;
    }
  }
  return 'other';
}

/** Pure: classification with explicitly passed compiled rules. */
export function classifyWith(intelligence: Intelligence, text: string): Classification {
  const normalised = normaliseText(text, intelligence.folding);
  const hits = intelligence.rules.scan(normalised);
  const cues = hits.filter((hit) => hit.kind === 'negation');
  const scope: TagScope = {
    text: normalised,
    quoted: quotedSpans(normalised, intelligence.quotes),
    cues,
    maxUnitsBetween: intelligence.maxUnitsBetween,
  };
  const tags = messageTags(hits, scope, intelligence.negatableTags);
  const sku = intelligence.catalogue.match(normalised)?.sku ?? null;
  return {
    tags,
    hotWords: hotWordCounts(hits),
    sentiment: messageSentiment(hits, scope, intelligence.config.sentiment.negationFlips),
    intent: mainIntent(intelligence, tags, hits, scope, sku),
    sku,
  };
}

/** Classifies with the shipped rules (what the functions run), compiled on first use. */
export function classify(text: string, opts: ClassifyOptions = {}): Classification {
  return classifyWith(opts.intelligence ?? shippedIntelligence(), text);
}
