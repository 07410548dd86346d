/**
 * Inbound WhatsApp images (MD-1): every image is stored as an upright, metadata-free JPEG of at
 * most `maxBytes` (5,000,000 bytes, WhatsApp's own image limit, so a stored image can always be
 * sent on) with its longest side at most `maxSide` (4096 px). Pure: bytes in, bytes out, no AWS.
 *
 * Decisions, measured with bench/media-image.ts on a 12 MP (4000×3000) photo-like image:
 *
 * - What reaches libvips. Only bytes that start like a JPEG, PNG, GIF, WebP or HEIF (HEIC/AVIF)
 *   are handed to sharp; anything else (a PDF, a ZIP, an SVG, random bytes) is refused by its magic
 *   bytes, so libvips' other loaders (SVG, PDF, TIFF, …) never parse untrusted input here. The
 *   declared MIME type is only quoted in errors: the bytes decide.
 * - Decompression bombs. The header is read first (sharp `metadata()`, no pixels decoded) and an
 *   image whose width × height exceeds `limitInputPixels` is refused with its pixel count; every
 *   decoding pipeline also gets `limitInputPixels`, sharp's own guard.
 * - Damaged input. Decoders run with `failOn: 'error'`: a truncated or undecodable image is
 *   refused (`MediaError`, permanent), never stored half-grey. Warnings (sharp's default level)
 *   are tolerated on purpose: libjpeg warns about damage it decodes through (extraneous bytes before
 *   a marker, a bad Huffman code — measured: still decoded), and refusing those would lose a
 *   customer's photo over a blemish.
 * - Orientation and metadata. `rotate()` applies the EXIF orientation, so the stored pixels are
 *   upright; sharp writes no metadata unless asked (no `keepExif`/`withMetadata` here), so EXIF,
 *   GPS, XMP and IPTC are gone, and colour is converted to sRGB. Transparency (PNG, WebP, GIF) is
 *   flattened on white. Animated GIF/WebP keep their first frame.
 * - Stored as it came. A JPEG already under `maxBytes` and `maxSide`, upright (orientation absent
 *   or 1), in sRGB or grey, with no EXIF, XMP or IPTC, is stored byte for byte once a cheap 1/8-scale
 *   decode (which still reads the whole entropy-coded stream) shows it is not truncated.
 * - A small JPEG WITH EXIF (GPS, camera serial, …) is re-encoded: privacy wins over the tiny
 *   generation loss. sharp cannot strip metadata losslessly (every output is an encode), and a
 *   hand-written JPEG segment stripper would be a second parser to trust with customers'
 *   locations. The re-encode is at most the source's own quality (below).
 * - Quality ladder. JPEG quality starts at `startQuality` (90), capped at the source JPEG's own
 *   quality (estimated from its luminance quantisation table: re-encoding above it adds bytes, not
 *   detail), and steps down by 5 to `minQuality` (50). The stored image is encoded at the highest
 *   rung that fits. Only when the floor does not fit at `maxSide` does the longest side step down
 *   (estimated from the floor's size, bytes ∝ pixels), never below `minSide` (or the input's own
 *   side when smaller). If even that does not fit, the smallest attempt is kept as `too_large`:
 *   a customer's image is flagged, never dropped.
 * - Few encodes. One plain decode+encode is the budget (goal ≤ 1.3× of it), so the first attempt
 *   streams straight from the input (decode, rotate, resize and encode in one libvips pipeline)
 *   at a quality predicted from the source: for a JPEG, its size, its quantisation table and the
 *   pixels kept (a requantisation model, bytes ∝ (step ratio)^-0.5 × (pixel ratio)^0.75); for
 *   other formats the top rung. For the bench photo (6.8 MB, quality 95) that first attempt is the
 *   answer: one encode, ≈ 1.0× a plain encode with the same encoder setting. Otherwise the input is
 *   decoded once into raw, upright, resized pixels and every further attempt encodes from those
 *   (no second decode), choosing the next quality from the sizes measured so far (a log-log
 *   secant between the nearest two). Over 30 synthetic photos (12 and 27 MP, noise 4–64, JPEG
 *   85–98 and PNG) this found the highest fitting rung every time, in 1–4 encodes.
 * - Encoder settings. Baseline JPEG, 4:2:0, `optimiseCoding: false`: Huffman optimisation makes
 *   libjpeg keep the whole image's coefficients for a second pass; on the 12 MP photo at quality 90
 *   it measured 221 → 106 ms (median of 15) without it, for 4.8 % more bytes. mozjpeg (trellis
 *   quantisation, optimised progressive scans, another quantisation table) measured 10× slower
 *   (1.49 s against 0.14 s for the plain encode): not affordable under a 1.3× budget, whatever it
 *   saves. Progressive: 2.3× slower for 5.7 % fewer bytes: no.
 * - sharp globals are left alone: `sharp.concurrency(2)` measured slower, not faster (a JPEG decode
 *   and a JPEG encode are each single-threaded and libvips already overlaps them in one pipeline;
 *   sharp's default of 1 thread on glibc also limits memory fragmentation), and the libvips
 *   operation cache held 0 MB after the runs, `sharp.cache(false)` changing neither time nor memory.
 * - HEIC: sharp's prebuilt libheif decodes AVIF but not HEVC-coded HEIC (patents), so a HEIC is
 *   refused with that reason (permanent). WhatsApp's image type only carries JPEG and PNG.
 */
