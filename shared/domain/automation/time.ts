/**
 * Calendar facts in the business's time zone, pure (Intl only): the ISO week a once-a-week key
 * names, the local weekday and time (support hours), and a date or a time span in words.
 */
import type { Language } from './config.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

interface LocalParts {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  /** ISO weekday, 1 = Monday. */
  readonly weekday: number;
}

const partFormats = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

export function localParts(at: number, timeZone: string): LocalParts {
  let format = partFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', weekday: 'short', hourCycle: 'h23' });
    partFormats.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(at).map((p) => [p.type, p.value]));
  return {
    year: Number(parts['year']),
    month: Number(parts['month']),
    day: Number(parts['day']),
    hour: Number(parts['hour']),
    minute: Number(parts['minute']),
    weekday: WEEKDAYS[parts['weekday'] ?? 'Mon'] ?? 1,
  };
}

/** The ISO 8601 week of a moment in the time zone, as `2026-W49`. */
export function isoWeek(at: number, timeZone: string): string {
  const { year, month, day } = localParts(at, timeZone);
  const date = new Date(Date.UTC(year, month - 1, day));
  const weekday = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - weekday); // the week's Thursday decides its year
  const weekYear = date.getUTCFullYear();
  const week = Math.ceil(((date.getTime() - Date.UTC(weekYear, 0, 1)) / DAY_MS + 1) / 7);
  return `${weekYear}-W${String(week).padStart(2, '0')}`;
}

/** The BCP 47 locale our language is written in for Intl. */
export function localeOf(language: Language): string {
  return language === 'zh-Hant' ? 'zh-HK' : language === 'zh-Hans' ? 'zh-CN' : language;
}

/** "3 days ago", "3 天前", "3 дня назад": how long ago a moment was, in the customer's language (AU-3). */
export function relativeAgo(then: number, now: number, language: Language): string {
  const format = new Intl.RelativeTimeFormat(localeOf(language), { numeric: 'auto' });
  const ms = now - then;
  if (ms < HOUR_MS) return format.format(-Math.max(1, Math.round(ms / 60_000)), 'minute');
  if (ms < DAY_MS) return format.format(-Math.round(ms / HOUR_MS), 'hour');
  const days = Math.round(ms / DAY_MS);
  if (days < 14) return format.format(-days, 'day');
  if (days < 60) return format.format(-Math.round(days / 7), 'week');
  if (days < 365) return format.format(-Math.round(days / 30), 'month');
  return format.format(-Math.round(days / 365), 'year');
}

/** A date the customer reads: "3 Dec 2026", "2026年12月3日". */
export function dateInWords(at: number, language: Language, timeZone: string): string {
  return new Intl.DateTimeFormat(localeOf(language), { timeZone, year: 'numeric', month: 'short', day: 'numeric' }).format(at);
}

/** A weekday and time the customer reads: "Mon 10:00". */
export function weekdayTime(at: number, language: Language, timeZone: string): string {
  return new Intl.DateTimeFormat(localeOf(language), { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at);
}

export interface SupportHours {
  readonly days: readonly number[];
  readonly from: string;
  readonly to: string;
}

const minutesOf = (clock: string) => Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3, 5));

/** True while the team is at work (local weekday and time inside the hours; `to` exclusive). */
export function withinHours(at: number, hours: SupportHours, timeZone: string): boolean {
  const p = localParts(at, timeZone);
  const minute = p.hour * 60 + p.minute;
  return hours.days.includes(p.weekday) && minute >= minutesOf(hours.from) && minute < minutesOf(hours.to);
}

/** The next moment the team starts work after `at` (at most 8 days ahead), to the minute. */
export function nextOpening(at: number, hours: SupportHours, timeZone: string): number {
  const start = minutesOf(hours.from);
  // Walk forward by the minutes to the next opening time of each following local day.
  for (let dayOffset = 0; dayOffset <= 8; dayOffset++) {
    const probe = at + dayOffset * DAY_MS;
    const p = localParts(probe, timeZone);
    const minute = p.hour * 60 + p.minute;
    const candidate = probe + (start - minute) * 60_000 - (probe % 60_000);
    if (candidate > at && hours.days.includes(localParts(candidate, timeZone).weekday)) return candidate;
  }
  return at + DAY_MS;
}
