import { assertBranchName, assertCommitId, assertRepositoryName, isCommitId } from '../core/git-names.js';
import { ReconcilerError } from '../core/errors.js';
import { NO_REDACTION } from '../core/redact.js';
import { deadlineOf, msLeft, type Deadline } from '../core/deadline.js';
import { targetId as makeTargetId } from '../core/ownership.js';
import { CONFIG_FILE, loadTargets } from '../config/load-config.js';
import type { Registry } from '../config/schema.js';
import type { Lease, Ledger, SyncRecord, TargetState } from '../ledger/ledger.js';
import { LedgerConflictError } from '../ledger/ledger.js';
import type { Notifier } from '../notify/notifier.js';
import type { FileTree } from '../render/file-tree.js';
import { changedPaths } from '../render/file-tree-diff.js';
import { holdLease, LEASE_TTL_MS, TIMED_OUT_REASON, type HeldLease } from './lease.js';
import { countingSource, type RepositorySource } from '../source/repository-source.js';
import { reporterOf, type CommitReporter } from './commit-report.js';
import type { TargetOpener } from '../targets/target-opener.js';
import { createLedgerRecorder, type FailureNotice } from './sync-recorder.js';
import { describeFailure, syncTarget, type SyncOutcome } from './sync-target.js';

/** What to reconcile: one target of one repository, triggered by a commit (a trigger, not an order). */
export interface ReconcileRequest {
  readonly repository: string;
  readonly target: string;
  readonly branch: string;
  /** The commit that triggered this (pushed or merged); the branch head is what gets applied. */
  readonly commit?: string;
  readonly deliveryId?: string;
  readonly author?: string;
  readonly trigger: 'webhook' | 'sweeper' | 'trigger' | 'self-heal' | 'pending';
  /** Converge even when the head was already applied (operator trigger, self-heal). */
  readonly force?: boolean;
}

/** Everything reconcile needs, built once per cold start. */
export interface ReconcileDeps {
  readonly ledger: Ledger;
  readonly source: RepositorySource;
  readonly registry: Registry;
  /** Opens targets (clusters of the registry, stacks with the deployment's CloudFormation access): the TargetOpener port. */
  readonly targets: TargetOpener;
  readonly notifier?: Pick<Notifier, 'failure'>;
  /** Who holds the lease (the invocation's request id). */
  readonly holder: string;
  /** How long the lease lasts without a heartbeat. @default 60 s (LEASE_TTL_MS) */
  readonly leaseTtlMs?: number;
  /** How often the holder renews its lease. @default a third of the TTL */
  readonly heartbeatMs?: number;
  readonly log?: (message: string, fields?: Record<string, unknown>) => void;
  /** Progress of a sync's phases (the CLI and serve show it on long syncs). */
  readonly progress?: (targetId: string, phase: 'plan' | 'apply' | 'prune' | 'wait', done: number, total: number) => void;
  /** Reports syncs on the commit (a check run or one combined status per push). @default reporterOf(deps): nothing per target */
  readonly reporter?: CommitReporter;
}

/** How a reconcile ended. */
export type ReconcileOutcome =
  | { readonly kind: 'pending'; readonly heldBy: string }
  | { readonly kind: 'done'; readonly records: readonly SyncRecord[]; readonly untouched: number; readonly unchanged: number };

const MARGIN_MS = 30_000;

export { TIMED_OUT_REASON } from './lease.js';

/**
 * Converges one target to its branch head under the target's lease, records every sync in the ledger and
 * reports a commit status. Work arriving while the lease is held is left as the target's `pendingHead`,
 * which the holder converges to before it releases. The lease is short and renewed by a heartbeat; a holder
 * that lost it stops before its next write. Whatever fails inside a sync ends it as `failed` (see `README.md`,
 * "Failure model").
 * @example
 * await reconcileTarget({ repository: 'acme/shop', target: 'web', branch: 'main', commit, trigger: 'webhook' }, deps, signal);
 */
