/**
 * The nightly segment refresh against the real table: what it sends to the CRM is exactly what
 * the sync sends, built in one place; it writes to the CRM before it records anything.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBatchApp } from '#functions/batch-export/app';
import type { CrmAdapter, CrmContactInput, CrmContactUpdate } from '#shared/crm/port';
import type { CrmKind } from '#shared/resources';
import { shippedIntelligence } from '#shared/domain/intelligence/bundled';
import { ContactInsightsKeeper } from '#shared/sync/insights';
import { newWamid, numberChange, textMessage } from '#local/webhooks';
import { startHarness, type Harness } from '../helpers/webhook-harness.ts';

const DAY = 86_400_000;
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.stop();
});

function recordingCrm(kind: CrmKind = 'hubspot') {
  const upserts: CrmContactInput[] = [];
  const updates: CrmContactUpdate[] = [];
  const crm: CrmAdapter = {
    kind,
    limits: { requests: 100, windowMs: 10_000, batchSize: 100 },
    updateContacts: async (batch) => {
      updates.push(...batch);
      return { outcomes: batch.map(() => ({ ok: true as const })), calls: 1 };
    },
    readContacts: async () => ({ contacts: [], calls: 0 }),
    recordServiceReport: async () => ({ recorded: false, calls: 0 }),
    upsertContact: async (input) => {
      upserts.push(input);
      return { crmId: 'crm-1', created: false, matchedExisting: false, calls: 1 };
    },
    logMessage: async () => ({ crmId: 'm', created: false, calls: 0 }),
    createOpportunity: async () => ({ crmId: 'o', created: false, calls: 0 }),
    findLastOrder: async () => ({ order: undefined, calls: 0 }),
    readProfile: async () => ({ calls: 0 }),
    createTask: async () => ({ crmId: 't', created: false, calls: 0 }),
  };
  return { crm, upserts, updates };
}

const refresh = (crm: CrmAdapter, at: number) =>
  createBatchApp({
    store: h.runtime.store,
    syncJobs: h.runtime.syncQueue,
    insights: new ContactInsightsKeeper({ store: h.runtime.store, intelligence: shippedIntelligence() }),
    crm: () => crm,
    logger: { info: () => undefined, warn: () => undefined },
    now: () => at,
  }).run('segment-refresh');

describe('what the refresh sends to the CRM', () => {
  it('the whole customer: previous identities, names, and the CRM id only when it is this CRM\'s', async () => {
    const n = Date.now();
    const old = { waId: `8529${String(n % 10_000_000).padStart(7, '0')}`, bsuid: `HK.refresh${n}`, name: 'Chan Tai Man', username: 'taiman' };
    const sentAt = Math.floor((n - 59 * DAY) / 1000) * 1000;
    await h.post(textMessage(old, 'hello', { wamid: newWamid(), at: sentAt }));
    const newWaId = `8526${String(n % 10_000_000).padStart(7, '0')}`;
    await h.post(numberChange(old, newWaId, `${old.bsuid}new`, { at: sentAt + 1000 }));
    const contactId = (await h.runtime.store.identities.owners([{ kind: 'bsuid', value: old.bsuid }])).get(`bsuid#${old.bsuid}`)!;
    // In HubSpot, and in Salesforce before (say the business ran both for a while).
    await h.runtime.store.contacts.setCrm(contactId, { kind: 'hubspot', id: '9001' }, sentAt);
    await h.runtime.store.contacts.setCrm(contactId, { kind: 'salesforce', id: '003xx000004TmiQ' }, sentAt);

    const { crm, upserts, updates } = recordingCrm('hubspot');
    await refresh(crm, sentAt + 61 * DAY);
    // Through the batch API, by this CRM's id, with the typed fields the adapter maps.
    expect(upserts.find((u) => u.contactId === contactId)).toBeUndefined();
    const mine = updates.find((u) => u.contactId === contactId);
    expect(mine).toMatchObject({ crmId: '9001', fields: expect.objectContaining({ segment: 'churned' }) });
    // Both CRMs' ids are still there: one CRM never overwrites another's.
    expect((await h.runtime.store.contacts.get(contactId))?.crmIds).toMatchObject({ hubspot: { id: '9001' }, salesforce: { id: '003xx000004TmiQ' } });

    const other = recordingCrm('zoho');
    await refresh(other.crm, sentAt + 62 * DAY);
    // Not in Zoho: nothing for the batch (its first message's sync creates it with the fields).
    expect(other.updates.find((u) => u.contactId === contactId)).toBeUndefined();
  });
});

describe('a refresh that does not fit in one invocation (hardening, defect 12)', () => {
  it('stops when its time is up and the next invocation carries on where it stopped: every contact refreshed once', async () => {
    // A table of its own, so that only these contacts are scanned.
    const { startLocalServices } = await import('#local/services');
    const { createRuntime } = await import('#shared/runtime');
    const services = await startLocalServices({});
    try {
      const runtime = await createRuntime({ ...services.env, WHATSAPP_APP_SECRET: 'refresh-secret', WHATSAPP_VERIFY_TOKEN: 'refresh-token' }, services.overrides);
      const t0 = Date.UTC(2026, 9, 1);
      for (let i = 0; i < 60; i++) {
        await runtime.store.contacts.applyInbound(`ct_resume_${i}`, [{ wamid: `wamid.resume${i}`, receivedAt: t0, sentAt: t0, phoneNumberId: '1' }], { leadSource: 'whatsapp', bsuid: `HK.resume${i}` }, { now: t0 });
      }
      const { crm, upserts, updates } = recordingCrm();
      const app = createBatchApp({
        store: runtime.store,
        syncJobs: runtime.syncQueue,
        insights: new ContactInsightsKeeper({ store: runtime.store, intelligence: shippedIntelligence() }),
        crm: () => crm,
        logger: { info: () => undefined, warn: () => undefined },
        now: () => t0 + 61 * DAY,
        refresh: { segments: 2, pageSize: 10, concurrency: 4 },
      });
      // Time for two pages of one invocation, then the time is up.
      let pages = 0;
      const first = await app.run('segment-refresh', { remainingMs: () => (pages++ < 2 ? 600_000 : 0) });
      expect(first).toMatchObject({ task: 'segment-refresh', done: false });
      expect(first.contacts).toBeGreaterThan(0);
      expect(first.contacts).toBeLessThan(60);
      const second = await app.run('segment-refresh', { remainingMs: () => 600_000 });
      expect(second).toMatchObject({ done: true });
      expect(first.contacts! + second.contacts!).toBe(60);
      const refreshed = await Promise.all(Array.from({ length: 60 }, (_, i) => runtime.store.contacts.get(`ct_resume_${i}`)));
      expect(refreshed.every((c) => c?.segment === 'churned')).toBe(true);
      // A third invocation the same night has nothing left to do.
      expect(await app.run('segment-refresh', { remainingMs: () => 600_000 })).toMatchObject({ done: true, contacts: 0, skipped: expect.stringMatching(/already/) });
      expect(upserts).toEqual([]);
      expect(updates).toEqual([]);
    } finally {
      await services.stop();
    }
  });
});
