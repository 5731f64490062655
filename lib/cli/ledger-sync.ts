import { execFileSync } from 'node:child_process';
import { hostname, userInfo } from 'node:os';
import { countActions } from '../core/change-set.js';
import { ReconcilerError } from '../core/errors.js';
import type { KubeObject, ObjectRef } from '../core/object-ref.js';
import type { Lease, Ledger, SyncRecord } from '../ledger/ledger.js';
import type { SyncResult as TargetSyncResult } from '../targets/kubernetes/kubernetes-target.js';
import type { LocalTarget } from './local-target.js';
import { holdLease, LEASE_TTL_MS, TIMED_OUT_REASON } from '../reconcile/lease.js';

/** How long the CLI's lease lasts without a heartbeat (the reconciler's: a crashed `sync` frees the target soon). */
export { LEASE_TTL_MS } from '../reconcile/lease.js';

const git = (dir: string, args: string[]): string | undefined => {
  try {
    return execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || undefined;
  } catch {
    return undefined;
  }
};

/** The checkout's commit, branch and who is syncing, for the ledger record. */
export const checkoutInfo = (dir: string): { commit: string; branch: string; author: string } => ({
  commit: git(dir, ['rev-parse', 'HEAD']) ?? 'uncommitted',
  branch: git(dir, ['rev-parse', '--abbrev-ref', 'HEAD']) ?? 'local',
  author: git(dir, ['config', 'user.name']) ?? userInfo().username,
});

/**
 * Runs a CLI sync under the target's lease and records it like the reconcile function does:
 * a `running` record first, then the result and the new state in one fenced write.
 */
export const syncWithLedger = async (
  ledger: Ledger,
  local: LocalTarget,
  rendered: { objects: readonly KubeObject[]; files: ReadonlySet<string> },
  run: (previousInventory: readonly ObjectRef[] | undefined) => Promise<TargetSyncResult>,
): Promise<{ result: TargetSyncResult; record: SyncRecord }> => {
  const holder = `cli:${hostname()}:${process.pid}`;
  const got = await ledger.acquireLease(local.id, holder, LEASE_TTL_MS, { repository: local.repository, target: local.target.name });
  if (!('lease' in got)) {
    throw new ReconcilerError(`${local.id} is being synced by ${got.heldBy} (lease until ${new Date(got.expiresAt).toISOString()}); try again later`);
  }
  const lease: Lease = got.lease;
  const held = holdLease(ledger, lease, LEASE_TTL_MS);
  const started = Date.now();
  try {
    await ledger.markTimedOut(local.id, 0, TIMED_OUT_REASON);
    const state = await ledger.getState(local.id);
    const info = checkoutInfo(local.repoDir);
    const running = await ledger.startSync(lease, {
      repository: local.repository,
      target: local.target.name,
      commit: info.commit,
      branch: info.branch,
      author: info.author,
      trigger: 'cli',
      startedAt: new Date(started).toISOString(),
    });
    let result: TargetSyncResult;
    try {
      result = await run(state?.lastSyncAt ? state.inventory : undefined);
    } catch (err) {
      await ledger.finishSync(lease, { ...running, result: 'failed', endedAt: new Date().toISOString(), durationMs: Date.now() - started, error: errorOf(err) }, {
        lastAttemptedCommit: info.commit,
        lastResult: 'failed',
        lastSyncAt: running.startedAt,
        lastSyncId: running.syncId,
      });
      throw err;
    }
    const record: SyncRecord = {
      ...running,
      result: result.failed ? 'failed' : 'succeeded',
      endedAt: new Date().toISOString(),
      durationMs: Date.now() - started,
      changeSet: result.changeSet.entries,
      counts: countActions(result.changeSet.entries),
      ...(result.error ? { error: { message: result.error } } : {}),
    };
    await ledger.finishSync(lease, record, {
      lastAttemptedCommit: info.commit,
      ...(result.failed ? {} : { lastAppliedCommit: info.commit }),
      lastResult: record.result,
      lastSyncAt: running.startedAt,
      lastSyncId: running.syncId,
      inventory: result.inventory,
      dependencies: [...rendered.files].sort(),
      config: local.target,
    });
    return { result, record };
  } finally {
    held.stop();
    await ledger.releaseLease(lease, { leavePending: true }).catch(() => undefined);
  }
};

const errorOf = (err: unknown): { message: string; cause?: string } => {
  const e = err as Error & { cause?: unknown };
  return { message: e?.message ?? String(err), ...(e?.cause instanceof Error ? { cause: e.cause.message } : {}) };
};
