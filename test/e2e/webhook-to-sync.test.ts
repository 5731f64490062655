import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pushPayload, REPO, startPipeline } from '../support/pipeline.js';
import { type Pipeline, ns, cm } from '../support/manifests.js';

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

describe('webhook to sync, end to end', () => {
  let p: Pipeline;
  let first: string;

  beforeAll(async () => {
    p = await startPipeline();
    first = p.commit({
      'driftless.yaml': CONFIG,
      'deploy/web/ns.yaml': ns('shop-web'),
      'deploy/web/cm.yaml': cm('web-settings', 'v1'),
      'deploy/api/ns.yaml': ns('shop-api'),
      'deploy/api/cm.yaml': cm('api-settings', 'v1'),
    });
  }, 120_000);
  afterAll(() => p?.stop());
  beforeEach(() => {
    expect(p.errors).toEqual([]);
  });

  const web = () => p.dev.get('v1', 'ConfigMap', 'shop-web', 'web-settings') as { data: { value: string } } | undefined;
  const state = (target: string) => p.ledger.getState(`${REPO}/${target}`);

  it('applies a signed push: objects, ledger records and commit statuses', async () => {
    // GIVEN a push to main WHEN it is delivered
    const res = await p.deliver('push', pushPayload('0'.repeat(40), first));
    // THEN both targets are handed off and applied, recorded and reported
    expect(res.status).toBe(202);
    expect(res.body.targets).toEqual(['web', 'api']);
    expect(web()?.data.value).toBe('v1');
    expect(p.prod.get('v1', 'ConfigMap', 'shop-api', 'api-settings')).toBeDefined();
    const [record] = (await p.ledger.history({ targetId: `${REPO}/web` })).items;
    expect(record).toMatchObject({ result: 'succeeded', commit: first, author: 'octocat', deliveryId: res.delivery, trigger: 'webhook', counts: { created: 2 } });
    expect(record?.githubCalls).toBeLessThanOrEqual(2);
    expect(p.github.statuses.filter((s) => s.sha === first && s.context === 'driftless/web').map((s) => s.state)).toEqual(['pending', 'success']);
    expect(await p.ledger.hasDelivery(res.delivery)).toBe(true);
  });

  it('applies nothing on a redelivery after a successful hand-off', async () => {
    const before = (await p.ledger.history({ targetId: `${REPO}/web` })).items.length;
    p.dev.resetLog();
    const res = await p.deliver('push', pushPayload('0'.repeat(40), first), { delivery: 'delivery-1' });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('duplicate');
    expect(p.dev.requests).toHaveLength(0);
    expect((await p.ledger.history({ targetId: `${REPO}/web` })).items.length).toBe(before);
  });

  it('processes a redelivery after a failed hand-off', async () => {
    const second = p.commit({ 'deploy/web/cm.yaml': cm('web-settings', 'v2') });
    p.invoke.failNext = { status: 500, times: 1 };
    const failed = await p.deliver('push', pushPayload(first, second), { delivery: 'redeliver-me' });
    expect(failed.status).toBe(502);
    expect(await p.ledger.hasDelivery('redeliver-me')).toBe(false);
    const again = await p.deliver('push', pushPayload(first, second), { delivery: 'redeliver-me' });
    expect(again.status).toBe(202);
    expect(web()?.data.value).toBe('v2');
    first = second;
  });

  it('ends at the head when two pushes are handled out of order; the older commit is recorded superseded', async () => {
    const c3 = p.commit({ 'deploy/web/cm.yaml': cm('web-settings', 'v3') });
    const c4 = p.commit({ 'deploy/web/cm.yaml': cm('web-settings', 'v4') });
    await p.deliver('push', pushPayload(c3, c4));
    await p.deliver('push', pushPayload(first, c3));
    expect(web()?.data.value).toBe('v4');
    expect((await state('web'))?.lastAppliedCommit).toBe(c4);
    const records = (await p.ledger.history({ targetId: `${REPO}/web`, limit: 5 })).items;
    expect(records.find((r) => r.commit === c3)?.result).toBe('superseded');
    first = c4;
  });

  it('applies a force-push back to an older commit like any head', async () => {
    const c5 = p.commit({ 'deploy/web/cm.yaml': cm('web-settings', 'v5') });
    await p.deliver('push', pushPayload(first, c5));
    expect(web()?.data.value).toBe('v5');
    p.git('reset', '-q', '--hard', first);
    await p.deliver('push', { ...pushPayload(c5, first), forced: true });
    expect(web()?.data.value).toBe('v4');
    expect((await state('web'))?.lastAppliedCommit).toBe(first);
  });

  it('leaves a pendingHead while another invocation holds the lease, and the holder applies it', async () => {
    const got = await p.ledger.acquireLease(`${REPO}/web`, 'another-invocation', 60_000, { repository: REPO, target: 'web' });
    if (!('lease' in got)) throw new Error('no lease');
    const c6 = p.commit({ 'deploy/web/cm.yaml': cm('web-settings', 'v6') });
    await p.deliver('push', pushPayload(first, c6));
    expect(web()?.data.value).toBe('v4');
    expect((await state('web'))?.pendingHead).toBe(c6);
    // The holder finishes its work and finds the pending head before it releases.
    const release = await p.ledger.releaseLease(got.lease);
    expect(release).toEqual({ released: false, pendingHead: c6 });
    await p.ledger.releaseLease(got.lease, { leavePending: true });
    // A later reconcile (the next push or the sweeper) converges to it.
    await p.invoke.idle();
    const { reconcileTarget } = await import('../../lib/reconcile/reconcile-target.js');
    await reconcileTarget({ repository: REPO, target: 'web', branch: 'main', trigger: 'sweeper' }, { ...p.deps, holder: 'sweeper' });
    expect(web()?.data.value).toBe('v6');
    first = c6;
  });

  it('applies nothing and prunes nothing for a commit with a YAML error; the failure status names file and line', async () => {
    const bad = p.commit({ 'deploy/web/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-settings\ndata: [oops\n' });
    p.dev.resetLog();
    await p.deliver('push', pushPayload(first, bad));
    expect(p.dev.requests).toHaveLength(0);
    expect(web()?.data.value).toBe('v6');
    const status = p.github.statuses.filter((s) => s.sha === bad && s.context === 'driftless/web').pop();
    expect(status?.state).toBe('failure');
    expect(status?.description).toMatch(/deploy\/web\/cm\.yaml:\d+: invalid YAML/);
    const [record] = (await p.ledger.history({ targetId: `${REPO}/web`, limit: 1 })).items;
    expect(record?.result).toBe('failed');
    expect(p.notices).toHaveLength(1);
    // Fixed on the next commit.
    first = p.commit({ 'deploy/web/cm.yaml': cm('web-settings', 'v7') });
    await p.deliver('push', pushPayload(bad, first));
    expect(web()?.data.value).toBe('v7');
  });

  it('makes no request to the cluster of a target the push does not touch', async () => {
    p.prod.resetLog();
    const c = p.commit({ 'deploy/web/cm.yaml': cm('web-settings', 'v8') });
    await p.deliver('push', pushPayload(first, c));
    expect(web()?.data.value).toBe('v8');
    expect(p.prod.requests).toHaveLength(0);
    expect((await state('api'))?.lastAttemptedCommit).toBe(c);
    first = c;
  });

  it('leaves untouched a target a push of more files than a compare lists does not touch (the snapshots tell)', async () => {
    // GIVEN a push of 320 files (GitHub's compare lists at most 300: a truncated compare) that touches only web
    const docs = Object.fromEntries(Array.from({ length: 320 }, (_, i) => [`docs/page-${i}.md`, `page ${i}\n`]));
    const c = p.commit({ ...docs, 'deploy/web/cm.yaml': cm('web-settings', 'v8b') });
    p.prod.resetLog();
    const before = (await p.ledger.history({ targetId: `${REPO}/api` })).items.length;
    await p.deliver('push', pushPayload(first, c));
    // THEN web is applied, and api is untouched: no request to its cluster, no sync record, its commit moved
    expect(web()?.data.value).toBe('v8b');
    expect(p.prod.requests).toHaveLength(0);
    expect((await p.ledger.history({ targetId: `${REPO}/api` })).items.length).toBe(before);
    expect((await state('api'))?.lastAttemptedCommit).toBe(c);
    first = c;
  });

  it('spends at most three GitHub read calls on a push that touches one target', async () => {
    const c = p.commit({ 'deploy/web/cm.yaml': cm('web-settings', 'v9') });
    p.github.requests.length = 0;
    await p.deliver('push', pushPayload(first, c, 'main', REPO, ['deploy/web/cm.yaml']));
    // The webhook knows the targets from the ledger (driftless.yaml did not change); each reconcile makes one
    // compare, and the touched one one tarball.
    const reads = p.github.reads();
    const forWeb = reads.filter((r) => !r.path.includes('/contents/'));
    expect(reads.filter((r) => r.path.includes('/contents/'))).toHaveLength(0);
    expect(forWeb.filter((r) => r.path.includes('/tarball/'))).toHaveLength(1);
    const [record] = (await p.ledger.history({ targetId: `${REPO}/web`, limit: 1 })).items;
    expect(record?.githubCalls).toBe(2);
    expect(reads).toHaveLength(3);
    first = c;
  });

  it('ignores an unregistered repository, and refuses a target whose cluster the registry does not grant', async () => {
    const other = await p.deliver('push', pushPayload(first, first, 'main', 'evil/repo'));
    expect(other.status).toBe(200);
    expect(other.body).toEqual({ status: 'ignored', reason: 'repository evil/repo is not registered' });
    p.dev.resetLog();
    const c = p.commit({ 'driftless.yaml': CONFIG.replace('cluster: dev', 'cluster: staging') });
    const res = await p.deliver('push', pushPayload(first, c));
    expect(res.status).toBe(200);
    expect(String(res.body.reason)).toContain('targets[0].cluster: cluster "staging" is not allowed for acme/shop');
    expect(p.dev.requests).toHaveLength(0);
    expect(p.github.statuses.filter((s) => s.sha === c && s.context === 'driftless').pop()?.state).toBe('failure');
    first = p.commit({ 'driftless.yaml': CONFIG });
    await p.deliver('push', pushPayload(c, first));
  });

  it.each([
    ['a forged signature', { secret: 'not-the-secret' }, 401],
    ['a body changed after signing', { body: 'CHANGED' }, 401],
    ['an empty body', { body: '' }, 401],
    ['a 5 MB body', { body: 'x'.repeat(5 * 1024 * 1024) }, 413],
  ])('refuses %s and applies nothing', async (_case, o, status) => {
    p.dev.resetLog();
    const before = p.invoke.invocations.length;
    const c = p.commit({ 'deploy/web/cm.yaml': cm('web-settings', `refused-${status}`) });
    const res = await p.deliver('push', pushPayload(first, c), o);
    expect(res.status).toBe(status);
    expect(p.invoke.invocations.length).toBe(before);
    expect(p.dev.requests).toHaveLength(0);
    p.git('reset', '-q', '--hard', first);
  });

  it('answers ping, ignores pull requests closed unmerged, and refuses a pull request payload without a base branch', async () => {
    expect((await p.deliver('ping', { zen: 'Keep it logically awesome.', repository: { full_name: REPO } })).body).toEqual({ status: 'ignored', reason: 'pong' });
    const closed = await p.deliver('pull_request', { action: 'closed', repository: { full_name: REPO }, pull_request: { merged: false } });
    expect(closed.body).toEqual({ status: 'ignored', reason: 'pull_request closed neither merges nor asks for a preview' });
    const opened = await p.deliver('pull_request', { action: 'opened', repository: { full_name: REPO }, pull_request: { merged: false } });
    expect(opened).toMatchObject({ status: 400, body: { status: 'rejected', reason: 'pull request whose base.ref is not a branch name' } });
  });

  it('applies a merged pull request into a tracked branch', async () => {
    const c = p.commit({ 'deploy/web/cm.yaml': cm('web-settings', 'merged') });
    const res = await p.deliver('pull_request', {
      action: 'closed',
      repository: { full_name: REPO },
      pull_request: { merged: true, merge_commit_sha: c, base: { ref: 'main' }, merged_by: { login: 'hubot' } },
    });
    expect(res.status).toBe(202);
    expect(web()?.data.value).toBe('merged');
    const [record] = (await p.ledger.history({ targetId: `${REPO}/web`, limit: 1 })).items;
    expect(record?.author).toBe('hubot');
  });
});
