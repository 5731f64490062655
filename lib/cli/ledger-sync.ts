import { execFileSync } from 'node:child_process';
import { hostname, userInfo } from 'node:os';
import { ReconcilerError } from '../core/errors.js';
import type { Ledger, SyncRecord, TargetState } from '../ledger/ledger.js';
import type { LocalTarget } from './local-target.js';
import { holdLease, LEASE_TTL_MS, TIMED_OUT_REASON, type HeldLease } from '../reconcile/lease.js';
import { createLedgerRecorder } from '../reconcile/sync-recorder.js';
import type { SyncOutcome, SyncRecorder } from '../reconcile/sync-target.js';

/** How long the CLI's lease lasts without a heartbeat (the reconciler's: a crashed `sync` frees the target soon). */
export { LEASE_TTL_MS } from '../reconcile/lease.js';

const git = (dir: string, args: string[]): string | undefined => {
  try {
    return execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || undefined;
  } catch {
    return undefined;
  }
};

/** The checkout's commit (one `git` run: what a sync without a ledger needs). */
export const checkoutCommit = (dir: string): string => git(dir, ['rev-parse', 'HEAD']) ?? 'uncommitted';

/** The checkout's commit, branch and who is syncing, for the ledger record. */
export const checkoutInfo = (dir: string): { commit: string; branch: string; author: string } => ({
  commit: checkoutCommit(dir),
  branch: git(dir, ['rev-parse', '--abbrev-ref', 'HEAD']) ?? 'local',
  author: git(dir, ['config', 'user.name']) ?? userInfo().username,
});

/**
 * Runs a CLI sync under the target's lease and records it as the reconcile function does, through the same
 * ledger recorder: a `running` record first, then the result and the new state in one fenced write.
 * `run` gets the target's state (suspension and inventory come from it) and the recorder to hand the sync use case.
 */
export const syncWithLedger = async (
  ledger: Ledger,
  local: LocalTarget,
  run: (state: TargetState | undefined, recorder: SyncRecorder, held: HeldLease) => Promise<SyncOutcome>,
): Promise<{ outcome: SyncOutcome; record?: SyncRecord }> => {
  const holder = `cli:${hostname()}:${process.pid}`;
  const got = await ledger.acquireLease(local.id, holder, LEASE_TTL_MS, { repository: local.repository, target: local.target.name });
  if (!('lease' in got)) {
    throw new ReconcilerError(`${local.id} is being synced by ${got.heldBy} (lease until ${new Date(got.expiresAt).toISOString()}); try again later`);
  }
  const held = holdLease(ledger, got.lease, LEASE_TTL_MS);
  try {
    await ledger.markTimedOut(local.id, 0, TIMED_OUT_REASON);
    const state = await ledger.getState(local.id);
    const info = checkoutInfo(local.repoDir);
    const running = await ledger.startSync(held.lease, {
      repository: local.repository,
      target: local.target.name,
      commit: info.commit,
      branch: info.branch,
      author: info.author,
      trigger: 'cli',
      startedAt: new Date().toISOString(),
    });
    const recorder = createLedgerRecorder({ ledger, lease: held.lease, running, ...(state ? { state } : {}), commit: info.commit, lost: () => held.lost });
    const outcome = await run(state, recorder, held);
    const record = recorder.records.at(-1);
    return { outcome, ...(record ? { record } : {}) };
  } finally {
    held.stop();
    await ledger.releaseLease(held.lease, { leavePending: true }).catch(() => undefined);
  }
};
