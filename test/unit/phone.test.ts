import { describe, expect, it } from 'vitest';
import { maskPhone, normalisePhone } from '#shared/phone';

describe('phone numbers are normalised to E.164 (ID-1)', () => {
  it.each([
    ['85291234567', 'HK', '+85291234567'], // WhatsApp wa_id: digits with country code, no plus
    ['886912345678', 'HK', '+886912345678'],
    ['+852 9123 4567', 'HK', '+85291234567'],
    ['9123 4567', 'HK', '+85291234567'], // local Hong Kong format in the default region
    ['0912-345-678', 'TW', '+886912345678'], // local Taiwan format
    ['(0912) 345 678', 'TW', '+886912345678'],
    ['+7 916 123-45-67', 'HK', '+79161234567'],
  ])('%s in region %s becomes %s', (raw, region, e164) => {
    const phone = normalisePhone(raw, region);
    expect(phone).toMatchObject({ e164, valid: true, raw });
  });

  it('an unparseable number is kept raw and flagged, never dropped', () => {
    const phone = normalisePhone('call me', 'HK');
    expect(phone).toEqual({ raw: 'call me', e164: undefined, valid: false, region: undefined });
  });

  it('a number of the right shape that no region assigns is marked invalid', () => {
    const phone = normalisePhone('0000123', 'HK');
    expect(phone.valid).toBe(false);
    expect(phone.raw).toBe('0000123');
  });

  it('logs see a masked number only', () => {
    expect(maskPhone('+85291234567')).toBe('+852******67');
    expect(maskPhone(undefined)).toBeUndefined();
  });
});
