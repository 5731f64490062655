import { CONFIG_FILE, loadTargets } from '../config/load-config.js';
import type { Registry } from '../config/schema.js';
import type { Ledger, TargetState } from '../ledger/ledger.js';
import type { ReconcileRequest } from '../reconcile/reconcile-target.js';
import type { RepositorySource } from '../source/repository-source.js';

export interface SweepDeps {
  readonly ledger: Ledger;
  readonly source: RepositorySource;
  readonly registry: Registry;
  readonly handOff: (request: ReconcileRequest) => Promise<void>;
  /**
   * Branches to watch besides those the ledger's targets track (`driftless serve`: every branch of a local clone),
   * so a repository none of whose targets has synced yet is found too.
   */
  readonly branches?: (repository: string) => Promise<readonly string[]>;
  /**
   * Treat every head as new: a reconciler that has just started (a restarted `driftless serve`) may have lost the
   * hand-offs of its last run, so each target not yet attempted at its head is started again. @default false
   */
  readonly catchUp?: boolean;
  /** Ends the sweep between hand-offs (serve's shutdown). */
  readonly signal?: AbortSignal;
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
 * A new head also starts the targets its driftless.yaml declares on that branch that the ledger has never seen
 * (a missed push that added a target; a fresh `driftless serve`), and the declared targets whose first sync never
 * finished (the ledger has no config to place them by) follow the rules above: one read of driftless.yaml per new
 * head, or per sweep while such a target is left.
 * The one sweeper: the drift function runs it on its schedule, `driftless serve` on its poll (with its clones'
 * branches in `branches`).
 */
export const sweep = async (deps: SweepDeps): Promise<{ handedOff: ReconcileRequest[]; skipped: { repository: string; head: string; reason: string }[] }> => {
  const handedOff: ReconcileRequest[] = [];
  const skipped: { repository: string; head: string; reason: string }[] = [];
  const now = deps.now?.() ?? Date.now();
  for (const repository of Object.keys(deps.registry.repositories)) {
    const targets = await deps.ledger.listTargets({ repository, withInventory: false });
    const branches = new Map<string, TargetState[]>();
    // Targets the ledger has no config for (their first sync never finished): their branch is in driftless.yaml.
    const unplaced = new Map<string, TargetState>();
    for (const t of targets) {
      if (t.removed) continue;
      const branch = (t.config as { branch?: string } | undefined)?.branch;
      if (branch) branches.set(branch, [...(branches.get(branch) ?? []), t]);
      else unplaced.set(t.target, t);
    }
    for (const branch of (await deps.branches?.(repository)) ?? []) if (!branches.has(branch)) branches.set(branch, []);
    const placed = new Set([...branches.values()].flat().map((t) => t.target));
    for (const [branch, list] of branches) {
      if (deps.signal?.aborted) return { handedOff, skipped };
      const stored = await deps.ledger.getHead(repository, branch);
      const r = await deps.source.headIfChanged(repository, branch, stored?.etag);
      const head = 'notModified' in r ? stored?.head : r.head;
      const changed = deps.catchUp ? head !== undefined : !('notModified' in r) && r.head !== stored?.head;
      const start = async (target: string) => {
        const req: ReconcileRequest = { repository, target, branch, ...(head ? { commit: head } : {}), trigger: 'sweeper' };
        await deps.handOff(req);
        handedOff.push(req);
      };
      for (const t of list) {
        if (sweepReason(t, head, changed, now, deps.retry)) await start(t.target);
      }
      if (head && (changed || unplaced.size)) {
        const declared = await declaredOn(deps, repository, branch, head);
        if ('reason' in declared) skipped.push({ repository, head, reason: declared.reason });
        else {
          for (const name of declared.targets) {
            if (placed.has(name)) continue;
            const t = unplaced.get(name);
            // Never seen: started on a new head. Seen but never finished a sync: by the same rules as the others.
            if (t ? sweepReason(t, head, changed, now, deps.retry) : changed) await start(name);
          }
        }
      }
      if (!('notModified' in r)) await deps.ledger.putHead(repository, branch, { head: r.head, ...(r.etag ? { etag: r.etag } : {}) });
    }
  }
  return { handedOff, skipped };
};

/** The targets driftless.yaml declares at `head` on `branch`; a missing or broken file is a reason (its syncs record it). */
const declaredOn = async (deps: SweepDeps, repository: string, branch: string, head: string): Promise<{ targets: string[] } | { reason: string }> => {
  try {
    const text = await deps.source.readFile(repository, head, CONFIG_FILE);
    if (text === undefined) return { reason: `no ${CONFIG_FILE}` };
    return {
      targets: loadTargets(text, { repository, registry: deps.registry })
        .targets.filter((t) => t.branch === branch)
        .map((t) => t.name),
    };
  } catch (err) {
    return { reason: (err as Error).message };
  }
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
