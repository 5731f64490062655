import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChangeSetEntry } from '../../../lib/core/change-set.js';
import type { InventoryEntry } from '../../../lib/core/inventory.js';
import { formatRef, type KubeObject } from '../../../lib/core/object-ref.js';
import { driftReport } from '../../../lib/targets/kubernetes/kubernetes-drift.js';
import { configMap, deployment, startCluster } from '../../support/kube.js';

type Cluster = Awaited<ReturnType<typeof startCluster>>;
const actions = (entries: readonly ChangeSetEntry[]) => Object.fromEntries(entries.map((e) => [formatRef(e.ref), e.action]));
const PER_OBJECT = ['get', 'dry-run apply', 'apply', 'patch', 'delete'];
/** Requests that name one object (everything but LIST and discovery). */
const perObject = (c: Cluster) => Object.fromEntries(Object.entries(c.server.counts()).filter(([verb]) => PER_OBJECT.includes(verb)));
const patch = (c: Cluster, path: string, manager: string, body: unknown) =>
  fetch(`${c.server.url}${path}?fieldManager=${manager}`, {
    method: 'PATCH',
    headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/merge-patch+json' },
    body: JSON.stringify(body),
  });

describe('KubernetesTarget with the apply cache (inventory observations)', () => {
  let c: Cluster;
  const N = 60;
  const desired = (changed: ReadonlySet<number> = new Set()): KubeObject[] => [
    ...Array.from({ length: N }, (_, i) => configMap(`cm-${i}`, { i: changed.has(i) ? 'changed' : String(i) })),
    deployment('web'),
  ];
  let inventory: InventoryEntry[];

  beforeEach(async () => {
    c = await startCluster();
    c.server.createNamespace('shop');
    inventory = (await c.target().sync(desired(), { previousInventory: [] })).inventory;
  });
  afterEach(() => c.stop());

  it('records a digest and the live resourceVersion of every applied object', () => {
    // THEN each inventory entry names the state the apply left
    expect(inventory).toHaveLength(N + 1);
    for (const e of inventory) {
      const live = c.server.get(e.kind === 'Deployment' ? 'apps/v1' : 'v1', e.kind, 'shop', e.name) as { metadata: { resourceVersion: string; generation?: number } };
      expect(e.digest, formatRef(e)).toMatch(/^[\w-]{22}$/);
      expect(e.resourceVersion, formatRef(e)).toBe(live.metadata.resourceVersion);
      expect(e.generation, formatRef(e)).toBe(live.metadata.generation);
    }
  });

  it('makes no per-object request on a no-op sync: only the LISTs that read live state', async () => {
    // WHEN nothing changed
    c.server.resetLog();
    const result = await c.target().sync(desired(), { previousInventory: inventory });
    // THEN one LIST per kind and namespace, nothing else
    expect(result.failed).toBe(false);
    expect(new Set(Object.values(actions(result.changeSet.entries)))).toEqual(new Set(['unchanged']));
    expect(perObject(c)).toEqual({});
    expect(c.server.counts().list).toBe(2);
    expect(result.inventory).toEqual(inventory);
  });

  it('makes k dry runs and k applies for k changed objects', async () => {
    // WHEN 3 ConfigMaps change in Git
    c.server.resetLog();
    const result = await c.target().sync(desired(new Set([1, 7, 42])), { previousInventory: inventory });
    // THEN exactly those are dry-run and applied
    expect(
      Object.entries(actions(result.changeSet.entries))
        .filter(([, a]) => a !== 'unchanged')
        .sort(),
    ).toEqual([
      ['ConfigMap/shop/cm-1', 'configured'],
      ['ConfigMap/shop/cm-42', 'configured'],
      ['ConfigMap/shop/cm-7', 'configured'],
    ]);
    expect(perObject(c)).toEqual({ 'dry-run apply': 3, apply: 3 });
    // AND the next no-op sync is free again
    c.server.resetLog();
    await c.target().sync(desired(new Set([1, 7, 42])), { previousInventory: result.inventory });
    expect(perObject(c)).toEqual({});
  });

  it('creates without a dry run when no object of that name exists: one apply per object', async () => {
    // GIVEN a new namespace's worth of objects
    c.server.createNamespace('fresh');
    c.server.resetLog();
    const objects = Array.from({ length: 25 }, (_, i) => configMap(`new-${i}`, { i: String(i) }, 'fresh'));
    const result = await c.target().sync(objects, { previousInventory: [] });
    // THEN 25 applies, one GET of the namespace and one unfiltered LIST (objects the inventory does not name are
    // listed unfiltered at once, this target's picked from it by label), in one round before the applies
    expect(new Set(Object.values(actions(result.changeSet.entries)))).toEqual(new Set(['created']));
    expect(perObject(c)).toEqual({ apply: 25, get: 1 });
    expect(c.server.counts().list).toBe(1);
    expect(c.server.requests.filter((r) => r.method === 'GET' && r.path.includes('/configmaps')).map((r) => r.path)).toEqual(['/api/v1/namespaces/fresh/configmaps']);
  });

  it('dry-runs creates whose namespace cannot be read (RBAC limited to namespaces), and still creates them', async () => {
    // GIVEN reading the Namespace fails every time
    c.server.createNamespace('fresh');
    c.server.faults.push({ method: 'GET', path: /^\/api\/v1\/namespaces\/fresh$/, status: 500, times: 100 });
    c.server.resetLog();
    const result = await c.target().sync([configMap('a', { k: 'v' }, 'fresh'), configMap('b', { k: 'v' }, 'fresh')], { previousInventory: [] });
    // THEN the dry runs decide, and the sync creates both
    expect(result.failed).toBe(false);
    expect(actions(result.changeSet.entries)).toEqual({ 'ConfigMap/fresh/a': 'created', 'ConfigMap/fresh/b': 'created' });
    expect(c.server.counts()['dry-run apply']).toBe(2);
  });

  it('still dry-runs a create when an object of that name exists without the label, and refuses it under a grant without adopt', async () => {
    // GIVEN a ConfigMap someone else created
    c.server.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'theirs', namespace: 'shop' }, data: { k: 'theirs' } });
    c.server.resetLog();
    const target = c.target({ grant: { repository: 'acme/shop', namespaces: ['shop'], clusterScoped: [], adopt: false, pruneKinds: [] } });
    const result = await target.sync([...desired(), configMap('theirs')], { previousInventory: inventory });
    // THEN it is refused before any write
    expect(result.failed).toBe(true);
    expect(result.changeSet.entries.find((e) => e.ref.name === 'theirs')?.detail).toMatch(/exists and is not managed by acme\/shop\/web/);
    expect(c.server.counts().apply ?? 0).toBe(0);
    expect(c.server.get('v1', 'ConfigMap', 'shop', 'theirs')?.data).toEqual({ k: 'theirs' });
  });

  it('dry-runs an object whose resourceVersion moved, and keeps it unchanged when only fields it does not set changed', async () => {
    // GIVEN an autoscaler sets replicas, which the manifest does not set
    await patch(c, '/apis/apps/v1/namespaces/shop/deployments/web', 'horizontal-pod-autoscaler', { spec: { replicas: 7 } });
    c.server.resetLog();
    const result = await c.target().sync(desired(), { previousInventory: inventory });
    // THEN one dry run, no write, and the new resourceVersion is recorded
    expect(actions(result.changeSet.entries)['Deployment/shop/web']).toBe('unchanged');
    expect(perObject(c)).toEqual({ 'dry-run apply': 1 });
    const live = c.server.get('apps/v1', 'Deployment', 'shop', 'web') as { metadata: { resourceVersion: string } };
    expect(result.inventory.find((e) => e.name === 'web')?.resourceVersion).toBe(live.metadata.resourceVersion);
  });

  it('dry-runs every object of an inventory recorded before observations existed', async () => {
    // GIVEN an inventory without digests (an older ledger item)
    const old = inventory.map(({ group, kind, namespace, name, origin }) => ({ group, kind, ...(namespace ? { namespace } : {}), name, ...(origin ? { origin } : {}) }));
    c.server.resetLog();
    const result = await c.target().sync(desired(), { previousInventory: old });
    // THEN the dry runs decide, and the result carries observations again
    expect(perObject(c)).toEqual({ 'dry-run apply': N + 1 });
    expect(result.inventory.every((e) => e.digest && e.resourceVersion)).toBe(true);
  });

  it('dry-runs an object whose desired state changed though its live state did not', async () => {
    // GIVEN a different field manager (part of the digest): every object misses the cache
    c.server.resetLog();
    await c.target({ fieldManager: 'driftless-other' }).plan(await c.target().prepare(desired()), undefined, undefined, { known: inventory });
    expect(perObject(c)).toEqual({ 'dry-run apply': N + 1 });
  });

  describe('drift', () => {
    const check = async () => {
      const target = c.target();
      const plan = await target.plan(await target.prepare(desired()), undefined, undefined, { known: inventory, validateCreates: false });
      return driftReport('acme/shop/web', plan.objects, [], inventory);
    };

    it('costs no per-object request on an unchanged cluster', async () => {
      c.server.resetLog();
      expect((await check()).objects).toEqual([]);
      expect(perObject(c)).toEqual({});
    });

    it('finds an edit by another manager to a field the manifest sets, with one dry run', async () => {
      // GIVEN kubectl edits an owned value
      await patch(c, '/api/v1/namespaces/shop/configmaps/cm-5', 'kubectl-edit', { data: { i: 'evil' } });
      c.server.resetLog();
      const report = await check();
      // THEN it is drift, found by the dry run of that object alone
      expect(report.objects).toEqual([
        {
          ref: { group: '', kind: 'ConfigMap', namespace: 'shop', name: 'cm-5' },
          state: 'modified',
          fields: [{ path: 'data.i', desired: '5', live: 'evil', changedBy: 'kubectl-edit' }],
        },
      ]);
      expect(perObject(c)).toEqual({ 'dry-run apply': 1 });
    });

    it('finds a delete and re-create by another manager (a new object: a new resourceVersion)', async () => {
      // GIVEN someone deletes cm-9 and creates it again with a value of theirs (a new object, a new resourceVersion)
      await fetch(`${c.server.url}/api/v1/namespaces/shop/configmaps/cm-9`, { method: 'DELETE', headers: { authorization: 'Bearer test-admin-token' } });
      const copy = structuredClone(c.server.get('v1', 'ConfigMap', 'shop', 'cm-8')) as KubeObject & { metadata: Record<string, unknown> };
      c.server.put({ ...copy, metadata: { ...copy.metadata, name: 'cm-9' }, data: { i: 'other' } });
      const report = await check();
      expect(report.objects.map((o) => [formatRef(o.ref), o.state])).toEqual([['ConfigMap/shop/cm-9', 'modified']]);
    });

    it('reports a deleted object as missing without a dry run', async () => {
      await fetch(`${c.server.url}/api/v1/namespaces/shop/configmaps/cm-3`, { method: 'DELETE', headers: { authorization: 'Bearer test-admin-token' } });
      c.server.resetLog();
      expect((await check()).objects).toEqual([{ ref: { group: '', kind: 'ConfigMap', namespace: 'shop', name: 'cm-3' }, state: 'missing' }]);
      expect(perObject(c)).toEqual({ get: 1 });
    });
  });
});
