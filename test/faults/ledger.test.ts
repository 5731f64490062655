import { sign } from '@octokit/webhooks-methods';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoDbClient } from '../../lib/ledger/client.js';
import { DynamoDbLedger } from '../../lib/ledger/dynamodb-ledger.js';
import type { Lease, StateUpdate, SyncRecord } from '../../lib/ledger/ledger.js';
import { handleWebhook } from '../../lib/reconcile/handle-webhook.js';
import { reconcileTarget, TIMED_OUT_REASON, type ReconcileDeps, type ReconcileOutcome } from '../../lib/reconcile/reconcile-target.js';
import { pushPayload, REPO, SECRET, startPipeline } from '../support/pipeline.js';
import { type Pipeline, ns, cm, WEB_CONFIG as CONFIG, WEB_ID as ID, WEB_KINDS as KINDS } from '../support/manifests.js';
import { DynamoDbFaultProxy } from './support/dynamodb-proxy.js';
import { allSyncs, expectSettled, gatedClient } from './support/harness.js';
import { targetOpener } from '../../lib/targets/open-target.js';

// Longer than a few ledger call deadlines (2.5 s): a throttled renewal must not look like a lost lease.
const TTL = 6000;

// Faults wait out deadlines and leases: generous per-test time on a loaded machine (no speed is asserted).
describe('the ledger under faults (DynamoDB Local behind a fault proxy)', { timeout: 120_000 }, () => {
  let p: Pipeline;
  let proxy: DynamoDbFaultProxy;
  /** The ledger through the proxy, with short deadlines. */
  let faulty: DynamoDbLedger;
  let client: ReturnType<typeof dynamoDbClient>;
  const sync = (holder: string, extra: Partial<ReconcileDeps> = {}) =>
    reconcileTarget({ repository: REPO, target: 'web', branch: 'main', trigger: 'trigger', force: true }, { ...p.deps, ledger: faulty, holder, leaseTtlMs: TTL, ...extra });
  /** The next reconcile, on a healthy ledger, after the lease of a holder that could not release it ended. */
  const recover = async (): Promise<ReconcileOutcome> => {
    let out: ReconcileOutcome | undefined;
    for (let i = 0; i < 50 && out?.kind !== 'done'; i++) {
      out = await reconcileTarget({ repository: REPO, target: 'web', branch: 'main', trigger: 'sweeper' }, { ...p.deps, holder: `recover-${i}`, leaseTtlMs: TTL });
      if (out.kind === 'pending') await new Promise((r) => setTimeout(r, TTL / 5));
    }
    return out as ReconcileOutcome;
  };

  beforeAll(async () => {
    p = await startPipeline();
    proxy = new DynamoDbFaultProxy(p.db.endpoint);
    await proxy.start();
    client = dynamoDbClient({ AWS_ENDPOINT_URL_DYNAMODB: proxy.url }, { requestTimeoutMs: 1000, maxAttempts: 3 });
    faulty = new DynamoDbLedger(client, p.table, Date.now, { callTimeoutMs: 2500 });
    p.commit({ 'driftless.yaml': CONFIG, 'deploy/web/ns.yaml': ns('shop-web'), 'deploy/web/a.yaml': cm('a', 'v1') });
  }, 120_000);
  afterAll(async () => {
    client?.destroy();
    await proxy?.stop();
    await p?.stop();
  });

  it('rides out a burst of throttling mid-sync (the SDK retries ProvisionedThroughputExceeded)', async () => {
    p.commit({ 'deploy/web/b.yaml': cm('b', 'v1') });
    const cluster = async (name: string) =>
      gatedClient(await p.clusters(name), async () => {
        if (armed) return;
        armed = true;
        proxy.mode = 'throttle';
        proxy.throttleLeft = 2;
      });
    let armed = false;
    // The product's client and deadlines (8 adaptive attempts, 3 s each, 10 s a call), not this file's short ones:
    // what rides out throttling is the deployed configuration, and the short ones trip on a loaded machine.
    const patientClient = dynamoDbClient({ AWS_ENDPOINT_URL_DYNAMODB: proxy.url });
    const patient = new DynamoDbLedger(patientClient, p.table);
    const out = await sync('throttled', { ledger: patient, targets: targetOpener({ ...p.access, cluster }) }).finally(() => patientClient.destroy());
    const last = out.kind === 'done' ? out.records.at(-1) : undefined;
    expect({ result: last?.result, error: last?.error }).toEqual({ result: 'succeeded', error: undefined });
    await expectSettled(p.ledger, p.dev, ID, KINDS);
  });

  it("claims a delivery once even when the SDK retries a put whose answer was lost (its own token, not someone else's)", async () => {
    // GIVEN DynamoDB writes the claim but the answer never arrives WHEN the SDK retries the conditional put
    proxy.loseAnswer = { op: 'PutItem', times: 1 };
    const first = await faulty.recordDelivery('commit-report/acme/shop@abc/final/x', { event: 'commit-report', repository: REPO });
    proxy.loseAnswer = undefined;
    // THEN the claimant is told it holds the claim, and anyone after it is not
    expect(first).toBe('recorded');
    expect(await faulty.recordDelivery('commit-report/acme/shop@abc/final/x', { event: 'commit-report', repository: REPO })).toBe('duplicate');
  });

  it('records failed, with what was applied in the inventory, when recording the result fails after the cluster write', async () => {
    p.commit({ 'deploy/web/c.yaml': cm('c', 'v1') });
    // The result's TransactWriteItems (the record `succeeded`) refused, every attempt of it: a count of refusals
    // would spill into the failure's own write when the call's deadline cuts its retries short (a loaded machine).
    proxy.rule = { op: 'TransactWriteItems', skip: 0, times: Infinity, bodyIncludes: '{"S":"succeeded"}' };
    // And the failure's first write fails too (a throttled client's next sends can wait out their deadlines): it is tried again.
    let refused = 0;
    const flaky = new Proxy(faulty, {
      get(target, prop) {
        if (prop === 'finishSync')
          return (lease: Lease, rec: SyncRecord, state: StateUpdate) =>
            rec.result === 'failed' && refused++ === 0
              ? Promise.reject(new Error('ledger table t: TransactWriteItems (finish sync) failed: injected'))
              : target.finishSync(lease, rec, state);
        const v: unknown = Reflect.get(target, prop);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const logs: string[] = [];
    const out = await sync('unlucky', { ledger: flaky, log: (m) => void logs.push(m) });
    proxy.rule = undefined;
    const last = out.kind === 'done' ? out.records.at(-1) : undefined;
    expect(last?.result).toBe('failed');
    expect(last?.error?.message).toMatch(/^ledger table .*: TransactWriteItems \(finish sync\) failed/);
    expect(refused).toBeGreaterThan(1);
    expect(logs).toContain('failure not recorded with the state; trying again');
    expect(p.dev.get('v1', 'ConfigMap', 'shop-web', 'c')).toBeDefined();
    await expectSettled(p.ledger, p.dev, ID, KINDS);
  });

  it.each([
    ['paused', 'pause', 'e'],
    ['stopped (connections dropped)', 'drop', 'f'],
  ] as const)('leaves no running record behind when DynamoDB is %s mid-apply: the next holder closes it and converges', async (what, mode, name) => {
    const head = p.commit({ [`deploy/web/${name}.yaml`]: cm(name, 'v1') });
    const cluster = async (c: string) =>
      gatedClient(await p.clusters(c), async () => {
        proxy.mode = mode;
      });
    const holder = `${mode}d`;
    // The ledger fails the sync's own calls (their deadlines), or the sync loses its lease: either way it ends.
    const ended = await sync(holder, { targets: targetOpener({ ...p.access, cluster }) }).then(
      (o) => o,
      (err: unknown) => err as Error,
    );
    expect(ended instanceof Error ? ended.message : ended.kind).toMatch(/ledger table|done/);
    proxy.resume();
    const out = await recover();
    expect(out.kind).toBe('done');
    // Converged: by the recovery, or by the paused sync's own result arriving late (a request DynamoDB got before the pause).
    expect(await p.ledger.getState(ID)).toMatchObject({ lastAttemptedCommit: head, lastResult: 'succeeded' });
    const faulted = (await allSyncs(p.ledger, ID)).find((s) => s.holder === holder);
    expect(['failed', 'timed-out', 'succeeded'], `${what}: ${faulted?.result}`).toContain(faulted?.result);
    if (faulted?.result === 'timed-out') expect(faulted.error?.message).toBe(TIMED_OUT_REASON);
    expect(p.dev.get('v1', 'ConfigMap', 'shop-web', name)).toBeDefined();
    await expectSettled(p.ledger, p.dev, ID, KINDS);
  });

  it('answers a webhook with 502 (failed, redelivered) within its deadline while DynamoDB is paused', async () => {
    proxy.mode = 'pause';
    try {
      const body = JSON.stringify(pushPayload('0'.repeat(40), 'a'.repeat(40)));
      const handed: unknown[] = [];
      const out = await handleWebhook(
        { body, headers: { 'x-github-event': 'push', 'x-github-delivery': 'paused-1', 'x-hub-signature-256': await sign(SECRET, body) } },
        { ...p.webhookDeps, ledger: faulty, handOff: async (r) => void handed.push(r) },
      );
      expect(out.kind).toBe('failed');
      expect(handed).toEqual([]);
    } finally {
      proxy.resume();
    }
  });
});
