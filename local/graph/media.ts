/**
 * The Graph stand-in's media (MD-1): what Meta's Cloud API does with a customer's media, for the
 * media function's Cloud API source (shared/whatsapp/media-cloud-api.ts) and the end-to-end runs.
 *
 *   GET /<version>/<MEDIA_ID>[?phone_number_id=]  → { messaging_product, url, mime_type, sha256 (hex),
 *                                                    file_size (a string), id }, as Meta answers
 *   GET /local/media-download/<MEDIA_ID>?expires=<ms>&sig=<hmac>  → the bytes, with content-type
 *   POST /local/media (body = bytes, content-type = mime; ?id=, ?filename=) → { id, sha256, sha256_base64, file_size }
 *   GET  /local/media                              → what is stored (ids, types, sizes, hashes)
 * (server.ts routes them and checks the bearer token; the download needs it as Meta's does.)
 *
 * Decisions:
 * - **URLs.** A download URL is signed (HMAC with a key made at start) and valid for 5 minutes on
 *   the stand-in's clock, like Meta's; an expired or altered one answers 404, which is what a
 *   lookaside URL past its time answers (the Cloud API client then asks for a fresh one). The
 *   `phone_number_id` check Meta makes is not modelled: any number may read any media.
 * - **Unknown ids** are not answered here: server.ts falls through to the node route, which
 *   answers Graph's "object does not exist" (code 100, subcode 33, HTTP 400) as Meta does.
 * - **Faults** per media: `expire-url` (the next download answers 404 as if expired; once by
 *   default), `wrong-bytes` (serves bytes one byte off, so their SHA-256 is not the metadata's),
 *   `gone` (the metadata and downloads answer not found), `slow` (the download waits `delayMs`,
 *   default 1 s, before answering and between 256 KiB chunks). All but `expire-url` last until
 *   cleared, unless `times` says otherwise.
 * - **Big bodies.** `addMedia({ bytes: { size } })` keeps one 64 KiB block and serves it repeated
 *   to `size` bytes (hashed once when added): a 100 MB document costs 64 KiB of memory. Every body
 *   is written in 64 KiB slices with backpressure.
 * - **Seeds** (SEED_MEDIA), made on first use and kept for the process (deterministic, so their
 *   hashes are the same in every stand-in): a 12 MP (4000×3000) JPEG "photo" with EXIF orientation
 *   6, camera make/model and GPS (Hong Kong); an 800×600 PNG with transparency; a 2 s voice note
 *   (`audio/ogg; codecs=opus`, as WhatsApp's voice notes are typed) and a one-page PDF. The photo
 *   is a smooth upscale of a small seeded-noise image (photo-like: it compresses to ~0.7 MB, not
 *   the 10 MB+ of pixel noise). Measured on 2 cores: all four in ~0.9 s on first use, sharp's start
 *   included (the photo ~0.65 s, the rest milliseconds); never made by a stand-in that does not use them.
 * - **The voice note** is an Ogg container written here (RFC 3533 pages with their CRC, RFC 7845
 *   OpusHead/OpusTags) around 100 Opus packets of the 3-byte CELT silence frame `F8 FF FE`
 *   (20 ms each): a valid Ogg Opus file of 2 s of silence, without a binary blob in the source.
 * - **The PDF** is hand-written with its xref offsets computed, so it is a valid PDF 1.4.
 */
