/**
 * The media port (media.ts) over Meta's WhatsApp Cloud API (MD-1): two requests per media.
 *
 * 1. `GET /{version}/{media-id}?phone_number_id=…` with the bearer token answers
 *    `{ messaging_product, url, mime_type, sha256, file_size, id }`: `sha256` is lowercase hex
 *    here (the webhook's is base64), `file_size` a string of bytes ("303833"); the URL is valid
 *    for 5 minutes.
 * 2. `GET <url>` with the same bearer token (and a User-Agent, which Meta recommends) answers the
 *    bytes, streamed to the caller as they arrive: a 100 MB document is never held whole.
 *
 * Decisions:
 * - **An expired URL is fetched again, once.** A download answered 401/403/404/410, or redirected
 *   to a host we would not send the token to (an error page), is taken for a URL that expired
 *   (the job waited in the queue, the clock moved): the metadata is asked for again and the fresh
 *   URL downloaded. A second such answer is `retry` (the queue tries later), never a loop.
 * - **The token goes to Meta only.** A download URL (or a redirect) is only requested when its
 *   origin is the configured `baseUrl`'s (the local stand-in serves its downloads there) or it is
 *   `https:` on the Graph host or a Meta lookaside host: `*.fbsbx.com`, `*.facebook.com`,
 *   `*.whatsapp.net`. A URL anywhere else is `refused` before any request is made: a tampered or
 *   unexpected answer must not hand our token to an arbitrary host. Redirects are followed by hand
 *   (`redirect: 'manual'`, at most 3) so each hop is checked the same way.
 * - **Outcomes.** Metadata answered 404, or Meta's "object does not exist" (code 100, subcode 33;
 *   the subcode is deprecated, so code 100 with that text counts too): `gone` — a media id older
 *   than its 7 days, deleted, or never ours. 429, 5xx, Meta's transient codes (meta-errors.ts),
 *   connection failures and timeouts: `retry`. A refused token (401 or code 190) is tried once
 *   more when `onAuthFailure` read a new one, then `refused`, like any other 4xx. Messages name
 *   the media id and Meta's text (redacted: it may echo an id or a number).
 * - **Timeouts.** `timeoutMs` bounds the metadata request, and on the download the wait for the
 *   answer and for each next chunk (an idle timeout: a 100 MB body may take longer than any fixed
 *   limit). Time the caller spends with a chunk (writing it to S3) is not counted.
 * - **No hash check here.** The caller hashes while it streams into S3 and compares with
 *   {@link sha256Matches}, which takes Meta's hex and the webhook's base64 alike.
 *
 * Shapes: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media (retrieve media
 * URL, download media); errors as in shared/whatsapp/outbound/meta-errors.ts.
 */
import * as z from 'zod/mini';
import '../zod.ts';
import { parseJson } from '../http.ts';
import { redact } from '../privacy.ts';
import { MediaFetchError, type MediaDownload, type MediaInfo, type WhatsAppMediaSource } from './media.ts';
import type { CloudApiOptions } from './outbound/cloud-api.ts';
import { classifyMetaError } from './outbound/meta-errors.ts';

export interface CloudApiMediaOptions extends CloudApiOptions {
  /** Sent on every request (Meta recommends one on the download). Default `whatsapp-scrm-media/1.0`. */
  readonly userAgent?: string;
}

/** Hosts (and their subdomains) Meta serves media downloads from; the token may go there over https. */
export const META_MEDIA_HOSTS: readonly string[] = Object.freeze(['fbsbx.com', 'facebook.com', 'whatsapp.net']);

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_USER_AGENT = 'whatsapp-scrm-media/1.0';
const MAX_REDIRECTS = 3;
/** What a download answers for a URL past its 5 minutes (or signed for another token). */
const EXPIRED_STATUSES = new Set([401, 403, 404, 410]);
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

const optionalString = z.optional(z.string());

const MediaAnswerSchema = z.looseObject({
  messaging_product: optionalString,
  url: z.string().check(z.minLength(1)),
  mime_type: z.string().check(z.minLength(1)),
  sha256: optionalString,
  // A string of bytes in Meta's answer; a number is taken too.
  file_size: z.optional(z.union([z.string(), z.number()])),
  id: optionalString,
});

const ErrorAnswerSchema = z.looseObject({
  error: z.looseObject({
    message: optionalString,
    code: z.optional(z.number()),
    error_subcode: z.optional(z.number()),
    error_data: z.optional(z.unknown()),
  }),
});

