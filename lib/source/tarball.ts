import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import { MemoryFileTree } from '../render/file-tree.js';

/**
 * Reads a repository tarball (gzip) into memory, dropping the top-level directory GitHub and `git archive`
 * put around the files. Returns the tree and the commit id from the pax header, when the archive carries it.
 */
export const treeFromTarball = async (body: Uint8Array | Readable): Promise<{ tree: MemoryFileTree; commit?: string }> => {
  const tree = new MemoryFileTree();
  let commit: string | undefined;
  const ex = extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        const pax = header.pax as Record<string, string> | undefined;
        if (pax?.comment && /^[0-9a-f]{40}$/.test(pax.comment)) commit = pax.comment;
        if (header.type === 'file') {
          const rel = header.name.split('/').slice(1).join('/');
          if (rel) tree.set(rel, new Uint8Array(Buffer.concat(chunks)));
        }
        next();
      });
      stream.on('error', reject);
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  const input = body instanceof Readable ? body : Readable.from([Buffer.from(body)]);
  input.pipe(createGunzip()).pipe(ex);
  await done;
  return { tree, ...(commit ? { commit } : {}) };
};
