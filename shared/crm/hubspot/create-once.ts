/**
 * Creating one HubSpot record per idempotency key, associated to a contact in the same create
 * request, exactly once — the mechanism behind logged messages and opportunities.
 *
 * Two de-duplication strategies, chosen from what HubSpot reports about the key property
 * (docs/hubspot.md):
 * - `unique-property`: the key property has `hasUniqueValue`; the create itself is the claim. A
 *   refused duplicate (a second call, a concurrent one in another process, a retry after a crash
 *   that lost the CRM id) is read back by `idProperty`. One call on the steady path.
 * - `timeline-scan`: the property is not unique; before creating, the contact's associated
 *   records are read (consistent association and batch reads, not search) and the key compared.
 *   Relies on one contact's jobs being synced one at a time (the sync queue is FIFO per contact).
 */
import { CrmError } from '#shared/crm/port';
import type { HubSpotApi, PropertyValues } from './api.ts';
import type { HubSpotObjectType } from './properties.ts';

/** How a record is kept unique by its idempotency key. */
export type DedupStrategy = 'unique-property' | 'timeline-scan';

export interface CreateOnceInput {
  readonly objectType: Exclude<HubSpotObjectType, 'contacts'>;
  /** The idempotency key and the unique property holding it. */
  readonly key: string;
  readonly keyProperty: string;
  readonly properties: PropertyValues;
  readonly contactCrmId: string;
  /** HUBSPOT_DEFINED association type from the record to the contact. */
  readonly associationTypeId: number;
  /** Names the record in errors, e.g. "message". */
  readonly what: string;
}

export async function createOnce(api: HubSpotApi, input: CreateOnceInput, strategy: DedupStrategy): Promise<{ crmId: string; created: boolean; calls: number }> {
  if (strategy === 'timeline-scan') {
    const existing = await findOnContact(api, input);
    if (existing) return { crmId: existing, created: false, calls: api.calls };
  }
  const created = await api.create(input.objectType, input.properties, [{ toId: input.contactCrmId, typeId: input.associationTypeId }]);
  if (created.kind === 'created') return { crmId: created.record.id, created: true, calls: api.calls };

  const existing = await api.read(input.objectType, input.key, { idProperty: input.keyProperty, properties: [input.keyProperty] });
  if (!existing) {
    throw new CrmError('transient', `HubSpot reported ${input.what} ${input.key} as a duplicate but cannot read it back`, { crm: 'hubspot' });
  }
  return { crmId: existing.id, created: false, calls: api.calls };
}

async function findOnContact(api: HubSpotApi, input: CreateOnceInput): Promise<string | undefined> {
  const ids = await api.associatedIds('contacts', input.contactCrmId, input.objectType);
  if (ids.length === 0) return undefined;
  const records = await api.batchRead(input.objectType, ids, { properties: [input.keyProperty] });
  return records.find((r) => r.properties[input.keyProperty] === input.key)?.id;
}
