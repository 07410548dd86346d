/**
 * MD-1, pure: inbound images become upright, metadata-free JPEGs under WhatsApp's 5 MB image
 * limit. Every input is made with sharp here: a noisy 12 MP photo (built once) that is far over
 * the limit, an EXIF-rotated photo with GPS, transparent PNG/WebP/GIF, an AVIF, a small clean
 * JPEG, and the inputs that must be refused (empty, truncated, random bytes, a PDF, a HEIC this
 * build cannot read, a 20000×20000 header).
 */
import { crc32 } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { compressImage, DEFAULT_IMAGE_SETTINGS, MediaError, MEDIA_LIMITS, qualityLadder, type ImageOutcome } from '#shared/media/image';

const JPEG_MAGIC = Buffer.from([0xff, 0xd8, 0xff]);

/** Deterministic bytes (xorshift32): tests never depend on chance. */
function pseudoRandomBytes(length: number, seed = 0x9e3779b9): Buffer {
  const bytes = Buffer.alloc(Math.ceil(length / 4) * 4);
  let state = seed >>> 0;
  for (let i = 0; i < bytes.length; i += 4) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes.writeUInt32LE(state >>> 0, i);
  }
  return bytes.subarray(0, length);
}

/** Photo-like RGB pixels: smooth gradients and waves plus per-pixel noise JPEG cannot squeeze away. */
function photoPixels(width: number, height: number, noise: number): Buffer {
  const pixels = pseudoRandomBytes(width * height * 3);
  const column = Float32Array.from({ length: width }, (_, x) => Math.sin((x / width) * 17) * 40 + (x / width) * 120);
  const row = Float32Array.from({ length: height }, (_, y) => Math.cos((y / height) * 23) * 30 + (y / height) * 90);
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const base = column[x]! + row[y]!;
      for (let channel = 0; channel < 3; channel++, i++) {
        const value = 40 + base * (0.6 + channel * 0.2) + ((pixels[i]! - 128) * noise) / 128;
        pixels[i] = value < 0 ? 0 : value > 255 ? 255 : value;
      }
    }
  }
  return pixels;
}

async function rawOf(bytes: Buffer) {
  return sharp(bytes).raw().toBuffer({ resolveWithObject: true });
}

function pixelAt(image: { data: Buffer; info: { width: number; channels: number } }, x: number, y: number): number[] {
  const at = (y * image.info.width + x) * image.info.channels;
  return [...image.data.subarray(at, at + 3)];
}

function expectStoredJpeg(outcome: ImageOutcome, maxBytes = DEFAULT_IMAGE_SETTINGS.maxBytes) {
  expect(outcome.state).toBe('stored');
  expect(outcome.contentType).toBe('image/jpeg');
  expect(outcome.bytes.subarray(0, 3).equals(JPEG_MAGIC)).toBe(true);
  expect(outcome.bytes.length).toBeLessThanOrEqual(maxBytes);
}

async function refusal(input: Buffer, mimeType = 'image/jpeg'): Promise<MediaError> {
  const error = await compressImage(input, mimeType).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(MediaError);
  return error as MediaError;
}

