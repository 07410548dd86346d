/**
 * The media port (media.ts) over AWS End User Messaging Social (MD-1): for a WhatsApp account
 * linked to AWS, `GetWhatsAppMessageMedia` has AWS fetch the media from Meta (with the account's
 * own Meta credentials) and write it into our bucket; the bytes are then streamed back from S3
 * (`GetObject`), so the caller sees one stream, as from the Cloud API.
 *
 * Decisions:
 * - **Staging key.** AWS writes to `<stagingPrefix><media-id>/<uuid>` (default prefix
 *   `media/staging/`, inside the media prefix the function may write): one key per attempt, so a
 *   repeated job never reads another attempt's half-written copy. The final object is written by
 *   the caller (fetch-and-store.ts) under its own key, after its checks.
 * - **Cleanup.** The staging object is deleted once the caller's stream ends: read to the end,
 *   stopped early, or broken. A copy whose stream is never read (the caller gave up before
 *   iterating) or whose delete failed (best effort, never an error of the fetch) stays: a
 *   lifecycle rule expiring `media/staging/` after a day is the backstop, and should exist.
 * - **Size and hash.** `fileSize` in AWS's answer is in KB (API reference), so the exact size is
 *   the staged object's `ContentLength`. AWS gives no SHA-256: `sha256` is undefined and the caller
 *   checks the webhook's (base64) one (`sha256Matches` in media-cloud-api.ts).
 * - **Errors.** ResourceNotFoundException (and Meta's "object does not exist", `(#100)`, relayed
 *   in an exception's text) is `gone`; throttling, AWS's or Meta's passing failures
 *   (ThrottledRequestException, LimitExceededException, InternalServiceException,
 *   DependencyException, any 5xx), timeouts and connection failures are `retry`; AccessDenied*,
 *   ValidationException and InvalidParametersException are `refused` (configuration: the bucket
 *   policy, the origination id). Reading the staged object fails `retry` unless S3 denied access.
 * - The SDK client made here never retries by itself (`maxAttempts: 1`): the media queue retries.
 *
 * Shapes: https://docs.aws.amazon.com/social-messaging/latest/APIReference/API_GetWhatsAppMessageMedia.html
 * (and the installed @aws-sdk/client-socialmessaging types).
 */
import { randomUUID } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetWhatsAppMessageMediaCommand, SocialMessagingClient, type GetWhatsAppMessageMediaCommandOutput } from '@aws-sdk/client-socialmessaging';
import { redact } from '../privacy.ts';
import { BUCKET_LAYOUT } from '../resources.ts';
import { MediaFetchError, type MediaDownload, type WhatsAppMediaSource } from './media.ts';
import { metaCodeIn } from './outbound/social-messaging.ts';

/** What is used of the Social Messaging client (a test passes its own). */
export interface SocialMediaClient {
  send(command: GetWhatsAppMessageMediaCommand, options?: { abortSignal?: AbortSignal }): Promise<GetWhatsAppMessageMediaCommandOutput>;
}

/** The parts of a GetObject answer read here (a DeleteObject answer has none of them). */
export interface StagedObjectOutput {
  readonly Body?: unknown;
  readonly ContentType?: string | undefined;
  readonly ContentLength?: number | undefined;
}

/** What is used of the S3 client: GetObject and DeleteObject on the staging key. */
export interface StagingS3 {
  send(command: GetObjectCommand | DeleteObjectCommand, options?: { abortSignal?: AbortSignal }): Promise<StagedObjectOutput>;
}

export interface SocialMessagingMediaOptions {
  /** Meta phone_number_id → AWS origination id (`phone-number-id-…`), for every number received on. */
  readonly originationIds: Readonly<Record<string, string>>;
  /** The bucket AWS writes the media into (its policy must let the social-messaging service write the staging prefix). */
  readonly bucketName: string;
  /** Default `media/staging/`. */
  readonly stagingPrefix?: string;
  /** Default: a SocialMessagingClient with `maxAttempts: 1` in `region` (or the environment's). */
  readonly client?: SocialMediaClient;
  /** Made on first use. Default: an S3Client with `maxAttempts: 1` in `region`. */
  readonly s3?: () => StagingS3;
  readonly region?: string;
  /** For GetWhatsAppMessageMedia, which answers once AWS has the whole file in S3; default 60 s. */
  readonly timeoutMs?: number;
}

/** AWS's exceptions for GetWhatsAppMessageMedia, by name. */
export const AWS_MEDIA_ERROR_KINDS: Readonly<Record<string, MediaFetchError['kind']>> = Object.freeze({
  ResourceNotFoundException: 'gone',
  ThrottledRequestException: 'retry',
  LimitExceededException: 'retry',
  InternalServiceException: 'retry',
  DependencyException: 'retry',
  AccessDeniedException: 'refused',
  AccessDeniedByMetaException: 'refused',
  ValidationException: 'refused',
  InvalidParametersException: 'refused',
});

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_STAGING_PREFIX = `${BUCKET_LAYOUT.media}staging/`;

export class SocialMessagingMediaSource implements WhatsAppMediaSource {
  private readonly client: SocialMediaClient;
  private readonly prefix: string;
  private readonly timeoutMs: number;
  private s3: StagingS3 | undefined;

