import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import { ReconcilerError } from '../core/errors.js';
import { MemoryFileTree } from '../render/file-tree.js';
import { DEFAULT_INPUT_LIMITS, formatBytes, LIMIT_ENV, type InputLimits } from '../render/limits.js';

/**
 * Reads a repository tarball (gzip) into memory, dropping the top-level directory GitHub and `git archive`
 * put around the files. Returns the tree and the commit id from the pax header, when the archive carries it.
 * A file over `limits.fileBytes` is not kept (reading it fails, naming the limit: only a render that needs it
 * fails); a snapshot over `limits.snapshotBytes` uncompressed is refused as a whole.
 */
export const treeFromTarball = async (
  body: Uint8Array | Readable,
  limits: Pick<InputLimits, 'snapshotBytes' | 'fileBytes'> = DEFAULT_INPUT_LIMITS,
): Promise<{ tree: MemoryFileTree; commit?: string }> => {
  const tree = new MemoryFileTree();
  let commit: string | undefined;
  let total = 0;
  const ex = extract();
  const input = body instanceof Readable ? body : Readable.from([Buffer.from(body)]);
  const gunzip = createGunzip();
  const done = new Promise<void>((resolve, reject) => {
    const refuse = (err: Error) => {
      input.unpipe();
      input.destroy();
      gunzip.destroy();
      ex.destroy();
      reject(err);
    };
    ex.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      const size = header.size ?? 0;
      total += size;
      if (total > limits.snapshotBytes) {
        refuse(new ReconcilerError(`snapshot is over the limit of ${formatBytes(limits.snapshotBytes)} uncompressed (${LIMIT_ENV.snapshotBytes})`));
        return;
      }
      const keep = size <= limits.fileBytes;
      stream.on('data', (c: unknown) => void (keep && chunks.push(c as Buffer)));
      stream.on('end', () => {
        const pax = header.pax as Record<string, string> | undefined;
        if (pax?.comment && /^[0-9a-f]{40}$/.test(pax.comment)) commit = pax.comment;
        if (header.type === 'file') {
          const rel = header.name.split('/').slice(1).join('/');
          if (rel && keep) tree.set(rel, new Uint8Array(Buffer.concat(chunks)));
          else if (rel) tree.setOversized(rel, size, limits.fileBytes);
        } else if (header.type === 'symlink' && header.linkname) {
          // Kept as a link: followed inside the snapshot, refused when it leads out (as on a checkout).
          const rel = header.name.split('/').slice(1).join('/');
          if (rel) tree.setLink(rel, header.linkname);
        }
        next();
      });
      stream.on('error', reject);
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
    gunzip.on('error', reject);
    // A download cut mid-body errors the input: pipe() does not pass that on, so it would hang (or crash) otherwise.
    input.on('error', reject);
  });
  input.pipe(gunzip).pipe(ex);
  await done;
  return { tree, ...(commit ? { commit } : {}) };
};
