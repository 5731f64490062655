import { ReconcilerError } from '../core/errors.js';
import type { Ledger, TargetState } from '../ledger/ledger.js';
import { mapLimit } from '../core/map-limit.js';
import type { ObjectRef } from '../core/object-ref.js';
import { targetLabelValue } from '../core/ownership.js';
import type { TargetCheck } from './check-target.js';
import type { DriftFailure, DriftMessage, DriftQueue } from '../core/drift-queue.js';

export { driftMessageId, type DriftFailure, type DriftMessage, type DriftQueue } from '../core/drift-queue.js';
import type { DriftNotice, Notifier } from '../notify/notifier.js';

/** What changed since the last run, per target. */
export interface DriftChange extends DriftNotice {
  readonly check: TargetCheck;
}

/** What the checks of some messages found. */
export interface DriftChecks {
  readonly checks: readonly TargetCheck[];
  readonly changes: readonly DriftChange[];
  readonly failures: readonly DriftFailure[];
  readonly posted: boolean;
}

export interface DriftCheckDeps {
  readonly ledger: Ledger;
  /**
   * Checks one target; `labelled` is what one discovery of the target's cluster found carrying its label
   * (undefined without `labelled` below, or when that discovery failed: the check then lists itself).
   */
  readonly check: (targetId: string, labelled?: readonly ObjectRef[]) => Promise<TargetCheck>;
  /**
   * Lists one cluster's labelled objects by target label value (lib/targets/kubernetes/labelled-objects.ts):
   * called once per cluster per batch of checks, so that discovery costs one LIST per kind for all its targets.
   */
  readonly labelled?: (cluster: string) => Promise<ReadonlyMap<string, readonly ObjectRef[]>>;
  /** Where the report of the changes found goes (Slack); none: reports go nowhere. */
  readonly notifier?: Pick<Notifier, 'drift'>;
  /** Checks in flight at once. @default 4 */
  readonly concurrency?: number;
  /** Checks in flight at once per cluster (or stack region): a cluster's API server is not asked more. @default 4 */
  readonly perCluster?: number;
}

export interface DriftRunDeps extends DriftCheckDeps {
  readonly now?: () => Date;
}

/** What a drift run found and said. */
export interface DriftRun {
  readonly checks: readonly TargetCheck[];
  readonly changes: readonly DriftChange[];
  readonly posted: boolean;
}

/** Tells the notifier about the changes, if there are any: true when a report went out. */
const report = async (changes: readonly DriftChange[], notifier: DriftCheckDeps['notifier']): Promise<boolean> => {
  if (!changes.length || !notifier) return false;
  await notifier.drift(changes);
  return true;
};

/** Check errors that are not failures of the check: nothing to compare yet. */
const NOT_CHECKABLE = new Set(['never applied']);

/** The queue group of a target: its cluster, or its stack's region. */
export const driftGroup = (t: Pick<TargetState, 'targetId' | 'config'>): string => {
  const c = t.config as { type?: string; cluster?: string; region?: string } | undefined;
  if (c?.type === 'cloudformation' && c.region) return `stack:${c.region}`;
  return c?.cluster ? `cluster:${c.cluster}` : `target:${t.targetId}`;
};

/**
 * The scheduled half of a drift run: reports targets that left driftless.yaml (once) and enqueues one message
 * per other target. The queue's consumer checks them (`checkDriftMessages`). Returns the removed targets' changes.
 * @example
 * await enqueueDrift({ ledger, queue: sqsDriftQueue, run: event.time });
 */
export const enqueueDrift = async (deps: {
  ledger: Ledger;
  queue: DriftQueue;
  run: string;
  notifier?: DriftCheckDeps['notifier'];
}): Promise<{ enqueued: number; changes: DriftChange[]; posted: boolean }> => {
  const all = await deps.ledger.listTargets({ withInventory: false });
  const changes: DriftChange[] = [];
  for (const t of all.filter((x) => x.removed && x.drift?.status !== 'removed')) {
    changes.push({ check: { targetId: t.targetId, suspended: t.suspended, healed: false }, change: 'removed' });
    await deps.ledger.markDriftChecked(t.targetId, { status: 'removed', checkedAt: deps.run });
  }
  const messages = all.filter((t) => !t.removed).map((t): DriftMessage => ({ run: deps.run, targetId: t.targetId, group: driftGroup(t) }));
  await deps.queue.send(messages);
  const posted = await report(changes, deps.notifier);
  return { enqueued: messages.length, changes, posted };
};

/**
 * The consumer half: checks the targets of some messages (at most `concurrency` at once, `perCluster` per
 * cluster), records drift per target with its fingerprint, and posts one message for these checks when some
 * drift is new, changed or resolved. A check that fails (the cluster cannot be reached) is returned in
 * `failures` for the queue to retry; the others are recorded.
 */
