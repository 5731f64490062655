import { DescribeTimeToLiveCommand, GetItemCommand, PutItemCommand, QueryCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObjectRef } from '../../../lib/core/object-ref.js';
import { LedgerConflictError, LedgerError } from '../../../lib/ledger/dynamodb-ledger.js';
import type { Lease, Ledger } from '../../../lib/ledger/ledger.js';
import { startLedgerDb } from '../../support/ledger.js';

const META = { repository: 'acme/shop', target: 'web' };
const ID = 'acme/shop/web';
const TTL = 20 * 60_000;

const inventoryOf = (n: number): ObjectRef[] =>
  Array.from({ length: n }, (_, i) => ({ group: i % 2 ? 'apps' : '', kind: i % 2 ? 'Deployment' : 'ConfigMap', namespace: `team-${i % 50}`, name: `object-number-${i}` }));

describe('DynamoDbLedger', () => {
  let db: Awaited<ReturnType<typeof startLedgerDb>>;
  beforeAll(async () => {
    db = await startLedgerDb();
  }, 90_000);
  afterAll(() => db?.stop());

  const acquire = async (ledger: Ledger, holder = 'inv-1'): Promise<Lease> => {
    const r = await ledger.acquireLease(ID, holder, TTL, META);
    if (!('lease' in r)) throw new Error('lease not acquired');
    return r.lease;
  };

  it('lets exactly one of 20 concurrent contenders take the lease; the others leave a pendingHead', async () => {
    const { ledger } = await db.ledger();
    // GIVEN 20 invocations for 20 commits WHEN they race for the lease
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const r = await ledger.acquireLease(ID, `inv-${i}`, TTL, META);
        if ('lease' in r) return { winner: r.lease };
        return { pending: await ledger.recordPendingHead(ID, `commit-${i}`) };
      }),
    );
    // THEN one wins, nineteen record their commit as pending
    const winners = outcomes.filter((o) => 'winner' in o);
    expect(winners).toHaveLength(1);
    expect(outcomes.filter((o) => 'pending' in o && o.pending === 'recorded')).toHaveLength(19);
    const state = await ledger.getState(ID);
    expect(state?.pendingHead).toMatch(/^commit-\d+$/);
    // AND the holder cannot release while work is pending: it takes the pending head instead
    const lease = (winners[0] as { winner: Lease }).winner;
    const release = await ledger.releaseLease(lease);
    expect(release).toEqual({ released: false, pendingHead: state?.pendingHead });
    expect(await ledger.takePendingHead(lease)).toBe(state?.pendingHead);
    expect(await ledger.releaseLease(lease)).toEqual({ released: true });
    expect('lease' in (await ledger.acquireLease(ID, 'next', TTL, META))).toBe(true);
  });

  it('takes over an expired lease with a higher fencing token, and fences the stale holder out', async () => {
    let now = Date.parse('2026-11-21T10:00:00Z');
    const { ledger } = await db.ledger(() => now);
    const old = await acquire(ledger, 'old');
    now += TTL + 1;
    const fresh = await acquire(ledger, 'new');
    expect(fresh.token).toBeGreaterThan(old.token);
    await expect(ledger.writeState(old, { lastResult: 'failed' })).rejects.toBeInstanceOf(LedgerConflictError);
    await expect(ledger.startSync(old, { repository: 'acme/shop', target: 'web', commit: 'c1', branch: 'main', startedAt: new Date(now).toISOString() })).rejects.toThrow(
      'lease 1 of old is no longer held',
    );
    await expect(ledger.renewLease(old, TTL)).rejects.toBeInstanceOf(LedgerConflictError);
    await ledger.writeState(fresh, { lastResult: 'succeeded', lastAppliedCommit: 'c2' });
    expect((await ledger.getState(ID))?.lastAppliedCommit).toBe('c2');
  });

  it('refuses a holder whose lease expired even if nobody took it over', async () => {
    let now = Date.parse('2026-11-21T10:00:00Z');
    const { ledger } = await db.ledger(() => now);
    const lease = await acquire(ledger);
    now += TTL + 1;
    await expect(ledger.writeState(lease, { lastResult: 'succeeded' })).rejects.toBeInstanceOf(LedgerConflictError);
  });

  it('records a sync from running to its result, with state, in one fenced write', async () => {
    const { ledger } = await db.ledger();
    const lease = await acquire(ledger);
    const running = await ledger.startSync(lease, {
      repository: 'acme/shop',
      target: 'web',
      commit: 'abc123',
      branch: 'main',
      author: 'octocat',
      deliveryId: 'd-1',
      startedAt: new Date().toISOString(),
    });
    expect(running.result).toBe('running');
    const changeSet = [{ ref: { group: '', kind: 'ConfigMap', namespace: 'shop', name: 'a' }, action: 'created' as const }];
    await ledger.finishSync(
      lease,
      { ...running, result: 'succeeded', endedAt: new Date().toISOString(), changeSet, githubCalls: 2, durationMs: 120 },
      {
        lastAttemptedCommit: 'abc123',
        lastAppliedCommit: 'abc123',
        lastResult: 'succeeded',
        inventory: changeSet.map((c) => c.ref),
        dependencies: ['deploy/a.yaml'],
        config: { name: 'web', prune: { enabled: true } },
      },
    );
    const [record] = (await ledger.history({ targetId: ID })).items;
    expect(record).toMatchObject({ result: 'succeeded', commit: 'abc123', author: 'octocat', deliveryId: 'd-1', githubCalls: 2, counts: { created: 1 }, changeSet });
    const state = await ledger.getState(ID);
    expect(state).toMatchObject({ lastAppliedCommit: 'abc123', lastResult: 'succeeded', dependencies: ['deploy/a.yaml'], inventory: changeSet.map((c) => c.ref) });
  });

  it('marks a running record older than the function timeout as timed-out', async () => {
    let now = Date.parse('2026-11-21T10:00:00Z');
    const { ledger } = await db.ledger(() => now);
    const lease = await acquire(ledger);
    await ledger.startSync(lease, { repository: 'acme/shop', target: 'web', commit: 'c', branch: 'main', startedAt: new Date(now).toISOString() });
    expect(await ledger.markTimedOut(ID, 15 * 60_000)).toBe(0);
    now += 16 * 60_000;
    expect(await ledger.markTimedOut(ID, 15 * 60_000)).toBe(1);
    const [record] = (await ledger.history({ targetId: ID })).items;
    expect(record?.result).toBe('timed-out');
    expect(record?.error?.message).toContain('ended without recording a result');
  });

  it('answers a retried acquire (its first answer lost) with the lease it took, not as held by someone else', async () => {
    const { ledger } = await db.ledger();
    const first = await acquire(ledger, 'inv-retry');
    const again = await ledger.acquireLease(ID, 'inv-retry', TTL, META);
    expect(again).toEqual({ lease: first });
    expect(await ledger.acquireLease(ID, 'other', TTL, META)).toMatchObject({ heldBy: 'inv-retry' });
  });

  it('marks a running sync on the state, and a new holder closes it as timed-out with its reason', async () => {
    let now = Date.parse('2026-11-21T10:00:00Z');
    const { ledger } = await db.ledger(() => now);
    const crashed = await acquire(ledger, 'crasher');
    const running = await ledger.startSync(crashed, {
      repository: 'acme/shop',
      target: 'web',
      commit: 'c',
      branch: 'main',
      startedAt: new Date(now).toISOString(),
      holder: 'crasher',
    });
    expect((await ledger.getState(ID))?.runningSyncId).toBe(running.syncId);
    expect((await ledger.listTargets({ withInventory: false }))[0]?.runningSyncId).toBe(running.syncId);
    now += TTL + 1;
    await acquire(ledger, 'next');
    expect(await ledger.markTimedOut(ID, 0, 'lease expired')).toBe(1);
    expect(await ledger.getSync(ID, running.syncId)).toMatchObject({ result: 'timed-out', holder: 'crasher', error: { message: 'lease expired' } });
    expect((await ledger.getState(ID))?.runningSyncId).toBeUndefined();
  });

  it('lets a holder that lost its lease close its record without the lease, once', async () => {
    let now = Date.parse('2026-11-21T10:00:00Z');
    const { ledger } = await db.ledger(() => now);
    const lost = await acquire(ledger, 'lost');
    const running = await ledger.startSync(lost, { repository: 'acme/shop', target: 'web', commit: 'c', branch: 'main', startedAt: new Date(now).toISOString() });
    now += TTL + 1;
    await acquire(ledger, 'intruder');
    const failed = { ...running, result: 'failed' as const, endedAt: new Date(now).toISOString(), error: { message: 'lease lost: taken over' } };
    await expect(ledger.finishSync(lost, failed, {})).rejects.toBeInstanceOf(LedgerConflictError);
    expect(await ledger.abandonSync(failed)).toBe(true);
    expect(await ledger.abandonSync({ ...failed, error: { message: 'again' } })).toBe(false);
    expect(await ledger.getSync(ID, running.syncId)).toMatchObject({ result: 'failed', error: { message: 'lease lost: taken over' } });
    expect((await ledger.getState(ID))?.runningSyncId).toBeUndefined();
  });

  it('finishSync clears the running marker; the drift summary is written without a drift record', async () => {
    const { ledger } = await db.ledger();
    const lease = await acquire(ledger);
    const running = await ledger.startSync(lease, { repository: 'acme/shop', target: 'web', commit: 'c', branch: 'main', startedAt: new Date().toISOString() });
    await ledger.finishSync(lease, { ...running, result: 'succeeded' }, { lastResult: 'succeeded', failedAttempts: 0 });
    const state = await ledger.getState(ID);
    expect(state?.runningSyncId).toBeUndefined();
    expect(state?.failedAttempts).toBe(0);
    await ledger.markDriftChecked(ID, { status: 'none', checkedAt: '2026-11-21T10:00:00.000Z' });
    expect((await ledger.getState(ID))?.drift).toEqual({ status: 'none', checkedAt: '2026-11-21T10:00:00.000Z' });
    expect(await ledger.latestDrift(ID)).toBeUndefined();
  });

  it('pages through history newest first', async () => {
    const { ledger } = await db.ledger();
    const lease = await acquire(ledger);
    for (let i = 0; i < 25; i++) {
      const r = await ledger.startSync(lease, {
        repository: 'acme/shop',
        target: 'web',
        commit: `c${i}`,
        branch: 'main',
        startedAt: new Date(Date.UTC(2026, 10, 21, 10, 0, i)).toISOString(),
      });
      await ledger.finishSync(lease, { ...r, result: 'succeeded' }, { lastAttemptedCommit: `c${i}` });
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await ledger.history({ targetId: ID, limit: 10, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((r) => r.commit));
      cursor = page.cursor;
    } while (cursor);
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `c${24 - i}`));
    expect((await ledger.history({ repository: 'acme/shop', limit: 3 })).items.map((r) => r.commit)).toEqual(['c24', 'c23', 'c22']);
    expect((await ledger.recentSyncs({ limit: 2, days: 3650 })).map((r) => r.commit)).toEqual(['c24', 'c23']);
  });

  it('records a delivery once; the same id again is a duplicate, never an error', async () => {
    const { ledger, table } = await db.ledger();
    expect(await ledger.recordDelivery('abc-123', { event: 'push', repository: 'acme/shop' })).toBe('recorded');
    expect(await ledger.recordDelivery('abc-123', { event: 'push', repository: 'acme/shop' })).toBe('duplicate');
    expect(await ledger.hasDelivery('abc-123')).toBe(true);
    const item = await db.client.send(new GetItemCommand({ TableName: table, Key: { PK: { S: 'D#abc-123' }, SK: { S: 'D' } } }));
    expect(Number(item.Item?.expiresAt?.N)).toBeGreaterThan(Date.now() / 1000 + 6 * 86400);
    const ttl = await db.client.send(new DescribeTimeToLiveCommand({ TableName: table }));
    expect(ttl.TimeToLiveDescription?.AttributeName).toBe('expiresAt');
  });

  it('round-trips an inventory of 5,000 objects', async () => {
    const { ledger } = await db.ledger();
    const lease = await acquire(ledger);
    const inventory = inventoryOf(5000);
    await ledger.writeState(lease, { inventory });
    expect((await ledger.getState(ID))?.inventory).toEqual(inventory);
  });

  it('round-trips the observations of 5,000 objects (digest, resourceVersion, generation)', async () => {
    const { ledger } = await db.ledger();
    const lease = await acquire(ledger);
    const inventory = inventoryOf(5000).map((r, i) => ({
      ...r,
      origin: 'created' as const,
      digest: `d${String(i).padStart(21, '0')}`,
      resourceVersion: String(100_000 + i),
      ...(r.kind === 'Deployment' ? { generation: 3 } : {}),
    }));
    await ledger.writeState(lease, { inventory });
    expect((await ledger.getState(ID))?.inventory).toEqual(inventory);
  });

  it("round-trips each entry's origin, and loads entries recorded before origin existed", async () => {
    const { ledger } = await db.ledger();
    const lease = await acquire(ledger);
    const inventory = [
      { group: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'ops', origin: 'adopted' as const },
      { group: '', kind: 'ConfigMap', namespace: 'n', name: 'a', origin: 'created' as const },
      { group: '', kind: 'ConfigMap', namespace: 'n', name: 'legacy' },
    ];
    await ledger.writeState(lease, { inventory });
    expect((await ledger.getState(ID))?.inventory).toEqual(inventory);
  });

  it('splits an inventory too large for one item across chunks', async () => {
    const { ledger } = await db.ledger();
    const lease = await acquire(ledger);
    // Random names do not compress: ~1.6 MB of names needs several chunks.
    const inventory = Array.from({ length: 20_000 }, (_, i) => ({
      group: '',
      kind: 'ConfigMap',
      namespace: 'n',
      name: `${i}-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`,
    }));
    await ledger.writeState(lease, { inventory });
    expect((await ledger.getState(ID))?.inventory).toEqual(inventory);
    await ledger.writeState(lease, { inventory: inventory.slice(0, 3) });
    expect((await ledger.getState(ID))?.inventory).toEqual(inventory.slice(0, 3));
  });

  it('deletes replaced inventory chunks one write later: a reader of the state just before still finds its chunks', async () => {
    const { ledger, table } = await db.ledger();
    const id = 'acme/shop/chunky';
    const got = await ledger.acquireLease(id, 'inv-1', TTL, { repository: 'acme/shop', target: 'chunky' });
    if (!('lease' in got)) throw new Error('lease not acquired');
    const large = (seed: number) =>
      Array.from({ length: 20_000 }, (_, i) => ({
        group: '',
        kind: 'ConfigMap',
        namespace: 'n',
        name: `${seed}-${i}-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`,
      }));
    /** The chunk generations stored in the target's partition. */
    const generations = async () => {
      const found = new Set<string>();
      let start: Record<string, AttributeValue> | undefined;
      do {
        const out = await db.client.send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: 'PK = :pk AND begins_with(SK, :inv)',
            ExpressionAttributeValues: { ':pk': { S: `T#${id}` }, ':inv': { S: 'INV#' } },
            ProjectionExpression: 'SK',
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        for (const i of out.Items ?? []) found.add(String(i.SK?.S).split('#')[1] ?? '');
        start = out.LastEvaluatedKey;
      } while (start);
      return found;
    };
    // GIVEN three large inventories written one after another
    const gens: string[] = [];
    for (const seed of [1, 2, 3]) {
      const inventory = large(seed);
      await ledger.writeState(got.lease, { inventory });
      expect((await ledger.getState(id))?.inventory).toEqual(inventory);
      const now = [...(await generations())].filter((g) => !gens.includes(g));
      gens.push(...now);
    }
    // THEN the first generation is gone, the second is kept for readers in flight, the third is current
    expect(gens).toHaveLength(3);
    expect(await generations()).toEqual(new Set(gens.slice(1)));
    // WHEN small inventories replace it (inline in the item) THEN the chunks go, one write later
    await ledger.writeState(got.lease, { inventory: large(4).slice(0, 3) });
    expect(await generations()).toEqual(new Set(gens.slice(2)));
    const rec = await ledger.startSync(got.lease, { repository: 'acme/shop', target: 'chunky', commit: 'c1', branch: 'main', startedAt: new Date().toISOString() });
    await ledger.finishSync(got.lease, { ...rec, result: 'succeeded' }, { inventory: [] });
    expect(await generations()).toEqual(new Set());
    expect((await ledger.getState(id))?.inventory).toEqual([]);
  });

  it('keeps the sweeper heads and suspension', async () => {
    const { ledger } = await db.ledger();
    await ledger.putHead('acme/shop', 'main', { head: 'abc', etag: 'W/"1"' });
    expect(await ledger.getHead('acme/shop', 'main')).toMatchObject({ head: 'abc', etag: 'W/"1"' });
    await ledger.setSuspended(ID, true, 'alice', META);
    expect((await ledger.getState(ID))?.suspended).toBe(true);
    expect((await ledger.listTargets({ repository: 'acme/shop' })).map((t) => t.targetId)).toEqual([ID]);
    expect((await ledger.listTargets()).map((t) => t.targetId)).toEqual([ID]);
  });

  it('spreads a repository over GSI2 shards and reads it back merged: every target once, history pages newest first, items written before sharding included', async () => {
    const { ledger, table } = await db.ledger();
    // GIVEN 12 targets of one repository (their GSI2 keys land on several shards), each with 2 syncs
    const ids = Array.from({ length: 12 }, (_, i) => `t${String(i).padStart(2, '0')}`);
    let second = 0;
    for (const name of ids) {
      const r = await ledger.acquireLease(`acme/mono/${name}`, `inv-${name}`, TTL, { repository: 'acme/mono', target: name });
      if (!('lease' in r)) throw new Error('lease not acquired');
      for (let k = 0; k < 2; k++) {
        const rec = await ledger.startSync(r.lease, {
          repository: 'acme/mono',
          target: name,
          commit: `c${second}`,
          branch: 'main',
          startedAt: new Date(Date.UTC(2026, 10, 21, 10, 0, second++)).toISOString(),
        });
        await ledger.finishSync(r.lease, { ...rec, result: 'succeeded' }, { lastAttemptedCommit: rec.commit });
      }
    }
    const keys = await db.client.send(new ScanCommand({ TableName: table, ProjectionExpression: 'GSI2PK' }));
    const partitions = new Set((keys.Items ?? []).flatMap((i) => (i.GSI2PK?.S ? [i.GSI2PK.S] : [])));
    expect(partitions.size).toBeGreaterThan(3);
    expect([...partitions].every((pk) => /^R#acme\/mono#\d$/.test(pk))).toBe(true);
    // AND one sync record written before sharding (unsharded GSI2 key), newer than all
    await db.client.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          PK: { S: 'T#acme/mono/old' },
          SK: { S: 'S#2026-11-21T11:00:00.000Z#0000' },
          GSI2PK: { S: 'R#acme/mono' },
          GSI2SK: { S: 'S#2026-11-21T11:00:00.000Z#old' },
          targetId: { S: 'acme/mono/old' },
          syncId: { S: '2026-11-21T11:00:00.000Z#0000' },
          repository: { S: 'acme/mono' },
          target: { S: 'old' },
          commit: { S: 'legacy' },
          result: { S: 'succeeded' },
          startedAt: { S: '2026-11-21T11:00:00.000Z' },
        },
      }),
    );
    // THEN the target list has each target once, and paging by 5 yields every record once, newest first
    expect((await ledger.listTargets({ repository: 'acme/mono' })).map((t) => t.target)).toEqual(ids);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await ledger.history({ repository: 'acme/mono', limit: 5, ...(cursor ? { cursor } : {}) });
      expect(page.items.length).toBeLessThanOrEqual(5);
      seen.push(...page.items.map((r) => r.commit));
      cursor = page.cursor;
    } while (cursor);
    expect(seen).toEqual(['legacy', ...Array.from({ length: 24 }, (_, i) => `c${23 - i}`)]);
  });

  it('names the table and the operation when the table is missing', async () => {
    const { DynamoDbLedger } = await import('../../../lib/ledger/dynamodb-ledger.js');
    const missing = new DynamoDbLedger(db.client, 'no-such-table');
    const err = await missing.getState(ID).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LedgerError);
    expect((err as Error).message).toMatch(/^ledger table no-such-table: GetItem failed: ResourceNotFoundException: .*\(does the table exist\?\)$/);
  });
});
