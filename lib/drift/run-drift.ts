import type { ObjectRef } from '../core/object-ref.js';
import { targetLabelValue } from '../core/ownership.js';
import type { Ledger, TargetState } from '../ledger/ledger.js';
import { mapLimit } from '../core/map-limit.js';
import type { TargetCheck } from './check-target.js';
import { formatDriftMessage, type DriftChange } from './format-drift-report.js';

export interface DriftRunDeps {
  readonly ledger: Ledger;
  /**
   * Checks one target (in its own invocation when deployed); `labelled` is what the run's discovery of the
   * target's cluster found carrying its label (undefined without `labelled` below, or when it failed).
   */
  readonly check: (targetId: string, labelled?: readonly ObjectRef[]) => Promise<TargetCheck>;
  /**
   * Lists one cluster's labelled objects by target label value (lib/targets/kubernetes/labelled-objects.ts):
   * called once per cluster per run, so that discovery costs one LIST per kind for all of a cluster's targets.
   */
  readonly labelled?: (cluster: string) => Promise<ReadonlyMap<string, readonly ObjectRef[]>>;
  /** Posts the run's message (Slack). */
  readonly post?: (message: { text: string; blocks: unknown[] }) => Promise<void>;
  /** @default 4 */
  readonly concurrency?: number;
  readonly now?: () => Date;
}

/** What a drift run found and said. */
export interface DriftRun {
  readonly checks: readonly TargetCheck[];
  readonly changes: readonly DriftChange[];
  readonly posted: boolean;
}

/**
 * Checks every target in the ledger, records drift per target with its fingerprint, and posts one message per
 * run — only when some drift is new, changed or resolved, or a target left driftless.yaml. The same drift on
 * the next run says nothing. Every check leaves the target's drift summary true: `none` after a clean check,
 * `healed` after self-heal; a removed target is reported once as `removed`, then no longer checked.
 */
export const runDrift = async (deps: DriftRunDeps): Promise<DriftRun> => {
  const all = await deps.ledger.listTargets({ withInventory: false });
  const checkedAt = (deps.now?.() ?? new Date()).toISOString();
  const changes: DriftChange[] = [];
  for (const t of all.filter((x) => x.removed && x.drift?.status !== 'removed')) {
    changes.push({ check: { targetId: t.targetId, suspended: t.suspended, healed: false }, change: 'removed' });
    await deps.ledger.markDriftChecked(t.targetId, { status: 'removed', checkedAt });
  }
  const targets = all.filter((t) => !t.removed);
  const byCluster = new Map<string, Promise<ReadonlyMap<string, readonly ObjectRef[]> | undefined>>();
  const labelledFor = async (t: TargetState): Promise<readonly ObjectRef[] | undefined> => {
    const cluster = clusterOf(t);
    if (!cluster || !deps.labelled) return undefined;
    // A cluster that cannot be listed: each of its checks lists (and reports the failure) itself.
    if (!byCluster.has(cluster)) byCluster.set(cluster, deps.labelled(cluster).catch(() => undefined));
    const all = await byCluster.get(cluster);
    return all ? (all.get(targetLabelValue(t.targetId)) ?? []) : undefined;
  };
  const checks = await mapLimit(targets, deps.concurrency ?? 4, async (t) => deps.check(t.targetId, await labelledFor(t)));
  for (const check of checks) {
    // A cache, not a record: a failed write costs the next check some dry runs.
    if (check.observed && deps.ledger.recordChecked) await deps.ledger.recordChecked(check.targetId, check.observed).catch(() => undefined);
    if (!check.report) continue;
    const previous = await deps.ledger.latestDrift(check.targetId);
    const drifted = check.report.objects.length > 0;
    const before = previous?.status === 'drifted' ? previous.fingerprint : undefined;
    let change: DriftChange['change'] | undefined;
    if (drifted && !before) change = 'new';
    else if (drifted && before !== check.report.fingerprint) change = 'changed';
    else if (!drifted && before) change = 'resolved';
    if (change) {
      changes.push({ check, change });
      await deps.ledger.putDrift({
        targetId: check.targetId,
        checkedAt,
        status: change === 'resolved' ? 'resolved' : 'drifted',
        ...(drifted ? { fingerprint: check.report.fingerprint } : {}),
        report: { ...check.report, suspended: check.suspended, healed: check.healed },
      });
    }
    // The summary `status` shows, true after every check (putDrift writes it on a change, unless self-heal followed).
    if (!change || check.healed) {
      const status = check.healed ? 'healed' : drifted ? 'drifted' : 'none';
      await deps.ledger.markDriftChecked(check.targetId, { status, checkedAt, ...(drifted ? { fingerprint: check.report.fingerprint } : {}) });
    }
  }
  let posted = false;
  if (changes.length && deps.post) {
    await deps.post(formatDriftMessage(changes));
    posted = true;
  }
  return { checks, changes, posted };
};

/** The cluster of a Kubernetes target, from the config its last sync recorded. */
const clusterOf = (t: TargetState): string | undefined => {
  const config = t.config as { type?: string; cluster?: unknown } | undefined;
  return config && config.type !== 'cloudformation' && typeof config.cluster === 'string' ? config.cluster : undefined;
};
