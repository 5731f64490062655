import { targetOpener } from '../../../lib/targets/open-target.js';
import { describe, expect, it } from 'vitest';
import { parseRegistry } from '../../../lib/config/load-config.js';
import { COMMENT_MARKER, CHECK_TEXT_LIMIT, type PreviewReport, type TargetPreview } from '../../../lib/preview/preview-report.js';
import type { PreviewRequest } from '../../../lib/preview/preview-trigger.js';
import { checkRunPublisher, isPreviewJob, resultOf, runPreview, type RunPreviewDeps } from '../../../lib/preview/run-preview.js';
import { MemoryFileTree } from '../../../lib/render/file-tree.js';
import type { CheckRunReport, CheckRuns, PullRequestChange, PullRequestComments } from '../../../lib/source/repository-source.js';

const REPO = 'acme/shop';
const BASE = 'a'.repeat(40);
const HEAD = 'b'.repeat(40);
const registry = (previewForks = false) =>
  parseRegistry(JSON.stringify({ repositories: { [REPO]: { clusters: ['dev'], namespaces: ['shop-*'], previewForks } }, clusters: { dev: { context: 'dev' } } }));
const CONFIG = 'version: 1\ntargets:\n  - name: web\n    path: deploy/web\n    cluster: dev\n    namespace: shop-web\n';
const CM = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  a: "1"\n';

/** GitHub in memory: check runs (every write kept) and comments; `fail` makes a method throw. */
const fakeGitHub = (o: { app?: boolean; files?: string[]; head?: Record<string, string>; fail?: Partial<Record<string, number>> } = {}) => {
  const runs: { id: number; sha: string; writes: CheckRunReport[] }[] = [];
  const comments: { id: number; pr: number; body: string }[] = [];
  const calls: string[] = [];
  const fail = { ...o.fail };
  const maybeFail = (what: string) => {
    calls.push(what);
    if ((fail[what] ?? 0) > 0) {
      fail[what] = (fail[what] ?? 0) - 1;
      throw new Error(`GitHub ${REPO}: ${what} failed: 502 Bad Gateway`);
    }
  };
  const checkRuns: CheckRuns = {
    findCheckRun: async () => undefined,
    createCheckRun: async (_r, sha, run) => {
      maybeFail('createCheckRun');
      runs.push({ id: runs.length + 1, sha, writes: [run] });
      return runs.length;
    },
    updateCheckRun: async (_r, id, run) => {
      maybeFail('updateCheckRun');
      runs.find((r) => r.id === id)?.writes.push(run);
    },
  };
  const prComments: PullRequestComments = {
    findComment: async (_r, pr, marker) => (maybeFail('findComment'), comments.find((c) => c.pr === pr && c.body.includes(marker))?.id),
    createComment: async (_r, pr, body) => (maybeFail('createComment'), comments.push({ id: 100 + comments.length, pr, body }), 99 + comments.length),
    updateComment: async (_r, id, body) => {
      maybeFail('updateComment');
      const c = comments.find((x) => x.id === id);
      if (c) c.body = body;
    },
  };
  const source: RunPreviewDeps['source'] = {
    compareHead: async (): Promise<PullRequestChange> => (
      maybeFail('compareHead'),
      { base: BASE, mergeBase: BASE, changed: { files: o.files ?? ['deploy/web/cm.yaml'], truncated: false } }
    ),
    snapshot: async (_r, sha) => (
      maybeFail('snapshot'),
      new MemoryFileTree(sha === HEAD ? (o.head ?? { 'driftless.yaml': CONFIG, 'deploy/web/cm.yaml': CM }) : { 'driftless.yaml': CONFIG })
    ),
    checkRuns: async () => (o.app === false ? undefined : checkRuns),
    pullRequestComments: async () => prComments,
  };
  return { source, runs, comments, calls };
};

const job = (o: Partial<PreviewRequest> = {}): PreviewRequest => ({
  repository: REPO,
  baseBranch: 'main',
  headSha: HEAD,
  pullRequest: 7,
  fork: false,
  trigger: 'pull_request',
  ...o,
});

