/**
 * Salesforce's answers for what went wrong, as the local org sends them: REST errors are an
 * array `[{ message, errorCode, fields }]` (their messages may quote the value sent, as
 * Salesforce's do — the adapter must not keep them); ids are 18 characters with a key prefix.
 */

export interface ErrorItem {
  readonly message: string;
  readonly errorCode: string;
  readonly fields: readonly string[];
}

/** A failed request: the status and body to answer with. */
export class SalesforceFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(Array.isArray(body) ? String((body[0] as ErrorItem | undefined)?.errorCode ?? status) : String(status));
  }

  /** The first error, for a collection's per-record result. */
  get item(): ErrorItem {
    const first = Array.isArray(this.body) ? (this.body[0] as ErrorItem | undefined) : undefined;
    return first ?? { message: `HTTP ${this.status}`, errorCode: 'UNKNOWN_EXCEPTION', fields: [] };
  }
}

export function failure(status: number, errorCode: string, message: string, fields: readonly string[] = []): SalesforceFailure {
  return new SalesforceFailure(status, [{ message, errorCode, fields }]);
}

export const notFound = () => failure(404, 'NOT_FOUND', 'The requested resource does not exist');
export const entityDeleted = (fields: readonly string[] = []) => failure(404, 'ENTITY_IS_DELETED', 'entity is deleted', fields);

const CHECKSUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** The 18-character id of a 15-character one: a case-safe suffix, one letter per 5 characters. */
export function to18(id15: string): string {
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const c = id15[chunk * 5 + i]!;
      if (c >= 'A' && c <= 'Z') bits |= 1 << i;
    }
    suffix += CHECKSUM[bits];
  }
  return id15 + suffix;
}

/** A record id: key prefix, a fixed pod part, a base-62 sequence number (15 characters), checksum. */
export function recordId(prefix: string, sequence: number): string {
  let n = sequence;
  let digits = '';
  do {
    digits = BASE62[n % 62] + digits;
    n = Math.floor(n / 62);
  } while (n > 0);
  return to18(`${prefix}5g${digits.padStart(10, '0')}`);
}

export function isId(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$/.test(value);
}

/** A DateTime as Salesforce answers it: 2026-09-10T10:00:00.000+0000. */
export function sfDateTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}
