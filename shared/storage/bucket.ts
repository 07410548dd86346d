/**
 * The data bucket (BUCKET_LAYOUT): objects written and read by key. The S3 client is loaded on
 * first use: only a raw payload too large for the table needs it on the webhook path, and loading
 * the client at start would add about 100 ms to every cold start.
 */
import type * as S3 from '@aws-sdk/client-s3';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { RawArchive } from '../store/raw-events.ts';

/** A stream up to this size goes up in one PUT; longer ones in multipart parts. */
const SINGLE_PUT_MAX_BYTES = 8 * 1_048_576;
const MULTIPART_PART_BYTES = 8 * 1_048_576;

export class DataBucket implements RawArchive {
  private client: Promise<{ s3: S3Client; sdk: typeof S3 }> | undefined;

  constructor(
    private readonly config: S3ClientConfig,
    readonly name: string,
  ) {}

  private sdk() {
    this.client ??= import('@aws-sdk/client-s3').then((sdk) => ({ sdk, s3: new sdk.S3Client(this.config) }));
    return this.client;
  }

  async put(key: string, body: string, contentType = 'application/json'): Promise<void> {
    const { s3, sdk } = await this.sdk();
    await s3.send(new sdk.PutObjectCommand({ Bucket: this.name, Key: key, Body: body, ContentType: contentType }));
  }

  async get(key: string): Promise<string> {
    const { s3, sdk } = await this.sdk();
    const object = await s3.send(new sdk.GetObjectCommand({ Bucket: this.name, Key: key }));
    return (await object.Body?.transformToString('utf8')) ?? '';
  }

  /**
   * Writes an object from bytes or a stream, with user metadata (`x-amz-meta-*`). A stream of
   * known length up to 8 MiB is one PUT; a longer or unknown one goes up in multipart parts
   * (@aws-sdk/lib-storage), so a 100 MB document never sits in memory whole.
   */
  async putObject(key: string, body: Uint8Array | Readable, options: { readonly contentType: string; readonly contentEncoding?: string | undefined; readonly contentLength?: number; readonly metadata?: Record<string, string> }): Promise<void> {
    const { s3, sdk } = await this.sdk();
    if (!(body instanceof Uint8Array) && (options.contentLength === undefined || options.contentLength > SINGLE_PUT_MAX_BYTES)) {
      // A long stream goes up in 8 MiB parts, four at a time: memory stays flat whatever the size.
      const { Upload } = await import('@aws-sdk/lib-storage');
      const upload = new Upload({
        client: s3,
        params: { Bucket: this.name, Key: key, Body: body, ContentType: options.contentType, ...(options.contentEncoding && { ContentEncoding: options.contentEncoding }), ...(options.metadata && { Metadata: options.metadata }) },
        partSize: MULTIPART_PART_BYTES,
        queueSize: 4,
        leavePartsOnError: false,
      });
      await upload.done();
      return;
    }
    await s3.send(
      new sdk.PutObjectCommand({
        Bucket: this.name,
        Key: key,
        Body: body,
        ContentType: options.contentType,
        ...(options.contentEncoding && { ContentEncoding: options.contentEncoding }),
        ...(options.contentLength !== undefined && { ContentLength: options.contentLength }),
        ...(options.metadata && { Metadata: options.metadata }),
      }),
    );
  }

  /** An object's bytes as a stream, with its type and length; undefined when there is none. */
  async getObject(key: string): Promise<{ body: AsyncIterable<Uint8Array>; contentType: string | undefined; contentLength: number | undefined; metadata: Record<string, string> } | undefined> {
    const { s3, sdk } = await this.sdk();
    try {
      const object = await s3.send(new sdk.GetObjectCommand({ Bucket: this.name, Key: key }));
      if (!object.Body) return undefined;
      return { body: object.Body as unknown as AsyncIterable<Uint8Array>, contentType: object.ContentType, contentLength: object.ContentLength, metadata: object.Metadata ?? {} };
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === 'NoSuchKey' || name === 'NotFound') return undefined;
      // S3 answers a missing key with 403 to a role without s3:ListBucket: say so.
      if (name === 'AccessDenied' || name === 'Forbidden') throw new Error(`reading ${key} was refused (${name}); S3 answers a missing object with 403 to a role without s3:ListBucket, so grant that as well as s3:GetObject`, { cause: error });
      throw error;
    }
  }

  async deleteObject(key: string): Promise<void> {
    const { s3, sdk } = await this.sdk();
    await s3.send(new sdk.DeleteObjectCommand({ Bucket: this.name, Key: key }));
  }

  /** A GET URL of the object valid `seconds` (SigV4 query signing; at most 7 days). */
  async presign(key: string, seconds: number, options: { readonly filename?: string | undefined } = {}): Promise<string> {
    const { s3, sdk } = await this.sdk();
    const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');
    const disposition = options.filename ? `inline; filename*=UTF-8''${encodeURIComponent(options.filename)}` : undefined;
    return getSignedUrl(s3, new sdk.GetObjectCommand({ Bucket: this.name, Key: key, ...(disposition && { ResponseContentDisposition: disposition }) }), { expiresIn: Math.max(1, Math.min(seconds, 604_800)) });
  }

  /** Keys under a prefix (every page), with their size and time. */
  async list(prefix: string): Promise<{ key: string; size: number; modifiedAt: number | undefined }[]> {
    const { s3, sdk } = await this.sdk();
    const objects: { key: string; size: number; modifiedAt: number | undefined }[] = [];
    for await (const page of sdk.paginateListObjectsV2({ client: s3 }, { Bucket: this.name, Prefix: prefix })) {
      for (const o of page.Contents ?? []) if (o.Key) objects.push({ key: o.Key, size: o.Size ?? 0, modifiedAt: o.LastModified?.getTime() });
    }
    return objects;
  }

  /** Closes the client's connections, if it was ever made. */
  async destroy(): Promise<void> {
    if (this.client) (await this.client).s3.destroy();
  }
}
