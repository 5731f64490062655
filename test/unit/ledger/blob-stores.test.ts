import { existsSync, mkdtempSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, PutObjectTaggingCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { isLedgerBlobKey } from '../../../lib/ledger/blob-store.js';
import { DirectoryBlobStore } from '../../../lib/ledger/directory-blob-store.js';
import { S3BlobStore } from '../../../lib/ledger/s3-blob-store.js';
import { openBlobStore } from '../../../lib/ledger/open-blob-store.js';

const KEY = 'ledger/0123456789abcdef0123456789abcdef/inventory/mabc1234-0011223344556677.json.gz';

describe('ledger blob keys', () => {
  it('are ledger/ paths of plain segments only', () => {
    expect(isLedgerBlobKey(KEY)).toBe(true);
    for (const bad of ['helm-charts/x', 'ledger/../templates/x', 'ledger/./x', 'ledger//x', 'ledger/a b', 'ledger/%2e%2e/x', `ledger/${'a'.repeat(1100)}`]) {
      expect(isLedgerBlobKey(bad), bad).toBe(false);
    }
  });
});

describe('S3BlobStore', () => {
  it('puts, gets and retires by tag under ledger/ of the bucket; a missing key reads as undefined', async () => {
    const s3 = mockClient(S3Client);
    s3.on(PutObjectCommand).resolves({});
    s3.on(PutObjectTaggingCommand).resolves({});
    s3.on(GetObjectCommand, { Key: KEY }).resolves({ Body: { transformToByteArray: () => Promise.resolve(new Uint8Array(Buffer.from('gz'))) } as never });
    s3.on(GetObjectCommand, { Key: `${KEY}.gone` }).rejects(new NoSuchKey({ message: 'gone', $metadata: {} }));
    const store = new S3BlobStore(new S3Client({ region: 'eu-west-1' }), 'artifacts');
    await store.put(KEY, new Uint8Array([1, 2]));
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input).toMatchObject({ Bucket: 'artifacts', Key: KEY, Body: new Uint8Array([1, 2]) });
    expect(Buffer.from((await store.get(KEY)) ?? []).toString()).toBe('gz');
    expect(await store.get(`${KEY}.gone`)).toBeUndefined();
    await store.retire(KEY);
    expect(s3.commandCalls(PutObjectTaggingCommand)[0]?.args[0].input).toEqual({
      Bucket: 'artifacts',
      Key: KEY,
      Tagging: { TagSet: [{ Key: 'driftless-ledger', Value: 'retired' }] },
    });
    await expect(store.put('templates/x', new Uint8Array())).rejects.toThrow('ledger blob key "templates/x" is not a ledger/ key');
    s3.restore();
  });

  it('names the bucket, the key and the operation when S3 fails', async () => {
    const s3 = mockClient(S3Client);
    s3.on(PutObjectCommand).rejects(new Error('SlowDown'));
    const store = new S3BlobStore(new S3Client({ region: 'eu-west-1' }), 'artifacts');
    await expect(store.put(KEY, new Uint8Array())).rejects.toThrow(`ledger blob s3://artifacts/${KEY}: PutObject failed: SlowDown`);
    s3.restore();
  });
});

describe('DirectoryBlobStore', () => {
  it('removes a retired blob on a later write once the grace period is over, and never a blob that is not retired', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'driftless-blobs-'));
    let now = Date.now();
    const store = new DirectoryBlobStore(dir, 60_000, () => now);
    const other = KEY.replace('mabc1234', 'mabc9999');
    await store.put(KEY, new Uint8Array([1]));
    await store.put(other, new Uint8Array([2]));
    await store.retire(KEY);
    // Within the grace period a reader of the old item still finds the blob
    await store.put(KEY.replace('mabc1234', 'mabc0001'), new Uint8Array([3]));
    expect(await store.get(KEY)).toEqual(new Uint8Array([1]));
    // After it, the next write in the folder removes it and its mark
    now += 61_000;
    const file = join(dir, ...KEY.split('/'));
    utimesSync(`${file}.retired`, new Date(now - 61_000), new Date(now - 61_000));
    await store.put(KEY.replace('mabc1234', 'mabc0002'), new Uint8Array([4]));
    expect(await store.get(KEY)).toBeUndefined();
    expect(existsSync(`${file}.retired`)).toBe(false);
    expect(await store.get(other)).toEqual(new Uint8Array([2]));
    await expect(store.get('ledger/../../etc/passwd')).rejects.toThrow('is not a ledger/ key');
  });
});

describe('openBlobStore', () => {
  it('takes the artifact bucket first, then a local serve directory, else none (the ledger chunks within DynamoDB)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'blobs-'));
    expect(openBlobStore({ DRIFTLESS_ARTIFACT_BUCKET: 'artifacts', DRIFTLESS_LEDGER_BLOB_DIR: dir })?.where).toBe('s3://artifacts');
    const local = openBlobStore({ DRIFTLESS_LEDGER_BLOB_DIR: dir });
    expect(local).toBeInstanceOf(DirectoryBlobStore);
    expect(local?.where).toBe(dir);
    expect(openBlobStore({})).toBeUndefined();
  });
});