describe('compressImage: a 12 MP photo over the limit', () => {
  let photo: Buffer;

  beforeAll(async () => {
    photo = await sharp(photoPixels(4000, 3000, 64), { raw: { width: 4000, height: 3000, channels: 3 } }).jpeg({ quality: 100 }).toBuffer();
  });

  it('is over 5 MB as it comes (quality 100), so it must step', () => {
    expect(photo.length).toBeGreaterThan(MEDIA_LIMITS.image);
  });

  it('is stored as a JPEG under 5,000,000 bytes at its full 4000×3000, quality stepped down only as needed', async () => {
    const outcome = await compressImage(photo, 'image/jpeg');
    expectStoredJpeg(outcome);
    expect(outcome.bytes.length).toBeLessThan(5_000_000);
    expect([outcome.width, outcome.height]).toEqual([4000, 3000]);
    expect(outcome.recompressed).toBe(true);
    expect(outcome.quality).toBeLessThan(90);
    expect(outcome.quality).toBeGreaterThanOrEqual(50);
    expect(outcome.steps).toBeGreaterThanOrEqual(1);
    const stored = await sharp(outcome.bytes).metadata();
    expect([stored.format, stored.width, stored.height]).toEqual(['jpeg', 4000, 3000]);
    // The rung above the one chosen does not fit (the ladder goes by 5): nothing was given away.
    const above = await sharp(photo).jpeg({ quality: outcome.quality! + 5, optimiseCoding: false }).toBuffer();
    expect(above.length).toBeGreaterThan(5_000_000);
  });

  it('steps the longest side down, aspect ratio kept, when even the quality floor does not fit', async () => {
    const outcome = await compressImage(photo, 'image/jpeg', { maxBytes: 1_000_000 });
    expectStoredJpeg(outcome, 1_000_000);
    expect(outcome.quality).toBe(50);
    expect(outcome.width).toBeLessThan(4000);
    expect(Math.max(outcome.width, outcome.height)).toBeGreaterThanOrEqual(1280);
    expect(Math.abs(outcome.width * 3 - outcome.height * 4)).toBeLessThanOrEqual(4);
  });

  it('keeps the smallest attempt, flagged too_large, when nothing fits at the floor quality and side', async () => {
    const outcome = await compressImage(photo, 'image/jpeg', { maxBytes: 20_000 });
    expect(outcome.state).toBe('too_large');
    if (outcome.state !== 'too_large') return;
    expect(outcome.bytes.subarray(0, 3).equals(JPEG_MAGIC)).toBe(true);
    expect([outcome.width, outcome.height]).toEqual([1280, 960]);
    expect(outcome.quality).toBe(50);
    expect(outcome.bytes.length).toBeGreaterThan(20_000);
    expect(outcome.reason).toMatch(/^even at quality 50 and 1280×960 the JPEG is \d+ bytes, more than the 20000 allowed/);
  });
});

