/**
 * Salesforce's own merge of two contacts. The REST API has none; the documented way is the SOAP
 * API's merge() (soap.ts), with the OAuth access token as the SessionHeader's session id: the
 * master record survives with its own values, the other is deleted (its MasterRecordId names
 * the master) and its related records — Tasks, Cases, Opportunities, Orders, our
 * WhatsApp_Message__c records — are re-parented to the master, all in one transaction.
 *
 * A retry after a merge whose answer was lost (by the HTTP layer within the call, or by the
 * caller's next attempt) finds the loser already gone: merge() refuses it (ENTITY_IS_DELETED,
 * INVALID_CROSS_REFERENCE_KEY …, a result error or a fault). A refusal is checked by reading
 * both records: the survivor there and the loser gone is the merge done, and the survivor the answer.
 */
import { CrmError } from '../port.ts';
import type { SalesforceApi } from './api.ts';
import { describe } from './errors.ts';
import { CONTACT } from './fields.ts';
import { isRecordId } from './soql.ts';

export async function mergeContacts(api: SalesforceApi, survivorCrmId: string, loserCrmId: string): Promise<{ crmId: string; calls: number }> {
  if (!isRecordId(survivorCrmId) || !isRecordId(loserCrmId)) throw new CrmError('permanent', `mergeContacts needs two Salesforce record ids, got "${survivorCrmId}" and "${loserCrmId}"`, { crm: 'salesforce' });
  if (survivorCrmId === loserCrmId) return { crmId: survivorCrmId, calls: 0 };
  const outcome = await api.merge(CONTACT.object, survivorCrmId, [loserCrmId], 'contact merge');
  const result = outcome.kind === 'results' ? outcome.results[0] : undefined;
  if (result?.success) return { crmId: result.id ?? survivorCrmId, calls: api.calls };
  // Refused: done already (the loser gone, the survivor there), or a real refusal.
  const [survivor, loser] = await Promise.all([api.get(CONTACT.object, survivorCrmId, ['Id'], 'merged contact read'), api.get(CONTACT.object, loserCrmId, ['Id'], 'merged contact read')]);
  if (survivor && !loser) return { crmId: survivor.Id, calls: api.calls };
  const reason = outcome.kind === 'refused' ? describe(outcome.body) : (result?.errors.map((e) => ` ${e.statusCode}${e.fields.length ? ` (${e.fields.join(', ')})` : ''}`).join(';') ?? '');
  const category = outcome.kind === 'results' ? result?.errors[0]?.statusCode : undefined;
  if (!survivor) throw new CrmError('permanent', `Salesforce contact ${survivorCrmId} to merge into is gone (deleted or merged itself):${reason || ' no reason given'}`, { crm: 'salesforce', status: 404, category: 'ENTITY_IS_DELETED' });
  throw new CrmError('permanent', `Salesforce refused to merge contact ${loserCrmId} into ${survivorCrmId}:${reason || ' no reason given'}`, { crm: 'salesforce', ...(outcome.kind === 'refused' && { status: outcome.status }), ...(category && { category }) });
}
