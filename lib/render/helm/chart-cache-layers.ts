import { credentialsFromJson, type ChartCache, type CredentialsFor } from './chart-repository.js';

/** A fast cache in front of a slower one: reads fill the first, writes go to both. */
export class LayeredChartCache implements ChartCache {
  constructor(
    private readonly near: ChartCache,
    private readonly far: ChartCache,
  ) {}

  async getRef(key: string): Promise<string | undefined> {
    const v = (await this.near.getRef(key)) ?? (await this.far.getRef(key));
    if (v) await this.near.putRef(key, v);
    return v;
  }

  async putRef(key: string, digest: string): Promise<void> {
    await Promise.all([this.near.putRef(key, digest), this.far.putRef(key, digest)]);
  }

  async getBlob(digest: string): Promise<Uint8Array | undefined> {
    const near = await this.near.getBlob(digest);
    if (near) return near;
    const far = await this.far.getBlob(digest);
    if (far) await this.near.putBlob(digest, far);
    return far;
  }

  async putBlob(digest: string, bytes: Uint8Array): Promise<void> {
    await Promise.all([this.near.putBlob(digest, bytes), this.far.putBlob(digest, bytes)]);
  }
}

/**
 * Repository credentials from a Secrets Manager secret holding the `DRIFTLESS_HELM_CREDENTIALS` JSON, read once
 * on first use; a secret that does not exist means no credentials.
 */
export const credentialsFromSecret = (secretId: string, read: (id: string) => Promise<string | undefined>): CredentialsFor => {
  let table: Promise<CredentialsFor> | undefined;
  return async (repository) => {
    table ??= read(secretId).then(
      (json) => credentialsFromJson(json),
      (err: unknown) => {
        if ((err as { name?: string }).name === 'ResourceNotFoundException') return credentialsFromJson(undefined);
        table = undefined;
        throw err;
      },
    );
    return (await table)(repository);
  };
};
