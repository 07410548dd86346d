import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FailureKind, SendRequest } from '#shared/whatsapp/outbound/channel';
import { CloudApiChannel, MetaApiError, type CloudApiOptions } from '#shared/whatsapp/outbound/cloud-api';

/** A local stand-in for graph.facebook.com: each test sets how it answers. */
interface Seen {
  readonly method: string;
  readonly url: URL;
  readonly authorization: string | undefined;
  readonly body: unknown;
}
type Handler = (req: IncomingMessage, res: ServerResponse, seen: Seen) => void;

let server: Server;
let base: string;
let handler: Handler;
let seen: Seen[];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const request: Seen = {
        method: req.method ?? '',
        url: new URL(req.url ?? '/', base),
        authorization: req.headers.authorization,
        body: text ? (JSON.parse(text) as unknown) : undefined,
      };
      seen.push(request);
      handler(req, res, request);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen = [];
  handler = (_req, res) => json(res, 200, SENT);
});

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

const SENT = {
  messaging_product: 'whatsapp',
  contacts: [{ input: '85291234567', wa_id: '85291234567' }],
  messages: [{ id: 'wamid.HBgLODUyOTEyMzQ1NjcVAgARGBI', message_status: 'accepted' }],
};

function metaError(code: number, message: string, details?: string) {
  return { error: { message, type: 'OAuthException', code, error_data: { messaging_product: 'whatsapp', details: details ?? message }, fbtrace_id: 'AbC123' } };
}

function channel(overrides: Partial<CloudApiOptions> = {}) {
  return new CloudApiChannel({ baseUrl: `${base}/`, version: 'v24.0', accessToken: () => 'token-1', timeoutMs: 2000, ...overrides });
}

const REQUEST: SendRequest = {
  phoneNumberId: '106540352242922',
  to: { phone: '+85291234567' },
  content: { type: 'text', text: 'Your order has shipped' },
  callbackData: 'out#01HZX',
};

