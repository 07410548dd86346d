/**
 * The sparse work index (gsi2): pending work lives in sharded partitions (`PENDING#SYNC#<n>`,
 * `PENDING#MEDIA#<n>` …) sorted by `<due ISO time>#<id>`. One read of every shard, due before a
 * bound, at most `limit` from each, merged and cut: what the sweeps and redrives use.
 */
import { TABLE } from '../resources.ts';
import type { Item, TableClient } from './client.ts';

export async function dueWork(table: TableClient, partitions: readonly string[], before: number, limit: number, projection?: string): Promise<Item[]> {
  if (limit <= 0) return [];
  const bound = new Date(Math.min(before, 8.64e15)).toISOString();
  const shards = await Promise.all(
    partitions.map(async (partition) => {
      const items: Item[] = [];
      for await (const item of table.query({
        IndexName: TABLE.indexes.pendingSync.name,
        KeyConditionExpression: 'gsi2pk = :pk AND gsi2sk < :bound',
        ExpressionAttributeValues: { ':pk': partition, ':bound': bound },
        ...(projection && { ProjectionExpression: projection }),
        Limit: limit,
      })) {
        items.push(item);
        if (items.length >= limit) break;
      }
      return items;
    }),
  );
  return shards
    .flat()
    .sort((a, b) => Number(a['receivedAt']) - Number(b['receivedAt']))
    .slice(0, limit);
}
