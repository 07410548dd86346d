/**
 * The daily duplicate search (ID-3) over 100,000 stored customers: names in four scripts, a
 * catalogue of 500 SKUs bought over a year, 2 % of customers written twice (a second number,
 * the name with one letter off). Pure: the search as the batch task runs it, timed.
 */
import { searchDuplicates, type DuplicateSubject } from '#shared/domain/intelligence/duplicates';

const FAMILY = ['Chan', 'Wong', 'Lee', 'Cheung', 'Lau', 'Ho', 'Ng', 'Lam', 'Петров', 'Иванова', '陳', '黃', '李', '張', 'Smith', 'Garcia', 'Nguyen', 'Tanaka'];
const GIVEN = ['Tai Man', 'Siu Ming', 'Mei Ling', 'Ka Ho', 'Wing Yee', 'Олег', 'Анна', '大文', '美玲', '家豪', 'John', 'Maria', 'Minh', 'Yuki', 'Grace', 'Peter'];

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

export function duplicateSubjects(count: number, seed = 7): { subjects: DuplicateSubject[]; planted: number } {
  const rnd = random(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(rnd() * list.length)]!;
  const year = 365 * 86_400_000;
  const now = Date.UTC(2026, 11, 2);
  const subjects: DuplicateSubject[] = [];
  let planted = 0;
  for (let i = 0; subjects.length < count; i++) {
    const name = `${pick(FAMILY)} ${pick(GIVEN)} ${String.fromCharCode(65 + Math.floor(rnd() * 26))}${Math.floor(rnd() * 1000)}`;
    const purchases = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => ({ sku: `SKU-${Math.floor(rnd() * 500)}`, at: now - Math.floor(rnd() * year) }));
    subjects.push({ id: `ct_${i}`, name, purchases });
    if (rnd() < 0.02 && subjects.length < count) {
      planted++;
      const typo = name.slice(0, -1) + String((Number(name.at(-1)) + 1) % 10);
      subjects.push({ id: `ct_${i}_b`, name: typo, purchases: [{ sku: purchases[0]!.sku, at: purchases[0]!.at + Math.floor(rnd() * 30) * 86_400_000 }] });
    }
  }
  return { subjects, planted };
}

export function benchDuplicates(count = 100_000): { contacts: number; planted: number; found: number; plantedFound: number; ms: number } {
  const { subjects, planted } = duplicateSubjects(count);
  const started = performance.now();
  const found = searchDuplicates(subjects);
  const ms = performance.now() - started;
  const plantedFound = found.filter((c) => c.bId === `${c.aId}_b` || c.aId === `${c.bId}_b`).length;
  return { contacts: subjects.length, planted, found: found.length, plantedFound, ms };
}