describe('sending through the Cloud API', () => {
  it('posts Meta’s JSON to /{version}/{phone_number_id}/messages with the bearer token and reads the wamid', async () => {
    const result = await channel().send(REQUEST);
    expect(result).toEqual({ ok: true, wamid: 'wamid.HBgLODUyOTEyMzQ1NjcVAgARGBI', waId: '85291234567' });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.method).toBe('POST');
    expect(seen[0]!.url.pathname).toBe('/v24.0/106540352242922/messages');
    expect(seen[0]!.authorization).toBe('Bearer token-1');
    expect(seen[0]!.body).toMatchObject({ messaging_product: 'whatsapp', to: '85291234567', biz_opaque_callback_data: 'out#01HZX', text: { body: 'Your order has shipped' } });
  });

  it('sends to a BSUID by recipient; Meta’s answer then has no wa_id', async () => {
    handler = (_req, res) => json(res, 200, { messaging_product: 'whatsapp', contacts: [{ input: 'US.134912', user_id: 'US.134912' }], messages: [{ id: 'wamid.B' }] });
    const result = await channel().send({ ...REQUEST, to: { bsuid: 'US.134912' } });
    expect(result).toEqual({ ok: true, wamid: 'wamid.B', waId: undefined });
    expect(seen[0]!.body).toMatchObject({ recipient: 'US.134912', recipient_type: 'individual' });
    expect(seen[0]!.body).not.toHaveProperty('to');
  });

  it('refuses content Meta would refuse without calling Meta', async () => {
    const result = await channel().send({ ...REQUEST, content: { type: 'buttons', body: 'b', buttons: [{ id: 'a', title: 'a title far too long!!' }] } });
    expect(result).toEqual({ ok: false, failure: { kind: 'permanent', code: 0, title: expect.stringContaining('content.buttons.0.title') } });
    expect(seen).toHaveLength(0);
  });

  const CODES: readonly [number, FailureKind, number][] = [
    [131047, 'window_closed', 400],
    [131026, 'undeliverable', 400],
    [131049, 'marketing_cap', 400],
    [131050, 'opted_out', 400],
    [131048, 'spam_limit', 400],
    [130429, 'retry', 429],
    [131056, 'retry', 400],
    [4, 'retry', 400],
    [80007, 'retry', 400],
    [1, 'retry', 400],
    [2, 'retry', 503],
    [131000, 'retry', 500],
    [132000, 'template', 400],
    [132001, 'template', 404],
    [132005, 'template', 400],
    [132007, 'template', 400],
    [132012, 'template', 400],
    [132015, 'template', 400],
    [132016, 'template', 400],
    [190, 'auth', 401],
    [131042, 'account_blocked', 400],
    [368, 'account_blocked', 403],
    [131031, 'account_blocked', 400],
    [131062, 'bsuid_not_allowed', 400],
    [100, 'permanent', 400],
  ];

  it.each(CODES)('maps Meta’s error %i to %s (HTTP %i) without throwing', async (code, kind, status) => {
    handler = (_req, res) => json(res, status, metaError(code, `(#${code}) Some title`, 'Meta explains the problem here.'));
    const result = await channel().send(REQUEST);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.failure).toMatchObject({ kind, code, httpStatus: status });
    expect(result.failure.outcomeUnknown).toBeUndefined();
    expect(result.failure.title).toBe('Some title: Meta explains the problem here.');
  });

  it('keeps no phone number Meta echoes in its error text', async () => {
    handler = (_req, res) => json(res, 400, metaError(131030, '(#131030) Recipient phone number not in allowed list', 'Add +852 9123 4567 to the list'));
    const result = await channel().send(REQUEST);
    expect(result.ok === false && result.failure.title).not.toContain('9123');
  });

  it('retries a 429 and passes Retry-After on', async () => {
    handler = (_req, res) => {
      res.writeHead(429, { 'retry-after': '7' });
      res.end();
    };
    const result = await channel().send(REQUEST);
    expect(result).toEqual({ ok: false, failure: expect.objectContaining({ kind: 'retry', code: 0, httpStatus: 429, retryAfterMs: 7000 }) });
    expect(result.ok === false && result.failure.outcomeUnknown).toBeFalsy();
  });

  it('treats a 5xx that is not Meta’s error body as possibly sent', async () => {
    handler = (_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html>Bad gateway</html>');
    };
    expect(await channel().send(REQUEST)).toEqual({ ok: false, failure: expect.objectContaining({ kind: 'retry', httpStatus: 502, outcomeUnknown: true }) });
  });

  it('reports a slow answer as a timeout whose outcome is unknown', async () => {
    handler = () => undefined; // never answers
    const started = Date.now();
    const result = await channel({ timeoutMs: 150 }).send(REQUEST);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(result).toEqual({ ok: false, failure: { kind: 'retry', code: 0, title: 'no answer from Meta within 150 ms', outcomeUnknown: true } });
  });

  it('reports a connection dropped after the request left as outcome unknown', async () => {
    handler = (req) => req.socket.destroy();
    expect(await channel().send(REQUEST)).toEqual({ ok: false, failure: expect.objectContaining({ kind: 'retry', outcomeUnknown: true }) });
  });

  it('retries a refused connection: nothing was sent', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await new CloudApiChannel({ baseUrl: `http://127.0.0.1:${port}`, version: 'v24.0', accessToken: () => 't' }).send(REQUEST);
    expect(result).toEqual({ ok: false, failure: { kind: 'retry', code: 0, title: 'could not connect to Meta: ECONNREFUSED' } });
  });

  it('reports a caller’s abort while waiting as outcome unknown, and an abort before sending as not sent', async () => {
    handler = () => undefined;
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    expect(await channel().send(REQUEST, controller.signal)).toEqual({ ok: false, failure: expect.objectContaining({ kind: 'retry', outcomeUnknown: true }) });

    const before = seen.length;
    const result = await channel().send(REQUEST, AbortSignal.abort());
    expect(result).toEqual({ ok: false, failure: { kind: 'retry', code: 0, title: 'aborted before the request was sent' } });
    expect(seen.length).toBe(before);
  });

  it('treats a 200 without a message id as possibly sent', async () => {
    handler = (_req, res) => json(res, 200, { messaging_product: 'whatsapp', contacts: [] });
    expect(await channel().send(REQUEST)).toEqual({ ok: false, failure: expect.objectContaining({ kind: 'retry', httpStatus: 200, outcomeUnknown: true }) });
  });

  it('reads the token again after Meta refuses it and sends once more', async () => {
    let token = 'old';
    handler = (_req, res, request) =>
      request.authorization === 'Bearer old' ? json(res, 401, metaError(190, '(#190) Error validating access token', 'Session has expired')) : json(res, 200, SENT);
    const result = await channel({ accessToken: () => token, onAuthFailure: async () => ((token = 'new'), true) }).send(REQUEST);
    expect(result.ok).toBe(true);
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer old', 'Bearer new']);
  });

  it('gives up with auth when no new token can be read', async () => {
    handler = (_req, res) => json(res, 401, metaError(190, '(#190) Error validating access token'));
    const result = await channel({ onAuthFailure: async () => false }).send(REQUEST);
    expect(result).toEqual({ ok: false, failure: expect.objectContaining({ kind: 'auth', code: 190 }) });
    expect(seen).toHaveLength(1);
  });

  it('does not send when the token cannot be read', async () => {
    const result = await channel({ accessToken: () => Promise.reject(new Error('secret unavailable')) }).send(REQUEST);
    expect(result).toEqual({ ok: false, failure: { kind: 'retry', code: 0, title: 'the access token could not be read: secret unavailable' } });
    expect(seen).toHaveLength(0);
  });
});

