import { describe, expect, it } from 'vitest';
import { opportunityFrom, productTokens, withinOneEdit } from '#shared/domain/intelligence/catalogue';
import { intelligence, run } from './helpers.ts';

describe('ID-4 product names → catalogue SKUs', () => {
  it.each([
    'iPhone15 Pro Max',
    'iphone 15 pro max',
    'IPHONE 15 PRO MAX',
    '蘋果15 Pro Max',
    '苹果15promax',
    'iphone15promax',
    'айфон 15 про макс',
    'ｉＰｈｏｎｅ１５ Ｐｒｏ Ｍａｘ',
  ])('%s → APL-IP15PM', (text) => {
    expect(run(`想問 ${text} 有冇貨`).sku).toBe('APL-IP15PM');
  });

  it('the most specific alias wins: 15 Pro Max over 15 Pro over 15', () => {
    expect(run('iPhone 15').sku).toBe('APL-IP15');
    expect(run('iPhone 15 Pro case').sku).toBe('APL-IP15P');
    expect(run('iPhone 15 Pro Max').sku).toBe('APL-IP15PM');
  });

  it('tolerates one typo in words of 5+ letters, and Russian case endings', () => {
    expect(run('iphnoe 15 pro max').sku).toBe('APL-IP15PM');
    expect(run('ipone 15 pro max').sku).toBe('APL-IP15PM');
    expect(run('Samsng Galaxy S24 Ultra').sku).toBe('SAM-S24U');
    expect(run('чехол для айфона 15').sku).toBe('APL-IP15');
  });

  it('does not invent products: short words are not fuzzed and digits must match', () => {
    expect(run('iphone 14 pro max').sku).toBeNull();
    expect(run('Hello, how are you?').sku).toBeNull();
    expect(run('ps55').sku).toBeNull();
  });

  it('the first product mentioned wins when several are named', () => {
    expect(run('小黑瓶同紅腰子有咩分別').sku).toBe('LAN-GEN50');
  });

  it('tokenises letters, digits and Han characters separately', () => {
    expect(productTokens('wh-1000xm5 蘋果15')).toEqual(['wh', '1000', 'xm', '5', '蘋', '果', '15']);
  });

  it('withinOneEdit is optimal string alignment distance ≤ 1', () => {
    expect(withinOneEdit('iphone', 'iphnoe')).toBe(true);
    expect(withinOneEdit('iphone', 'ipone')).toBe(true);
    expect(withinOneEdit('iphone', 'iphonee')).toBe(true);
    expect(withinOneEdit('iphone', 'ihpnoe')).toBe(false);
  });
});

describe('TG-7 purchase intent → sales opportunity', () => {
  it('"I want to buy product A" creates an opportunity with the SKU and the catalogue price', () => {
    const c = run('我想買蘋果15 Pro Max');
    expect(opportunityFrom({ ...c, contactId: 'c1', wamid: 'wamid.1' }, intelligence.catalogue.products)).toEqual({
      sku: 'APL-IP15PM',
      contactId: 'c1',
      wamid: 'wamid.1',
      amount: 9599,
      currency: 'HKD',
    });
  });

  it('no purchase intent, or no product, is no opportunity', () => {
    const question = run('iPhone 15 Pro Max 有冇貨？');
    expect(opportunityFrom({ ...question, contactId: 'c1', wamid: 'w' }, intelligence.catalogue.products)).toBeNull();
    const vague = run('I want to buy something nice');
    expect(opportunityFrom({ ...vague, contactId: 'c1', wamid: 'w' }, intelligence.catalogue.products)).toBeNull();
  });
});
