import { createHash, randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ENV } from '../core/env-names.js';
import { ReconcilerError } from '../core/errors.js';
import { CHUNK_BYTES } from './codec.js';
import type { LedgerTable } from './dynamodb-table.js';

/**
 * Values that may outgrow a DynamoDB item (inventories, change sets, drift reports), gzipped JSON stored in one of
 * three ways: inline in the item when the bytes fit (up to CHUNK_BYTES); in the blob store (the artifact bucket)
 * when one is configured, the item keeping a `{ key, sha256, bytes }` reference (see blob-store.ts for a blob's life); otherwise as chunk items written
 * in the item's own transaction, up to what one transaction carries. The blob is written before the item that
 * names it, so a crash in between leaves a blob nothing names, never an item pointing at nothing; a read checks the digest, so a replaced or damaged blob is an error, never used.
 */

/** What the item references when the value is in the blob store. */
export interface BlobRef {
  readonly key: string;
  readonly sha256: string;
  readonly bytes: number;
}

export type StoredValue =
  { readonly kind: 'inline'; readonly bytes: Uint8Array } | { readonly kind: 'chunks'; readonly chunks: readonly Uint8Array[] } | { readonly kind: 'blob'; readonly ref: BlobRef };

/** What the value is, in blob keys and errors. */
export type LargeValueKind = 'inventory' | 'change-set' | 'drift-report';

/**
 * TransactWriteItems carries at most 4 MB: without a blob store, a value is chunked up to this many bytes
 * (leaving room for the items it is written with); beyond, the write is refused with an error that says why.
 */
export const MAX_CHUNKED_BYTES = 3_000_000;

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/**
 * `ledger/<target digest>/<kind>/<write>-<content digest>.json.gz`: one key per write, never reused (a blob's
 * state tag is never reset by a later write of the same bytes), and the target id's characters never reach it.
 */
export const blobKey = (targetId: string, kind: LargeValueKind, digest: string): string =>
  `ledger/${createHash('sha256').update(targetId).digest('hex').slice(0, 32)}/${kind}/${Date.now().toString(36)}${randomBytes(4).toString('hex')}-${digest.slice(0, 16)}.json.gz`;

/** Encodes a value and, when it goes to the blob store, writes the blob (before the item that will name it). */
export const storeValue = async (t: LedgerTable, targetId: string, kind: LargeValueKind, value: unknown): Promise<StoredValue> => {
  const zipped = new Uint8Array(gzipSync(Buffer.from(JSON.stringify(value)), { level: 6 }));
  if (zipped.length <= CHUNK_BYTES) return { kind: 'inline', bytes: zipped };
  if (t.blobs) {
    const digest = sha256(zipped);
    const key = blobKey(targetId, kind, digest);
    await t.blobs.put(key, zipped);
    return { kind: 'blob', ref: { key, sha256: digest, bytes: zipped.length } };
  }
  if (zipped.length > MAX_CHUNKED_BYTES) {
    throw new ReconcilerError(
      `ledger table ${t.name}: the ${kind} of ${targetId} is ${zipped.length} bytes gzipped, over the ${MAX_CHUNKED_BYTES} a DynamoDB transaction holds; ` +
        `configure the artifact bucket (${ENV.artifactBucket}) for large values`,
    );
  }
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < zipped.length; i += CHUNK_BYTES) chunks.push(zipped.subarray(i, i + CHUNK_BYTES));
  return { kind: 'chunks', chunks };
};

/** A blob reference read back from an item, checked for shape (an item is data, not trusted code). */
export const blobRefOf = (v: unknown): BlobRef | undefined => {
  const r = v as Partial<BlobRef> | undefined;
  return r && typeof r.key === 'string' && typeof r.sha256 === 'string' && typeof r.bytes === 'number' ? { key: r.key, sha256: r.sha256, bytes: r.bytes } : undefined;
};

/** Reads a blob-stored value: a missing blob, a digest that does not match or no blob store is an error naming it. */
export const loadBlobValue = async <T>(t: LedgerTable, targetId: string, kind: LargeValueKind, ref: BlobRef): Promise<T> => {
  if (!t.blobs)
    throw new ReconcilerError(`ledger table ${t.name}: the ${kind} of ${targetId} is in the artifact bucket (${ref.key}), and this process has no artifact bucket configured`);
  const bytes = await t.blobs.get(ref.key);
  if (!bytes) throw new ReconcilerError(`ledger table ${t.name}: the ${kind} of ${targetId} is missing from ${t.blobs.where}/${ref.key}`);
  const digest = sha256(bytes);
  if (digest !== ref.sha256) {
    throw new ReconcilerError(
      `ledger table ${t.name}: the ${kind} of ${targetId} at ${t.blobs.where}/${ref.key} has digest sha256:${digest}, not the recorded sha256:${ref.sha256}; not used`,
    );
  }
  return JSON.parse(gunzipSync(bytes).toString('utf8')) as T;
};

/**
 * After the item write: when it succeeded, the blob it replaced (if any) is retired; when it failed, the blobs
 * written for it are. Retiring is best effort: a blob left behind costs storage, never data.
 */
export const settleBlobs = async (t: LedgerTable, o: { written: readonly (StoredValue | undefined)[]; replaced?: BlobRef | undefined; succeeded: boolean }): Promise<void> => {
  const blobs = t.blobs;
  if (!blobs) return;
  const fresh = o.written.flatMap((v) => (v?.kind === 'blob' ? [v.ref.key] : []));
  const retire = o.succeeded ? (o.replaced && !fresh.includes(o.replaced.key) ? [o.replaced.key] : []) : fresh;
  await Promise.all(retire.map((key) => blobs.retire(key).catch(() => undefined)));
};

/** Runs an item write and settles its blobs either way; the write's error is what the caller sees. */
export const writingBlobs = async <T>(t: LedgerTable, written: readonly (StoredValue | undefined)[], replaced: BlobRef | undefined, write: () => Promise<T>): Promise<T> => {
  let out: T;
  try {
    out = await write();
  } catch (err) {
    await settleBlobs(t, { written, succeeded: false });
    throw err;
  }
  await settleBlobs(t, { written, replaced, succeeded: true });
  return out;
};