const heads = () => {
  const m = new Map<string, string>();
  return {
    m,
    ledger: {
      getState: async () => undefined,
      getHead: async (r: string, b: string) => (m.has(`${r}#${b}`) ? { head: m.get(`${r}#${b}`) as string } : undefined),
      putHead: async (r: string, b: string, v: { head?: string }) => void m.set(`${r}#${b}`, v.head ?? ''),
    },
  };
};

const target = (name: string, o: Partial<TargetPreview> = {}): TargetPreview => ({
  target: name,
  type: 'kubernetes',
  change: 'modified',
  objects: [],
  unchanged: 0,
  blockers: [],
  ...o,
});
const report = (targets: TargetPreview[], o: Partial<PreviewReport> = {}): PreviewReport => ({ repository: REPO, base: 'main', head: HEAD, targets, ...o });

describe('runPreview', () => {
  it('creates the check run in progress, then completes it once: a target the dry run cannot reach is a failure', async () => {
    // GIVEN a pull request changing a target's file, and no cluster access (nothing can be planned)
    const gh = fakeGitHub();
    const lines: string[] = [];
    // WHEN the preview runs
    const out = await runPreview(job(), { registry: registry(), source: gh.source, targets: targetOpener({}), log: (m) => void lines.push(m) });
    // THEN one run, two writes: in progress, then completed with the blocker
    expect(out).toMatchObject({ kind: 'done', conclusion: 'failure', via: 'check-run', published: true });
    expect(gh.runs).toHaveLength(1);
    const [start, done] = gh.runs[0]?.writes ?? [];
    expect(start).toMatchObject({ name: 'driftless preview', status: 'in_progress' });
    expect(done).toMatchObject({ status: 'completed', conclusion: 'failure', title: '1 of 1 target would not sync' });
    expect(done?.summary).toContain('| web | kubernetes | 0 | 0 | 0 | ✖ not previewed');
    expect(done?.text).toContain('! not previewed: cluster dev: this process has no cluster access');
    expect(gh.runs[0]?.writes).toHaveLength(2);
    expect(gh.calls.filter((c) => ['compareHead', 'snapshot'].includes(c))).toHaveLength(3);
    expect(lines).toContain('preview done');
  });

  it('concludes neutral when the pull request touches no target', async () => {
    const gh = fakeGitHub({ files: ['README.md'] });
    const out = await runPreview(job(), { registry: registry(), source: gh.source, targets: targetOpener({}) });
    expect(out).toMatchObject({ conclusion: 'neutral' });
    expect(gh.runs[0]?.writes[1]).toMatchObject({ conclusion: 'neutral', title: 'No target touched' });
  });

  it('reports a driftless.yaml error at its file and line, as a failure', async () => {
    const gh = fakeGitHub({ files: ['driftless.yaml'], head: { 'driftless.yaml': 'version: 1\ntargets:\n  - name: web\n    path: deploy/web\n    cluster: prod\n' } });
    const out = await runPreview(job(), { registry: registry(), source: gh.source, targets: targetOpener({}) });
    expect(out).toMatchObject({ conclusion: 'failure' });
    const done = gh.runs[0]?.writes[1];
    expect(done?.annotations?.[0]).toMatchObject({ path: 'driftless.yaml', line: 5, level: 'failure' });
    expect(done?.annotations?.[0]?.message).toContain('prod');
  });

  it('ignores a fork unless the registry entry sets previewForks, before any GitHub call', async () => {
    const gh = fakeGitHub({ files: ['README.md'] });
    expect(await runPreview(job({ fork: true }), { registry: registry(false), source: gh.source, targets: targetOpener({}) })).toEqual({
      kind: 'ignored',
      reason: 'pull request #7 is from a fork and the registry entry does not set previewForks',
    });
    expect(gh.calls).toEqual([]);
    expect(await runPreview(job({ fork: true }), { registry: registry(true), source: gh.source, targets: targetOpener({}) })).toMatchObject({
      kind: 'done',
      conclusion: 'neutral',
    });
  });

  it('ignores a repository the registry does not name', async () => {
    const gh = fakeGitHub();
    expect(await runPreview(job({ repository: 'evil/repo' }), { registry: registry(), source: gh.source, targets: targetOpener({}) })).toMatchObject({ kind: 'ignored' });
    expect(gh.runs).toEqual([]);
  });

  it('completes the run as a failure that says why when GitHub fails mid-preview, and logs it', async () => {
    const gh = fakeGitHub({ fail: { compareHead: 1 } });
    const lines: { m: string; f?: Record<string, unknown> }[] = [];
    const out = await runPreview(job(), { registry: registry(), source: gh.source, targets: targetOpener({}), log: (m, f) => void lines.push({ m, ...(f ? { f } : {}) }) });
    expect(out).toMatchObject({ conclusion: 'failure', published: true, error: expect.stringContaining('compareHead failed: 502') });
    expect(gh.runs[0]?.writes[1]).toMatchObject({ status: 'completed', conclusion: 'failure', title: 'Preview failed' });
    expect(gh.runs[0]?.writes[1]?.summary).toContain('compareHead failed: 502 Bad Gateway');
    expect(lines.find((l) => l.m === 'preview failed')?.f).toMatchObject({ repository: REPO, head: HEAD });
  });

  it('creates the run completed when its start could not be written, and retries a failed conclusion with a short failure', async () => {
    const gh = fakeGitHub({ files: ['README.md'], fail: { createCheckRun: 1 } });
    const out = await runPreview(job(), { registry: registry(), source: gh.source, targets: targetOpener({}) });
    expect(out).toMatchObject({ published: true, conclusion: 'neutral' });
    expect(gh.runs).toHaveLength(1);
    expect(gh.runs[0]?.writes).toEqual([expect.objectContaining({ status: 'completed', conclusion: 'neutral' })]);

    const again = fakeGitHub({ files: ['README.md'], fail: { updateCheckRun: 1 } });
    expect(await runPreview(job(), { registry: registry(), source: again.source, targets: targetOpener({}) })).toMatchObject({ published: true });
    expect(again.runs[0]?.writes.map((w) => [w.status, w.conclusion])).toEqual([
      ['in_progress', undefined],
      ['completed', 'failure'],
    ]);
    expect(again.runs[0]?.writes[1]?.summary).toContain('the report could not be written');
  });

  it('completes a preview as cancelled when a newer head of the pull request started meanwhile', async () => {
    const gh = fakeGitHub({ files: ['README.md'] });
    const h = heads();
    const newer = 'c'.repeat(40);
    // The newer head's preview records itself while this one plans (a snapshot is when it happens here).
    const snapshot = gh.source.snapshot;
    const source = { ...gh.source, snapshot: async (...a: Parameters<typeof snapshot>) => (h.m.set(`${REPO}#pull/7`, newer), snapshot(...a)) };
    const out = await runPreview(job(), { registry: registry(), source, targets: targetOpener({}), ledger: h.ledger });
    expect(out).toMatchObject({ conclusion: 'cancelled', published: true });
    expect(gh.runs[0]?.writes[1]).toMatchObject({ status: 'completed', conclusion: 'cancelled', title: `Superseded by ${newer.slice(0, 7)}` });
  });

  it('with token auth, writes one comment found by its marker and edits it in place on the next push', async () => {
    const gh = fakeGitHub({ app: false, files: ['README.md'] });
    const h = heads();
    await runPreview(job(), { registry: registry(), source: gh.source, targets: targetOpener({}), ledger: h.ledger });
    expect(gh.comments).toHaveLength(1);
    expect(gh.comments[0]?.body.startsWith(COMMENT_MARKER)).toBe(true);
    expect(gh.comments[0]?.body).toContain('No target touched');
    const next = 'd'.repeat(40);
    await runPreview(job({ headSha: next }), { registry: registry(), source: gh.source, targets: targetOpener({}), ledger: h.ledger });
    expect(gh.comments).toHaveLength(1);
    expect(gh.comments[0]?.body).toContain(next.slice(0, 12));
    expect(gh.calls.filter((c) => c === 'createComment')).toHaveLength(1);
    expect(gh.calls.filter((c) => c === 'updateComment')).toHaveLength(3);
  });

  it('with token auth and no pull request number, only logs the result', async () => {
    const gh = fakeGitHub({ app: false, files: ['README.md'] });
    const { pullRequest: _pr, ...noNumber } = job();
    expect(await runPreview(noNumber, { registry: registry(), source: gh.source, targets: targetOpener({}) })).toMatchObject({ via: 'log', published: false });
    expect(gh.comments).toEqual([]);
  });

  it('tells a preview job from a reconcile request', () => {
    expect(isPreviewJob({ kind: 'preview', ...job() })).toBe(true);
    expect(isPreviewJob({ repository: REPO, target: 'web', branch: 'main' })).toBe(false);
  });

  it.each([
    [{ headSha: '--output=x' }, 'headSha is not a commit id'],
    [{ baseBranch: 'main..x' }, 'baseBranch is not a branch name'],
    [{ pullRequest: '7/../1' as unknown as number }, 'pullRequest is not a number'],
    [{ repository: '../x' }, 'without a valid repository'],
  ])('refuses a job whose fields are not what a webhook would hand off (%o), before any GitHub call', async (bad, reason) => {
    const gh = fakeGitHub();
    const out = await runPreview(job(bad), { registry: registry(), source: gh.source, targets: targetOpener({}) });
    expect(out).toMatchObject({ kind: 'ignored', reason: expect.stringContaining(reason) });
    expect(gh.calls).toEqual([]);
  });
});

