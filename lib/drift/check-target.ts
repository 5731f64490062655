import { CONFIG_FILE } from '../config/load-config.js';
import { kubernetesGrant } from '../config/registry-check.js';
import type { Registry, TargetConfig } from '../config/schema.js';
import type { Deadline } from '../core/deadline.js';
import { fingerprintOf, type DriftReport } from '../core/drift.js';
import { ReconcilerError } from '../core/errors.js';
import { refKey, type InventoryEntry } from '../core/inventory.js';
import type { ObjectRef } from '../core/object-ref.js';
import { createRedactor, NO_REDACTION, redactDeep, secretValuesOf, type Redactor } from '../core/redact.js';
import type { Ledger } from '../ledger/ledger.js';
import { renderDesired } from '../render/desired-state.js';
import type { FileTree } from '../render/file-tree.js';
import { secretSourceValues } from '../render/secret-sources.js';
import type { RepositorySource } from '../source/repository-source.js';
import type { TargetOpener, TargetSpec } from '../targets/target-opener.js';

/** What checking one target found. */
export interface TargetCheck {
  readonly targetId: string;
  readonly report?: DriftReport;
  readonly suspended: boolean;
  /** Self-heal re-applied the target after this report. */
  readonly healed: boolean;
  /** Why the target could not be checked. */
  readonly error?: string;
  /**
   * Set when they differ from what the ledger holds: the observations (apply-cache.ts) this check's dry runs made
   * that the inventory lacks, for the ledger's `checked` (the next check then skips those dry runs too).
   */
  readonly observed?: readonly InventoryEntry[];
}

export interface CheckDeps {
  readonly ledger: Ledger;
  readonly source: RepositorySource;
  readonly registry: Registry;
  /** Opens targets and reads their clusters' Helm capabilities (the TargetOpener port). */
  readonly targets: TargetOpener;
  /** Re-applies a self-healing target (a reconcile with trigger self-heal). */
  readonly heal?: (target: { repository: string; target: string; branch: string }) => Promise<void>;
}

/** One target to check: which, the tree its desired state renders from, and what it holds. */
export interface DriftRequest extends TargetSpec {
  /** The tree at the target's last applied commit (a Kubernetes target renders from it; a stack needs none). */
  readonly tree?: FileTree;
  /** The recorded inventory; undefined: the render itself is the inventory. */
  readonly inventory?: readonly InventoryEntry[];
  /** What earlier checks observed (the ledger's `checked`): unchanged objects cost no request. */
  readonly checked?: readonly InventoryEntry[];
  /** The objects carrying the target's label, when a drift run listed the cluster once for all its targets. */
  readonly labelled?: readonly ObjectRef[];
  /** Told what the check observed of each unchanged object. */
  readonly onObserved?: (entries: readonly InventoryEntry[]) => void;
}

/** What a drift check needs: how to open the target and render for it. */
export interface DriftDeps {
  /** Opens the target and reads its cluster's Helm capabilities (the TargetOpener port). */
  readonly targets: Pick<TargetOpener, 'open' | 'capabilities'>;
  /** The registry whose grants bound the target. @default the opener's */
  readonly registry?: Registry;
  readonly deadline?: Deadline;
}

/**
 * Desired against live for one target, the same for the drift run and the CLI and for both target kinds:
 * render (Kubernetes) → open → `target.detectDrift` → a report. Errors throw, their secret values redacted.
 * @example const report = await detectTargetDrift({ id, repository, config, tree, inventory }, { targets });
 */
