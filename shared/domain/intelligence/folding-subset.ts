/**
 * The traditional → simplified table cut down to the pairs the rules can use: a pair matters only
 * when one of its characters appears somewhere in the rules, lexicons or catalogue. Every phrase
 * is folded with the same table, so a character that no phrase contains can never be part of a
 * match, folded or not — classification with the subset is identical to the full table (a test
 * checks it on the whole evaluation set). Function bundles carry the subset (README: performance).
 */
export function foldingSubset(configs: readonly unknown[], fullMap: string): string {
  const used = new Set(Array.from(JSON.stringify(configs)));
  const chars = Array.from(fullMap);
  let subset = '';
  for (let i = 0; i + 1 < chars.length; i += 2) {
    const [from, to] = [chars[i]!, chars[i + 1]!];
    if (used.has(from) || used.has(to)) subset += from + to;
  }
  return subset;
}
