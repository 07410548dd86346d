/** A customer's message through the shipped intelligence rules: the analysis stored with it. */
import { shippedIntelligence } from './intelligence/bundled.ts';
import { classifyWith } from './intelligence/classify.ts';
import type { MessageAnalysis } from './records.ts';

export function analyseMessage(text: string): MessageAnalysis {
  const { tags, intent, sku, sentiment, hotWords } = classifyWith(shippedIntelligence(), text);
  return { tags, intent, sku, sentiment, hotWords };
}
