/**
 * The Salesforce adapter's HTTP layer against a scripted fetch: the client credentials token
 * request and where API calls go (instance_url), token caching and renewal, Salesforce's limits
 * and errors mapped onto CrmError kinds, retries and their bounds, and error messages that keep
 * codes and field names but never the answer's text.
 */
import { describe, expect, it } from 'vitest';
import type { CrmError } from '#shared/crm/port';
import { MemoryTokenCache } from '#shared/crm/token-cache';
import { SalesforceAdapter, type FetchLike } from '#shared/crm/salesforce/adapter';
import { errorItems, isMissingRecord } from '#shared/crm/salesforce/errors';
import { parseLimitInfo } from '#shared/crm/salesforce/http';

interface Canned {
  readonly status?: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  readonly fail?: 'network' | 'hang';
}

const TOKEN_ANSWER: Canned = { status: 200, body: { access_token: '00Dtoken-1', instance_url: 'https://acme-instance.test', token_type: 'Bearer', issued_at: '1' } };

function scriptedFetch(script: Canned[]) {
  const requests: { url: string; init: RequestInit }[] = [];
  const fetch: FetchLike = async (url, init) => {
    requests.push({ url, init });
    const next = script.shift() ?? { status: 200, body: {} };
    if (next.fail === 'network') throw new TypeError('fetch failed');
    if (next.fail === 'hang') {
      return new Promise<Response>((_, reject) => init.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
    }
    return new Response(next.body === undefined ? null : JSON.stringify(next.body), { status: next.status ?? 200, headers: next.headers });
  };
  return { fetch, requests };
}

function adapterWith(fetch: FetchLike, overrides: Partial<ConstructorParameters<typeof SalesforceAdapter>[0]> = {}) {
  return new SalesforceAdapter({
    loginUrl: 'https://acme.my.salesforce.com/',
    credentials: async () => ({ clientId: 'id-1', clientSecret: 'secret-1' }),
    tokenCache: new MemoryTokenCache(),
    backoffBaseMs: 1,
    timeoutMs: 200,
    maxInAttemptWaitMs: 100,
    fetch,
    ...overrides,
  });
}

const PROFILE = { status: 200, body: { attributes: { type: 'Contact', url: '/services/data/v68.0/sobjects/Contact/003000000000001AAA' }, Id: '003000000000001AAA', FirstName: 'Ann', LastName: 'Lee' } };
const ID = '003000000000001AAA';

describe('Salesforce client credentials', () => {
  it('asks the My Domain host for a token with the client credentials, then calls instance_url', async () => {
    const { fetch, requests } = scriptedFetch([TOKEN_ANSWER, PROFILE]);
    const result = await adapterWith(fetch).readProfile(ID);
    expect(result).toEqual({ firstName: 'Ann', lastName: 'Lee', calls: 1 });
    expect(requests[0]!.url).toBe('https://acme.my.salesforce.com/services/oauth2/token');
    expect(requests[0]!.init.method).toBe('POST');
    expect(Object.fromEntries(new URLSearchParams(String(requests[0]!.init.body)))).toEqual({ grant_type: 'client_credentials', client_id: 'id-1', client_secret: 'secret-1' });
    expect(requests[1]!.url).toBe(`https://acme-instance.test/services/data/v68.0/sobjects/Contact/${ID}?fields=FirstName%2CLastName`);
    expect((requests[1]!.init.headers as Record<string, string>).authorization).toBe('Bearer 00Dtoken-1');
  });

  it('reuses a cached token (another invocation got it) and asks for none', async () => {
    const cache = new MemoryTokenCache();
    await cache.put({ accessToken: 'cached', apiBase: 'https://cached-instance.test', obtainedAt: Date.now() });
    const { fetch, requests } = scriptedFetch([PROFILE]);
    await adapterWith(fetch, { tokenCache: cache }).readProfile(ID);
    expect(requests.map((r) => r.url)).toEqual([`https://cached-instance.test/services/data/v68.0/sobjects/Contact/${ID}?fields=FirstName%2CLastName`]);
  });

  it('renews the session once on 401 INVALID_SESSION_ID, then says auth', async () => {
    const expired = { status: 401, body: [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }] };
    const renewed = { status: 200, body: { access_token: '00Dtoken-2', instance_url: 'https://acme-instance.test' } };
    const ok = scriptedFetch([TOKEN_ANSWER, expired, renewed, PROFILE]);
    expect(await adapterWith(ok.fetch).readProfile(ID)).toMatchObject({ firstName: 'Ann', calls: 2 });
    expect((ok.requests[3]!.init.headers as Record<string, string>).authorization).toBe('Bearer 00Dtoken-2');

    const bad = scriptedFetch([TOKEN_ANSWER, expired, renewed, expired]);
    const error = await adapterWith(bad.fetch).readProfile(ID).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'auth', details: { status: 401, category: 'INVALID_SESSION_ID' } });
    expect(bad.requests).toHaveLength(4);
  });

  it('shares one token request between concurrent calls', async () => {
    const { fetch, requests } = scriptedFetch([TOKEN_ANSWER, PROFILE, PROFILE, PROFILE]);
    const sfa = adapterWith(fetch);
    await Promise.all([sfa.readProfile(ID), sfa.readProfile(ID), sfa.readProfile(ID)]);
    expect(requests.filter((r) => r.url.endsWith('/oauth2/token'))).toHaveLength(1);
  });

  it('reads a rotated secret again after Salesforce refuses the credentials', async () => {
    let secret = 'old-secret';
    const refused = { status: 400, body: { error: 'invalid_client', error_description: 'invalid client credentials' } };
    const { fetch, requests } = scriptedFetch([refused, TOKEN_ANSWER, PROFILE]);
    const sfa = adapterWith(fetch, {
      credentials: async (refresh) => {
        if (refresh) secret = 'new-secret';
        return { clientId: 'id-1', clientSecret: secret };
      },
    });
    await sfa.readProfile(ID);
    expect(new URLSearchParams(String(requests[1]!.init.body)).get('client_secret')).toBe('new-secret');
  });

  it('says auth for refused credentials, with the OAuth error code only', async () => {
    const { fetch } = scriptedFetch([{ status: 400, body: { error: 'invalid_grant', error_description: 'no client credentials user enabled for jane@acme.test' } }]);
    const error = (await adapterWith(fetch).readProfile(ID).catch((e: unknown) => e)) as CrmError;
    expect(error).toMatchObject({ kind: 'auth', details: { status: 400, category: 'invalid_grant' } });
    expect(error.message).not.toContain('jane');
  });
});

