import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyDefaults, resolveField, resolveRecord } from '#shared/domain/intelligence/conflicts';
import { loadCrmDefaults } from '#shared/intelligence-files';
import { crmDefaultsSchema } from '#shared/domain/intelligence/config';
import { NOW } from './helpers.ts';

describe('ID-5 conflicts: the last modification wins on millisecond timestamps', () => {
  it('a WhatsApp change 1 ms later than the CRM change wins, and the conflict is recorded for review', () => {
    const r = resolveField('Gold', NOW, 'Silver', NOW + 1, 'customerLevel');
    expect(r.value).toBe('Silver');
    expect(r.winner).toBe('whatsapp');
    expect(r.conflict).toEqual({
      field: 'customerLevel',
      crmValue: 'Gold',
      waValue: 'Silver',
      winner: 'whatsapp',
      at: NOW + 1,
      day: '2025-06-15',
    });
  });

  it('equal values are no conflict; a never-set side loses silently', () => {
    expect(resolveField('a', 1, 'a', 2).conflict).toBeNull();
    expect(resolveField(undefined, 5, 'x', 1)).toEqual({ value: 'x', winner: 'whatsapp', conflict: null });
  });

  it('property: the later timestamp always wins', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.integer(), fc.integer({ min: 1, max: 1e9 }), (x, y, t, d) => {
        expect(resolveField(x, t + d, y, t).value).toBe(x);
        expect(resolveField(x, t, y, t + d).value).toBe(y);
      }),
    );
  });

  it('property: equal-time updates are ordered deterministically and argument order gives the same value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), fc.integer(), (x, y, t) => {
        const one = resolveField(x, t, y, t);
        const other = resolveField(y, t, x, t);
        expect(one.value).toEqual(other.value);
        expect(resolveField(x, t, y, t)).toEqual(one);
      }),
    );
  });

  it('resolves whole records field by field', () => {
    const { values, conflicts } = resolveRecord(
      { values: { name: 'Chan Tai Man', level: 'VIP' }, modifiedAt: { name: 10, level: 50 } },
      { values: { name: 'Tai Man', email: 'tm@example.com' }, modifiedAt: { name: 20, email: 5 } },
    );
    expect(values).toEqual({ name: 'Tai Man', level: 'VIP', email: 'tm@example.com' });
    expect(conflicts.map((c) => c.field)).toEqual(['name']);
  });
});

describe('ID-6 missing mapped CRM fields get their default instead of skipping the record', () => {
  const defaults = crmDefaultsSchema.parse(loadCrmDefaults());

  it('a missing customer level becomes "new customer"', () => {
    const { record, defaulted } = applyDefaults({ name: 'Chan', customerLevel: undefined }, defaults);
    expect(record.customerLevel).toBe('new customer');
    expect(defaulted).toContain('customerLevel');
  });

  it('null and blank count as missing; present values are kept', () => {
    expect(applyDefaults({ customerLevel: '  ' }, defaults).record.customerLevel).toBe('new customer');
    expect(applyDefaults({ customerLevel: null }, defaults).record.customerLevel).toBe('new customer');
    expect(applyDefaults({ customerLevel: 'VIP' }, defaults).record.customerLevel).toBe('VIP');
    expect(applyDefaults({ marketingOptIn: true }, defaults).record.marketingOptIn).toBe(true);
  });
});
