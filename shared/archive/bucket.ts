/**
 * What the archive needs of S3: put an object with its type, encoding and metadata, get it back.
 *
 * `archiveBucket` is that on the data bucket. It has its own small client because
 * DataBucket.putObject (storage/bucket.ts) does not pass a Content-Encoding yet; once it does, the
 * DataBucket itself fits `ArchiveBucket` and this adapter can go.
 *
 * Content-Encoding `gzip` on a `.jsonl.gz` key means that an HTTP client honouring it (a browser,
 * curl --compressed) hands over the inflated lines; the SDK in Node does not. The restore accepts
 * both (it looks at the gzip magic bytes), and checks the sha256 of the uncompressed lines either way.
 */
import type * as S3 from '@aws-sdk/client-s3';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';

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

/** Reading a missing key without s3:ListBucket is answered 403, not 404: say so. */
function explainRefusal(key: string, error: unknown): Error {
  const name = (error as { name?: string }).name;
  if (name === 'AccessDenied' || name === 'Forbidden') {
    return new Error(`reading ${key} was refused (${name}); S3 answers a missing object with 403 to a role without s3:ListBucket on the bucket, so grant that (archive/ prefix) as well as s3:GetObject`, { cause: error });
  }
  return error as Error;
}

export function archiveBucket(config: S3ClientConfig, name: string): ArchiveBucket & { destroy(): Promise<void> } {
  let client: Promise<{ s3: S3Client; sdk: typeof S3 }> | undefined;
  const sdk = () => (client ??= import('@aws-sdk/client-s3').then((module) => ({ sdk: module, s3: new module.S3Client(config) })));
  return {
    async putObject(key, body, options) {
      const { s3, sdk: api } = await sdk();
      await s3.send(
        new api.PutObjectCommand({
          Bucket: name,
          Key: key,
          Body: body,
          ContentType: options.contentType,
          ContentLength: options.contentLength ?? body.byteLength,
          ...(options.contentEncoding && { ContentEncoding: options.contentEncoding }),
          ...(options.metadata && { Metadata: options.metadata }),
        }),
      );
    },
    async getObject(key) {
      const { s3, sdk: api } = await sdk();
      try {
        const object = await s3.send(new api.GetObjectCommand({ Bucket: name, Key: key }));
        if (!object.Body) return undefined;
        return { body: object.Body as unknown as AsyncIterable<Uint8Array>, metadata: object.Metadata ?? {} };
      } catch (error) {
        const code = (error as { name?: string }).name;
        if (code === 'NoSuchKey' || code === 'NotFound') return undefined;
        throw explainRefusal(key, error);
      }
    },
    async destroy() {
      if (client) (await client).s3.destroy();
    },
  };
}

/** An object's bytes, whole (one contact's month: kilobytes). */
export async function readBytes(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of body) parts.push(Buffer.from(part));
  return Buffer.concat(parts);
}
