import { describe, expect, it } from 'vitest';
import { consentCommands, consentFromMessage, supersedes, type Consent } from '#shared/domain/consent';
import { shippedIntelligence } from '#shared/domain/intelligence/bundled';
import { classify } from '#shared/domain/intelligence/classify';

const commands = consentCommands(shippedIntelligence().folding);
const read = (text: string) => consentFromMessage(text, classify(text).intent, commands);

describe('what a message says about marketing consent (CP-7)', () => {
  it.each([
    ['STOP', 'opted_out'],
    ['stop!!', 'opted_out'],
    ['Unsubscribe 🙏', 'opted_out'],
    ['退訂', 'opted_out'],
    ['取消订阅', 'opted_out'],
    ['отписаться', 'opted_out'],
    ['please stop sending me promotions', 'opted_out'],
    ['START', 'opted_in'],
    ['訂閱', 'opted_in'],
    ['订阅', 'opted_in'],
    ['Подписаться', 'opted_in'],
  ])('%s → %s', (text, state) => {
    expect(read(text)).toBe(state);
  });

  it.each(['when does the sale start?', 'I want to subscribe to your VIP club, how much is it?', 'the app keeps stopping', 'hello', '😂'])('%s → nothing', (text) => {
    expect(read(text)).toBeUndefined();
  });
});

describe('the commands file', () => {
  it('a wrong entry fails naming it', () => {
    expect(() => consentCommands(new Map(), { optIn: { en: ['start', ''] }, optOut: {} })).toThrow(/consent.json: optIn.en.1/);
  });
});

describe('the last word wins', () => {
  const at = (state: Consent['state'], t: number): Consent => ({ state, at: t, source: 'whatsapp_message' });
  it('a later consent replaces an earlier one, an earlier one never replaces a later one', () => {
    expect(supersedes(at('opted_in', 2), at('opted_out', 1))).toBe(true);
    expect(supersedes(at('opted_out', 1), at('opted_in', 2))).toBe(false);
    expect(supersedes(at('opted_out', 1), undefined)).toBe(true);
  });
  it('at the same moment an opt-out wins over an opt-in, and nothing replaces itself', () => {
    expect(supersedes(at('opted_out', 5), at('opted_in', 5))).toBe(true);
    expect(supersedes(at('opted_in', 5), at('opted_out', 5))).toBe(false);
    expect(supersedes(at('opted_out', 5), at('opted_out', 5))).toBe(false);
  });
});
