import { ChangeAction, type ChangeSet, type ChangeSetEntry } from '../../core/change-set.js';
import { GrantRefusalError, ReconcilerError } from '../../core/errors.js';
import { diffInventory, mergeSurvivors, refKey, type InventoryEntry } from '../../core/inventory.js';
import { formatRef, splitApiVersion, type KubeObject, type ObjectRef } from '../../core/object-ref.js';
import { FIELD_MANAGER, ownerOf, PRUNE_ANNOTATION, takeOver, TARGET_ID_ANNOTATION, TARGET_LABEL, targetLabelValue, targetSelector } from '../../core/ownership.js';
import { grantRefusal, prunableKinds, type KubernetesGrant } from '../../config/registry-check.js';
import { healthOf, type Health } from './health.js';
import { isMissingNamespace, KubeApiError, type KubeClient, type ObjectLocation, type ResourceInfo } from './kube-client.js';
import { comparable, jsonEqual } from './normalize.js';
import { mapLimit } from '../../core/map-limit.js';
import { applyOrder, kindRank, Stage, stageOf } from './ordering.js';
import { ApplyCache, observe, type Observation } from './apply-cache.js';
import { listLabelled } from './labelled-objects.js';
import type { Obj } from '../../core/plain-object.js';

/** Kept importable from here; the error lives in lib/core (use cases branch on it). */
export { GrantRefusalError } from '../../core/errors.js';

/** Kinds whose deletion needs `prune.allowKinds`. */
const PROTECTED = new Set(['Namespace', 'CustomResourceDefinition', 'PersistentVolumeClaim']);

/** How one Kubernetes target is applied (the target's effective config). */
export interface KubernetesTargetOptions {
  /** The target's id, `owner/repo/target`. */
  readonly id: string;
  /** Namespace for namespaced objects that name none. */
  readonly namespace?: string;
  /** @default true */
  readonly force?: boolean;
  /** @default 8 */
  readonly concurrency?: number;
  readonly prune?: { enabled: boolean; allowEmpty: boolean; allowKinds: readonly string[]; maxDeleteShare: number };
  readonly wait?: { enabled: boolean; timeoutMs: number };
  /** Poll interval of health and readiness waits. @default 2000 */
  readonly pollMs?: number;
  /** @default 'driftless' */
  readonly fieldManager?: string;
  /**
   * What the registry grants the repository (lib/config/registry-check.ts): namespaces, cluster-scoped kinds,
   * adoption and prunable protected kinds, enforced on the final objects of every sync, plan and prune.
   * Absent only without a registry (a CLI run without --registry): then the cluster's own RBAC is the limit,
   * existing objects are adopted, and `prune.allowKinds` alone decides. Another target's objects are refused either way.
   */
  readonly grant?: KubernetesGrant;
}

/** One desired object ready to apply. */
export interface PreparedObject {
  readonly obj: KubeObject;
  readonly ref: ObjectRef;
  readonly stage: Stage;
  /** Set once discovery knows the kind; undefined for kinds a CRD of this same sync defines. */
  info?: ResourceInfo;
}

/** How `plan` reads the cluster. */
export interface PlanOptions {
  /** The inventory whose observations (apply-cache.ts) let unchanged objects skip the dry run. */
  readonly known?: readonly InventoryEntry[];
  /**
   * Dry-run creates too, so that the server's rejection of a new object shows in the plan (diff, dry-run sync).
   * Off for a drift check (a missing object is missing) and a real sync, whose apply is the validation.
   * @default true
   */
  readonly validateCreates?: boolean;
}

/** What the dry run says about one object. */
export interface PlannedObject extends PreparedObject {
  readonly action: ChangeAction;
  readonly detail?: string;
  /** The live object, when there is one. */
  readonly live?: KubeObject;
  /** The object as the server would store it. */
  readonly dryRun?: KubeObject;
  /** The dry run could not run because a Namespace or CRD of this sync does not exist yet. */
  readonly pending?: boolean;
  /** Refused before any write: the object exists live and is not this target's to take over. */
  readonly refused?: boolean;
  /** The digest of the desired object (apply-cache.ts). */
  readonly digest?: string;
  /** For an unchanged object: what to record for it in the inventory (apply-cache.ts). */
  readonly observed?: Observation;
}

/** The result of `plan`. */
export interface Plan {
  readonly objects: readonly PlannedObject[];
  /** Dry-run failures whose prerequisites already exist: a sync with any stops before writing. */
  readonly failed: readonly PlannedObject[];
}

