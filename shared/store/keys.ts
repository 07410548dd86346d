/**
 * Item keys of the single table. Every key the code writes is built here.
 *
 * | item      | pk                          | sk        | gsi1 (byContact)                 | gsi2 (pendingSync)            |
 * |-----------|-----------------------------|-----------|----------------------------------|-------------------------------|
 * | contact   | CONTACT#<contactId>         | PROFILE   |                                  |                               |
 * | identity  | IDENTITY#<kind>#<value>     | IDENTITY  |                                  |                               |
 * | message   | MESSAGE#<wamid>             | MESSAGE   | CONTACT#<id> / MSG#<sentAt>#<wamid> | PENDING#SYNC#<shard> / <at>#<wamid> |
 * | raw event | RAW#<sha256>                | RAW       | RAW#<day> / <receivedAt>         |                               |
 */
import { createHash } from 'node:crypto';

export type IdentityKind = 'bsuid' | 'parent_bsuid' | 'phone' | 'phone_raw';

export interface IdentityKey {
  readonly kind: IdentityKind;
  readonly value: string;
}

export const PENDING_SYNC_SHARDS = 8;

export const keys = {
  contact: (contactId: string) => ({ pk: `CONTACT#${contactId}`, sk: 'PROFILE' }),
  identity: (id: IdentityKey) => ({ pk: `IDENTITY#${id.kind}#${id.value}`, sk: 'IDENTITY' }),
  message: (wamid: string) => ({ pk: `MESSAGE#${wamid}`, sk: 'MESSAGE' }),
  raw: (hash: string) => ({ pk: `RAW#${hash}`, sk: 'RAW' }),
  historyPartition: (contactId: string) => `CONTACT#${contactId}`,
  historySort: (sentAt: number, wamid: string) => `MSG#${new Date(sentAt).toISOString()}#${wamid}`,
  pendingSyncPartition: (shard: number) => `PENDING#SYNC#${shard}`,
  pendingSync: (wamid: string, receivedAt: number) => ({
    gsi2pk: `PENDING#SYNC#${shardOf(wamid)}`,
    gsi2sk: `${new Date(receivedAt).toISOString()}#${wamid}`,
  }),
  rawDay: (at: number) => `RAW#${new Date(at).toISOString().slice(0, 10)}`,
};

function shardOf(wamid: string): number {
  return createHash('sha256').update(wamid).digest()[0]! % PENDING_SYNC_SHARDS;
}

/**
 * Our own contact id, derived from the first identity it was created for. Two deliveries that
 * race to create the same new customer compute the same id, so both converge on one contact.
 */
export function contactIdFor(first: IdentityKey): string {
  const digest = createHash('sha256').update(`${first.kind}#${first.value}`).digest('base64url');
  return `ct_${digest.slice(0, 22)}`;
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
