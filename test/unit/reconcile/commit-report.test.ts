import { describe, expect, it } from 'vitest';
import { CHECK_RUN_NAME, createCommitReporter, formatReportSummary, reportTitle, type CommitReporterDeps, type TargetReport } from '../../../lib/reconcile/commit-report.js';
import type { SyncRecord, TargetState } from '../../../lib/ledger/ledger.js';
import type { CheckRunReport, CheckRuns, CommitStatus } from '../../../lib/source/repository-source.js';

type ReporterLedger = CommitReporterDeps['ledger'];
type ReporterSource = CommitReporterDeps['source'];

const SHA = 'c'.repeat(40);
const OLD = 'b'.repeat(40);
const REPO = 'acme/shop';

/** The slice of the ledger the reporter reads, in memory; claims are the delivery items' conditional put. */
class ReportLedger implements ReporterLedger {
  readonly claims = new Set<string>();
  readonly states = new Map<string, TargetState>();
  readonly records = new Map<string, SyncRecord>();
  async listTargets() {
    return [...this.states.values()];
  }
  async getState(id: string) {
    return this.states.get(id);
  }
  async getSync(id: string, syncId: string) {
    return this.records.get(`${id}#${syncId}`);
  }
  async history(o: { targetId?: string }) {
    return { items: [...this.records.values()].filter((r) => r.targetId === o.targetId).reverse() };
  }
  async hasDelivery(id: string) {
    return this.claims.has(id);
  }
  async recordDelivery(id: string) {
    if (this.claims.has(id)) return 'duplicate' as const;
    this.claims.add(id);
    return 'recorded' as const;
  }
  /** A target of the branch; `at` is its last attempted commit, with a sync record of it unless untouched. */
  target(name: string, at: string | undefined, result: SyncRecord['result'] | 'untouched' = 'succeeded', extra: Partial<TargetState> = {}) {
    const targetId = `${REPO}/${name}`;
    const syncId = `s-${name}`;
    if (result !== 'untouched' && at) {
      this.records.set(`${targetId}#${syncId}`, {
        targetId,
        repository: REPO,
        target: name,
        syncId,
        commit: at,
        branch: 'main',
        startedAt: new Date(Date.now() - 60_000).toISOString(),
        result,
        ...(result === 'failed' ? { error: { message: `deploy/${name}: bad | yaml` } } : { counts: { created: 1, unchanged: 2 } }),
      });
    }
    this.states.set(targetId, {
      targetId,
      repository: REPO,
      target: name,
      suspended: false,
      inventory: [],
      dependencies: [],
      config: { branch: 'main' },
      ...(at
        ? {
            lastAttemptedCommit: at,
            lastSyncId: result === 'untouched' ? 'elsewhere' : syncId,
            lastSyncAt: new Date(Date.now() - 60_000).toISOString(),
            lastResult: result === 'untouched' ? 'succeeded' : result,
          }
        : {}),
      ...extra,
    });
  }
}

/** GitHub in memory: statuses, and check runs when the source is an App. */
class FakeGitHub implements ReporterSource {
  readonly statuses: CommitStatus[] = [];
  readonly runs: (CheckRunReport & { id: number })[] = [];
  writes = 0;
  failing = false;
  constructor(private readonly app: boolean) {}
  async setStatus(_r: string, _s: string, status: CommitStatus) {
    if (this.failing) throw new Error('GitHub 502');
    this.writes++;
    this.statuses.push(status);
  }
  async checkRuns(): Promise<CheckRuns | undefined> {
    if (!this.app) return undefined;
    return {
      findCheckRun: async () => this.runs.at(-1)?.id,
      createCheckRun: async (_r, _s, run) => (this.writes++, this.runs.push({ ...run, id: this.runs.length + 1 }), this.runs.length),
      updateCheckRun: async (_r, id, run) => {
        this.writes++;
        Object.assign(this.runs.find((r) => r.id === id) ?? {}, run);
      },
    };
  }
}

const event = (target: string, state: TargetReport['state'], extra: Partial<TargetReport> = {}): TargetReport => ({
  repository: REPO,
  branch: 'main',
  commit: SHA,
  target,
  state,
  description: state,
  ...extra,
});