import sharp from 'sharp';
import type { Channels, Metadata, OutputInfo, Sharp, SharpOptions } from 'sharp';
import { MEDIA_LIMITS } from './limits.ts';

export { MEDIA_LIMITS } from './limits.ts';

export interface ImageSettings {
  /** Largest stored file, in bytes. Default: WhatsApp's image limit, 5,000,000. */
  readonly maxBytes: number;
  /** Longest side of the stored image, in pixels (aspect ratio kept, never enlarged). Default 4096. */
  readonly maxSide: number;
  /** Smallest longest side the size steps may go down to (a smaller input is never scaled). Default 1280. */
  readonly minSide: number;
  /** Largest width × height decoded; more is refused unread (decompression bombs). Default 100 MP. */
  readonly limitInputPixels: number;
  /** First and highest JPEG quality. Default 90. */
  readonly startQuality: number;
  /** Lowest JPEG quality before the longest side steps down. Default 50. */
  readonly minQuality: number;
}

export const DEFAULT_IMAGE_SETTINGS: ImageSettings = Object.freeze({
  maxBytes: MEDIA_LIMITS.image,
  maxSide: 4096,
  minSide: 1280,
  limitInputPixels: 100_000_000,
  startQuality: 90,
  minQuality: 50,
});

/** The decoder that read the input (sharp's name: 'heif' covers HEIC and AVIF). */
export type ImageFormat = 'jpeg' | 'png' | 'gif' | 'webp' | 'heif';

interface ImageResult {
  /** The JPEG to store. */
  readonly bytes: Buffer;
  readonly contentType: 'image/jpeg';
  readonly width: number;
  readonly height: number;
  /** JPEG quality of the encode kept; absent when the input is stored as it came. */
  readonly quality?: number;
  /** false: `bytes` are the input itself (already a small, upright, metadata-free JPEG). */
  readonly recompressed: boolean;
  /** JPEG encodes performed (0 when stored as it came). */
  readonly steps: number;
  readonly source: ImageFormat;
}

/** Stored: at most `maxBytes`, longest side at most `maxSide`. */
export interface StoredImage extends ImageResult {
  readonly state: 'stored';
}

/** Could not fit under `maxBytes` even at `minQuality` and `minSide`: the smallest attempt, kept with a flag. */
export interface OversizedImage extends ImageResult {
  readonly state: 'too_large';
  readonly reason: string;
}

export type ImageOutcome = StoredImage | OversizedImage;

export type MediaErrorCode =
  /** Zero bytes. */
  | 'empty'
  /** Not an image at all (a PDF, random bytes, …). */
  | 'not_an_image'
  /** An image this build cannot decode (HEIC without an HEVC decoder). */
  | 'unsupported_format'
  /** More pixels than `limitInputPixels` (decompression bomb). */
  | 'too_many_pixels'
  /** Truncated or undecodable image data. */
  | 'corrupt'
  /** libvips ran out of memory: the only case worth a retry (another container, more memory). */
  | 'out_of_memory';

/** An input that cannot become a stored image. `reason` is for people: it names the problem. */
export class MediaError extends Error {
  override readonly name = 'MediaError';
  readonly code: MediaErrorCode;
  /** What is wrong with the input, for people (also the message). */
  readonly reason: string;
  /** Retrying the same bytes cannot succeed. */
  readonly permanent: boolean;

