import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileTarget, type ReconcileOutcome } from '../../lib/reconcile/reconcile-target.js';
import type { SyncRecord } from '../../lib/ledger/ledger.js';
import { REPO, startPipeline } from '../support/pipeline.js';
import { type Pipeline, ns, cm, WEB_CONFIG as CONFIG, WEB_ID as ID, WEB_KINDS as KINDS } from '../support/manifests.js';
import { expectSettled } from './support/harness.js';

/** The real (not dry-run) apply of one ConfigMap. */
const writeOf = (name: string) => new RegExp(`^(?!.*dryRun=All).*/configmaps/${name}(\\?|$)`);

// Faults wait out deadlines and leases: generous per-test time on a loaded machine (no speed is asserted).
describe('the API server under faults', { timeout: 120_000 }, () => {
  let p: Pipeline;
  const sync = async (): Promise<SyncRecord | undefined> => {
    const out: ReconcileOutcome = await reconcileTarget(
      { repository: REPO, target: 'web', branch: 'main', trigger: 'trigger', force: true },
      { ...p.deps, holder: `h-${Date.now()}` },
    );
    return out.kind === 'done' ? out.records.at(-1) : undefined;
  };

  beforeAll(async () => {
    p = await startPipeline();
    p.commit({ 'driftless.yaml': CONFIG, 'deploy/web/ns.yaml': ns('shop-web'), 'deploy/web/old.yaml': cm('old', 'v1'), 'deploy/web/a.yaml': cm('a', 'v1') });
    expect((await sync())?.result).toBe('succeeded');
  }, 120_000);
  afterAll(() => p?.stop());

  it('fails the sync on a persistent 500, prunes nothing, and leaves no running record', async () => {
    const head = p.commit({ 'deploy/web/old.yaml': null, 'deploy/web/a.yaml': cm('a', 'v2') });
    p.dev.faults.push({ method: 'PATCH', path: writeOf('a'), status: 500, times: 100 });
    const notices = p.notices.length;
    const rec = await sync();
    p.dev.faults.length = 0;
    expect(rec).toMatchObject({ result: 'failed', commit: head });
    expect(rec?.error?.message).toContain('apply failed for 1 object(s)');
    // No prune after a failure: the object that left Git is still there, and still in the inventory.
    expect(p.dev.get('v1', 'ConfigMap', 'shop-web', 'old')).toBeDefined();
    expect(p.github.statuses.filter((s) => s.sha === head && s.context === 'driftless/web').at(-1)?.state).toBe('failure');
    expect(p.notices.length).toBe(notices + 1);
    await expectSettled(p.ledger, p.dev, ID, KINDS);
  });

  it('converges through 429s with Retry-After and dropped connections (the client retries)', async () => {
    p.dev.faults.push({ method: 'PATCH', path: writeOf('a'), status: 429, retryAfterSeconds: 1, times: 2 }, { method: 'PATCH', path: writeOf('b'), drop: true, times: 2 });
    p.commit({ 'deploy/web/b.yaml': cm('b', 'v1') });
    const rec = await sync();
    p.dev.faults.length = 0;
    expect({ result: rec?.result, error: rec?.error }).toEqual({ result: 'succeeded', error: undefined });
    expect((p.dev.get('v1', 'ConfigMap', 'shop-web', 'a') as { data: { value: string } }).data.value).toBe('v2');
    // The sync that succeeded pruned what left Git.
    expect(p.dev.get('v1', 'ConfigMap', 'shop-web', 'old')).toBeUndefined();
    await expectSettled(p.ledger, p.dev, ID, KINDS);
  });

  it('keeps an object whose write was cut off in the inventory (it may have reached the cluster)', async () => {
    p.commit({ 'deploy/web/c.yaml': cm('c', 'v1') });
    p.dev.faults.push({ method: 'PATCH', path: writeOf('c'), drop: true, times: 100 });
    const rec = await sync();
    p.dev.faults.length = 0;
    expect(rec?.result).toBe('failed');
    const state = await p.ledger.getState(ID);
    expect(state?.inventory.map((r) => r.name)).toContain('c');
    await expectSettled(p.ledger, p.dev, ID, KINDS);
    // Once the server answers again, the next sync applies it.
    expect((await sync())?.result).toBe('succeeded');
    expect(p.dev.get('v1', 'ConfigMap', 'shop-web', 'c')).toBeDefined();
    await expectSettled(p.ledger, p.dev, ID, KINDS);
  });
});
