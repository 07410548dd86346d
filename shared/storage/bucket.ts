/**
 * The data bucket (BUCKET_LAYOUT): objects written and read by key. The S3 client is loaded on
 * first use: only a raw payload too large for the table needs it on the webhook path, and loading
 * the client at start would add about 100 ms to every cold start.
 */
import type * as S3 from '@aws-sdk/client-s3';
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import type { RawArchive } from '../store/raw-events.ts';

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