export const reconcileTarget = async (req: ReconcileRequest, deps: ReconcileDeps, run?: Deadline | AbortSignal): Promise<ReconcileOutcome> => {
  checkRequest(req);
  const signal = run instanceof AbortSignal ? run : run?.signal;
  const id = makeTargetId(req.repository, req.target);
  const ttl = deps.leaseTtlMs ?? LEASE_TTL_MS;
  const heartbeatMs = deps.heartbeatMs ?? Math.max(100, Math.floor(ttl / 3));
  const deadline = Date.now() + msLeft(run instanceof AbortSignal ? undefined : run?.at);
  const got = await takeLease(req, id, ttl, heartbeatMs, deps, deadline, signal);
  if ('heldBy' in got) return got;
  const held = holdLease(deps.ledger, got.lease, ttl, { heartbeatMs, ...(deps.log ? { log: deps.log } : {}) });
  const work = signal ? AbortSignal.any([signal, held.signal]) : held.signal;
  const lease = held.lease;
  let released = false;
  const records: SyncRecord[] = [];
  let untouched = 0;
  let unchanged = 0;
  try {
    // The lease is exclusive: a `running` record found now belongs to a holder whose lease ended.
    const closed = await deps.ledger.markTimedOut(id, 0, TIMED_OUT_REASON);
    if (closed) deps.log?.('closed running syncs of an earlier holder as timed-out', { target: id, closed });
    let trigger: ReconcileRequest = req;
    for (let round = 0; round < 10 && !held.lost; round++) {
      const r = await convergeOnce(trigger, held, deps, work, deadline);
      records.push(...r.records);
      if (r.untouched) untouched++;
      if (r.unchanged) unchanged++;
      if (held.lost) break;
      // The round is recorded: a ledger that fails now leaves the lease to expire (a pending head stays for the sweeper).
      const next = await nextWork(lease, deps).catch((err: unknown) => {
        deps.log?.('lease left to expire: the ledger failed after the sync was recorded', { target: id, error: (err as Error).message });
        return 'stop' as const;
      });
      if (next === 'stop') break;
      if (next === 'released') {
        released = true;
        break;
      }
      trigger = { ...req, trigger: 'pending', ...(next.startsWith('branch:') ? { commit: undefined } : { commit: next }), deliveryId: undefined, force: false };
    }
  } catch (err) {
    // Only the ledger fails here (convergeOnce records its own failures): a lost lease is not an error of this call.
    if (!held.lost && !(err instanceof LedgerConflictError)) throw err;
    deps.log?.('stopped: lease lost', { target: id, error: (err as Error).message });
  } finally {
    held.stop();
    if (!released && !held.lost) await deps.ledger.releaseLease(lease, { leavePending: true }).catch(() => undefined);
  }
  return { kind: 'done', records, untouched, unchanged };
};

/** After a round: a pending head to converge to, or `'released'` when the lease was released. */
const nextWork = async (lease: Lease, deps: ReconcileDeps): Promise<string> => {
  const pending = await deps.ledger.takePendingHead(lease);
  if (pending) return pending;
  const release = await deps.ledger.releaseLease(lease);
  return release.released ? 'released' : release.pendingHead;
};

/**
 * Takes the target's lease. A held lease gets the request as its pending head, unless its holder has missed
 * its heartbeats (it crashed): then this waits for the lease to end, within the invocation, and takes over.
 */
const takeLease = async (
  req: ReconcileRequest,
  id: string,
  ttl: number,
  heartbeatMs: number,
  deps: ReconcileDeps,
  deadline: number,
  signal?: AbortSignal,
): Promise<{ lease: Lease } | { kind: 'pending'; heldBy: string }> => {
  for (let attempt = 0; attempt < 5; attempt++) {
    const got = await deps.ledger.acquireLease(id, deps.holder, ttl, { repository: req.repository, target: req.target });
    if ('lease' in got) return got;
    const now = Date.now();
    const silentMs = now - (got.expiresAt - ttl);
    const waitMs = got.expiresAt - now + 100;
    if (silentMs > heartbeatMs * 1.5 && waitMs <= ttl && now + waitMs < deadline - MARGIN_MS) {
      deps.log?.('lease holder missed its heartbeat; waiting for its lease to end', { target: id, heldBy: got.heldBy, waitMs });
      await sleep(waitMs, signal);
      continue;
    }
    if ((await deps.ledger.recordPendingHead(id, req.commit ?? `branch:${req.branch}`)) === 'recorded') {
      deps.log?.('lease held; recorded pending head', { target: id, heldBy: got.heldBy, commit: req.commit });
      return { kind: 'pending', heldBy: got.heldBy };
    }
  }
  throw new ReconcilerError(`${id}: could not take the lease`);
};

