import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ReconcilerError } from '../core/errors.js';
import { BLOB_GRACE_DAYS, isLedgerBlobKey, type BlobStore } from './blob-store.js';

/**
 * Ledger blobs in a local directory (`driftless serve` and tests), with the keys the artifact bucket holds. A
 * retired blob has a sidecar file (`<blob>.retired`); each write removes the blobs of its folder retired longer
 * ago than the grace period, as the bucket's lifecycle rule does.
 */
export class DirectoryBlobStore implements BlobStore {
  constructor(
    readonly where: string,
    private readonly graceMs = BLOB_GRACE_DAYS * 86_400_000,
    private readonly now: () => number = Date.now,
  ) {}

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const file = this.file(key);
    await mkdir(dirname(file), { recursive: true });
    await this.expire(dirname(file));
    // Written whole or not at all: a reader never sees half a blob.
    const partial = `${file}.${process.pid}.partial`;
    await writeFile(partial, bytes);
    await rename(partial, file);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(this.file(key)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new ReconcilerError(`ledger blob ${this.where}/${key}: ${(err as Error).message}`, { cause: err });
    }
  }

  async retire(key: string): Promise<void> {
    await writeFile(`${this.file(key)}.retired`, '');
  }

  /** Removes blobs retired longer ago than the grace period. */
  private async expire(dir: string): Promise<void> {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const mark of names.filter((n) => n.endsWith('.retired'))) {
      const at = await stat(join(dir, mark)).then(
        (s) => s.mtimeMs,
        () => undefined,
      );
      if (at === undefined || this.now() - at < this.graceMs) continue;
      const blob = join(dir, mark.slice(0, mark.lastIndexOf('.')));
      await rm(blob, { force: true });
      await rm(join(dir, mark), { force: true });
    }
  }

  private file(key: string): string {
    if (!isLedgerBlobKey(key)) throw new ReconcilerError(`ledger blob key ${JSON.stringify(key)} is not a ledger/ key`);
    return join(this.where, ...key.split('/'));
  }
}