import { createHash, createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import sharp from 'sharp';
import { sleep } from './statuses.ts';

/** The media every stand-in has, by what it is. Numeric ids, like Meta's. */
export const SEED_MEDIA = Object.freeze({
  photo: '1013859600285441',
  png: '1013859600285442',
  voice: '1013859600285443',
  pdf: '1013859600285444',
});

export type MediaFaultKind = 'expire-url' | 'wrong-bytes' | 'gone' | 'slow';

export interface MediaFaultOptions {
  /** How many downloads (metadata answers for `gone`) it affects. Default 1 for `expire-url`, else all. */
  readonly times?: number;
  /** `slow`: the wait before the answer and between chunks. Default 1000 ms. */
  readonly delayMs?: number;
}

export interface MediaInput {
  /** Default: a new numeric id. */
  readonly mediaId?: string;
  readonly mimeType: string;
  /** The bytes, or a generated body of `size` bytes (a 64 KiB block repeated; nothing that size in memory). */
  readonly bytes: Uint8Array | { readonly size: number };
  readonly filename?: string;
}

export interface AddedMedia {
  readonly mediaId: string;
  readonly sha256Hex: string;
  /** As a webhook's `image.sha256` carries it. */
  readonly sha256Base64: string;
}

export interface MediaSummary extends AddedMedia {
  readonly mimeType: string;
  readonly fileSize: number;
  readonly filename?: string | undefined;
}

/** Validity of a download URL, as Meta's. */
export const MEDIA_URL_TTL_MS = 5 * 60 * 1000;
export const MEDIA_DOWNLOAD_PATH = '/local/media-download/';

const SLICE_BYTES = 64 * 1024;
const SLOW_SLICE_BYTES = 256 * 1024;
const MAX_UPLOAD_BYTES = 128 * 1024 * 1024;

/** A body: bytes, or one block repeated to `size`. */
interface Content {
  readonly size: number;
  readonly sha256Hex: string;
  readonly sha256Base64: string;
  readonly bytes?: Buffer;
  readonly block?: Buffer;
}

interface Entry {
  readonly mediaId: string;
  readonly mimeType: string;
  readonly filename?: string | undefined;
  readonly content: () => Promise<Content>;
}

interface ArmedFault {
  readonly kind: MediaFaultKind;
  remaining: number;
  readonly delayMs: number;
}

type Answer = { readonly status: number; readonly body: unknown };

export interface MediaLibraryOptions {
  readonly now: () => number;
  /** Ends waits (`slow`) when the stand-in closes. */
  readonly signal: AbortSignal;
  /** Register SEED_MEDIA. Default true. */
  readonly seeds?: boolean;
}

export type MediaLibrary = ReturnType<typeof createMediaLibrary>;

export function createMediaLibrary(options: MediaLibraryOptions) {
  const entries = new Map<string, Entry>();
  const faults = new Map<string, ArmedFault>();
  const key = randomBytes(32);

  if (options.seeds ?? true) for (const seed of SEEDS) entries.set(seed.mediaId, seed);

  function add(input: MediaInput): AddedMedia {
    const mediaId = input.mediaId ?? newMediaId();
    const content = contentOf(input.bytes, mediaId);
    entries.set(mediaId, { mediaId, mimeType: input.mimeType, filename: input.filename, content: () => Promise.resolve(content) });
    return { mediaId, sha256Hex: content.sha256Hex, sha256Base64: content.sha256Base64 };
  }

  function newMediaId(): string {
    for (;;) {
      const id = `1${String(randomInt(0, 2 ** 47)).padStart(15, '0')}`;
      if (!entries.has(id)) return id;
    }
  }

  function setFault(mediaId: string, kind: MediaFaultKind | undefined, fault: MediaFaultOptions = {}): void {
    if (kind === undefined) return void faults.delete(mediaId);
    faults.set(mediaId, { kind, remaining: fault.times ?? (kind === 'expire-url' ? 1 : Infinity), delayMs: fault.delayMs ?? 1000 });
  }

  /** The fault armed for this media, if it is of `kind`, counting the use. */
  function takeFault(mediaId: string, kind: MediaFaultKind): ArmedFault | undefined {
    const fault = faults.get(mediaId);
    if (!fault || fault.kind !== kind) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) faults.delete(mediaId);
    return fault;
  }

  async function describe(mediaId: string): Promise<MediaSummary | undefined> {
    const entry = entries.get(mediaId);
    if (!entry) return undefined;
    const content = await entry.content();
    return { mediaId, mimeType: entry.mimeType, filename: entry.filename, fileSize: content.size, sha256Hex: content.sha256Hex, sha256Base64: content.sha256Base64 };
  }

  // ---- GET /<version>/<MEDIA_ID> ----------------------------------------------------------

  /** Meta's answer for a stored media id; `notFound` answers for one that is `gone`. */
  async function metadata(mediaId: string, origin: string, notFound: () => Answer): Promise<Answer> {
    const entry = entries.get(mediaId);
    if (!entry || takeFault(mediaId, 'gone')) return notFound();
    const content = await entry.content();
    return {
      status: 200,
      body: {
        messaging_product: 'whatsapp',
        url: downloadUrl(origin, mediaId),
        mime_type: entry.mimeType,
        sha256: content.sha256Hex,
        file_size: String(content.size),
        id: mediaId,
      },
    };
  }

  function downloadUrl(origin: string, mediaId: string): string {
    const expires = options.now() + MEDIA_URL_TTL_MS;
    return `${origin}${MEDIA_DOWNLOAD_PATH}${encodeURIComponent(mediaId)}?expires=${expires}&sig=${signature(mediaId, expires)}`;
  }

  function signature(mediaId: string, expires: number): string {
    return createHmac('sha256', key).update(`${mediaId}:${expires}`).digest('base64url');
  }

  function validSignature(mediaId: string, url: URL): boolean {
    const expires = Number(url.searchParams.get('expires'));
    const given = Buffer.from(url.searchParams.get('sig') ?? '');
    const wanted = Buffer.from(Number.isSafeInteger(expires) ? signature(mediaId, expires) : '');
    return wanted.length > 0 && given.length === wanted.length && timingSafeEqual(given, wanted) && expires > options.now();
  }

  // ---- GET /local/media-download/<MEDIA_ID> -----------------------------------------------

  async function download(res: ServerResponse, mediaId: string, url: URL): Promise<void> {
    const entry = entries.get(mediaId);
    const gone = faults.get(mediaId)?.kind === 'gone';
    if (!entry || gone || !validSignature(mediaId, url) || takeFault(mediaId, 'expire-url')) return expired(res);
    const content = await entry.content();
    const slow = takeFault(mediaId, 'slow');
    const wrong = takeFault(mediaId, 'wrong-bytes') !== undefined;
    if (slow) await sleep(slow.delayMs, options.signal);
    if (res.destroyed || options.signal.aborted) return;
    res.writeHead(200, { 'content-type': entry.mimeType, 'content-length': content.size });
    let first = true;
    for (const slice of slices(content, slow ? SLOW_SLICE_BYTES : SLICE_BYTES)) {
      if (res.destroyed || options.signal.aborted) return;
      const out = first && wrong ? flipped(slice) : slice;
      first = false;
      if (!res.write(out)) await drained(res);
      if (slow) await sleep(slow.delayMs, options.signal);
    }
    res.end();
  }

  // ---- POST /local/media, GET /local/media ------------------------------------------------

  async function upload(req: IncomingMessage, url: URL): Promise<Answer> {
    let bytes: Buffer;
    try {
      bytes = await readBytes(req, MAX_UPLOAD_BYTES);
    } catch (error) {
      return { status: 413, body: { error: error instanceof Error ? error.message : String(error) } };
    }
    const mimeType = req.headers['content-type']?.trim() || 'application/octet-stream';
    const added = add({ mediaId: url.searchParams.get('id') ?? undefined, mimeType, bytes, filename: url.searchParams.get('filename') ?? undefined });
    return { status: 201, body: { id: added.mediaId, sha256: added.sha256Hex, sha256_base64: added.sha256Base64, file_size: bytes.length } };
  }

  async function list(): Promise<MediaSummary[]> {
    const summaries = await Promise.all([...entries.keys()].map(describe));
    return summaries.filter((s): s is MediaSummary => s !== undefined);
  }

  return {
    has: (mediaId: string) => entries.has(mediaId),
    add,
    setFault,
    describe,
    metadata,
    download,
    upload,
    list,
    faults: () => Object.fromEntries(faults),
  };
}

