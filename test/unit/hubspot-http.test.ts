import { describe, expect, it } from 'vitest';
import { CrmError } from '#shared/crm/port';
import { HubSpotHttp, type FetchLike } from '#shared/crm/hubspot/http';
import { parseRetryAfter } from '#shared/http';
import { existingIdFromConflict, isUniqueValueConflict } from '#shared/crm/hubspot/schemas';

interface Canned {
  readonly status?: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  readonly fail?: 'network' | 'hang';
}

/** A fetch that answers from a script and records what it was asked. */
function scriptedFetch(script: Canned[]) {
  const requests: { url: string; init: RequestInit }[] = [];
  const fetch: FetchLike = async (url, init) => {
    requests.push({ url, init });
    const next = script.shift() ?? { status: 200, body: {} };
    if (next.fail === 'network') throw new TypeError('fetch failed');
    if (next.fail === 'hang') {
      return new Promise<Response>((_, reject) => {
        init.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      });
    }
    return new Response(next.body === undefined ? '' : JSON.stringify(next.body), {
      status: next.status ?? 200,
      headers: next.headers,
    });
  };
  return { fetch, requests };
}

function client(fetch: FetchLike, overrides: Partial<ConstructorParameters<typeof HubSpotHttp>[0]> = {}) {
  return new HubSpotHttp({
    baseUrl: 'https://hubspot.test/',
    accessToken: 'token-1',
    backoffBaseMs: 1,
    timeoutMs: 200,
    maxInAttemptWaitMs: 100,
    fetch,
    ...overrides,
  });
}

async function failure(promise: Promise<unknown>): Promise<CrmError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CrmError);
  return error as CrmError;
}

describe('HubSpot HTTP layer', () => {
  it('sends the bearer token, JSON body and query to the versioned path', async () => {
    const { fetch, requests } = scriptedFetch([{ status: 200, body: { ok: true } }]);
    const http = client(fetch);
    const response = await http.send({
      method: 'POST',
      path: '/crm/objects/2026-09/contacts',
      query: { idProperty: 'whatsapp_user_id', skipped: undefined },
      body: { properties: { a: '1' } },
    });
    expect(response).toEqual({ status: 200, body: { ok: true } });
    const [request] = requests;
    expect(request?.url).toBe('https://hubspot.test/crm/objects/2026-09/contacts?idProperty=whatsapp_user_id');
    expect(new Headers(request?.init.headers).get('authorization')).toBe('Bearer token-1');
    expect(request?.init.body).toBe('{"properties":{"a":"1"}}');
    expect(http.calls).toBe(1);
  });

  it('retries a 5xx and a network error, then succeeds, counting every try', async () => {
    const { fetch } = scriptedFetch([{ status: 502 }, { fail: 'network' }, { status: 200, body: { id: '1' } }]);
    const http = client(fetch);
    await expect(http.send({ method: 'GET', path: '/x' })).resolves.toEqual({ status: 200, body: { id: '1' } });
    expect(http.calls).toBe(3);
  });

  it('gives up with transient after the configured tries of 5xx', async () => {
    const { fetch } = scriptedFetch([{ status: 500 }, { status: 503 }, { status: 500 }]);
    const error = await failure(client(fetch).send({ method: 'GET', path: '/x' }));
    expect(error.kind).toBe('transient');
    expect(error.details.status).toBe(500);
  });

  it('turns a timeout into transient after the retries', async () => {
    const { fetch } = scriptedFetch([{ fail: 'hang' }, { fail: 'hang' }]);
    const error = await failure(client(fetch, { timeoutMs: 20, maxTries: 2 }).send({ method: 'GET', path: '/x' }));
    expect(error.kind).toBe('transient');
    expect(error.message).toContain('timeout');
  });

  it('waits out a short Retry-After inside the attempt', async () => {
    const { fetch } = scriptedFetch([{ status: 429, headers: { 'retry-after': '0.05' } }, { status: 200, body: {} }]);
    const started = Date.now();
    await client(fetch).send({ method: 'GET', path: '/x' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('throws rate_limited with retryAfterMs when Retry-After is longer than the in-attempt wait', async () => {
    const { fetch } = scriptedFetch([{ status: 429, headers: { 'retry-after': '30' }, body: { message: 'slow down' } }]);
    const error = await failure(client(fetch).send({ method: 'GET', path: '/x' }));
    expect(error.kind).toBe('rate_limited');
    expect(error.details.retryAfterMs).toBe(30_000);
    expect(error.retryable).toBe(true);
  });

  it('maps 401 and 403 to auth', async () => {
    for (const status of [401, 403]) {
      const { fetch } = scriptedFetch([{ status, body: { message: 'bad token', category: 'INVALID_AUTHENTICATION' } }]);
      const error = await failure(client(fetch).send({ method: 'GET', path: '/x' }));
      expect(error.kind).toBe('auth');
    }
  });

  it("maps a 400 to permanent with HubSpot's message, without retrying", async () => {
    const { fetch, requests } = scriptedFetch([
      { status: 400, body: { status: 'error', message: 'Property "x" does not exist', category: 'VALIDATION_ERROR' } },
    ]);
    const error = await failure(client(fetch).send({ method: 'POST', path: '/x', body: {} }));
    expect(error.kind).toBe('permanent');
    expect(error.message).toContain('Property "x" does not exist');
    expect(error.retryable).toBe(false);
    expect(requests).toHaveLength(1);
  });

  it('returns answers the caller tolerates instead of throwing', async () => {
    const { fetch } = scriptedFetch([{ status: 404, body: { message: 'resource not found' } }]);
    const response = await client(fetch).send({ method: 'GET', path: '/x', tolerate: (s) => s === 404 });
    expect(response.status).toBe(404);
  });

  it('forks a client with the same settings and its own call counter', async () => {
    const { fetch } = scriptedFetch([{ status: 200 }, { status: 200 }]);
    const http = client(fetch);
    const fork = http.fork();
    await fork.send({ method: 'GET', path: '/x' });
    expect(fork.calls).toBe(1);
    expect(http.calls).toBe(0);
  });
});

describe('Retry-After parsing', () => {
  it('reads delta-seconds and HTTP dates', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter(null)).toBeUndefined();
    const now = Date.parse('2026-09-10T10:00:00Z');
    expect(parseRetryAfter('Thu, 10 Sep 2026 10:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe('unique-value conflicts', () => {
  it('recognises 409 and the 400 "already has that value" form, and extracts the existing id', () => {
    const conflict = { status: 'error', message: 'Contact already exists. Existing ID: 2926551', category: 'CONFLICT' };
    expect(isUniqueValueConflict(409, conflict)).toBe(true);
    expect(existingIdFromConflict(conflict)).toBe('2926551');
    expect(isUniqueValueConflict(400, { message: 'propertyValue: already has that value whatsapp_user_id' })).toBe(true);
    expect(isUniqueValueConflict(400, { message: 'Property "x" does not exist' })).toBe(false);
    expect(existingIdFromConflict({ message: 'no id here' })).toBeUndefined();
  });
});