const PAGE_1 = [
  {
    name: 'order_delivery_update',
    language: 'en_US',
    status: 'APPROVED',
    category: 'UTILITY',
    id: '1667192013751005',
    parameter_format: 'POSITIONAL',
    components: [
      { type: 'HEADER', format: 'LOCATION' },
      { type: 'BODY', text: 'Good news {{1}}! Your order #{{2}} is on its way. Thanks, {{1}}.', example: { body_text: [['Mark', '566701']] } },
      { type: 'FOOTER', text: 'To stop receiving delivery updates, tap the button below.' },
      { type: 'BUTTONS', buttons: [{ type: 'QUICK_REPLY', text: 'Stop Delivery Updates' }, { type: 'URL', text: 'Track', url: 'https://x.example/{{1}}' }] },
    ],
  },
];
const PAGE_2 = [
  {
    name: 'booking_confirmation',
    language: 'es',
    status: 'PAUSED',
    category: 'MARKETING',
    id: '1625063511800527',
    parameter_format: 'NAMED',
    components: [
      { type: 'BODY', text: 'Gracias {{first_name}}! Tu reserva {{booking_ref}} está confirmada.' },
      { type: 'BUTTONS', buttons: [{ type: 'QUICK_REPLY', text: 'Ver' }, { type: 'QUICK_REPLY', text: 'No quiero mensajes' }] },
    ],
  },
];

