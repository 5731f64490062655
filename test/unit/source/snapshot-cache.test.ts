import { describe, expect, it } from 'vitest';
import { MemoryFileTree, type FileTree } from '../../../lib/render/file-tree.js';
import type { RepositorySource } from '../../../lib/source/repository-source.js';
import { cachingSnapshots } from '../../../lib/source/snapshot-cache.js';

const sha = (n: number) => n.toString(16).padStart(40, '0');

/** A source whose snapshots are counted, and fail or wait when told to. */
const countingTarballs = () => {
  const asked: string[] = [];
  let fail = false;
  const source = {
    snapshot: async (repository: string, ref: string): Promise<FileTree> => {
      asked.push(`${repository}@${ref}`);
      await new Promise((r) => setTimeout(r, 5));
      if (fail) throw new Error('tarball of acme/mono failed: unexpected end of file');
      return new MemoryFileTree({ 'ref.txt': ref });
    },
    readFile: async () => 'file',
  } as unknown as RepositorySource;
  return { source, asked, failNext: (v: boolean) => (fail = v) };
};

describe('cachingSnapshots', () => {
  it('fetches a commit once for concurrent and later callers, and keeps only the newest few', async () => {
    const { source, asked } = countingTarballs();
    const cached = cachingSnapshots(source, { entries: 2 });
    const trees = await Promise.all(Array.from({ length: 10 }, () => cached.snapshot('acme/mono', sha(1))));
    expect(new Set(trees).size).toBe(1);
    await cached.snapshot('ACME/mono', sha(1));
    expect(asked).toEqual([`acme/mono@${sha(1)}`]);
    await cached.snapshot('acme/mono', sha(2));
    await cached.snapshot('acme/mono', sha(3));
    await cached.snapshot('acme/mono', sha(1)); // evicted by 2 and 3
    expect(asked).toHaveLength(4);
    expect(cached.fetched).toBe(4);
    // Other methods pass through
    expect(await cached.readFile('acme/mono', sha(1), 'x')).toBe('file');
  });

  it('never caches a branch name, and forgets a failed fetch', async () => {
    const { source, asked, failNext } = countingTarballs();
    const cached = cachingSnapshots(source);
    await cached.snapshot('acme/mono', 'main');
    await cached.snapshot('acme/mono', 'main');
    expect(asked).toEqual(['acme/mono@main', 'acme/mono@main']);
    failNext(true);
    await expect(cached.snapshot('acme/mono', sha(7))).rejects.toThrow('unexpected end of file');
    failNext(false);
    await expect(cached.snapshot('acme/mono', sha(7))).resolves.toBeInstanceOf(MemoryFileTree);
    expect(asked.filter((a) => a.endsWith(sha(7)))).toHaveLength(2);
  });

  it("ends an aborted caller's wait without failing the others who share the fetch", async () => {
    const { source, asked } = countingTarballs();
    const cached = cachingSnapshots(source);
    const abort = new AbortController();
    const first = cached.snapshot('acme/mono', sha(9), abort.signal);
    const second = cached.snapshot('acme/mono', sha(9));
    abort.abort(new Error('deadline'));
    await expect(first).rejects.toThrow('deadline');
    await expect(second).resolves.toBeInstanceOf(MemoryFileTree);
    expect(asked).toHaveLength(1);
  });
});
