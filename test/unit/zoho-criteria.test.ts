/**
 * Zoho's value formats and search criteria: what the adapter writes (shared/crm/zoho/format.ts)
 * and how the local stand-in reads it (local/zoho/criteria.ts), including Zoho's fuzzy `equals`
 * with several conditions.
 */
import { describe, expect, it } from 'vitest';
import { CriteriaError, matches, parseCriteria } from '#local/zoho/criteria';
import { anyEquals, escapeCriteriaValue, parseZohoTime, phoneDigits, zohoDate, zohoDateTime } from '#shared/crm/zoho/format';

describe('Zoho value formats', () => {
  it('writes Date/Time without milliseconds or Z, and Date as the UTC day', () => {
    const ms = Date.parse('2026-11-20T23:59:58.765Z');
    expect(zohoDateTime(ms)).toBe('2026-11-20T23:59:58+00:00');
    expect(zohoDate(ms)).toBe('2026-11-20');
    expect(parseZohoTime('2026-11-21T07:59:58+08:00')).toBe(Date.parse('2026-11-20T23:59:58Z'));
    expect(parseZohoTime('')).toBeUndefined();
    expect(phoneDigits('+852 9123-4567')).toBe('85291234567');
  });
});

describe('Zoho search criteria', () => {
  it('escapes the characters the syntax reserves, and the stand-in reads them back', () => {
    expect(escapeCriteriaValue('Chan (Mei), Ltd\\')).toBe('Chan \\(Mei\\)\\, Ltd\\\\');
    const criteria = anyEquals([
      { field: 'Last_Name', value: 'Chan (Mei), Ltd' },
      { field: 'Phone', value: '+85291234567' },
    ]);
    expect(criteria).toBe('((Last_Name:equals:Chan \\(Mei\\)\\, Ltd)or(Phone:equals:+85291234567))');
    expect(parseCriteria(criteria)).toEqual({
      kind: 'group',
      joins: ['or'],
      items: [
        { kind: 'condition', field: 'Last_Name', operator: 'equals', value: 'Chan (Mei), Ltd' },
        { kind: 'condition', field: 'Phone', operator: 'equals', value: '+85291234567' },
      ],
    });
    expect(anyEquals([{ field: 'WhatsApp_User_ID', value: 'HK.1:2' }])).toBe('(WhatsApp_User_ID:equals:HK.1:2)');
    expect(parseCriteria('(WhatsApp_User_ID:equals:HK.1:2)')).toMatchObject({ field: 'WhatsApp_User_ID', value: 'HK.1:2' });
  });

  it('is exact with one condition and fuzzy (starts with) with several, as Zoho documents', () => {
    const record = { Phone: '+852912345678', Last_Name: 'ABC Inc', Contact: { id: '42', name: 'x' } };
    expect(matches(parseCriteria('(Phone:equals:+85291234567)'), record)).toBe(false);
    expect(matches(parseCriteria('((Phone:equals:+85291234567)or(Last_Name:equals:nobody))'), record)).toBe(true);
    expect(matches(parseCriteria('(Last_Name:starts_with:abc)'), record)).toBe(true);
    expect(matches(parseCriteria('((Last_Name:equals:ABC Inc)and(Contact:equals:42))'), record)).toBe(true);
    expect(matches(parseCriteria('((Last_Name:equals:ABC Inc)and(Contact:equals:43))'), record)).toBe(false);
  });

  it('refuses more than 10 criteria, unknown operators and broken syntax', () => {
    const eleven = `(${Array.from({ length: 11 }, (_, i) => `(Phone:equals:${i})`).join('or')})`;
    expect(() => parseCriteria(eleven)).toThrow(CriteriaError);
    expect(() => anyEquals(Array.from({ length: 11 }, (_, i) => ({ field: 'Phone', value: String(i) })))).toThrow(/at most 10/);
    expect(() => parseCriteria('(Phone:greater_than:1)')).toThrow(CriteriaError);
    expect(() => parseCriteria('(Phone:equals:1')).toThrow(CriteriaError);
    expect(() => parseCriteria('(Phone:equals:1)x')).toThrow(CriteriaError);
  });
});
