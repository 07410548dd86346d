/**
 * The media sources' pieces that need no server (MD-1): the End User Messaging Social source with
 * fake Social Messaging and S3 clients (stages into S3, streams the copy back, deletes it, maps
 * AWS's exceptions), and `sha256Matches` for Meta's hex and the webhook's base64.
 * The Cloud API source runs against the Graph stand-in: test/integration/graph-media.test.ts.
 */
import { createHash } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import {
  AccessDeniedException,
  DependencyException,
  InternalServiceException,
  ResourceNotFoundException,
  ThrottledRequestException,
  ValidationException,
  type GetWhatsAppMessageMediaCommand,
  type GetWhatsAppMessageMediaCommandOutput,
} from '@aws-sdk/client-socialmessaging';
import { describe, expect, it } from 'vitest';
import { MediaFetchError } from '#shared/whatsapp/media';
import { sha256Hex, sha256Matches } from '#shared/whatsapp/media-cloud-api';
import { SocialMessagingMediaSource, awsMediaError, type SocialMediaClient, type StagedObjectOutput, type StagingS3 } from '#shared/whatsapp/media-social';

const NUMBER = '106540352242922';
const ORIGINATION = 'phone-number-id-976c72a700aac43eaf573ae050example';
const MEDIA_ID = '1013859600285441';
const BUCKET = 'scrm-data-test';
const $metadata = { httpStatusCode: 400, requestId: 'r-1' };

type Answer = Omit<GetWhatsAppMessageMediaCommandOutput, '$metadata'>;

/** The Social Messaging client: records the commands, answers from `answer`. */
function fakeSocial(answer: (command: GetWhatsAppMessageMediaCommand) => Promise<Answer> = async () => ({ mimeType: 'application/pdf', fileSize: 20 })) {
  const commands: GetWhatsAppMessageMediaCommand[] = [];
  const client: SocialMediaClient = {
    send: async (command) => {
      commands.push(command);
      return { ...(await answer(command)), $metadata: { httpStatusCode: 200 } };
    },
  };
  return { client, commands };
}

/** An S3 holding what AWS staged: GetObject streams it in chunks of `chunk` bytes, DeleteObject forgets it. */
function fakeS3(options: { failGet?: Error; failDelete?: Error; chunk?: number; breakAfter?: number } = {}) {
  const objects = new Map<string, Buffer>();
  const deleted: string[] = [];
  const s3: StagingS3 = {
    send: async (command): Promise<StagedObjectOutput> => {
      const { Bucket, Key } = command.input;
      expect(Bucket).toBe(BUCKET);
      if (command instanceof DeleteObjectCommand) {
        deleted.push(Key!);
        if (options.failDelete) throw options.failDelete;
        objects.delete(Key!);
        return {};
      }
      expect(command).toBeInstanceOf(GetObjectCommand);
      if (options.failGet) throw options.failGet;
      const bytes = objects.get(Key!);
      if (!bytes) throw Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
      return { Body: chunks(bytes, options.chunk ?? 8, options.breakAfter), ContentType: 'application/pdf', ContentLength: bytes.length };
    },
  };
  return { s3, objects, deleted };
}

async function* chunks(bytes: Buffer, size: number, breakAfter?: number): AsyncGenerator<Uint8Array> {
  for (let at = 0, n = 0; at < bytes.length; at += size, n++) {
    if (breakAfter !== undefined && n >= breakAfter) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    yield bytes.subarray(at, at + size);
  }
}

const BYTES = Buffer.from('%PDF-1.4 twenty-odd bytes of a document');

/** A source whose fake AWS "downloads from Meta" by putting BYTES at the key it was given. */
function source(options: { s3?: ReturnType<typeof fakeS3>; answer?: (command: GetWhatsAppMessageMediaCommand) => Promise<Answer>; timeoutMs?: number } = {}) {
  const storage = options.s3 ?? fakeS3();
  const social = fakeSocial(
    options.answer ??
      (async (command) => {
        storage.objects.set(command.input.destinationS3File!.key!, BYTES);
        return { mimeType: 'application/pdf', fileSize: 1 };
      }),
  );
  const media = new SocialMessagingMediaSource({
    originationIds: { [NUMBER]: ORIGINATION },
    bucketName: BUCKET,
    stagingPrefix: 'media/staging/',
    client: social.client,
    s3: () => storage.s3,
    timeoutMs: options.timeoutMs ?? 2000,
  });
  return { media, social, storage };
}

async function collect(body: AsyncIterable<Uint8Array>): Promise<{ bytes: Buffer; count: number }> {
  const parts: Uint8Array[] = [];
  for await (const part of body) parts.push(part);
  return { bytes: Buffer.concat(parts), count: parts.length };
}

