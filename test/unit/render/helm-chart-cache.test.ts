import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { DirectoryChartCache } from '../../../lib/render/helm/chart-repository.js';
import { credentialsFromSecret, LayeredChartCache } from '../../../lib/render/helm/chart-cache-layers.js';
import { S3ChartCache } from '../../../lib/render/helm/remote-chart-cache.js';

const dir = () => new DirectoryChartCache(mkdtempSync(join(tmpdir(), 'driftless-cache-test-')));

describe('chart caches', () => {
  it('S3ChartCache keeps refs and blobs under helm-charts/ and treats NoSuchKey as a miss', async () => {
    const s3 = mockClient(S3Client);
    s3.on(GetObjectCommand, { Key: 'helm-charts/refs/abc' }).resolves({ Body: { transformToByteArray: async () => new TextEncoder().encode('sha256:1\n') } as never });
    s3.on(GetObjectCommand, { Key: 'helm-charts/refs/missing' }).rejects(Object.assign(new Error('nope'), { name: 'NoSuchKey' }));
    s3.on(PutObjectCommand).resolves({});
    const cache = new S3ChartCache(new S3Client({ region: 'eu-west-1' }), 'bucket');
    expect(await cache.getRef('abc')).toBe('sha256:1');
    expect(await cache.getRef('missing')).toBeUndefined();
    await cache.putBlob('sha256:2', new Uint8Array([1, 2]));
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input).toMatchObject({ Bucket: 'bucket', Key: 'helm-charts/blobs/sha256:2' });
    s3.restore();
  });

  it('LayeredChartCache fills the near cache from the far one and writes both', async () => {
    const near = dir();
    const far = dir();
    await far.putRef('k', 'sha256:x');
    await far.putBlob('sha256:x', new Uint8Array([7]));
    const layered = new LayeredChartCache(near, far);
    expect(await layered.getRef('k')).toBe('sha256:x');
    expect([...((await layered.getBlob('sha256:x')) ?? [])]).toEqual([7]);
    expect(await near.getRef('k')).toBe('sha256:x');
    expect(await near.getBlob('sha256:x')).toBeDefined();
    await layered.putRef('j', 'sha256:y');
    expect(await far.getRef('j')).toBe('sha256:y');
  });

  it('credentialsFromSecret reads the secret once; a missing secret means no credentials', async () => {
    let reads = 0;
    const creds = credentialsFromSecret('s', async () => {
      reads++;
      return JSON.stringify({ 'https://charts.example.com': { username: 'u', password: 'p' } });
    });
    expect(await creds('https://charts.example.com')).toEqual({ username: 'u', password: 'p' });
    expect(await creds('https://other.example.com')).toBeUndefined();
    expect(reads).toBe(1);
    const none = credentialsFromSecret('s', async () => {
      throw Object.assign(new Error('gone'), { name: 'ResourceNotFoundException' });
    });
    expect(await none('https://charts.example.com')).toBeUndefined();
  });
});
