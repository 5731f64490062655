import type { Ledger } from '../ledger/ledger.js';
import { mapLimit } from '../targets/kubernetes/ordering.js';
import type { TargetCheck } from './check-target.js';
import { formatDriftMessage, type DriftChange } from './format-drift-report.js';

export interface DriftRunDeps {
  readonly ledger: Ledger;
  /** Checks one target (in its own invocation when deployed). */
  readonly check: (targetId: string) => Promise<TargetCheck>;
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
 * run — only when some drift is new, changed or resolved. The same drift on the next run says nothing.
 */
export const runDrift = async (deps: DriftRunDeps): Promise<DriftRun> => {
  const targets = await deps.ledger.listTargets({ withInventory: false });
  const checks = await mapLimit(targets, deps.concurrency ?? 4, (t) => deps.check(t.targetId));
  const changes: DriftChange[] = [];
  const checkedAt = (deps.now?.() ?? new Date()).toISOString();
  for (const check of checks) {
    if (!check.report) continue;
    const previous = await deps.ledger.latestDrift(check.targetId);
    const drifted = check.report.objects.length > 0;
    const before = previous?.status === 'drifted' ? previous.fingerprint : undefined;
    let change: DriftChange['change'] | undefined;
    if (drifted && !before) change = 'new';
    else if (drifted && before !== check.report.fingerprint) change = 'changed';
    else if (!drifted && before) change = 'resolved';
    if (!change) continue;
    changes.push({ check, change });
    await deps.ledger.putDrift({
      targetId: check.targetId,
      checkedAt,
      status: change === 'resolved' ? 'resolved' : 'drifted',
      ...(drifted ? { fingerprint: check.report.fingerprint } : {}),
      report: { ...check.report, suspended: check.suspended, healed: check.healed },
    });
  }
  let posted = false;
  if (changes.length && deps.post) {
    await deps.post(formatDriftMessage(changes));
    posted = true;
  }
  return { checks, changes, posted };
};
