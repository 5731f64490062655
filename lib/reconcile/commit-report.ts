import { createHash } from 'node:crypto';
import { formatCountMap } from '../core/change-set.js';
import { targetId as makeTargetId } from '../core/ownership.js';
import type { Ledger, SyncRecord, TargetState } from '../ledger/ledger.js';
import type { CheckRunReport, CheckRuns, CommitStatus, RepositorySource } from '../source/repository-source.js';
import { mapLimit } from '../core/map-limit.js';

/** The one check run per (repository, commit) a GitHub App writes. */
export const CHECK_RUN_NAME = 'driftless sync';
/** The one combined commit status per commit token auth writes. */
export const COMBINED_CONTEXT = 'driftless';

/** What one target's sync tells the reporter about a commit. */
export interface TargetReport {
  readonly repository: string;
  readonly branch: string;
  /** The commit the target converged to (the branch head it applied). */
  readonly commit: string;
  readonly target: string;
  /**
   * `pending`: the target's sync of the commit started (or a stack is still in progress). `success`/`failure`:
   * this invocation is done with the commit. `untouched`: the push did not touch the target (nothing synced).
   */
  readonly state: 'pending' | 'success' | 'failure' | 'untouched';
  /** The per-target status text (counts, or the failure); at most 140 characters are shown. */
  readonly description: string;
  /**
   * The targets driftless.yaml names for the branch at the commit, when the sync read it: targets new in this
   * push have no state in the ledger until their own invocation starts, and the report waits for them too.
   */
  readonly targets?: readonly string[];
}

/** Reports a commit's syncs to GitHub: a few writes per push, whatever the number of targets. */
export interface CommitReporter {
  /** Never throws for GitHub or ledger failures: a report is not the sync (failures go to `log`). */
  report(event: TargetReport): Promise<void>;
}

/** What the reporter reads and writes: the ledger's state and records of the commit, and GitHub. */
export interface CommitReporterDeps {
  /** `recordDelivery` is the ledger's conditional put: it claims a report write so that one invocation makes it. */
  readonly ledger: Pick<Ledger, 'listTargets' | 'getState' | 'getSync' | 'history' | 'recordDelivery' | 'hasDelivery'>;
  readonly source: Pick<RepositorySource, 'setStatus' | 'checkRuns'>;
  readonly log?: (message: string, fields?: Record<string, unknown>) => void;
}

export interface CommitReporterOptions {
  /** Also write one `driftless/<target>` status per target (pending and final): two writes per target. @default false */
  readonly perTargetStatuses?: boolean;
  /** Least time between the first sync of a commit and an intermediate update of its report. @default 30000 */
  readonly progressIntervalMs?: number;
  /** Intermediate updates per commit, at most (0: only the start and the conclusion). @default 1 */
  readonly maxProgressUpdates?: number;
  /**
   * How long the conclusion waits for the check run the first target creates (its request may wait behind
   * Octokit's spacing of writes). @default 20000
   */
  readonly findTimeoutMs?: number;
  readonly now?: () => number;
}

/** Above this many targets still open in the eventually consistent index, this finisher is not the last one. */
const RECHECK_LIMIT = 64;
/** Claims expire with the ledger's delivery TTL (7 days): long after a commit's report is settled. */
const CLAIM = 'commit-report';

/** One row of a commit's report. */
export interface ReportRow {
  readonly target: string;
  /** A sync result, `untouched`, or `syncing` while the target is still open. */
  readonly result: SyncRecord['result'] | 'untouched' | 'syncing';
  readonly changes: string;
}

/**
 * Creates the commit reporter. With a GitHub App, one check run `driftless sync` per (repository, commit): the
 * first target to start creates it, at most `maxProgressUpdates` throttled updates rebuild its summary from the
 * ledger, and the last target to finish writes the conclusion. With a token, one combined `driftless` status
 * the same way (per-target statuses opt-in). Who writes is decided by conditional puts in the ledger, so
 * concurrent invocations of one push make each write once: at most 2 + `maxProgressUpdates` writes per push.
 * @example
 * const reporter = createCommitReporter({ ledger, source });
 * await reporter.report({ repository: 'acme/shop', branch: 'main', commit, target: 'web', state: 'success', description: '1 created' });
 */
