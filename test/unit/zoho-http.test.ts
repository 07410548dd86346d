/**
 * The Zoho adapter's HTTP and OAuth layer against a scripted fetch: token caching and expiry,
 * renewal on INVALID_TOKEN, throttled refreshes, Zoho's 429 without Retry-After, retries of 5xx,
 * lost answers of creates, deadlines, and errors that never carry Zoho's answer text.
 */
import { describe, expect, it } from 'vitest';
import { CrmError } from '#shared/crm/port';
import { MemoryTokenCache } from '#shared/crm/token-cache';
import { ZohoAdapter, type ZohoAdapterOptions } from '#shared/crm/zoho/adapter';

const ACCOUNTS = 'https://accounts.zoho.test';
const API = 'https://www.zohoapis.test';
const CREDENTIALS = { clientId: 'cid', clientSecret: 'secret', refreshToken: 'rt' };

type Answer = { status: number; body?: unknown; headers?: Record<string, string> } | 'drop';
/** An answer, or what to do when the request arrives (e.g. another process refreshing meanwhile). */
type Reply = Answer | (() => Answer);

/** A fetch that answers token requests and API requests from two scripts, recording every request. */
function scripted(api: Reply[], tokens: Reply[] = [grant('tok-1')]) {
  const requests: { url: string; method: string; auth: string | null; body: string | undefined }[] = [];
  const fetch = async (url: string, init: RequestInit): Promise<Response> => {
    requests.push({ url, method: init.method ?? 'GET', auth: new Headers(init.headers).get('authorization'), body: init.body as string | undefined });
    const next = (url.startsWith(ACCOUNTS) ? tokens : api).shift();
    if (!next) throw new Error(`unscripted request ${url}`);
    const reply = typeof next === 'function' ? next() : next;
    if (reply === 'drop') throw new TypeError('fetch failed');
    const body = reply.body === undefined ? null : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    return new Response(reply.status === 204 ? null : body, { status: reply.status, headers: reply.headers });
  };
  return { fetch, requests, apiRequests: () => requests.filter((r) => r.url.startsWith(API)), tokenRequests: () => requests.filter((r) => r.url.startsWith(ACCOUNTS)) };
}

function grant(token: string, expiresIn = 3600): Reply {
  return { status: 200, body: { access_token: token, api_domain: API, token_type: 'Bearer', expires_in: expiresIn } };
}

const profile = (last = 'Lee'): Reply => ({ status: 200, body: { data: [{ id: '1', First_Name: 'Wing', Last_Name: last }] } });
const zohoError = (status: number, code: string, details: Record<string, unknown> = {}): Reply => ({ status, body: { code, details, message: 'Wing Lee +85291234567 is not allowed', status: 'error' } });

function make(fake: ReturnType<typeof scripted>, options: Partial<ZohoAdapterOptions> = {}) {
  return new ZohoAdapter({ accountsUrl: ACCOUNTS, credentials: async () => CREDENTIALS, tokenCache: new MemoryTokenCache(), fetch: fake.fetch, backoffBaseMs: 1, rateLimitWaitMs: 1, ...options });
}

