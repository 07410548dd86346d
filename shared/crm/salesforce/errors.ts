/**
 * Salesforce's error answers and what they mean for us. REST errors are an array
 * `[{ message, errorCode, fields }]`; sObject Collections report each record as
 * `{ success: false, errors: [{ statusCode, message, fields }] }`; the token endpoint answers
 * OAuth's `{ error, error_description }`. The `message` may echo a value we sent (a phone, a
 * name), so only error codes and field names ever reach a {@link CrmError}.
 */
import * as z from 'zod/mini';
import '../../zod.ts';
import { CrmError, type CrmErrorKind } from '../port.ts';

export interface SalesforceErrorItem {
  readonly code: string;
  readonly fields: readonly string[];
}

const restError = z.object({
  errorCode: z.optional(z.string()),
  statusCode: z.optional(z.string()),
  fields: z.optional(z.array(z.string())),
});
const oauthError = z.object({ error: z.string() });

/** Codes and field names as text we may keep: letters, digits, underscores, dots. */
const SAFE = /^[A-Za-z0-9_.]{1,80}$/;

/** The error items of a REST error array, a collections record result or a lone error object. */
export function errorItems(body: unknown): SalesforceErrorItem[] {
  const nested = (value: unknown): unknown[] =>
    value && typeof value === 'object' && !Array.isArray(value) && Array.isArray((value as { errors?: unknown }).errors) ? (value as { errors: unknown[] }).errors : [value];
  // A collection's results nest their errors: [{ success: false, errors: [...] }, …].
  const list = (Array.isArray(body) ? body : [body]).flatMap(nested);
  const items = list.flatMap((item) => {
    const parsed = restError.safeParse(item);
    if (!parsed.success) return [];
    const code = parsed.data.errorCode ?? parsed.data.statusCode;
    if (!code) return [];
    return [{ code: SAFE.test(code) ? code : 'UNKNOWN', fields: (parsed.data.fields ?? []).filter((f) => SAFE.test(f)) }];
  });
  // The records rolled back because another failed say nothing about why: the failure does.
  const causes = items.filter((item) => !ROLLED_BACK.has(item.code));
  return causes.length ? causes : items;
}

const ROLLED_BACK = new Set(['ALL_OR_NONE_OPERATION_ROLLED_BACK', 'PROCESSING_HALTED']);

/** The first error code, if the body names one (OAuth's `error` too). */
export function errorCode(body: unknown): string | undefined {
  const code = errorItems(body)[0]?.code;
  if (code) return code;
  const oauth = oauthError.safeParse(body);
  return oauth.success && SAFE.test(oauth.data.error) ? oauth.data.error : undefined;
}

export function hasErrorCode(body: unknown, ...codes: string[]): boolean {
  return errorItems(body).some((item) => codes.includes(item.code));
}

/** ` DUPLICATE_VALUE (WhatsApp_Phone__c)`: codes and field names only, never the message. */
export function describe(body: unknown): string {
  const items = errorItems(body);
  if (items.length === 0) {
    const code = errorCode(body);
    if (code) return ` ${code}`;
    return typeof body === 'string' && body.trim() ? ' (a non-JSON answer)' : '';
  }
  return items
    .slice(0, 3)
    .map((item) => ` ${item.code}${item.fields.length ? ` (${item.fields.slice(0, 5).join(', ')})` : ''}`)
    .join(';');
}

/** The org's API limit: the rolling 24 h allocation or the concurrent long-running requests. */
export const REQUEST_LIMIT_EXCEEDED = 'REQUEST_LIMIT_EXCEEDED';

/**
 * Record locks and query timeouts are 400s that pass: another transaction held the row, or the
 * database was slow. Retrying the same request can succeed.
 */
const RETRYABLE_CODES = new Set(['UNABLE_TO_LOCK_ROW', 'QUERY_TIMEOUT', 'REQUEST_RUNNING_TOO_LONG', 'SERVER_UNAVAILABLE']);

/** A record that is gone: deleted (or merged away), never there, or an id that cannot be one. */
const MISSING_CODES = new Set(['ENTITY_IS_DELETED', 'NOT_FOUND', 'INVALID_CROSS_REFERENCE_KEY', 'MALFORMED_ID', 'INVALID_ID_FIELD']);

/**
 * Whether an answer says the record addressed is not there. A cross-reference error naming a
 * lookup field (e.g. Contact__c) is about that field's value, not the record itself.
 */
export function isMissingRecord(body: unknown): boolean {
  const items = errorItems(body);
  return items.length > 0 && items.every((item) => MISSING_CODES.has(item.code) && item.fields.every((f) => f === 'Id' || f === 'id'));
}

/** The kind of failure a non-2xx answer (or a failed record of a collection) is. */
export function kindOf(status: number, body: unknown): CrmErrorKind {
  const codes = errorItems(body).map((item) => item.code);
  if (codes.includes(REQUEST_LIMIT_EXCEEDED) || status === 429) return 'rate_limited';
  if (status === 401 || status === 403) return 'auth';
  if (status >= 500 || codes.some((code) => RETRYABLE_CODES.has(code))) return 'transient';
  return 'permanent';
}

/** A CrmError for a failed answer, with the status, the first error code and no echoed values. */
export function salesforceError(status: number, body: unknown, what: string, extra: { retryAfterMs?: number; outcomeUnknown?: boolean } = {}): CrmError {
  const kind = kindOf(status, body);
  const code = errorCode(body);
  return new CrmError(kind, `Salesforce ${status} on ${what}${describe(body)}`, {
    status,
    crm: 'salesforce',
    ...(code && { category: code }),
    ...extra,
  });
}
