/**
 * Merges of contacts that turn out to be one customer, against the real table: transitive (a
 * chain keeps every history) and cycle-proof (opposing merges at the same moment converge).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shippedIntelligence } from '#shared/domain/intelligence/bundled';
import { normalisePhone } from '#shared/phone';
import { ContactInsightsKeeper } from '#shared/sync/insights';
import { newWamid, textMessage } from '#local/webhooks';
import { startHarness, type Harness } from '../helpers/webhook-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.stop();
});

let seq = 0;
const person = (tag: string) => {
  seq++;
  const n = `${Date.now() % 100_000}${seq}`.padStart(7, '0').slice(-7);
  return { bsuid: `HK.${tag}${Date.now()}${seq}`, waId: `8529${n}` };
};
const contactOfBsuid = async (bsuid: string) => (await h.runtime.store.identities.owners([{ kind: 'bsuid', value: bsuid }])).get(`bsuid#${bsuid}`)!;

describe('merges are transitive', () => {
  it('a chain A←B←C keeps C\'s history in A\'s insights', async () => {
    const [a, b, c] = [person('a'), person('b'), person('c')];
    const t0 = Date.now();
    for (const [i, p] of [a, b, c].entries()) {
      await h.post(textMessage(p, `hello from ${i}`, { wamid: newWamid(), at: t0 - 86_400_000 }), { app: h.appWith({ now: () => t0 + i * 1000 }) });
    }
    const [ca, cb, cc] = await Promise.all([a, b, c].map((p) => contactOfBsuid(p.bsuid)));
    // B is proven to be C (C merged into B), then A to be B (B merged into A).
    await h.runtime.identities.resolve({ bsuid: b.bsuid, phone: normalisePhone(c.waId, 'HK') }, t0 + 5000);
    await h.runtime.identities.resolve({ bsuid: a.bsuid, phone: normalisePhone(b.waId, 'HK') }, t0 + 6000);
    const root = await h.runtime.store.contacts.get(ca!);
    expect(new Set(root!.mergedFrom)).toEqual(new Set([cb, cc]));
    // Three customer messages in 30 days: active, not potential (which 1–2 would be).
    const insights = await new ContactInsightsKeeper({ store: h.runtime.store, intelligence: shippedIntelligence() }).compute(root!, t0);
    expect(insights.segment).toBe('active');
  });
});

describe('merges cannot form a cycle', () => {
  it('opposing merges of the same two contacts at the same moment end in one survivor, 20 times over', async () => {
    const pairs = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const [x, y] = [person('x'), person('y')];
        const t0 = Date.now();
        await h.post(textMessage(x, 'x', {}), { app: h.appWith({ now: () => t0 }) });
        await h.post(textMessage(y, 'y', {}), { app: h.appWith({ now: () => t0 + 1 }) });
        return { x, y, cx: await contactOfBsuid(x.bsuid), cy: await contactOfBsuid(y.bsuid) };
      }),
    );
    // Each delivery proves the two are one customer, from opposite sides, at once.
    await Promise.all(
      pairs.flatMap(({ x, y }) => [
        h.runtime.identities.resolve({ bsuid: x.bsuid, phone: normalisePhone(y.waId, 'HK') }, Date.now()),
        h.runtime.identities.resolve({ bsuid: y.bsuid, phone: normalisePhone(x.waId, 'HK') }, Date.now()),
      ]),
    );
    for (const { cx, cy } of pairs) {
      const [x, y] = await Promise.all([h.runtime.store.contacts.get(cx), h.runtime.store.contacts.get(cy)]);
      // Never both merged (a cycle); exactly one survives, the older one.
      expect([x!.mergedInto, y!.mergedInto].filter(Boolean)).toHaveLength(1);
      expect(y!.mergedInto).toBe(cx);
    }
  });
});
