import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChangeSetEntry } from '../../../lib/core/change-set.js';
import { formatRef, type KubeObject } from '../../../lib/core/object-ref.js';
import type { KubernetesDesiredState } from '../../../lib/core/target.js';
import { createKubernetesTarget } from '../../../lib/targets/kubernetes/cluster-target.js';
import { configMap, deployment, startCluster } from '../../support/kube.js';

type Cluster = Awaited<ReturnType<typeof startCluster>>;
const actions = (entries: readonly ChangeSetEntry[]) => Object.fromEntries(entries.map((e) => [formatRef(e.ref), e.action]));
const desired = (...objects: KubeObject[]): KubernetesDesiredState => ({ kind: 'kubernetes', objects, files: new Set(['deploy/all.yaml']), warnings: [] });
const writes = (c: Cluster) => (c.server.counts().apply ?? 0) + (c.server.counts().delete ?? 0) + (c.server.counts().patch ?? 0);

// The Kubernetes adapter behind the Target port: what every use case (reconcile, CLI sync/diff/drift) relies on.
describe('createKubernetesTarget', () => {
  let c: Cluster;
  beforeEach(async () => {
    c = await startCluster();
    c.server.createNamespace('shop');
  });
  afterEach(() => c.stop());
  const port = () => createKubernetesTarget(c.client, { id: 'acme/shop/web', namespace: 'shop', pollMs: 20 });

  it('plans without writing, applies what it planned, and then plans nothing to change', async () => {
    // GIVEN an empty namespace
    const target = port();
    // WHEN planned, applied and planned again
    const before = await target.plan(desired(configMap('a'), deployment('web')), { previousInventory: [] });
    expect(writes(c)).toBe(0);
    const applied = await target.apply(desired(configMap('a'), deployment('web')), { previousInventory: [] });
    const after = await target.plan(desired(configMap('a'), deployment('web')), { previousInventory: applied.inventory });
    // THEN the plan matched the apply, and the second plan changes nothing
    expect(actions(before.changeSet.entries)).toEqual({ 'ConfigMap/shop/a': 'created', 'Deployment/shop/web': 'created' });
    expect(applied.result).toBe('succeeded');
    expect(actions(applied.changeSet.entries)).toEqual(actions(before.changeSet.entries));
    expect(applied.inventory.map(formatRef)).toEqual(['ConfigMap/shop/a', 'Deployment/shop/web']);
    expect(Object.values(actions(after.changeSet.entries))).toEqual(['unchanged', 'unchanged']);
    expect(after.failed).toBe(0);
  });

  it('finds the previous inventory by the target label when none is given, and prunes from it', async () => {
    const target = port();
    await target.apply(desired(configMap('a'), configMap('b')), { previousInventory: [] });
    // No inventory given: the labelled objects on the cluster are the inventory.
    const plan = await target.plan(desired(configMap('a')));
    expect(actions(plan.changeSet.entries)).toEqual({ 'ConfigMap/shop/a': 'unchanged', 'ConfigMap/shop/b': 'deleted' });
    expect(plan.pruned?.[0]?.live).toMatchObject({ kind: 'ConfigMap', metadata: { name: 'b' } });
    const applied = await target.apply(desired(configMap('a')));
    expect(actions(applied.changeSet.entries)).toEqual({ 'ConfigMap/shop/a': 'unchanged', 'ConfigMap/shop/b': 'deleted' });
    expect(c.server.get('v1', 'ConfigMap', 'shop', 'b')).toBeUndefined();
  });

  it('detects drift against the desired objects, naming the field and who changed it', async () => {
    const target = port();
    const applied = await target.apply(desired(configMap('a', { level: 'info' })), { previousInventory: [] });
    expect(await target.detectDrift(desired(configMap('a', { level: 'info' })), { previousInventory: applied.inventory })).toEqual([]);
    await fetch(`${c.server.url}/api/v1/namespaces/shop/configmaps/a?fieldManager=kubectl-edit`, {
      method: 'PATCH',
      headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ data: { level: 'debug' } }),
    });
    const drift = await target.detectDrift(desired(configMap('a', { level: 'info' })), { previousInventory: applied.inventory });
    expect(drift).toEqual([
      {
        ref: { group: '', kind: 'ConfigMap', namespace: 'shop', name: 'a' },
        state: 'modified',
        fields: [{ path: 'data.level', desired: 'info', live: 'debug', changedBy: 'kubectl-edit' }],
      },
    ]);
  });

  it('refuses objects another target owns and names them, writing nothing', async () => {
    await createKubernetesTarget(c.client, { id: 'acme/other/web', namespace: 'shop', pollMs: 20 }).apply(desired(configMap('a')), { previousInventory: [] });
    c.server.resetLog();
    const applied = await port().apply(desired(configMap('a')), { previousInventory: [] });
    expect(applied.result).toBe('failed');
    expect(applied.refused).toEqual(['ConfigMap/shop/a is managed by another driftless target, acme/other/web; two targets must not manage one object']);
    expect(writes(c)).toBe(0);
  });
});