export const detectTargetDrift = async (req: DriftRequest, deps: DriftDeps): Promise<DriftReport> => {
  // The error text leaves (ledger, Slack): secret values of the render, or of the tree's sources, are redacted.
  let redact: Redactor = NO_REDACTION;
  try {
    const config = req.config;
    let desired;
    if (config.type === 'kubernetes') {
      if (!req.tree) throw new ReconcilerError(`${req.id}: no tree to render the desired state from`);
      desired = await renderDesired(req.tree, config, { capabilities: () => deps.targets.capabilities(config.cluster, deps.deadline?.signal) });
      redact = createRedactor(secretValuesOf(desired.objects));
    }
    const target = await deps.targets.open(req, { ...(deps.deadline ? { deadline: deps.deadline } : {}), ...(deps.registry ? { registry: deps.registry } : {}) });
    if ('unreachable' in target) throw new ReconcilerError(config.type === 'cloudformation' ? 'no CloudFormation access configured' : target.unreachable);
    const objects = await target.detectDrift(desired, {
      ...(req.inventory ? { previousInventory: req.inventory } : {}),
      ...(req.checked ? { checked: req.checked } : {}),
      ...(req.labelled ? { labelled: req.labelled } : {}),
      ...(req.onObserved ? { onObserved: req.onObserved } : {}),
      ...(deps.deadline ? { deadline: deps.deadline } : {}),
    });
    return redactDeep({ target: req.id, checkedAt: new Date().toISOString(), objects, fingerprint: fingerprintOf(objects) }, redact);
  } catch (err) {
    if (redact.size === 0 && req.tree) redact = createRedactor(await secretSourceValues(req.tree).catch(() => []));
    throw new ReconcilerError(redact((err as Error).message), { cause: err });
  }
};

/**
 * Desired (the render at the target's last applied commit) against live. Self-healing targets that drifted
 * are re-applied; suspended targets are reported, never healed.
 */
export const checkTarget = async (targetId: string, deps: CheckDeps, run?: Deadline | AbortSignal, labelled?: readonly ObjectRef[]): Promise<TargetCheck> => {
  const state = await deps.ledger.getState(targetId);
  if (!state?.lastAppliedCommit || !state.config) return { targetId, suspended: false, healed: false, error: 'never applied' };
  const config = state.config as TargetConfig;
  const suspended = state.suspended || config.suspend === true;
  const signal = run instanceof AbortSignal ? run : run?.signal;
  const deadline = run instanceof AbortSignal ? undefined : run;
  let observed: InventoryEntry[] | undefined;
  try {
    let tree: FileTree | undefined;
    if (config.type === 'kubernetes') {
      tree = await deps.source.snapshot(state.repository, state.lastAppliedCommit, signal);
      if ((await tree.kind(CONFIG_FILE)) !== 'file') throw new ReconcilerError(`${CONFIG_FILE} is missing at ${state.lastAppliedCommit}`);
      if (!kubernetesGrant(deps.registry, state.repository)) throw new ReconcilerError(`repository ${state.repository} is not in the registry`);
    }
    const report = await detectTargetDrift(
      {
        id: targetId,
        repository: state.repository,
        config,
        ...(tree ? { tree } : {}),
        inventory: state.inventory,
        ...(state.checked ? { checked: state.checked } : {}),
        ...(labelled ? { labelled } : {}),
        onObserved: (entries) => (observed = newObservations(entries, state.inventory, state.checked ?? [])),
      },
      {
        targets: deps.targets,
        registry: deps.registry,
        ...(deadline ? { deadline } : signal ? { deadline: { signal, at: Date.now() + 15 * 60_000 } } : {}),
      },
    );
    let healed = false;
    if (report.objects.length && config.selfHeal && !suspended && deps.heal) {
      await deps.heal({ repository: state.repository, target: state.target, branch: config.branch });
      healed = true;
    }
    return { targetId, report, suspended, healed, ...(observed ? { observed } : {}) };
  } catch (err) {
    return { targetId, suspended, healed: false, error: (err as Error).message };
  }
};

/** The observations the inventory does not hold, or undefined when they are what `checked` already holds. */
const newObservations = (entries: readonly InventoryEntry[], inventory: readonly InventoryEntry[], checked: readonly InventoryEntry[]): InventoryEntry[] | undefined => {
  const key = (e: InventoryEntry) => `${refKey(e)}|${e.digest ?? ''}|${e.resourceVersion ?? ''}|${e.generation ?? ''}`;
  const recorded = new Set(inventory.map(key));
  const out = entries.filter((e) => !recorded.has(key(e)));
  const same = out.length === checked.length && out.map(key).sort().join('\n') === checked.map(key).sort().join('\n');
  return same ? undefined : out;
};
