import { describe, expect, it } from 'vitest';
import { isHan, isWordChar, normaliseText } from '#shared/domain/intelligence/normalise';
import { intelligence } from './helpers.ts';

const norm = (text: string): string => normaliseText(text, intelligence.folding);

describe('normalisation (TG-1 matching on text, not words)', () => {
  it('folds case and full width (NFKC)', () => {
    expect(norm('ＩＰＨＯＮＥ１５　Pro？')).toBe('iphone15 pro?');
  });

  it('folds traditional Chinese to simplified with the shipped table', () => {
    expect(norm('請問價錢幾多？門市喺邊')).toBe(norm('请问价钱几多？门市喺边'));
    expect(norm('蘋果')).toBe('苹果');
  });

  it('removes Latin diacritics and folds ё to е, but keeps й', () => {
    expect(norm('Lancôme Génifique Crème')).toBe('lancome genifique creme');
    expect(norm('Ещё')).toBe('еще');
    expect(norm('мой')).toBe('мой');
  });

  it('drops emoji variation selectors and skin tones, collapses whitespace', () => {
    expect(norm('❤️  👍🏽\n ok')).toBe('❤ 👍 ok');
  });

  it('classifies characters by script', () => {
    expect(isWordChar('a')).toBe(true);
    expect(isWordChar('ж')).toBe(true);
    expect(isWordChar('中')).toBe(false);
    expect(isHan('中')).toBe(true);
    expect(isWordChar(undefined)).toBe(false);
  });
});
