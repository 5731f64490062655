/** Apply: write a plan stage by stage (definitions, then resources) with server-side apply. */
import { ChangeAction, type ChangeSetEntry } from '../../core/change-set.js';
import { refKey, type InventoryEntry } from '../../core/inventory.js';
import { mapLimit } from '../../core/map-limit.js';
import { formatRef } from '../../core/object-ref.js';
import { takeOver } from '../../core/ownership.js';
import { observe, type Observation } from './apply-cache.js';
import { KubeApiError } from './kube-client.js';
import { Stage } from './ordering.js';
import { listAll } from './plan-objects.js';
import { applyOptions, entry, locationOf, withSignal, type Plan, type SyncContext, type SyncOptions, type WriteStage } from './sync-types.js';
import { waitEstablished } from './wait-ready.js';

/** What the apply did. */
export interface ApplyOutcome {
  /** One entry per planned object, in plan order (skipped ones say why). */
  readonly entries: ChangeSetEntry[];
  /** The inventory of what was applied (or already there), with observations, before prune. */
  readonly applied: InventoryEntry[];
  /** Whether an object's apply failed (by ref key); failed objects are not waited for. */
  readonly failedKeys: ReadonlySet<string>;
  /** Where the apply stopped, when it did. */
  readonly failure?: string;
}

/**
 * Applies the plan's objects stage by stage: definitions (Namespaces, CRDs), a wait for them to be ready, then
 * resources. `beforeWrite` is asked before each stage; a failure in a stage stops before the next one.
 */
export const applyStages = async (
  ctx: SyncContext,
  plan: Plan,
  options: Pick<SyncOptions, 'previousInventory' | 'signal' | 'onProgress' | 'beforeWrite'>,
): Promise<ApplyOutcome> => {
  const { client, o } = ctx;
  const { signal } = options;
  const done = new Map<string, ChangeSetEntry>();
  const observed = new Map<string, Observation>(plan.objects.flatMap((p) => (p.observed ? [[refKey(p.ref), p.observed] as const] : [])));
  let failure: string | undefined;
  for (const stage of [Stage.Definitions, Stage.Resources]) {
    failure = await stoppedBefore(options.beforeWrite, stage === Stage.Definitions ? 'definitions' : 'resources');
    if (failure) break;
    const inStage = plan.objects.filter((p) => p.stage === stage);
    if (stage === Stage.Resources && inStage.some((p) => p.pending && !p.info)) {
      const discovery = await client.discover({ refresh: true, ...withSignal(signal) });
      for (const p of inStage) if (!p.info) p.info = discovery.get(`${String(p.obj.apiVersion)}/${String(p.obj.kind)}`);
    }
    const existingPending = await listAll(
      ctx,
      inStage.filter((p) => p.pending && p.info),
      signal,
    );
    let applied = 0;
    const writes = inStage.filter((p) => p.action !== ChangeAction.Unchanged).length;
    await mapLimit(inStage, o.concurrency, async (p) => {
      if (p.action !== ChangeAction.Unchanged) options.onProgress?.('apply', ++applied, writes);
      if (p.action === ChangeAction.Unchanged) {
        done.set(refKey(p.ref), entry(p.ref, ChangeAction.Unchanged));
        return;
      }
      if (!p.info) {
        done.set(refKey(p.ref), entry(p.ref, ChangeAction.Failed, `kind ${String(p.obj.kind)} is still not served after its CRD was applied`));
        return;
      }
      try {
        // Planned before its Namespace or CRD existed: whether it exists now (and whose it is) is checked here.
        let adopted = false;
        if (p.pending) {
          const existing = existingPending.get(refKey(p.ref));
          const owner = existing && takeOver(existing, formatRef(p.ref), o.id, o.grant?.adopt ?? true);
          if (owner && 'refusal' in owner) {
            done.set(refKey(p.ref), entry(p.ref, ChangeAction.Failed, owner.refusal));
            return;
          }
          adopted = owner !== undefined && 'adopt' in owner;
        }
        const res = await client.apply(locationOf(p), p.obj, applyOptions(o, false, signal));
        const seen = p.digest ? observe(p.digest, res.object) : undefined;
        if (seen) observed.set(refKey(p.ref), seen);
        const action = p.pending ? (adopted ? ChangeAction.Adopted : res.created ? ChangeAction.Created : ChangeAction.Configured) : p.action;
        done.set(refKey(p.ref), entry(p.ref, action, p.pending ? undefined : p.detail));
      } catch (err) {
        if (!(err instanceof KubeApiError)) throw err;
        done.set(refKey(p.ref), entry(p.ref, ChangeAction.Failed, err.describe()));
      }
    });
    const failedHere = inStage.filter((p) => done.get(refKey(p.ref))?.action === ChangeAction.Failed);
    if (failedHere.length) {
      failure = `apply failed for ${failedHere.length} object(s) in the ${stage === Stage.Definitions ? 'definitions' : 'resources'} stage; nothing was pruned`;
      break;
    }
    if (stage === Stage.Definitions) {
      const notReady = await waitEstablished(
        ctx,
        inStage.filter((p) => (p.obj.kind === 'CustomResourceDefinition' || p.obj.kind === 'Namespace') && p.action !== ChangeAction.Unchanged),
        Math.min(60_000, o.wait.timeoutMs),
        signal,
      );
      if (notReady.length) {
        for (const p of notReady) done.set(refKey(p.ref), entry(p.ref, ChangeAction.Failed, 'not established/active in time'));
        failure = `${notReady.map((p) => formatRef(p.ref)).join(', ')} did not become ready; nothing else was applied`;
        break;
      }
    }
  }
  const entries = plan.objects.map((p) => done.get(refKey(p.ref)) ?? entry(p.ref, ChangeAction.Skipped, 'not applied: an earlier stage failed'));
  // Objects that failed to be created are not ours; everything else applied (or already there) is.
  const origins = new Map(options.previousInventory.map((r) => [refKey(r), r.origin]));
  const applied = plan.objects.flatMap((p): InventoryEntry[] => {
    const a = done.get(refKey(p.ref))?.action;
    const seen = a === ChangeAction.Failed ? {} : (observed.get(refKey(p.ref)) ?? {});
    if (a === ChangeAction.Adopted) return [{ ...p.ref, origin: 'adopted', ...seen }];
    if (a === ChangeAction.Created || a === ChangeAction.Configured || a === ChangeAction.Unchanged || (a === ChangeAction.Failed && p.live && p.action !== ChangeAction.Adopted)) {
      return [{ ...p.ref, origin: origins.get(refKey(p.ref)) ?? 'created', ...seen }];
    }
    return [];
  });
  const failedKeys = new Set([...done].filter(([, e]) => e.action === ChangeAction.Failed).map(([k]) => k));
  return { entries, applied, failedKeys, ...(failure !== undefined ? { failure } : {}) };
};

/** Asks `beforeWrite` whether the sync may go on to `stage`; its rejection becomes the reason the sync stopped. */
export const stoppedBefore = (beforeWrite: SyncOptions['beforeWrite'], stage: WriteStage): Promise<string | undefined> | undefined =>
  beforeWrite?.(stage).then(
    () => undefined,
    (err: unknown) => `${(err as Error).message}; stopped before the ${stage} stage`,
  );
