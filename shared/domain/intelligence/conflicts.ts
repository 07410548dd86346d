/**
 * CRM ↔ WhatsApp conflicts (ID-5) and defaults for missing mapped CRM fields (ID-6).
 *
 * Rule: the later modification wins (millisecond timestamps). On an exact tie the value whose
 * canonical JSON is lexically smaller wins, so the outcome does not depend on which system
 * runs the comparison or on argument order (resolution is commutative). A side whose value is
 * `undefined` (never set) loses without a conflict; `null` is an explicit clear and takes part.
 * Every disagreement is returned as a ConflictRecord for human review.
 */

export type Side = 'crm' | 'whatsapp';

export interface ConflictRecord {
  field: string;
  crmValue: unknown;
  waValue: unknown;
  winner: Side;
  /** The later of the two modification times (ms): when the conflict arose. */
  at: number;
  /** UTC calendar day of `at`, YYYY-MM-DD, for the daily review count (50–100 a day is normal). */
  day: string;
}

export interface Resolution<T> {
  value: T;
  winner: Side;
  conflict: ConflictRecord | null;
}

/** JSON with sorted object keys, so equal values compare equal. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function resolveField<T>(
  crmValue: T,
  crmModifiedAtMs: number,
  waValue: T,
  waModifiedAtMs: number,
  field = 'value',
): Resolution<T> {
  if (waValue === undefined) return { value: crmValue, winner: 'crm', conflict: null };
  if (crmValue === undefined) return { value: waValue, winner: 'whatsapp', conflict: null };
  const crmJson = canonicalJson(crmValue);
  const waJson = canonicalJson(waValue);
  let winner: Side;
  if (crmModifiedAtMs !== waModifiedAtMs) winner = crmModifiedAtMs > waModifiedAtMs ? 'crm' : 'whatsapp';
  else winner = crmJson <= waJson ? 'crm' : 'whatsapp';
  const value = winner === 'crm' ? crmValue : waValue;
  if (crmJson === waJson) return { value, winner, conflict: null };
  const at = Math.max(crmModifiedAtMs, waModifiedAtMs);
  return { value, winner, conflict: { field, crmValue, waValue, winner, at, day: utcDay(at) } };
}

export interface VersionedRecord {
  values: Record<string, unknown>;
  /** Last modification time per field, ms. */
  modifiedAt: Record<string, number>;
}

/** Field-by-field resolution of a whole record; conflicts in field-name order. */
export function resolveRecord(
  crm: VersionedRecord,
  wa: VersionedRecord,
): { values: Record<string, unknown>; conflicts: ConflictRecord[] } {
  const fields = [...new Set([...Object.keys(crm.values), ...Object.keys(wa.values)])].sort();
  const values: Record<string, unknown> = {};
  const conflicts: ConflictRecord[] = [];
  for (const field of fields) {
    const r = resolveField(crm.values[field], crm.modifiedAt[field] ?? 0, wa.values[field], wa.modifiedAt[field] ?? 0, field);
    if (r.value !== undefined) values[field] = r.value;
    if (r.conflict) conflicts.push(r.conflict);
  }
  return { values, conflicts };
}

function isMissing(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

/**
 * ID-6: a mapped CRM field that is missing (undefined, null or blank) gets its configured
 * default (customer level → "new customer") instead of the record being skipped.
 */
export function applyDefaults<T extends Record<string, unknown>>(
  mapped: T,
  defaults: Readonly<Record<string, string | number | boolean>>,
): { record: T & Record<string, unknown>; defaulted: string[] } {
  const record: Record<string, unknown> = { ...mapped };
  const defaulted: string[] = [];
  for (const [field, value] of Object.entries(defaults)) {
    if (isMissing(record[field])) {
      record[field] = value;
      defaulted.push(field);
    }
  }
  return { record: record as T & Record<string, unknown>, defaulted };
}