describe('Salesforce limits and errors', () => {
  it('keeps the daily usage from Sforce-Limit-Info', async () => {
    const { fetch } = scriptedFetch([TOKEN_ANSWER, { ...PROFILE, headers: { 'Sforce-Limit-Info': 'api-usage=10018/100000; api-bursts=1/750' } }]);
    const sfa = adapterWith(fetch);
    expect(sfa.usage()).toBeUndefined();
    await sfa.readProfile(ID);
    expect(sfa.usage()).toEqual({ used: 10018, max: 100000 });
    expect(parseLimitInfo('api-usage=25/5000')).toEqual({ used: 25, max: 5000 });
    expect(parseLimitInfo(null)).toBeUndefined();
  });

  it('makes REQUEST_LIMIT_EXCEEDED rate_limited: 60 s, or 15 min once the daily allocation is used up', async () => {
    const limited = { status: 403, body: [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }] };
    const first = scriptedFetch([TOKEN_ANSWER, limited]);
    await expect(adapterWith(first.fetch).readProfile(ID)).rejects.toMatchObject({ kind: 'rate_limited', details: { status: 403, retryAfterMs: 60_000, category: 'REQUEST_LIMIT_EXCEEDED' } });
    const exhausted = scriptedFetch([TOKEN_ANSWER, { ...limited, headers: { 'Sforce-Limit-Info': 'api-usage=100001/100000' } }]);
    await expect(adapterWith(exhausted.fetch).readProfile(ID)).rejects.toMatchObject({ kind: 'rate_limited', details: { retryAfterMs: 15 * 60_000 } });
  });

  it('waits out a 429 with a short Retry-After, and gives a long one back as rate_limited', async () => {
    const short = scriptedFetch([TOKEN_ANSWER, { status: 429, headers: { 'retry-after': '0' }, body: [] }, PROFILE]);
    expect(await adapterWith(short.fetch).readProfile(ID)).toMatchObject({ calls: 2 });
    const long = scriptedFetch([TOKEN_ANSWER, { status: 429, headers: { 'retry-after': '30' }, body: [] }]);
    await expect(adapterWith(long.fetch).readProfile(ID)).rejects.toMatchObject({ kind: 'rate_limited', details: { retryAfterMs: 30_000 } });
  });

  it('retries 5xx and network errors a bounded number of times, then says transient', async () => {
    const recovers = scriptedFetch([TOKEN_ANSWER, { status: 503, body: [{ errorCode: 'SERVER_UNAVAILABLE', message: 'x' }] }, { fail: 'network' }, PROFILE]);
    expect(await adapterWith(recovers.fetch).readProfile(ID)).toMatchObject({ calls: 3 });
    const down = scriptedFetch([TOKEN_ANSWER, { status: 500, body: [] }, { status: 500, body: [] }, { status: 500, body: [] }, PROFILE]);
    await expect(adapterWith(down.fetch).readProfile(ID)).rejects.toMatchObject({ kind: 'transient', details: { status: 500 } });
    expect(down.requests).toHaveLength(4);
  });

  it('retries a record lock (UNABLE_TO_LOCK_ROW) as transient', async () => {
    const locked = { status: 400, body: [{ errorCode: 'UNABLE_TO_LOCK_ROW', message: 'unable to obtain exclusive access to this record', fields: [] }] };
    const { fetch } = scriptedFetch([TOKEN_ANSWER, locked, { status: 204 }]);
    const result = await adapterWith(fetch).upsertContact({ contactId: 'c1', bsuid: 'US.1', knownCrmId: ID });
    expect(result).toMatchObject({ crmId: ID, calls: 2 });
  });

  it('does not repeat a create whose answer was lost: it looks for the record first', async () => {
    const { fetch, requests } = scriptedFetch([
      TOKEN_ANSWER,
      { fail: 'hang' },
      { status: 200, body: { totalSize: 1, done: true, records: [{ Id: '006000000000001AAA' }] } },
    ]);
    const result = await adapterWith(fetch).createOpportunity({ opportunityId: 'wamid.1', contactCrmId: ID, sku: 'S', createdAt: 0 });
    expect(result).toEqual({ crmId: '006000000000001AAA', created: false, calls: 2 });
    expect(requests[1]!.init.method).toBe('POST');
    expect(new URL(requests[2]!.url).searchParams.get('q')).toContain("WHERE WhatsApp_Opportunity_Id__c = 'wamid.1'");
  });

  it('stops at the deadline instead of starting another request', async () => {
    const { fetch } = scriptedFetch([TOKEN_ANSWER, { status: 500, body: [] }, PROFILE]);
    const error = await adapterWith(fetch, { backoffBaseMs: 1_000 }).readProfile(ID, { deadline: Date.now() + 400 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'transient' });
  });

  it('keeps codes and field names of an error, never the message Salesforce wrote', async () => {
    const body = [{ message: 'Email: invalid email address: jane.doe@example.com', errorCode: 'INVALID_EMAIL_ADDRESS', fields: ['Email'] }];
    const { fetch } = scriptedFetch([TOKEN_ANSWER, { status: 400, body }]);
    const error = (await adapterWith(fetch).readProfile(ID).catch((e: unknown) => e)) as CrmError;
    expect(error).toMatchObject({ kind: 'permanent', details: { status: 400, category: 'INVALID_EMAIL_ADDRESS' } });
    expect(error.message).toBe('Salesforce 400 on profile read INVALID_EMAIL_ADDRESS (Email)');
  });

  it('tells a missing record from a bad lookup, and finds the cause among rolled-back records', () => {
    expect(isMissingRecord([{ errorCode: 'ENTITY_IS_DELETED', message: 'entity is deleted', fields: [] }])).toBe(true);
    expect(isMissingRecord({ errors: [{ statusCode: 'INVALID_CROSS_REFERENCE_KEY', message: 'x', fields: [] }] })).toBe(true);
    expect(isMissingRecord([{ errorCode: 'INVALID_CROSS_REFERENCE_KEY', message: 'x', fields: ['Contact__c'] }])).toBe(false);
    const rolledBack = [
      { success: false, errors: [{ statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK', message: 'x', fields: [] }] },
      { success: false, errors: [{ statusCode: 'DUPLICATE_VALUE', message: 'duplicate value found: Wamid__c duplicates value on record with id: a01', fields: [] }] },
    ];
    expect(errorItems(rolledBack)).toEqual([{ code: 'DUPLICATE_VALUE', fields: [] }]);
  });
});

describe('Salesforce contact upsert answers', () => {
  const EMPTY = { status: 200, body: { totalSize: 0, done: true, records: [] } };

  it('creates a new customer by an upsert on the BSUID in the URL, never with the BSUID in the body', async () => {
    const { fetch, requests } = scriptedFetch([TOKEN_ANSWER, EMPTY, { status: 201, body: { id: ID, success: true, errors: [], created: true } }]);
    const result = await adapterWith(fetch).upsertContact({ contactId: 'c1', bsuid: 'US.77', phone: '+85291234567', profileName: 'Ann Lee' });
    expect(result).toEqual({ crmId: ID, created: true, matchedExisting: false, calls: 2 });
    expect(requests[2]!.url).toBe('https://acme-instance.test/services/data/v68.0/sobjects/Contact/WhatsApp_User_Id__c/US.77');
    expect(requests[2]!.init.method).toBe('PATCH');
    const body = JSON.parse(String(requests[2]!.init.body)) as Record<string, unknown>;
    expect(body).not.toHaveProperty('WhatsApp_User_Id__c');
    expect(body).toMatchObject({ WhatsApp_Phone__c: '+85291234567', LeadSource: 'WhatsApp', FirstName: 'Ann', LastName: 'Lee', MobilePhone: '+85291234567' });
  });

  it('stays on the oldest record when the upsert answers 300 (an External ID without Unique)', async () => {
    const older = '003000000000001AAA';
    const { fetch, requests } = scriptedFetch([
      TOKEN_ANSWER,
      EMPTY,
      { status: 300, body: ['/services/data/v68.0/sobjects/Contact/003000000000009AAA', `/services/data/v68.0/sobjects/Contact/${older}`] },
      { status: 204 },
    ]);
    const result = await adapterWith(fetch).upsertContact({ contactId: 'c1', bsuid: 'US.78' });
    expect(result).toMatchObject({ crmId: older, created: false });
    expect(requests[3]!.url).toBe(`https://acme-instance.test/services/data/v68.0/sobjects/Contact/${older}`);
    expect(JSON.parse(String(requests[3]!.init.body))).not.toHaveProperty('LeadSource');
  });

  it('reads the id back when an update by External ID answers 204 without a body (API before 46.0)', async () => {
    const { fetch, requests } = scriptedFetch([TOKEN_ANSWER, EMPTY, { status: 204 }, { status: 200, body: { attributes: { type: 'Contact', url: `/services/data/v68.0/sobjects/Contact/${ID}` }, Id: ID } }]);
    expect(await adapterWith(fetch).upsertContact({ contactId: 'c1', phone: '+85291234567' })).toMatchObject({ crmId: ID, created: false, calls: 3 });
    expect(requests[3]!.url).toContain('/sobjects/Contact/WhatsApp_Phone__c/%2B85291234567?fields=Id');
  });
});
