import { describe, expect, it } from 'vitest';
import { changedPaths } from '../../../lib/render/file-tree-diff.js';
import { MemoryFileTree } from '../../../lib/render/file-tree.js';

describe('changedPaths', () => {
  it('names added, removed and changed files, not the unchanged ones', async () => {
    const before = new MemoryFileTree({ 'driftless.yaml': 'version: 1\n', 'a/x.yaml': 'x: 1\n', 'a/y.yaml': 'y: 1\n', 'b/z.yaml': 'z: 1\n', 'gone/old.yaml': 'o\n' });
    const after = new MemoryFileTree({ 'driftless.yaml': 'version: 1\n', 'a/x.yaml': 'x: 2\n', 'a/y.yaml': 'y: 1\n', 'b/z.yaml': 'z: 1\n', 'c/new.yaml': 'n\n' });
    expect((await changedPaths(before, after)).sort()).toEqual(['a/x.yaml', 'c/new.yaml', 'gone/old.yaml']);
    expect(await changedPaths(before, before)).toEqual([]);
  });

  it('names every file of a path that turned from a file into a directory', async () => {
    const before = new MemoryFileTree({ 'deploy/web': 'a file\n', 'keep.yaml': 'k\n' });
    const after = new MemoryFileTree({ 'deploy/web/a.yaml': 'a\n', 'deploy/web/b/c.yaml': 'c\n', 'keep.yaml': 'k\n' });
    expect((await changedPaths(before, after)).sort()).toEqual(['deploy/web', 'deploy/web/a.yaml', 'deploy/web/b/c.yaml']);
  });

  it('counts a link whose target changed, and what cannot be read (oversized, a link out of the repository), as changed', async () => {
    const before = new MemoryFileTree({ 'base/a.yaml': 'a\n', 'base/b.yaml': 'b\n', 'big.bin': '' });
    before.setLink('current.yaml', 'base/a.yaml');
    before.setOversized('big.bin', 10, 5);
    const after = new MemoryFileTree({ 'base/a.yaml': 'a\n', 'base/b.yaml': 'b\n', 'big.bin': '' });
    after.setLink('current.yaml', 'base/b.yaml');
    after.setOversized('big.bin', 10, 5);
    after.setLink('escape.yaml', '../../etc/passwd');
    expect((await changedPaths(before, after)).sort()).toEqual(['big.bin', 'current.yaml', 'escape.yaml']);
  });
});