describe('checkRunPublisher', () => {
  const publish = async (r: PreviewReport) => {
    const gh = fakeGitHub();
    const runs = (await gh.source.checkRuns?.()) as CheckRuns;
    const p = checkRunPublisher(runs, job());
    await p.start();
    await p.finish(resultOf(r));
    return gh.runs[0]?.writes ?? [];
  };

  it('sends annotations in batches of at most 50: the conclusion carries the first, further updates the rest', async () => {
    const annotations = Array.from({ length: 120 }, (_, i) => ({ path: 'deploy/web/kustomization.yaml', line: i + 1, level: 'failure' as const, message: `error ${i}` }));
    const writes = await publish(report([target('web', { blockers: ['render failed'], annotations })]));
    expect(writes.map((w) => w.annotations?.length ?? 0)).toEqual([0, 50, 50, 20]);
    expect(writes.slice(1).every((w) => w.status === 'completed' && w.conclusion === 'failure')).toBe(true);
    expect(writes.flatMap((w) => w.annotations ?? []).map((a) => a.line)).toEqual(annotations.map((a) => a.line));
  });

  it('cuts the text to 65,535 characters and says how many targets were left out', async () => {
    const big = (n: number) =>
      target(`t${n}`, { objects: Array.from({ length: 400 }, (_, i) => ({ name: `ConfigMap/shop-web/cm-${n}-${i}`, action: 'create' as const, detail: 'x'.repeat(40) })) });
    const writes = await publish(report(Array.from({ length: 10 }, (_, i) => big(i))));
    const text = writes[1]?.text ?? '';
    expect(text.length).toBeLessThanOrEqual(CHECK_TEXT_LIMIT);
    const kept = (text.match(/<details/g) ?? []).length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(10);
    expect(text).toMatch(new RegExp(`_${10 - kept} more targets? left out: the preview is over GitHub's 65,535-character limit`));
    expect(writes[1]).toMatchObject({ conclusion: 'success', title: '10 of 10 targets would change' });
  });

  it('concludes success when every touched target would sync, changes or not', async () => {
    expect((await publish(report([target('web'), target('api', { objects: [{ name: 'ConfigMap/shop/a', action: 'change' }] })])))[1]).toMatchObject({ conclusion: 'success' });
  });
});
