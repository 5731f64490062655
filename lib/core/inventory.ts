import type { ObjectRef } from './object-ref.js';

/** A stable string key for an object ref: `group/Kind/namespace/name`. */
export const refKey = (ref: ObjectRef): string => `${ref.group}/${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;

/** Refs in `previous` that are not in `next`: the candidates for prune. */
export const diffInventory = (previous: readonly ObjectRef[], next: readonly ObjectRef[]): ObjectRef[] => {
  const keep = new Set(next.map(refKey));
  return previous.filter((r) => !keep.has(refKey(r)));
};

/** The next inventory: the applied set plus stale objects that were not deleted (they are still ours). */
export const mergeSurvivors = (next: readonly ObjectRef[], survivors: readonly ObjectRef[]): ObjectRef[] => {
  const seen = new Set<string>();
  const out: ObjectRef[] = [];
  for (const r of [...next, ...survivors]) {
    const k = refKey(r);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(r);
    }
  }
  return out;
};
