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
import type { CreateOutcome, HubSpotApi, PropertyValues } from './api.ts';
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

/** Creates after a create whose outcome was unknown (timeout, 5xx), each after looking first. */
const MAX_UNKNOWN_OUTCOMES = 2;

export async function createOnce(api: HubSpotApi, input: CreateOnceInput, strategy: DedupStrategy): Promise<{ crmId: string; created: boolean; calls: number }> {
  if (strategy === 'timeline-scan') {
    const existing = await findOnContact(api, input);
    if (existing) return { crmId: existing, created: false, calls: api.calls };
  }
  const created = await createLookingFirst(api, input, strategy);
  if (created.kind === 'found') return { crmId: created.id, created: false, calls: api.calls };
  if (created.kind === 'created') return { crmId: created.record.id, created: true, calls: api.calls };

  const existing = await api.read(input.objectType, input.key, { idProperty: input.keyProperty, properties: [input.keyProperty] });
  if (!existing) {
    throw new CrmError('transient', `HubSpot reported ${input.what} ${input.key} as a duplicate but cannot read it back`, { crm: 'hubspot' });
  }
  return { crmId: existing.id, created: false, calls: api.calls };
}

/**
 * The create, and when HubSpot's answer is lost (a timeout, a 5xx: it may have made the record),
 * a look for the record by its key before creating again — never a blind second create.
 */
async function createLookingFirst(api: HubSpotApi, input: CreateOnceInput, strategy: DedupStrategy): Promise<CreateOutcome | { kind: 'found'; id: string }> {
  for (let unknown = 0; ; unknown++) {
    try {
      return await api.create(input.objectType, input.properties, [{ toId: input.contactCrmId, typeId: input.associationTypeId }]);
    } catch (error) {
      if (!(error instanceof CrmError && error.details.outcomeUnknown) || unknown >= MAX_UNKNOWN_OUTCOMES) throw error;
      const existing =
        strategy === 'timeline-scan'
          ? await findOnContact(api, input)
          : (await api.read(input.objectType, input.key, { idProperty: input.keyProperty, properties: [input.keyProperty] }))?.id;
      if (existing) return { kind: 'found', id: existing };
    }
  }
}

async function findOnContact(api: HubSpotApi, input: CreateOnceInput): Promise<string | undefined> {
  const ids = await api.associatedIds('contacts', input.contactCrmId, input.objectType);
  if (ids.length === 0) return undefined;
  const records = await api.batchRead(input.objectType, ids, { properties: [input.keyProperty] });
  return records.find((r) => r.properties[input.keyProperty] === input.key)?.id;
}