  // No parameter properties: this module runs under Node's type stripping (bench/media-image.ts).
  constructor(code: MediaErrorCode, reason: string, options?: { cause?: unknown }) {
    super(reason, options);
    this.code = code;
    this.reason = reason;
    this.permanent = code !== 'out_of_memory';
  }
}

/**
 * Recompresses an inbound image to a stored JPEG (see the header for the rules). Throws
 * `MediaError` for input that is not a decodable image within the pixel limit; `RangeError` for
 * impossible settings.
 */
export async function compressImage(input: Buffer, mimeType: string, settings: Partial<ImageSettings> = {}): Promise<ImageOutcome> {
  const options = resolveSettings(settings);
  const sniffed = sniffImage(input, mimeType);
  const header = await readHeader(input, sniffed);
  refuseTooManyPixels(header, options);
  if (storableAsIs(input, header, options)) {
    await verifyDecodes(input, header, options, sniffed);
    return { state: 'stored', bytes: input, contentType: 'image/jpeg', width: header.width, height: header.height, recompressed: false, steps: 0, source: 'jpeg' };
  }
  try {
    return await recompress(input, header, sniffed, options);
  } catch (error) {
    // sharp reports decoding failures as plain Errors; a TypeError or RangeError is a bug here.
    if (error instanceof MediaError || error instanceof TypeError || error instanceof RangeError) throw error;
    throw decodeError(error, sniffed);
  }
}

// ---------------------------------------------------------------------------------------------
// Settings

const QUALITY_STEP = 5;
/** Bound on encodes for one image; the search needs ~1–3, the size steps a few more. */
const MAX_ENCODES = 12;
/** The rung above a fitting one is still measured when predicted at most this much over the limit. */
const CLIMB_TOLERANCE = 1.1;
/** A side step aims a little under the limit, so one step usually fits. */
const SIDE_STEP_TARGET = 0.92;
/** Each side step shrinks the longest side by at least this factor. */
const SIDE_STEP_MIN_SHRINK = 0.95;

function resolveSettings(overrides: Partial<ImageSettings>): ImageSettings {
  const given = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
  const settings: ImageSettings = { ...DEFAULT_IMAGE_SETTINGS, ...given };
  const { maxBytes, maxSide, minSide, limitInputPixels, startQuality, minQuality } = settings;
  for (const [name, value] of Object.entries({ maxBytes, maxSide, minSide, limitInputPixels })) {
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`image setting ${name} must be a positive integer, got ${value}`);
  }
  if (minSide > maxSide) throw new RangeError(`image setting minSide (${minSide}) must not exceed maxSide (${maxSide})`);
  if (!Number.isInteger(minQuality) || !Number.isInteger(startQuality) || minQuality < 1 || startQuality > 100 || minQuality > startQuality) {
    throw new RangeError(`image settings need 1 ≤ minQuality ≤ startQuality ≤ 100, got ${minQuality} and ${startQuality}`);
  }
  return settings;
}

// ---------------------------------------------------------------------------------------------
// What the bytes are

interface Sniffed {
  readonly format: ImageFormat;
  /** For messages: JPEG, PNG, GIF, WebP, HEIC, AVIF or HEIF. */
  readonly label: string;
}

const HEIC_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'hevm', 'hevs']);
const AVIF_BRANDS = new Set(['avif', 'avis']);

