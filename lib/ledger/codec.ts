import { gunzipSync, gzipSync } from 'node:zlib';

/** The most bytes one attribute chunk holds (an item is at most 400 KB). */
export const CHUNK_BYTES = 350_000;

/** JSON → gzip bytes, split into chunks that each fit an item. */
export const encodeChunks = (value: unknown): Uint8Array[] => {
  const zipped = gzipSync(Buffer.from(JSON.stringify(value)), { level: 6 });
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < zipped.length; i += CHUNK_BYTES) chunks.push(new Uint8Array(zipped.subarray(i, i + CHUNK_BYTES)));
  return chunks.length ? chunks : [new Uint8Array()];
};

/** Chunks → the JSON value. */
export const decodeChunks = <T>(chunks: readonly Uint8Array[]): T => JSON.parse(gunzipSync(Buffer.concat(chunks.map((c) => Buffer.from(c)))).toString('utf8')) as T;