describe('Zoho OAuth', () => {
  it('refreshes with a form body on the accounts server and calls the api_domain with Zoho-oauthtoken', async () => {
    const fake = scripted([profile()]);
    await make(fake).readProfile('1');
    const [token, call] = fake.requests;
    expect(token).toMatchObject({ url: `${ACCOUNTS}/oauth/v2/token`, method: 'POST' });
    expect(Object.fromEntries(new URLSearchParams(token!.body))).toEqual({ grant_type: 'refresh_token', client_id: 'cid', client_secret: 'secret', refresh_token: 'rt' });
    expect(call).toMatchObject({ url: `${API}/crm/v8/Contacts/1?fields=First_Name%2CLast_Name`, auth: 'Zoho-oauthtoken tok-1' });
  });

  it('reuses the cached token until shortly before it expires', async () => {
    let now = 1_000_000;
    const cache = new MemoryTokenCache();
    const fake = scripted([profile(), profile(), profile()], [grant('tok-1'), grant('tok-2')]);
    const adapter = make(fake, { tokenCache: cache, now: () => now });
    await adapter.readProfile('1');
    now += 3_500_000; // 58 min 20 s: still valid
    await make(fake, { tokenCache: cache, now: () => now }).readProfile('1');
    expect(fake.tokenRequests()).toHaveLength(1);
    now += 60_000; // inside the last minute of its hour
    await adapter.readProfile('1');
    expect(fake.tokenRequests()).toHaveLength(2);
    expect(fake.apiRequests().map((r) => r.auth)).toEqual(['Zoho-oauthtoken tok-1', 'Zoho-oauthtoken tok-1', 'Zoho-oauthtoken tok-2']);
    expect((await cache.get())?.expiresAt).toBe(now + 3_600_000);
  });

  it('renews once on 401 INVALID_TOKEN, then gives up as auth', async () => {
    const fake = scripted([zohoError(401, 'INVALID_TOKEN'), profile()], [grant('tok-1'), grant('tok-2')]);
    await expect(make(fake).readProfile('1')).resolves.toMatchObject({ lastName: 'Lee', calls: 2 });

    const refused = scripted([zohoError(401, 'INVALID_TOKEN'), zohoError(401, 'INVALID_TOKEN')], [grant('tok-1'), grant('tok-2')]);
    await expect(make(refused).readProfile('1')).rejects.toMatchObject({ kind: 'auth', details: { status: 401, category: 'INVALID_TOKEN' } });
    expect(refused.tokenRequests()).toHaveLength(2);
  });

  it('does not spend a refresh on OAUTH_SCOPE_MISMATCH (a new token cannot add a scope)', async () => {
    const fake = scripted([zohoError(401, 'OAUTH_SCOPE_MISMATCH')]);
    await expect(make(fake).readProfile('1')).rejects.toMatchObject({ kind: 'auth', details: { category: 'OAUTH_SCOPE_MISMATCH' } });
    expect(fake.tokenRequests()).toHaveLength(1);
  });

  it('maps the throttle answer to rate_limited and asks again only after the window', async () => {
    let now = 0;
    const throttle: Reply = { status: 400, body: { error_description: 'You have made too many requests continuously.', error: '拒绝访问', status: 'failure' } };
    const fake = scripted([profile()], [throttle, grant('tok-1')]);
    const adapter = make(fake, { now: () => now, refreshThrottleMs: 60_000 });
    await expect(adapter.readProfile('1')).rejects.toMatchObject({ kind: 'rate_limited', details: { retryAfterMs: 60_000, category: 'ACCESS_DENIED' } });
    now = 30_000;
    await expect(adapter.readProfile('1')).rejects.toMatchObject({ kind: 'rate_limited', details: { retryAfterMs: 30_000 } });
    expect(fake.tokenRequests()).toHaveLength(1);
    now = 60_001;
    await expect(adapter.readProfile('1')).resolves.toMatchObject({ lastName: 'Lee' });
  });

  it('takes the token another process refreshed meanwhile when Zoho throttles this refresh', async () => {
    const cache = new MemoryTokenCache();
    const throttled = () => {
      void cache.put({ accessToken: 'tok-other', apiBase: API, obtainedAt: 0, expiresAt: Date.now() + 3_600_000 });
      return { status: 400, body: { error: 'Access Denied', status: 'failure' } };
    };
    const fake = scripted([profile()], [throttled]);
    await expect(make(fake, { tokenCache: cache }).readProfile('1')).resolves.toMatchObject({ lastName: 'Lee' });
    expect(fake.apiRequests()[0]!.auth).toBe('Zoho-oauthtoken tok-other');
  });

  it('reads the credentials again when Zoho refuses the refresh token (HTTP 200 invalid_code)', async () => {
    const reads: boolean[] = [];
    const fake = scripted([profile()], [{ status: 200, body: { error: 'invalid_code' } }, grant('tok-1')]);
    const adapter = make(fake, {
      credentials: async (refresh = false) => {
        reads.push(refresh);
        return refresh ? { ...CREDENTIALS, refreshToken: 'rotated' } : CREDENTIALS;
      },
    });
    await expect(adapter.readProfile('1')).resolves.toMatchObject({ lastName: 'Lee' });
    expect(reads).toEqual([false, true]);
    expect(new URLSearchParams(fake.tokenRequests()[1]!.body).get('refresh_token')).toBe('rotated');
  });

  it('retries the accounts server on 5xx and network errors; refuses an answer without api_domain', async () => {
    const fake = scripted([profile()], [{ status: 503, body: 'down' }, 'drop', grant('tok-1')]);
    await expect(make(fake).readProfile('1')).resolves.toMatchObject({ lastName: 'Lee' });
    const noDomain = scripted([], [{ status: 200, body: { access_token: 'x', expires_in: 3600 } }]);
    await expect(make(noDomain).readProfile('1')).rejects.toMatchObject({ kind: 'auth', details: { category: 'NO_API_DOMAIN' } });
  });
});

