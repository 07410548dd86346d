/**
 * The archive's calendar (ST-2): UTC months, when each one is due, and when its archive is final.
 *
 * A row of month M (its history time: `sentAt` of a message, `createdAt` of an outbound row) leaves
 * the table by TTL `retentionDays` after it arrived (client.ts `expiresAt`), so M's earliest rows
 * expire at start(M) + retention and its last ones at end(M) + retention. Hence:
 *
 * - M is **due** from start(M) + retention − leadDays on: its earliest rows expire within the lead
 *   (a week by default), so the nightly job archives it before TTL starts removing anything.
 * - M stays due until end(M) + retention: after that every row of M has expired and there is
 *   nothing left in the table to save. A night the job missed (or failed) is therefore caught up
 *   the next night: the month is still in the window, and still has no marker.
 * - Once archived, the month's marker (`ARCHIVE#<YYYY-MM>` / `ARCHIVE`) keeps it from being archived
 *   again — if the marker is **final**: written at or after end(M) + leadDays. With the default
 *   retention (180 days) the first run (day 173) is long after that. Only a short retention
 *   (30–37 days) makes a month due before it is over; it is then archived again each night
 *   (rewrites merge, see archive.ts) until a run after end(M) + leadDays, when new rows and late
 *   statuses have stopped arriving, writes the final marker.
 *
 * Everything here is pure; months are 'YYYY-MM' strings (they sort like their times).
 */

export const DAY_MS = 86_400_000;
export const DEFAULT_LEAD_DAYS = 7;

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** True for a well-formed 'YYYY-MM'. */
export function isMonth(value: string): boolean {
  return MONTH.test(value);
}

/** 'YYYY-MM' → [year, month index 0–11]; throws naming the value when malformed. */
function parseMonth(month: string): [number, number] {
  const match = MONTH.exec(month);
  if (!match) throw new Error(`a month is written YYYY-MM (e.g. 2026-03), got "${month}"`);
  return [Number(match[1]), Number(match[2]) - 1];
}

/** The first millisecond of a UTC month. */
export function monthStart(month: string): number {
  const [year, index] = parseMonth(month);
  return Date.UTC(year, index, 1);
}

/** The first millisecond after a UTC month (the next month's start). */
export function monthEnd(month: string): number {
  const [year, index] = parseMonth(month);
  return Date.UTC(year, index + 1, 1);
}

/** The UTC month of a time (ms). */
export function monthOf(at: number): string {
  return new Date(at).toISOString().slice(0, 7);
}

/** The month after `month`. */
function nextMonth(month: string): string {
  return monthOf(monthEnd(month));
}

function checkWindow(retentionDays: number, leadDays: number): void {
  if (!Number.isInteger(retentionDays) || retentionDays < 1) throw new Error(`retentionDays must be a whole number of days, got ${retentionDays}`);
  if (!Number.isInteger(leadDays) || leadDays < 0 || leadDays >= retentionDays) throw new Error(`leadDays must be 0 or more and less than the retention (${retentionDays}), got ${leadDays}`);
}

/** When month M becomes due: its earliest rows expire `leadDays` later. */
export function dueFrom(month: string, retentionDays: number, leadDays = DEFAULT_LEAD_DAYS): number {
  return monthStart(month) + (retentionDays - leadDays) * DAY_MS;
}

/** When month M stops being due: every one of its rows has expired by then. */
export function dueUntil(month: string, retentionDays: number): number {
  return monthEnd(month) + retentionDays * DAY_MS;
}

/**
 * The months the nightly job must have archived by `now`, oldest first: those whose earliest rows
 * expire within `leadDays` (or already started to) and of which rows can still be in the table.
 * Usually one or two months; the caller skips those with a final marker.
 */
export function monthsDue(now: number, retentionDays: number, leadDays = DEFAULT_LEAD_DAYS): string[] {
  checkWindow(retentionDays, leadDays);
  const months: string[] = [];
  // The oldest month that can still have rows ended at most `retentionDays` ago.
  for (let month = monthOf(now - retentionDays * DAY_MS); monthStart(month) <= now; month = nextMonth(month)) {
    if (dueFrom(month, retentionDays, leadDays) <= now && now < dueUntil(month, retentionDays)) months.push(month);
  }
  return months;
}

/** A month's archive written at `archivedAt` is final (never redone unless forced) from end(M) + leadDays on. */
export function isFinalArchive(month: string, archivedAt: number, leadDays = DEFAULT_LEAD_DAYS): boolean {
  return archivedAt >= monthEnd(month) + leadDays * DAY_MS;
}

/**
 * Whether rows of the month may already have left the table: TTL can start a day (clock margin)
 * before start(M) + retention. From then on a rewrite must keep what the earlier archive holds.
 */
export function mayHaveExpired(month: string, now: number, retentionDays: number): boolean {
  return now >= monthStart(month) + (retentionDays - 1) * DAY_MS;
}
