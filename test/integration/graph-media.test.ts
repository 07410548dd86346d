/**
 * The Cloud API media source (shared/whatsapp/media-cloud-api.ts) against the Graph stand-in's
 * media (local/graph/media.ts), MD-1: the seeds download with the bytes and hash Meta describes,
 * an expired URL is fetched again once, a gone or unknown media is `gone`, a refused token
 * `refused` (or renewed once), a stall `retry`, a 100 MB document streams in chunks without being
 * held whole; and, with an injected fetch, the token never goes to a host that is not Meta's.
 */
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SEED_MEDIA, startGraphStandIn, type GraphStandIn } from '#local/graph/server';
import { MEDIA_URL_TTL_MS } from '#local/graph/media';
import { MediaFetchError, type MediaDownload } from '#shared/whatsapp/media';
import { CloudApiMediaSource, sha256Matches, type CloudApiMediaOptions } from '#shared/whatsapp/media-cloud-api';

const TOKEN = 'graph-media-token';
const NUMBER = '106540352242922';
const V = 'v25.0';
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let graph: GraphStandIn;
let clock = Date.parse('2025-05-01T10:00:00Z');

beforeAll(async () => {
  graph = await startGraphStandIn({ appSecret: 'graph-media-secret', accessToken: TOKEN, now: () => clock });
});
afterAll(() => graph.close());
beforeEach(() => {
  clock = Date.parse('2025-05-01T10:00:00Z');
  graph.setAccessToken(TOKEN);
});

/** A fetch that records each request's URL and authorization header, then does it. */
function recordingFetch(inner: typeof fetch = fetch) {
  const calls: { url: string; authorization: string | null }[] = [];
  const wrapped: typeof fetch = (input, init) => {
    const url = input instanceof URL ? input.href : typeof input === 'string' ? input : input.url;
    calls.push({ url, authorization: new Headers(init?.headers).get('authorization') });
    return inner(input, init);
  };
  return { fetch: wrapped, calls, metadataCalls: () => calls.filter((c) => new URL(c.url).pathname.startsWith(`/${V}/`)).length };
}

function source(options: Partial<CloudApiMediaOptions> = {}) {
  return new CloudApiMediaSource({ baseUrl: graph.url, version: V, accessToken: () => TOKEN, timeoutMs: 5000, ...options });
}

async function drain(download: MediaDownload): Promise<{ bytes: Buffer; sha256: string; chunks: number }> {
  const parts: Uint8Array[] = [];
  const hash = createHash('sha256');
  for await (const part of download.body) {
    hash.update(part);
    parts.push(part);
  }
  return { bytes: Buffer.concat(parts), sha256: hash.digest('hex'), chunks: parts.length };
}

async function failure(promise: Promise<unknown>): Promise<MediaFetchError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MediaFetchError);
  return error as MediaFetchError;
}

async function text(body: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Uint8Array[] = [];
  for await (const part of body) parts.push(part);
  return Buffer.concat(parts).toString();
}

const open = (mediaId: string, options: Partial<CloudApiMediaOptions> = {}) => source(options).open({ mediaId, phoneNumberId: NUMBER });

