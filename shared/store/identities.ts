/**
 * Identity items: each identity of a customer (BSUID, E.164 phone, parent BSUID, an unparseable
 * phone kept raw) is its own item pointing to our contact, claimed with a conditional write so
 * that two deliveries for one new customer end in one contact (whatsapp-identity.md).
 */
import type { TableClient } from './client.ts';
import { keys, type IdentityKey } from './keys.ts';

export const identityString = (id: IdentityKey) => `${id.kind}#${id.value}`;

export class IdentityStore {
  constructor(private readonly table: TableClient) {}

  /** The contact each identity points to (strongly consistent), by `kind#value`. */
  async owners(ids: readonly IdentityKey[]): Promise<Map<string, string>> {
    const owners = new Map<string, string>();
    const byPk = new Map(ids.map((id) => [keys.identity(id).pk, identityString(id)]));
    for (const item of await this.table.batchGet(ids.map(keys.identity), 'pk, contactId')) {
      const id = byPk.get(item['pk'] as string);
      if (id) owners.set(id, item['contactId'] as string);
    }
    return owners;
  }

  /** Claims an identity for a contact; returns the contact that owns it afterwards (maybe another). */
  async claim(id: IdentityKey, contactId: string, at: number): Promise<string> {
    const claimed = await this.table.put(
      { ...keys.identity(id), kind: id.kind, value: id.value, contactId, claimedAt: at },
      'attribute_not_exists(pk)',
    );
    if (claimed) return contactId;
    const existing = await this.table.get<{ contactId: string }>(keys.identity(id), ['contactId']);
    return existing!.contactId;
  }

  /** Re-points an identity from one contact to another; false if it no longer pointed to `from`. */
  async move(id: IdentityKey, from: string, to: string, at: number): Promise<boolean> {
    const { applied } = await this.table.update(keys.identity(id), {
      update: 'SET contactId = :to, movedFrom = :from, movedAt = :at',
      condition: 'contactId = :from',
      values: { ':to': to, ':from': from, ':at': at },
    });
    return applied;
  }
}
