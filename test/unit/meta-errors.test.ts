import { describe, expect, it } from 'vitest';
import type { FailureKind } from '#shared/whatsapp/outbound/channel';
import { META_ERROR_KINDS, classifyMetaError } from '#shared/whatsapp/outbound/meta-errors';

/** Every code the brief names, with the kind the send path expects (channel.ts, FailureKind). */
const EXPECTED: readonly [number, FailureKind][] = [
  [131047, 'window_closed'],
  [131026, 'undeliverable'],
  [131049, 'marketing_cap'],
  [131050, 'opted_out'],
  [131048, 'spam_limit'],
  [130429, 'retry'],
  [131056, 'retry'],
  [4, 'retry'],
  [80007, 'retry'],
  [1, 'retry'],
  [2, 'retry'],
  [131000, 'retry'],
  [132000, 'template'],
  [132001, 'template'],
  [132005, 'template'],
  [132007, 'template'],
  [132012, 'template'],
  [132015, 'template'],
  [132016, 'template'],
  [190, 'auth'],
  [131042, 'account_blocked'],
  [368, 'account_blocked'],
  [131031, 'account_blocked'],
  [131062, 'bsuid_not_allowed'],
];

describe('Meta error classification', () => {
  it.each(EXPECTED)('code %i is %s', (code, kind) => {
    // A 400 is what Meta answers for most of them: the code, not the status, decides.
    expect(classifyMetaError({ httpStatus: 400, code, title: 'from Meta' })).toMatchObject({ kind, code, title: 'from Meta', httpStatus: 400 });
  });

  it('lists exactly the codes it classifies specially', () => {
    expect(Object.keys(META_ERROR_KINDS).map(Number).sort((a, b) => a - b)).toEqual(EXPECTED.map(([c]) => c).sort((a, b) => a - b));
    for (const [code, kind] of EXPECTED) expect(META_ERROR_KINDS[code]?.kind).toBe(kind);
  });

  it('retries a 5xx or a 429 without a known code', () => {
    expect(classifyMetaError({ httpStatus: 503 }).kind).toBe('retry');
    expect(classifyMetaError({ httpStatus: 500, code: 133004 }).kind).toBe('retry');
    expect(classifyMetaError({ httpStatus: 429, retryAfterMs: 2000 })).toMatchObject({ kind: 'retry', code: 0, retryAfterMs: 2000 });
  });

  it('treats any other 4xx as permanent', () => {
    expect(classifyMetaError({ httpStatus: 400, code: 100, title: 'Invalid parameter' })).toMatchObject({ kind: 'permanent', code: 100 });
    expect(classifyMetaError({ httpStatus: 404 }).kind).toBe('permanent');
  });

  it('reads a bare 401 as a refused token', () => {
    expect(classifyMetaError({ httpStatus: 401 }).kind).toBe('auth');
  });

  it('lets a known code win over the status', () => {
    expect(classifyMetaError({ httpStatus: 500, code: 131047 }).kind).toBe('window_closed');
    expect(classifyMetaError({ httpStatus: 400, code: 130429 }).kind).toBe('retry');
  });

  it('without a status, an unknown code is permanent and no code at all is a retry', () => {
    expect(classifyMetaError({ code: 100 }).kind).toBe('permanent');
    expect(classifyMetaError({}).kind).toBe('retry');
  });

  it('falls back to Meta’s meaning of the code when no title is given, and keeps the subcode', () => {
    expect(classifyMetaError({ httpStatus: 400, code: 132015, subcode: 2494100 })).toMatchObject({ title: 'Template is paused', subcode: 2494100 });
    expect(classifyMetaError({ httpStatus: 502 }).title).toBe('HTTP 502 without an error code');
  });
});
