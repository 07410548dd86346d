/**
 * The media function against the local table and S3 (MD-1), with a WhatsApp media source that
 * plays Meta's answers: what each kind of media becomes in S3 and on its message row, and what a
 * corrupt image, a media id Meta no longer has, a damaged download and a repeated job do.
 */
import { createHash } from 'node:crypto';
import type { SQSRecord } from 'aws-lambda';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMediaApp } from '#functions/media/app';
import { MEDIA_QUEUE } from '#shared/resources';
import { createRuntime, type Runtime } from '#shared/runtime';
import type { MediaWork } from '#shared/store/media';
import { MediaFetchError, type MediaDownload, type WhatsAppMediaSource } from '#shared/whatsapp/media';
import { startLocalServices, type LocalServices } from '#local/services';

let services: LocalServices;
let runtime: Runtime;
let photo: Buffer;
let png: Buffer;
beforeAll(async () => {
  services = await startLocalServices({});
  runtime = await createRuntime({ ...services.env, WHATSAPP_APP_SECRET: 'media-secret', WHATSAPP_VERIFY_TOKEN: 'media-token' }, services.overrides);
  // A 12 MP photo as a phone takes it: noisy, sideways (EXIF orientation 6), with GPS.
  const noise = Buffer.alloc(4000 * 3000 * 3);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
  photo = await sharp(noise, { raw: { width: 4000, height: 3000, channels: 3 } })
    .withMetadata({ orientation: 6 })
    .withExifMerge({ IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '22/1 17/1 0/1', GPSLongitudeRef: 'E', GPSLongitude: '114/1 10/1 0/1' } })
    .jpeg({ quality: 98 })
    .toBuffer();
  png = await sharp({ create: { width: 600, height: 400, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0 } } }).png().toBuffer();
}, 60_000);
afterAll(async () => {
  await runtime.bucket?.destroy();
  await services.stop();
});

const T0 = Date.UTC(2026, 11, 2, 9);
let n = 0;
const hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Meta as a media source: per media id, its bytes (and what to say about them). */
function meta(files: Record<string, { bytes?: Buffer; mimeType: string; sha256?: string; error?: MediaFetchError; failTimes?: number; chunk?: number }>) {
  const opened: string[] = [];
  const source: WhatsAppMediaSource = {
    async open({ mediaId }): Promise<MediaDownload> {
      opened.push(mediaId);
      const file = files[mediaId];
      if (!file) throw new MediaFetchError('gone', `(#100) Unsupported get request. Object with ID '${mediaId}' does not exist`, 400);
      if (file.error && (file.failTimes ?? Infinity) > 0) {
        if (file.failTimes !== undefined) file.failTimes--;
        throw file.error;
      }
      const bytes = file.bytes!;
      const chunk = file.chunk ?? 64 * 1024;
      async function* body() {
        for (let i = 0; i < bytes.length; i += chunk) yield bytes.subarray(i, i + chunk);
      }
      return { info: { mediaId, mimeType: file.mimeType, sha256: file.sha256 ?? hex(bytes), fileSize: bytes.length }, body: body() };
    },
  };
  return { source, opened };
}

async function messageWithMedia(kind: string, mimeType: string): Promise<MediaWork> {
  const i = ++n;
  const wamid = `wamid.media-${i}`;
  const contactId = `ct_media_${i}`;
  const work: MediaWork = { wamid, contactId, phoneNumberId: '106540352242922', mediaId: `${1013859600285441 + i}`, kind, mimeType, sentAt: T0, receivedAt: T0 + 1000 };
  await runtime.store.messages.put({ wamid, contactId, direction: 'inbound', phoneNumberId: work.phoneNumberId, wabaId: '102290129340398', type: kind, knownType: true, summary: `[${kind}]`, media: { kind, mediaId: work.mediaId, mimeType }, sentAt: T0, receivedAt: T0 + 1000 });
  await runtime.store.media.queue(work);
  return work;
}

const record = (work: MediaWork, receives = 1): SQSRecord =>
  ({ messageId: `m-${work.wamid}-${receives}`, body: JSON.stringify({ v: 1, wamid: work.wamid, contactId: work.contactId }), attributes: { ApproximateReceiveCount: String(receives) } }) as unknown as SQSRecord;

function app(source: WhatsAppMediaSource, deadLetters: { body: string; reason: string }[] = []) {
  return createMediaApp({
    store: runtime.store,
    source: () => source,
    bucket: runtime.bucket!,
    now: Date.now,
    deadLetters: { send: async (body, reason) => void deadLetters.push({ body, reason }) },
    logger: { info: () => {}, warn: () => {}, error: () => {} },
  });
}

