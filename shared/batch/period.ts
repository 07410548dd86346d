/**
 * The periods the reports cover, in the business's time zone: the local day, the ISO week before
 * the one a moment is in, the calendar month before. Pure (Intl only).
 */
import { isoWeek, localParts } from '../domain/automation/time.ts';

const DAY_MS = 86_400_000;

export interface Period {
  /** `2026-12-01`, `2026-W48`, `2026-11`. */
  readonly label: string;
  /** [start, end) in epoch ms. */
  readonly start: number;
  readonly end: number;
}

/** The UTC instant of a local midnight (the zone's offset found by two refinements). */
function localMidnight(year: number, month: number, day: number, timeZone: string): number {
  let guess = Date.UTC(year, month - 1, day);
  for (let i = 0; i < 2; i++) {
    const p = localParts(guess, timeZone);
    const shown = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute);
    guess -= shown - Date.UTC(year, month - 1, day);
  }
  return guess;
}

export function localDate(at: number, timeZone: string): string {
  const p = localParts(at, timeZone);
  return `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
}

/** The ISO week before the one `at` is in (Monday 0:00 to Monday 0:00). */
export function previousWeek(at: number, timeZone: string): Period {
  const p = localParts(at, timeZone);
  const thisMonday = localMidnight(p.year, p.month, p.day - (p.weekday - 1), timeZone);
  const start = localMidnightOf(thisMonday - 7 * DAY_MS + 12 * 3_600_000, timeZone);
  return { label: isoWeek(start + 12 * 3_600_000, timeZone), start, end: thisMonday };
}

/** The calendar month before the one `at` is in. */
export function previousMonth(at: number, timeZone: string): Period {
  const p = localParts(at, timeZone);
  const end = localMidnight(p.year, p.month, 1, timeZone);
  const year = p.month === 1 ? p.year - 1 : p.year;
  const month = p.month === 1 ? 12 : p.month - 1;
  return { label: `${year}-${String(month).padStart(2, '0')}`, start: localMidnight(year, month, 1, timeZone), end };
}

function localMidnightOf(at: number, timeZone: string): number {
  const p = localParts(at, timeZone);
  return localMidnight(p.year, p.month, p.day, timeZone);
}