async function failure(promise: Promise<unknown>): Promise<MediaFetchError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MediaFetchError);
  return error as MediaFetchError;
}

describe('SocialMessagingMediaSource', () => {
  it('has AWS stage the media under the staging prefix, streams it back from S3, then deletes the copy', async () => {
    const { media, social, storage } = source();
    const download = await media.open({ mediaId: MEDIA_ID, phoneNumberId: NUMBER });

    expect(social.commands).toHaveLength(1);
    const input = social.commands[0]!.input;
    expect(input).toEqual({
      mediaId: MEDIA_ID,
      originationPhoneNumberId: ORIGINATION,
      destinationS3File: { bucketName: BUCKET, key: expect.stringMatching(new RegExp(`^media/staging/${MEDIA_ID}/[0-9a-f-]{36}$`)) },
      metadataOnly: false,
    });
    // fileSize in AWS's answer is KB: the exact size is the staged object's length.
    expect(download.info).toEqual({ mediaId: MEDIA_ID, mimeType: 'application/pdf', sha256: undefined, fileSize: BYTES.length });
    expect(storage.deleted).toEqual([]);

    const { bytes, count } = await collect(download.body);
    expect(bytes.equals(BYTES)).toBe(true);
    expect(count).toBeGreaterThan(1);
    expect(storage.deleted).toEqual([input.destinationS3File!.key]);
    expect(storage.objects.size).toBe(0);
  });

  it('uses a new staging key per attempt', async () => {
    const { media, social } = source();
    await collect((await media.open({ mediaId: MEDIA_ID, phoneNumberId: NUMBER })).body);
    await collect((await media.open({ mediaId: MEDIA_ID, phoneNumberId: NUMBER })).body);
    const keys = social.commands.map((c) => c.input.destinationS3File!.key);
    expect(new Set(keys).size).toBe(2);
  });

  it('deletes the copy when the caller stops reading early', async () => {
    const { media, storage } = source();
    const download = await media.open({ mediaId: MEDIA_ID, phoneNumberId: NUMBER });
    for await (const part of download.body) {
      expect(part.length).toBeGreaterThan(0);
      break;
    }
    expect(storage.deleted).toHaveLength(1);
  });

  it('a stream from S3 that breaks off is retry, and the copy is still deleted', async () => {
    const { media, storage } = source({ s3: fakeS3({ breakAfter: 2 }) });
    const download = await media.open({ mediaId: MEDIA_ID, phoneNumberId: NUMBER });
    const error = await failure(collect(download.body));
    expect(error.kind).toBe('retry');
    expect(error.message).toContain(MEDIA_ID);
    expect(error.message).toContain('broke off');
    expect(storage.deleted).toHaveLength(1);
  });

  it('a failed delete does not fail the fetch (the lifecycle rule removes the copy)', async () => {
    const { media } = source({ s3: fakeS3({ failDelete: new Error('AccessDenied') }) });
    const { bytes } = await collect((await media.open({ mediaId: MEDIA_ID, phoneNumberId: NUMBER })).body);
    expect(bytes.equals(BYTES)).toBe(true);
  });

  it('reading the staged copy: S3 failing is retry (and the copy is deleted), S3 denying access is refused', async () => {
    const failing = source({ s3: fakeS3({ failGet: Object.assign(new Error('We encountered an internal error.'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } }) }) });
    const error = await failure(failing.media.open({ mediaId: MEDIA_ID, phoneNumberId: NUMBER }));
    expect(error.kind).toBe('retry');
    expect(error.message).toContain('staged copy');
    expect(failing.storage.deleted).toHaveLength(1);

    const denied = source({ s3: fakeS3({ failGet: Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }) }) });
    expect((await failure(denied.media.open({ mediaId: MEDIA_ID, phoneNumberId: NUMBER }))).kind).toBe('refused');
  });

  it('AWS answering but nothing staged (no such key) is retry', async () => {
    const { media } = source({ answer: async () => ({ mimeType: 'application/pdf' }) });
    expect((await failure(media.open({ mediaId: MEDIA_ID, phoneNumberId: NUMBER }))).kind).toBe('retry');
  });

  it('a number without an origination id is refused without calling AWS', async () => {
    const { media, social } = source();
    const error = await failure(media.open({ mediaId: MEDIA_ID, phoneNumberId: '999' }));
    expect(error.kind).toBe('refused');
    expect(error.message).toContain('no AWS origination id');
    expect(social.commands).toHaveLength(0);
  });

  it('no answer from AWS within the timeout is retry', async () => {
    const { media } = source({
      answer: () => new Promise((_, reject) => setTimeout(() => reject(new Error('late')), 200)),
      timeoutMs: 20,
    });
    const error = await failure(media.open({ mediaId: MEDIA_ID, phoneNumberId: NUMBER }));
    expect(error.kind).toBe('retry');
    expect(error.message).toContain('within 20 ms');
  });

  it.each([
    ['ResourceNotFoundException', new ResourceNotFoundException({ message: 'Media not found', $metadata: { ...$metadata, httpStatusCode: 404 } }), 'gone'],
    ['ThrottledRequestException', new ThrottledRequestException({ message: 'Rate exceeded', $metadata: { ...$metadata, httpStatusCode: 429 } }), 'retry'],
    ['InternalServiceException', new InternalServiceException({ message: 'Internal error', $metadata: { ...$metadata, httpStatusCode: 500 } }), 'retry'],
    ['DependencyException', new DependencyException({ message: 'Meta did not answer', $metadata: { ...$metadata, httpStatusCode: 502 } }), 'retry'],
    ['AccessDeniedException', new AccessDeniedException({ message: 'not authorized to perform GetWhatsAppMessageMedia', $metadata: { ...$metadata, httpStatusCode: 403 } }), 'refused'],
    ['ValidationException', new ValidationException({ message: 'mediaId failed to satisfy constraint', $metadata }), 'refused'],
  ] as const)('%s is %s', async (_name, exception, kind) => {
    const { media } = source({ answer: () => Promise.reject(exception) });
    const error = await failure(media.open({ mediaId: MEDIA_ID, phoneNumberId: NUMBER }));
    expect(error.kind).toBe(kind);
    expect(error.message).toContain(MEDIA_ID);
    expect(error.message).toContain(exception.name);
  });

  it("maps Meta's 'object does not exist' relayed in an exception's text to gone, an unknown server fault or no answer to retry", () => {
    const relayed = new DependencyException({ message: "(#100) Unsupported get request. Object with ID '1013859600285441' does not exist", $metadata: { ...$metadata, httpStatusCode: 502 } });
    expect(awsMediaError(relayed, MEDIA_ID).kind).toBe('gone');
    expect(awsMediaError(Object.assign(new Error('boom'), { name: 'SomethingNew', $fault: 'server', $metadata: { httpStatusCode: 503 } }), MEDIA_ID).kind).toBe('retry');
    expect(awsMediaError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), MEDIA_ID).kind).toBe('retry');
    expect(awsMediaError(Object.assign(new Error('nope'), { name: 'SomethingNew', $fault: 'client', $metadata: { httpStatusCode: 400 } }), MEDIA_ID).kind).toBe('refused');
    // The media id in Meta's text is redacted; the message names it once, ours.
    expect(awsMediaError(relayed, MEDIA_ID).message).toBe(`media ${MEDIA_ID}: DependencyException: […] Unsupported get request. Object with ID […] does not exist`);
  });
});

