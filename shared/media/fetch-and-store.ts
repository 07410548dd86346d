/**
 * One media message's media, fetched from WhatsApp and kept in S3 (MD-1):
 *
 * - the bytes come through the channel port (Cloud API or End User Messaging Social), within the
 *   download URL's 5 minutes (the source fetches a fresh URL once when it expired);
 * - **images** (not stickers) are read whole (Meta's image limit is 5 MB; a 12 MP photo is a few
 *   MB), their SHA-256 checked, and recompressed to an upright JPEG under 5 MB without EXIF/GPS
 *   (image.ts); one that cannot fit is kept with the flag `too_large`, never dropped;
 * - **everything else** streams to S3 as it comes (a 100 MB document is never in memory whole),
 *   hashed on the way (multipart beyond 8 MiB); a mismatch deletes the object and the attempt is retried (a download
 *   damaged in transit); over the platform's limit for its kind it is kept, flagged `too_large`;
 * - the key is `media/<contact>/<yyyy-mm>/<wamid>.<ext>`: one prefix the function may write, one
 *   month per folder for lifecycle rules, nothing personal in it.
 *
 * Every outcome is a value: `retry` (Meta or S3 failed for now) or a final one, `stored`,
 * `too_large` or `failed` with its reason (a corrupt image, a media id Meta no longer has).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { BUCKET_LAYOUT } from '../resources.ts';
import type { MediaOutcome, MediaWork } from '../store/media.ts';
import { MediaFetchError, type WhatsAppMediaSource } from '../whatsapp/media.ts';
import { compressImage, MediaError, type ImageSettings } from './image.ts';
import { MEDIA_LIMITS } from './limits.ts';

export interface MediaObjectSink {
  putObject(key: string, body: Uint8Array | Readable, options: { contentType: string; contentLength?: number; metadata?: Record<string, string> }): Promise<void>;
  deleteObject(key: string): Promise<void>;
}

export interface FetchAndStoreDeps {
  readonly source: (phoneNumberId: string) => WhatsAppMediaSource;
  readonly bucket: MediaObjectSink;
  readonly image?: Partial<ImageSettings> | undefined;
  readonly now: () => number;
  readonly signal?: AbortSignal | undefined;
}

export type FetchOutcome = { readonly kind: 'final'; readonly outcome: MediaOutcome } | { readonly kind: 'retry'; readonly reason: string };

/** Largest image read into memory; a bigger "image" streams like a document and is flagged. */
const MAX_IMAGE_INPUT_BYTES = 64_000_000;

const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'video/mp4': 'mp4',
  'video/3gpp': '3gp',
  'audio/ogg': 'ogg',
  'audio/mpeg': 'mp3',
  'audio/mp4': 'm4a',
  'audio/aac': 'aac',
  'audio/amr': 'amr',
  'application/pdf': 'pdf',
  'text/plain': 'txt',
  'application/msword': 'doc',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.ms-excel': 'xls',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'application/vnd.ms-powerpoint': 'ppt',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'pptx',
};

/** The object key of a message's media. */
export function mediaKey(work: Pick<MediaWork, 'contactId' | 'wamid' | 'sentAt'>, contentType: string): string {
  const month = new Date(work.sentAt).toISOString().slice(0, 7);
  const base = contentType.split(';')[0]!.trim().toLowerCase();
  const ext = EXTENSIONS[base] ?? 'bin';
  return `${BUCKET_LAYOUT.media}${safe(work.contactId)}/${month}/${safe(work.wamid)}.${ext}`;
}

/** The platform's limit for a kind (an unknown kind gets the document limit). */
export function limitOf(kind: string, mimeType: string | undefined, animated = false): number {
  switch (kind) {
    case 'image':
      return MEDIA_LIMITS.image;
    case 'video':
      return MEDIA_LIMITS.video;
    case 'audio':
    case 'voice':
      return MEDIA_LIMITS.audio;
    case 'sticker':
      return animated ? MEDIA_LIMITS.sticker.animated : MEDIA_LIMITS.sticker.static;
    default:
      return mimeType?.startsWith('image/') ? MEDIA_LIMITS.image : MEDIA_LIMITS.document;
  }
}

/** The SHA-256 Meta gave matches (hex from the media GET, base64 from the webhook). */
export function sha256Agrees(expected: readonly (string | undefined)[], actual: Buffer): boolean {
  const known = expected.filter((e): e is string => !!e);
  if (known.length === 0) return true;
  const hex = actual.toString('hex');
  const b64 = actual.toString('base64');
  return known.every((e) => e.toLowerCase() === hex || e.replace(/=+$/, '') === b64.replace(/=+$/, ''));
}