type Media = { readonly mediaId: string; readonly phoneNumberId: string };
type Located = { readonly info: MediaInfo; readonly url: URL };
type Opened = { readonly kind: 'body'; readonly body: AsyncIterable<Uint8Array> } | { readonly kind: 'expired'; readonly reason: string; readonly status: number };
type JsonAnswer = { readonly status: number; readonly body: unknown };

export class CloudApiMediaSource implements WhatsAppMediaSource {
  private readonly root: string;
  private readonly base: URL;
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;
  private readonly userAgent: string;

  constructor(private readonly options: CloudApiMediaOptions) {
    this.root = `${options.baseUrl.replace(/\/+$/, '')}/${encodeURIComponent(options.version)}`;
    this.base = new URL(options.baseUrl);
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
  }

  async open(media: Media, signal?: AbortSignal): Promise<MediaDownload> {
    const first = await this.locate(media, signal);
    const opened = await this.download(first, signal);
    if (opened.kind === 'body') return { info: first.info, body: opened.body };
    // The URL expired (or was refused) between the two requests: one fresh URL, then give up.
    const again = await this.locate(media, signal);
    const second = await this.download(again, signal);
    if (second.kind === 'body') return { info: again.info, body: second.body };
    throw new MediaFetchError('retry', `media ${media.mediaId}: the download answered ${second.reason} again with a fresh URL`, second.status);
  }

  /** May the token be sent to this URL? Same origin as baseUrl, or https on a Meta media host. */
  isTrusted(url: URL): boolean {
    if (url.origin === this.base.origin) return true;
    if (url.protocol !== 'https:') return false;
    const host = url.hostname.toLowerCase();
    if (host === this.base.hostname.toLowerCase()) return true;
    return META_MEDIA_HOSTS.some((suffix) => host === suffix || host.endsWith(`.${suffix}`));
  }

  // ---- 1. the metadata ----------------------------------------------------------------------

  /** Meta's description of the media and its download URL; throws {@link MediaFetchError}. */
  private async locate(media: Media, signal: AbortSignal | undefined): Promise<Located> {
    const url = new URL(`${this.root}/${encodeURIComponent(media.mediaId)}`);
    url.searchParams.set('phone_number_id', media.phoneNumberId);
    let answer = await this.getJson(url, media.mediaId, signal);
    if (isTokenRefused(answer) && (await this.renewToken())) answer = await this.getJson(url, media.mediaId, signal);
    if (answer.status < 200 || answer.status >= 300) throw metadataError(answer, media.mediaId);
    return this.located(answer, media.mediaId);
  }

  private located(answer: JsonAnswer, mediaId: string): Located {
    const parsed = MediaAnswerSchema.safeParse(answer.body);
    if (!parsed.success) {
      throw new MediaFetchError('retry', `media ${mediaId}: Meta answered ${answer.status} without a media url and type (${parsed.error.issues[0]?.message ?? 'invalid'})`, answer.status);
    }
    const { url, mime_type: mimeType, sha256, file_size: fileSize } = parsed.data;
    if (!URL.canParse(url)) throw new MediaFetchError('retry', `media ${mediaId}: Meta's download URL is not a URL`, answer.status);
    const download = new URL(url);
    if (!this.isTrusted(download)) {
      throw new MediaFetchError('refused', `media ${mediaId}: the download URL is on ${download.protocol}//${download.host}, not a Meta host nor the Graph API configured; the token is not sent there`);
    }
    return { info: { mediaId, mimeType, sha256: sha256 === undefined ? undefined : toHex(sha256), fileSize: bytesOf(fileSize) }, url: download };
  }

