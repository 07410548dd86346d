/** The data bucket (BUCKET_LAYOUT): objects written and read by key. */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { RawArchive } from '../store/raw-events.ts';

export class DataBucket implements RawArchive {
  constructor(
    private readonly s3: S3Client,
    readonly name: string,
  ) {}

  async put(key: string, body: string, contentType = 'application/json'): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.name, Key: key, Body: body, ContentType: contentType }));
  }

  async get(key: string): Promise<string> {
    const object = await this.s3.send(new GetObjectCommand({ Bucket: this.name, Key: key }));
    return (await object.Body?.transformToString('utf8')) ?? '';
  }
}
