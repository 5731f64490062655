import type { ChangeSet } from './change-set.js';
import type { Deadline } from './deadline.js';
import type { ObjectDrift } from './drift.js';
import type { InventoryEntry } from './inventory.js';
import type { KubeObject, ObjectRef } from './object-ref.js';

/** The kinds of target driftless reconciles into. */
export const TargetKind = { Kubernetes: 'kubernetes', CloudFormation: 'cloudformation' } as const;
export type TargetKind = (typeof TargetKind)[keyof typeof TargetKind];

/** Desired state of a Kubernetes target: the rendered objects and the files they came from. */
export interface KubernetesDesiredState {
  readonly kind: 'kubernetes';
  readonly objects: readonly KubeObject[];
  /** Repository files the render read (the target's dependencies). */
  readonly files: ReadonlySet<string>;
  readonly warnings: readonly string[];
}

/** A CloudFormation template as read from Git: sent to CloudFormation as written. */
export interface StackTemplate {
  readonly text: string;
  readonly format: 'yaml' | 'json';
}

/** Desired state of a stack target: its template and parameters. */
export interface CloudFormationDesiredState {
  readonly kind: 'cloudformation';
  readonly template: StackTemplate;
  readonly parameters: readonly { readonly ParameterKey: string; readonly ParameterValue: string }[];
  readonly files: ReadonlySet<string>;
}

/** What render produces for one target (discriminated on `kind`, like the target config). */
export type DesiredState = KubernetesDesiredState | CloudFormationDesiredState;

/** The stages before which a target calls `beforeWrite` (the reconciler checks its lease there). */
export type WriteStage = 'definitions' | 'resources' | 'prune' | 'delete' | 'execute';

/** How one plan, apply or drift check runs. Every port method takes it. */
export interface TargetRunOptions {
  /** The invocation's deadline: its signal aborts the work, `at` bounds waits. */
  readonly deadline?: Deadline;
  /** What the target holds from earlier syncs (the ledger's inventory); undefined: the target finds out itself. */
  readonly previousInventory?: readonly InventoryEntry[];
  /** The commit being applied (named in change sets). */
  readonly commit?: string;
  /** Called before each stage that writes; a rejection stops the run there (failed, nothing pruned). */
  readonly beforeWrite?: (stage: WriteStage) => Promise<void>;
  /** Progress of long phases (the CLI's progress line). */
  readonly onProgress?: (phase: 'plan' | 'apply' | 'prune' | 'wait', done: number, total: number) => void;
  /**
   * What earlier checks observed of objects (digest and resourceVersion, see lib/targets/kubernetes/apply-cache.ts),
   * so that an object unchanged since costs no request: a drift run's recorded checks, or the CLI's local cache.
   */
  readonly checked?: readonly InventoryEntry[];
  /** Drift checks: the objects carrying the target's label, when a run listed its cluster once for all targets. */
  readonly labelled?: readonly ObjectRef[];
  /** Drift checks and plans: told what this run observed of each unchanged object (to record as `checked`). */
  readonly onObserved?: (entries: readonly InventoryEntry[]) => void;
}

/** One planned object, for a diff: what the target has now and what it would have. Kubernetes fills it. */
export interface PlannedChange {
  readonly ref: ChangeSet['entries'][number]['ref'];
  readonly action: ChangeSet['entries'][number]['action'];
  readonly detail?: string;
  /** The live object, when there is one. */
  readonly live?: Readonly<Record<string, unknown>>;
  /** The object as the target would store it (a dry run), or as rendered. */
  readonly desired?: Readonly<Record<string, unknown>>;
  /** CloudFormation's replacement flag for a modified resource. */
  readonly replacement?: 'True' | 'False' | 'Conditional';
}

/** What `plan` found: the change set an apply would make (prunes included); writes nothing. */
/**
 * A finding of the target's own validation before anything is written (CloudFormation's pre-deployment
 * validation of a change set): `failure` stops the change, `warning` lets it through.
 */
export interface PlanFinding {
  readonly level: 'failure' | 'warning';
  /** The check that found it (CloudFormation's ValidationName). */
  readonly name: string;
  readonly message: string;
  /** Where in the template, as a path such as `/Resources/Bucket/Properties/BucketName`. */
  readonly path?: string;
}

export interface TargetPlan {
  readonly changeSet: ChangeSet;
  /** What the target's own validation found (a stack's pre-deployment validation), when it reports any. */
  readonly findings?: readonly PlanFinding[];
  /** Objects the plan could not check (dry-run failures, refusals). */
  readonly failed: number;
  /** Per-object detail for a diff, when the target can show it. */
  readonly changes?: readonly PlannedChange[];
  /** Live objects the prune entries refer to (for a diff of deletions). */
  readonly pruned?: readonly PlannedChange[];
  /** Why prune would stop, when it would. */
  readonly stop?: string;
}

/** How an apply ended. */
export const ApplyResult = { Succeeded: 'succeeded', Failed: 'failed', InProgress: 'in-progress' } as const;
export type ApplyResult = (typeof ApplyResult)[keyof typeof ApplyResult];

/** What `apply` did: the change set, the inventory to record, and how it ended. */
export interface TargetApply {
  readonly result: ApplyResult;
  readonly changeSet: ChangeSet;
  /** The inventory to record: what the target now holds (objects that may have been written included). */
  readonly inventory: readonly InventoryEntry[];
  /** Why it failed (or what it waits for, when in progress). */
  readonly error?: string;
  /** The target's status while in progress (a stack's `UPDATE_IN_PROGRESS`). */
  readonly status?: string;
  /** Objects refused because another driftless target owns them: nothing was written. */
  readonly refused?: readonly string[];
  /** Objects not healthy after the wait. */
  readonly unhealthy?: readonly { readonly ref: string; readonly status: string; readonly message?: string }[];
  readonly timings?: Readonly<Record<string, number>>;
}

/**
 * A place desired state is reconciled into (a cluster, a CloudFormation stack). Implementations own all I/O for
 * that place; use cases see only this port, so suspension, grants, identity and recording are written once.
 */
export interface Target<D extends DesiredState = DesiredState> {
  /** The target's id, `owner/repo/target`. */
  readonly id: string;
  readonly kind: D['kind'];
  /** What `apply` would change, prune included; changes nothing. */
  plan(desired: D, options?: TargetRunOptions): Promise<TargetPlan>;
  /** Makes the target match `desired` and prunes what is no longer desired; partial results on failure. */
  apply(desired: D, options?: TargetRunOptions): Promise<TargetApply>;
  /**
   * Live state against `desired`. A stack compares its live resources with its own last applied template
   * (DetectStackDrift), so it needs no `desired`; a cluster does.
   */
  detectDrift(desired: D | undefined, options?: TargetRunOptions): Promise<readonly ObjectDrift[]>;
  /** Deletes what the target holds, when it may (a stack removed with `deleteOnRemove`); `absent` when there is nothing. */
  remove?(): Promise<'deleted' | 'absent'>;
}

/** A stack target behind the `Target` port; `remove` deletes the stack when this target owns it (`deleteOnRemove`). */
export interface StackTarget extends Target<CloudFormationDesiredState> {
  remove(): Promise<'deleted' | 'absent'>;
}

/** What deleting one object takes with it: names (at most a listing limit, the rest counted), and how many in all. */
export interface Cascade {
  readonly names: readonly string[];
  readonly total: number;
}