async function stored(key: string): Promise<Buffer> {
  const object = await runtime.bucket!.getObject(key);
  expect(object).toBeDefined();
  const chunks: Uint8Array[] = [];
  for await (const c of object!.body) chunks.push(c);
  return Buffer.concat(chunks);
}

describe('media kept in S3', () => {
  it('a 12 MP photo becomes an upright JPEG under 5 MB without EXIF or GPS, linked from its message', async () => {
    const work = await messageWithMedia('image', 'image/jpeg');
    const { source } = meta({ [work.mediaId]: { bytes: photo, mimeType: 'image/jpeg' } });
    await app(source).handleRecord(record(work));
    const media = (await runtime.store.messages.get(work.wamid))!.media!;
    expect(media).toMatchObject({ state: 'stored', contentType: 'image/jpeg', sha256: hex(photo), width: 3000, height: 4000 });
    expect(media.s3Key).toBe(`media/${work.contactId}/2026-12/${work.wamid}.jpg`);
    const bytes = await stored(media.s3Key!);
    expect(bytes.length).toBe(media.bytes);
    expect(bytes.length).toBeLessThan(5_000_000);
    const meta2 = await sharp(bytes).metadata();
    expect(meta2).toMatchObject({ format: 'jpeg', width: 3000, height: 4000 });
    expect(meta2.exif).toBeUndefined();
    expect(await runtime.store.media.get(work.wamid)).toBeUndefined();
  }, 30_000);

  it('a transparent PNG is stored as a JPEG on white', async () => {
    const work = await messageWithMedia('image', 'image/png');
    const { source } = meta({ [work.mediaId]: { bytes: png, mimeType: 'image/png' } });
    await app(source).handleRecord(record(work));
    const media = (await runtime.store.messages.get(work.wamid))!.media!;
    expect(media).toMatchObject({ state: 'stored', contentType: 'image/jpeg', width: 600, height: 400 });
    const { data } = await sharp(await stored(media.s3Key!)).raw().toBuffer({ resolveWithObject: true });
    expect([data[0], data[1], data[2]].every((c) => c! > 245)).toBe(true);
  });

  it('a voice note and a PDF stream into S3 as they came, with their type and hash', async () => {
    const voice = Buffer.concat([Buffer.from('OggS'), Buffer.alloc(300_000, 7)]);
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
    const a = await messageWithMedia('audio', 'audio/ogg; codecs=opus');
    const b = await messageWithMedia('document', 'application/pdf');
    const { source } = meta({ [a.mediaId]: { bytes: voice, mimeType: 'audio/ogg; codecs=opus', chunk: 10_000 }, [b.mediaId]: { bytes: pdf, mimeType: 'application/pdf' } });
    await app(source).handleRecord(record(a));
    await app(source).handleRecord(record(b));
    const va = (await runtime.store.messages.get(a.wamid))!.media!;
    const vb = (await runtime.store.messages.get(b.wamid))!.media!;
    expect(va).toMatchObject({ state: 'stored', bytes: voice.length, contentType: 'audio/ogg; codecs=opus', sha256: hex(voice) });
    expect(va.s3Key).toMatch(/\.ogg$/);
    expect((await stored(va.s3Key!)).equals(voice)).toBe(true);
    expect(vb).toMatchObject({ state: 'stored', bytes: pdf.length, contentType: 'application/pdf' });
    expect((await stored(vb.s3Key!)).equals(pdf)).toBe(true);
  });

  it('a video over WhatsApp\'s 16 MB is kept, flagged too_large with its reason', async () => {
    const big = Buffer.alloc(16_000_001, 1);
    const work = await messageWithMedia('video', 'video/mp4');
    const { source } = meta({ [work.mediaId]: { bytes: big, mimeType: 'video/mp4', chunk: 1 << 20 } });
    await app(source).handleRecord(record(work));
    const media = (await runtime.store.messages.get(work.wamid))!.media!;
    expect(media).toMatchObject({ state: 'too_large', bytes: 16_000_001 });
    expect(media.reason).toMatch(/over WhatsApp's 16000000-byte limit for video/);
    expect((await runtime.bucket!.getObject(media.s3Key!))?.contentLength).toBe(16_000_001);
  }, 30_000);
});

describe('media that cannot be kept, and media that can wait', () => {
  it('a corrupt image fails with its reason into the DLQ; the other job of the batch is stored', async () => {
    const bad = await messageWithMedia('image', 'image/jpeg');
    const good = await messageWithMedia('image', 'image/png');
    const { source } = meta({ [bad.mediaId]: { bytes: photo.subarray(0, 20_000), mimeType: 'image/jpeg' }, [good.mediaId]: { bytes: png, mimeType: 'image/png' } });
    const dlq: { body: string; reason: string }[] = [];
    const answer = await app(source, dlq).handleQueue({ Records: [record(bad), record(good)] });
    expect(answer.batchItemFailures).toEqual([]);
    const failed = (await runtime.store.messages.get(bad.wamid))!.media!;
    expect(failed.state).toBe('failed');
    expect(failed.reason).toMatch(/truncated or corrupt/);
    expect(dlq).toEqual([{ body: record(bad).body, reason: failed.reason }]);
    expect((await runtime.store.messages.get(good.wamid))!.media!.state).toBe('stored');
    // Parked for a redrive, out of the sweep's way.
    expect(await runtime.store.media.pending(Date.now() + 3_600_000, 100)).not.toContainEqual(expect.objectContaining({ wamid: bad.wamid }));
    expect(await runtime.store.media.markRedriven(bad.wamid, Date.now())).toBe(true);
  });

  it('a media id Meta no longer has (Graph 404) fails at once, naming the 7 days', async () => {
    const work = await messageWithMedia('document', 'application/pdf');
    const { source } = meta({});
    const dlq: { body: string; reason: string }[] = [];
    await app(source, dlq).handleRecord(record(work));
    expect((await runtime.store.messages.get(work.wamid))!.media).toMatchObject({ state: 'failed', reason: expect.stringMatching(/no longer has media .* expire after 7 days/) });
    expect(dlq).toHaveLength(1);
  });

  it('a download whose sha256 is not Meta\'s is retried after the visibility timeout, then stored', async () => {
    const work = await messageWithMedia('document', 'application/pdf');
    const pdf = Buffer.from('%PDF-1.4\nthe real one\n%%EOF\n');
    const files = { [work.mediaId]: { bytes: pdf, mimeType: 'application/pdf', sha256: hex(Buffer.from('something else')) } };
    const { source } = meta(files);
    await expect(app(source).handleRecord(record(work, 1))).rejects.toThrow(/sha256 .* is not Meta's/);
    const pending = await runtime.store.media.get(work.wamid);
    expect(pending).toMatchObject({ attempts: 1, lastError: expect.stringMatching(/damaged in transit/) });
    // The damaged object was removed; the row still says nothing is stored.
    expect((await runtime.store.messages.get(work.wamid))!.media!.state).toBeUndefined();
    files[work.mediaId]!.sha256 = hex(pdf);
    await app(source).handleRecord(record(work, 2));
    expect((await runtime.store.messages.get(work.wamid))!.media!.state).toBe('stored');
  });

  it('Meta failing on every receive: the last one records the media failed and lets SQS move it to the DLQ', async () => {
    const work = await messageWithMedia('image', 'image/jpeg');
    const { source } = meta({ [work.mediaId]: { mimeType: 'image/jpeg', error: new MediaFetchError('retry', 'Graph API answered 503') } });
    for (let receive = 1; receive < MEDIA_QUEUE.maxReceiveCount; receive++) await expect(app(source).handleRecord(record(work, receive))).rejects.toThrow(/503/);
    expect((await runtime.store.messages.get(work.wamid))!.media!.state).toBeUndefined();
    await expect(app(source).handleRecord(record(work, MEDIA_QUEUE.maxReceiveCount))).rejects.toThrow(/503/);
    expect((await runtime.store.messages.get(work.wamid))!.media).toMatchObject({ state: 'failed', reason: expect.stringMatching(/gave up after 4 attempts: Graph API answered 503/) });
  });

  it('a job delivered again after its media is stored does nothing', async () => {
    const work = await messageWithMedia('document', 'application/pdf');
    const { source, opened } = meta({ [work.mediaId]: { bytes: Buffer.from('%PDF-1.4\n%%EOF\n'), mimeType: 'application/pdf' } });
    await app(source).handleRecord(record(work));
    await app(source).handleRecord(record(work));
    expect(opened).toEqual([work.mediaId]);
  });

  it('a job that is not ours is dropped, not retried forever', async () => {
    const { source } = meta({});
    const answer = await app(source).handleQueue({ Records: [{ messageId: 'junk', body: '{"hello":1}', attributes: { ApproximateReceiveCount: '1' } } as unknown as SQSRecord] });
    expect(answer.batchItemFailures).toEqual([]);
  });
});
