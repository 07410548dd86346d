/**
 * The reports' aggregates (RP-1 … RP-13), kept as events happen so that a report reads O(days)
 * items, never the messages. Two kinds of item per local day (the business's time zone):
 *
 * | item        | pk                   | sk            | holds                                           |
 * |-------------|----------------------|---------------|-------------------------------------------------|
 * | hour counts | STATS#<YYYY-MM-DD>   | H#<hh>#<s>    | counters (ADD), sample lists, the marks `m`     |
 * | day members | STATS#<YYYY-MM-DD>   | D#<s>         | string sets of members (customers, agent hours) |
 *
 * **Counted once.** A counted fact carries an id unique to its event (`in:<wamid>`); its counters
 * and its mark (48 bits of the id's hash, in the string set `m`) are one conditional UpdateItem that
 * holds only while the mark is absent — a redelivery, a retry after a crash before or after the
 * write, or two deliveries at once count it exactly once. The mark lives with the counters it
 * guards (the fact's own hour and shard, from the event's time, not the time it was seen), so no
 * other item is read or written. Up to {@link MAX_FACTS_PER_WRITE} facts of one item share a write;
 * when that write is refused, they are written one by one (those already counted are refused).
 *
 * **Members** (who wrote, who asked about a product, who ordered …) are string sets: adding a
 * member twice is adding it once, so they need no mark; a period's distinct count is the size of
 * the union of its days' sets, and stages of the funnel intersect them.
 *
 * Sharding keeps each item small (a peak hour of 1,000 messages is 250 marks of 8 bytes per hour
 * item) so that a write costs a few write units, not tens.
 */
import { createHash } from 'node:crypto';
import { DEFAULT_TIME_ZONE, localTime } from '../reports/time.ts';
import type { TableClient } from './client.ts';

export const HOUR_SHARDS = 4;
export const MEMBER_SHARDS = 8;
export const MAX_FACTS_PER_WRITE = 20;
/** The attribute holding the marks of the facts an hour item counted. */
export const MARKS = 'm';
/** Aggregates are kept two years (before/after comparisons, a year's trend), then TTL removes them. */
export const STATS_RETENTION_DAYS = 730;

/** An event's contribution to the counters of the hour it happened in. */
export interface CountedFact {
  /** Unique per event and meaning (`in:<wamid>`, `st:<id>:read`): a second fact with the same id is the same event. */
  readonly id: string;
  /** When it happened (ms): its local day and hour. */
  readonly at: number;
  /** Counter name → amount (integers; money in micro-USD, sentiment in thousandths). */
  readonly counts?: Readonly<Record<string, number>>;
  /** List name → one sample appended (a response time in seconds). */
  readonly samples?: Readonly<Record<string, number>>;
}

/** Members added to the sets of the local day `at` falls on. */
export interface MemberFact {
  readonly at: number;
  /** Set name → members (`act` → contact ids). */
  readonly sets: Readonly<Record<string, readonly string[]>>;
}

/** One local day as stored: counters by hour, samples by list, members by set. */
export interface DayAggregate {
  readonly day: string;
  /** hour (0..23) → counter → sum. */
  readonly hours: ReadonlyMap<number, Readonly<Record<string, number>>>;
  /** list → every sample of the day (any order). */
  readonly samples: Readonly<Record<string, readonly number[]>>;
  /** set → members. */
  readonly members: Readonly<Record<string, ReadonlySet<string>>>;
}

const hash = (value: string) => createHash('sha256').update(value).digest();
/** 48 bits of the fact id's hash: a collision inside one hour item (≈ 250 marks) is about 1 in 10¹⁰. */
export const markOf = (id: string) => hash(id).subarray(0, 6).toString('base64url');
const shardOf = (value: string, shards: number) => hash(value).readUInt16BE(6) % shards;

export const statsPartition = (day: string) => `STATS#${day}`;
const hourKey = (day: string, hour: number, shard: number) => ({ pk: statsPartition(day), sk: `H#${String(hour).padStart(2, '0')}#${shard}` });
const memberKey = (day: string, shard: number) => ({ pk: statsPartition(day), sk: `D#${shard}` });

const NOT_STATS = new Set(['pk', 'sk', MARKS, 'expiresAt']);

export class StatsStore {
  constructor(
    private readonly table: TableClient,
    readonly timeZone: string = DEFAULT_TIME_ZONE,
  ) {}

  private expiry(at: number): number {
    return Math.floor(at / 1000) + STATS_RETENTION_DAYS * 86_400;
  }

  /** Counts each fact once (see the module's note); resolves when every fact is on record. */
  async count(facts: readonly CountedFact[]): Promise<void> {
    const byItem = new Map<string, { key: { pk: string; sk: string }; facts: CountedFact[] }>();
    for (const fact of facts) {
      const { day, hour } = localTime(fact.at, this.timeZone);
      const key = hourKey(day, hour, shardOf(fact.id, HOUR_SHARDS));
      const id = `${key.pk}|${key.sk}`;
      const group = byItem.get(id) ?? { key, facts: [] };
      // One event seen twice in the same batch is one fact.
      if (!group.facts.some((f) => f.id === fact.id)) group.facts.push(fact);
      byItem.set(id, group);
    }
    await Promise.all(
      [...byItem.values()].map(async ({ key, facts: mine }) => {
        for (let i = 0; i < mine.length; i += MAX_FACTS_PER_WRITE) await this.countOnce(key, mine.slice(i, i + MAX_FACTS_PER_WRITE));
      }),
    );
  }

