/**
 * Who survives a merge (pure), and the merge algorithm under every interleaving fast-check can
 * find of concurrent merges, against an in-memory store with DynamoDB's conditional-write
 * semantics: no cycle, one survivor per customer, every absorbed history reachable.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chooseSurvivor, survivesOver, type MergeCandidate } from '#shared/domain/merge';
import type { Contact } from '#shared/domain/records';
import { IdentityResolver } from '#shared/identity/resolver';
import type { Store } from '#shared/store/store';

describe('who survives a merge', () => {
  it('the oldest contact survives; on equal creation times the smaller id', () => {
    const a = { contactId: 'ct_b', createdAt: 100 };
    const b = { contactId: 'ct_a', createdAt: 200 };
    const c = { contactId: 'ct_c', createdAt: 100 };
    expect(chooseSurvivor([b, a, c])).toBe(a);
    expect(chooseSurvivor([c, a])).toBe(a);
    expect(chooseSurvivor([b])).toBe(b);
    expect(() => chooseSurvivor([])).toThrow(/at least one/);
  });

  it('property: the survivor does not depend on the order the contacts are named in, and survives over every other', () => {
    const candidate = fc.record({ contactId: fc.stringMatching(/^ct_[a-e]{1,3}$/), createdAt: fc.integer({ min: 0, max: 5 }) });
    fc.assert(
      fc.property(fc.uniqueArray(candidate, { minLength: 1, maxLength: 8, selector: (c) => c.contactId }), fc.func(fc.integer()), (candidates, key) => {
        const shuffled = [...candidates].sort((x, y) => key(x.contactId) - key(y.contactId));
        const survivor = chooseSurvivor(candidates);
        expect(chooseSurvivor(shuffled)).toBe(survivor);
        for (const other of candidates) if (other !== survivor) expect(survivesOver(survivor, other)).toBe(true);
      }),
    );
  });
});

/** Contacts and identities in memory, every call scheduled by fast-check (the interleaving). */
function scheduledStore(schedule: <T>(run: () => T) => Promise<T>, initial: MergeCandidate[]) {
  const contacts = new Map<string, Contact & { mergedFrom?: string[] }>();
  for (const c of initial) {
    if (c.createdAt >= 0) contacts.set(c.contactId, { contactId: c.contactId, createdAt: c.createdAt, updatedAt: c.createdAt, leadSource: 'whatsapp', customerLevel: 'new customer' });
  }
  const copy = <T>(v: T): T => structuredClone(v);
  const store = {
    contacts: {
      get: (id: string) => schedule(() => copy(contacts.get(id))),
      ensure: (id: string, _seed: unknown, at: number) =>
        schedule(() => {
          const c = contacts.get(id) ?? { contactId: id, createdAt: at, updatedAt: at, leadSource: 'whatsapp', customerLevel: 'new customer' };
          contacts.set(id, c as Contact);
          return copy(c);
        }),
      markMerged: (loser: string, survivor: string) =>
        schedule(() => {
          const c = contacts.get(loser);
          if (!c || (c.mergedInto && c.mergedInto !== survivor)) return false;
          contacts.set(loser, { ...c, mergedInto: survivor });
          return true;
        }),
      addMergedFrom: (survivor: string, merged: readonly string[]) =>
        schedule(() => {
          const c = contacts.get(survivor)!;
          contacts.set(survivor, { ...c, mergedFrom: [...new Set([...(c.mergedFrom ?? []), ...merged])] });
        }),
      mergedFrom: (id: string) => schedule(() => [...(contacts.get(id)?.mergedFrom ?? [])]),
    },
    identities: {
      owners: async () => new Map<string, string>(),
      claim: async (_id: unknown, contactId: string) => contactId,
      move: async () => true,
    },
  };
  return { store: store as unknown as Pick<Store, 'contacts' | 'identities'>, contacts };
}

describe('merges under concurrency (property)', () => {
  it('any concurrent merges of any contacts: no cycle, one survivor per merged set, every absorbed contact reachable from its root', async () => {
    const ids = ['ct_a', 'ct_b', 'ct_c', 'ct_d', 'ct_e'];
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        // Creation times; -1: the contact's first delivery died before creating it.
        fc.tuple(...ids.map(() => fc.integer({ min: -1, max: 3 }))),
        fc.array(fc.uniqueArray(fc.constantFrom(...ids), { minLength: 2, maxLength: 4 }), { minLength: 1, maxLength: 4 }),
        async (s, createdAts, requests) => {
          const { store, contacts } = scheduledStore((run) => s.schedule(Promise.resolve()).then(run), ids.map((contactId, i) => ({ contactId, createdAt: createdAts[i]! })));
          const resolver = new IdentityResolver(store);
          const done = Promise.all(requests.map((r) => resolver.merge(r, 10)));
          await s.waitFor(done);
          await done;

          const rootOf = (id: string): string => {
            const seen = new Set<string>();
            let at = id;
            while (contacts.get(at)?.mergedInto) {
              if (seen.has(at)) throw new Error(`cycle through ${at}`);
              seen.add(at);
              at = contacts.get(at)!.mergedInto!;
            }
            return at;
          };
          const order = (id: string) => ({ contactId: id, createdAt: contacts.get(id)!.createdAt });
          for (const id of contacts.keys()) {
            const into = contacts.get(id)!.mergedInto;
            // Every merge points to a contact earlier in the survivor order: no cycle can form.
            if (into) expect(survivesOver(order(into), order(id))).toBe(true);
            rootOf(id);
          }
          for (const request of requests) expect(new Set(request.map(rootOf)).size).toBe(1);
          // Every contact is in its root's history: mergedFrom, followed transitively.
          for (const id of contacts.keys()) {
            const root = rootOf(id);
            const reach = new Set([root]);
            let frontier = [root];
            while (frontier.length) frontier = frontier.flatMap((x) => contacts.get(x)?.mergedFrom ?? []).filter((x) => !reach.has(x) && reach.add(x));
            expect(reach.has(id), `${id} reachable from ${root}`).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
