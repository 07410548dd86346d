/**
 * Our side of the two-way fields at a contact's upsert (shared/sync/two-way-fields.ts), against
 * the local store and an in-memory CRM: a sales edit the CRM already holds, but whose
 * notification has not reached us, is resolved before our edit is written — never overwritten.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CrmAdapter } from '#shared/crm/port';
import type { CrmContactChange, CrmTwoWay, TwoWayField } from '#shared/crm/two-way';
import type { Contact } from '#shared/domain/records';
import { createRuntime, type Runtime } from '#shared/runtime';
import { settleTwoWayFields } from '#shared/sync/two-way-fields';
import { startLocalServices, type LocalServices } from '#local/services';

let services: LocalServices;
let runtime: Runtime;
beforeAll(async () => {
  services = await startLocalServices({});
  runtime = await createRuntime({ ...services.env, WHATSAPP_APP_SECRET: 'tw-secret', WHATSAPP_VERIFY_TOKEN: 'tw-token' }, services.overrides);
});
afterAll(async () => {
  await services.stop();
});

const T0 = Date.UTC(2026, 11, 2, 9);
let n = 0;

/** One CRM record's two-way fields, each with its edit time; the writes we made to it. */
function memoryCrm(crmId: string) {
  const fields: Record<TwoWayField, { value: string | null; at: number }> = { firstName: { value: null, at: 0 }, customerLevel: { value: 'standard', at: 0 } };
  const writes: Partial<Record<TwoWayField, string | null>>[] = [];
  const twoWay: Pick<CrmTwoWay, 'readContact' | 'writeFields'> = {
    async readContact(id) {
      const change: CrmContactChange = { kind: 'contact', crmId: id, changes: (Object.keys(fields) as TwoWayField[]).map((field) => ({ field, ...fields[field] })), ours: false };
      return { change: id === crmId ? change : undefined, calls: 1 };
    },
    async writeFields(_id, values) {
      writes.push(values);
      for (const [field, value] of Object.entries(values) as [TwoWayField, string | null][]) fields[field] = { value, at: Date.now() };
      return { calls: 1 };
    },
  };
  const adapter = { kind: 'zoho', twoWay } as unknown as CrmAdapter;
  return { adapter, fields, writes };
}

async function contactWithProfile(contactId: string, profileName: string, at: number): Promise<Contact> {
  await runtime.store.contacts.applyInbound(contactId, [{ wamid: `wamid.tw-${++n}`, receivedAt: at + 1000, sentAt: at, phoneNumberId: '106540352242922', profileName }], { leadSource: 'whatsapp' }, { now: at });
  return (await runtime.store.contacts.get(contactId))!;
}

const deps = (crm: CrmAdapter) => ({ store: runtime.store, crm, logger: { info: () => {}, warn: () => {} }, now: Date.now });

describe('two-way fields written at the upsert', () => {
  it('a sales edit the CRM holds but has not told us of yet is resolved first: the newer one wins, one conflict, nothing overwritten', async () => {
    const contactId = `ct_tw_${++n}`;
    const crmId = `crm-${n}`;
    const crm = memoryCrm(crmId);
    crm.fields.firstName = { value: 'Mei', at: T0 };
    const created = await contactWithProfile(contactId, 'Mei Chan', T0);
    await settleTwoWayFields(deps(crm.adapter), created, { crmId } as never, Date.now() + 10_000);

    // The customer renames themselves on WhatsApp; a moment later sales corrects the name in the CRM.
    const renamed = await contactWithProfile(contactId, 'Maggie Chan', T0 + 60_000);
    crm.fields.firstName = { value: 'Meg', at: T0 + 60_500 };
    await settleTwoWayFields(deps(crm.adapter), renamed, { crmId } as never, Date.now() + 10_000);

    expect(crm.writes.filter((w) => w.firstName !== undefined)).toEqual([]);
    expect(crm.fields.firstName.value).toBe('Meg');
    expect((await runtime.store.contacts.get(contactId))?.firstName).toBe('Meg');
    const conflicts = (await runtime.store.conflicts.fieldConflictsOn('2026-12-02')).filter((c) => c.contactId === contactId);
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0]).toMatchObject({ field: 'firstName', winner: 'theirs' });
  });

  it('our newer edit still goes to the CRM when the CRM holds the agreed value', async () => {
    const contactId = `ct_tw_${++n}`;
    const crmId = `crm-${n}`;
    const crm = memoryCrm(crmId);
    crm.fields.firstName = { value: 'Mei', at: T0 };
    await settleTwoWayFields(deps(crm.adapter), await contactWithProfile(contactId, 'Mei Chan', T0), { crmId } as never, Date.now() + 10_000);
    await settleTwoWayFields(deps(crm.adapter), await contactWithProfile(contactId, 'Maggie Chan', T0 + 60_000), { crmId } as never, Date.now() + 10_000);
    expect(crm.writes.filter((w) => w.firstName !== undefined)).toEqual([{ firstName: 'Maggie' }]);
    expect(crm.fields.firstName.value).toBe('Maggie');
  });
});
