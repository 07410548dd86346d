/**
 * The counters the policy gate reads and takes, each taken by one conditional write so that
 * concurrent senders can never both take the last slot:
 *
 * - a customer's send counters (CP-2..CP-5, CP-10, AU-6) live on the contact row as one map with
 *   a version; a write is conditional on the version it decided on (the loser decides again);
 * - the portfolio's business-initiated conversations (CP-6) are counted per hour in one item,
 *   `LIMITS#portfolio`; a slot is taken by an ADD on the current hour conditional on
 *   `current < limit − (the 24 hours before)`: past hours never change, so the condition is exact;
 * - each number's pacing (≤ N messages a second, CP-10) and API calls a day (CP-6) in
 *   `NUMBER#<id>` / `RATE`: one ADD of both, conditional on the second and the day being current
 *   and under their limits;
 * - each number's state (stopped by Meta, switched to its backup by the health check) in
 *   `NUMBER#<id>` / `STATE`.
 */
import { EMPTY_COUNTERS, type CustomerCounters } from '../domain/policy.ts';
import type { TableClient } from './client.ts';
import { keys } from './keys.ts';

const HOUR_MS = 3_600_000;
/** The share of Meta's per-number rate the pacing uses: the rest absorbs network jitter. */
export const PACING_SHARE = 0.95;
/** How far a number's schedule may lag behind now before it restarts (at most ~a fifth of a second of sends at once). */
const LAG_CREDIT_US = 250_000;
const DAY_MS = 86_400_000;
/** The moving 24 h of CP-6 in whole hours: the current hour and the 24 before it (≥ 24 h, never less). */
const WINDOW_HOURS = 24;

export const COUNTERS_ATTRIBUTE = 'sendCounters';

export interface DailyWindow {
  readonly used: number;
  /** Counts of the hours before the current one that are still in the window. */
  readonly past: number;
  readonly currentHour: number;
  /** When the oldest counted hour leaves the window (a slot frees), ms. */
  readonly nextSlotAt: number;
  /** Hour attributes that left the window (removed by the next write). */
  readonly stale: readonly string[];
}

export interface NumberState {
  readonly pausedUntil?: number | undefined;
  readonly pauseReason?: string | undefined;
  /** Consecutive slow health checks (OP-2). */
  readonly slowChecks?: number | undefined;
  /** The number sending in this one's place after three slow checks (its backup). */
  readonly switchedTo?: number | string | undefined;
  readonly switchedAt?: number | undefined;
  readonly lastCheckMs?: number | undefined;
  readonly qualityRating?: string | undefined;
  /** Undeliverable (131026) hits per recipient are on the contact's counters, not here. */
}

const hourAttr = (hour: number) => `h_${hour}`;

export class SendLimitsStore {
  constructor(private readonly table: TableClient) {}

  // ── a customer's counters ────────────────────────────────────────────────────────────────

  /** Writes a customer's counters if they are still at `expectedVersion`; false when someone wrote first. */
  async writeCounters(contactId: string, next: CustomerCounters, expectedVersion: number): Promise<boolean> {
    const result = await this.table.update(keys.contact(contactId), {
      update: 'SET #c = :next',
      condition:
        expectedVersion === 0
          ? 'attribute_exists(pk) AND (attribute_not_exists(#c) OR #c.version = :expected)'
          : 'attribute_exists(pk) AND #c.version = :expected',
      names: { '#c': COUNTERS_ATTRIBUTE },
      values: { ':next': next, ':expected': expectedVersion },
    });
    return result.applied;
  }

