/** Prune: delete the stale objects (in the inventory, no longer rendered) that every prune rule lets through. */
import { ChangeAction, type ChangeSetEntry } from '../../core/change-set.js';
import type { InventoryEntry } from '../../core/inventory.js';
import { mapLimit } from '../../core/map-limit.js';
import type { KubeObject } from '../../core/object-ref.js';
import { KubeApiError, type ObjectLocation, type ResourceInfo } from './kube-client.js';
import { kindRank } from './ordering.js';
import { BATCH_RULES, BEFORE_READ_RULES, firstVerdict, LIVE_RULES, TARGET_RULES, type PruneFacts, type PruneVerdict } from './prune-rules.js';
import { entry, withSignal, type SyncContext } from './sync-types.js';

/** What prune did (or would do): its entries, the refs that stay in the inventory, and why it stopped, if it did. */
export interface PruneOutcome {
  entries: ChangeSetEntry[];
  survivors: InventoryEntry[];
  stop?: string;
}

/**
 * Deletes stale objects the rules (prune-rules.ts) allow; returns entries and the refs that stay in the
 * inventory. With `dryRun`, deletes nothing and reports what it would delete.
 */
export const pruneStale = async (
  ctx: SyncContext,
  stale: readonly InventoryEntry[],
  desiredCount: number,
  inventoryCount: number,
  signal?: AbortSignal,
  dryRun = false,
): Promise<PruneOutcome> => {
  const { client, o } = ctx;
  if (!stale.length) return { entries: [], survivors: [] };
  const facts: PruneFacts = { id: o.id, label: ctx.label, prune: o.prune, grant: o.grant };
  const skipAll = firstVerdict(TARGET_RULES, { desiredCount }, facts);
  if (skipAll) return { entries: stale.map((r) => entry(r, skipAll.action, skipAll.detail)), survivors: [...stale] };
  const discovery = await client.discover(withSignal(signal));
  const byGroupKind = new Map<string, ResourceInfo>();
  for (const info of discovery.values()) if (!byGroupKind.has(`${info.group}/${info.kind}`)) byGroupKind.set(`${info.group}/${info.kind}`, info);

  const candidates: { ref: InventoryEntry; loc: ObjectLocation; live: KubeObject }[] = [];
  const entries: ChangeSetEntry[] = [];
  const survivors: InventoryEntry[] = [];
  const record = (ref: InventoryEntry, v: PruneVerdict) => {
    entries.push(entry(ref, v.action, v.detail));
    if (v.keep) survivors.push(ref);
  };
  await mapLimit(stale, o.concurrency, async (ref) => {
    const info = byGroupKind.get(`${ref.group}/${ref.kind}`);
    const before = firstVerdict(BEFORE_READ_RULES, { ref, info }, facts);
    if (before || !info) {
      if (before) record(ref, before);
      return;
    }
    const loc: ObjectLocation = { info, ...(ref.namespace ? { namespace: ref.namespace } : {}), name: ref.name };
    const live = await client.get(loc, withSignal(signal));
    const onLive = firstVerdict(LIVE_RULES, { ref, live }, facts);
    if (onLive || !live) {
      if (onLive) record(ref, onLive);
      return;
    }
    candidates.push({ ref, loc, live });
  });
  const stop = firstVerdict(BATCH_RULES, { candidates: candidates.length, inventoryCount }, facts);
  if (stop) {
    return {
      entries: [...entries, ...candidates.map((c) => entry(c.ref, stop.action, stop.detail))],
      survivors: [...survivors, ...candidates.map((c) => c.ref)],
      stop: stop.detail.replace('not pruned: ', 'prune stopped: '),
    };
  }
  if (dryRun) return { entries: [...entries, ...candidates.map((c) => entry(c.ref, ChangeAction.Deleted, 'would be pruned'))], survivors: [...stale] };
  // Reverse apply order: namespaced objects first, definitions last.
  const ordered = [...candidates].sort((a, b) => {
    const sa = a.ref.namespace ? 0 : 1;
    const sb = b.ref.namespace ? 0 : 1;
    return sa !== sb ? sa - sb : kindRank(b.ref.kind) - kindRank(a.ref.kind);
  });
  for (const group of [ordered.filter((c) => c.ref.namespace), ordered.filter((c) => !c.ref.namespace)]) {
    await mapLimit(group, o.concurrency, async (c) => {
      // Preconditions: the object whose label was just checked, not one changed (or re-created) since.
      const m = (c.live.metadata ?? {}) as { uid?: unknown; resourceVersion?: unknown };
      const preconditions = { ...(typeof m.uid === 'string' ? { uid: m.uid } : {}), ...(typeof m.resourceVersion === 'string' ? { resourceVersion: m.resourceVersion } : {}) };
      try {
        const r = await client.delete(c.loc, { preconditions, ...withSignal(signal) });
        entries.push(entry(c.ref, ChangeAction.Deleted, r === 'not-found' ? 'already gone' : 'pruned'));
      } catch (err) {
        if (!(err instanceof KubeApiError)) throw err;
        if (err.status === 409) {
          entries.push(entry(c.ref, ChangeAction.Skipped, 'not pruned: it changed after its label was checked; the next sync looks again'));
          survivors.push(c.ref);
          return;
        }
        entries.push(entry(c.ref, ChangeAction.Failed, `delete failed: ${err.describe()}`));
        survivors.push(c.ref);
      }
    });
  }
  return { entries, survivors };
};
