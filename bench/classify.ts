/**
 * Classification throughput (TG-7 budget: classify is pure CPU in the webhook): 10,000 messages
 * from the labelled set, cycled, after a warm-up. Run: npx tsx bench/classify.ts
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { classifyWith } from '#shared/domain/intelligence/classify';
import { parseLabelledSet } from '#shared/domain/intelligence/evaluation';
import { loadIntelligence } from '#shared/intelligence-files';

const LABELLED = fileURLToPath(new URL('../eval/labelled.jsonl', import.meta.url));

export async function benchClassify(messages = 10_000): Promise<{ perMessageUs: number; messages: number }> {
  const texts = parseLabelledSet(readFileSync(LABELLED, 'utf8')).map((m) => m.text);
  const intelligence = loadIntelligence();
  let sink = 0;
  for (let i = 0; i < 2_000; i++) sink += classifyWith(intelligence, texts[i % texts.length] ?? '').tags.length;
  const started = performance.now();
  for (let i = 0; i < messages; i++) sink += classifyWith(intelligence, texts[i % texts.length] ?? '').tags.length;
  const elapsedMs = performance.now() - started;
  if (sink < 0) console.log(sink);
  return { perMessageUs: Math.round((elapsedMs * 1000 * 100) / messages) / 100, messages };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(JSON.stringify(await benchClassify()));
}
