/**
 * Meta's error codes, mapped once to what the send path does with them (channel.ts, FailureKind).
 * Meta asks integrators to act on `error.code` (not on subcodes, titles or the HTTP status), so
 * the code decides whenever it is known; the HTTP status decides only for an answer without one
 * (a proxy's 502, a bare 429). Both adapters (Cloud API, End User Messaging Social) use this
 * table, and the docs and tests list it, so a code can never mean two things in two places.
 *
 * Source: https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes/
 */
import type { FailureKind, SendFailure } from './channel.ts';

export interface MetaErrorKind {
  readonly kind: FailureKind;
  /** Meta's title for the code, for docs and logs. */
  readonly meaning: string;
}

/** Every code the send path treats specially; any other 4xx is `permanent`, any other 5xx/429 `retry`. */
export const META_ERROR_KINDS: Readonly<Record<number, MetaErrorKind>> = Object.freeze({
  1: { kind: 'retry', meaning: 'API unknown (invalid request or possible server error)' },
  2: { kind: 'retry', meaning: 'API service (temporary downtime or overload)' },
  4: { kind: 'retry', meaning: 'API too many calls (app rate limit)' },
  190: { kind: 'auth', meaning: 'Access token has expired or is invalid' },
  368: { kind: 'account_blocked', meaning: 'Temporarily blocked for policy violations' },
  80007: { kind: 'retry', meaning: 'WhatsApp Business Account rate limit' },
  130429: { kind: 'retry', meaning: 'Cloud API throughput rate limit hit' },
  131000: { kind: 'retry', meaning: 'Something went wrong (unknown error)' },
  131026: { kind: 'undeliverable', meaning: 'Message undeliverable' },
  131031: { kind: 'account_blocked', meaning: 'Business account locked' },
  131042: { kind: 'account_blocked', meaning: 'Business eligibility payment issue' },
  131047: { kind: 'window_closed', meaning: 'Re-engagement message: more than 24 hours since the customer last replied' },
  131048: { kind: 'spam_limit', meaning: 'Spam rate limit hit' },
  131049: { kind: 'marketing_cap', meaning: 'Meta chose not to deliver (per-user marketing limit)' },
  131050: { kind: 'opted_out', meaning: 'The customer stopped marketing messages from the business' },
  131056: { kind: 'retry', meaning: '(Business account, consumer account) pair rate limit hit' },
  131062: { kind: 'bsuid_not_allowed', meaning: 'Business-scoped user ID recipients are not supported for this message' },
  132000: { kind: 'template', meaning: 'Template parameter count mismatch' },
  132001: { kind: 'template', meaning: 'Template does not exist (name or language)' },
  132005: { kind: 'template', meaning: 'Template hydrated text too long' },
  132007: { kind: 'template', meaning: 'Template format character policy violated' },
  132012: { kind: 'template', meaning: 'Template parameter format mismatch' },
  132015: { kind: 'template', meaning: 'Template is paused' },
  132016: { kind: 'template', meaning: 'Template is disabled' },
});

export interface MetaErrorInput {
  readonly httpStatus?: number | undefined;
  /** Meta's `error.code`; undefined when the answer had none. */
  readonly code?: number | undefined;
  readonly subcode?: number | undefined;
  readonly title?: string | undefined;
  readonly retryAfterMs?: number | undefined;
}

/** What a failed send means for the send path. Pure. */
export function classifyMetaError(input: MetaErrorInput): SendFailure {
  const known = input.code === undefined ? undefined : META_ERROR_KINDS[input.code];
  return {
    kind: known?.kind ?? kindFromStatus(input.httpStatus, input.code),
    code: input.code ?? 0,
    subcode: input.subcode,
    title: input.title?.trim() || known?.meaning || describeStatus(input.httpStatus),
    httpStatus: input.httpStatus,
    retryAfterMs: input.retryAfterMs,
  };
}

function kindFromStatus(status: number | undefined, code: number | undefined): FailureKind {
  // Without a status (a relayed error), an unknown code is Meta refusing the request itself.
  if (status === undefined) return code === undefined ? 'retry' : 'permanent';
  if (status === 429 || status >= 500) return 'retry';
  // A bare 401 is a refused token even when Meta gave no code 190.
  if (status === 401) return 'auth';
  return 'permanent';
}

function describeStatus(status: number | undefined): string {
  return status === undefined ? 'no answer from Meta' : `HTTP ${status} without an error code`;
}