/** What a sync did. */
export interface SyncResult {
  readonly changeSet: ChangeSet;
  /** The inventory to record: applied objects (with how each came in) plus stale ones that were not deleted. */
  readonly inventory: InventoryEntry[];
  /** Whether the sync failed (it then pruned nothing). */
  readonly failed: boolean;
  /** Where it stopped, when it failed. */
  readonly error?: string;
  readonly health: Record<string, Health>;
  readonly timings: { planMs: number; applyMs: number; pruneMs: number; waitMs: number };
  /** Refusals of objects that exist live and are not this target's (nothing was applied). */
  readonly refused?: readonly string[];
}

export interface SyncOptions {
  readonly previousInventory: readonly InventoryEntry[];
  /** Plan only: report what would change (prune included), write nothing. */
  readonly dryRun?: boolean;
  readonly signal?: AbortSignal;
  /** Called as work progresses (for a CLI progress line). */
  readonly onProgress?: (phase: 'plan' | 'apply' | 'prune' | 'wait', done: number, total: number) => void;
  /**
   * Called before each stage that writes (each apply stage, prune); a rejection stops the sync there, as a failed
   * sync that prunes nothing and keeps what was applied in its inventory (the reconciler checks its lease here).
   */
  readonly beforeWrite?: (stage: 'definitions' | 'resources' | 'prune') => Promise<void>;
}

/**
 * A Kubernetes cluster as a target: staged server-side apply, prune and health wait, all through a KubeClient.
 * @example
 * const target = new KubernetesTarget(client, { id: 'acme/shop/shop-prod', namespace: 'shop' });
 * const result = await target.sync(objects, { previousInventory: [] });
 */
export class KubernetesTarget {
  private readonly o: Required<Omit<KubernetesTargetOptions, 'namespace' | 'grant'>> & { namespace?: string; grant?: KubernetesGrant };
  private readonly label: string;

  constructor(
    private readonly client: KubeClient,
    options: KubernetesTargetOptions,
  ) {
    this.o = {
      force: true,
      concurrency: 8,
      prune: { enabled: true, allowEmpty: false, allowKinds: [], maxDeleteShare: 0.5 },
      wait: { enabled: false, timeoutMs: 300_000 },
      pollMs: 2000,
      fieldManager: FIELD_MANAGER,
      ...options,
    };
    this.label = targetLabelValue(options.id);
  }

  /** The label selector of this target's objects. */
  get selector(): string {
    return targetSelector(this.o.id);
  }

  /**
   * Adds the default namespace and the ownership label and annotation; resolves each kind. Then checks the
   * final objects against the grant, with each kind's scope from discovery and from CRDs of this render:
   * any object outside it throws before anything is sent.
   */
  async prepare(objects: readonly KubeObject[], signal?: AbortSignal): Promise<PreparedObject[]> {
    const discovery = await this.client.discover({ ...(signal ? { signal } : {}) });
    const crdKinds = new Set(
      objects
        .filter((o) => o.kind === 'CustomResourceDefinition')
        .flatMap((crd) => {
          const spec = (crd.spec ?? {}) as Obj;
          const kind = String((spec.names as Obj | undefined)?.kind ?? '');
          return ((spec.versions as Obj[] | undefined) ?? []).map((v) => `${String(spec.group)}/${String(v.name)}/${kind}`);
        }),
    );
    const seen = new Set<string>();
    const prepared = objects.map((input) => {
      const obj = structuredClone<KubeObject>(input);
      const apiVersion = String(obj.apiVersion);
      const key = `${apiVersion}/${String(obj.kind)}`;
      const info = discovery.get(key);
      const meta = (obj.metadata ?? {}) as Obj;
      obj.metadata = meta;
      // A kind is namespaced only if neither discovery nor a CRD of this render says it is cluster-scoped.
      const fromCrd = crdKinds.has(key) ? crdNamespaced(objects, key) : undefined;
      const namespaced = info || fromCrd !== undefined ? (info?.namespaced ?? true) && (fromCrd ?? true) : Boolean(meta.namespace);
      if (namespaced && !meta.namespace) {
        if (!this.o.namespace) {
          throw new ReconcilerError(`${String(obj.kind)}/${String(meta.name)} has no namespace and the target sets none`);
        }
        meta.namespace = this.o.namespace;
      }
      if (!namespaced) delete meta.namespace;
      meta.labels = { ...(meta.labels ?? {}), [TARGET_LABEL]: this.label };
      meta.annotations = { ...(meta.annotations ?? {}), [TARGET_ID_ANNOTATION]: this.o.id };
      const [group] = splitApiVersion(apiVersion);
      const ref: ObjectRef = { group, kind: String(obj.kind), ...(namespaced ? { namespace: String(meta.namespace) } : {}), name: String(meta.name) };
      if (seen.has(refKey(ref))) throw new ReconcilerError(`${formatRef(ref)} is declared twice in ${this.o.id}`);
      seen.add(refKey(ref));
      if (!info && !crdKinds.has(key)) {
        throw new ReconcilerError(`${formatRef(ref)}: unknown kind ${String(obj.kind)} in ${apiVersion} (the API server does not serve it and no CRD of this target defines it)`);
      }
      return { obj, ref, stage: stageOf(obj), namespaced, ...(info ? { info } : {}) };
    });
    const grant = this.o.grant;
    if (grant) {
      const refusals = prepared.flatMap((p) => grantRefusal(p.ref, p.namespaced, grant) ?? []);
      if (refusals.length) throw new GrantRefusalError(`${refusals.join('; ')}; nothing was applied`);
    }
    return prepared.map(({ namespaced: _, ...p }) => p);
  }