interface RoundResult {
  records: SyncRecord[];
  untouched?: boolean;
  unchanged?: boolean;
}

/** One convergence: resolve the head, decide whether the target is touched, render, apply, record. */
const convergeOnce = async (req: ReconcileRequest, held: HeldLease, deps: ReconcileDeps, signal: AbortSignal, deadline: number): Promise<RoundResult> => {
  const lease = held.lease;
  const id = lease.targetId;
  const source = countingSource(deps.source);
  const state = await deps.ledger.getState(id);
  const records: SyncRecord[] = [];
  const base = { repository: req.repository, target: req.target, branch: req.branch, trigger: req.trigger, holder: lease.holder, ...(req.author ? { author: req.author } : {}) };

  let head: string;
  let changed: Awaited<ReturnType<RepositorySource['headAndChanges']>>['changed'];
  let headError: unknown;
  try {
    ({ head, changed } = await source.headAndChanges(req.repository, req.branch, state?.lastAttemptedCommit, signal));
  } catch (err) {
    // The head cannot be resolved: the sync is recorded (and fails) at the commit that triggered it.
    if (!isCommitId(req.commit)) throw err;
    head = req.commit;
    changed = undefined;
    headError = err;
  }

  // GitHub's compare lists at most 300 files and 250 commits, and a force-push is not in it: then every target
  // would count as touched. The two snapshots say exactly what changed (the head's is the render's own, and a
  // warm function fetches each commit once); a base that cannot be fetched leaves every target touched.
  if (changed?.truncated && !headError && !req.force && state?.lastResult === 'succeeded' && state.lastAttemptedCommit && isCommitId(state.lastAttemptedCommit)) {
    changed = (await exactChanges(source, req.repository, state.lastAttemptedCommit, head, signal)) ?? changed;
  }

  // The pushed commit is a trigger, not an order: an older one is recorded as superseded.
  if (req.commit && req.commit !== head) {
    const now = new Date().toISOString();
    const rec = await deps.ledger.startSync(lease, { ...base, commit: req.commit, startedAt: now, ...(req.deliveryId ? { deliveryId: req.deliveryId } : {}) });
    const done: SyncRecord = { ...rec, result: 'superseded', endedAt: now, error: { message: `superseded by ${head.slice(0, 12)}, the head of ${req.branch}` } };
    await deps.ledger.finishSync(lease, done, {});
    records.push(done);
  }

  // Idempotent on (target, commit): a head already applied with success writes nothing.
  if (!headError && !req.force && state?.lastAttemptedCommit === head && state.lastResult === 'succeeded') return { records, unchanged: true };
  // The commit's report (one check run or combined status per push): untouched targets count towards its end too.
  let declared: string[] | undefined;
  const report = (s: 'pending' | 'success' | 'failure' | 'untouched', description: string) =>
    reporterOf(deps).report({
      repository: req.repository,
      branch: req.branch,
      commit: head,
      target: req.target,
      state: s,
      description,
      ...(declared ? { targets: declared } : {}),
    });
  if (!headError && !req.force && state && !touches(state, changed)) {
    await deps.ledger.writeState(lease, { lastAttemptedCommit: head, lastAppliedCommit: head });
    deps.log?.('untouched by this push', { target: id, head });
    await report('untouched', 'untouched by this push');
    return { records, unchanged: false, untouched: true };
  }

  const running = await deps.ledger.startSync(lease, {
    ...base,
    commit: head,
    startedAt: new Date().toISOString(),
    ...(req.deliveryId && (!req.commit || req.commit === head) ? { deliveryId: req.deliveryId } : {}),
  });
  const recorder = createLedgerRecorder({
    ledger: deps.ledger,
    lease,
    running,
    ...(state ? { state } : {}),
    commit: head,
    lost: () => held.lost,
    // The reporter logs its own GitHub failures; a report never fails a sync.
    report: (s, description) => report(s, description),
    ...(deps.notifier
      ? {
          notify: (notice: FailureNotice) =>
            deps.notifier!.failure({
              targetId: id,
              repository: req.repository,
              commit: head,
              branch: req.branch,
              error: notice.error,
              ...(req.author ? { author: req.author } : {}),
              ...(notice.failures ? { failures: [...notice.failures] } : {}),
            }),
        }
      : {}),
    githubCalls: () => source.reads,
    ...(deps.log ? { log: deps.log } : {}),
  });
  const done = (): RoundResult => ({ records: [...records, ...recorder.records] });
  const failure = (message: string, cause: unknown): SyncOutcome => ({ result: 'failed', message, cause, update: {}, notifyOn: ['failure'], redact: NO_REDACTION });

  if (headError) {
    await recorder.record(failure(describeFailure(`fetching ${head.slice(0, 12)}`, headError), headError));
    return done();
  }
  let tree: FileTree;
  try {
    // Fetch what the target needs at the head: one tarball of the commit.
    tree = await source.snapshot(req.repository, head, signal);
    declared = await declaredTargets(tree, req, deps.registry);
  } catch (err) {
    await recorder.record(failure(`fetching ${head.slice(0, 12)} failed: ${(err as Error).message}`, err));
    return done();
  }
  await syncTarget(
    { repository: req.repository, target: req.target, branch: req.branch, commit: head, tree, ...(state ? { state } : {}) },
    {
      registry: deps.registry,
      targets: deps.targets,
      recorder,
      deadline: { signal, at: deadline },
      beforeWrite: (what) => held.check(what),
      ...(deps.progress ? { onProgress: (phase: 'plan' | 'apply' | 'prune' | 'wait', n: number, total: number) => deps.progress?.(id, phase, n, total) } : {}),
    },
  );
  return done();
};

