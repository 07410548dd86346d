import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PhraseAutomaton } from '#shared/domain/intelligence/automaton';

/** Every occurrence of every pattern, the slow way, in the automaton's order. */
function naive(patterns: readonly string[], text: string) {
  const found: { start: number; end: number; data: number }[] = [];
  for (let end = 1; end <= text.length; end++) {
    const here = patterns
      .map((pattern, data) => ({ pattern, data }))
      .filter(({ pattern }) => pattern.length > 0 && pattern.length <= end && text.slice(end - pattern.length, end) === pattern)
      .sort((a, b) => b.pattern.length - a.pattern.length || a.data - b.data);
    found.push(...here.map(({ pattern, data }) => ({ start: end - pattern.length, end, data })));
  }
  return found;
}

describe('the phrase automaton (Aho–Corasick)', () => {
  it('finds overlapping phrases, longest first at one end, in UTF-16 positions', () => {
    const automaton = new PhraseAutomaton(['he', 'she', 'hers', '😂', '幾錢', '幾'].map((pattern, data) => ({ pattern, data })));
    expect(automaton.search('ushers 😂 幾錢?')).toEqual([
      { start: 1, end: 4, data: 1 },
      { start: 2, end: 4, data: 0 },
      { start: 2, end: 6, data: 2 },
      { start: 7, end: 9, data: 3 },
      { start: 10, end: 11, data: 5 },
      { start: 10, end: 12, data: 4 },
    ]);
    expect(new PhraseAutomaton([]).search('anything')).toEqual([]);
  });

  it('property: the same matches as looking for every pattern at every position', () => {
    const alphabet = fc.constantFrom('a', 'b', 'c', '幾', '😂');
    const word = fc.array(alphabet, { minLength: 0, maxLength: 4 }).map((units) => units.join(''));
    fc.assert(
      fc.property(fc.array(word, { maxLength: 8 }), fc.array(alphabet, { maxLength: 30 }).map((u) => u.join('')), (patterns, text) => {
        const automaton = new PhraseAutomaton(patterns.map((pattern, data) => ({ pattern, data })));
        expect(automaton.search(text)).toEqual(naive(patterns, text));
      }),
      { numRuns: 500 },
    );
  });
});
