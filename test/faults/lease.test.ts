import { spawn } from 'node:child_process';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileTarget, TIMED_OUT_REASON, type ReconcileDeps, type ReconcileOutcome } from '../../lib/reconcile/reconcile-target.js';
import { REPO, startPipeline } from '../support/pipeline.js';
import { type Pipeline, ns, cm, WEB_CONFIG as CONFIG, WEB_ID as ID, WEB_KINDS as KINDS } from '../support/manifests.js';
import { allSyncs, expectSettled, gatedClient, until } from './support/harness.js';
import { targetOpener } from '../../lib/targets/open-target.js';

// Short for the test, long enough that a loaded machine still renews in time (production: 60 s).
const TTL = 2500;

// Faults wait out deadlines and leases: generous per-test time on a loaded machine (no speed is asserted).
describe('leases under faults (real DynamoDB Local)', { timeout: 120_000 }, () => {
  let p: Pipeline;
  let deps: (holder: string, extra?: Partial<ReconcileDeps>) => ReconcileDeps;

  beforeAll(async () => {
    p = await startPipeline();
    deps = (holder, extra = {}) => ({ ...p.deps, holder, leaseTtlMs: TTL, ...extra });
  }, 120_000);
  afterAll(() => p?.stop());

  it('keeps the lease with the heartbeat through work longer than the lease', async () => {
    p.commit({ 'driftless.yaml': CONFIG, 'deploy/web/ns.yaml': ns('shop-web'), 'deploy/web/a.yaml': cm('a', 'v1') });
    // Every request to the cluster is slow: the sync takes several lease periods. A sync of two new objects is
    // about 7 round trips (discovery, one read round, two apply stages, the health wait): 700 ms each is ~2 TTLs.
    p.dev.latencyMs = 700;
    try {
      const out = await reconcileTarget({ repository: REPO, target: 'web', branch: 'main', trigger: 'trigger', force: true }, deps('slow'));
      expect(out.kind === 'done' && out.records.at(-1)?.result).toBe('succeeded');
      expect(out.kind === 'done' && (out.records.at(-1)?.durationMs ?? 0)).toBeGreaterThan(TTL);
    } finally {
      p.dev.latencyMs = 0;
    }
    await expectSettled(p.ledger, p.dev, ID, KINDS);
  });

  it('stops before the next stage when the lease is taken over mid-apply, recording failed: lease lost', async () => {
    // A new Namespace is written in the definitions stage; the ConfigMap would follow in the resources stage.
    const head = p.commit({ 'deploy/web/b.yaml': cm('b', 'v2'), 'deploy/web/ns-b.yaml': ns('shop-web-b') });
    let tookOver = false;
    const cluster = async (name: string) =>
      gatedClient(await p.clusters(name), async (obj) => {
        if (obj.kind !== 'Namespace' || tookOver) return;
        tookOver = true;
        // An intruder finds the lease expired (its holder looked dead) and takes it.
        await p.db.client.send(
          new UpdateItemCommand({
            TableName: p.table,
            Key: { PK: { S: `T#${ID}` }, SK: { S: 'STATE' } },
            UpdateExpression: 'SET leaseExpiresAt = :z',
            ExpressionAttributeValues: { ':z': { N: '0' } },
          }),
        );
        const got = await p.ledger.acquireLease(ID, 'intruder', 60_000, { repository: REPO, target: 'web' });
        expect('lease' in got).toBe(true);
        if ('lease' in got) intruder = got.lease;
      });
    let intruder: Parameters<typeof p.ledger.releaseLease>[0] | undefined;
    const out = (await reconcileTarget(
      { repository: REPO, target: 'web', branch: 'main', trigger: 'trigger', force: true },
      deps('victim', { targets: targetOpener({ ...p.access, cluster }) }),
    )) as Extract<ReconcileOutcome, { kind: 'done' }>;
    const last = out.records.at(-1);
    expect(last?.result).toBe('failed');
    expect(last?.error?.message).toMatch(/^lease lost/);
    expect(last?.commit).toBe(head);
    // Nothing written after the lease was lost: the resources stage never ran.
    expect(p.dev.get('v1', 'ConfigMap', 'shop-web', 'b')).toBeUndefined();
    expect((await p.ledger.getSync(ID, last?.syncId ?? ''))?.result).toBe('failed');
    // The intruder is done; the next reconcile converges.
    if (intruder) await p.ledger.releaseLease(intruder, { leavePending: true });
    const again = await reconcileTarget({ repository: REPO, target: 'web', branch: 'main', trigger: 'sweeper' }, deps('next'));
    expect(again.kind === 'done' && again.records.at(-1)?.result).toBe('succeeded');
    expect(p.dev.get('v1', 'ConfigMap', 'shop-web', 'b')).toBeDefined();
    await expectSettled(p.ledger, p.dev, ID, KINDS);
  });

  it('recovers a target whose holder was killed mid-apply within about two lease periods, closing its record as timed-out', async () => {
    const head = p.commit({ 'deploy/web/ns.yaml': ns('shop-web'), 'deploy/web/c.yaml': cm('c', 'v3'), 'deploy/web/ns2.yaml': ns('shop-web-2') });
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/faults/support/crash-holder.ts'], {
      env: {
        ...process.env,
        DRIFTLESS_CRASH_INPUT: JSON.stringify({
          endpoint: p.db.endpoint,
          table: p.table,
          github: p.github.url,
          registry: JSON.stringify(p.registry),
          request: { repository: REPO, target: 'web', branch: 'main', trigger: 'trigger', force: true },
          ttlMs: TTL,
        }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    await until(() => output.includes('applied') || child.exitCode !== null, 60_000, 'the holder applying its first object');
    expect(output).toContain('applied');
    const crashedRun = (await allSyncs(p.ledger, ID)).find((s) => s.result === 'running');
    expect(crashedRun?.holder).toBe('crasher');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    // Work keeps arriving (webhooks, Lambda's retry, the sweeper); a silent holder is waited out and replaced.
    let out: ReconcileOutcome | undefined;
    for (let i = 0; i < 50 && out?.kind !== 'done'; i++) {
      out = await reconcileTarget({ repository: REPO, target: 'web', branch: 'main', commit: head, trigger: 'webhook' }, deps('recover'));
      if (out.kind === 'pending') await new Promise((r) => setTimeout(r, TTL / 5));
    }
    expect(out?.kind).toBe('done');
    const closed = await p.ledger.getSync(ID, crashedRun?.syncId ?? '');
    expect(closed).toMatchObject({ result: 'timed-out', error: { message: TIMED_OUT_REASON } });
    expect(out?.kind === 'done' && out.records.at(-1)?.result).toBe('succeeded');
    await expectSettled(p.ledger, p.dev, ID, KINDS);
  });
});
