import { S3Client } from '@aws-sdk/client-s3';
import { ENV } from '../core/env-names.js';
import type { BlobStore } from './blob-store.js';
import { DirectoryBlobStore } from './directory-blob-store.js';
import { S3BlobStore } from './s3-blob-store.js';

/**
 * Where ledger values over an item go, from the environment: the artifact bucket's `ledger/`
 * (DRIFTLESS_ARTIFACT_BUCKET, as the functions and a CLI pointed at a deployed stack have it), else a local
 * serve's blob directory; neither leaves the ledger to chunk within DynamoDB and refuse what is larger.
 */
export const openBlobStore = (env: Record<string, string | undefined>): BlobStore | undefined => {
  const bucket = env[ENV.artifactBucket];
  if (bucket) return new S3BlobStore(new S3Client({}), bucket);
  const blobDir = env[ENV.ledgerBlobDir];
  return blobDir ? new DirectoryBlobStore(blobDir) : undefined;
};
