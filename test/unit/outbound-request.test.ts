import { describe, expect, it } from 'vitest';
import { RequestError, parseSendBody, summaryOf } from '#shared/outbound/request';
import { parameterProblem } from '#shared/outbound/submit';
import { windowOf } from '#shared/store/send-limits';
import { outboundIdFor, OUTBOUND_ID } from '#shared/store/outbox';

const to = { contactId: 'ct_1' };

describe('a send request', () => {
  it('is one kind of content with its category; every problem names its field', () => {
    expect(parseSendBody({ to, category: 'service', text: 'hi' })).toMatchObject({ origin: 'api', content: { type: 'text', text: 'hi' } });
    expect(() => parseSendBody({ to, category: 'service' })).toThrow(/exactly one of text, template, buttons, list, image, document is required \(got none\)/);
    expect(() => parseSendBody({ to, category: 'marketing', text: 'sale!' })).toThrow(/^category: only a template can be marketing/);
    expect(() => parseSendBody({ to, category: 'service', template: { name: 'x', language: 'en' } })).toThrow(/^category: a template is marketing, utility or authentication/);
    expect(() => parseSendBody({ to, category: 'service', text: 'hi', origin: 'agent' })).toThrow(/^agentId: required/);
    expect(() => parseSendBody({ to: { email: 'a@b.c' }, category: 'service', text: 'hi' })).toThrow(RequestError);
    expect(() => parseSendBody({ to, category: 'service', text: 'x'.repeat(4097) })).toThrow(/^text:/);
    expect(() => parseSendBody({ to, category: 'service', image: { mediaId: '1', link: 'https://a.example/x.png' } })).toThrow(/image: exactly one of mediaId and link/);
    expect(() => parseSendBody({ to, category: 'service', text: 'hi', colour: 'red' })).toThrow(/colour|Unrecognized/);
    expect(() => parseSendBody({ to, category: 'service', buttons: { body: 'Pick', buttons: [1, 2, 3, 4].map((i) => ({ id: `b${i}`, title: `B${i}` })) } })).toThrow(/^buttons.buttons:/);
  });

  it('takes a list of up to 10 rows in all', () => {
    const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `r${i}`, title: `Row ${i}` }));
    expect(parseSendBody({ to, category: 'service', list: { body: 'Pick a store', button: 'Stores', sections: [{ title: 'HK', rows: rows(6) }, { title: 'TW', rows: rows(4) }] } }).content).toMatchObject({ type: 'list', button: 'Stores' });
    expect(() => parseSendBody({ to, category: 'service', list: { body: 'Pick', button: 'Stores', sections: [{ title: 'A', rows: rows(6) }, { title: 'B', rows: rows(5) }] } })).toThrow(/^list.sections: at most 10 rows/);
  });

  it('hashes the same body the same whatever the key order, another body otherwise', () => {
    const a = parseSendBody({ to, category: 'service', text: 'hi', origin: 'agent', agentId: 'mei' });
    const b = parseSendBody({ agentId: 'mei', origin: 'agent', text: 'hi', category: 'service', to });
    const c = parseSendBody({ to, category: 'service', text: 'hi!', origin: 'agent', agentId: 'mei' });
    expect(a.requestHash).toBe(b.requestHash);
    expect(a.requestHash).not.toBe(c.requestHash);
  });

  it('gets our id from the idempotency key: the same key, the same id', () => {
    expect(outboundIdFor('order-1')).toBe(outboundIdFor('order-1'));
    expect(outboundIdFor('order-1')).not.toBe(outboundIdFor('order-2'));
    expect(outboundIdFor('order-1')).toMatch(OUTBOUND_ID);
  });

  it('reads as one line for people and the CRM', () => {
    expect(summaryOf({ type: 'template', name: 'order_update', language: 'en', parameters: ['Lee', 'A-1'] })).toBe('[template order_update (en): Lee, A-1]');
    expect(summaryOf({ type: 'buttons', body: 'Pick one', buttons: [{ id: 'a', title: 'Yes' }, { id: 'b', title: 'No' }] })).toBe('Pick one [Yes | No]');
  });
});

describe("a template's parameters", () => {
  const positional = { parameterFormat: 'positional' as const, bodyParameters: ['1', '2', '3'] };
  const named = { parameterFormat: 'named' as const, bodyParameters: ['first_name', 'discount'] };
  it('must fit the template before any call to Meta', () => {
    expect(parameterProblem(positional, ['a', 'b', 'c'])).toBeUndefined();
    expect(parameterProblem(positional, ['a'])).toBe('the template takes 3 parameter(s), 1 given');
    expect(parameterProblem(positional, { a: '1' })).toMatch(/positional/);
    expect(parameterProblem(named, { first_name: 'Ann', discount: '20%' })).toBeUndefined();
    expect(parameterProblem(named, { first_name: 'Ann', colour: 'red' })).toBe('missing discount; not in the template: colour');
    expect(parameterProblem(named, ['Ann'])).toMatch(/named parameters/);
    expect(parameterProblem({ parameterFormat: 'positional', bodyParameters: [] }, undefined)).toBeUndefined();
  });
});

describe('the moving 24 h of business-initiated conversations (CP-6)', () => {
  const HOUR = 3_600_000;
  const now = 1_000 * HOUR + 30 * 60_000; // half past hour 1000
  it('counts the current hour and the 24 before it; older hours are stale and a slot frees when the oldest leaves', () => {
    const w = windowOf({ h_975: 7, h_976: 2, h_990: 3, h_1000: 1, pk: 'LIMITS#portfolio' }, now);
    expect(w).toMatchObject({ used: 6, past: 5, currentHour: 1000, stale: ['h_975'] });
    expect(w.nextSlotAt).toBe((976 + 25) * HOUR);
    expect(windowOf({}, now)).toMatchObject({ used: 0, past: 0, stale: [] });
  });
});
