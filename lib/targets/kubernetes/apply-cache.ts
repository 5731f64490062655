import { createHash } from 'node:crypto';
import { refKey, type InventoryEntry } from '../../core/inventory.js';
import type { KubeObject, ObjectRef } from '../../core/object-ref.js';
import { isMap } from '../../core/plain-object.js';

/**
 * What driftless last saw of one object: the digest of the desired object it applied (or checked) and the
 * live object's resourceVersion and generation right after. Kept per object in the ledger inventory.
 */
export interface Observation {
  readonly digest: string;
  readonly resourceVersion: string;
  readonly generation?: number;
}

/**
 * The rule that lets a sync, a diff and a drift check skip the per-object dry run: an object is unchanged when
 * the desired object has the digest recorded for it and the live object, as the LIST that reads live state
 * returns it, still has the recorded resourceVersion (and generation).
 *
 * Why it cannot miss an edit: the API server gives an object a new resourceVersion on every write to it,
 * whoever writes (kubectl edit, another field manager's apply, a controller, a status or metadata change, a
 * delete and re-create), and never gives two states of one object the same resourceVersion. The observation
 * is only recorded when the object at that resourceVersion was shown to match the desired object of that
 * digest: the server returned it from our own apply, or our dry run of it against that live object changed
 * nothing. So an equal pair names a state already known to match, and any edit by another manager to a field
 * we set shows up as a new resourceVersion, which brings back the dry run (and with it the field-level drift).
 * A changed resourceVersion is not drift by itself: the dry run decides, so fields we do not set stay out.
 *
 * The digest covers the object exactly as it is sent (namespace, ownership label and annotation included) and
 * the field manager, so any change to what we would apply misses the cache. What it cannot see is the server
 * changing how it would treat the same object (a new mutating webhook or default after an upgrade): such a
 * difference shows only once the object is written, as with Argo CD's cached server-side diff.
 */
export class ApplyCache {
  private readonly known = new Map<string, Observation[]>();

  /** `inventory` may name an object more than once (the sync's observation and a later drift check's): each is a known state. */
  constructor(
    inventory: readonly InventoryEntry[] | undefined,
    private readonly fieldManager: string,
  ) {
    for (const e of inventory ?? []) {
      if (!e.digest || !e.resourceVersion) continue;
      const seen = { digest: e.digest, resourceVersion: e.resourceVersion, ...(e.generation !== undefined ? { generation: e.generation } : {}) };
      this.known.set(refKey(e), [...(this.known.get(refKey(e)) ?? []), seen]);
    }
  }

  /** The digest of a desired object as this target sends it. */
  digest(obj: KubeObject): string {
    return createHash('sha256').update(this.fieldManager).update('\0').update(stableJson(obj)).digest('base64url').slice(0, 22);
  }

  /** Whether `live` is still the state recorded for `ref` after applying or checking a desired object of `digest`. */
  unchanged(ref: ObjectRef, digest: string, live: KubeObject | undefined): boolean {
    const now = live && observe(digest, live);
    return (
      now !== undefined && (this.known.get(refKey(ref)) ?? []).some((s) => s.digest === now.digest && s.resourceVersion === now.resourceVersion && s.generation === now.generation)
    );
  }
}

/** The observation of a live object (or of the object an apply returned) for a desired object of `digest`. */
export const observe = (digest: string, live: KubeObject): Observation | undefined => {
  const meta = isMap(live.metadata) ? live.metadata : {};
  if (typeof meta.resourceVersion !== 'string' || !meta.resourceVersion) return undefined;
  return { digest, resourceVersion: meta.resourceVersion, ...(typeof meta.generation === 'number' ? { generation: meta.generation } : {}) };
};

/** JSON with object keys sorted, so that key order never changes a digest. */
const stableJson = (v: unknown): string => {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (isMap(v))
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(v[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
};
