import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { duplicateCandidates, searchDuplicates, type MergeableContact } from '#shared/domain/intelligence/duplicates';
import { applyCrmChange, applyReview, applyWhatsAppValue, ECHO_WINDOW_MS, markPushed, needsPush, type FieldState } from '#shared/domain/two-way';

const T = Date.UTC(2026, 11, 2, 9, 0, 0);
const agreed = (value: string, at = T - 60_000): FieldState => ({ value, at, by: 'whatsapp', synced: value, wa: value });

describe('two-way fields: newest edit wins, conflicts queued (SY-3, ID-5)', () => {
  it('a sales edit of a field we did not change is taken, no conflict', () => {
    const r = applyCrmChange('firstName', agreed('Mei'), { value: 'May', at: T });
    expect(r).toMatchObject({ state: { value: 'May', by: 'crm', synced: 'May' }, push: false, changed: true });
    expect(r.conflict).toBeUndefined();
  });

  it('our own write coming back changes nothing: flagged by the CRM, or matching a write of ours in value and time', () => {
    const pushed = markPushed({ value: 'Peter', at: T, by: 'whatsapp', synced: 'Mei', wa: 'Peter' }, 'Peter', T + 100);
    expect(applyCrmChange('firstName', pushed, { value: 'Peter', at: T + 150 })).toMatchObject({ changed: false, push: false });
    const later = applyCrmChange('firstName', { ...pushed, value: 'Meg', synced: 'Meg', by: 'crm', at: T + 5000 }, { value: 'Peter', at: T + 150 });
    expect(later).toMatchObject({ changed: false, state: { value: 'Meg' } });
    expect(applyCrmChange('firstName', pushed, { value: 'Peter', at: T + ECHO_WINDOW_MS * 9, ours: true })).toMatchObject({ changed: false });
    expect(applyCrmChange('firstName', agreed('Mei'), { value: 'Mei', at: T, ours: true })).toMatchObject({ changed: false });
    expect(applyCrmChange('firstName', pushed, { value: 'Peter', at: T + ECHO_WINDOW_MS * 3 })).toMatchObject({ changed: false });
  });

  it('the CRM still holding the agreed value is no edit of theirs: our pending edit stays pending, no conflict', () => {
    const decided: FieldState = { value: 'Maggie', at: T + 60_000, by: 'review', synced: 'Meg', wa: 'Maggie' };
    const r = applyCrmChange('firstName', decided, { value: 'Meg', at: T + 500 });
    expect(r).toMatchObject({ state: decided, changed: false, push: false });
    expect(r.conflict).toBeUndefined();
    expect(needsPush(r.state)).toBe(true);
  });

  it('a value flagged ours that we never wrote is a sales edit our later write carried along: taken at that time', () => {
    // Sales wrote Meg, then our upsert wrote another field: the record's last writer is us.
    const r = applyCrmChange('firstName', agreed('Mei'), { value: 'Meg', at: T, ours: true });
    expect(r).toMatchObject({ state: { value: 'Meg', by: 'crm', at: T }, changed: true });
    const pending: FieldState = { value: 'Maggie', at: T - 500, by: 'whatsapp', synced: 'Mei', wa: 'Maggie' };
    expect(applyCrmChange('firstName', pending, { value: 'Meg', at: T, ours: true })).toMatchObject({ state: { value: 'Meg' }, conflict: { winner: 'theirs' } });
  });

  it('both sides changed since the last sync: one conflict, the newer edit wins and goes to the side that lost', () => {
    const ours: FieldState = { value: 'Maggie', at: T, by: 'whatsapp', synced: 'Mei', wa: 'Maggie' };
    const crmNewer = applyCrmChange('firstName', ours, { value: 'Meg', at: T + 1 });
    expect(crmNewer).toMatchObject({ state: { value: 'Meg', synced: 'Meg' }, push: false, conflict: { winner: 'theirs', ours: { value: 'Maggie', at: T }, theirs: { value: 'Meg', at: T + 1 } } });
    const oursNewer = applyCrmChange('firstName', ours, { value: 'Meg', at: T - 1 });
    expect(oursNewer).toMatchObject({ state: { value: 'Maggie', synced: 'Meg' }, push: true, conflict: { winner: 'ours' } });
    expect(needsPush(oursNewer.state)).toBe(true);
  });

  it('a sales edit our later write overwrote is a conflict; the newer (theirs) goes back to the CRM', () => {
    const pushed = markPushed({ value: 'Maggie', at: T - 5000, by: 'whatsapp', synced: 'Mei', wa: 'Maggie' }, 'Maggie', T + 10_000 + ECHO_WINDOW_MS);
    const r = applyCrmChange('firstName', pushed, { value: 'Meg', at: T });
    expect(r).toMatchObject({ state: { value: 'Meg', by: 'crm' }, push: true, conflict: { winner: 'theirs' } });
    expect(needsPush(r.state)).toBe(true);
  });

  it('an older CRM event after a newer one of the CRM is stale: ignored without a conflict', () => {
    const taken: FieldState = { value: 'Meg', at: T, by: 'crm', synced: 'Meg' };
    expect(applyCrmChange('firstName', taken, { value: 'May', at: T - 1000 })).toMatchObject({ changed: false, state: taken });
    expect(applyCrmChange('firstName', taken, { value: 'May', at: T - 1000 }).conflict).toBeUndefined();
  });

  it('equal times order deterministically: the same winner whichever side looks', () => {
    const ours: FieldState = { value: 'Bea', at: T, by: 'whatsapp', synced: 'Mei' };
    const a = applyCrmChange('firstName', ours, { value: 'Ann', at: T });
    const b = applyCrmChange('firstName', { ...ours, value: 'Ann' }, { value: 'Bea', at: T });
    expect(a.state.value).toBe('Ann');
    expect(b.state.value).toBe('Ann');
  });

  it('only a change of the WhatsApp profile name is an edit: the same name again never undoes a sales edit', () => {
    const sales: FieldState = { value: 'Meg', at: T, by: 'crm', synced: 'Meg', wa: 'Mei' };
    expect(applyWhatsAppValue('firstName', sales, 'Mei', T + 60_000)).toMatchObject({ changed: false, state: { value: 'Meg' } });
    expect(applyWhatsAppValue('firstName', sales, 'Peter', T + 60_000)).toMatchObject({ changed: true, push: true, state: { value: 'Peter', by: 'whatsapp', wa: 'Peter' } });
  });

  it('a WhatsApp edit older than a sales edit we took loses, recorded as a conflict', () => {
    const sales: FieldState = { value: 'Meg', at: T, by: 'crm', synced: 'Meg', wa: 'Mei' };
    const r = applyWhatsAppValue('firstName', sales, 'Maggie', T - 1000);
    expect(r).toMatchObject({ changed: false, push: false, state: { value: 'Meg', wa: 'Maggie' }, conflict: { winner: 'theirs' } });
  });

  it("a person's decision is written to both sides", () => {
    const r = applyReview({ value: 'Meg', at: T, by: 'crm', synced: 'Meg' }, 'Maggie', T + 1);
    expect(r.state).toMatchObject({ value: 'Maggie', by: 'review', synced: 'Meg' });
    expect(needsPush(r.state)).toBe(true);
  });
});

