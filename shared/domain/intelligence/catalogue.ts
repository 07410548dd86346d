/**
 * Product names in conversation → catalogue SKUs (ID-4) and purchase intent → sales
 * opportunity (TG-7). Tolerant of spacing ("iPhone15 Pro Max" = "iphone 15 pro max"), case,
 * script (蘋果15 = 苹果15) and one typo per word of five or more letters ("iphnoe", "айфоне").
 */
import { PhraseAutomaton } from './automaton.ts';
import type { CatalogueConfig } from './config.ts';
import type { ChineseFolding } from './normalise.ts';
import { isHan, normaliseText } from './normalise.ts';

export interface Product {
  sku: string;
  name: string;
  price?: number;
  currency: string;
}

export interface SkuMatch {
  sku: string;
  /** The catalogue alias that matched, normalised. */
  alias: string;
}

export interface CatalogueIndex {
  readonly products: ReadonlyMap<string, Product>;
  /** The most specific product named in already-normalised text, or null. */
  match(normalisedText: string): SkuMatch | null;
}

type CharClass = 'letter' | 'digit' | 'han' | 'other';

function charClass(char: string | undefined): CharClass {
  if (char === undefined) return 'other';
  const code = char.charCodeAt(0);
  if (code >= 0x30 && code <= 0x39) return 'digit';
  if ((code >= 0x61 && code <= 0x7a) || (code >= 0x430 && code <= 0x44f) || code === 0x451 || (code >= 0xdf && code <= 0x24f)) {
    return 'letter';
  }
  return isHan(char) ? 'han' : 'other';
}

/** Letter runs, digit runs and single Han characters; everything else separates tokens. */
export function productTokens(normalisedText: string): string[] {
  const tokens: string[] = [];
  let current = '';
  let currentClass: CharClass = 'other';
  for (const char of normalisedText) {
    const cls = charClass(char);
    if (cls === 'han') {
      if (current) tokens.push(current);
      tokens.push(char);
      current = '';
      currentClass = 'other';
    } else if (cls === 'other') {
      if (current) tokens.push(current);
      current = '';
      currentClass = 'other';
    } else if (cls === currentClass) {
      current += char;
    } else {
      if (current) tokens.push(current);
      current = char;
      currentClass = cls;
    }
  }
  if (current) tokens.push(current);
  return tokens;
}

/** Optimal-string-alignment distance ≤ 1: one insertion, deletion, substitution or adjacent swap. */
export function withinOneEdit(a: string, b: string): boolean {
  if (a === b) return true;
  const la = a.length;
  const lb = b.length;
  if (Math.abs(la - lb) > 1) return false;
  let i = 0;
  while (i < la && i < lb && a[i] === b[i]) i++;
  if (la === lb) {
    if (a.slice(i + 1) === b.slice(i + 1)) return true;
    return a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
  }
  return la > lb ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}

function deletions(word: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < word.length; i++) out.push(word.slice(0, i) + word.slice(i + 1));
  return out;
}

/** Corrects a word to a catalogue word within one edit (symmetric-deletion index, SymSpell style). */
class TypoCorrector {
  private readonly vocabulary = new Set<string>();
  private readonly byDeletion = new Map<string, string[]>();

  constructor(
    words: Iterable<string>,
    private readonly minVocabularyLength = 5,
    private readonly minWordLength = 4,
  ) {
    for (const word of words) this.vocabulary.add(word);
    for (const word of this.vocabulary) {
      if (charClass(word[0]) !== 'letter' || word.length < minVocabularyLength) continue;
      for (const key of [word, ...deletions(word)]) {
        const list = this.byDeletion.get(key);
        if (list) list.push(word);
        else this.byDeletion.set(key, [word]);
      }
    }
  }

  correct(token: string): string {
    if (token.length < this.minWordLength || this.vocabulary.has(token) || charClass(token[0]) !== 'letter') return token;
    for (const key of [token, ...deletions(token)]) {
      for (const candidate of this.byDeletion.get(key) ?? []) {
        if (candidate.length >= this.minVocabularyLength && withinOneEdit(token, candidate)) return candidate;
      }
    }
    return token;
  }
}

interface AliasData {
  sku: string;
  alias: string;
  /** Catalogue order, the tie-break between equally long aliases. */
  rank: number;
  first: CharClass;
  last: CharClass;
  compactLength: number;
}

interface Candidate {
  data: AliasData;
  /** Range in the compact (space-free) token text. */
  start: number;
  end: number;
}

