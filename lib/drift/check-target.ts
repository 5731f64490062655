import { CONFIG_FILE } from '../config/load-config.js';
import type { CloudFormationTargetConfig, KubernetesTargetConfig, Registry } from '../config/schema.js';
import type { CloudFormationAccess } from '../reconcile/reconcile-target.js';
import { CloudFormationTarget } from '../targets/cloudformation/cloudformation-target.js';
import { durationMs } from '../config/schema.js';
import { ReconcilerError } from '../core/errors.js';
import { kubernetesGrant } from '../config/registry-check.js';
import type { Ledger } from '../ledger/ledger.js';
import { renderPath } from '../render/render.js';
import type { FileTree } from '../render/file-tree.js';
import { secretSourceValues } from '../render/secret-sources.js';
import { createRedactor, NO_REDACTION, redactDeep, secretValuesOf, type Redactor } from '../core/redact.js';
import { clusterCapabilities } from '../render/helm/capabilities.js';
import type { RepositorySource } from '../source/repository-source.js';
import type { KubeClient } from '../targets/kubernetes/kube-client.js';
import { KubernetesTarget } from '../targets/kubernetes/kubernetes-target.js';
import { driftReport, fingerprintOf, type DriftReport } from './detect-drift.js';
import type { ObjectRef } from '../core/object-ref.js';
import { refKey, type InventoryEntry } from '../core/inventory.js';
import type { PlannedObject } from '../targets/kubernetes/kubernetes-target.js';

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
  readonly cluster: (name: string) => Promise<KubeClient>;
  /** CloudFormation access for stack targets, per region. */
  readonly cloudformation?: (region: string) => CloudFormationAccess;
  /** Re-applies a self-healing target (a reconcile with trigger self-heal). */
  readonly heal?: (target: { repository: string; target: string; branch: string }) => Promise<void>;
}

/**
 * Desired (the render at the target's last applied commit) against live. Self-healing targets that drifted
 * are re-applied; suspended targets are reported, never healed. `labelled` is what a drift run's one
 * discovery per cluster found carrying this target's label (lib/drift/labelled-by-target.ts); without it the
 * check lists every served kind itself.
 */
export const checkTarget = async (targetId: string, deps: CheckDeps, signal?: AbortSignal, labelled?: readonly ObjectRef[]): Promise<TargetCheck> => {
  const state = await deps.ledger.getState(targetId);
  if (!state?.lastAppliedCommit || !state.config) return { targetId, suspended: false, healed: false, error: 'never applied' };
  const config = state.config as KubernetesTargetConfig;
  const suspended = state.suspended || config.suspend === true;
  if ((config as { type: string }).type === 'cloudformation') {
    const stackConfig = state.config as CloudFormationTargetConfig;
    if (!deps.cloudformation) return { targetId, suspended, healed: false, error: 'no CloudFormation access configured' };
    try {
      // DetectStackDrift compares live resources; a change set would only compare templates.
      const objects = await new CloudFormationTarget(deps.cloudformation(stackConfig.region).cfn, { id: targetId, stack: stackConfig.stack }).detectDrift({ ...(signal ? { signal } : {}) });
      const report = { target: targetId, checkedAt: new Date().toISOString(), objects, fingerprint: fingerprintOf(objects) };
      let healed = false;
      if (objects.length && stackConfig.selfHeal && !suspended && deps.heal) {
        await deps.heal({ repository: state.repository, target: state.target, branch: stackConfig.branch });
        healed = true;
      }
      return { targetId, report, suspended, healed };
    } catch (err) {
      return { targetId, suspended, healed: false, error: (err as Error).message };
    }
  }
  // The error text leaves (ledger, Slack): secret values of the render, or of the snapshot's sources, are redacted.
  let redact: Redactor = NO_REDACTION;
  let tree: FileTree | undefined;
  try {
    tree = await deps.source.snapshot(state.repository, state.lastAppliedCommit, signal);
    if ((await tree.kind(CONFIG_FILE)) !== 'file') throw new ReconcilerError(`${CONFIG_FILE} is missing at ${state.lastAppliedCommit}`);
    const rendered = await renderPath(tree, config.path, { target: config, capabilities: async () => clusterCapabilities(await deps.cluster(config.cluster), signal) });
    redact = createRedactor(secretValuesOf(rendered.objects));
    const grant = kubernetesGrant(deps.registry, state.repository);
    if (!grant) throw new ReconcilerError(`repository ${state.repository} is not in the registry`);
    const target = new KubernetesTarget(await deps.cluster(config.cluster), {
      id: targetId,
      ...(config.namespace ? { namespace: config.namespace } : {}),
      force: true,
      concurrency: config.apply?.concurrency ?? 8,
      prune: config.prune,
      wait: { enabled: false, timeoutMs: durationMs(config.wait?.timeout ?? '5m') },
      grant,
    });
    // The inventory's observations spare the dry run of every object unchanged since it was applied or checked.
    const known = [...state.inventory, ...(state.checked ?? [])];
    const plan = await target.plan(await target.prepare(rendered.objects, signal), signal, undefined, { known, validateCreates: false });
    const observed = newObservations(plan.objects, state.inventory, state.checked ?? []);
    const report = driftReport(targetId, plan.objects, labelled ?? (await target.labelledObjects(signal)), state.inventory);
    let healed = false;
    if (report.objects.length && config.selfHeal && !suspended && deps.heal) {
      await deps.heal({ repository: state.repository, target: state.target, branch: config.branch });
      healed = true;
    }
    return { targetId, report: redactDeep(report, redact), suspended, healed, ...(observed ? { observed } : {}) };
  } catch (err) {
    if (redact.size === 0 && tree) redact = createRedactor(await secretSourceValues(tree).catch(() => []));
    return { targetId, suspended, healed: false, error: redact((err as Error).message) };
  }
};

/** The plan's observations that the inventory does not hold, or undefined when they are what `checked` already holds. */
const newObservations = (planned: readonly PlannedObject[], inventory: readonly InventoryEntry[], checked: readonly InventoryEntry[]): InventoryEntry[] | undefined => {
  const key = (e: InventoryEntry) => `${refKey(e)}|${e.digest ?? ''}|${e.resourceVersion ?? ''}|${e.generation ?? ''}`;
  const recorded = new Set(inventory.map(key));
  const out = planned.flatMap((p): InventoryEntry[] => {
    if (!p.observed) return [];
    const e: InventoryEntry = { ...p.ref, digest: p.observed.digest, resourceVersion: p.observed.resourceVersion, ...(p.observed.generation !== undefined ? { generation: p.observed.generation } : {}) };
    return recorded.has(key(e)) ? [] : [e];
  });
  const same = out.length === checked.length && out.map(key).sort().join('\n') === checked.map(key).sort().join('\n');
  return same ? undefined : out;
};
