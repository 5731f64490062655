import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECK_RUN_NAME } from '../../lib/reconcile/commit-report.js';
import { pushPayload, startPipeline } from '../support/pipeline.js';
import type { Pipeline } from '../support/manifests.js';

/** A monorepo: 24 targets (two statuses per target would be 48 writes), each its own namespace and ConfigMap on the dev cluster. */
const TARGETS = 24;
const names = Array.from({ length: TARGETS }, (_, i) => `t${String(i).padStart(2, '0')}`);
const config = `version: 1\ntargets:\n${names.map((n) => `  - name: ${n}\n    path: deploy/${n}\n    cluster: dev\n    namespace: shop-${n}\n`).join('')}`;
const files = (value: string, only: readonly string[] = names): Record<string, string> =>
  Object.fromEntries(
    only.flatMap((n) => [
      [`deploy/${n}/ns.yaml`, `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop-${n}\n`],
      [`deploy/${n}/cm.yaml`, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  value: "${value}"\n`],
    ]),
  );
const appAuth = () => ({
  appId: 123,
  privateKey: generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } })
    .privateKey,
});

describe('commit report with a GitHub App: one check run per commit', () => {
  let p: Pipeline;
  let first: string;
  beforeAll(async () => {
    // Product defaults, except an update interval short enough that the throttled update happens in the test.
    p = await startPipeline({ auth: appAuth, commitReport: { progressIntervalMs: 1 } });
    first = p.commit({ 'driftless.yaml': config, ...files('v1') });
  }, 120_000);
  afterAll(() => p?.stop());

  const writesFor = (sha: string, since: number) =>
    p.github.requests
      .slice(since)
      .filter(
        (r) =>
          (r.method === 'POST' || r.method === 'PATCH') &&
          (r.path.includes('/statuses/') || r.path.includes('/check-runs')) &&
          (!r.path.includes('/statuses/') || r.path.endsWith(sha)),
      );

  it(`spends at most three GitHub writes on a push touching ${TARGETS} targets, and concludes with a table of every target`, async () => {
    // GIVEN a first push of 24 new targets WHEN it is delivered and every target is synced
    const since = p.github.requests.length;
    const res = await p.deliver('push', pushPayload('0'.repeat(40), first));
    // THEN every target applied, with one check run on the commit and at most 3 writes in all
    expect(res.status).toBe(202);
    expect(p.errors).toEqual([]);
    expect(p.dev.get('v1', 'ConfigMap', 'shop-t23', 'settings')).toBeDefined();
    expect(p.reportLog).toEqual([]);
    expect(writesFor(first, since).map((r) => `${r.method} ${r.path}`).length, JSON.stringify(p.github.checkRunWrites)).toBeLessThanOrEqual(3);
    expect(p.github.statuses).toEqual([]);
    const runs = p.github.checkRuns.filter((r) => r.head_sha === first);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ name: CHECK_RUN_NAME, status: 'completed', conclusion: 'success' });
    const rows = runs[0]?.output.summary.split('\n').filter((l) => /^\| t\d\d /.test(l)) ?? [];
    expect(rows).toHaveLength(TARGETS);
    expect(rows[0]).toBe('| t00 | ✅ succeeded | 2 created |');
  }, 120_000);

  it('reports targets the push did not touch as untouched, still within three writes', async () => {
    // GIVEN a push that changes 5 of the 24 targets
    const changed = names.slice(0, 5);
    const next = p.commit(files('v2', changed));
    const since = p.github.requests.length;
    await p.deliver(
      'push',
      pushPayload(
        first,
        next,
        'main',
        undefined,
        changed.map((n) => `deploy/${n}/cm.yaml`),
      ),
    );
    // THEN 5 rows say configured, 19 say untouched, and the check run concludes success
    expect(p.errors).toEqual([]);
    expect(writesFor(next, since).length).toBeLessThanOrEqual(3);
    // One run for the commit, concluded (what the reporter logged says why when it is not).
    const forNext = p.github.checkRuns.filter((r) => r.head_sha === next);
    const why = JSON.stringify({
      runs: forNext.map((r) => [r.id, r.status, r.output.title]),
      log: p.reportLog,
      writes: writesFor(next, since).map((r) => `${r.method} ${r.path}`),
    });
    expect(forNext, why).toHaveLength(1);
    const run = forNext[0];
    expect(run, why).toMatchObject({ status: 'completed', conclusion: 'success', output: { title: '24 targets: 5 synced, 19 untouched' } });
    expect(run?.output.summary).toContain('| t04 | ✅ succeeded | 1 configured, 1 unchanged |');
    expect(run?.output.summary).toContain('| t05 | ➖ untouched | not touched by this commit |');
  }, 120_000);

  it('concludes failure when one target fails, naming it in the title and its row', async () => {
    // GIVEN a push that breaks one target's YAML
    const before = p.git('rev-parse', 'HEAD');
    const bad = p.commit({ 'deploy/t07/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: [unclosed\n' });
    const since = p.github.requests.length;
    await p.deliver('push', pushPayload(before, bad, 'main', undefined, ['deploy/t07/cm.yaml']));
    // THEN the one check run of the commit fails and says which target and why
    expect(writesFor(bad, since).length).toBeLessThanOrEqual(3);
    const run = p.github.checkRuns.find((r) => r.head_sha === bad);
    expect(run).toMatchObject({ status: 'completed', conclusion: 'failure', output: { title: '1 of 24 targets failed: t07' } });
    expect(run?.output.summary).toMatch(/\| t07 \| ❌ failed \| deploy\/t07\/cm\.yaml/);
  }, 120_000);
});

describe('commit report with a token: one combined status per commit', () => {
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline({ commitReport: {} });
  }, 120_000);
  afterAll(() => p?.stop());

  it(`writes one driftless status, pending then success, for a push touching ${TARGETS} targets`, async () => {
    // GIVEN token auth (no check runs) and the default options WHEN a push of 24 targets is synced
    const sha = p.commit({ 'driftless.yaml': config, ...files('v1') });
    await p.deliver('push', pushPayload('0'.repeat(40), sha));
    // THEN no per-target status, one combined context, and no check run (a token cannot write them)
    expect(p.errors).toEqual([]);
    const statuses = p.github.statuses.filter((s) => s.sha === sha);
    // Every target synced; a failed one is named with its error (a rare failure under a loaded CI run, issue to come).
    const failed = (await p.ledger.history({ repository: 'acme/shop', limit: 50 })).items.filter((r) => r.result !== 'succeeded');
    expect(failed.map((r) => [r.target, r.result, r.error?.message])).toEqual([]);
    expect(new Set(statuses.map((s) => s.context))).toEqual(new Set(['driftless']));
    expect(statuses.length).toBeLessThanOrEqual(3);
    expect(statuses[0]?.state).toBe('pending');
    expect(statuses.at(-1)).toMatchObject({ state: 'success', description: '24 targets: 24 synced, 0 untouched' });
    expect(p.github.checkRuns).toEqual([]);
    expect(p.github.writes().filter((r) => r.path.includes('/check-runs'))).toEqual([]);
  }, 120_000);
});
