import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { shippedIntelligence } from '#shared/domain/intelligence/bundled';
import { classifyWith } from '#shared/domain/intelligence/classify';
import { parseLabelledSet } from '#shared/domain/intelligence/evaluation';
import { foldingSubset } from '#shared/domain/intelligence/folding-subset';
import { loadIntelligence } from '#shared/intelligence-files';

const dir = new URL('../../../config/intelligence/', import.meta.url);
const read = (file: string) => JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as Record<string, unknown>;

describe('the folding table the functions carry', () => {
  it('is up to date with the rules (run `npm run fold-table` after changing them)', () => {
    const full = read('t2s.json') as { map: string };
    const expected = foldingSubset([read('rules.json'), read('sentiment.json'), read('catalogue.json')], full.map);
    expect((read('t2s-rules.json') as { map: string }).map).toBe(expected);
  });

  it('classifies every labelled message exactly as the full table does', () => {
    const set = parseLabelledSet(readFileSync(new URL('../../../eval/labelled.jsonl', import.meta.url), 'utf8'));
    const full = loadIntelligence();
    const shipped = shippedIntelligence();
    for (const { text } of set) expect(classifyWith(shipped, text), text).toEqual(classifyWith(full, text));
  });

  it('keeps a pair when either character appears in a rule, and only then', () => {
    expect(foldingSubset([{ phrase: '買' }], '買买價价')).toBe('買买');
    expect(foldingSubset([{ phrase: '价' }], '買买價价')).toBe('價价');
    expect(foldingSubset([{ phrase: 'none' }], '買买價价')).toBe('');
  });
});