describe('listing templates', () => {
  it('asks for the fields it maps and follows the cursor until Meta gives no next page', async () => {
    handler = (_req, res, request) => {
      const after = request.url.searchParams.get('after');
      if (after === null) json(res, 200, { data: PAGE_1, paging: { cursors: { before: 'B0', after: 'A1' }, next: `${base}/v24.0/waba-1/message_templates?after=A1` } });
      else json(res, 200, { data: PAGE_2, paging: { cursors: { before: 'B1', after: 'A2' } } });
    };
    const templates = await channel().listTemplates('waba-1');
    expect(seen).toHaveLength(2);
    expect(seen[0]!.url.pathname).toBe('/v24.0/waba-1/message_templates');
    expect(seen[0]!.url.searchParams.get('fields')).toBe('name,language,status,category,components,parameter_format');
    expect(seen[0]!.url.searchParams.get('limit')).toBe('100');
    expect(seen[1]!.url.searchParams.get('after')).toBe('A1');
    expect(seen[1]!.url.searchParams.get('fields')).toBe('name,language,status,category,components,parameter_format');
    expect(templates).toEqual([
      {
        name: 'order_delivery_update',
        language: 'en_US',
        status: 'APPROVED',
        category: 'UTILITY',
        parameterFormat: 'positional',
        bodyParameters: ['1', '2'],
        quickReplies: ['Stop Delivery Updates'],
        id: '1667192013751005',
      },
      {
        name: 'booking_confirmation',
        language: 'es',
        status: 'PAUSED',
        category: 'MARKETING',
        parameterFormat: 'named',
        bodyParameters: ['first_name', 'booking_ref'],
        quickReplies: ['Ver', 'No quiero mensajes'],
        id: '1625063511800527',
      },
    ]);
  });

  it('follows a `next` link on the same host when there is no cursor', async () => {
    handler = (_req, res, request) =>
      request.url.searchParams.get('page') === '2' ? json(res, 200, { data: PAGE_2 }) : json(res, 200, { data: PAGE_1, paging: { next: `${base}/v24.0/waba-1/message_templates?page=2` } });
    expect((await channel().listTemplates('waba-1')).map((t) => t.name)).toEqual(['order_delivery_update', 'booking_confirmation']);
  });

  it('never sends the token to another host named by `next`', async () => {
    handler = (_req, res) => json(res, 200, { data: PAGE_1, paging: { next: 'https://elsewhere.example/page2' } });
    await expect(channel().listTemplates('waba-1')).rejects.toThrow('another host');
    expect(seen).toHaveLength(1);
  });

  it('stops a paging loop', async () => {
    handler = (_req, res) => json(res, 200, { data: [], paging: { cursors: { after: 'SAME' }, next: `${base}/x` } });
    await expect(channel().listTemplates('waba-1')).rejects.toThrow('does not end');
  });

  it('throws Meta’s failure when the list is refused', async () => {
    handler = (_req, res) => json(res, 400, metaError(100, '(#100) Invalid parameter'));
    const error = await channel().listTemplates('waba-1').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MetaApiError);
    expect((error as MetaApiError).failure).toMatchObject({ kind: 'permanent', code: 100, httpStatus: 400 });
  });
});

describe('number health', () => {
  it('reads the quality rating and display number and times the call', async () => {
    handler = (_req, res) => setTimeout(() => json(res, 200, { quality_rating: 'GREEN', display_phone_number: '+852 5555 0100', id: '106540352242922' }), 30);
    const health = await channel().numberHealth('106540352242922');
    expect(seen[0]!.method).toBe('GET');
    expect(seen[0]!.url.pathname).toBe('/v24.0/106540352242922');
    expect(seen[0]!.url.searchParams.get('fields')).toBe('quality_rating,display_phone_number');
    expect(health).toMatchObject({ qualityRating: 'GREEN', displayPhone: '+852 5555 0100' });
    expect(health.ms).toBeGreaterThanOrEqual(25);
  });

  it('throws on a failed call and on a timeout', async () => {
    handler = (_req, res) => json(res, 500, metaError(2, '(#2) Service temporarily unavailable'));
    await expect(channel().numberHealth('1')).rejects.toMatchObject({ failure: { kind: 'retry', code: 2 } });
    handler = () => undefined;
    await expect(channel({ timeoutMs: 100 }).numberHealth('1')).rejects.toThrow('no answer from Meta within 100 ms');
  });
});