  /** Changes a customer's counters whatever their version (Meta's answers: 131049, 131026). */
  async updateCounters(contactId: string, change: (current: CustomerCounters) => CustomerCounters, read: (id: string) => Promise<CustomerCounters>): Promise<void> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const current = await read(contactId);
      const next = { ...change(current), version: current.version + 1 };
      if (await this.writeCounters(contactId, next, current.version)) return;
    }
    throw new Error(`send counters of ${contactId} kept changing; not updated`);
  }

  /** Counts an undeliverable answer (131026) for a customer; answers the count so far. */
  async countUndeliverable(contactId: string): Promise<number> {
    const result = await this.table.update(keys.contact(contactId), { update: 'ADD undeliverableCount :one', condition: 'attribute_exists(pk)', values: { ':one': 1 }, returnValues: 'UPDATED_NEW' });
    return Number(result.attributes?.['undeliverableCount'] ?? 0);
  }

  // ── the portfolio's daily business-initiated limit (CP-6) ───────────────────────────────

  async dailyWindow(now: number): Promise<DailyWindow> {
    const item = (await this.table.get<Record<string, unknown>>(keys.limits())) ?? {};
    return windowOf(item, now);
  }

  /** Takes one business-initiated slot if `limit` allows; false when the 24 h are full. */
  async takeDailySlot(limit: number, window: DailyWindow): Promise<boolean> {
    const cap = limit - window.past;
    if (cap <= 0) return false;
    const current = hourAttr(window.currentHour);
    const result = await this.table.update(keys.limits(), {
      update: `ADD #cur :one${window.stale.length ? ` REMOVE ${window.stale.map((_, i) => `#s${i}`).join(', ')}` : ''}`,
      condition: 'attribute_not_exists(#cur) OR #cur < :cap',
      names: { '#cur': current, ...Object.fromEntries(window.stale.map((name, i) => [`#s${i}`, name])) },
      values: { ':one': 1, ':cap': cap },
    });
    return result.applied;
  }

  /** Gives a slot back (the customer's own counters then refused the send). */
  async releaseDailySlot(hour: number): Promise<void> {
    await this.table.update(keys.limits(), { update: 'ADD #h :minus', condition: '#h > :zero', names: { '#h': hourAttr(hour) }, values: { ':minus': -1, ':zero': 0 } });
  }

  // ── a number's pacing and API calls ───────────────────────────────────────────────────────

  /**
   * Takes the number's next send slot and one API call of the current UTC day (CP-6, CP-10).
   * Sends are spaced evenly, one every 1/(0.95 × N) s (virtual scheduling, as in GCRA): each send
   * ADDs the interval to the number's `nextSlot` and goes at the slot it got, so the sends keep
   * below N a second (5 % kept for network jitter), with at most a quarter second's worth at
   * once after a lag. One unconditional ADD per send; a schedule that fell behind by more than
   * that is restarted from now.
   * Answers when to send (now or a few ms later), or that the day's calls are used up.
   */
  async takeSendSlot(phoneNumberId: string, limits: { perSecond: number; perDay: number }, now: number): Promise<{ ok: true; at: number } | { ok: false; full: 'day'; retryAt: number }> {
    // Whole microseconds: the schedule is compared exactly (no float drift in DynamoDB's decimals).
    const interval = Math.round(1_000_000 / (limits.perSecond * PACING_SHARE));
    const nowUs = Math.floor(now * 1000);
    const day = Math.floor(now / DAY_MS);
    const key = keys.numberRate(phoneNumberId);
    for (let attempt = 0; attempt < 5; attempt++) {
      const taken = await this.table.update(key, {
        update: 'ADD nextSlot :interval, apiCount :one',
        condition: 'apiDay = :d AND apiCount < :quota',
        values: { ':interval': interval, ':one': 1, ':d': day, ':quota': limits.perDay },
        returnValues: 'UPDATED_NEW',
      });
      if (taken.applied) {
        const after = Number(taken.attributes?.['nextSlot']);
        const slot = after - interval;
        if (slot >= nowUs - LAG_CREDIT_US) return { ok: true, at: Math.max(slot, nowUs) / 1000 };
        // Idle for a while: the schedule restarts from now (if no one else restarted it meanwhile),
        // so a quiet minute is not a credit for a burst. A lag under LAG_CREDIT_US is sent at once.

        const restarted = await this.table.update(key, { update: 'SET nextSlot = :next', condition: 'nextSlot = :seen', values: { ':next': nowUs + interval, ':seen': after } });
        if (restarted.applied) return { ok: true, at: now };
        continue; // someone else restarted it: take a slot of the new schedule
      }
      const item = (await this.table.get<{ apiDay?: number; apiCount?: number }>(key)) ?? {};
      if (item.apiDay === day && (item.apiCount ?? 0) >= limits.perDay) return { ok: false, full: 'day', retryAt: (day + 1) * DAY_MS };
      // A new day (or a number never used): its count starts at this send.
      const started = await this.table.update(key, {
        update: 'SET apiDay = :d, apiCount = :one, nextSlot = :next',
        condition: 'attribute_not_exists(apiDay) OR apiDay < :d',
        values: { ':d': day, ':one': 1, ':next': nowUs + interval },
      });
      if (started.applied) return { ok: true, at: now };
    }
    throw new Error(`the send slots of number ${phoneNumberId} kept changing; try again`);
  }

  // ── a number's state ──────────────────────────────────────────────────────────────────────

  async numberState(phoneNumberId: string): Promise<NumberState> {
    return (await this.table.get<NumberState>(keys.numberState(phoneNumberId))) ?? {};
  }

  async pauseNumber(phoneNumberId: string, until: number, reason: string): Promise<void> {
    await this.table.update(keys.numberState(phoneNumberId), {
      update: 'SET pausedUntil = :until, pauseReason = :reason',
      condition: 'attribute_not_exists(pausedUntil) OR pausedUntil < :until',
      values: { ':until': until, ':reason': reason },
    });
  }

  /** Records one health check (OP-2); answers the consecutive slow checks so far. */
  async recordHealth(phoneNumberId: string, check: { ms: number; slow: boolean; qualityRating?: string | undefined }, now: number): Promise<number> {
    const result = await this.table.update(keys.numberState(phoneNumberId), {
      update: check.slow
        ? 'SET lastCheckMs = :ms, lastCheckAt = :now, qualityRating = :q ADD slowChecks :one'
        : 'SET lastCheckMs = :ms, lastCheckAt = :now, qualityRating = :q, slowChecks = :zero',
      values: { ':ms': check.ms, ':now': now, ':q': check.qualityRating ?? 'UNKNOWN', ...(check.slow ? { ':one': 1 } : { ':zero': 0 }) },
      returnValues: 'ALL_NEW',
    });
    return Number(result.attributes?.['slowChecks'] ?? 0);
  }

  async switchNumber(phoneNumberId: string, backup: string | undefined, now: number): Promise<void> {
    await this.table.update(keys.numberState(phoneNumberId), {
      update: backup ? 'SET switchedTo = :to, switchedAt = :now' : 'REMOVE switchedTo, switchedAt',
      ...(backup && { values: { ':to': backup, ':now': now } }),
    });
  }
}

