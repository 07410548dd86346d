/**
 * The local Zoho CRM on its own (raw HTTP, no adapter): Zoho's answer shapes for tokens, writes,
 * upserts and reads, the rules it enforces, faults, persistence and the home page.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_ZOHO_CREDENTIALS, startZohoStandIn, type ZohoStandIn } from '#local/zoho/server';

let crm: ZohoStandIn;
let token: string;

async function grant(on: ZohoStandIn, overrides: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const form = new URLSearchParams({ grant_type: 'refresh_token', client_id: LOCAL_ZOHO_CREDENTIALS.clientId, client_secret: LOCAL_ZOHO_CREDENTIALS.clientSecret, refresh_token: LOCAL_ZOHO_CREDENTIALS.refreshToken, ...overrides });
  const response = await fetch(`${on.url}/oauth/v2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Zoho's JSON answers as these tests read them. */
interface RecordAnswer {
  readonly code: string;
  readonly details: { readonly id: string } & Record<string, unknown>;
  readonly [key: string]: unknown;
}
interface Answer {
  readonly data: RecordAnswer[];
  readonly [key: string]: unknown;
}

async function call(method: string, path: string, body?: unknown, on: ZohoStandIn = crm, bearer = token): Promise<{ status: number; body: Answer; headers: Headers }> {
  const response = await fetch(`${on.url}/crm/v8${path}`, { method, headers: { authorization: `Zoho-oauthtoken ${bearer}`, 'content-type': 'application/json' }, ...(body !== undefined && { body: JSON.stringify(body) }) });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as Answer, headers: response.headers };
}

beforeAll(async () => {
  crm = await startZohoStandIn({ searchLagMs: 400, maxRefreshesPerWindow: 30 });
  token = String((await grant(crm)).body['access_token']);
});
afterAll(() => crm.stop());

describe('local Zoho accounts server', () => {
  it('grants a token naming itself as api_domain, and refuses as Zoho does', async () => {
    const granted = await grant(crm);
    expect(granted).toMatchObject({ status: 200, body: { api_domain: crm.url, token_type: 'Bearer', expires_in: 3600 } });
    expect(await grant(crm, { client_secret: 'wrong' })).toEqual({ status: 200, body: { error: 'invalid_client' } });
    expect(await grant(crm, { refresh_token: 'revoked' })).toEqual({ status: 200, body: { error: 'invalid_code' } });
    expect(crm.env).toEqual({ ZOHO_ACCOUNTS_URL: crm.url, ZOHO_CLIENT_ID: LOCAL_ZOHO_CREDENTIALS.clientId, ZOHO_CLIENT_SECRET: LOCAL_ZOHO_CREDENTIALS.clientSecret, ZOHO_REFRESH_TOKEN: LOCAL_ZOHO_CREDENTIALS.refreshToken });
  });

  it('throttles past the refreshes allowed per window and keeps 15 live tokens per refresh token', async () => {
    const strict = await startZohoStandIn({ maxRefreshesPerWindow: 16 });
    try {
      const tokens: string[] = [];
      for (let i = 0; i < 16; i++) tokens.push(String((await grant(strict)).body['access_token']));
      expect(await grant(strict)).toMatchObject({ status: 400, body: { error: 'Access Denied', status: 'failure' } });
      expect((await call('GET', '/Contacts/1?fields=Last_Name', undefined, strict, tokens[0])).body).toMatchObject({ code: 'INVALID_TOKEN' });
      expect((await call('GET', '/Contacts/1?fields=Last_Name', undefined, strict, tokens[15])).status).toBe(204);
      expect((await call('GET', '/Contacts/1?fields=Last_Name', undefined, strict, '')).body).toMatchObject({ code: 'AUTHENTICATION_FAILURE' });
    } finally {
      await strict.stop();
    }
  });
});