/** The image format from the magic bytes, or a `MediaError` saying what the bytes look like instead. */
function sniffImage(bytes: Buffer, mimeType: string): Sniffed {
  if (bytes.length === 0) throw new MediaError('empty', 'the image is empty (0 bytes)');
  const ascii = (start: number, end: number) => bytes.toString('latin1', start, end);
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return { format: 'jpeg', label: 'JPEG' };
  if (bytes.subarray(0, 8).equals(PNG_SIGNATURE)) return { format: 'png', label: 'PNG' };
  if (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a') return { format: 'gif', label: 'GIF' };
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return { format: 'webp', label: 'WebP' };
  const heif = heifLabel(bytes);
  if (heif) return { format: 'heif', label: heif };
  const declared = mimeType ? ` (declared as ${mimeType})` : '';
  throw new MediaError('not_an_image', `the file is not a JPEG, PNG, WebP, GIF, HEIC or AVIF image: it looks like ${describeNonImage(bytes)}${declared}`);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** 'HEIC', 'AVIF' or 'HEIF' for an ISO-BMFF file whose brands are HEIF image brands. */
function heifLabel(bytes: Buffer): string | undefined {
  if (bytes.length < 16 || bytes.toString('latin1', 4, 8) !== 'ftyp') return undefined;
  const boxEnd = Math.min(bytes.length, bytes.readUInt32BE(0));
  const brands = [bytes.toString('latin1', 8, 12)];
  for (let at = 16; at + 4 <= boxEnd; at += 4) brands.push(bytes.toString('latin1', at, at + 4));
  if (brands.some((brand) => AVIF_BRANDS.has(brand))) return 'AVIF';
  if (brands.some((brand) => HEIC_BRANDS.has(brand))) return 'HEIC';
  if (brands.some((brand) => brand === 'mif1' || brand === 'msf1')) return 'HEIF';
  return undefined;
}

function describeNonImage(bytes: Buffer): string {
  const ascii = bytes.toString('latin1', 0, 16);
  if (ascii.startsWith('%PDF')) return 'a PDF document';
  if (ascii.startsWith('PK\x03\x04')) return 'a ZIP archive (or an Office document)';
  if (ascii.startsWith('OggS')) return 'an Ogg audio file';
  if (ascii.slice(4, 8) === 'ftyp') return 'an MP4/3GPP video or audio file';
  if (ascii.startsWith('BM')) return 'a BMP image, which is not accepted';
  if (ascii.startsWith('II*\0') || ascii.startsWith('MM\0*')) return 'a TIFF image, which is not accepted';
  if (/^\s*</.test(ascii)) return 'text or markup (SVG, HTML or XML)';
  return `data starting with ${bytes.subarray(0, 8).toString('hex').replace(/(..)(?!$)/g, '$1 ')}`;
}

// ---------------------------------------------------------------------------------------------
// Header, pixel guard, stored-as-it-came

/** libvips' decoders: refuse truncated or undecodable data, tolerate warnings (see the header). */
function decodeOptions(settings: ImageSettings): SharpOptions {
  return { limitInputPixels: settings.limitInputPixels, failOn: 'error' };
}

/** The header only: no pixels are decoded, so the pixel guard below runs before any decode. */
async function readHeader(input: Buffer, sniffed: Sniffed): Promise<Metadata> {
  let header: Metadata;
  try {
    header = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw decodeError(error, sniffed);
  }
  if (header.format !== sniffed.format) {
    throw new MediaError('corrupt', `the image is truncated or corrupt: it starts like a ${sniffed.label} but reads as ${header.format}`);
  }
  return header;
}

function refuseTooManyPixels(header: Metadata, settings: ImageSettings): void {
  const pixels = header.width * header.height;
  if (pixels > settings.limitInputPixels) {
    throw new MediaError('too_many_pixels', `the image has ${pixels} pixels (${header.width}×${header.height}), more than the ${settings.limitInputPixels} allowed`);
  }
}

/** An upright, small sRGB JPEG with nothing to strip: storing it re-encoded would only lose detail. */
function storableAsIs(input: Buffer, header: Metadata, settings: ImageSettings): boolean {
  return (
    header.format === 'jpeg' &&
    input.length <= settings.maxBytes &&
    Math.max(header.width, header.height) <= settings.maxSide &&
    (header.orientation ?? 1) === 1 &&
    header.exif === undefined &&
    header.xmp === undefined &&
    header.iptc === undefined &&
    (header.space === 'srgb' || header.space === 'b-w')
  );
}

/** Decodes at 1/8 scale (libjpeg's DCT scaling still reads every entropy-coded byte): truncation shows. */
async function verifyDecodes(input: Buffer, header: Metadata, settings: ImageSettings, sniffed: Sniffed): Promise<void> {
  try {
    await sharp(input, decodeOptions(settings)).resize({ width: Math.max(1, Math.ceil(header.width / 8)) }).raw().toBuffer();
  } catch (error) {
    throw decodeError(error, sniffed);
  }
}

/** A sharp failure as a `MediaError` with a human reason. */
function decodeError(error: unknown, sniffed: Sniffed): MediaError {
  const message = (error instanceof Error ? error.message : String(error)).trim().replace(/\s*\n\s*/g, '; ').slice(0, 400);
  if (/out of memory|malloc|ENOMEM/i.test(message)) return new MediaError('out_of_memory', `decoding the ${sniffed.label} ran out of memory: ${message}`, { cause: error });
  if (/pixel limit/i.test(message)) return new MediaError('too_many_pixels', `the image has more pixels than allowed: ${message}`, { cause: error });
  if (sniffed.label === 'HEIC') {
    return new MediaError('unsupported_format', `the HEIC image could not be decoded (this sharp build reads AVIF, not HEVC-coded HEIC): ${message}`, { cause: error });
  }
  if (/unsupported image format/i.test(message)) return new MediaError('unsupported_format', `the ${sniffed.label} image is in a variant sharp cannot read: ${message}`, { cause: error });
  return new MediaError('corrupt', `the image is truncated or corrupt: ${message}`, { cause: error });
}

// ---------------------------------------------------------------------------------------------
// Recompression

interface Attempt {
  readonly bytes: Buffer;
  readonly width: number;
  readonly height: number;
  readonly quality: number;
}

async function recompress(input: Buffer, header: Metadata, sniffed: Sniffed, settings: ImageSettings): Promise<ImageOutcome> {
  const fullSide = Math.min(settings.maxSide, Math.max(header.width, header.height));
  const source = sniffed.format === 'jpeg' ? readJpegSource(input) : undefined;
  const ladder = qualityLadder(settings.startQuality, settings.minQuality, source?.quality);
  const encoder = createEncoder(input, settings, fullSide);
  const fits = (attempt: Attempt) => attempt.bytes.length <= settings.maxBytes;
  const done = (attempt: Attempt): StoredImage => ({ state: 'stored', ...result(attempt, encoder.encodes, sniffed) });

  // 1. The highest rung that fits at the full side.
  const measured = new Map<number, Attempt>();
  const pixelRatio = (fullSide / Math.max(header.width, header.height)) ** 2;
  let quality: number | undefined = firstQuality(ladder, source, pixelRatio, settings.maxBytes);
  while (quality !== undefined && encoder.encodes < MAX_ENCODES) {
    measured.set(quality, await encoder.encode(quality, fullSide));
    quality = nextQuality(ladder, measured, settings.maxBytes);
  }
  const attempts = [...measured.values()];
  const best = attempts.filter(fits).sort((a, b) => b.quality - a.quality)[0];
  if (best) return done(best);

  // 2. The floor does not fit: step the longest side down, at the floor quality.
  const floor = ladder.at(-1)!;
  const lowestSide = Math.min(settings.minSide, fullSide);
  let smallest = attempts.reduce((a, b) => (b.bytes.length < a.bytes.length ? b : a));
  let side = fullSide;
  while (side > lowestSide && encoder.encodes < MAX_ENCODES) {
    side = nextSide(side, smallest.bytes.length, settings.maxBytes, lowestSide);
    const attempt = await encoder.encode(floor, side);
    if (fits(attempt)) return done(attempt);
    if (attempt.bytes.length < smallest.bytes.length) smallest = attempt;
  }
  const reason =
    `even at quality ${smallest.quality} and ${smallest.width}×${smallest.height} the JPEG is ${smallest.bytes.length} bytes, ` +
    `more than the ${settings.maxBytes} allowed; the smallest attempt is kept`;
  return { state: 'too_large', reason, ...result(smallest, encoder.encodes, sniffed) };
}

function result(attempt: Attempt, steps: number, sniffed: Sniffed): ImageResult {
  const { bytes, width, height, quality } = attempt;
  return { bytes, contentType: 'image/jpeg', width, height, quality, recompressed: true, steps, source: sniffed.format };
}

/** Baseline 4:2:0 JPEG without Huffman optimisation (2× faster, see the header); no metadata. */
function jpegOptions(quality: number) {
  return { quality, chromaSubsampling: '4:2:0', optimiseCoding: false, mozjpeg: false } as const;
}

/** Decode → upright → white under transparency → fitted inside side × side. */
function upright(input: Buffer, settings: ImageSettings, side: number): Sharp {
  return sharp(input, decodeOptions(settings))
    .rotate()
    .flatten({ background: '#ffffff' })
    .resize({ width: side, height: side, fit: 'inside', withoutEnlargement: true });
}

interface RawPixels {
  readonly data: Buffer;
  readonly info: { readonly width: number; readonly height: number; readonly channels: Channels };
}

/**
 * The first encode streams from the input (one pipeline, no intermediate image); any later one
 * encodes from raw pixels decoded once, upright and fitted inside `fullSide`.
 */
function createEncoder(input: Buffer, settings: ImageSettings, fullSide: number) {
  let raw: Promise<RawPixels> | undefined;
  const decodeOnce = () =>
    (raw ??= upright(input, settings, fullSide)
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true })
      .then(({ data, info }) => ({ data, info: { width: info.width, height: info.height, channels: info.channels } })));
  const attempt = (quality: number, { data, info }: { data: Buffer; info: OutputInfo }): Attempt => ({ bytes: data, width: info.width, height: info.height, quality });

  const encoder = {
    encodes: 0,
    async encode(quality: number, side: number): Promise<Attempt> {
      const first = encoder.encodes++ === 0 && side === fullSide;
      if (first) return attempt(quality, await upright(input, settings, side).jpeg(jpegOptions(quality)).toBuffer({ resolveWithObject: true }));
      const pixels = await decodeOnce();
      let image = sharp(pixels.data, { raw: pixels.info });
      if (side < Math.max(pixels.info.width, pixels.info.height)) image = image.resize({ width: side, height: side, fit: 'inside' });
      return attempt(quality, await image.jpeg(jpegOptions(quality)).toBuffer({ resolveWithObject: true }));
    },
  };
  return encoder;
}