export const createCommitReporter = (deps: CommitReporterDeps, options: CommitReporterOptions = {}): CommitReporter => {
  const now = options.now ?? Date.now;
  const interval = options.progressIntervalMs ?? 30_000;
  const maxProgress = options.maxProgressUpdates ?? 1;
  const findTimeoutMs = options.findTimeoutMs ?? 20_000;
  /** Check run ids this process created or found, per repository@commit. */
  const ids = new Map<string, number>();
  const key = (e: TargetReport, what: string) => `${CLAIM}/${e.repository}@${e.commit}/${what}`;
  const claim = async (e: TargetReport, what: string): Promise<boolean> =>
    (await deps.ledger.recordDelivery(key(e, what), { event: CLAIM, repository: e.repository })) === 'recorded';

  /**
   * Before a conclusion: an intermediate update must not land after it (it would set the check run back to in
   * progress). Each update slot is claimed now (then no update can take it) or was claimed by an update, which
   * marks itself done after its write: the conclusion waits for that, at most `findTimeoutMs`.
   */
  const closeProgress = async (e: TargetReport): Promise<void> => {
    for (let k = 1; k <= maxProgress; k++) {
      if (await claim(e, `progress/${k}`)) continue;
      const until = now() + findTimeoutMs;
      while (!(await deps.ledger.hasDelivery(key(e, `progress/${k}/done`))) && now() < until) await new Promise((r) => setTimeout(r, 250));
    }
  };

  const setStatus = (e: TargetReport, status: CommitStatus) => deps.source.setStatus(e.repository, e.commit, { ...status, description: status.description.slice(0, 140) });

  /** The check run of the commit, created by another invocation: looked up until it shows (it is created before any target ends). */
  const findRun = async (runs: CheckRuns, e: TargetReport, wait: boolean): Promise<number | undefined> => {
    const key = `${e.repository}@${e.commit}`;
    const cached = ids.get(key);
    if (cached !== undefined) return cached;
    const until = now() + (wait ? findTimeoutMs : 0);
    for (;;) {
      const id = await runs.findCheckRun(e.repository, e.commit, CHECK_RUN_NAME);
      if (id !== undefined) return (ids.set(key, id), id);
      if (now() >= until) return undefined;
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  const start = async (e: TargetReport): Promise<void> => {
    if (!(await claim(e, 'start'))) return;
    const runs = await deps.source.checkRuns?.();
    if (runs) {
      const id = await runs.createCheckRun(e.repository, e.commit, {
        name: CHECK_RUN_NAME,
        status: 'in_progress',
        title: `syncing ${e.commit.slice(0, 7)}`,
        summary: `Syncing ${e.commit.slice(0, 7)} of ${e.branch}: ${e.target} started.`,
      });
      ids.set(`${e.repository}@${e.commit}`, id);
    } else {
      await setStatus(e, { context: COMBINED_CONTEXT, state: 'pending', description: `syncing ${e.commit.slice(0, 7)}` });
    }
  };

  /** A target ended: the conclusion when every target of the branch has settled at the commit, else maybe a throttled update. */
  const settle = async (e: TargetReport): Promise<void> => {
    const view = await viewOf(deps.ledger, e);
    if (!view) return;
    if (view.open === 0) {
      // The index may miss an item while it is rewritten (DynamoDB Local does): a second look must agree, and
      // the table has every target either look found.
      const again = await viewOf(deps.ledger, e);
      if (!again || again.open !== 0) return;
      const states = [...again.states, ...view.states.filter((t) => !again.states.some((u) => u.targetId === t.targetId))];
      const rows = await rowsOf(deps.ledger, e, states, new Map([...view.records, ...again.records]));
      const digest = createHash('sha256')
        .update(JSON.stringify(rows.map((r) => [r.target, r.result])))
        .digest('hex')
        .slice(0, 16);
      if (!(await claim(e, `final/${digest}`))) return;
      await closeProgress(e);
      await write(e, rows, true);
      return;
    }
    const startedAt = Math.min(...view.states.filter((t) => t.lastAttemptedCommit === e.commit && t.lastSyncAt).map((t) => Date.parse(t.lastSyncAt as string)));
    const k = Math.min(maxProgress, Math.floor((now() - startedAt) / interval));
    if (!Number.isFinite(k) || k < 1 || !(await claim(e, `progress/${k}`))) return;
    try {
      await write(e, await rowsOf(deps.ledger, e, view.states, view.records), false);
    } finally {
      await claim(e, `progress/${k}/done`);
    }
  };

  /** Writes the report: the check run's status and summary, or the combined status. */
  const write = async (e: TargetReport, rows: readonly ReportRow[], final: boolean): Promise<void> => {
    const failed = rows.filter((r) => r.result === 'failed' || r.result === 'timed-out');
    const runs = await deps.source.checkRuns?.();
    if (runs) {
      const report: CheckRunReport = {
        name: CHECK_RUN_NAME,
        status: final ? 'completed' : 'in_progress',
        ...(final ? { conclusion: failed.length ? 'failure' : 'success' } : {}),
        title: reportTitle(rows, final),
        summary: formatReportSummary(e.commit, rows),
      };
      // The first target to start claimed the creation; a conclusion without any start (nothing touched) claims it here.
      const creator = final && (await claim(e, 'start'));
      const id = creator ? undefined : await findRun(runs, e, final);
      if (id !== undefined) await runs.updateCheckRun(e.repository, id, report);
      else if (final) ids.set(`${e.repository}@${e.commit}`, await runs.createCheckRun(e.repository, e.commit, report));
      return;
    }
    if (final) await claim(e, 'start');
    await setStatus(e, { context: COMBINED_CONTEXT, state: final ? (failed.length ? 'failure' : 'success') : 'pending', description: reportTitle(rows, final) });
  };

  return {
    async report(e) {
      try {
        if (options.perTargetStatuses && e.state !== 'untouched') {
          await setStatus(e, { context: `driftless/${e.target}`, state: e.state, description: e.description }).catch((err: unknown) =>
            deps.log?.('commit status not set', { target: makeTargetId(e.repository, e.target), error: (err as Error).message }),
          );
        }
        await (e.state === 'pending' ? start(e) : settle(e));
      } catch (err) {
        deps.log?.('commit report not written', { target: makeTargetId(e.repository, e.target), commit: e.commit, error: (err as Error).message });
      }
    },
  };
};

/** The reporters built for deps that name none: one per deps object, so its caches last the cold start. */
const defaults = new WeakMap<object, CommitReporter>();

/** The reporter of `deps`, or the default one (combined status or check run, nothing per target) built once for them. */
export const reporterOf = (deps: CommitReporterDeps & { readonly reporter?: CommitReporter }): CommitReporter => {
  if (deps.reporter) return deps.reporter;
  let r = defaults.get(deps);
  if (!r) defaults.set(deps, (r = createCommitReporter(deps)));
  return r;
};

interface View {
  readonly states: readonly TargetState[];
  /** Records at the commit of targets that moved on past it (superseded), by target id. */
  readonly records: ReadonlyMap<string, SyncRecord>;
  /** Targets that have not settled at the commit yet. */
  readonly open: number;
}

/** Whether a target has settled at `commit`: converged to it and idle, or (`record`) left a final record of it. */
const settledAt = (t: TargetState, commit: string, _now: number): boolean => t.lastAttemptedCommit === commit && !t.runningSyncId && t.lastResult !== 'in-progress';

/**
 * The targets of the commit's branch and how many are still open. The index is eventually consistent: targets it
 * shows open are read again (consistently) when few are; many open means this finisher is not the last. Targets
 * that are idle but at another commit either wait in the invocation queue or moved on past the commit (a
 * record of it, `superseded`, says which): that is looked up only when no target is busy.
 */
const viewOf = async (ledger: CommitReporterDeps['ledger'], e: TargetReport): Promise<View | undefined> => {
  const now = Date.now();
  const listed = (await ledger.listTargets({ repository: e.repository, withInventory: false })).filter(
    (t) => (t.config as { branch?: string } | undefined)?.branch === e.branch && (!t.removed || t.lastAttemptedCommit === e.commit),
  );
  const self = makeTargetId(e.repository, e.target);
  // Declared targets the index does not show yet: read consistently (their first sync may just have started).
  const unlisted = (e.targets ?? []).map((n) => makeTargetId(e.repository, n)).filter((id) => id !== self && !listed.some((t) => t.targetId === id));
  const open = listed.filter((t) => !settledAt(t, e.commit, now) || t.targetId === self);
  if (open.length + unlisted.length > RECHECK_LIMIT) return { states: listed, records: new Map(), open: open.length + unlisted.length };
  const found = (await mapLimit(unlisted, 16, (id) => ledger.getState(id))).filter((s): s is TargetState => s !== undefined);
  const missing = unlisted.length - found.length;
  const fresh = new Map((await mapLimit(open, 16, (t) => ledger.getState(t.targetId))).flatMap((s) => (s ? [[s.targetId, s] as const] : [])));
  const states = [...listed.map((t) => fresh.get(t.targetId) ?? t), ...found];
  if (!states.some((t) => t.targetId === self)) {
    const mine = await ledger.getState(self);
    if (mine) states.push(mine);
  }
  let still = states.filter((t) => !settledAt(t, e.commit, now));
  const records = new Map<string, SyncRecord>();
  const busy = missing > 0 || still.some((t) => t.runningSyncId || (t.lease && t.lease.expiresAt > now));
  if (!busy && still.length) {
    for (const t of still) {
      const page = await ledger.history({ targetId: t.targetId, limit: 10 });
      const rec = page.items.find((r) => r.commit === e.commit && r.result !== 'running');
      if (rec) records.set(t.targetId, rec);
    }
    still = still.filter((t) => !records.has(t.targetId));
  }
  // A declared target with no state at all has not started: open (its row is not in the table yet).
  return { states, records, open: still.length + missing };
};

/** The report's rows, one per target of the branch, from the ledger's records of the commit. */
const rowsOf = async (ledger: CommitReporterDeps['ledger'], e: TargetReport, states: readonly TargetState[], records: ReadonlyMap<string, SyncRecord>): Promise<ReportRow[]> => {
  const now = Date.now();
  const rows = await mapLimit(states, 16, async (t): Promise<ReportRow> => {
    const moved = records.get(t.targetId);
    if (moved) return rowOf(t.target, moved);
    if (!settledAt(t, e.commit, now)) return { target: t.target, result: 'syncing', changes: '' };
    const rec = t.lastSyncId ? await ledger.getSync(t.targetId, t.lastSyncId) : undefined;
    if (!rec || rec.commit !== e.commit) return { target: t.target, result: 'untouched', changes: 'not touched by this commit' };
    return rowOf(t.target, rec);
  });
  return rows.sort((a, b) => a.target.localeCompare(b.target));
};

const rowOf = (target: string, rec: SyncRecord): ReportRow => ({
  target,
  result: rec.result,
  changes: rec.result === 'succeeded' && rec.counts ? formatCountMap(rec.counts) : (rec.error?.message ?? (rec.counts ? formatCountMap(rec.counts) : '')),
});

/** `3 of 300 targets synced`, `300 targets synced`, `2 of 300 targets failed: api, web`. */
export const reportTitle = (rows: readonly ReportRow[], final: boolean): string => {
  const failed = rows.filter((r) => r.result === 'failed' || r.result === 'timed-out');
  const done = rows.filter((r) => r.result !== 'syncing').length;
  const n = `${rows.length} target${rows.length === 1 ? '' : 's'}`;
  if (failed.length) return `${failed.length} of ${n} failed: ${failed.map((r) => r.target).join(', ')}`.slice(0, 140);
  if (!final) return `${done} of ${n} done`;
  const synced = rows.filter((r) => r.result !== 'untouched').length;
  return synced ? `${n}: ${synced} synced, ${rows.length - synced} untouched` : `${n}: none touched by this commit`;
};

const ICON: Record<ReportRow['result'], string> = {
  succeeded: '✅',
  failed: '❌',
  'timed-out': '❌',
  skipped: '⏭️',
  superseded: '⏭️',
  untouched: '➖',
  syncing: '⏳',
  running: '⏳',
  'in-progress': '⏳',
};

/** The check run's summary: a Markdown table of target, result and changes. */
export const formatReportSummary = (commit: string, rows: readonly ReportRow[]): string => {
  const cell = (s: string) => s.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|').slice(0, 300);
  return [
    `Targets of ${commit.slice(0, 12)}:`,
    '',
    '| target | result | changes |',
    '|---|---|---|',
    ...rows.map((r) => `| ${cell(r.target)} | ${ICON[r.result]} ${r.result} | ${cell(r.changes)} |`),
  ].join('\n');
};
