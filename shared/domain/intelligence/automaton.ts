/**
 * An Aho–Corasick automaton (Aho & Corasick, 1975): every phrase found in one pass over a text,
 * overlapping matches included. Pure; positions are UTF-16 indices, as JavaScript strings count.
 *
 * Matches come in the order of their end position; at one end position the longer phrase first,
 * and equal phrases in the order they were given. Written here rather than taken from a package:
 * the package this replaced carried 28 KB of streams, grapheme segmentation and alternative
 * back ends into every function bundle for the one `search` used (README: decisions, bundles).
 */

export interface PhraseEntry<T> {
  readonly pattern: string;
  readonly data: T;
}

export interface PhraseMatch<T> {
  /** Index of the first UTF-16 unit of the match. */
  readonly start: number;
  /** Index just after its last unit. */
  readonly end: number;
  readonly data: T;
}

export class PhraseAutomaton<T> {
  /** Transitions of each state, by UTF-16 unit. */
  private readonly next: Map<string, number>[] = [new Map()];
  /** Longest proper suffix of a state that is also a state. */
  private readonly fail: number[] = [0];
  /** The nearest state down the failure chain that ends a phrase (-1: none). */
  private readonly outputLink: number[] = [-1];
  /** Entries ending exactly at each state, in the order given. */
  private readonly ends: number[][] = [[]];
  private readonly entries: readonly PhraseEntry<T>[];

  constructor(entries: readonly PhraseEntry<T>[]) {
    this.entries = entries;
    entries.forEach(({ pattern }, index) => {
      if (pattern.length === 0) return;
      let state = 0;
      for (let i = 0; i < pattern.length; i++) {
        const unit = pattern[i]!;
        let to = this.next[state]!.get(unit);
        if (to === undefined) {
          to = this.next.length;
          this.next.push(new Map());
          this.fail.push(0);
          this.outputLink.push(-1);
          this.ends.push([]);
          this.next[state]!.set(unit, to);
        }
        state = to;
      }
      this.ends[state]!.push(index);
    });
    // Breadth first: a state's failure target is shallower, so it is complete before it is used.
    const queue: number[] = [...this.next[0]!.values()];
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head]!;
      for (const [unit, to] of this.next[state]!) {
        let f = this.fail[state]!;
        while (f !== 0 && !this.next[f]!.has(unit)) f = this.fail[f]!;
        const target = this.next[f]!.get(unit);
        this.fail[to] = target !== undefined && target !== to ? target : 0;
        const suffix = this.fail[to]!;
        this.outputLink[to] = this.ends[suffix]!.length > 0 ? suffix : this.outputLink[suffix]!;
        queue.push(to);
      }
    }
  }

  search(text: string): PhraseMatch<T>[] {
    const matches: PhraseMatch<T>[] = [];
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      const unit = text[i]!;
      while (state !== 0 && !this.next[state]!.has(unit)) state = this.fail[state]!;
      state = this.next[state]!.get(unit) ?? 0;
      for (let s = this.ends[state]!.length > 0 ? state : this.outputLink[state]!; s !== -1; s = this.outputLink[s]!) {
        for (const index of this.ends[s]!) {
          const entry = this.entries[index]!;
          matches.push({ start: i + 1 - entry.pattern.length, end: i + 1, data: entry.data });
        }
      }
    }
    return matches;
  }
}