describe('sha256Matches', () => {
  const bytes = Buffer.from('the bytes of a voice note');
  const digest = createHash('sha256').update(bytes).digest();
  const hex = digest.toString('hex');

  it("takes Meta's hex (any case) and the webhook's base64 (standard or URL-safe, padded or not)", () => {
    expect(sha256Matches(hex, hex)).toBe(true);
    expect(sha256Matches(hex.toUpperCase(), hex)).toBe(true);
    expect(sha256Matches(digest.toString('base64'), hex)).toBe(true);
    expect(sha256Matches(digest.toString('base64url'), hex)).toBe(true);
    expect(sha256Matches(` ${digest.toString('base64').replace(/=$/, '')} `, hex)).toBe(true);
  });

  it('other bytes, a shortened or garbled value do not match', () => {
    const other = createHash('sha256').update('other bytes').digest();
    expect(sha256Matches(other.toString('hex'), hex)).toBe(false);
    expect(sha256Matches(other.toString('base64'), hex)).toBe(false);
    expect(sha256Matches(hex.slice(0, 63), hex)).toBe(false);
    expect(sha256Matches('not a hash at all', hex)).toBe(false);
    expect(sha256Matches(hex, 'not hex')).toBe(false);
  });

  it('nothing expected is a match (a channel that gives no hash)', () => {
    expect(sha256Matches(undefined, hex)).toBe(true);
    expect(sha256Matches('', hex)).toBe(true);
  });

  it('sha256Hex normalises base64 to hex', () => {
    expect(sha256Hex(digest.toString('base64'))).toBe(hex);
    expect(sha256Hex('abc')).toBeUndefined();
  });
});
