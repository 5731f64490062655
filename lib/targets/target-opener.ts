import type { Registry, TargetConfig } from '../config/schema.js';
import type { Deadline } from '../core/deadline.js';
import type { ObjectRef } from '../core/object-ref.js';
import type { Cascade, Target } from '../core/target.js';
import type { HelmCapabilities } from '../render/helm/helm-template.js';

/**
 * The TargetOpener port: how use cases reach targets without knowing their adapters. The composition builds it
 * (`targetOpener(access)` in lib/targets/open-target.ts); use cases (sync, reconcile, drift, preview) take it in
 * their deps. This file imports no adapter.
 */

/** Which target to open: its id, its repository and its config (from driftless.yaml or the ledger's last record). */
export interface TargetSpec<C extends TargetConfig = TargetConfig> {
  /** `owner/repo/target`. */
  readonly id: string;
  readonly repository: string;
  readonly config: C;
}

/** A target this process cannot reach (a serve without AWS credentials and a stack target): a recoverable outcome. */
export interface UnreachableTarget {
  readonly unreachable: string;
}

export type { Cascade, StackTarget } from '../core/target.js';

/** How one target is opened: the invocation's deadline, and the registry of the use case that opens it. */
export interface TargetOpenOptions {
  readonly deadline?: Deadline;
  readonly registry?: Registry;
}

/** Opens targets and answers the questions about their clusters that render and preview ask. */
export interface TargetOpener {
  /**
   * The target's adapter with the options its config and the registry give, or why this process cannot reach it.
   * `registry`: the registry of the caller, whose grants bound the target (@default the registry the opener was built with).
   */
  open(spec: TargetSpec, o?: TargetOpenOptions): Promise<Target | UnreachableTarget>;
  /** The cluster's capabilities for Helm (from discovery); undefined when this process has no cluster access. */
  capabilities(cluster: string, signal?: AbortSignal): Promise<HelmCapabilities | undefined>;
  /**
   * What deleting each of `refs` on the cluster would take with it (everything in a Namespace, the custom
   * resources of a CRD), keyed by `formatRef`; empty when this process has no cluster access. Writes nothing.
   */
  cascades(cluster: string, refs: readonly ObjectRef[], signal?: AbortSignal): Promise<ReadonlyMap<string, Cascade>>;
}