/** Qualities tried, highest first: the top (start, capped at the source's), then multiples of 5 down to the floor. */
export function qualityLadder(startQuality: number, minQuality: number, sourceQuality?: number): number[] {
  const top = Math.max(minQuality, Math.min(startQuality, sourceQuality ?? startQuality));
  const ladder = [top];
  for (let quality = Math.ceil(top / QUALITY_STEP) * QUALITY_STEP - QUALITY_STEP; quality > minQuality; quality -= QUALITY_STEP) ladder.push(quality);
  if (ladder.at(-1) !== minQuality) ladder.push(minQuality);
  return ladder;
}

/** The first rung to try: the highest the source's size predicts to fit (the top for non-JPEG input). */
function firstQuality(ladder: readonly number[], source: JpegSource | undefined, pixelRatio: number, maxBytes: number): number {
  if (!source) return ladder[0]!;
  return ladder.find((quality) => predictFromSource(source, quality, pixelRatio) <= maxBytes) ?? ladder.at(-1)!;
}

/**
 * The next rung to measure, or undefined when the answer is known: the highest rung that fits
 * with the one above it measured (or predicted) too big, or the floor measured too big.
 */
function nextQuality(ladder: readonly number[], measured: ReadonlyMap<number, Attempt>, maxBytes: number): number | undefined {
  const sizes = new Map([...measured].map(([quality, attempt]) => [quality, attempt.bytes.length]));
  const fitting = ladder.filter((quality) => (sizes.get(quality) ?? Infinity) <= maxBytes);
  const failing = ladder.filter((quality) => (sizes.get(quality) ?? -Infinity) > maxBytes);
  const best = fitting[0];
  const lowestFailing = failing.at(-1);
  const open = ladder.filter((quality) => !sizes.has(quality) && (best === undefined || quality > best) && (lowestFailing === undefined || quality < lowestFailing));
  if (open.length === 0) return undefined;
  const predicted = (quality: number) => predictFromMeasured(sizes, quality);
  const predictedToFit = open.find((quality) => predicted(quality) <= maxBytes);
  if (best === undefined) return predictedToFit ?? open.at(-1);
  // Above a fitting rung: climb where the model expects a fit, else check the rung just above
  // unless the model puts it clearly over (the model is a guide, ±10 %; the answer is measured).
  const above = open.at(-1)!;
  return predictedToFit ?? (predicted(above) <= maxBytes * CLIMB_TOLERANCE ? above : undefined);
}

