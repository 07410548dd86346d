/**
 * Text normalisation shared by rules, lexicons, catalogue aliases and incoming messages.
 * Every pattern and every message goes through the same function, so matching is
 * insensitive to case, full/half width, traditional vs simplified Chinese, Latin
 * diacritics and ё/е. Pure: the character table is passed in.
 */

/** Traditional → simplified single-character table (see config/intelligence/t2s.json). */
export type ChineseFolding = ReadonlyMap<string, string>;

const LATIN_WITH_MARKS = /[\u00C0-\u024F\u1E00-\u1EFF]/g;
const COMBINING_MARKS = /\p{M}/gu;
/** Emoji presentation selectors and skin-tone modifiers: ❤️ and ❤ are the same heart. */
const EMOJI_MODIFIERS = /\uFE0E|\uFE0F|\u{1F3FB}|\u{1F3FC}|\u{1F3FD}|\u{1F3FE}|\u{1F3FF}/gu;
const TYPOGRAPHIC = /[\u2018\u2019\u02BC\u00B4\u0060]/g;
const WHITESPACE = /\s+/g;

function stripLatinMarks(char: string): string {
  return char.normalize('NFD').replace(COMBINING_MARKS, '');
}

/** Parses the compact `map` string of t2s.json: consecutive (traditional, simplified) code points. */
export function parseChineseFolding(pairs: string): ChineseFolding {
  const chars = Array.from(pairs);
  const table = new Map<string, string>();
  for (let i = 0; i + 1 < chars.length; i += 2) {
    const from = chars[i];
    const to = chars[i + 1];
    if (from !== undefined && to !== undefined) table.set(from, to);
  }
  return table;
}

function foldChinese(text: string, folding: ChineseFolding): string {
  let out = '';
  let changed = false;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (code >= 0x3400) {
      const simplified = folding.get(char);
      if (simplified !== undefined) {
        out += simplified;
        changed = true;
        continue;
      }
    }
    out += char;
  }
  return changed ? out : text;
}

/**
 * NFKC (full width → half width), lower case, typographic apostrophes → ', Latin diacritics
 * removed (é → e, but Cyrillic й is kept), ё → е, emoji modifiers dropped, traditional →
 * simplified Chinese, whitespace collapsed.
 */
export function normaliseText(text: string, folding: ChineseFolding): string {
  let out = text.normalize('NFKC').toLowerCase();
  out = out.replace(TYPOGRAPHIC, "'").replace(EMOJI_MODIFIERS, '');
  out = out.replace(LATIN_WITH_MARKS, stripLatinMarks).replaceAll('ё', 'е');
  out = foldChinese(out, folding);
  return out.replace(WHITESPACE, ' ').trim();
}

/** True for a Latin, Cyrillic or digit character: the scripts that separate words with spaces. */
export function isWordChar(char: string | undefined): boolean {
  if (char === undefined) return false;
  const code = char.charCodeAt(0);
  return (
    (code >= 0x30 && code <= 0x39) ||
    (code >= 0x61 && code <= 0x7a) ||
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0xc0 && code <= 0x24f) ||
    (code >= 0x400 && code <= 0x4ff)
  );
}

/** True for a CJK ideograph (BMP blocks used by Chinese). */
export function isHan(char: string | undefined): boolean {
  if (char === undefined) return false;
  const code = char.charCodeAt(0);
  return (code >= 0x3400 && code <= 0x9fff) || (code >= 0xf900 && code <= 0xfaff);
}
