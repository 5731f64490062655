import { ChangeAction, type ChangeSetEntry } from '../../core/change-set.js';
import { diffInventory, mergeSurvivors, refKey, type InventoryEntry } from '../../core/inventory.js';
import type { KubeObject, ObjectRef } from '../../core/object-ref.js';
import { FIELD_MANAGER, targetLabelValue, targetSelector } from '../../core/ownership.js';
import { applyStages, stoppedBefore } from './apply-stages.js';
import type { Health } from './health.js';
import type { KubeClient } from './kube-client.js';
import { listLabelled } from './labelled-objects.js';
import { planObjects } from './plan-objects.js';
import { prepareObjects } from './prepare-objects.js';
import { pruneStale } from './prune-stale.js';
import { entry, type KubernetesTargetOptions, type Plan, type PlanOptions, type PreparedObject, type SyncContext, type SyncOptions, type SyncResult } from './sync-types.js';
import { waitHealthy } from './wait-ready.js';

/** Kept importable from here; the error lives in lib/core (use cases branch on it). */
export { GrantRefusalError } from '../../core/errors.js';
/** The sync's vocabulary lives in sync-types.ts; kept importable from here. */
export type { KubernetesTargetOptions, Plan, PlannedObject, PlanOptions, PreparedObject, SyncOptions, SyncResult } from './sync-types.js';

/**
 * A Kubernetes cluster as a target: staged server-side apply, prune and health wait, all through a KubeClient.
 * The verbs live in their own modules (prepare-objects, plan-objects, apply-stages, prune-stale with the rules
 * of prune-rules, wait-ready); this class holds the target's options and runs them in order.
 * @example
 * const target = new KubernetesTarget(client, { id: 'acme/shop/shop-prod', namespace: 'shop' });
 * const result = await target.sync(objects, { previousInventory: [] });
 */
export class KubernetesTarget {
  private readonly ctx: SyncContext;

  constructor(client: KubeClient, options: KubernetesTargetOptions) {
    this.ctx = {
      client,
      o: {
        force: true,
        concurrency: 8,
        prune: { enabled: true, allowEmpty: false, allowKinds: [], maxDeleteShare: 0.5 },
        wait: { enabled: false, timeoutMs: 300_000 },
        pollMs: 2000,
        fieldManager: FIELD_MANAGER,
        ...options,
      },
      label: targetLabelValue(options.id),
      selector: targetSelector(options.id),
    };
  }

  /** The label selector of this target's objects. */
  get selector(): string {
    return this.ctx.selector;
  }

  /** Rendered objects → objects ready to apply, checked against the grant (prepare-objects.ts). */
  async prepare(objects: readonly KubeObject[], signal?: AbortSignal): Promise<PreparedObject[]> {
    return prepareObjects(this.ctx, objects, signal);
  }

  /** What applying would change, compared with the live object; writes nothing (plan-objects.ts). */
  async plan(
    prepared: readonly PreparedObject[],
    signal?: AbortSignal,
    onProgress?: (phase: 'plan', done: number, total: number) => void,
    options: PlanOptions = {},
  ): Promise<Plan> {
    return planObjects(this.ctx, prepared, signal, onProgress, options);
  }

  /** What a sync would do: the dry-run plan and the prune it would make. Writes nothing. */
  async preview(
    objects: readonly KubeObject[],
    options: Pick<SyncOptions, 'previousInventory' | 'signal' | 'onProgress'> & {
      /** The inventory whose observations let unchanged objects skip the dry run. @default previousInventory */
      readonly known?: readonly InventoryEntry[];
    },
  ): Promise<{ plan: Plan; prune: { entries: ChangeSetEntry[]; stop?: string } }> {
    const prepared = await this.prepare(objects, options.signal);
    const plan = await this.plan(prepared, options.signal, options.onProgress, { known: options.known ?? options.previousInventory });
    const stale = diffInventory(
      options.previousInventory,
      prepared.map((p) => p.ref),
    );
    const prune = plan.failed.length ? { entries: [] } : await pruneStale(this.ctx, stale, prepared.length, options.previousInventory.length, options.signal, true);
    return { plan, prune };
  }

