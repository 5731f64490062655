import type { Registry } from '../config/schema.js';
import type { Ledger, TargetState } from '../ledger/ledger.js';
import type { ReconcileRequest } from '../reconcile/reconcile-target.js';
import type { RepositorySource } from '../source/repository-source.js';

export interface SweepDeps {
  readonly ledger: Ledger;
  readonly source: RepositorySource;
  readonly registry: Registry;
  readonly handOff: (request: ReconcileRequest) => Promise<void>;
  /** How failed heads are retried. @default RETRY_POLICY */
  readonly retry?: RetryPolicy;
  readonly now?: () => number;
}

/** When the sweeper tries a head that failed again: after `baseMs`, doubling per failure, at most `maxMs`, `maxAttempts` times in all. */
export interface RetryPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
  readonly maxAttempts: number;
}

/** Retries at 2, 4, 8, 16 and 32 minutes after a failure (then it waits for a new head, a config change or `trigger`). */
export const RETRY_POLICY: RetryPolicy = { baseMs: 2 * 60_000, maxMs: 60 * 60_000, maxAttempts: 6 };

/** Whether a target that failed at `head` is due for another try under `policy` (false once it ran out of attempts). */
export const retryDue = (t: Pick<TargetState, 'failedAttempts' | 'lastSyncAt'>, now: number, policy: RetryPolicy = RETRY_POLICY): boolean => {
  const failures = Math.max(1, t.failedAttempts ?? 1);
  if (failures >= policy.maxAttempts) return false;
  const last = t.lastSyncAt ? Date.parse(t.lastSyncAt) : 0;
  return now - last >= Math.min(policy.maxMs, policy.baseMs * 2 ** (failures - 1));
};

/**
 * Catches what webhooks missed (GitHub never redelivers a failed delivery on its own): for each registered
 * repository and tracked branch, one conditional request for the head (ETag kept in the ledger); a head that
 * differs from the last processed one starts the same work a webhook would. Targets whose lease is free and
 * that were left with work are started too: a pending head nobody took, a stack execution to finish, a
 * `running` sync whose holder crashed. A head that failed is not started again until the retry policy says so.
 */
export const sweep = async (deps: SweepDeps): Promise<{ handedOff: ReconcileRequest[] }> => {
  const handedOff: ReconcileRequest[] = [];
  const now = deps.now?.() ?? Date.now();
  for (const repository of Object.keys(deps.registry.repositories)) {
    const targets = await deps.ledger.listTargets({ repository, withInventory: false });
    const branches = new Map<string, TargetState[]>();
    for (const t of targets) {
      const branch = (t.config as { branch?: string } | undefined)?.branch;
      if (branch && !t.removed) branches.set(branch, [...(branches.get(branch) ?? []), t]);
    }
    for (const [branch, list] of branches) {
      const stored = await deps.ledger.getHead(repository, branch);
      const r = await deps.source.headIfChanged(repository, branch, stored?.etag);
      const head = 'notModified' in r ? stored?.head : r.head;
      const changed = !('notModified' in r) && r.head !== stored?.head;
      for (const t of list) {
        const why = sweepReason(t, head, changed, now, deps.retry);
        if (!why) continue;
        const req: ReconcileRequest = { repository, target: t.target, branch, ...(head ? { commit: head } : {}), trigger: 'sweeper' };
        await deps.handOff(req);
        handedOff.push(req);
      }
      if (!('notModified' in r)) await deps.ledger.putHead(repository, branch, { head: r.head, ...(r.etag ? { etag: r.etag } : {}) });
    }
  }
  return { handedOff };
};

/** Why the sweeper starts a target, or undefined to leave it. */
export const sweepReason = (t: TargetState, head: string | undefined, headChanged: boolean, now: number, policy?: RetryPolicy): string | undefined => {
  if (t.lease && t.lease.expiresAt >= now) return undefined;
  if (t.runningSyncId) return 'its holder stopped while running';
  if (t.lastResult === 'in-progress') return 'a stack execution to finish';
  const failedHere = t.lastResult === 'failed' && (!head || t.lastAttemptedCommit === head);
  if (failedHere) return (!t.pendingHead || t.pendingHead === t.lastAttemptedCommit) && !retryDue(t, now, policy) ? undefined : 'retry of a failed head';
  if (t.pendingHead) return 'a pending head';
  if (headChanged && head && t.lastAttemptedCommit !== head) return 'a head it missed';
  return undefined;
};