  private async countOnce(key: { pk: string; sk: string }, facts: readonly CountedFact[]): Promise<void> {
    const counts = new Map<string, number>();
    const samples = new Map<string, number[]>();
    for (const fact of facts) {
      for (const [name, value] of Object.entries(fact.counts ?? {})) if (value) counts.set(name, (counts.get(name) ?? 0) + value);
      for (const [name, value] of Object.entries(fact.samples ?? {})) samples.set(name, [...(samples.get(name) ?? []), value]);
    }
    const names: Record<string, string> = { '#m': MARKS, '#exp': 'expiresAt' };
    const values: Record<string, unknown> = { ':marks': new Set(facts.map((f) => markOf(f.id))), ':exp': this.expiry(Math.max(...facts.map((f) => f.at))) };
    if (samples.size) values[':empty'] = [];
    const adds = ['#m :marks'];
    const sets = ['#exp = if_not_exists(#exp, :exp)'];
    [...counts].forEach(([name, value], i) => {
      names[`#c${i}`] = name;
      values[`:c${i}`] = value;
      adds.push(`#c${i} :c${i}`);
    });
    [...samples].forEach(([name, list], i) => {
      names[`#l${i}`] = name;
      values[`:l${i}`] = list;
      sets.push(`#l${i} = list_append(if_not_exists(#l${i}, :empty), :l${i})`);
    });
    const condition = facts.map((_, i) => `NOT contains(#m, :k${i})`).join(' AND ');
    facts.forEach((f, i) => (values[`:k${i}`] = markOf(f.id)));
    const { applied } = await this.table.update(key, { update: `ADD ${adds.join(', ')} SET ${sets.join(', ')}`, condition, names, values });
    // Refused: one of them was counted before. Each alone, so the others still count.
    if (!applied && facts.length > 1) for (const fact of facts) await this.countOnce(key, [fact]);
  }

  /** Adds members to their day's sets (idempotent by nature). */
  async add(facts: readonly MemberFact[]): Promise<void> {
    const byItem = new Map<string, { key: { pk: string; sk: string }; at: number; sets: Map<string, Set<string>> }>();
    for (const fact of facts) {
      const { day } = localTime(fact.at, this.timeZone);
      for (const [set, members] of Object.entries(fact.sets)) {
        for (const member of members) {
          const key = memberKey(day, shardOf(member, MEMBER_SHARDS));
          const id = `${key.pk}|${key.sk}`;
          const group = byItem.get(id) ?? { key, at: fact.at, sets: new Map() };
          group.sets.set(set, (group.sets.get(set) ?? new Set()).add(member));
          byItem.set(id, group);
        }
      }
    }
    await Promise.all(
      [...byItem.values()].map(({ key, at, sets }) => {
        const names: Record<string, string> = { '#exp': 'expiresAt' };
        const values: Record<string, unknown> = { ':exp': this.expiry(at) };
        const adds = [...sets].map(([set, members], i) => {
          names[`#s${i}`] = set;
          values[`:s${i}`] = members;
          return `#s${i} :s${i}`;
        });
        return this.table.update(key, { update: `ADD ${adds.join(', ')} SET #exp = if_not_exists(#exp, :exp)`, names, values });
      }),
    );
  }

  /** The aggregates of each day asked for (a day with nothing is empty): one query per day. */
  async days(days: readonly string[]): Promise<DayAggregate[]> {
    return Promise.all(days.map((day) => this.day(day)));
  }

  private async day(day: string): Promise<DayAggregate> {
    const hours = new Map<number, Record<string, number>>();
    const samples: Record<string, number[]> = {};
    const members: Record<string, Set<string>> = {};
    for await (const item of this.table.query({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': statsPartition(day) } })) {
      const sk = String(item['sk']);
      if (sk.startsWith('H#')) {
        const hour = Number(sk.slice(2, 4));
        const counters = hours.get(hour) ?? {};
        for (const [name, value] of Object.entries(item)) {
          if (NOT_STATS.has(name)) continue;
          if (typeof value === 'number') counters[name] = (counters[name] ?? 0) + value;
          else if (Array.isArray(value)) (samples[name] ??= []).push(...value.map(Number));
        }
        hours.set(hour, counters);
      } else if (sk.startsWith('D#')) {
        for (const [name, value] of Object.entries(item)) {
          if (NOT_STATS.has(name) || !(value instanceof Set)) continue;
          const set = (members[name] ??= new Set());
          for (const member of value) set.add(String(member));
        }
      }
    }
    return { day, hours, samples, members };
  }
}