  private async getJson(url: URL, mediaId: string, signal: AbortSignal | undefined): Promise<JsonAnswer> {
    const token = await this.token(mediaId);
    const timeout = AbortSignal.timeout(this.timeoutMs);
    try {
      const response = await this.fetch(url, {
        headers: { authorization: `Bearer ${token}`, accept: 'application/json', 'user-agent': this.userAgent },
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      return { status: response.status, body: parseJson(await response.text()) };
    } catch (error) {
      throw new MediaFetchError('retry', `media ${mediaId}: ${failureReason(error, timeout.aborted, signal?.aborted, this.timeoutMs)}`);
    }
  }

  private async renewToken(): Promise<boolean> {
    if (!this.options.onAuthFailure) return false;
    return this.options.onAuthFailure().catch(() => false);
  }

  private async token(mediaId: string): Promise<string> {
    try {
      return await this.options.accessToken();
    } catch (error) {
      throw new MediaFetchError('retry', `media ${mediaId}: the access token could not be read: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  // ---- 2. the bytes -------------------------------------------------------------------------

  /** The body of the download URL, following trusted redirects; `expired` for an answer a fresh URL may fix. */
  private async download(located: Located, signal: AbortSignal | undefined): Promise<Opened> {
    const { mediaId } = located.info;
    let url = located.url;
    for (let hops = 0; ; hops++) {
      const token = await this.token(mediaId);
      const idle = idleTimer(this.timeoutMs, signal);
      let response: Response;
      try {
        response = await this.fetch(url, { headers: { authorization: `Bearer ${token}`, 'user-agent': this.userAgent }, redirect: 'manual', signal: idle.signal });
      } catch (error) {
        idle.stop();
        throw new MediaFetchError('retry', `media ${mediaId}: the download failed: ${failureReason(error, idle.timedOut(), signal?.aborted, this.timeoutMs)}`);
      }
      if (response.status >= 200 && response.status < 300) return { kind: 'body', body: streamed(response.body, idle, mediaId, this.timeoutMs, signal) };
      idle.stop();
      if (REDIRECT_STATUSES.has(response.status)) {
        await discard(response);
        const next = redirectTarget(response, url);
        if (next === undefined || !this.isTrusted(next) || hops >= MAX_REDIRECTS) {
          return { kind: 'expired', status: response.status, reason: `a redirect to ${next ? `${next.protocol}//${next.host}` : 'nowhere'}` };
        }
        url = next;
        continue;
      }
      return downloadFailure(response, mediaId);
    }
  }
}

/** An answer of the download URL other than 2xx or a redirect: `expired`, or a thrown {@link MediaFetchError}. */
async function downloadFailure(response: Response, mediaId: string): Promise<Opened> {
  const { status } = response;
  const text = await response.text().catch(() => '');
  if (EXPIRED_STATUSES.has(status)) return { kind: 'expired', status, reason: `HTTP ${status}` };
  const meta = metaText(parseJson(text));
  const detail = meta ? `: ${meta}` : '';
  if (status === 429 || status >= 500) throw new MediaFetchError('retry', `media ${mediaId}: the download answered ${status}${detail}`, status);
  throw new MediaFetchError('refused', `media ${mediaId}: the download answered ${status}${detail}`, status);
}

/** A non-2xx metadata answer as an error: `gone`, `retry` or `refused` (see the header). */
function metadataError(answer: JsonAnswer, mediaId: string): MediaFetchError {
  const parsed = ErrorAnswerSchema.safeParse(answer.body);
  const error = parsed.success ? parsed.data.error : undefined;
  const code = error?.code;
  const subcode = error?.error_subcode;
  const text = metaText(answer.body);
  const failure = classifyMetaError({ httpStatus: answer.status, code, subcode, title: text });
  const codes = code === undefined ? '' : ` (code ${code}${subcode === undefined ? '' : `, subcode ${subcode}`})`;
  const message = `media ${mediaId}: Meta answered ${answer.status}${codes}: ${failure.title}`;
  const missing = answer.status === 404 || (code === 100 && (subcode === 33 || /does not exist/i.test(error?.message ?? '')));
  if (missing) return new MediaFetchError('gone', message, answer.status);
  if (failure.kind === 'retry') return new MediaFetchError('retry', message, answer.status);
  return new MediaFetchError('refused', message, answer.status);
}

/** Meta's error text (message and details), redacted; undefined when the body is not Meta's error. */
function metaText(body: unknown): string | undefined {
  const parsed = ErrorAnswerSchema.safeParse(body);
  if (!parsed.success) return undefined;
  const { message, error_data: data } = parsed.data.error;
  const details = typeof data === 'object' && data !== null && typeof (data as { details?: unknown }).details === 'string' ? (data as { details: string }).details : undefined;
  const text = [message?.replace(/^\(#\d+\)\s*/, ''), details].filter((t): t is string => !!t && t.trim() !== '').join(': ');
  return text ? redact(text) : undefined;
}

function isTokenRefused(answer: JsonAnswer): boolean {
  if (answer.status === 401) return true;
  const parsed = ErrorAnswerSchema.safeParse(answer.body);
  return parsed.success && parsed.data.error.code === 190;
}

function redirectTarget(response: Response, from: URL): URL | undefined {
  const location = response.headers.get('location');
  return location && URL.canParse(location, from.href) ? new URL(location, from) : undefined;
}

async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

interface IdleTimer {
  readonly signal: AbortSignal;
  /** (Re)starts the wait. */
  arm(): void;
  stop(): void;
  timedOut(): boolean;
}

/** Aborts when nothing arrived for `ms` while armed (or when the caller aborts). */
function idleTimer(ms: number, caller: AbortSignal | undefined): IdleTimer {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const stop = () => clearTimeout(timer);
  const arm = () => {
    stop();
    timer = setTimeout(() => controller.abort(new Error(`nothing arrived within ${ms} ms`)), ms);
    timer.unref();
  };
  arm();
  return { signal: caller ? AbortSignal.any([caller, controller.signal]) : controller.signal, arm, stop, timedOut: () => controller.signal.aborted };
}

/**
 * The body's chunks as they come; a broken or stalled stream ends in a `retry` error. Each read is
 * raced against the idle timer here (not only through fetch's signal), so a stall is caught
 * whatever the fetch implementation does with an abort after the answer.
 */
async function* streamed(
  body: ReadableStream<Uint8Array> | null,
  idle: IdleTimer,
  mediaId: string,
  timeoutMs: number,
  caller: AbortSignal | undefined,
): AsyncGenerator<Uint8Array> {
  if (!body) return idle.stop();
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await readOrAbort(reader, idle.signal);
      if (done) return;
      // The caller's time with a chunk is not the network's: the timer waits only on the next one.
      idle.stop();
      yield value;
      idle.arm();
    }
  } catch (error) {
    throw new MediaFetchError('retry', `media ${mediaId}: the download broke off: ${failureReason(error, idle.timedOut(), caller?.aborted, timeoutMs)}`);
  } finally {
    idle.stop();
    // Ends the request when the caller stopped early or the read was abandoned; a no-op after the end.
    await reader.cancel().catch(() => undefined);
  }
}

function readOrAbort(reader: ReadableStreamDefaultReader<Uint8Array>, signal: AbortSignal): ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise((resolve, reject) => {
    const abort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', abort, { once: true });
    reader
      .read()
      .then(resolve, reject)
      .finally(() => signal.removeEventListener('abort', abort));
  });
}

/** Why a request got no (complete) answer, in words. */
function failureReason(error: unknown, timedOut: boolean, aborted: boolean | undefined, timeoutMs: number): string {
  if (timedOut) return `no answer from Meta within ${timeoutMs} ms`;
  if (aborted) return 'aborted';
  const code = errorCode(error);
  return `connection to Meta failed: ${code ?? (error instanceof Error ? error.message : String(error))}`;
}

/** The system error code of a failed fetch (undici puts it on `cause`, sometimes inside an AggregateError). */
function errorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const inner = (e as { errors?: unknown }).errors;
    if (Array.isArray(inner) && inner.length > 0) return errorCode(inner[0]);
  }
  return undefined;
}

/** `file_size` ("303833") as a number of bytes; undefined when it is not one. */
function bytesOf(value: string | number | undefined): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (value === undefined || !/^\d{1,15}$/.test(value.trim())) return undefined;
  return Number(value.trim());
}

const HEX_SHA256 = /^[0-9a-f]{64}$/i;
const BASE64_SHA256 = /^[A-Za-z0-9+/_-]{43}=?$/;

/** A SHA-256 given as hex or base64 (standard or URL-safe, padded or not) as lowercase hex; undefined otherwise. */
export function sha256Hex(value: string): string | undefined {
  const trimmed = value.trim();
  if (HEX_SHA256.test(trimmed)) return trimmed.toLowerCase();
  if (!BASE64_SHA256.test(trimmed)) return undefined;
  const bytes = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return bytes.length === 32 ? bytes.toString('hex') : undefined;
}

/** Meta's hex as is; anything else kept as given (normalised to hex when it is base64). */
function toHex(value: string): string {
  return sha256Hex(value) ?? value;
}

/**
 * Whether the bytes hashed to `actualHex` are the ones expected. `expected` may be Meta's hex (the
 * media GET) or the webhook's base64; none expected (a channel that gives no hash) is a match:
 * there is nothing to check against. An expected value that is neither is not a match.
 */
export function sha256Matches(expected: string | undefined, actualHex: string): boolean {
  if (expected === undefined || expected.trim() === '') return true;
  const want = sha256Hex(expected);
  const have = sha256Hex(actualHex);
  return want !== undefined && want === have;
}
