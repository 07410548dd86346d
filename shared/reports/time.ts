/**
 * Local calendar of the business (SCRM_TIME_ZONE, default Asia/Hong_Kong): the day, hour and
 * weekday an instant falls on there, and the weeks (Monday–Sunday) and days of a report. Built on
 * @date-fns/tz, so a day is the business's day even where it does not start at 00:00 UTC, and a
 * day with a daylight-saving change has 23 or 25 hours.
 */
import { TZDateMini } from '@date-fns/tz/date/mini';

export const DEFAULT_TIME_ZONE = 'Asia/Hong_Kong';

/** `YYYY-MM-DD`. */
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export interface LocalTime {
  /** `YYYY-MM-DD` in the zone. */
  readonly day: string;
  /** 0..23. */
  readonly hour: number;
  /** Monday 0 … Sunday 6. */
  readonly weekday: number;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Where the instant `ms` falls on the business's calendar. */
export function localTime(ms: number, timeZone: string): LocalTime {
  const d = new TZDateMini(ms, timeZone);
  return { day: `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`, hour: d.getHours(), weekday: (d.getDay() + 6) % 7 };
}

/** A `YYYY-MM-DD` string checked to be a calendar date; throws a RangeError naming it otherwise. */
export function parseDay(day: string): { y: number; m: number; d: number } {
  const match = DATE.exec(day);
  const [y, m, d] = match ? [Number(match[1]), Number(match[2]), Number(match[3])] : [NaN, NaN, NaN];
  const check = new Date(Date.UTC(y, m - 1, d));
  if (!match || check.getUTCFullYear() !== y || check.getUTCMonth() !== m - 1 || check.getUTCDate() !== d) {
    throw new RangeError(`${JSON.stringify(day)} is not a date YYYY-MM-DD`);
  }
  return { y, m, d };
}

/** The day `n` days after `day` (negative: before); calendar arithmetic, no zone involved. */
export function addDays(day: string, n: number): string {
  const { y, m, d } = parseDay(day);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

/** Monday 0 … Sunday 6 of a calendar day. */
export function weekdayOf(day: string): number {
  const { y, m, d } = parseDay(day);
  return (new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7;
}

/** The Monday of the week `day` is in. */
export function mondayOf(day: string): string {
  return addDays(day, -weekdayOf(day));
}

/** Every day from `from` to `to`, inclusive. */
export function daysOf(from: string, to: string): string[] {
  const days: string[] = [];
  for (let day = from; day <= to; day = addDays(day, 1)) days.push(day);
  return days;
}

/** The instant the local day starts (00:00 in the zone). */
export function startOfDay(day: string, timeZone: string): number {
  const { y, m, d } = parseDay(day);
  return new TZDateMini(y, m - 1, d, timeZone).getTime();
}

/** Whole days between two calendar days (`to` − `from`). */
export function daysBetween(from: string, to: string): number {
  const a = parseDay(from);
  const b = parseDay(to);
  return Math.round((Date.UTC(b.y, b.m - 1, b.d) - Date.UTC(a.y, a.m - 1, a.d)) / 86_400_000);
}
