import { LEDGER_BLOBS } from '../core/env-names.js';

/**
 * Where the ledger keeps values too large for a DynamoDB item (over 400 KB): inventories, change sets and drift
 * reports of big targets. The ledger item keeps the key and a sha256 digest of the bytes, and a read that does
 * not match the digest fails. Keys are the ledger's own (`ledger/…`, one per write, never reused).
 *
 * A blob's life: `put` writes it before the item that names it; it lives as long as nothing retires it. The
 * ledger retires a blob when a later write replaces it (a target's new inventory) or when the item write that
 * was to name it failed; a retired blob is removed after a grace period (the artifact bucket's lifecycle rule on
 * the object tag; the directory store on its next write), so a reader that read the old item a moment ago still
 * finds it. A failure to retire leaves a blob behind (storage), never an item without its blob (data): nothing
 * expires unless the ledger said so.
 */
export interface BlobStore {
  /** Where the blobs are, for errors: `s3://bucket` or a directory. */
  readonly where: string;
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** The bytes, or undefined when there is no blob with this key. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** No item names the blob any more: it is removed after the grace period. */
  retire(key: string): Promise<void>;
}

/** The object tag (`driftless-ledger=retired`) that marks a retired blob in the artifact bucket; the lifecycle rule filters on it. */
export const RETIRED_TAG = LEDGER_BLOBS.retiredTag;

/** How long retired blobs are kept: far longer than any read of the ledger takes. */
export const BLOB_GRACE_DAYS = LEDGER_BLOBS.graceDays;

/** A key the ledger writes: `ledger/` and path segments of letters, digits and `._-`, never `.` or `..`. */
export const isLedgerBlobKey = (key: string): boolean =>
  key.startsWith(LEDGER_BLOBS.prefix) && key.length <= 1024 && key.split('/').every((s) => /^[A-Za-z0-9._-]+$/.test(s) && s !== '.' && s !== '..');
