/**
 * Values as Zoho CRM writes and reads them: Date/Time fields in `yyyy-MM-ddTHH:mm:ss±HH:mm`
 * (no milliseconds, no `Z`), Date fields in `yyyy-MM-dd`, and the search `criteria` syntax
 * `((Field:equals:value)or(Field:equals:value))` with `(`, `)` and `,` escaped in values.
 */

/** A Date/Time field value in UTC, e.g. 2026-11-20T09:30:00+00:00. */
export function zohoDateTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}+00:00`;
}

/** A Date field value (UTC day), e.g. 2026-11-20. */
export function zohoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Epoch ms of a Date/Time or Date value Zoho returned; undefined when it is not one. */
export function parseZohoTime(value: unknown): number | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

export interface Criterion {
  readonly field: string;
  readonly value: string;
}

/** Zoho's search takes at most 10 criteria per request. */
export const MAX_CRITERIA = 10;

/** `value` with the characters the criteria syntax reserves escaped by a backslash. */
export function escapeCriteriaValue(value: string): string {
  return value.replace(/[\\(),]/g, (c) => `\\${c}`);
}

/** OR-ed equality criteria; the caller keeps to {@link MAX_CRITERIA}. */
export function anyEquals(criteria: readonly Criterion[]): string {
  if (criteria.length === 0) throw new Error('anyEquals needs at least one criterion');
  if (criteria.length > MAX_CRITERIA) throw new Error(`Zoho search takes at most ${MAX_CRITERIA} criteria`);
  const parts = criteria.map((c) => `(${c.field}:equals:${escapeCriteriaValue(c.value)})`);
  return parts.length === 1 ? parts[0]! : `(${parts.join('or')})`;
}

/** Digits of a phone number as people type it ("+852 9123-4567" → 85291234567). */
export function phoneDigits(value: unknown): string {
  return typeof value === 'string' ? value.replace(/\D/g, '') : '';
}

/** A text cut to `max` characters (Zoho refuses a longer value with INVALID_DATA). */
export function fit(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}

/** The id of a lookup value (`{ name, id }`), or undefined. */
export function lookupId(value: unknown): string | undefined {
  if (value && typeof value === 'object' && 'id' in value) {
    const id = (value as { id?: unknown }).id;
    return typeof id === 'string' && id !== '' ? id : typeof id === 'number' ? String(id) : undefined;
  }
  return undefined;
}

/** A field value as a non-empty string, or undefined. */
export function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}
