/** A customer's message through the shipped intelligence rules: the analysis stored with it. */
import { shippedIntelligence } from './intelligence/bundled.ts';
import { classifyWith } from './intelligence/classify.ts';
import type { MessageAnalysis } from './records.ts';

export function analyseMessage(text: string): MessageAnalysis {
  const { tags, intent, sku, sentiment, hotWords } = classifyWith(shippedIntelligence(), text);
  const emoji = emojiCounts(text);
  return { tags, intent, sku, sentiment, hotWords, ...(emoji && { emoji }) };
}

/** One emoji: a pictograph with its modifiers and joined parts (👍🏽, 👨‍👩‍👧), flags as pairs. */
const EMOJI = /\p{RI}\p{RI}|\p{Extended_Pictographic}(?:\p{EMod}|\uFE0F)*(?:\u200D\p{Extended_Pictographic}(?:\p{EMod}|\uFE0F)*)*/gu;
/** Skin tones are one emoji to the counts (👍🏽 and 👍 both count as 👍). */
const MODIFIERS = /[\p{EMod}\uFE0F]/gu;
/** Most distinct emoji counted per message (a message of 200 different emoji is not 200 attributes). */
const MAX_EMOJI = 8;

/** The emoji of a text with how often each occurs; undefined when it has none (SY-8's frequent emoji). */
export function emojiCounts(text: string): Record<string, number> | undefined {
  const found = text.match(EMOJI);
  if (!found) return undefined;
  const counts: Record<string, number> = {};
  for (const emoji of found) {
    const base = emoji.replace(MODIFIERS, '');
    if (base in counts) counts[base]! += 1;
    else if (Object.keys(counts).length < MAX_EMOJI) counts[base] = 1;
  }
  return counts;
}
