/**
 * The language of a customer's message, for the language an automated reply is written in:
 * Cyrillic → ru; Chinese → traditional or simplified by the folding table (a character the table
 * folds is a traditional one) and Cantonese particles; otherwise English. Pure, microseconds.
 */
import type { Language } from './config.ts';
import type { ChineseFolding } from '../intelligence/normalise.ts';

const CYRILLIC = /\p{Script=Cyrillic}/u;
const HAN = /\p{Script=Han}/gu;
/** Written Cantonese: Hong Kong customers write traditional Chinese. */
const CANTONESE = /[嘅咗喺冇唔啲嚟咩佢哋]/u;

export function detectLanguage(text: string | undefined, folding: ChineseFolding): Language | undefined {
  if (!text) return undefined;
  const han = text.match(HAN) ?? [];
  const cyrillic = CYRILLIC.test(text);
  if (han.length === 0) return cyrillic ? 'ru' : /\p{L}/u.test(text) ? 'en' : undefined;
  if (CANTONESE.test(text)) return 'zh-Hant';
  let traditional = 0;
  let simplified = 0;
  const simplifiedChars = simplifiedSet(folding);
  for (const char of han) {
    if (folding.has(char) && folding.get(char) !== char) traditional++;
    else if (simplifiedChars.has(char)) simplified++;
  }
  return traditional > simplified ? 'zh-Hant' : 'zh-Hans';
}

const simplifiedSets = new WeakMap<ChineseFolding, ReadonlySet<string>>();
/** Characters that are the simplified form of some traditional one (and not traditional themselves). */
function simplifiedSet(folding: ChineseFolding): ReadonlySet<string> {
  let set = simplifiedSets.get(folding);
  if (!set) {
    const targets = new Set<string>();
    for (const [from, to] of folding) if (from !== to && !folding.has(to)) targets.add(to);
    set = targets;
    simplifiedSets.set(folding, set);
  }
  return set;
}
