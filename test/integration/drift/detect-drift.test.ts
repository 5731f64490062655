import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fingerprintOf } from '../../../lib/drift/detect-drift.js';
import { driftReport } from '../../../lib/targets/kubernetes/kubernetes-drift.js';
import type { InventoryEntry } from '../../../lib/core/inventory.js';
import type { KubeObject } from '../../../lib/core/object-ref.js';
import { TARGET_LABEL, targetLabelValue } from '../../../lib/core/ownership.js';
import { configMap, deployment, startCluster } from '../../support/kube.js';

type Cluster = Awaited<ReturnType<typeof startCluster>>;

// Every case runs twice: with a dry run of every object, and as drift checks run, with the inventory's observations
// (an object unchanged since its apply costs no request; any write to it brings the dry run back).
describe.each([
  ['a dry run of every object', false],
  ['the inventory observations', true],
])('drift detection, with %s', (_how, cached) => {
  let c: Cluster;
  let inventory: InventoryEntry[];
  const desired = () => [deployment('web'), configMap('settings', { level: 'info' })];
  const check = async (objects: KubeObject[] = desired()) => {
    const target = c.target();
    const plan = await target.plan(await target.prepare(objects), undefined, undefined, cached ? { known: inventory, validateCreates: false } : {});
    return driftReport('acme/shop/web', plan.objects, await target.labelledObjects(), inventory);
  };
  const patch = (path: string, manager: string, body: unknown) =>
    fetch(`${c.server.url}${path}?fieldManager=${manager}`, {
      method: 'PATCH',
      headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify(body),
    });

  beforeEach(async () => {
    c = await startCluster();
    c.server.createNamespace('shop');
    inventory = (await c.target().sync(desired(), { previousInventory: [] })).inventory;
  });
  afterEach(() => c.stop());

  it('reports nothing on an unchanged cluster (server defaults are not drift)', async () => {
    const report = await check();
    expect(report.objects).toEqual([]);
    expect(report.fingerprint).toBe('');
  });

  it('ignores an autoscaler changing replicas the manifest does not set', async () => {
    await patch('/apis/apps/v1/namespaces/shop/deployments/web', 'horizontal-pod-autoscaler', { spec: { replicas: 7 } });
    expect((await check()).objects).toEqual([]);
  });

  it('ignores annotations another controller adds', async () => {
    await patch('/api/v1/namespaces/shop/configmaps/settings', 'some-controller', { metadata: { annotations: { 'example.com/seen': 'yes' } } });
    expect((await check()).objects).toEqual([]);
  });

  it('reports a field the manifest sets, edited by another manager, naming the path and who changed it', async () => {
    await patch('/apis/apps/v1/namespaces/shop/deployments/web', 'kubectl-edit', {
      spec: { template: { spec: { containers: [{ name: 'app', image: 'nginx:evil' }] } } },
    });
    const report = await check();
    expect(report.objects).toEqual([
      {
        ref: { group: 'apps', kind: 'Deployment', namespace: 'shop', name: 'web' },
        state: 'modified',
        fields: [{ path: 'spec.template.spec.containers[name=app].image', desired: 'nginx:1.25', live: 'nginx:evil', changedBy: 'kubectl-edit' }],
      },
    ]);
    expect(report.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect((await check()).fingerprint).toBe(report.fingerprint);
  });

  it('reports a deleted object as missing', async () => {
    await fetch(`${c.server.url}/api/v1/namespaces/shop/configmaps/settings`, { method: 'DELETE', headers: { authorization: 'Bearer test-admin-token' } });
    expect((await check()).objects).toEqual([{ ref: { group: '', kind: 'ConfigMap', namespace: 'shop', name: 'settings' }, state: 'missing' }]);
  });

  it('reports an object that carries the target label but is not in its inventory', async () => {
    c.server.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'stray', namespace: 'shop', labels: { [TARGET_LABEL]: targetLabelValue('acme/shop/web') } } });
    expect((await check()).objects).toEqual([{ ref: { group: '', kind: 'ConfigMap', namespace: 'shop', name: 'stray' }, state: 'unmanaged' }]);
  });

  it('never shows Secret values', async () => {
    const secret: KubeObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds' }, stringData: { password: 'hunter2' } };
    inventory = (await c.target().sync([...desired(), secret], { previousInventory: inventory })).inventory;
    await patch('/api/v1/namespaces/shop/secrets/creds', 'someone', { data: { password: Buffer.from('stolen').toString('base64') } });
    const report = await check([...desired(), secret]);
    expect(report.objects).toHaveLength(1);
    expect(JSON.stringify(report)).not.toMatch(/hunter2|aHVudGVyMg|stolen|c3RvbGVu/);
  });

  it('gives the same drift the same fingerprint, and a changed drift a new one', () => {
    const ref = { group: '', kind: 'ConfigMap', namespace: 'n', name: 'a' };
    const a = fingerprintOf([{ ref, state: 'modified', fields: [{ path: 'data.k', desired: '1', live: '2' }] }]);
    expect(fingerprintOf([{ ref, state: 'modified', fields: [{ path: 'data.k', desired: '1', live: '2' }] }])).toBe(a);
    expect(fingerprintOf([{ ref, state: 'modified', fields: [{ path: 'data.k', desired: '1', live: '3' }] }])).not.toBe(a);
  });
});