export const checkDriftMessages = async (messages: readonly DriftMessage[], deps: DriftCheckDeps, options: { post?: boolean } = {}): Promise<DriftChecks> => {
  const perGroup = new Map<string, Limiter>();
  const perCluster = deps.perCluster ?? 4;
  const byCluster = new Map<string, Promise<ReadonlyMap<string, readonly ObjectRef[]> | undefined>>();
  const labelledFor = async (m: DriftMessage): Promise<readonly ObjectRef[] | undefined> => {
    if (!m.group.startsWith('cluster:') || !deps.labelled) return undefined;
    const cluster = m.group.slice('cluster:'.length);
    // A cluster that cannot be listed: each of its checks lists (and reports the failure) itself.
    if (!byCluster.has(cluster))
      byCluster.set(
        cluster,
        deps.labelled(cluster).catch(() => undefined),
      );
    const all = await byCluster.get(cluster);
    return all ? (all.get(targetLabelValue(m.targetId)) ?? []) : undefined;
  };
  const results = await mapLimit(messages, deps.concurrency ?? 4, async (m): Promise<{ check: TargetCheck; change?: DriftChange; failure?: DriftFailure }> => {
    let group = perGroup.get(m.group);
    if (!group) perGroup.set(m.group, (group = limiter(perCluster)));
    const check = await group(async () => deps.check(m.targetId, await labelledFor(m))).catch((err: unknown): TargetCheck => ({
      targetId: m.targetId,
      suspended: false,
      healed: false,
      error: (err as Error).message || String(err),
    }));
    if (check.error && !NOT_CHECKABLE.has(check.error)) return { check, failure: { message: m, error: check.error } };
    // A cache, not a record: a failed write costs the next check some dry runs.
    if (check.observed && deps.ledger.recordChecked) await deps.ledger.recordChecked(check.targetId, check.observed).catch(() => undefined);
    const change = await recordCheck(deps.ledger, check, m.run);
    return { check, ...(change ? { change: { check, change } } : {}) };
  });
  const checks = results.map((r) => r.check);
  const changes = results.flatMap((r) => (r.change ? [r.change] : []));
  const failures = results.flatMap((r) => (r.failure ? [r.failure] : []));
  const posted = options.post !== false && (await report(changes, deps.notifier));
  return { checks, changes, failures, posted };
};

/** Records one check: a drift record when drift is new, changed or resolved, and the target's drift summary, true after every check. */
const recordCheck = async (ledger: Ledger, check: TargetCheck, checkedAt: string): Promise<DriftChange['change'] | undefined> => {
  if (!check.report) return undefined;
  const previous = await ledger.latestDrift(check.targetId);
  const drifted = check.report.objects.length > 0;
  const before = previous?.status === 'drifted' ? previous.fingerprint : undefined;
  let change: DriftChange['change'] | undefined;
  if (drifted && !before) change = 'new';
  else if (drifted && before !== check.report.fingerprint) change = 'changed';
  else if (!drifted && before) change = 'resolved';
  if (change) {
    await ledger.putDrift({
      targetId: check.targetId,
      checkedAt,
      status: change === 'resolved' ? 'resolved' : 'drifted',
      ...(drifted ? { fingerprint: check.report.fingerprint } : {}),
      report: { ...check.report, suspended: check.suspended, healed: check.healed },
    });
  }
  // putDrift writes the summary on a change, unless self-heal followed.
  if (!change || check.healed) {
    const status = check.healed ? 'healed' : drifted ? 'drifted' : 'none';
    await ledger.markDriftChecked(check.targetId, { status, checkedAt, ...(drifted ? { fingerprint: check.report.fingerprint } : {}) });
  }
  return change;
};

/** The in-process queue of `driftless serve` and tests: the same messages as SQS, kept in an array. */
export class InProcessDriftQueue implements DriftQueue {
  readonly messages: DriftMessage[] = [];
  async send(messages: readonly DriftMessage[]): Promise<void> {
    this.messages.push(...messages);
  }
  /** Takes every message enqueued so far. */
  take(): DriftMessage[] {
    return this.messages.splice(0);
  }
}

/**
 * A whole drift run in one process (`driftless serve`, the CLI, tests): enqueues on an in-process queue, checks
 * every message, and posts one message per run, only when some drift is new, changed or resolved, or a target
 * left driftless.yaml. The same drift on the next run says nothing. Every check leaves the target's drift
 * summary true: `none` after a clean check, `healed` after self-heal; a removed target is reported once as
 * `removed`, then no longer checked.
 */
export const runDrift = async (deps: DriftRunDeps): Promise<DriftRun> => {
  const queue = new InProcessDriftQueue();
  const run = (deps.now?.() ?? new Date()).toISOString();
  const enqueued = await enqueueDrift({ ledger: deps.ledger, queue, run });
  const checked = await checkDriftMessages(queue.take(), deps, { post: false });
  const changes = [...enqueued.changes, ...checked.changes];
  const posted = await report(changes, deps.notifier);
  return { checks: checked.checks, changes, posted };
};

type Limiter = <T>(fn: () => Promise<T>) => Promise<T>;

/** At most `n` calls in flight; the others wait their turn. */
const limiter = (n: number): Limiter => {
  if (!(n >= 1)) throw new ReconcilerError(`drift: perCluster must be at least 1, not ${n}`);
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (fn) => {
    if (active >= n) await new Promise<void>((r) => waiting.push(r));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
};