/** The targets driftless.yaml declares on the branch (the commit report waits for each); undefined when it cannot tell. */
const declaredTargets = async (tree: FileTree, req: ReconcileRequest, registry: Registry): Promise<string[] | undefined> => {
  try {
    return (await loadTargets(tree, { repository: req.repository, registry }))?.targets.filter((t) => t.branch === req.branch).map((t) => t.name);
  } catch {
    return undefined; // the sync itself reports what is wrong with the file
  }
};

/** A target name as driftless.yaml allows it (a DNS label). */
const TARGET_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * An invocation event is checked before anything reads or writes for it: it comes from our webhook, the sweeper
 * or an operator, but its names reach git, GitHub and the ledger, so a malformed one is refused whole.
 */
const checkRequest = (req: ReconcileRequest): void => {
  if (typeof req !== 'object' || req === null) throw new ReconcilerError('reconcile: the event is not an object');
  assertRepositoryName('reconcile: repository', req.repository);
  if (typeof req.target !== 'string' || !TARGET_NAME.test(req.target))
    throw new ReconcilerError(`reconcile ${req.repository}: target ${JSON.stringify(String(req.target).slice(0, 80))} is not a target name`);
  assertBranchName(`reconcile ${req.repository}/${req.target}: branch`, req.branch);
  if (req.commit !== undefined) assertCommitId(`reconcile ${req.repository}/${req.target}: commit`, req.commit);
};

export { describeFailure } from './sync-target.js';

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason as Error)), { once: true });
  });

/** What changed from `base` to `head`, from their snapshots; undefined when either cannot be fetched. */
const exactChanges = async (source: RepositorySource, repository: string, base: string, head: string, signal: AbortSignal) => {
  if (base === head) return { files: [], truncated: false };
  try {
    const [before, after] = await Promise.all([source.snapshot(repository, base, signal), source.snapshot(repository, head, signal)]);
    return { files: await changedPaths(before, after), truncated: false };
  } catch {
    return undefined;
  }
};

/** Whether a change touches a target: its dependency files, its path, driftless.yaml, a truncated compare, or a last result that was not success. */
export const touches = (state: TargetState, changed: { files: readonly string[]; truncated: boolean } | undefined): boolean => {
  if (!changed || changed.truncated || state.lastResult !== 'succeeded') return true;
  const deps = new Set(state.dependencies);
  const path = (state.config as { path?: string } | undefined)?.path;
  return changed.files.some((f) => f === CONFIG_FILE || deps.has(f) || (path !== undefined && (f === path || f.startsWith(`${path.replace(/\/$/, '')}/`))));
};

/**
 * The deadline of an invocation with `remainingMs` left, `marginMs` before its time runs out: pass it to
 * `reconcileTarget` and the drift check.
 */
export const deadlineSignal = (remainingMs: number, marginMs = 10_000): Deadline => deadlineOf(remainingMs, marginMs);
