import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MergeableContact } from '#shared/domain/intelligence/duplicates';
import { duplicateCandidates, merge, nameSimilarity, unmerge } from '#shared/domain/intelligence/duplicates';
import { DAY, NOW, intelligence } from './helpers.ts';

function contact(id: string, name: string, purchases: { sku: string; at: number }[], extra: Partial<MergeableContact> = {}): MergeableContact {
  return {
    id,
    name,
    createdAt: NOW - 100 * DAY,
    updatedAt: NOW - DAY,
    phones: [`+8529${id.padStart(7, '0').slice(-7)}`],
    messageIds: [`wamid.${id}.1`, `wamid.${id}.2`],
    purchases,
    tags: [],
    mergedFrom: [],
    ...extra,
  };
}

describe('ID-3 duplicate candidates: name similarity ≥ 80% AND same SKU within 90 days', () => {
  it('similar names who bought the same SKU 30 days apart are a candidate', () => {
    const a = contact('a', 'Chan Tai Man', [{ sku: 'APL-IP15PM', at: NOW - 40 * DAY }]);
    const b = contact('b', 'Chan Tai-Man', [{ sku: 'APL-IP15PM', at: NOW - 10 * DAY }]);
    expect(duplicateCandidates([a, b])).toEqual([{ aId: 'a', bId: 'b', similarity: expect.closeTo(0.917, 3), sku: 'APL-IP15PM' }]);
  });

  it('91 days apart is not; 90 days exactly is', () => {
    const a = contact('a', 'Wong Siu Ming', [{ sku: 'SK2-FTE230', at: NOW - 91 * DAY }]);
    const b = contact('b', 'Wong Siu Ming', [{ sku: 'SK2-FTE230', at: NOW }]);
    expect(duplicateCandidates([a, b])).toEqual([]);
    const c = contact('c', 'Wong Siu Ming', [{ sku: 'SK2-FTE230', at: NOW - 90 * DAY }]);
    expect(duplicateCandidates([c, b])).toHaveLength(1);
  });

  it('different SKUs, or names below 80% similar, are not candidates', () => {
    const a = contact('a', 'Lee Ka Yan', [{ sku: 'APL-IP15', at: NOW }]);
    const b = contact('b', 'Lee Ka Yan', [{ sku: 'APL-IP15P', at: NOW }]);
    const c = contact('c', 'Cheung Wai', [{ sku: 'APL-IP15', at: NOW }]);
    expect(duplicateCandidates([a, b, c])).toEqual([]);
  });

  it('compares names after case, width, accent and 繁/简 folding', () => {
    expect(nameSimilarity('陳大文', '陈大文', intelligence.folding)).toBe(1);
    expect(nameSimilarity('JOSÉ  LI', 'jose li')).toBe(1);
    expect(nameSimilarity('Chan Tai Man', 'Chan Tai Mun')).toBeCloseTo(1 - 1 / 12, 10);
  });
});

const contactArb = (id: string): fc.Arbitrary<MergeableContact> =>
  fc.record({
    id: fc.constant(id),
    name: fc.string({ maxLength: 12 }),
    createdAt: fc.integer({ min: 0, max: 10 }),
    updatedAt: fc.integer({ min: 0, max: 10 }),
    phones: fc.uniqueArray(fc.constantFrom('+85291234567', '+85261234567', '+886912345678'), { maxLength: 2 }),
    messageIds: fc.uniqueArray(fc.string({ minLength: 1, maxLength: 4 }).map((s) => `wamid.${s}`), { maxLength: 6 }),
    purchases: fc.array(fc.record({ sku: fc.constantFrom('APL-IP15', 'SK2-FTE230'), at: fc.integer({ min: 0, max: 5 }) }), { maxLength: 3 }),
    tags: fc.uniqueArray(fc.constantFrom('vip', 'price_sensitive'), { maxLength: 2 }),
    mergedFrom: fc.constant([]),
  });

describe('ID-3 merge laws', () => {
  it('merge keeps the whole history of both contacts (message ids union)', () => {
    fc.assert(
      fc.property(contactArb('a'), contactArb('b'), ({ ...a }, b) => {
        const { contact: merged } = merge(a, b, NOW);
        expect(new Set(merged.messageIds)).toEqual(new Set([...a.messageIds, ...b.messageIds]));
        expect(merged.mergedFrom).toContain(merged.id === 'a' ? 'b' : 'a');
      }),
    );
  });

  it('merging twice changes nothing (idempotent)', () => {
    fc.assert(
      fc.property(contactArb('a'), contactArb('b'), fc.integer({ min: 1, max: 1000 }), (a, b, later) => {
        const once = merge(a, b, NOW).contact;
        const twice = merge(once, b, NOW + later);
        expect(twice.contact).toEqual(once);
        expect(twice.record).toBeNull();
        expect(merge(once, a, NOW + later).contact).toEqual(once);
      }),
    );
  });

  it('unmerge(merge(a, b)) restores both contacts exactly', () => {
    fc.assert(
      fc.property(contactArb('a'), contactArb('b'), (a, b) => {
        const { contact, record } = merge(a, b, NOW);
        expect(record).not.toBeNull();
        if (!record) return;
        const restored = unmerge(contact, record);
        expect(new Set([restored.survivor, restored.absorbed])).toEqual(new Set([a, b]));
        expect([restored.survivor.id, restored.absorbed.id].sort()).toEqual(['a', 'b']);
      }),
    );
  });

  it('merge(a, b) = merge(b, a): the older contact survives', () => {
    fc.assert(
      fc.property(contactArb('a'), contactArb('b'), (a, b) => {
        expect(merge(a, b, NOW).contact.id).toBe(merge(b, a, NOW).contact.id);
        expect(new Set(merge(a, b, NOW).contact.messageIds)).toEqual(new Set(merge(b, a, NOW).contact.messageIds));
      }),
    );
  });

  it('messages that arrive after a merge stay with the survivor on unmerge', () => {
    const a = contact('a', 'Chan', [], { createdAt: 1 });
    const b = contact('b', 'Chan', [], { createdAt: 2 });
    const { contact: merged, record } = merge(a, b, NOW);
    const grown = { ...merged, messageIds: [...merged.messageIds, 'wamid.new'] };
    const restored = unmerge(grown, record!);
    expect(restored.survivor.messageIds).toEqual([...a.messageIds, 'wamid.new']);
    expect(restored.absorbed).toEqual(b);
  });
});
