import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ChartCache } from './chart-repository.js';

/** Prefix of the pulled charts in the artifact bucket. */
export const S3_CHART_PREFIX = 'helm-charts/';

/** The chart cache in the artifact bucket (deployed): the same refs/blobs layout as the local directory. */
export class S3ChartCache implements ChartCache {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  private async read(key: string): Promise<Uint8Array | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: `${S3_CHART_PREFIX}${key}` }));
      return out.Body ? await out.Body.transformToByteArray() : undefined;
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchKey' || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
      throw err;
    }
  }

  private async write(key: string, body: Uint8Array | string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: `${S3_CHART_PREFIX}${key}`, Body: body }));
  }

  async getRef(key: string): Promise<string | undefined> {
    const b = await this.read(`refs/${key}`);
    return b ? new TextDecoder().decode(b).trim() : undefined;
  }

  putRef(key: string, digest: string): Promise<void> {
    return this.write(`refs/${key}`, digest);
  }

  getBlob(digest: string): Promise<Uint8Array | undefined> {
    return this.read(`blobs/${digest}`);
  }

  putBlob(digest: string, bytes: Uint8Array): Promise<void> {
    return this.write(`blobs/${digest}`, bytes);
  }
}