/** What Meta's lookaside answers for a URL past its time (or not signed by it). */
function expired(res: ServerResponse): void {
  const text = 'URL signature expired';
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function* slices(content: Content, size: number): Generator<Buffer> {
  if (content.bytes) {
    for (let at = 0; at < content.bytes.length; at += size) yield content.bytes.subarray(at, at + size);
    return;
  }
  const block = content.block!;
  for (let left = content.size; left > 0; left -= block.length) yield left >= block.length ? block : block.subarray(0, left);
}

function flipped(slice: Buffer): Buffer {
  const copy = Buffer.from(slice);
  if (copy.length > 0) copy[0] = copy[0]! ^ 0xff;
  return copy;
}

function contentOf(bytes: MediaInput['bytes'], mediaId: string): Content {
  if (bytes instanceof Uint8Array) return hashed(Buffer.from(bytes));
  const size = bytes.size;
  if (!Number.isSafeInteger(size) || size < 0) throw new Error(`media ${mediaId}: a generated body needs a size in bytes, not ${size}`);
  const block = seededBytes(SLICE_BYTES, mediaId);
  const hash = createHash('sha256');
  for (const slice of slices({ size, block, sha256Hex: '', sha256Base64: '' }, SLICE_BYTES)) hash.update(slice);
  const digest = hash.digest();
  return { size, block, sha256Hex: digest.toString('hex'), sha256Base64: digest.toString('base64') };
}

function hashed(bytes: Buffer): Content {
  const digest = createHash('sha256').update(bytes).digest();
  return { size: bytes.length, bytes, sha256Hex: digest.toString('hex'), sha256Base64: digest.toString('base64') };
}

function readBytes(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(new Error(`the media is larger than ${maxBytes} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

// ---- seeds ----------------------------------------------------------------------------------

/** Deterministic bytes (xorshift32 seeded from `seed`): the same seed, the same bytes, in every run. */
function seededBytes(length: number, seed: string): Buffer {
  let state = createHash('sha256').update(seed).digest().readUInt32LE(0) || 1;
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = state & 0xff;
  }
  return out;
}

/** Made once per process, on first use. */
function once(make: () => Promise<Buffer> | Buffer): () => Promise<Content> {
  let made: Promise<Content> | undefined;
  return () =>
    (made ??= Promise.resolve()
      .then(make)
      .then(hashed)
      .catch((error: unknown) => {
        made = undefined;
        throw error;
      }));
}

/**
 * A 4000×3000 JPEG that looks like a photo to an encoder (sky over a noisy ground, smoothly
 * upscaled), with the EXIF a phone writes: orientation 6 (taken holding the phone upright),
 * make/model, the time and GPS coordinates (Victoria Harbour, Hong Kong).
 */
async function photo(): Promise<Buffer> {
  const width = 160;
  const height = 120;
  const noise = seededBytes(width * height * 3, 'seed-photo');
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const sky = y < height * 0.45;
      const base = sky ? [120 + y, 160 + y / 2, 230] : [70 + (x % 40), 120, 50];
      for (let c = 0; c < 3; c++) raw[i + c] = Math.max(0, Math.min(255, base[c]! + ((noise[i + c]! - 128) * (sky ? 0.1 : 0.4))));
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .resize(4000, 3000, { kernel: 'cubic' })
    .jpeg({ quality: 85 })
    .withMetadata({ orientation: 6 })
    .withExifMerge({
      IFD0: { Make: 'LocalPhone', Model: 'Stand-in 12' },
      IFD2: { DateTimeOriginal: '2025:05:01 10:30:00' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '22/1 17/1 1200/100', GPSLongitudeRef: 'E', GPSLongitude: '114/1 10/1 900/100' },
    })
    .toBuffer();
}

/** 800×600, a half-transparent disc and an opaque card on a fully transparent background. */
function png(): Promise<Buffer> {
  const svg =
    '<svg xmlns="http://www.w3.org/2000/svg" width="800" height="600">' +
    '<circle cx="400" cy="300" r="220" fill="#e4572e" fill-opacity="0.7"/>' +
    '<rect x="80" y="80" width="240" height="160" rx="16" fill="#29335c"/>' +
    '</svg>';
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** A one-page PDF 1.4 ("Invoice 1042" in Helvetica), with a correct xref table. */
function pdf(): Buffer {
  const text = 'BT /F1 24 Tf 72 770 Td (Invoice 1042 - thank you for your order) Tj ET\n';
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${text.length} >>\nstream\n${text}endstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) out += `${String(offset).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/** 2 s of silence as Ogg Opus, mono 48 kHz (RFC 7845). */
function voice(): Buffer {
  const serial = 0x5eed0001;
  const preSkip = 312;
  const head = Buffer.alloc(19);
  head.write('OpusHead', 0, 'latin1');
  head[8] = 1; // version
  head[9] = 1; // channels
  head.writeUInt16LE(preSkip, 10);
  head.writeUInt32LE(48_000, 12); // input sample rate (informational)
  head.writeInt16LE(0, 16); // output gain
  head[18] = 0; // channel mapping family
  const vendor = Buffer.from('scrm local graph stand-in', 'utf8');
  const tags = Buffer.concat([Buffer.from('OpusTags', 'latin1'), u32(vendor.length), vendor, u32(0)]);
  // TOC 0xF8: CELT fullband, 20 ms, mono, one frame; FF FE: the silence frame.
  const frames = Array.from({ length: 100 }, () => Buffer.from([0xf8, 0xff, 0xfe]));
  const samples = BigInt(frames.length * 960);
  return Buffer.concat([oggPage(serial, 0, 0n, 0x02, [head]), oggPage(serial, 1, 0n, 0x00, [tags]), oggPage(serial, 2, samples, 0x04, frames)]);
}

function u32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32LE(value, 0);
  return out;
}

/** One Ogg page (RFC 3533 §6) of whole packets; flags 0x02 first page, 0x04 last. */
export function oggPage(serial: number, sequence: number, granule: bigint, flags: number, packets: readonly Buffer[]): Buffer {
  const lacing: number[] = [];
  for (const packet of packets) {
    for (let left = packet.length; ; left -= 255) {
      lacing.push(Math.min(left, 255));
      if (left < 255) break;
    }
  }
  if (lacing.length > 255) throw new Error(`an Ogg page holds at most 255 segments, not ${lacing.length}`);
  const header = Buffer.alloc(27 + lacing.length);
  header.write('OggS', 0, 'latin1');
  header[4] = 0; // version
  header[5] = flags;
  header.writeBigUInt64LE(granule, 6);
  header.writeUInt32LE(serial, 14);
  header.writeUInt32LE(sequence, 18);
  header[26] = lacing.length;
  lacing.forEach((value, i) => (header[27 + i] = value));
  const page = Buffer.concat([header, ...packets]);
  page.writeUInt32LE(oggCrc(page), 22);
  return page;
}

const OGG_CRC_TABLE = Uint32Array.from({ length: 256 }, (_, i) => {
  let r = i << 24;
  for (let bit = 0; bit < 8; bit++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
  return r >>> 0;
});

/** Ogg's CRC-32: polynomial 0x04C11DB7, not reflected, initial value 0, no final xor. */
export function oggCrc(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) ^ OGG_CRC_TABLE[((crc >>> 24) ^ byte) & 0xff]!) >>> 0;
  return crc;
}

const SEEDS: readonly Entry[] = [
  { mediaId: SEED_MEDIA.photo, mimeType: 'image/jpeg', content: once(photo) },
  { mediaId: SEED_MEDIA.png, mimeType: 'image/png', content: once(png) },
  { mediaId: SEED_MEDIA.voice, mimeType: 'audio/ogg; codecs=opus', content: once(voice) },
  { mediaId: SEED_MEDIA.pdf, mimeType: 'application/pdf', filename: 'invoice-1042.pdf', content: once(pdf) },
];
