/**
 * The media a customer sends, fetched from WhatsApp (MD-1): the port the media function uses, so
 * an account on Meta's Cloud API (`GET /{version}/{media-id}`, then the 5-minute download URL with
 * the bearer token) and one on AWS End User Messaging Social (`GetWhatsAppMessageMedia` into S3)
 * are one call. A media id stays valid for 7 days; the URL for 5 minutes (fetched again when it
 * expired mid-way).
 */

/** What Meta says about a media object. */
export interface MediaInfo {
  readonly mediaId: string;
  readonly mimeType: string;
  /** SHA-256 of the bytes, lowercase hex, as Meta gives it (absent when the channel gives none). */
  readonly sha256?: string | undefined;
  /** Bytes, when Meta gave a size (`file_size`, a string in Meta's answer). */
  readonly fileSize?: number | undefined;
}

/** An opened media object: its description and its bytes, streamed (a 100 MB document is never buffered whole). */
export interface MediaDownload {
  readonly info: MediaInfo;
  readonly body: AsyncIterable<Uint8Array>;
}

/**
 * Why a media object could not be fetched. `gone`: Meta does not have it (404, an id older than
 * 7 days, deleted) — retrying cannot help; `retry`: a 429/5xx/timeout/connection failure;
 * `refused`: the token or the request was refused (4xx other than 404), retrying will not help
 * until someone fixes the configuration.
 */
export class MediaFetchError extends Error {
  override readonly name = 'MediaFetchError';
  constructor(
    readonly kind: 'gone' | 'retry' | 'refused',
    message: string,
    readonly status?: number | undefined,
  ) {
    super(message);
  }
}

export interface WhatsAppMediaSource {
  /** Meta's description of the media and a stream of its bytes. Throws {@link MediaFetchError}. */
  open(media: { readonly mediaId: string; readonly phoneNumberId: string }, signal?: AbortSignal): Promise<MediaDownload>;
}