/** The longest side for the next size step: bytes ∝ pixels, aimed a little under the limit. */
function nextSide(side: number, bytes: number, maxBytes: number, lowestSide: number): number {
  const predicted = Math.floor(side * Math.sqrt((SIDE_STEP_TARGET * maxBytes) / bytes));
  return Math.max(lowestSide, Math.min(predicted, Math.floor(side * SIDE_STEP_MIN_SHRINK)));
}

// ---------------------------------------------------------------------------------------------
// Size model: JPEG bytes against quantiser size
//
// libjpeg scales the Annex K tables with quality; the sum of the scaled luminance table stands for
// "the quantiser step". Measured on photo-like images (noise levels 2–100, qualities 50–98), bytes
// fall roughly as (step ratio)^-0.5 when a JPEG is re-encoded with coarser steps, and as
// (pixel ratio)^0.75 or faster when it is also scaled down. The model only picks what to try: every
// answer is a measured encode.

/** JPEG Annex K luminance table (the order does not matter: only its sum is used). */
const ANNEX_K_LUMA = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109,
  103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const ANNEX_K_SUM = ANNEX_K_LUMA.reduce((sum, value) => sum + value, 0);
const DEFAULT_EXPONENT = 0.5;
const PIXEL_EXPONENT = 0.75;

