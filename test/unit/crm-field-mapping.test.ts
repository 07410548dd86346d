/**
 * Field mapping as configuration (SY-8, ID-6): every shipped mapping is valid, a wrong one is
 * named, fields can be switched off, defaults fill missing values, and values a CRM field cannot
 * take are counted as failed (SY-9) instead of breaking the sync.
 */
import { describe, expect, it } from 'vitest';
import { buildFieldMapping, countsText, mapContactFields } from '#shared/crm/field-mapping';
import { fieldMapping } from '#shared/crm/mappings';
import { PROPERTY_DEFINITIONS } from '#shared/crm/hubspot/properties';
import type { CrmContactFields } from '#shared/crm/port';
import { emojiCounts } from '#shared/domain/analysis';
import { frequentEmoji } from '#shared/crm/mapping';
import { CRM_KINDS } from '#shared/resources';

const fields = (f: Partial<CrmContactFields> = {}): CrmContactFields => ({ tags: [], hotWords: {}, frequentEmoji: [], messageCount: 0, ...f });

describe('the shipped mappings (config/crm/*.json)', () => {
  it.each(CRM_KINDS.map((k) => [k]))('%s is valid and carries the satisfaction score, frequent emoji and hot-word counts (SY-8)', (kind) => {
    const mapping = fieldMapping(kind);
    const paths = mapping.rules.map((r) => r.path);
    expect(paths).toEqual(expect.arrayContaining(['satisfaction', 'frequentEmoji', 'hotWords', 'segment', 'customerLevel']));
    expect(mapping.rules.find((r) => r.path === 'customerLevel')?.default).toBe('new customer');
  });

  it('every HubSpot property the mapping writes is one hubspot:setup creates, or a standard one', () => {
    const standard = new Set(['address', 'city', 'state', 'zip', 'country']);
    const created = new Set(PROPERTY_DEFINITIONS.filter((d) => d.objectType === 'contacts').map((d) => d.name));
    for (const rule of fieldMapping('hubspot').rules) expect(created.has(rule.field) || standard.has(rule.field), rule.field).toBe(true);
  });
});

describe('a mapping file', () => {
  it('names a path we do not have, a missing field name, a type that cannot carry the value and a field mapped twice', () => {
    expect(() => buildFieldMapping('x', { contact: { avatar: { field: 'Avatar__c' } } })).toThrow(/contact\.avatar: not a field we have/);
    expect(() => buildFieldMapping('x', { contact: { segment: {} } })).toThrow(/contact\.segment: "field" .* is required/);
    expect(() => buildFieldMapping('x', { contact: { activityScore: { field: 'a', type: 'boolean' } } })).toThrow(/type boolean cannot carry our number/);
    expect(() => buildFieldMapping('x', { contact: { segment: { field: 'a' }, language: { field: 'a' } } })).toThrow(/already mapped from segment/);
    expect(() => buildFieldMapping('x', { contact: { segment: { field: 'a', type: 'enum' } } })).toThrow(/an enum needs its "values"/);
    expect(() => buildFieldMapping('x', { contact: [] })).toThrow(/config\/crm\/x\.json/);
  });

  it('a field switched off is never written, not even cleared', () => {
    const mapping = buildFieldMapping('x', { contact: { segment: { field: 'seg' }, language: { enabled: false } } });
    expect(mapping.disabled).toEqual(['language']);
    expect(mapContactFields(fields({ language: 'ru', segment: 'new' }), mapping).values).toEqual({ seg: 'new' });
  });
});

describe('mapping a contact', () => {
  const mapping = buildFieldMapping('x', {
    contact: {
      segment: { field: 'seg', type: 'enum', values: ['new', 'active'] },
      customerLevel: { field: 'level', default: 'new customer' },
      tags: { field: 'tags', maxLength: 12 },
      hotWords: { field: 'hot' },
      lastInteractionAt: { field: 'last' },
      sentiment: { field: 'mood' },
      satisfaction: { field: 'csat', onlyKnown: true },
      lastCoupon: { field: 'coupon', onlyKnown: true, maxLength: 5 },
      'address.locality': { field: 'city', onlyKnown: true },
    },
  });

  it('computed fields: a value as it is, a missing one its default (ID-6) or null to clear our old value', () => {
    const mapped = mapContactFields(fields({ segment: 'active', lastInteractionAt: 1_700_000_000_000 }), mapping);
    expect(mapped.values).toEqual({ seg: 'active', level: 'new customer', tags: null, hot: null, last: 1_700_000_000_000, mood: null });
    expect(mapped.defaulted).toEqual(['customerLevel']);
    expect(mapped.failed).toEqual([]);
    expect([...mapped.datetimeFields]).toEqual(['last']);
  });

  it('learnt facts: written with a value, never as null', () => {
    const without = mapContactFields(fields(), mapping).values;
    expect(without).not.toHaveProperty('csat');
    expect(without).not.toHaveProperty('city');
    const known = mapContactFields(fields({ satisfaction: 4, address: { locality: 'Mong Kok' } }), mapping).values;
    expect(known).toMatchObject({ csat: 4, city: 'Mong Kok' });
  });

  it('a value the field cannot take is counted failed (SY-9) and left out: an enum value it has no option for, a text too long', () => {
    const mapped = mapContactFields(fields({ segment: 'vip', lastCoupon: 'WELCOME-2026' }), mapping);
    expect(mapped.values).not.toHaveProperty('seg');
    expect(mapped.values).not.toHaveProperty('coupon');
    expect(mapped.failed.map((f) => f.path)).toEqual(['segment', 'lastCoupon']);
    expect(mapped.failed[0]!.reason).toContain('vip is not one of');
  });

  it('lists and counts are cut at their last whole entry to fit the field', () => {
    const mapped = mapContactFields(fields({ tags: ['complaint', 'vip', 'wholesale'], hotWords: { refund: 1, discount: 4, late: 4 } }), mapping);
    expect(mapped.values['tags']).toBe('complaint');
    expect(mapped.values['hot']).toBe('discount:4;late:4;refund:1');
    expect(mapped.failed).toEqual([]);
  });

  it('hot words are most frequent first, at most 20, zero counts left out', () => {
    const counters = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`w${String(i).padStart(2, '0')}`, i]));
    const text = countsText(counters);
    expect(text.split(';')).toHaveLength(20);
    expect(text.startsWith('w24:24;w23:23')).toBe(true);
    expect(text).not.toContain('w00:0');
  });
});

describe('frequent emoji (SY-8)', () => {
  it('counts each emoji of a message, skin tones and variation selectors folded, flags and joined sequences whole', () => {
    expect(emojiCounts('好的👍🏽👍 ❤️😂😂 🇭🇰 👨‍👩‍👧 ok')).toEqual({ '👍': 2, '❤': 1, '😂': 2, '🇭🇰': 1, '👨‍👩‍👧': 1 });
    expect(emojiCounts('no emoji here, 123 #1')).toBeUndefined();
  });

  it('counts at most 8 distinct emoji per message', () => {
    expect(Object.keys(emojiCounts('😀😁😂🤣😃😄😅😆😉😊')!)).toHaveLength(8);
  });

  it('the CRM gets the five most used, most frequent first', () => {
    expect(frequentEmoji({ '😂': 3, '👍': 7, '🙏': 1, '❤': 3, '🔥': 2, '🎉': 2 })).toEqual(['👍', '❤', '😂', '🎉', '🔥']);
    expect(frequentEmoji(undefined)).toEqual([]);
  });
});