  /**
   * What applying would change, compared with the live object. Writes nothing. The LISTs that read live state
   * come first; then an object the inventory records as unchanged at its live resourceVersion costs no
   * request, a create costs none when no object of that name exists and `validateCreates` is off (planCreates),
   * and every other object gets a server-side dry run.
   */
  async plan(
    prepared: readonly PreparedObject[],
    signal?: AbortSignal,
    onProgress?: (phase: 'plan', done: number, total: number) => void,
    options: PlanOptions = {},
  ): Promise<Plan> {
    const { known, validateCreates = true } = options;
    let planned = 0;
    const progress = () => onProgress?.('plan', ++planned, prepared.length);
    const live = await this.liveObjects(prepared, signal);
    const cache = new ApplyCache(known, this.o.fieldManager);
    const namespacesInSync = new Set(prepared.filter((p) => p.obj.kind === 'Namespace').map((p) => p.ref.name));
    const ordered = applyOrder(prepared).map((p) => ({ ...p, digest: cache.digest(p.obj) }));
    const out = new Map<PreparedObject, PlannedObject>();
    for (const p of ordered) {
      const current = live.get(refKey(p.ref));
      if (!p.info || !current || !cache.unchanged(p.ref, p.digest, current)) continue;
      if (!('owned' in takeOver(current, formatRef(p.ref), this.o.id, this.o.grant?.adopt ?? true))) continue;
      out.set(p, { ...p, action: ChangeAction.Unchanged, live: current, ...withObservation(observe(p.digest, current)) });
      progress();
    }
    // Not among this target's objects: one LIST per kind and namespace, whoever owns them, tells whether it exists.
    // Their namespaces are read alongside, for creates planned without a dry run (planCreates).
    const absent = ordered.filter((p) => p.info && !live.has(refKey(p.ref)));
    const [others, namespaces] = await Promise.all([this.listAll(absent, signal), validateCreates ? new Map() : this.namespacesOf(absent, namespacesInSync, signal)]);
    for (const [k, o] of others) if (!live.has(k)) live.set(k, o);
    const creates = absent.filter((p) => !live.has(refKey(p.ref)));
    const dryRuns = ordered.filter((p) => !out.has(p) && !creates.includes(p));
    const dryRun = async (p: (typeof ordered)[number]) => {
      try {
        out.set(p, { ...(await this.planOneWith(p, live, namespacesInSync, signal)), digest: p.digest });
      } finally {
        progress();
      }
    };
    await mapLimit(dryRuns, this.o.concurrency, dryRun);
    // An existing object changes: creates are dry-run too, so that a broken commit is found before any write.
    const writesExisting = dryRuns.some((p) => {
      const action = out.get(p)?.action;
      return action !== ChangeAction.Unchanged && action !== ChangeAction.Created;
    });
    if (writesExisting || validateCreates) await mapLimit(creates, this.o.concurrency, dryRun);
    else {
      for (const [p, o] of await this.planCreates(creates, out, namespaces, signal)) {
        out.set(p, o);
        progress();
      }
    }
    const objects = ordered.map((p) => out.get(p) as PlannedObject);
    for (const o of objects) {
      if (o.action === ChangeAction.Unchanged && !o.observed && o.live && o.digest) Object.assign(o, withObservation(observe(o.digest, o.live)));
    }
    return { objects, failed: objects.filter((o) => o.action === ChangeAction.Failed) };
  }

