import type { FileTree } from './file-tree.js';

/**
 * The repository paths whose content differs between two trees: added, removed or changed files (a path that is
 * a file in one and a directory in the other counts, with every file below it). What cannot be read on either
 * side (an oversized file, a link that leaves the repository) counts as changed: the answer may say too much,
 * never too little.
 */
export const changedPaths = async (before: FileTree, after: FileTree): Promise<string[]> => {
  const out: string[] = [];
  const kindOf = (tree: FileTree, path: string) => tree.kind(path).catch(() => 'unreadable' as const);
  const same = async (path: string): Promise<boolean> => {
    try {
      const [a, b] = await Promise.all([before.read(path), after.read(path)]);
      return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    } catch {
      return false;
    }
  };
  /** Every file at or below `path` in one tree (what appears or disappears with it). */
  const filesOf = async (tree: FileTree, path: string): Promise<string[]> => {
    const kind = await kindOf(tree, path);
    if (kind !== 'dir') return kind === undefined ? [] : [path];
    const names = await tree.list(path).catch(() => [] as string[]);
    return (await Promise.all(names.map((n) => filesOf(tree, path ? `${path}/${n}` : n)))).flat();
  };
  const walk = async (path: string): Promise<void> => {
    const [a, b] = await Promise.all([kindOf(before, path), kindOf(after, path)]);
    if (a === 'dir' && b === 'dir') {
      const [na, nb] = await Promise.all([before.list(path).catch(() => [] as string[]), after.list(path).catch(() => [] as string[])]);
      const names = [...new Set([...na, ...nb])].sort();
      for (const n of names) await walk(path ? `${path}/${n}` : n);
      return;
    }
    if (a === 'file' && b === 'file') {
      if (!(await same(path))) out.push(path);
      return;
    }
    if (a === undefined && b === undefined) return;
    out.push(...new Set([...(await filesOf(before, path)), ...(await filesOf(after, path))]));
  };
  await walk('');
  return out;
};
