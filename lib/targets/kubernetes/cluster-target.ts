import { ChangeAction, type ChangeSetEntry } from '../../core/change-set.js';
import { ReconcilerError } from '../../core/errors.js';
import { mergeSurvivors, type InventoryEntry } from '../../core/inventory.js';
import { formatRef, refOf, type KubeObject } from '../../core/object-ref.js';
import type { ObjectDrift } from '../../core/drift.js';
import type { KubernetesDesiredState, PlannedChange, Target, TargetApply, TargetPlan, TargetRunOptions } from '../../core/target.js';
import { driftReport } from './kubernetes-drift.js';
import type { KubeClient } from './kube-client.js';
import { KubernetesTarget, type KubernetesTargetOptions } from './kubernetes-target.js';
import type { Plan } from './sync-types.js';

/** The observations a plan made (objects found unchanged), as inventory entries to keep. */
const observedOf = (objects: Plan['objects']): InventoryEntry[] =>
  objects.flatMap((p): InventoryEntry[] =>
    p.observed
      ? [
          {
            ...p.ref,
            digest: p.observed.digest,
            resourceVersion: p.observed.resourceVersion,
            ...(p.observed.generation !== undefined ? { generation: p.observed.generation } : {}),
          },
        ]
      : [],
  );

/**
 * A Kubernetes cluster behind the `Target` port: staged server-side apply, prune and wait (KubernetesTarget),
 * with the inventory taken from the objects carrying the target's label when no ledger gives one.
 * @example
 * const target = createKubernetesTarget(client, { id: 'acme/shop/web', namespace: 'shop' });
 * const applied = await target.apply({ kind: 'kubernetes', objects, files, warnings: [] }, { previousInventory: [] });
 */
export const createKubernetesTarget = (client: KubeClient, options: KubernetesTargetOptions): Target<KubernetesDesiredState> => {
  const engine = new KubernetesTarget(client, options);
  const inventoryOf = async (o: TargetRunOptions, signal?: AbortSignal): Promise<{ inventory: readonly InventoryEntry[]; labelled?: KubeObject[] }> => {
    if (o.previousInventory) return { inventory: o.previousInventory };
    const labelled = await engine.labelledObjects(signal);
    return { inventory: labelled.map(refOf), labelled };
  };
  return {
    id: options.id,
    kind: 'kubernetes',

    async plan(desired, o = {}): Promise<TargetPlan> {
      const signal = o.deadline?.signal;
      const { inventory, labelled } = await inventoryOf(o, signal);
      const { plan, prune } = await engine.preview(desired.objects, {
        previousInventory: inventory,
        ...(o.checked?.length ? { known: [...inventory, ...o.checked] } : {}),
        ...(signal ? { signal } : {}),
        ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      });
      o.onObserved?.(observedOf(plan.objects));
      const changes: PlannedChange[] = plan.objects.map((p) => ({
        ref: p.ref,
        action: p.action,
        ...(p.detail ? { detail: p.detail } : {}),
        ...(p.live ? { live: p.live } : {}),
        desired: p.dryRun ?? p.obj,
      }));
      const byRef = new Map((labelled ?? []).map((obj) => [formatRef(refOf(obj)), obj] as const));
      const pruned: PlannedChange[] = prune.entries.map((e) => {
        const live = byRef.get(formatRef(e.ref));
        return { ref: e.ref, action: e.action, ...(e.detail ? { detail: e.detail } : {}), ...(live ? { live } : {}) };
      });
      const entries: ChangeSetEntry[] = [...changes.map(({ ref, action, detail }) => ({ ref, action, ...(detail ? { detail } : {}) })), ...prune.entries];
      return { changeSet: { target: options.id, entries }, failed: plan.failed.length, changes, pruned, ...(prune.stop ? { stop: prune.stop } : {}) };
    },

    async apply(desired, o = {}): Promise<TargetApply> {
      const signal = o.deadline?.signal;
      const { inventory } = await inventoryOf(o, signal);
      const result = await engine.sync(desired.objects, {
        previousInventory: inventory,
        ...(o.checked?.length ? { known: o.checked } : {}),
        ...(signal ? { signal } : {}),
        ...(o.beforeWrite ? { beforeWrite: o.beforeWrite } : {}),
        ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      });
      const failedRefs = result.changeSet.entries.filter((e) => e.action === ChangeAction.Failed).map((e) => e.ref);
      const unhealthy = Object.entries(result.health)
        .filter(([, h]) => h.status !== 'ready')
        .map(([ref, h]) => ({ ref, status: h.status, ...(h.message ? { message: h.message } : {}) }));
      return {
        result: result.failed ? 'failed' : 'succeeded',
        changeSet: result.changeSet,
        // A write that failed may still have reached the cluster (a dropped connection): it stays in the inventory.
        inventory: result.failed ? mergeSurvivors(result.inventory, failedRefs) : result.inventory,
        ...(result.error !== undefined ? { error: result.error } : {}),
        ...(result.refused ? { refused: result.refused } : {}),
        ...(unhealthy.length ? { unhealthy } : {}),
        timings: result.timings,
      };
    },

    async detectDrift(desired, o = {}): Promise<readonly ObjectDrift[]> {
      if (!desired) throw new ReconcilerError(`${options.id}: a drift check of a cluster needs the desired objects`);
      const signal = o.deadline?.signal;
      // A dry run with force: a field another manager took over shows as drift, not as a conflict.
      const checker = new KubernetesTarget(client, { ...options, force: true, wait: { enabled: false, timeoutMs: options.wait?.timeoutMs ?? 300_000 } });
      // What the inventory and earlier checks observed spares the dry run of every object unchanged since.
      const known = [...(o.previousInventory ?? []), ...(o.checked ?? [])];
      const plan = await checker.plan(await checker.prepare(desired.objects, signal), signal, undefined, { known, validateCreates: false });
      o.onObserved?.(observedOf(plan.objects));
      const labelled = o.labelled ?? (await checker.labelledObjects(signal));
      return driftReport(options.id, plan.objects, labelled, o.previousInventory).objects;
    },
  };
};