describe('duplicate search over stored contacts (ID-3)', () => {
  const DAY = 86_400_000;
  const names = ['Chan Tai Man', 'Chan Tai Mun', 'Wong Siu Ming', 'Wong Siu Ling', 'Олег Петров', 'Олег Петрова', '陳大文', '陳大民', 'Ann', 'Anne'];
  const contact = fc.record({ name: fc.constantFrom(...names), purchases: fc.array(fc.record({ sku: fc.constantFrom('APL-IP15PM', 'SAM-S24', 'SNY-WH1000'), day: fc.integer({ min: 0, max: 400 }) }), { maxLength: 3 }) });

  it('finds exactly the pairs the all-pairs rule finds: ≥ 80 % name similarity and the same SKU within 90 days', () => {
    fc.assert(
      fc.property(fc.array(contact, { maxLength: 40 }), (raw) => {
        const contacts: MergeableContact[] = raw.map((c, i) => ({ id: `ct_${String(i).padStart(3, '0')}`, name: c.name, createdAt: i, updatedAt: i, phones: [], messageIds: [], tags: [], mergedFrom: [], purchases: c.purchases.map((p) => ({ sku: p.sku, at: p.day * DAY })) }));
        const pairs = (list: { aId: string; bId: string }[]) => list.map((c) => `${c.aId}/${c.bId}`).sort();
        expect(pairs(searchDuplicates(contacts))).toEqual(pairs(duplicateCandidates(contacts)));
      }),
      { numRuns: 200 },
    );
  });
});
