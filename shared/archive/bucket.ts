/**
 * What the archive needs of S3: put an object with its type, encoding and metadata, get it back
 * (the data bucket, storage/bucket.ts, is one).
 *
 * Content-Encoding `gzip` on a `.jsonl.gz` key means that an HTTP client honouring it (a browser,
 * curl --compressed) hands over the inflated lines; the SDK in Node does not. The restore accepts
 * both (it looks at the gzip magic bytes), and checks the sha256 of the uncompressed lines either way.
 */

export interface ArchivePutOptions {
  readonly contentType: string;
  readonly contentEncoding?: string;
  readonly contentLength?: number;
  readonly metadata?: Record<string, string>;
}

export interface ArchiveObject {
  readonly body: AsyncIterable<Uint8Array>;
  readonly metadata: Record<string, string>;
}

export interface ArchiveBucket {
  putObject(key: string, body: Uint8Array, options: ArchivePutOptions): Promise<void>;
  /** Undefined when there is no such object. */
  getObject(key: string): Promise<ArchiveObject | undefined>;
}

/** An object's bytes, whole (one contact's month: kilobytes). */
export async function readBytes(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of body) parts.push(Buffer.from(part));
  return Buffer.concat(parts);
}