  /**
   * Creates planned without a dry run: no object of that name exists, so nothing can be taken over and the
   * apply creates exactly what was rendered. Their namespace must exist (one GET per namespace, not per object);
   * one this sync creates makes them pending, as after a dry run. The server validates them at the apply
   * itself: a rejected create fails the sync, which then prunes nothing, and no existing object was written
   * (a sync that changes an existing object dry-runs its creates first, see plan).
   */
  private async planCreates(
    creates: readonly (PreparedObject & { digest: string })[],
    planned: ReadonlyMap<PreparedObject, PlannedObject>,
    namespaces: ReadonlyMap<string, KubeObject | undefined | 'unknown'>,
    signal?: AbortSignal,
  ): Promise<[PreparedObject, PlannedObject][]> {
    if (!creates.length) return [];
    const state = new Map<string, 'active' | 'created-here' | 'missing' | 'other'>();
    for (const [name, ns] of namespaces) state.set(name, ns === 'unknown' ? 'other' : !ns ? 'missing' : terminating(ns) ? 'other' : 'active');
    for (const p of [...planned.values()].filter((p) => p.obj.kind === 'Namespace')) {
      state.set(p.ref.name, p.action === ChangeAction.Created ? 'created-here' : terminating(p.live) ? 'other' : 'active');
    }
    for (const p of creates) if (p.obj.kind === 'Namespace') state.set(p.ref.name, 'created-here');
    const out: [PreparedObject, PlannedObject][] = [];
    const fallback: (PreparedObject & { digest: string })[] = [];
    for (const p of creates) {
      const ns = p.ref.namespace ? state.get(p.ref.namespace) : 'active';
      if (ns === 'active') out.push([p, { ...p, action: ChangeAction.Created }]);
      else if (ns === 'created-here') out.push([p, { ...p, action: ChangeAction.Created, detail: `namespace ${p.ref.namespace ?? ''} is created by this sync`, pending: true }]);
      else if (ns === 'missing')
        out.push([p, { ...p, action: ChangeAction.Failed, detail: `namespace ${p.ref.namespace ?? ''} does not exist (create it, or add a Namespace to the target)` }]);
      // A terminating namespace: the dry run says what the server says.
      else fallback.push(p);
    }
    const namespacesInSync = new Set([...state].filter(([, s]) => s === 'created-here').map(([n]) => n));
    await mapLimit(fallback, this.o.concurrency, async (p) => {
      out.push([p, { ...(await this.planOneWith(p, new Map(), namespacesInSync, signal)), digest: p.digest }]);
    });
    return out;
  }

  private async planOneWith(p: PreparedObject, live: Map<string, KubeObject>, namespacesInSync: Set<string>, signal?: AbortSignal): Promise<PlannedObject> {
    if (!p.info) return { ...p, action: ChangeAction.Created, detail: 'kind defined by a CRD of this sync', pending: true };
    try {
      const res = await this.client.apply(this.loc(p), p.obj, this.applyOptions(true, signal));
      let current = live.get(refKey(p.ref));
      if (!res.created && !current) current = await this.client.get(this.loc(p), { ...(signal ? { signal } : {}) });
      if (res.created || !current) return { ...p, action: ChangeAction.Created, dryRun: res.object };
      const owner = takeOver(current, formatRef(p.ref), this.o.id, this.o.grant?.adopt ?? true);
      if ('refusal' in owner) return { ...p, action: ChangeAction.Failed, detail: owner.refusal, refused: true, live: current };
      if ('adopt' in owner) return { ...p, action: ChangeAction.Adopted, detail: 'taken over: it existed without driftless ownership', dryRun: res.object, live: current };
      const same = jsonEqual(comparable(res.object), comparable(current));
      return { ...p, action: same ? ChangeAction.Unchanged : ChangeAction.Configured, dryRun: res.object, live: current };
    } catch (err) {
      if (isMissingNamespace(err) && p.ref.namespace && namespacesInSync.has(p.ref.namespace)) {
        return { ...p, action: ChangeAction.Created, detail: `namespace ${p.ref.namespace} is created by this sync`, pending: true };
      }
      if (isMissingNamespace(err) && p.ref.namespace) {
        return { ...p, action: ChangeAction.Failed, detail: `namespace ${p.ref.namespace} does not exist (create it, or add a Namespace to the target)` };
      }
      if (err instanceof KubeApiError) return { ...p, action: ChangeAction.Failed, detail: err.describe() };
      throw err;
    }
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
    const prune = plan.failed.length ? { entries: [] } : await this.prunePlan(stale, prepared.length, options.previousInventory.length, options.signal);
    return { plan, prune };
  }