  constructor(private readonly options: SocialMessagingMediaOptions) {
    this.client = options.client ?? new SocialMessagingClient({ ...(options.region ? { region: options.region } : {}), maxAttempts: 1 });
    this.prefix = options.stagingPrefix ?? DEFAULT_STAGING_PREFIX;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async open(media: { readonly mediaId: string; readonly phoneNumberId: string }, signal?: AbortSignal): Promise<MediaDownload> {
    const { mediaId } = media;
    const originationPhoneNumberId = this.options.originationIds[media.phoneNumberId];
    if (!originationPhoneNumberId) throw new MediaFetchError('refused', `media ${mediaId}: no AWS origination id is configured for phone number id ${media.phoneNumberId}`);
    const key = `${this.prefix}${encodeURIComponent(mediaId)}/${randomUUID()}`;
    const staged = await this.stage(mediaId, originationPhoneNumberId, key, signal);
    let object: StagedObjectOutput;
    try {
      object = await this.storage().send(new GetObjectCommand({ Bucket: this.options.bucketName, Key: key }), signal ? { abortSignal: signal } : undefined);
    } catch (error) {
      await this.remove(key);
      throw s3Error(error, mediaId, key);
    }
    const body = object.Body as AsyncIterable<Uint8Array> | undefined;
    if (!body || typeof body[Symbol.asyncIterator] !== 'function') {
      await this.remove(key);
      throw new MediaFetchError('retry', `media ${mediaId}: S3 answered the staged copy ${key} without a body`);
    }
    return {
      info: { mediaId, mimeType: staged.mimeType || object.ContentType || 'application/octet-stream', sha256: undefined, fileSize: object.ContentLength },
      body: thenRemove(body, () => this.remove(key), mediaId),
    };
  }

  /** Has AWS copy the media from Meta to `key`; throws {@link MediaFetchError}. */
  private async stage(mediaId: string, originationPhoneNumberId: string, key: string, signal: AbortSignal | undefined): Promise<GetWhatsAppMessageMediaCommandOutput> {
    if (signal?.aborted) throw new MediaFetchError('retry', `media ${mediaId}: aborted before the request was sent`);
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const command = new GetWhatsAppMessageMediaCommand({
      mediaId,
      originationPhoneNumberId,
      destinationS3File: { bucketName: this.options.bucketName, key },
      metadataOnly: false,
    });
    try {
      return await this.client.send(command, { abortSignal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    } catch (error) {
      if (timeout.aborted) throw new MediaFetchError('retry', `media ${mediaId}: no answer from AWS within ${this.timeoutMs} ms`);
      if (signal?.aborted) throw new MediaFetchError('retry', `media ${mediaId}: aborted while waiting for AWS`);
      throw awsMediaError(error, mediaId);
    }
  }

  private storage(): StagingS3 {
    this.s3 ??= this.options.s3?.() ?? defaultS3(this.options.region);
    return this.s3;
  }

  /** Deletes a staging object, best effort: a lifecycle rule removes what is left. */
  private async remove(key: string): Promise<void> {
    try {
      await this.storage().send(new DeleteObjectCommand({ Bucket: this.options.bucketName, Key: key }));
    } catch {
      // Left for the lifecycle rule; the fetch itself succeeded or failed on its own.
    }
  }
}

function defaultS3(region: string | undefined): StagingS3 {
  const client = new S3Client({ ...(region ? { region } : {}), maxAttempts: 1 });
  return {
    send: (command, options) => (command instanceof GetObjectCommand ? client.send(command, options) : client.send(command, options).then(() => ({}))),
  };
}

/** The staged copy's chunks, then its deletion, however the stream ends. */
async function* thenRemove(body: AsyncIterable<Uint8Array>, remove: () => Promise<void>, mediaId: string): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of body) yield chunk;
  } catch (error) {
    throw new MediaFetchError('retry', `media ${mediaId}: reading the staged copy from S3 broke off: ${describe(error)}`);
  } finally {
    await remove();
  }
}

/** An exception of GetWhatsAppMessageMedia as a {@link MediaFetchError}: AWS's name, or Meta's code in its text. */
export function awsMediaError(error: unknown, mediaId: string): MediaFetchError {
  const e = (error ?? {}) as { name?: unknown; $fault?: unknown; $metadata?: { httpStatusCode?: number } };
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const text = describe(error);
  const status = e.$metadata?.httpStatusCode;
  const message = `media ${mediaId}: ${redact(`${name}: ${text}`)}`;
  if (metaCodeIn(text) === 100 && /does not exist/i.test(text)) return new MediaFetchError('gone', message, status);
  const known = AWS_MEDIA_ERROR_KINDS[name];
  if (known) return new MediaFetchError(known, message, status);
  // No answer at all (a connection that failed), or AWS's own fault: try again later.
  if (e.$metadata === undefined || e.$fault === 'server' || status === 429 || (status !== undefined && status >= 500)) return new MediaFetchError('retry', message, status);
  return new MediaFetchError('refused', message, status);
}

/** A failed GetObject of the staged copy: `refused` when S3 denied access, else `retry`. */
function s3Error(error: unknown, mediaId: string, key: string): MediaFetchError {
  const e = (error ?? {}) as { name?: unknown; $metadata?: { httpStatusCode?: number } };
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const status = e.$metadata?.httpStatusCode;
  const message = `media ${mediaId}: reading the staged copy ${key} from S3 failed: ${redact(`${name}: ${describe(error)}`)}`;
  return new MediaFetchError(name === 'AccessDenied' || status === 403 ? 'refused' : 'retry', message, status);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
