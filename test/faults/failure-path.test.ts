import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Registry } from '../../lib/config/schema.js';
import { sweep } from '../../lib/drift/sweep.js';
import { reconcileTarget, type ReconcileDeps } from '../../lib/reconcile/reconcile-target.js';
import type { SyncRecord } from '../../lib/ledger/ledger.js';
import { clusterClients } from '../../lib/targets/kubernetes/cluster-clients.js';
import { targetOpener } from '../../lib/targets/open-target.js';
import { pushPayload, REPO, startPipeline } from '../support/pipeline.js';
import { type Pipeline, ns, cm, WEB_KINDS as KINDS } from '../support/manifests.js';
import { allSyncs, expectSettled } from './support/harness.js';

const CONFIG = `version: 1
targets:
  - name: web
    path: deploy/web
    cluster: dev
    namespace: shop-web
  - name: api
    path: deploy/api
    cluster: prod
    namespace: shop-api
`;
/** A "billion laughs": aliases that expand to 9^6 nodes. */
const BOMB = `a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n`;

// Faults wait out deadlines and leases: generous per-test time on a loaded machine (no speed is asserted).
describe('one failure path: whatever throws inside a sync ends it as failed', { timeout: 120_000 }, () => {
  let p: Pipeline;
  const sync = async (target = 'web', deps: Partial<ReconcileDeps> = {}): Promise<SyncRecord | undefined> => {
    const out = await reconcileTarget({ repository: REPO, target, branch: 'main', trigger: 'trigger', force: true }, { ...p.deps, holder: `h-${Math.random()}`, ...deps });
    return out.kind === 'done' ? out.records.at(-1) : undefined;
  };
  const lastStatus = (sha: string, context: string) => p.github.statuses.filter((s) => s.sha === sha && s.context === context).at(-1);

  beforeAll(async () => {
    p = await startPipeline();
    const first = p.commit({
      'driftless.yaml': CONFIG,
      'deploy/web/ns.yaml': ns('shop-web'),
      'deploy/web/a.yaml': cm('a', 'v1'),
      'deploy/api/ns.yaml': ns('shop-api'),
      'deploy/api/a.yaml': cm('a', 'v1'),
    });
    expect((await p.deliver('push', pushPayload('0'.repeat(40), first))).status).toBe(202);
    expect((await p.ledger.getState(`${REPO}/web`))?.lastResult).toBe('succeeded');
  }, 120_000);
  afterAll(() => p?.stop());

  it.each([
    ['a YAML alias bomb in a manifest', { 'deploy/web/a.yaml': `${BOMB}apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n` }, /^deploy\/web.*(alias|Alias)/],
    [
      'a generator whose file is missing (an async generate)',
      { 'deploy/web/kustomization.yaml': 'resources: [ns.yaml, a.yaml]\nconfigMapGenerator:\n  - name: gen\n    files: [missing.txt]\n' },
      /^deploy\/web.*missing\.txt/,
    ],
  ])('%s: failed with its subject, a failure status, one Slack notice, no prune, nothing running', async (_case, files, reason) => {
    const head = p.commit(files);
    const notices = p.notices.length;
    const rec = await sync();
    expect(rec).toMatchObject({ result: 'failed', commit: head });
    expect(rec?.error?.message).toMatch(reason);
    expect(lastStatus(head, 'driftless/web')?.state).toBe('failure');
    expect(p.notices.length).toBe(notices + 1);
    // A retry of the same commit that fails again stays quiet.
    expect((await sync())?.result).toBe('failed');
    expect(p.notices.length).toBe(notices + 1);
    expect(p.dev.get('v1', 'ConfigMap', 'shop-web', 'a')).toBeDefined();
    await expectSettled(p.ledger, p.dev, `${REPO}/web`, KINDS);
    p.commit({ 'deploy/web/a.yaml': cm('a', 'v1'), 'deploy/web/kustomization.yaml': null });
  });

  it('a kubeconfig context that does not exist: failed, naming the cluster', async () => {
    p.commit({ 'deploy/web/a.yaml': cm('a', 'v2') });
    const kubeconfig = (p.registry.clusters.dev as { kubeconfig: string }).kubeconfig;
    const registry: Registry = { ...p.registry, clusters: { ...p.registry.clusters, dev: { context: 'no-such-context', kubeconfig } } };
    const rec = await sync('web', { registry, targets: targetOpener({ registry, cluster: clusterClients(registry, async () => '', true) }) });
    expect(rec?.result).toBe('failed');
    expect(rec?.error?.message).toContain('no context "no-such-context"');
    await expectSettled(p.ledger, p.dev, `${REPO}/web`, KINDS);
  });

  it('the sweeper does not restart a head that failed until the retry policy says so, or something changes', async () => {
    const state = await p.ledger.getState(`${REPO}/web`);
    expect(state?.lastResult).toBe('failed');
    const handed: string[] = [];
    const deps = { ledger: p.ledger, source: p.source, registry: p.registry, handOff: async (r: { target: string }) => void handed.push(r.target) };
    await sweep(deps);
    await sweep(deps);
    // (api missed heads pushed without a webhook: the first sweep hands it off once.)
    expect(handed).toEqual(['api']);
    handed.length = 0;
    // The backoff's first step (2 minutes) has passed: one retry.
    await sweep({ ...deps, now: () => Date.parse(state?.lastSyncAt ?? '') + 2 * 60_000 + 1 });
    expect(handed).toEqual(['web']);
    // A new head: the target is started at once.
    p.commit({ 'deploy/web/a.yaml': cm('a', 'v3') });
    handed.length = 0;
    await sweep(deps);
    expect(handed.sort()).toEqual(['api', 'web']);
  });

  it('a broken driftless.yaml is a 200 with the reason, a failure status and a failed record per known target', async () => {
    const head = p.commit({ 'driftless.yaml': `${BOMB}${CONFIG}` });
    const res = await p.deliver('push', { ...pushPayload('0'.repeat(40), head), commits: [{ id: head, added: [], removed: [], modified: ['driftless.yaml'] }] });
    expect(res.status).toBe(200);
    expect(String(res.body.reason)).toMatch(/^invalid driftless\.yaml: .*alias/i);
    expect(lastStatus(head, 'driftless')?.state).toBe('failure');
    for (const target of ['web', 'api']) {
      const state = await p.ledger.getState(`${REPO}/${target}`);
      expect(state).toMatchObject({ lastResult: 'failed', lastAttemptedCommit: head });
      const [rec] = await allSyncs(p.ledger, `${REPO}/${target}`);
      expect(rec).toMatchObject({ result: 'failed', commit: head });
      expect(rec?.error?.message).toMatch(/^driftless\.yaml: ReferenceError: Excessive alias count/);
      expect(lastStatus(head, `driftless/${target}`)?.state).toBe('failure');
    }
    await expectSettled(p.ledger, p.dev, `${REPO}/web`, KINDS);
  });

  it('a push deleting driftless.yaml, with no commit list, still reaches the known targets', async () => {
    const head = p.commit({ 'driftless.yaml': null });
    const res = await p.deliver('push', { ...pushPayload('0'.repeat(40), head), commits: [] });
    expect(res.status).toBe(202);
    expect((res.body.targets as string[]).sort()).toEqual(['api', 'web']);
    const [rec] = await allSyncs(p.ledger, `${REPO}/web`);
    expect(rec).toMatchObject({ result: 'failed', commit: head, error: { message: `driftless.yaml is missing at ${head.slice(0, 12)}` } });
    await expectSettled(p.ledger, p.dev, `${REPO}/web`, KINDS);
  });
});
