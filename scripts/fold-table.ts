/**
 * `npm run fold-table`: writes config/intelligence/t2s-rules.json, the folding table cut down to
 * what the shipped rules use (shared/domain/intelligence/folding-subset.ts). Run it after changing
 * rules.json, sentiment.json or catalogue.json; a test fails while the file is out of date.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { foldingSubset } from '#shared/domain/intelligence/folding-subset';

const dir = new URL('../config/intelligence/', import.meta.url);
const read = (file: string) => JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as Record<string, unknown>;
const full = read('t2s.json') as { source: string; map: string };
const map = foldingSubset([read('rules.json'), read('sentiment.json'), read('catalogue.json')], full.map);
const subset = { source: `subset of t2s.json used by the rules (npm run fold-table); ${full.source}`, pairs: Array.from(map).length / 2, map };
writeFileSync(new URL('t2s-rules.json', dir), `${JSON.stringify(subset)}\n`);
console.log(`t2s-rules.json: ${subset.pairs} of ${Array.from(full.map).length / 2} pairs`);