describe('Zoho HTTP failures', () => {
  it('waits out a 429 without Retry-After with a doubling backoff, bounded by maxInAttemptWaitMs', async () => {
    const fake = scripted([zohoError(429, 'TOO_MANY_REQUESTS'), zohoError(429, 'TOO_MANY_REQUESTS'), profile()]);
    await expect(make(fake, { rateLimitWaitMs: 5 }).readProfile('1')).resolves.toMatchObject({ calls: 3 });

    const impatient = scripted([zohoError(429, 'TOO_MANY_REQUESTS')]);
    const error = await make(impatient, { rateLimitWaitMs: 5, maxInAttemptWaitMs: 1 }).readProfile('1').catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'rate_limited', details: { status: 429, retryAfterMs: 30_000 } });
    expect(impatient.apiRequests()).toHaveLength(1);
  });

  it('does not wait when the credit headers say the day’s credits are spent', async () => {
    const fake = scripted([{ status: 429, body: { code: 'TOO_MANY_REQUESTS', status: 'error' }, headers: { 'x-ratelimit-day-limit': '5000', 'x-ratelimit-day-remaining': '0' } }]);
    const adapter = make(fake);
    await expect(adapter.readProfile('1')).rejects.toMatchObject({ kind: 'rate_limited', details: { retryAfterMs: 15 * 60_000 } });
    expect(adapter.usage()).toEqual({ used: 5000, max: 5000 });
  });

  it('retries 5xx and dropped connections of reads, then reports transient', async () => {
    const fake = scripted([zohoError(500, 'INTERNAL_ERROR'), 'drop', profile()]);
    await expect(make(fake).readProfile('1')).resolves.toMatchObject({ calls: 3 });
    const down = scripted([zohoError(502, 'INTERNAL_ERROR'), zohoError(502, 'INTERNAL_ERROR')]);
    await expect(make(down, { maxTries: 2 }).readProfile('1')).rejects.toMatchObject({ kind: 'transient', details: { status: 502 } });
  });

  it('never retries a lost insert blindly: it sends it again and takes the record Zoho reports as the holder', async () => {
    const fake = scripted([
      'drop',
      { status: 400, body: { data: [{ code: 'DUPLICATE_DATA', details: { api_name: 'WhatsApp_Message_ID', json_path: '$.data[0].WhatsApp_Message_ID', duplicate_record: { id: '77', module: { api_name: 'WhatsApp_Messages', id: '9' } } }, message: 'duplicate data', status: 'error' }] } },
    ]);
    const result = await make(fake).logMessage({ wamid: 'wamid.1', contactCrmId: '1', direction: 'inbound', body: 'hi', timestamp: 0 });
    expect(result).toEqual({ crmId: '77', created: false, calls: 2 });
    expect(fake.apiRequests().map((r) => `${r.method} ${new URL(r.url).pathname}`)).toEqual(['POST /crm/v8/WhatsApp_Messages', 'POST /crm/v8/WhatsApp_Messages']);
  });

  it('reports a DUPLICATE_DATA without the holder by searching the key, and a 4xx as permanent without Zoho’s text', async () => {
    const fake = scripted([
      { status: 400, body: { data: [{ code: 'DUPLICATE_DATA', details: { api_name: 'WhatsApp_Task_ID' }, status: 'error' }] } },
      { status: 200, body: { data: [{ id: '55', WhatsApp_Task_ID: 'follow-up:1' }] } },
    ]);
    const task = { taskId: 'follow-up:1', contactCrmId: '1', subject: 'Call', dueAt: 0 };
    await expect(make(fake).createTask(task)).resolves.toEqual({ crmId: '55', created: false, calls: 2 });
    expect(new URL(fake.apiRequests()[1]!.url).searchParams.get('criteria')).toBe('(WhatsApp_Task_ID:equals:follow-up:1)');

    const refused = scripted([zohoError(400, 'INVALID_DATA', { api_name: 'Phone', expected_data_type: 'phone' })]);
    const error = (await make(refused).readContacts(['1']).catch((e: unknown) => e)) as CrmError;
    expect(error).toBeInstanceOf(CrmError);
    expect(error.kind).toBe('permanent');
    expect(error.message).toBe('Zoho 400: INVALID_DATA (Phone phone)');
  });

  it('treats a record that is not there (204, INVALID_DATA about the id) as absent, not an unknown field', async () => {
    const fake = scripted([{ status: 204 }, zohoError(400, 'INVALID_DATA', { api_name: 'id' }), zohoError(400, 'INVALID_DATA', { api_name: 'First_Name' })]);
    const adapter = make(fake);
    expect(await adapter.readProfile('1')).toEqual({ firstName: undefined, lastName: undefined, calls: 1 });
    expect(await adapter.readProfile('2')).toEqual({ firstName: undefined, lastName: undefined, calls: 1 });
    await expect(adapter.readProfile('3')).rejects.toMatchObject({ kind: 'permanent', details: { category: 'INVALID_DATA' } });
  });

  it('sends no request when the deadline leaves no time', async () => {
    const fake = scripted([profile()]);
    await expect(make(fake).readProfile('1', { deadline: Date.now() + 100 })).rejects.toMatchObject({ kind: 'transient' });
    expect(fake.apiRequests()).toHaveLength(0);
  });
});