describe('createCommitReporter', () => {
  it('writes one check run per commit: created by the first start, concluded once when concurrent finishers all see the end', async () => {
    // GIVEN 20 targets that started (one creation) and then all settled at the commit
    const ledger = new ReportLedger();
    const github = new FakeGitHub(true);
    const reporter = createCommitReporter({ ledger, source: github }, { maxProgressUpdates: 0 });
    const names = Array.from({ length: 20 }, (_, i) => `t${String(i).padStart(2, '0')}`);
    for (const n of names) ledger.target(n, OLD);
    await Promise.all(names.map((n) => reporter.report(event(n, 'pending'))));
    for (const n of names) ledger.target(n, SHA);
    // WHEN all 20 report their end at once
    await Promise.all(names.map((n) => reporter.report(event(n, 'success'))));
    // THEN 2 writes: the creation and the conclusion, with a row per target
    expect(github.writes).toBe(2);
    expect(github.runs).toHaveLength(1);
    expect(github.runs[0]).toMatchObject({ name: CHECK_RUN_NAME, status: 'completed', conclusion: 'success', title: '20 targets: 20 synced, 0 untouched' });
    expect(github.runs[0]?.summary).toContain('| t19 | ✅ succeeded | 1 created, 2 unchanged |');
  });

  it('keeps the report open while a target is still syncing or has not started, then concludes', async () => {
    // GIVEN web done, api still running, and jobs declared in driftless.yaml but without any state yet
    const ledger = new ReportLedger();
    const github = new FakeGitHub(true);
    const reporter = createCommitReporter({ ledger, source: github }, { maxProgressUpdates: 0 });
    ledger.target('web', SHA);
    ledger.target('api', OLD, 'succeeded', { runningSyncId: 's-run', lease: { holder: 'h', token: 1, expiresAt: Date.now() + 60_000 } });
    await reporter.report(event('web', 'pending', { targets: ['web', 'api', 'jobs'] }));
    // WHEN web ends THEN nothing concludes (only the creation was written)
    await reporter.report(event('web', 'success', { targets: ['web', 'api', 'jobs'] }));
    expect(github.runs[0]?.status).toBe('in_progress');
    // WHEN api ends, jobs still missing THEN still open
    ledger.target('api', SHA);
    await reporter.report(event('api', 'success', { targets: ['web', 'api', 'jobs'] }));
    expect(github.runs[0]?.status).toBe('in_progress');
    // WHEN jobs fails THEN the conclusion is failure, naming it
    ledger.target('jobs', SHA, 'failed');
    await reporter.report(event('jobs', 'failure', { targets: ['web', 'api', 'jobs'] }));
    expect(github.runs[0]).toMatchObject({ status: 'completed', conclusion: 'failure', title: '1 of 3 targets failed: jobs' });
    expect(github.runs[0]?.summary).toContain('| jobs | ❌ failed | deploy/jobs: bad \\| yaml |');
    expect(github.writes).toBe(2);
  });

  it('makes one throttled update when the interval has passed, and no more than maxProgressUpdates', async () => {
    const ledger = new ReportLedger();
    const github = new FakeGitHub(true);
    const reporter = createCommitReporter({ ledger, source: github }, { progressIntervalMs: 1000, maxProgressUpdates: 1 });
    const names = ['a', 'b', 'c', 'd'];
    for (const n of names) ledger.target(n, OLD);
    await reporter.report(event('a', 'pending'));
    // GIVEN syncs that started a minute ago: a, b, c end one by one, d still open
    for (const n of ['a', 'b', 'c']) {
      ledger.target(n, SHA);
      await reporter.report(event(n, 'success'));
    }
    // THEN one update (at the first end: 1 of 4 done), none after it, then the conclusion
    expect(github.writes).toBe(2);
    expect(github.runs[0]).toMatchObject({ status: 'in_progress', title: '1 of 4 targets done' });
    ledger.target('d', SHA);
    await reporter.report(event('d', 'success'));
    expect(github.writes).toBe(3);
    expect(github.runs[0]?.status).toBe('completed');
  });

  it('creates a completed check run when no target was touched (one write), and counts a target that moved on as settled', async () => {
    // GIVEN web untouched at the commit, and api, idle, already past it (its record of the commit: superseded)
    const ledger = new ReportLedger();
    const github = new FakeGitHub(true);
    const reporter = createCommitReporter({ ledger, source: github });
    ledger.target('web', SHA, 'untouched');
    ledger.target('api', SHA, 'superseded');
    ledger.states.set(`${REPO}/api`, { ...(ledger.states.get(`${REPO}/api`) as TargetState), lastAttemptedCommit: 'd'.repeat(40) });
    // WHEN web reports
    await reporter.report(event('web', 'untouched'));
    // THEN one write: a completed check run
    expect(github.writes).toBe(1);
    expect(github.runs[0]).toMatchObject({ status: 'completed', conclusion: 'success' });
    expect(github.runs[0]?.summary).toContain('| web | ➖ untouched |');
    expect(github.runs[0]?.summary).toContain('| api | ⏭️ superseded |');
  });

  it('writes one combined driftless status with a token; per-target statuses only when asked', async () => {
    for (const perTargetStatuses of [false, true]) {
      const ledger = new ReportLedger();
      const github = new FakeGitHub(false);
      const reporter = createCommitReporter({ ledger, source: github }, { perTargetStatuses });
      for (const n of ['web', 'api']) ledger.target(n, OLD);
      for (const n of ['web', 'api']) await reporter.report(event(n, 'pending'));
      for (const n of ['web', 'api']) {
        ledger.target(n, SHA);
        await reporter.report(event(n, 'success'));
      }
      const combined = github.statuses.filter((s) => s.context === 'driftless').map((s) => s.state);
      // Pending, the one throttled update (the syncs started a minute ago), the conclusion.
      expect(combined).toEqual(['pending', 'pending', 'success']);
      expect(github.statuses.filter((s) => s.context.startsWith('driftless/')).map((s) => `${s.context} ${s.state}`)).toEqual(
        perTargetStatuses ? ['driftless/web pending', 'driftless/api pending', 'driftless/web success', 'driftless/api success'] : [],
      );
    }
  });

  it('never throws when GitHub fails: the failure is logged, naming the target and the commit', async () => {
    const ledger = new ReportLedger();
    const github = new FakeGitHub(false);
    github.failing = true;
    const logs: { message: string; fields?: Record<string, unknown> }[] = [];
    const reporter = createCommitReporter({ ledger, source: github, log: (message, fields) => void logs.push({ message, ...(fields ? { fields } : {}) }) });
    ledger.target('web', OLD);
    await expect(reporter.report(event('web', 'pending'))).resolves.toBeUndefined();
    expect(logs).toEqual([{ message: 'commit report not written', fields: { target: `${REPO}/web`, commit: SHA, error: 'GitHub 502' } }]);
  });
});

describe('reportTitle and formatReportSummary', () => {
  it.each([
    // rows, final, title
    [
      [
        { target: 'a', result: 'succeeded' },
        { target: 'b', result: 'syncing' },
      ],
      false,
      '1 of 2 targets done',
    ],
    [
      [
        { target: 'a', result: 'succeeded' },
        { target: 'b', result: 'untouched' },
      ],
      true,
      '2 targets: 1 synced, 1 untouched',
    ],
    [[{ target: 'a', result: 'untouched' }], true, '1 target: none touched by this commit'],
    [
      [
        { target: 'a', result: 'timed-out' },
        { target: 'b', result: 'failed' },
      ],
      true,
      '2 of 2 targets failed: a, b',
    ],
  ] as const)('titles %j (final %s) as %s', (rows, final, title) => {
    expect(
      reportTitle(
        rows.map((r) => ({ ...r, changes: '' })),
        final,
      ),
    ).toBe(title);
  });

  it('escapes pipes and newlines in cells', () => {
    expect(formatReportSummary(SHA, [{ target: 'web', result: 'failed', changes: 'a | b\nc' }])).toContain('| web | ❌ failed | a \\| b c |');
  });
});
