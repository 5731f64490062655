import type { ObjectRef } from './object-ref.js';

/** How an object came into a target's inventory. */
export type InventoryOrigin = 'created' | 'adopted';

/**
 * One object of a target's inventory. `origin` is absent in inventories recorded before it existed
 * (those objects are treated like created ones: pruned only while they carry the target's label).
 */
export interface InventoryEntry extends ObjectRef {
  readonly origin?: InventoryOrigin;
  /**
   * Kubernetes objects: the digest of the desired object last applied or found unchanged, and the live
   * resourceVersion and generation right after. While both still match, a sync, diff or drift check sends no
   * request for the object (lib/targets/kubernetes/apply-cache.ts explains why that misses no edit).
   */
  readonly digest?: string;
  readonly resourceVersion?: string;
  readonly generation?: number;
}

/** A stable string key for an object ref: `group/Kind/namespace/name`. */
export const refKey = (ref: ObjectRef): string => `${ref.group}/${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;

/** Refs in `previous` that are not in `next`: the candidates for prune. */
export const diffInventory = <T extends ObjectRef>(previous: readonly T[], next: readonly ObjectRef[]): T[] => {
  const keep = new Set(next.map(refKey));
  return previous.filter((r) => !keep.has(refKey(r)));
};

/** The next inventory: the applied set plus stale objects that were not deleted (they are still ours). */
export const mergeSurvivors = <T extends ObjectRef>(next: readonly T[], survivors: readonly T[]): T[] => {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const r of [...next, ...survivors]) {
    const k = refKey(r);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(r);
    }
  }
  return out;
};
