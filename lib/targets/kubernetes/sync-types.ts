/**
 * The vocabulary of one Kubernetes sync, shared by its verbs (prepare-objects, plan-objects, apply-stages,
 * prune-stale, wait-ready) and the KubernetesTarget that runs them: options, the objects each verb hands on,
 * and the context every verb reads (the client, the effective options, the target's label).
 */
import { ChangeAction, type ChangeSet, type ChangeSetEntry } from '../../core/change-set.js';
import { ReconcilerError } from '../../core/errors.js';
import type { InventoryEntry } from '../../core/inventory.js';
import { formatRef, type KubeObject, type ObjectRef } from '../../core/object-ref.js';
import type { KubernetesGrant } from '../../config/registry-check.js';
import type { Observation } from './apply-cache.js';
import type { Health } from './health.js';
import type { KubeClient, ObjectLocation, ResourceInfo } from './kube-client.js';
import type { Stage } from './ordering.js';

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
  readonly prune?: PruneSettings;
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

/** A target's prune settings (`prune:` in driftless.yaml). */
export interface PruneSettings {
  readonly enabled: boolean;
  readonly allowEmpty: boolean;
  readonly allowKinds: readonly string[];
  readonly maxDeleteShare: number;
}

/** The options with their defaults filled in. */
export type TargetSettings = Required<Omit<KubernetesTargetOptions, 'namespace' | 'grant'>> & { namespace?: string; grant?: KubernetesGrant };

/** What every verb of a sync reads: the cluster, the effective options and the target's label value. */
export interface SyncContext {
  readonly client: KubeClient;
  readonly o: TargetSettings;
  /** The value of the target label on this target's objects. */
  readonly label: string;
  /** The label selector of this target's objects. */
  readonly selector: string;
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

/** A stage that writes; `beforeWrite` is called before each. */
export type WriteStage = 'definitions' | 'resources' | 'prune';

export interface SyncOptions {
  readonly previousInventory: readonly InventoryEntry[];
  /**
   * Observations kept elsewhere than the inventory (the CLI's local cache when no ledger is named), added to the
   * inventory's own: an object whose digest and live resourceVersion match one of them skips the dry run.
   */
  readonly known?: readonly InventoryEntry[];
  /** Plan only: report what would change (prune included), write nothing. */
  readonly dryRun?: boolean;
  readonly signal?: AbortSignal;
  /** Called as work progresses (for a CLI progress line). */
  readonly onProgress?: (phase: 'plan' | 'apply' | 'prune' | 'wait', done: number, total: number) => void;
  /**
   * Called before each stage that writes (each apply stage, prune); a rejection stops the sync there, as a failed
   * sync that prunes nothing and keeps what was applied in its inventory (the reconciler checks its lease here).
   */
  readonly beforeWrite?: (stage: WriteStage) => Promise<void>;
}

/** A change-set entry; an inventory entry's `origin` stays in the inventory. */
export const entry = ({ group, kind, namespace, name }: ObjectRef, action: ChangeAction, detail?: string): ChangeSetEntry => ({
  ref: { group, kind, ...(namespace !== undefined ? { namespace } : {}), name },
  action,
  ...(detail ? { detail } : {}),
});

/** Where a prepared object lives on the cluster (its kind must be served). */
export const locationOf = (p: PreparedObject): ObjectLocation => {
  if (!p.info) throw new ReconcilerError(`${formatRef(p.ref)}: kind not served`);
  return { info: p.info, ...(p.ref.namespace ? { namespace: p.ref.namespace } : {}), name: p.ref.name };
};

/** The options of an apply (a dry run or a write) by this target's field manager. */
export const applyOptions = (o: TargetSettings, dryRun: boolean, signal?: AbortSignal) => ({ fieldManager: o.fieldManager, force: o.force, dryRun, ...(signal ? { signal } : {}) });

/** `{ signal }` when there is one (the client's call options take no `signal: undefined`). */
export const withSignal = (signal?: AbortSignal): { signal?: AbortSignal } => (signal ? { signal } : {});