  /** Plan, apply by stage, prune and wait. A failure stops the sync, prunes nothing and returns the partial change set. */
  async sync(objects: readonly KubeObject[], options: SyncOptions): Promise<SyncResult> {
    const { signal } = options;
    const timings = { planMs: 0, applyMs: 0, pruneMs: 0, waitMs: 0 };
    let t = performance.now();
    const prepared = await this.prepare(objects, signal);
    // A dry-run sync reports what the server would reject; a real sync lets the apply itself validate creates.
    const plan = await this.plan(prepared, signal, options.onProgress, { known: options.previousInventory, validateCreates: options.dryRun === true });
    timings.planMs = performance.now() - t;
    const desiredRefs = prepared.map((p) => p.ref);
    const result = (entries: ChangeSetEntry[], inventory: ObjectRef[], error?: string, health: Record<string, Health> = {}): SyncResult => ({
      changeSet: { target: this.o.id, entries },
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
      const pruneEntries = await this.prunePlan(stale, desiredRefs.length, options.previousInventory.length, signal);
      return result([...plan.objects.map((p) => entry(p.ref, p.action, p.detail)), ...pruneEntries.entries], [...options.previousInventory], pruneEntries.stop);
    }

    // Apply, stage by stage.
    t = performance.now();
    const done = new Map<string, ChangeSetEntry>();
    const observed = new Map<string, Observation>(plan.objects.flatMap((p) => (p.observed ? [[refKey(p.ref), p.observed] as const] : [])));
    let failure: string | undefined;
    const stopped = (stage: 'definitions' | 'resources' | 'prune') =>
      options.beforeWrite?.(stage).then(
        () => undefined,
        (err: unknown) => `${(err as Error).message}; stopped before the ${stage} stage`,
      );
    for (const stage of [Stage.Definitions, Stage.Resources]) {
      failure = await stopped(stage === Stage.Definitions ? 'definitions' : 'resources');
      if (failure) break;
      const inStage = plan.objects.filter((p) => p.stage === stage);
      if (stage === Stage.Resources && inStage.some((p) => p.pending && !p.info)) {
        const discovery = await this.client.discover({ refresh: true, ...(signal ? { signal } : {}) });
        for (const p of inStage) if (!p.info) p.info = discovery.get(`${String(p.obj.apiVersion)}/${String(p.obj.kind)}`);
      }
      const existingPending = await this.listAll(
        inStage.filter((p) => p.pending && p.info),
        signal,
      );
      let applied = 0;
      const writes = inStage.filter((p) => p.action !== ChangeAction.Unchanged).length;
      await mapLimit(inStage, this.o.concurrency, async (p) => {
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
            const owner = existing && takeOver(existing, formatRef(p.ref), this.o.id, this.o.grant?.adopt ?? true);
            if (owner && 'refusal' in owner) {
              done.set(refKey(p.ref), entry(p.ref, ChangeAction.Failed, owner.refusal));
              return;
            }
            adopted = owner !== undefined && 'adopt' in owner;
          }
          const res = await this.client.apply(this.loc(p), p.obj, this.applyOptions(false, signal));
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
        const notReady = await this.waitFor(
          inStage.filter((p) => (p.obj.kind === 'CustomResourceDefinition' || p.obj.kind === 'Namespace') && p.action !== ChangeAction.Unchanged),
          Math.min(60_000, this.o.wait.timeoutMs),
          signal,
        );
        if (notReady.length) {
          for (const p of notReady) done.set(refKey(p.ref), entry(p.ref, ChangeAction.Failed, 'not established/active in time'));
          failure = `${notReady.map((p) => formatRef(p.ref)).join(', ')} did not become ready; nothing else was applied`;
          break;
        }
      }
    }
    timings.applyMs = performance.now() - t;
    const entries = plan.objects.map((p) => done.get(refKey(p.ref)) ?? entry(p.ref, ChangeAction.Skipped, 'not applied: an earlier stage failed'));
    // Objects that failed to be created are not ours; everything else applied (or already there) is.
    const origins = new Map(options.previousInventory.map((r) => [refKey(r), r.origin]));
    const applied = plan.objects.flatMap((p): InventoryEntry[] => {
      const a = done.get(refKey(p.ref))?.action;
      const seen = a === ChangeAction.Failed ? {} : (observed.get(refKey(p.ref)) ?? {});
      if (a === ChangeAction.Adopted) return [{ ...p.ref, origin: 'adopted', ...seen }];
      if (
        a === ChangeAction.Created ||
        a === ChangeAction.Configured ||
        a === ChangeAction.Unchanged ||
        (a === ChangeAction.Failed && p.live && p.action !== ChangeAction.Adopted)
      ) {
        return [{ ...p.ref, origin: origins.get(refKey(p.ref)) ?? 'created', ...seen }];
      }
      return [];
    });
    if (failure) return result(entries, mergeSurvivors(applied, options.previousInventory), failure);

    // Prune.
    const beforePrune = await stopped('prune');
    if (beforePrune) return result(entries, mergeSurvivors(applied, options.previousInventory), beforePrune);
    t = performance.now();
    const pruned = await this.prune(stale, desiredRefs.length, options.previousInventory.length, signal);
    timings.pruneMs = performance.now() - t;
    const inventory = mergeSurvivors(applied, pruned.survivors);
    if (pruned.stop) return result([...entries, ...pruned.entries], inventory, pruned.stop);

    // Wait for health.
    let health: Record<string, Health> = {};
    if (this.o.wait.enabled) {
      t = performance.now();
      health = await this.health(
        plan.objects.filter((p) => done.get(refKey(p.ref))?.action !== ChangeAction.Failed),
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
    return (await listLabelled(this.client, this.selector, { concurrency: this.o.concurrency, ...(signal ? { signal } : {}) })).map((l) => l.object);
  }

  /** What prune would do, without deleting. */
  private async prunePlan(stale: InventoryEntry[], desiredCount: number, inventoryCount: number, signal?: AbortSignal) {
    return this.prune(stale, desiredCount, inventoryCount, signal, true);
  }

  /** Deletes stale objects the rules allow; returns entries and the refs that stay in the inventory. */
  private async prune(
    stale: readonly InventoryEntry[],
    desiredCount: number,
    inventoryCount: number,
    signal?: AbortSignal,
    dryRun = false,
  ): Promise<{ entries: ChangeSetEntry[]; survivors: InventoryEntry[]; stop?: string }> {
    if (!stale.length) return { entries: [], survivors: [] };
    const keep = (detail: string) => ({ entries: stale.map((r) => entry(r, ChangeAction.Skipped, detail)), survivors: [...stale] });
    if (!this.o.prune.enabled) return keep('prune is disabled for this target');
    if (desiredCount === 0 && !this.o.prune.allowEmpty) {
      return keep('the render is empty; set prune.allowEmpty to delete everything');
    }
    const discovery = await this.client.discover({ ...(signal ? { signal } : {}) });
    const byGroupKind = new Map<string, ResourceInfo>();
    for (const info of discovery.values()) if (!byGroupKind.has(`${info.group}/${info.kind}`)) byGroupKind.set(`${info.group}/${info.kind}`, info);

    const candidates: { ref: InventoryEntry; loc: ObjectLocation; live: KubeObject }[] = [];
    const entries: ChangeSetEntry[] = [];
    const survivors: InventoryEntry[] = [];
    const allowKinds = prunableKinds(this.o.prune.allowKinds, this.o.grant);
    await mapLimit(stale, this.o.concurrency, async (ref) => {
      const info = byGroupKind.get(`${ref.group}/${ref.kind}`);
      if (!info) {
        entries.push(entry(ref, ChangeAction.Deleted, 'already gone (its kind is no longer served)'));
        return;
      }
      // The grant of today decides, not the one the object was created under.
      const refusal = this.o.grant && grantRefusal(ref, info.namespaced, this.o.grant);
      if (refusal) {
        entries.push(entry(ref, ChangeAction.Skipped, `not pruned: ${refusal}`));
        survivors.push(ref);
        return;
      }
      const loc: ObjectLocation = { info, ...(ref.namespace ? { namespace: ref.namespace } : {}), name: ref.name };
      const live = await this.client.get(loc, { ...(signal ? { signal } : {}) });
      if (!live) {
        entries.push(entry(ref, ChangeAction.Deleted, 'already gone'));
        return;
      }
      const meta = (live.metadata ?? {}) as { labels?: Obj; annotations?: Obj };
      // Only objects this target created or adopted, and that still carry its label, are deleted.
      const owner = ownerOf(live);
      if (owner.label !== this.label) {
        entries.push(entry(ref, ChangeAction.Skipped, `not pruned: it does not carry ${TARGET_LABEL}=${this.label} (the label was removed or changed, so it is left in place)`));
        return;
      }
      if (owner.id !== undefined && owner.id !== this.o.id) {
        entries.push(entry(ref, ChangeAction.Skipped, `not pruned: it is managed by another driftless target, ${owner.id}`));
        return;
      }
      if (meta.annotations?.[PRUNE_ANNOTATION] === 'disabled') {
        entries.push(entry(ref, ChangeAction.Skipped, `not pruned: ${PRUNE_ANNOTATION}: disabled`));
        return;
      }
      if (PROTECTED.has(ref.kind) && !allowKinds.includes(ref.kind)) {
        const needs = this.o.prune.allowKinds.includes(ref.kind) ? `the registry's pruneKinds to grant ${ref.kind}` : `prune.allowKinds: [${ref.kind}]`;
        entries.push(entry(ref, ChangeAction.Skipped, `not pruned: deleting a ${ref.kind} needs ${needs}`));
        survivors.push(ref);
        return;
      }
      candidates.push({ ref, loc, live });
    });
    const share = inventoryCount ? candidates.length / inventoryCount : 0;
    if (candidates.length && share > this.o.prune.maxDeleteShare) {
      const detail = `not pruned: would delete ${candidates.length} of ${inventoryCount} objects, more than prune.maxDeleteShare ${this.o.prune.maxDeleteShare}`;
      return {
        entries: [...entries, ...candidates.map((c) => entry(c.ref, ChangeAction.Skipped, detail))],
        survivors: [...survivors, ...candidates.map((c) => c.ref)],
        stop: detail.replace('not pruned: ', 'prune stopped: '),
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
      await mapLimit(group, this.o.concurrency, async (c) => {
        // Preconditions: the object whose label was just checked, not one changed (or re-created) since.
        const m = (c.live.metadata ?? {}) as { uid?: unknown; resourceVersion?: unknown };
        const preconditions = { ...(typeof m.uid === 'string' ? { uid: m.uid } : {}), ...(typeof m.resourceVersion === 'string' ? { resourceVersion: m.resourceVersion } : {}) };
        try {
          const r = await this.client.delete(c.loc, { preconditions, ...(signal ? { signal } : {}) });
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
  }

  /** Waits until every object is healthy or the wait times out; returns health per object (`Kind/ns/name`). */
  private async health(objects: readonly PlannedObject[], signal?: AbortSignal): Promise<Record<string, Health>> {
    const out: Record<string, Health> = {};
    const deadline = Date.now() + this.o.wait.timeoutMs;
    let pending = objects.filter((p) => p.info);
    while (pending.length) {
      const results = await mapLimit(pending, this.o.concurrency, async (p) => {
        const live = await this.client.get(this.loc(p), { ...(signal ? { signal } : {}) });
        const h: Health = live ? healthOf(live) : { status: 'failed', message: 'object disappeared' };
        out[formatRef(p.ref)] = h;
        return h.status === 'in-progress';
      }).catch((err: unknown) => {
        // A read the cancellation cut short: the wait ends here, as timed out.
        if (signal?.aborted) return undefined;
        throw err;
      });
      if (!results) break;
      pending = pending.filter((_, i) => results[i]);
      if (!pending.length || Date.now() + this.o.pollMs > deadline || signal?.aborted) break;
      await pause(this.o.pollMs, signal);
      // Cancelled (shutdown, deadline): what is still pending ends as timed out, and the sync records what it applied.
      if (signal?.aborted) break;
    }
    for (const p of pending) {
      const h = out[formatRef(p.ref)];
      out[formatRef(p.ref)] = { status: 'in-progress', message: `timed out${h?.message ? `: ${h.message}` : ''}` };
    }
    return out;
  }

  /** Waits for CRDs to be Established and Namespaces Active; returns the ones that did not get there. */
  private async waitFor(objects: readonly PlannedObject[], timeoutMs: number, signal?: AbortSignal): Promise<PlannedObject[]> {
    if (!objects.length) return [];
    const deadline = Date.now() + timeoutMs;
    let pending = [...objects];
    for (;;) {
      const ready = await mapLimit(pending, this.o.concurrency, async (p) => {
        const live = p.info ? await this.client.get(this.loc(p), { ...(signal ? { signal } : {}) }) : undefined;
        return live !== undefined && healthOf(live).status === 'ready';
      });
      pending = pending.filter((_, i) => !ready[i]);
      if (!pending.length || Date.now() > deadline || signal?.aborted) return pending;
      await pause(Math.min(this.o.pollMs, 500), signal);
      if (signal?.aborted) return pending;
    }
  }

  /** The live objects of this target, by LIST per kind and namespace (one request each, not one per object). */
  private async liveObjects(prepared: readonly PreparedObject[], signal?: AbortSignal, selector = this.selector): Promise<Map<string, KubeObject>> {
    const groups = new Map<string, { info: ResourceInfo; namespace?: string }>();
    for (const p of prepared) {
      if (!p.info) continue;
      groups.set(`${p.info.group}/${p.info.resource}/${p.ref.namespace ?? ''}`, { info: p.info, ...(p.ref.namespace ? { namespace: p.ref.namespace } : {}) });
    }
    const out = new Map<string, KubeObject>();
    await mapLimit([...groups.values()], this.o.concurrency, async (g) => {
      try {
        for (const o of await this.client.list(g.info, g.namespace, selector, { ...(signal ? { signal } : {}) })) {
          const meta = (o.metadata ?? {}) as { namespace?: string; name?: string };
          const ref: ObjectRef = { group: g.info.group, kind: g.info.kind, ...(meta.namespace ? { namespace: meta.namespace } : {}), name: String(meta.name) };
          out.set(refKey(ref), o);
        }
      } catch (err) {
        // A namespace that does not exist yet has nothing to list; anything else is a real error.
        if (!(err instanceof KubeApiError && err.status === 404)) throw err;
      }
    });
    return out;
  }

  /**
   * Every live object (whoever owns it) of the kinds and namespaces of objects planned before their Namespace
   * or CRD existed: one LIST per kind and namespace, usually empty, so that one created meanwhile is not taken over.
   */
  private async listAll(pending: readonly PreparedObject[], signal?: AbortSignal): Promise<Map<string, KubeObject>> {
    return pending.length ? this.liveObjects(pending, signal, '') : new Map();
  }

  /** The live Namespaces of objects not in the sync's own Namespaces (one GET each); 'unknown' when not served or not readable. */
  private async namespacesOf(objects: readonly PreparedObject[], inSync: ReadonlySet<string>, signal?: AbortSignal): Promise<Map<string, KubeObject | undefined | 'unknown'>> {
    const names = [...new Set(objects.flatMap((p) => (p.ref.namespace && !inSync.has(p.ref.namespace) ? [p.ref.namespace] : [])))];
    const out = new Map<string, KubeObject | undefined | 'unknown'>();
    if (!names.length) return out;
    const info = (await this.client.discover({ ...(signal ? { signal } : {}) })).get('v1/Namespace');
    await mapLimit(names, this.o.concurrency, async (name) => {
      try {
        out.set(name, info ? await this.client.get({ info, name }, { ...(signal ? { signal } : {}) }) : 'unknown');
      } catch (err) {
        // RBAC limited to namespaces may not grant reading Namespaces: those creates get a dry run instead.
        if (!(err instanceof KubeApiError)) throw err;
        out.set(name, 'unknown');
      }
    });
    return out;
  }

  private loc(p: PreparedObject): ObjectLocation {
    if (!p.info) throw new ReconcilerError(`${formatRef(p.ref)}: kind not served`);
    return { info: p.info, ...(p.ref.namespace ? { namespace: p.ref.namespace } : {}), name: p.ref.name };
  }

  private applyOptions(dryRun: boolean, signal?: AbortSignal) {
    return { fieldManager: this.o.fieldManager, force: this.o.force, dryRun, ...(signal ? { signal } : {}) };
  }
}

/** Spreads an observation into a planned object (nothing when the live object had no resourceVersion). */
const withObservation = (o: Observation | undefined): { observed?: Observation } => (o ? { observed: o } : {});

/** Whether a live object (a Namespace) is being deleted. */
const terminating = (live: KubeObject | undefined): boolean => Boolean(live && ((live.metadata ?? {}) as Obj).deletionTimestamp);

/** A change-set entry; an inventory entry's `origin` stays in the inventory. */
const entry = ({ group, kind, namespace, name }: ObjectRef, action: ChangeAction, detail?: string): ChangeSetEntry => ({
  ref: { group, kind, ...(namespace !== undefined ? { namespace } : {}), name },
  action,
  ...(detail ? { detail } : {}),
});

const crdNamespaced = (objects: readonly KubeObject[], key: string): boolean => {
  for (const crd of objects) {
    if (crd.kind !== 'CustomResourceDefinition') continue;
    const spec = (crd.spec ?? {}) as Obj;
    const kind = String((spec.names as Obj | undefined)?.kind ?? '');
    for (const v of (spec.versions as Obj[] | undefined) ?? []) {
      if (`${String(spec.group)}/${String(v.name)}/${kind}` === key) return spec.scope !== 'Cluster';
    }
  }
  return true;
};

/** Waits `ms`, or less when `signal` aborts (a shutdown cancels health waits at once). */
const pause = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