/** Sum of libjpeg's baseline luminance table at `quality` (jcparam.c's scaling, clamped to 1…255). */
function quantiserSum(quality: number): number {
  const scale = quality < 50 ? 5000 / quality : 200 - quality * 2;
  return ANNEX_K_LUMA.reduce((sum, value) => sum + Math.min(255, Math.max(1, Math.floor((value * scale + 50) / 100))), 0);
}

interface JpegSource {
  readonly bytes: number;
  readonly quantiserSum: number;
  /** libjpeg-equivalent quality of the source's luminance table. */
  readonly quality: number;
}

function readJpegSource(input: Buffer): JpegSource | undefined {
  const table = jpegLuminanceTable(input);
  if (!table) return undefined;
  const sum = table.reduce((total, value) => total + value, 0);
  return { bytes: input.length, quantiserSum: sum, quality: equivalentQuality(sum) };
}

/** The quality whose libjpeg table has the same sum (Apple's and others' tables are not Annex K ones). */
export function equivalentQuality(tableSum: number): number {
  const scale = (tableSum / ANNEX_K_SUM) * 100;
  const quality = scale <= 100 ? (200 - scale) / 2 : 5000 / scale;
  return Math.round(Math.min(100, Math.max(1, quality)));
}

/** The 64 entries of quantisation table 0 (luminance) from the DQT segments before the first scan. */
export function jpegLuminanceTable(bytes: Buffer): number[] | undefined {
  let at = 2;
  while (at + 4 <= bytes.length && bytes[at] === 0xff) {
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at++;
      continue;
    }
    if (marker === 0xda || marker === 0xd9) return undefined;
    const end = at + 2 + bytes.readUInt16BE(at + 2);
    if (end > bytes.length) return undefined;
    if (marker === 0xdb) {
      for (let table = at + 4; table < end; ) {
        const precision16 = bytes[table]! >> 4 !== 0;
        const id = bytes[table]! & 0x0f;
        const size = precision16 ? 128 : 64;
        if (table + 1 + size > end) return undefined;
        if (id === 0) return Array.from({ length: 64 }, (_, i) => (precision16 ? bytes.readUInt16BE(table + 1 + 2 * i) : bytes[table + 1 + i]!));
        table += 1 + size;
      }
    }
    at = end;
  }
  return undefined;
}

/** Predicted bytes of the source re-encoded at `quality` with `pixelRatio` of its pixels kept. */
function predictFromSource(source: JpegSource, quality: number, pixelRatio: number): number {
  const stepRatio = quantiserSum(quality) / source.quantiserSum;
  return source.bytes * Math.max(1, stepRatio) ** -DEFAULT_EXPONENT * Math.min(1, pixelRatio) ** PIXEL_EXPONENT;
}

/** Predicted bytes at `quality` from the nearest measured rung, with the exponent of the nearest two. */
function predictFromMeasured(sizes: ReadonlyMap<number, number>, quality: number): number {
  const [nearest, second] = [...sizes].sort(([a], [b]) => Math.abs(a - quality) - Math.abs(b - quality));
  if (!nearest) return Infinity;
  let exponent = DEFAULT_EXPONENT;
  if (second) {
    const logSteps = Math.log(quantiserSum(second[0]) / quantiserSum(nearest[0]));
    if (Math.abs(logSteps) > 1e-6) exponent = Math.min(1.5, Math.max(0.25, -Math.log(second[1] / nearest[1]) / logSteps));
  }
  return nearest[1] * (quantiserSum(quality) / quantiserSum(nearest[0])) ** -exponent;
}
