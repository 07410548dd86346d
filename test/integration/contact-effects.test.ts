/**
 * A message's effects on its contact land exactly once: the counters and the message's applied
 * mark are one conditional write, batched for many messages, pruned after Meta's retry window.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageAnalysis } from '#shared/domain/records';
import { createRuntime, type Runtime } from '#shared/runtime';
import { APPLIED_MARK_DAYS, appliedMark, type InboundEffect } from '#shared/store/contacts';
import { startLocalServices, type LocalServices } from '#local/services';

let services: LocalServices;
let runtime: Runtime;
beforeAll(async () => {
  services = await startLocalServices({});
  runtime = await createRuntime({ ...services.env, WHATSAPP_APP_SECRET: 'effects-secret', WHATSAPP_VERIFY_TOKEN: 'effects-token' }, services.overrides);
});
afterAll(async () => {
  await services.stop();
});

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 20, 8);
let n = 0;
const analysis = (word: string, sentiment: number): MessageAnalysis => ({ tags: ['price_inquiry'], intent: 'price_inquiry', sku: null, sentiment, hotWords: { [word]: 1 } });
const effect = (sentAt: number, extra: Partial<InboundEffect> = {}): InboundEffect => ({
  wamid: `wamid.effects-${++n}`,
  receivedAt: sentAt + 1000,
  sentAt,
  phoneNumberId: '106540352242922',
  ...extra,
});
const seed = { leadSource: 'whatsapp' as const };
const contacts = () => runtime.store.contacts;
const newContact = () => `ct_effects_${++n}`;

describe('inbound effects on a contact', () => {
  it('a batch of messages is counted once each, even when one of them was applied before', async () => {
    const id = newContact();
    const [a, b, c] = [effect(T0, { analysis: analysis('discount', 0.2) }), effect(T0 + 1000, { analysis: analysis('discount', 0.4) }), effect(T0 + 2000, { analysis: analysis('refund', 0.6), profileName: 'Newest' })];
    await contacts().applyInbound(id, [b], seed, { now: T0 });
    await contacts().applyInbound(id, [a, b, c], seed, { now: T0 });
    await contacts().applyInbound(id, [a, b, c], seed, { now: T0, known: true });
    const stored = await contacts().get(id);
    expect(stored).toMatchObject({ inboundCount: 3, sentimentCount: 3, hotWords: { discount: 2, refund: 1 }, lastInboundAt: T0 + 2000, firstInboundAt: T0, profileName: 'Newest', lastSentiment: 0.6 });
    expect(stored!.sentimentSum).toBeCloseTo(1.2, 9);
  });

  it('an older message arriving late is counted but does not move the profile or the last inbound time back', async () => {
    const id = newContact();
    await contacts().applyInbound(id, [effect(T0 + DAY, { profileName: 'Current' })], seed, { now: T0 });
    await contacts().applyInbound(id, [effect(T0, { profileName: 'Old name' })], seed, { now: T0 });
    expect(await contacts().get(id)).toMatchObject({ inboundCount: 2, lastInboundAt: T0 + DAY, firstInboundAt: T0, profileName: 'Current' });
  });

  it('more messages than one write takes are split into several writes, each counted once', async () => {
    const id = newContact();
    const many = Array.from({ length: 45 }, (_, i) => effect(T0 + i, { analysis: analysis('discount', 0.5) }));
    await contacts().applyInbound(id, many, seed, { now: T0 });
    await contacts().applyInbound(id, many, seed, { now: T0 });
    expect(await contacts().get(id)).toMatchObject({ inboundCount: 45, hotWords: { discount: 45 } });
  });

  it(`marks older than ${APPLIED_MARK_DAYS} days (Meta stops retrying after 7) are pruned by the next write`, async () => {
    const id = newContact();
    const old = effect(T0);
    await contacts().applyInbound(id, [old], seed, { now: T0 });
    const later = T0 + (APPLIED_MARK_DAYS + 1) * DAY;
    const fresh = effect(later);
    await contacts().applyInbound(id, [fresh], seed, { now: later });
    const stored = (await contacts().get(id)) as unknown as { appliedMessages: string[]; inboundCount: number };
    expect(stored.inboundCount).toBe(2);
    expect(stored.appliedMessages).toEqual([appliedMark(fresh.wamid, fresh.receivedAt)]);
  });

  it('the mark of a 10,000-character wamid is 25 characters', () => {
    expect(appliedMark('w'.repeat(10_000), T0)).toMatch(/^20261120#[A-Za-z0-9_-]{16}$/);
  });
});
