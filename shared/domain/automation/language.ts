/**
 * The language of a customer's message, for the language an automated reply is written in:
 * Cyrillic → ru; Chinese → traditional or simplified by the characters only one script uses —
 * traditional ones are those the folding table folds, simplified ones those the shipped
 * simplified texts use and the traditional texts never do (ScriptHints) — and Cantonese
 * particles; Latin → English when there are at least two words. Undefined when the text does not
 * tell: "ok", a tracking number, or Chinese written only with characters both scripts share
 * ("你好", "我要真人") — the caller keeps the customer's language then, so one short message does
 * not flip it. Pure, microseconds.
 */
import type { Language } from './config.ts';
import type { ChineseFolding } from '../intelligence/normalise.ts';

const CYRILLIC = /\p{Script=Cyrillic}/u;
const HAN = /\p{Script=Han}/gu;
/** Written Cantonese: Hong Kong customers write traditional Chinese. */
const CANTONESE = /[嘅咗喺冇唔啲嚟咩佢哋]/u;

export interface ScriptHints {
  /** traditional → simplified (a key that folds to another character is traditional-only). */
  readonly folding: ChineseFolding;
  /** Characters only simplified Chinese uses. */
  readonly simplified: ReadonlySet<string>;
}

/** Simplified-only characters: in the simplified texts, never in the traditional ones. */
export function scriptHints(folding: ChineseFolding, texts: { readonly simplified: readonly string[]; readonly traditional: readonly string[] }): ScriptHints {
  const traditional = new Set(texts.traditional.join('').match(HAN) ?? []);
  const simplified = new Set((texts.simplified.join('').match(HAN) ?? []).filter((c) => !traditional.has(c) && !(folding.has(c) && folding.get(c) !== c)));
  return { folding, simplified };
}

export function detectLanguage(text: string | undefined, hints: ScriptHints): Language | undefined {
  if (!text) return undefined;
  const han = text.match(HAN) ?? [];
  if (han.length === 0) {
    if (CYRILLIC.test(text)) return 'ru';
    const words = text.match(/\p{Script=Latin}{2,}/gu) ?? [];
    return words.length >= 2 ? 'en' : undefined;
  }
  if (CANTONESE.test(text)) return 'zh-Hant';
  let traditional = 0;
  let simplified = 0;
  for (const char of han) {
    if (hints.folding.has(char) && hints.folding.get(char) !== char) traditional++;
    else if (hints.simplified.has(char)) simplified++;
  }
  if (traditional === simplified) return undefined;
  return traditional > simplified ? 'zh-Hant' : 'zh-Hans';
}