describe('local Zoho records', () => {
  it('answers writes per record: SUCCESS with the id, the field an error names, 207 when mixed', async () => {
    const inserted = await call('POST', '/Contacts', { data: [{ Last_Name: 'One', WhatsApp_User_ID: 'HK.st1' }, { First_Name: 'No last name' }, { Last_Name: 'Bad', Phone: 'call me' }, { Last_Name: 'X', Favourite_Colour: 'blue' }] });
    expect(inserted.status).toBe(207);
    const [ok, mandatory, invalid, unknown] = inserted.body.data;
    expect(ok).toMatchObject({ code: 'SUCCESS', status: 'success', message: 'record added', details: { id: expect.stringMatching(/^\d{19}$/) } });
    expect(mandatory).toMatchObject({ code: 'MANDATORY_NOT_FOUND', details: { api_name: 'Last_Name', json_path: '$.data[1].Last_Name' }, status: 'error' });
    expect(invalid).toMatchObject({ code: 'INVALID_DATA', details: { api_name: 'Phone', expected_data_type: 'phone' } });
    expect(unknown).toMatchObject({ code: 'INVALID_DATA', details: { api_name: 'Favourite_Colour' } });
    expect(inserted.headers.get('x-ratelimit-day-limit')).toBe('50000');

    const duplicate = await call('POST', '/Contacts', { data: [{ Last_Name: 'Two', WhatsApp_User_ID: 'HK.st1' }] });
    expect(duplicate.status).toBe(400);
    expect(duplicate.body.data[0]).toMatchObject({ code: 'DUPLICATE_DATA', details: { api_name: 'WhatsApp_User_ID', duplicate_record: { id: ok!.details.id, module: { api_name: 'Contacts' } } } });

    const gone = await call('PUT', '/Contacts', { data: [{ id: '5725767999999999999', Last_Name: 'Gone' }] });
    expect(gone.body.data[0]).toMatchObject({ code: 'INVALID_DATA', details: { api_name: 'id' } });
    const lookup = await call('POST', '/WhatsApp_Messages', { data: [{ Name: 'm', WhatsApp_Message_ID: 'w1', Contact: { id: '5725767999999999999' } }] });
    expect(lookup.body.data[0]).toMatchObject({ code: 'INVALID_DATA', details: { api_name: 'Contact', expected_data_type: 'lookup' } });
  });

  it('upserts by the given duplicate-check fields in order, then the other unique fields', async () => {
    const first = await call('POST', '/Contacts/upsert', { data: [{ Last_Name: 'Up', WhatsApp_Phone: '+85260000001' }], duplicate_check_fields: ['WhatsApp_User_ID'] });
    expect(first.body.data[0]).toMatchObject({ action: 'insert', duplicate_field: null, code: 'SUCCESS' });
    // Found by the phone (checked after the BSUID, which matches nothing); the BSUID is added.
    const second = await call('POST', '/Contacts/upsert', { data: [{ Last_Name: 'Up', WhatsApp_User_ID: 'HK.st2', WhatsApp_Phone: '+85260000001' }], duplicate_check_fields: ['WhatsApp_User_ID'] });
    expect(second.body.data[0]).toMatchObject({ action: 'update', duplicate_field: 'WhatsApp_Phone', details: { id: first.body.data[0]!.details.id } });
    expect((await call('POST', '/Contacts/upsert', { data: [{ Last_Name: 'x' }], duplicate_check_fields: ['Last_Name'] })).body).toMatchObject({ code: 'INVALID_DATA', details: { api_name: 'duplicate_check_fields' } });
    expect((await call('POST', '/Tasks/upsert', { data: [{ Subject: 'x' }] })).body).toMatchObject({ code: 'INVALID_MODULE' });
    expect((await call('POST', '/Contacts', { data: Array.from({ length: 101 }, () => ({ Last_Name: 'x' })) })).body).toMatchObject({ code: 'LIMIT_EXCEEDED' });
  });

  it('reads by id and ids with the fields asked for, searches with a lag, and answers 204 for nothing', async () => {
    const id = (await call('POST', '/Contacts', { data: [{ Last_Name: 'Lagging', Mobile: '+85260000002' }] })).body.data[0]!.details.id;
    expect((await call('GET', `/Contacts/${id}?fields=Last_Name,Mobile`)).body).toEqual({ data: [{ id, Last_Name: 'Lagging', Mobile: '+85260000002' }] });
    expect((await call('GET', `/Contacts?ids=${id},5725767999999999999&fields=Last_Name`)).body.data).toEqual([{ id, Last_Name: 'Lagging' }]);
    expect((await call('GET', `/Contacts/${id}`)).body).toMatchObject({ code: 'REQUIRED_PARAM_MISSING', details: { param_name: 'fields' } });
    const search = () => call('GET', `/Contacts/search?criteria=${encodeURIComponent('(Mobile:equals:+85260000002)')}&fields=Last_Name`);
    expect((await search()).status).toBe(204);
    await new Promise((resolve) => setTimeout(resolve, 450));
    expect((await search()).body.data).toEqual([{ id, Last_Name: 'Lagging' }]);
    expect((await call('GET', `/Contacts/search?criteria=${encodeURIComponent('(Mobile:between:1)')}&fields=Last_Name`)).body).toMatchObject({ code: 'INVALID_QUERY' });
    expect((await call('GET', `/Contacts/${id}/SalesOrders?fields=Subject`)).status).toBe(204);
  });

  it('answers faults by operation: a dropped connection, a 503 with Zoho’s body, and leaves other operations alone', async () => {
    crm.resetRequests();
    crm.setFaults([{ operation: 'task-write', dropConnection: true }, { operation: 'contact-read', status: 503 }]);
    await expect(call('POST', '/Tasks', { data: [{ Subject: 'x' }] })).rejects.toThrow();
    expect((await call('POST', '/Contacts', { data: [{ Last_Name: 'Fine' }] })).status).toBe(201);
    expect(await call('GET', '/Contacts/1?fields=Last_Name')).toMatchObject({ status: 503, body: { code: 'INTERNAL_ERROR' } });
    expect(crm.requests()).toEqual({ 'task-write': 1, 'contact-write': 1, 'contact-read': 1, total: 3 });
  });
});