/** A customer's counters as stored (absent: none yet). */
export function countersOf(contact: Record<string, unknown> | undefined): CustomerCounters {
  const stored = contact?.[COUNTERS_ATTRIBUTE] as CustomerCounters | undefined;
  return stored ? { ...EMPTY_COUNTERS, ...stored } : EMPTY_COUNTERS;
}

/** The moving window as of `now`, from the hour counts. */
export function windowOf(item: Record<string, unknown>, now: number): DailyWindow {
  const currentHour = Math.floor(now / HOUR_MS);
  const first = currentHour - WINDOW_HOURS;
  let past = 0;
  let used = 0;
  let oldest: number | undefined;
  const stale: string[] = [];
  for (const [name, value] of Object.entries(item)) {
    if (!name.startsWith('h_')) continue;
    const hour = Number(name.slice(2));
    const count = Number(value);
    if (hour < first) {
      stale.push(name);
      continue;
    }
    used += count;
    if (hour < currentHour) past += count;
    if (count > 0 && (oldest === undefined || hour < oldest)) oldest = hour;
  }
  // The oldest counted hour leaves the window an hour after it is 24 hours old.
  const nextSlotAt = ((oldest ?? currentHour) + WINDOW_HOURS + 1) * HOUR_MS;
  return { used, past, currentHour, nextSlotAt, stale };
}