describe('compressImage: geometry, orientation, metadata', () => {
  it('caps the longest side at 4096 and keeps the aspect ratio', async () => {
    const wide = await sharp({ create: { width: 6000, height: 1000, channels: 3, background: '#3a6f9c' } }).png().toBuffer();
    const outcome = await compressImage(wide, 'image/png');
    expectStoredJpeg(outcome);
    expect([outcome.width, outcome.height]).toEqual([4096, 683]);
  });

  it('never enlarges a small image', async () => {
    const small = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#808080' } }).png().toBuffer();
    const outcome = await compressImage(small, 'image/png');
    expect([outcome.width, outcome.height]).toEqual([300, 200]);
  });

  it('stores an EXIF orientation 6 photo upright (400×200 → 200×400) with EXIF and GPS gone', async () => {
    // Left half red, right half blue; orientation 6 means "turn 90° clockwise to view": red on top.
    const pixels = Buffer.alloc(400 * 200 * 3);
    for (let i = 0; i < 400 * 200; i++) pixels.set((i % 400) < 200 ? [255, 0, 0] : [0, 0, 255], i * 3);
    const rotated = await sharp(pixels, { raw: { width: 400, height: 200, channels: 3 } })
      .jpeg({ quality: 90 })
      .withMetadata({ orientation: 6 })
      .withExifMerge({ IFD0: { Artist: 'customer-name' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '22/1 16/1 42/1', GPSLongitudeRef: 'E', GPSLongitude: '114/1 10/1 9/1' } })
      .toBuffer();
    const input = await sharp(rotated).metadata();
    expect(input.orientation).toBe(6);
    expect(input.exif?.includes(Buffer.from([0x25, 0x88]))).toBe(true); // GPS IFD pointer tag 0x8825

    const outcome = await compressImage(rotated, 'image/jpeg');
    expectStoredJpeg(outcome);
    expect([outcome.width, outcome.height]).toEqual([200, 400]);
    const stored = await sharp(outcome.bytes).metadata();
    expect([stored.width, stored.height]).toEqual([200, 400]);
    expect(stored.exif).toBeUndefined();
    expect(stored.xmp).toBeUndefined();
    expect(stored.iptc).toBeUndefined();
    expect(stored.orientation ?? 1).toBe(1);
    const image = await rawOf(outcome.bytes);
    const [top, bottom] = [pixelAt(image, 100, 20), pixelAt(image, 100, 380)];
    expect(top[0]).toBeGreaterThan(200);
    expect(top[2]).toBeLessThan(60);
    expect(bottom[2]).toBeGreaterThan(200);
    expect(bottom[0]).toBeLessThan(60);
  });

  it('re-encodes a small upright JPEG that carries GPS (privacy wins), at no more than its own quality', async () => {
    const withGps = await sharp(photoPixels(640, 480, 24), { raw: { width: 640, height: 480, channels: 3 } })
      .jpeg({ quality: 80 })
      .withExif({ IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '22/1 16/1 42/1' } })
      .toBuffer();
    expect((await sharp(withGps).metadata()).exif).toBeDefined();
    const outcome = await compressImage(withGps, 'image/jpeg');
    expectStoredJpeg(outcome);
    expect(outcome.recompressed).toBe(true);
    expect(outcome.quality).toBe(80);
    expect((await sharp(outcome.bytes).metadata()).exif).toBeUndefined();
  });

  it('stores an already small, upright, metadata-free JPEG exactly as it came', async () => {
    const small = await sharp(photoPixels(800, 600, 24), { raw: { width: 800, height: 600, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
    const outcome = await compressImage(small, 'image/jpeg');
    expect(outcome).toMatchObject({ state: 'stored', recompressed: false, steps: 0, width: 800, height: 600, source: 'jpeg' });
    expect(outcome.quality).toBeUndefined();
    expect(outcome.bytes.equals(small)).toBe(true);
  });
});

describe('compressImage: other formats', () => {
  /** 64×64 fully transparent, with an opaque red 16×16 square in the middle. */
  function transparentPixels(): Buffer {
    const pixels = Buffer.alloc(64 * 64 * 4);
    for (let y = 24; y < 40; y++) for (let x = 24; x < 40; x++) pixels.set([255, 0, 0, 255], (y * 64 + x) * 4);
    return pixels;
  }

  it.each([
    ['PNG', 'image/png', (image: Sharp) => image.png()],
    ['WebP', 'image/webp', (image: Sharp) => image.webp({ lossless: true })],
  ])('flattens a transparent %s on white', async (_label, mimeType, encode) => {
    const input = await encode(sharp(transparentPixels(), { raw: { width: 64, height: 64, channels: 4 } })).toBuffer();
    const outcome = await compressImage(input, mimeType);
    expectStoredJpeg(outcome);
    const image = await rawOf(outcome.bytes);
    expect(image.info.channels).toBe(3);
    for (const value of pixelAt(image, 2, 2)) expect(value).toBeGreaterThanOrEqual(250);
    const centre = pixelAt(image, 32, 32);
    expect(centre[0]).toBeGreaterThan(200);
    expect(centre[1]).toBeLessThan(60);
  });

  it('keeps the first frame of an animated GIF', async () => {
    const frames = Buffer.alloc(40 * 60 * 4);
    for (let i = 0; i < 40 * 60; i++) frames.set(i < 40 * 30 ? [255, 0, 0, 255] : [0, 0, 255, 255], i * 4);
    const gif = await sharp(frames, { raw: { width: 40, height: 60, channels: 4, pageHeight: 30 } }).gif().toBuffer();
    expect((await sharp(gif).metadata()).pages).toBe(2);
    const outcome = await compressImage(gif, 'image/gif');
    expectStoredJpeg(outcome);
    expect([outcome.width, outcome.height, outcome.source]).toEqual([40, 30, 'gif']);
    const centre = pixelAt(await rawOf(outcome.bytes), 20, 15);
    expect(centre[0]).toBeGreaterThan(200);
    expect(centre[2]).toBeLessThan(60);
  });

  it('reads AVIF (this sharp build decodes HEIF with AV1, not HEVC)', async () => {
    const avif = await sharp({ create: { width: 120, height: 80, channels: 3, background: '#20a040' } }).avif().toBuffer();
    const outcome = await compressImage(avif, 'image/avif');
    expectStoredJpeg(outcome);
    expect([outcome.width, outcome.height, outcome.source]).toEqual([120, 80, 'heif']);
  });

  it('refuses a HEIC it cannot decode, saying so', async () => {
    const heic = Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypheic\0\0\0\0mif1heic', 'latin1'), Buffer.alloc(64)]);
    const error = await refusal(heic, 'image/heic');
    expect(error.code).toBe('unsupported_format');
    expect(error.reason).toMatch(/^the HEIC image could not be decoded \(this sharp build reads AVIF, not HEVC-coded HEIC\): /);
    expect(error.permanent).toBe(true);
  });
});

describe('compressImage: input that is refused', () => {
  let valid: Buffer;

  beforeAll(async () => {
    valid = await sharp(photoPixels(1200, 900, 24), { raw: { width: 1200, height: 900, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
  });

  /** A PNG whose header says 20000×20000 (4e8 pixels) around a 1-pixel image: cheap to make, a bomb to decode. */
  async function bombPng(): Promise<Buffer> {
    const png = Buffer.from(await sharp({ create: { width: 1, height: 1, channels: 3, background: '#fff' } }).png().toBuffer());
    png.writeUInt32BE(20_000, 16);
    png.writeUInt32BE(20_000, 20);
    png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
    return png;
  }

  it('zero bytes', async () => {
    const error = await refusal(Buffer.alloc(0));
    expect([error.code, error.reason, error.permanent]).toEqual(['empty', 'the image is empty (0 bytes)', true]);
  });

  it('a truncated JPEG (the first half of a valid one), small enough to be stored as it came', async () => {
    const error = await refusal(valid.subarray(0, valid.length >> 1));
    expect(error.code).toBe('corrupt');
    expect(error.reason).toMatch(/^the image is truncated or corrupt: .*premature end of JPEG/);
    expect(error.permanent).toBe(true);
  });

  it('a truncated JPEG that would be recompressed (EXIF-rotated)', async () => {
    const rotated = await sharp(valid).withMetadata({ orientation: 6 }).jpeg({ quality: 90 }).toBuffer();
    const error = await refusal(rotated.subarray(0, rotated.length >> 1));
    expect(error.code).toBe('corrupt');
    expect(error.reason).toMatch(/^the image is truncated or corrupt: .*premature end of JPEG/);
  });

  it('a truncated PNG', async () => {
    const png = await sharp(valid).png().toBuffer();
    const error = await refusal(png.subarray(0, png.length >> 1), 'image/png');
    expect(error.code).toBe('corrupt');
    expect(error.reason).toMatch(/^the image is truncated or corrupt: /);
  });

  it('random bytes', async () => {
    const error = await refusal(pseudoRandomBytes(4096, 42));
    expect(error.code).toBe('not_an_image');
    expect(error.reason).toMatch(/^the file is not a JPEG, PNG, WebP, GIF, HEIC or AVIF image: it looks like data starting with [0-9a-f ]+ \(declared as image\/jpeg\)$/);
    expect(error.permanent).toBe(true);
  });

  it('a PDF', async () => {
    const error = await refusal(Buffer.from('%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n'), 'application/pdf');
    expect(error.code).toBe('not_an_image');
    expect(error.reason).toBe('the file is not a JPEG, PNG, WebP, GIF, HEIC or AVIF image: it looks like a PDF document (declared as application/pdf)');
  });

  it('a decompression bomb (20000×20000), from its header alone', async () => {
    const bomb = await bombPng();
    expect(bomb.length).toBeLessThan(200);
    const error = await refusal(bomb, 'image/png');
    expect(error.code).toBe('too_many_pixels');
    expect(error.reason).toBe('the image has 400000000 pixels (20000×20000), more than the 100000000 allowed');
    expect(error.permanent).toBe(true);
  });

  it('an image over a lower pixel limit', async () => {
    const error = await compressImage(valid, 'image/jpeg', { limitInputPixels: 1_000_000 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MediaError);
    expect((error as MediaError).reason).toBe('the image has 1080000 pixels (1200×900), more than the 1000000 allowed');
  });

  it('impossible settings are a RangeError, not a MediaError', async () => {
    await expect(compressImage(valid, 'image/jpeg', { minSide: 5000 })).rejects.toThrow(RangeError);
    await expect(compressImage(valid, 'image/jpeg', { minQuality: 95 })).rejects.toThrow(RangeError);
    await expect(compressImage(valid, 'image/jpeg', { maxBytes: 0 })).rejects.toThrow(RangeError);
  });
});

describe('qualityLadder', () => {
  it('goes from the start quality down by 5 to the floor', () => {
    expect(qualityLadder(90, 50)).toEqual([90, 85, 80, 75, 70, 65, 60, 55, 50]);
  });

  it('is capped at the source JPEG quality, then continues on multiples of 5', () => {
    expect(qualityLadder(90, 50, 88)).toEqual([88, 85, 80, 75, 70, 65, 60, 55, 50]);
    expect(qualityLadder(90, 50, 97)).toEqual([90, 85, 80, 75, 70, 65, 60, 55, 50]);
  });

  it('never goes below the floor, which is always a rung', () => {
    expect(qualityLadder(90, 50, 30)).toEqual([50]);
    expect(qualityLadder(90, 52)).toEqual([90, 85, 80, 75, 70, 65, 60, 55, 52]);
  });
});

describe('MEDIA_LIMITS', () => {
  it('are WhatsApp Cloud API media size limits, in (decimal) bytes', () => {
    expect(MEDIA_LIMITS).toEqual({ image: 5_000_000, video: 16_000_000, audio: 16_000_000, document: 100_000_000, sticker: { static: 100_000, animated: 500_000 } });
    expect(DEFAULT_IMAGE_SETTINGS.maxBytes).toBe(MEDIA_LIMITS.image);
  });
});
