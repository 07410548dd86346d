/**
 * SOQL text built from our values. A value is always a quoted literal with SOQL's escapes, so a
 * customer's name or a key cannot change the query (SOQL injection).
 */

const ESCAPES: Record<string, string> = { '\\': '\\\\', "'": "\\'", '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f', '"': '\\"' };

/** `O'Brien` → `'O\'Brien'`. */
export function literal(value: string): string {
  return `'${value.replace(/[\\'\n\r\t\b\f"]/g, (c) => ESCAPES[c] ?? c)}'`;
}

/** `field IN ('a','b')`, or `field = 'a'` for one value. */
export function inList(field: string, values: readonly string[]): string {
  if (values.length === 0) throw new Error(`inList(${field}) needs at least one value`);
  return values.length === 1 ? `${field} = ${literal(values[0]!)}` : `${field} IN (${values.map(literal).join(', ')})`;
}

/** A Salesforce record id (15 or 18 letters and digits): the only thing put into SOQL unquoted-checked. */
export function isRecordId(value: string): boolean {
  return /^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$/.test(value);
}
