/**
 * Zoho's own merge of two contacts (Merge Records API):
 *   POST /Contacts/{master_id}/actions/merge
 *   { "merge": [{ "data": [{ "id": "<child id>", "_fields": [] }] }] }
 * The master record survives with its own values (`_fields` names the child's fields to take:
 * none), the child is deleted and its related records (notes, tasks, deals, our WhatsApp
 * messages) move to the master. Zoho answers `{ merge: [{ code: "SUCCESS", details: { id } }] }`,
 * or `SCHEDULED` with a `job_id` when the child has more than 1000 related records — the master
 * is the survivor either way.
 *
 * A retry after a merge whose answer was lost finds the child gone: Zoho refuses the merge
 * (INVALID_DATA about the child id), so a refusal is checked by reading both records — the master
 * there and the child gone is the merge done.
 */
import * as z from 'zod/mini';
import '../../zod.ts';
import { CrmError } from '../port.ts';
import type { ZohoApi } from './api.ts';
import { CONTACT, CONTACTS_MODULE } from './fields.ts';
import { describe } from './http.ts';

const mergeAnswer = z.object({ merge: z.array(z.looseObject({ code: z.string(), status: z.optional(z.string()) })) });

export async function mergeContacts(api: ZohoApi, survivorCrmId: string, loserCrmId: string): Promise<{ crmId: string; calls: number }> {
  if (!/^\d{1,30}$/.test(survivorCrmId) || !/^\d{1,30}$/.test(loserCrmId)) throw new CrmError('permanent', 'mergeContacts needs two Zoho record ids', { crm: 'zoho' });
  if (survivorCrmId === loserCrmId) throw new CrmError('permanent', 'mergeContacts needs two different contacts', { crm: 'zoho' });
  const response = await api.http.send({
    method: 'POST',
    path: `/${CONTACTS_MODULE}/${encodeURIComponent(survivorCrmId)}/actions/merge`,
    body: { merge: [{ data: [{ id: loserCrmId, _fields: [] }] }] },
    tolerate: (status) => status === 400,
  });
  const entry = mergeAnswer.safeParse(response.body);
  const code = entry.success ? entry.data.merge[0]?.code : undefined;
  if (response.status < 300 && (code === 'SUCCESS' || code === 'SCHEDULED')) return { crmId: survivorCrmId, calls: api.calls };
  if (response.status < 300) throw new CrmError('transient', `Zoho answered the merge in an unexpected shape${describe(response.body)}`, { crm: 'zoho', status: response.status });
  // Refused: done already (the child gone, the master there), or a real refusal.
  const [survivor, loser] = await Promise.all([api.get(CONTACTS_MODULE, survivorCrmId, [CONTACT.lastName]), api.get(CONTACTS_MODULE, loserCrmId, [CONTACT.lastName])]);
  if (survivor && !loser) return { crmId: survivorCrmId, calls: api.calls };
  if (!survivor) throw new CrmError('permanent', `Zoho contact ${survivorCrmId} to merge into is gone`, { crm: 'zoho', status: response.status });
  const known = code !== undefined && /^[A-Z_]{1,60}$/.test(code) ? code : undefined;
  throw new CrmError('permanent', `Zoho refused the merge${known ? `: ${known}` : describe(response.body)}`, { crm: 'zoho', status: response.status, ...(known && { category: known }) });
}
