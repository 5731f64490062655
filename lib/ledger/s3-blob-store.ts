import { GetObjectCommand, NoSuchKey, PutObjectCommand, PutObjectTaggingCommand, type S3Client } from '@aws-sdk/client-s3';
import { ReconcilerError } from '../core/errors.js';
import { isLedgerBlobKey, RETIRED_TAG, type BlobStore } from './blob-store.js';

/**
 * Ledger blobs in the artifact bucket, under `ledger/` (the only prefix of it the functions read and write for the
 * ledger). A retired blob is tagged `driftless-ledger=retired`, which the bucket's lifecycle rule expires.
 */
export class S3BlobStore implements BlobStore {
  readonly where: string;

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {
    this.where = `s3://${bucket}`;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    this.check(key);
    await this.call('PutObject', key, () => this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: bytes, ContentType: 'application/gzip' })));
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    this.check(key);
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
    } catch (err) {
      if (err instanceof NoSuchKey || (err as { name?: string }).name === 'NoSuchKey') return undefined;
      throw this.wrap('GetObject', key, err);
    }
  }

  async retire(key: string): Promise<void> {
    this.check(key);
    await this.call('PutObjectTagging', key, () =>
      this.s3.send(new PutObjectTaggingCommand({ Bucket: this.bucket, Key: key, Tagging: { TagSet: [{ Key: RETIRED_TAG.key, Value: RETIRED_TAG.value }] } })),
    );
  }

  private check(key: string): void {
    if (!isLedgerBlobKey(key)) throw new ReconcilerError(`ledger blob key ${JSON.stringify(key)} is not a ledger/ key`);
  }

  private async call(operation: string, key: string, send: () => Promise<unknown>): Promise<void> {
    try {
      await send();
    } catch (err) {
      throw this.wrap(operation, key, err);
    }
  }

  private wrap(operation: string, key: string, err: unknown): ReconcilerError {
    return new ReconcilerError(`ledger blob ${this.where}/${key}: ${operation} failed: ${(err as Error).message}`, { cause: err });
  }
}