describe('the stand-in answers as Meta does', () => {
  it("GET /<MEDIA_ID> answers Meta's metadata, with a 5-minute URL on the stand-in and file_size a string", async () => {
    const response = await fetch(`${graph.url}/${V}/${SEED_MEDIA.pdf}?phone_number_id=${NUMBER}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Json;
    const summary = (await graph.media(SEED_MEDIA.pdf))!;
    expect(body).toEqual({
      messaging_product: 'whatsapp',
      url: expect.stringMatching(new RegExp(`^${graph.url}/local/media-download/${SEED_MEDIA.pdf}\\?expires=\\d+&sig=[\\w-]+$`)),
      mime_type: 'application/pdf',
      sha256: summary.sha256Hex,
      file_size: String(summary.fileSize),
      id: SEED_MEDIA.pdf,
    });
    expect(Number(new URL(body.url as string).searchParams.get('expires'))).toBe(clock + MEDIA_URL_TTL_MS);
  });

  it('the download needs the token, and answers 404 once the URL expired or was altered', async () => {
    const meta = (await (await fetch(`${graph.url}/${V}/${SEED_MEDIA.pdf}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as Json;
    const url = meta.url as string;
    const auth = { headers: { authorization: `Bearer ${TOKEN}` } };
    expect((await fetch(url)).status).toBe(401);
    const ok = await fetch(url, auth);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('application/pdf');
    expect((await ok.text()).startsWith('%PDF-1.4')).toBe(true);

    expect((await fetch(url.replace(/sig=./, 'sig=A'), auth)).status).toBe(404);
    expect((await fetch(url.replace(/expires=\d+/, `expires=${clock + 10 * MEDIA_URL_TTL_MS}`), auth)).status).toBe(404);
    clock += MEDIA_URL_TTL_MS + 1;
    const late = await fetch(url, auth);
    expect(late.status).toBe(404);
    expect(await late.text()).toBe('URL signature expired');
  });

  it('an id that is not media still reaches the node route (number health), and an unknown id is code 100 / subcode 33', async () => {
    const number = await fetch(`${graph.url}/${V}/${NUMBER}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(((await number.json()) as Json).quality_rating).toBe('GREEN');
    const unknown = await fetch(`${graph.url}/${V}/1999999999999999`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as Json).error).toMatchObject({ code: 100, error_subcode: 33, type: 'GraphMethodException' });
  });

  it('POST /local/media stores bytes for scripts and GET /local/media lists them', async () => {
    const bytes = Buffer.from('hello, a text document');
    const response = await fetch(`${graph.url}/local/media?filename=hello.txt`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: bytes });
    expect(response.status).toBe(201);
    const added = (await response.json()) as Json;
    const sha = createHash('sha256').update(bytes).digest();
    expect(added).toEqual({ id: expect.stringMatching(/^1\d{15}$/), sha256: sha.toString('hex'), sha256_base64: sha.toString('base64'), file_size: bytes.length });

    const listed = (await (await fetch(`${graph.url}/local/media`)).json()) as Json[];
    expect(listed.find((m) => m.mediaId === added.id)).toMatchObject({ mimeType: 'text/plain', filename: 'hello.txt', fileSize: bytes.length });
    expect(listed.map((m) => m.mediaId)).toEqual(expect.arrayContaining(Object.values(SEED_MEDIA)));

    const download = await open(added.id as string);
    expect(download.info).toEqual({ mediaId: added.id, mimeType: 'text/plain', sha256: sha.toString('hex'), fileSize: bytes.length });
    expect((await drain(download)).bytes.equals(bytes)).toBe(true);
  });
});

describe('CloudApiMediaSource against the stand-in', () => {
  it('downloads the seeded 12 MP photo with the bytes Meta describes (EXIF orientation 6, GPS)', async () => {
    const download = await open(SEED_MEDIA.photo);
    const { bytes, sha256 } = await drain(download);
    expect(download.info).toMatchObject({ mediaId: SEED_MEDIA.photo, mimeType: 'image/jpeg', fileSize: bytes.length });
    expect(sha256).toBe(download.info.sha256);
    expect(sha256Matches(download.info.sha256, sha256)).toBe(true);
    // The webhook carries the hash as base64.
    expect(sha256Matches((await graph.media(SEED_MEDIA.photo))!.sha256Base64, sha256)).toBe(true);

    const metadata = await sharp(bytes).metadata();
    expect(metadata).toMatchObject({ format: 'jpeg', width: 4000, height: 3000, orientation: 6 });
    expect(metadata.exif?.includes(Buffer.from([0x25, 0x88]))).toBe(true); // GPS IFD pointer tag 0x8825
  });

  it('downloads the other seeds: a transparent PNG, an Ogg Opus voice note, a PDF', async () => {
    const png = await drain(await open(SEED_MEDIA.png));
    expect(await sharp(png.bytes).metadata()).toMatchObject({ format: 'png', hasAlpha: true });

    const voice = await open(SEED_MEDIA.voice);
    expect(voice.info.mimeType).toBe('audio/ogg; codecs=opus');
    const ogg = (await drain(voice)).bytes;
    expect(ogg.subarray(0, 4).toString('latin1')).toBe('OggS');
    expect(ogg.subarray(28, 36).toString('latin1')).toBe('OpusHead');

    const pdf = (await drain(await open(SEED_MEDIA.pdf))).bytes.toString('latin1');
    expect(pdf.startsWith('%PDF-1.4\n')).toBe(true);
    expect(pdf.trimEnd().endsWith('%%EOF')).toBe(true);
  });

  it('expire-url: the first download answers expired, the metadata is fetched again and the download succeeds', async () => {
    const { mediaId, sha256Hex } = graph.addMedia({ mimeType: 'application/pdf', bytes: Buffer.from('%PDF-1.4 an invoice') });
    graph.mediaFault(mediaId, 'expire-url');
    const recorder = recordingFetch();
    const download = await open(mediaId, { fetch: recorder.fetch });
    expect((await drain(download)).sha256).toBe(sha256Hex);
    expect(recorder.metadataCalls()).toBe(2);
    expect(recorder.calls).toHaveLength(4);
  });

  it('a URL that is expired again after the fresh one is retry (no loop)', async () => {
    const { mediaId } = graph.addMedia({ mimeType: 'application/pdf', bytes: Buffer.from('%PDF-1.4 twice') });
    graph.mediaFault(mediaId, 'expire-url', { times: 5 });
    const recorder = recordingFetch();
    const error = await failure(open(mediaId, { fetch: recorder.fetch }));
    expect(error.kind).toBe('retry');
    expect(error.message).toContain(mediaId);
    expect(recorder.metadataCalls()).toBe(2);
    expect(recorder.calls).toHaveLength(4);
  });

  it('gone: the metadata answers not found → gone, naming the media and Meta\'s text', async () => {
    const { mediaId } = graph.addMedia({ mimeType: 'image/png', bytes: Buffer.from('png') });
    graph.mediaFault(mediaId, 'gone');
    const error = await failure(open(mediaId));
    expect(error.kind).toBe('gone');
    expect(error.status).toBe(400);
    expect(error.message).toContain(`media ${mediaId}`);
    expect(error.message).toContain('code 100, subcode 33');
    expect(error.message).toContain('does not exist');
  });

  it('a media id nobody added is gone', async () => {
    const error = await failure(open('1777777777777777'));
    expect(error.kind).toBe('gone');
    expect(error.message).toContain('1777777777777777');
  });

  it('a wrong token is refused; a renewed one (onAuthFailure) is tried once and works', async () => {
    const refused = await failure(open(SEED_MEDIA.pdf, { accessToken: () => 'wrong-token' }));
    expect(refused.kind).toBe('refused');
    expect(refused.status).toBe(401);
    expect(refused.message).toContain('code 190');

    let token = 'old-token';
    let renewals = 0;
    const renewed = await open(SEED_MEDIA.pdf, {
      accessToken: () => token,
      onAuthFailure: async () => {
        renewals++;
        token = TOKEN;
        return true;
      },
    });
    expect((await drain(renewed)).bytes.length).toBeGreaterThan(0);
    expect(renewals).toBe(1);
  });

  it('wrong-bytes: the bytes arrive, and their hash is not the metadata\'s (the caller retries)', async () => {
    const { mediaId, sha256Hex } = graph.addMedia({ mimeType: 'application/pdf', bytes: Buffer.from('%PDF-1.4 the real bytes') });
    graph.mediaFault(mediaId, 'wrong-bytes');
    const download = await open(mediaId);
    const { sha256 } = await drain(download);
    expect(download.info.sha256).toBe(sha256Hex);
    expect(sha256Matches(download.info.sha256, sha256)).toBe(false);
    graph.mediaFault(mediaId, undefined);
    expect((await drain(await open(mediaId))).sha256).toBe(sha256Hex);
  });

  it('slow: a download that stalls past the timeout is retry', async () => {
    const { mediaId } = graph.addMedia({ mimeType: 'application/pdf', bytes: Buffer.alloc(600 * 1024, 1) });
    graph.mediaFault(mediaId, 'slow', { delayMs: 400 });
    const error = await failure(open(mediaId, { timeoutMs: 150 }).then(drain));
    expect(error.kind).toBe('retry');
    expect(error.message).toContain('within 150 ms');
    graph.mediaFault(mediaId, undefined);
  });

  it('a 100 MB document streams in many chunks, never held whole', async () => {
    const size = 100 * 1024 * 1024;
    const { mediaId, sha256Hex } = graph.addMedia({ mimeType: 'application/pdf', bytes: { size } });
    const download = await open(mediaId);
    expect(download.info.fileSize).toBe(size);
    const hash = createHash('sha256');
    let chunks = 0;
    let received = 0;
    let largest = 0;
    for await (const chunk of download.body) {
      hash.update(chunk);
      chunks++;
      received += chunk.length;
      largest = Math.max(largest, chunk.length);
    }
    expect(received).toBe(size);
    expect(hash.digest('hex')).toBe(sha256Hex);
    expect(chunks).toBeGreaterThan(100);
    expect(largest).toBeLessThan(4 * 1024 * 1024);
  });
});

describe('the token goes to Meta only (injected fetch)', () => {
  const BASE = 'https://graph.facebook.com';
  const MEDIA = '1013859600285499';

  /** Meta as a function of the request: metadata pointing at `url`, and `download` for any other request. */
  function meta(url: string, download: (url: URL) => Response = () => new Response('bytes')) {
    return recordingFetch(async (input) => {
      const target = new URL(input instanceof URL ? input.href : typeof input === 'string' ? input : input.url);
      if (target.origin === BASE && target.pathname === `/${V}/${MEDIA}`) {
        return Response.json({ messaging_product: 'whatsapp', url, mime_type: 'application/pdf', sha256: 'ab'.repeat(32), file_size: '5', id: MEDIA });
      }
      return download(target);
    });
  }

  const cloud = (recorder: ReturnType<typeof recordingFetch>) =>
    new CloudApiMediaSource({ baseUrl: BASE, version: V, accessToken: () => TOKEN, fetch: recorder.fetch }).open({ mediaId: MEDIA, phoneNumberId: NUMBER });

  it.each(['https://evil.example.com/media?id=1', 'http://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1', 'https://lookaside.fbsbx.com.evil.example/x', 'https://notfacebook.com/x'])(
    'a download URL on %s is refused before any request is made to it',
    async (url) => {
      const recorder = meta(url);
      const error = await failure(cloud(recorder));
      expect(error.kind).toBe('refused');
      expect(error.message).toContain('the token is not sent there');
      expect(recorder.calls.map((c) => new URL(c.url).origin)).toEqual([BASE]);
    },
  );

  it('downloads from the lookaside with the bearer token and a User-Agent; file_size and sha256 are read', async () => {
    let userAgent: string | null = null;
    const recorder = recordingFetch(async (input, init) => {
      const target = new URL(input instanceof URL ? input.href : typeof input === 'string' ? input : input.url);
      if (target.hostname === 'graph.facebook.com') {
        return Response.json({ messaging_product: 'whatsapp', url: 'https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1&ext=2&hash=3', mime_type: 'image/jpeg', sha256: 'AB'.repeat(32), file_size: '303833', id: MEDIA });
      }
      userAgent = new Headers(init?.headers).get('user-agent');
      return new Response('jpeg bytes');
    });
    const download = await cloud(recorder);
    expect(download.info).toEqual({ mediaId: MEDIA, mimeType: 'image/jpeg', sha256: 'ab'.repeat(32), fileSize: 303833 });
    expect(await text(download.body)).toBe('jpeg bytes');
    expect(recorder.calls.map((c) => c.authorization)).toEqual([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]);
    expect(recorder.calls[0]!.url).toBe(`${BASE}/${V}/${MEDIA}?phone_number_id=${NUMBER}`);
    expect(userAgent).toMatch(/\S/);
  });

  it('a redirect to another Meta host is followed with the token; a redirect elsewhere is not (expired, then retry)', async () => {
    const followed = meta('https://lookaside.fbsbx.com/a', (url) =>
      url.hostname === 'lookaside.fbsbx.com' ? new Response(null, { status: 302, headers: { location: 'https://mmg.whatsapp.net/b' } }) : new Response('moved bytes'),
    );
    expect(await text((await cloud(followed)).body)).toBe('moved bytes');
    expect(followed.calls.map((c) => new URL(c.url).hostname)).toEqual(['graph.facebook.com', 'lookaside.fbsbx.com', 'mmg.whatsapp.net']);

    const elsewhere = meta('https://lookaside.fbsbx.com/a', () => new Response(null, { status: 302, headers: { location: 'https://evil.example.com/steal' } }));
    const error = await failure(cloud(elsewhere));
    expect(error.kind).toBe('retry');
    expect(error.message).toContain('a redirect to https://evil.example.com');
    expect(elsewhere.calls.some((c) => c.url.includes('evil.example.com'))).toBe(false);
    expect(elsewhere.metadataCalls()).toBe(2);
  });

  it('maps Meta\'s answers: 5xx and 429 retry, code 4 retry, 404 gone, 403 permission refused; a dropped connection retry', async () => {
    const answering = (status: number, body: unknown) =>
      cloud(recordingFetch(async () => (body === undefined ? new Response('gateway', { status }) : Response.json(body, { status }))));
    expect((await failure(answering(503, undefined))).kind).toBe('retry');
    expect((await failure(answering(429, undefined))).kind).toBe('retry');
    expect((await failure(answering(400, { error: { message: '(#4) Application request limit reached', code: 4 } }))).kind).toBe('retry');
    expect((await failure(answering(404, { error: { message: 'Not found', code: 803 } }))).kind).toBe('gone');
    const permission = await failure(answering(403, { error: { message: '(#10) Application does not have permission for this action', code: 10 } }));
    expect(permission.kind).toBe('refused');
    expect(permission.message).toBe(`media ${MEDIA}: Meta answered 403 (code 10): Application does not have permission for this action`);
    const dropped = await failure(cloud(recordingFetch(() => Promise.reject(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } })))));
    expect(dropped.kind).toBe('retry');
    expect(dropped.message).toContain('ECONNRESET');
  });

  it('a body that stalls after the answer is retry; time the caller spends with a chunk is not a stall', async () => {
    const stalling = () =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('first chunk'));
          // …and nothing more, ever.
        },
      });
    const source = (timeoutMs: number) =>
      new CloudApiMediaSource({ baseUrl: BASE, version: V, accessToken: () => TOKEN, timeoutMs, fetch: meta('https://lookaside.fbsbx.com/a', () => new Response(stalling())).fetch });
    const download = await source(100).open({ mediaId: MEDIA, phoneNumberId: NUMBER });
    const error = await failure(
      (async () => {
        for await (const chunk of download.body) {
          expect(chunk.length).toBeGreaterThan(0);
          await new Promise((resolve) => setTimeout(resolve, 250)); // the caller is slow: not counted
        }
      })(),
    );
    expect(error.kind).toBe('retry');
    expect(error.message).toContain(`media ${MEDIA}: the download broke off: no answer from Meta within 100 ms`);
  });

  it('the download answering 5xx is retry, another 4xx refused', async () => {
    expect((await failure(cloud(meta('https://lookaside.fbsbx.com/a', () => new Response('busy', { status: 503 }))))).kind).toBe('retry');
    expect((await failure(cloud(meta('https://lookaside.fbsbx.com/a', () => new Response('bad', { status: 400 }))))).kind).toBe('refused');
  });
});