describe('local Zoho persistence and page', () => {
  it('keeps its records in the data file across restarts and lists them on its home page', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'zoho-stand-in-'));
    try {
      const dataFile = join(dir, 'zoho.json');
      const first = await startZohoStandIn({ dataFile });
      const bearer = String((await grant(first)).body['access_token']);
      const contact = (await call('POST', '/Contacts', { data: [{ First_Name: 'Persisted', Last_Name: 'Person', WhatsApp_User_ID: 'HK.persist' }] }, first, bearer)).body.data[0]!.details.id;
      await call('POST', '/WhatsApp_Messages', { data: [{ Name: 'm', WhatsApp_Message_ID: 'wamid.persist', Contact: { id: contact }, Message_Body: 'Kept <b>safe</b>' }] }, first, bearer);
      first.addOrder({ contactCrmId: contact, name: 'Order 7', trackingNumber: 'TN7' });
      await first.stop();

      const second = await startZohoStandIn({ dataFile });
      try {
        expect(second.contacts()).toEqual([expect.objectContaining({ id: contact, bsuid: 'HK.persist', firstName: 'Persisted' })]);
        expect(second.messages()).toEqual([{ id: expect.any(String), wamid: 'wamid.persist', contactId: contact, body: 'Kept <b>safe</b>' }]);
        const next = second.store.add('Contacts', { Last_Name: 'After restart' });
        expect(next.id > contact).toBe(true);
        const html = await (await fetch(second.url)).text();
        expect(html).toContain('Persisted Person');
        expect(html).toContain('Kept &#60;b&#62;safe&#60;/b&#62;');
        expect(html).toContain('Order 7');
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