export async function fetchAndStore(deps: FetchAndStoreDeps, work: MediaWork): Promise<FetchOutcome> {
  const failed = (reason: string): FetchOutcome => ({ kind: 'final', outcome: { state: 'failed', reason, at: deps.now() } });
  let download;
  try {
    download = await deps.source(work.phoneNumberId).open({ mediaId: work.mediaId, phoneNumberId: work.phoneNumberId }, deps.signal);
  } catch (error) {
    if (error instanceof MediaFetchError) {
      if (error.kind === 'retry') return { kind: 'retry', reason: error.message };
      return failed(error.kind === 'gone' ? `Meta no longer has media ${work.mediaId} (${error.message}); media ids expire after 7 days` : `Meta refused media ${work.mediaId}: ${error.message}`);
    }
    return { kind: 'retry', reason: describe(error) };
  }
  const { info } = download;
  const mimeType = info.mimeType || work.mimeType || 'application/octet-stream';
  const expected = [info.sha256, work.sha256];
  const isImage = work.kind === 'image' && (info.fileSize === undefined || info.fileSize <= MAX_IMAGE_INPUT_BYTES);
  try {
    return isImage ? await storeImage(deps, work, download.body, mimeType, expected) : await storeStream(deps, work, download.body, mimeType, info.fileSize, expected);
  } catch (error) {
    if (error instanceof MediaError) return error.permanent ? failed(error.reason) : { kind: 'retry', reason: error.reason };
    if (error instanceof MediaFetchError) return error.kind === 'retry' ? { kind: 'retry', reason: error.message } : failed(error.message);
    return { kind: 'retry', reason: describe(error) };
  }
}

async function storeImage(deps: FetchAndStoreDeps, work: MediaWork, body: AsyncIterable<Uint8Array>, mimeType: string, expected: readonly (string | undefined)[]): Promise<FetchOutcome> {
  const bytes = await readAll(body, MAX_IMAGE_INPUT_BYTES);
  const digest = createHash('sha256').update(bytes).digest();
  if (!sha256Agrees(expected, digest)) return { kind: 'retry', reason: `the downloaded image's sha256 ${digest.toString('hex')} is not Meta's ${expected.filter(Boolean).join(' / ')}: damaged in transit` };
  const image = await compressImage(bytes, mimeType, deps.image);
  const key = mediaKey(work, image.contentType);
  await deps.bucket.putObject(key, image.bytes, { contentType: image.contentType, contentLength: image.bytes.length, metadata: metadataOf(work, digest, mimeType) });
  return {
    kind: 'final',
    outcome: {
      state: image.state,
      s3Key: key,
      bytes: image.bytes.length,
      contentType: image.contentType,
      sha256: digest.toString('hex'),
      width: image.width,
      height: image.height,
      ...(image.state === 'too_large' && { reason: image.reason }),
      at: deps.now(),
    },
  };
}

async function storeStream(deps: FetchAndStoreDeps, work: MediaWork, body: AsyncIterable<Uint8Array>, mimeType: string, size: number | undefined, expected: readonly (string | undefined)[]): Promise<FetchOutcome> {
  const key = mediaKey(work, mimeType);
  const hash = createHash('sha256');
  let bytes = 0;
  async function* hashed() {
    for await (const chunk of body) {
      hash.update(chunk);
      bytes += chunk.byteLength;
      yield chunk;
    }
  }
  // Streamed as it comes; a size Meta did not give makes it a multipart upload (storage/bucket.ts).
  await deps.bucket.putObject(key, Readable.from(hashed()), { contentType: mimeType, ...(size !== undefined && { contentLength: size }), metadata: metadataOf(work, undefined, mimeType) });
  const digest = hash.digest();
  if (!sha256Agrees(expected, digest)) {
    await deps.bucket.deleteObject(key);
    return { kind: 'retry', reason: `the downloaded ${work.kind}'s sha256 ${digest.toString('hex')} is not Meta's ${expected.filter(Boolean).join(' / ')}: damaged in transit` };
  }
  const limit = limitOf(work.kind, mimeType, /animated/i.test(mimeType));
  const over = bytes > limit;
  return {
    kind: 'final',
    outcome: {
      state: over ? 'too_large' : 'stored',
      s3Key: key,
      bytes,
      contentType: mimeType,
      sha256: digest.toString('hex'),
      ...(over && { reason: `${bytes} bytes, over WhatsApp's ${limit}-byte limit for ${work.kind}: kept as it came` }),
      at: deps.now(),
    },
  };
}

function metadataOf(work: MediaWork, digest: Buffer | undefined, mimeType: string): Record<string, string> {
  // S3 user metadata is ASCII: the original type and hash, the message it belongs to.
  return { wamid: work.wamid.slice(0, 200), 'original-type': mimeType.replace(/[^\x20-\x7e]/g, '').slice(0, 200), ...(digest && { 'original-sha256': digest.toString('hex') }), ...(work.sha256 && { 'meta-sha256': work.sha256.slice(0, 100) }) };
}

async function readAll(body: AsyncIterable<Uint8Array>, max: number): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > max) throw new MediaFetchError('refused', `the media is larger than ${max} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function safe(id: string): string {
  return id.replace(/[^A-Za-z0-9._=-]/g, '_').slice(0, 200);
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