  /** Plan, apply by stage, prune and wait. A failure stops the sync, prunes nothing and returns the partial change set. */
  async sync(objects: readonly KubeObject[], options: SyncOptions): Promise<SyncResult> {
    const { signal } = options;
    const timings = { planMs: 0, applyMs: 0, pruneMs: 0, waitMs: 0 };
    let t = performance.now();
    const prepared = await this.prepare(objects, signal);
    // A dry-run sync reports what the server would reject; a real sync lets the apply itself validate creates.
    const known = options.known?.length ? [...options.previousInventory, ...options.known] : options.previousInventory;
    const plan = await this.plan(prepared, signal, options.onProgress, { known, validateCreates: options.dryRun === true });
    timings.planMs = performance.now() - t;
    const desiredRefs = prepared.map((p) => p.ref);
    const result = (entries: ChangeSetEntry[], inventory: ObjectRef[], error?: string, health: Record<string, Health> = {}): SyncResult => ({
      changeSet: { target: this.ctx.o.id, entries },
      inventory,
      failed: error !== undefined,
      ...(error !== undefined ? { error } : {}),
      health,
      timings,
    });

    if (plan.failed.length) {
      const entries = plan.objects.map((p) =>
        p.action === ChangeAction.Failed ? entry(p.ref, ChangeAction.Failed, p.detail) : entry(p.ref, ChangeAction.Skipped, 'not applied: the dry run failed for another object'),
      );
      const refused = plan.failed.filter((p) => p.refused).map((p) => p.detail);
      const others = plan.failed.length - refused.length;
      const why = [...refused, ...(others ? [`dry run failed for ${others}${refused.length ? ' other' : ''} object(s)`] : [])].join('; ');
      const refusals = refused.filter((d): d is string => d !== undefined);
      return { ...result(entries, [...options.previousInventory], `${why}; nothing was applied`), ...(refusals.length ? { refused: refusals } : {}) };
    }
    const stale = diffInventory(options.previousInventory, desiredRefs);
    if (options.dryRun) {
      const pruneEntries = await pruneStale(this.ctx, stale, desiredRefs.length, options.previousInventory.length, signal, true);
      return result([...plan.objects.map((p) => entry(p.ref, p.action, p.detail)), ...pruneEntries.entries], [...options.previousInventory], pruneEntries.stop);
    }

    t = performance.now();
    const applied = await applyStages(this.ctx, plan, options);
    timings.applyMs = performance.now() - t;
    const { entries } = applied;
    if (applied.failure) return result(entries, mergeSurvivors(applied.applied, options.previousInventory), applied.failure);

    const beforePrune = await stoppedBefore(options.beforeWrite, 'prune');
    if (beforePrune) return result(entries, mergeSurvivors(applied.applied, options.previousInventory), beforePrune);
    t = performance.now();
    const pruned = await pruneStale(this.ctx, stale, desiredRefs.length, options.previousInventory.length, signal);
    timings.pruneMs = performance.now() - t;
    const inventory = mergeSurvivors(applied.applied, pruned.survivors);
    if (pruned.stop) return result([...entries, ...pruned.entries], inventory, pruned.stop);

    let health: Record<string, Health> = {};
    if (this.ctx.o.wait.enabled) {
      t = performance.now();
      health = await waitHealthy(
        this.ctx,
        plan.objects.filter((p) => !applied.failedKeys.has(refKey(p.ref))),
        signal,
      );
      timings.waitMs = performance.now() - t;
      const bad = Object.entries(health).filter(([, h]) => h.status !== 'ready');
      if (bad.length) {
        return result(
          [...entries, ...pruned.entries],
          inventory,
          `${bad.length} object(s) not healthy: ${bad.map(([k, h]) => `${k} ${h.status}${h.message ? ` (${h.message})` : ''}`).join('; ')}`,
          health,
        );
      }
    }
    const failedDeletes = pruned.entries.filter((e) => e.action === ChangeAction.Failed).length;
    return result([...entries, ...pruned.entries], inventory, failedDeletes ? `${failedDeletes} object(s) could not be pruned` : undefined, health);
  }

  /** Lists the objects on the cluster that carry this target's label (the inventory when no ledger is kept). */
  async labelledObjects(signal?: AbortSignal): Promise<KubeObject[]> {
    return (await listLabelled(this.ctx.client, this.selector, { concurrency: this.ctx.o.concurrency, ...(signal ? { signal } : {}) })).map((l) => l.object);
  }
}