/**
 * The product the message is about: aliases inside a longer matched alias are dropped
 * ("15 pro" inside "15 pro max"), then the first mentioned wins; ties go to the longer alias,
 * then to catalogue order.
 */
function pickProduct(found: readonly Candidate[]): Candidate | undefined {
  let best: Candidate | undefined;
  for (const candidate of found) {
    const length = candidate.end - candidate.start;
    const inside = found.some(
      (other) => other.start <= candidate.start && candidate.end <= other.end && other.end - other.start > length,
    );
    if (inside) continue;
    if (
      best === undefined ||
      candidate.start < best.start ||
      (candidate.start === best.start &&
        (length > best.end - best.start || (length === best.end - best.start && candidate.data.rank < best.data.rank)))
    ) {
      best = candidate;
    }
  }
  return best;
}

export function buildCatalogueIndex(
  catalogue: CatalogueConfig,
  folding: ChineseFolding,
): { index: CatalogueIndex; problems: string[] } {
  const problems: string[] = [];
  const products = new Map<string, Product>();
  const spaced: { pattern: string; data: AliasData }[] = [];
  const compact: { pattern: string; data: AliasData }[] = [];
  const words: string[] = [];
  let rank = 0;
  catalogue.products.forEach((product, p) => {
    products.set(product.sku, { sku: product.sku, name: product.name, price: product.price, currency: catalogue.currency });
    for (const [a, alias] of [product.name, ...product.aliases].entries()) {
      const tokens = productTokens(normaliseText(alias, folding));
      if (tokens.length === 0) {
        const where = a === 0 ? 'name' : `aliases[${a - 1}]`;
        problems.push(`catalogue.products[${p}].${where}: has no letters, digits or Chinese characters`);
        continue;
      }
      words.push(...tokens);
      const joined = tokens.join('');
      const data: AliasData = {
        sku: product.sku,
        alias: tokens.join(' '),
        rank: rank++,
        first: charClass(joined[0]),
        last: charClass(joined[joined.length - 1]),
        compactLength: joined.length,
      };
      spaced.push({ pattern: ` ${tokens.join(' ')} `, data });
      compact.push({ pattern: joined, data });
    }
  });
  const spacedMatcher = new PhraseAutomaton<AliasData>(spaced);
  const compactMatcher = new PhraseAutomaton<AliasData>(compact);
  const corrector = new TypoCorrector(words);

  const match = (normalisedText: string): SkuMatch | null => {
    const tokens = productTokens(normalisedText).map((token) => corrector.correct(token));
    if (tokens.length === 0) return null;
    const found: Candidate[] = [];
    // Token i starts at spacedStarts[i] in the spaced text and compactStarts[i] in the compact one.
    const compactStartOf = new Map<number, number>();
    let spacedText = ' ';
    let compactText = '';
    for (const token of tokens) {
      compactStartOf.set(spacedText.length, compactText.length);
      spacedText += `${token} `;
      compactText += token;
    }
    for (const hit of spacedMatcher.search(spacedText)) {
      const start = compactStartOf.get(hit.start + 1);
      if (hit.data === undefined || start === undefined) continue;
      found.push({ data: hit.data, start, end: start + hit.data.compactLength });
    }
    for (const hit of compactMatcher.search(compactText)) {
      const data = hit.data;
      if (data === undefined) continue;
      if (data.first !== 'han' && charClass(compactText[hit.start - 1]) === data.first) continue;
      if (data.last !== 'han' && charClass(compactText[hit.end]) === data.last) continue;
      found.push({ data, start: hit.start, end: hit.end });
    }
    const best = pickProduct(found);
    return best ? { sku: best.data.sku, alias: best.data.alias } : null;
  };
  return { index: { products, match }, problems };
}

export interface Opportunity {
  sku: string;
  contactId: string;
  wamid: string;
  amount?: number;
  currency?: string;
}

/**
 * TG-7: a message tagged purchase_intent that names a catalogue product becomes a sales
 * opportunity; the amount is the catalogue price when there is one.
 */
export function opportunityFrom(
  message: { tags: readonly string[]; sku: string | null; contactId: string; wamid: string },
  products: ReadonlyMap<string, Product>,
): Opportunity | null {
  if (!message.tags.includes('purchase_intent') || message.sku === null) return null;
  const product = products.get(message.sku);
  const opportunity: Opportunity = { sku: message.sku, contactId: message.contactId, wamid: message.wamid };
  if (product?.price !== undefined) {
    opportunity.amount = product.price;
    opportunity.currency = product.currency;
  }
  return opportunity;
}
