import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deletionCascades } from '../../../lib/targets/kubernetes/deletion-cascade.js';
import { configMap, deployment, startCluster } from '../../support/kube.js';

type Cluster = Awaited<ReturnType<typeof startCluster>>;

const crd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
    versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
  },
};

describe('deletionCascades (against the local API server)', () => {
  let c: Cluster;
  beforeEach(async () => {
    c = await startCluster();
    c.server.createNamespace('old');
    c.server.createNamespace('kept');
  });
  afterEach(() => c.stop());

  it('lists what a deleted Namespace holds and what a deleted CRD’s custom resources are; nothing for other kinds', async () => {
    c.server.put(configMap('a', {}, 'old'));
    c.server.put({ ...deployment('web'), metadata: { name: 'web', namespace: 'old' } });
    c.server.put(configMap('b', {}, 'kept'));
    c.server.put(crd);
    c.server.put({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w1', namespace: 'kept' } });
    c.server.put({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w2', namespace: 'old' } });
    c.server.resetLog();
    const cascades = await deletionCascades(c.client, [
      { group: '', kind: 'Namespace', name: 'old' },
      { group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition', name: 'widgets.example.com' },
      { group: '', kind: 'ConfigMap', namespace: 'kept', name: 'b' },
    ]);
    expect(Object.fromEntries(cascades)).toEqual({
      'Namespace/old': { names: ['ConfigMap/old/a', 'Deployment/old/web', 'Widget/old/w2'], total: 3 },
      'CustomResourceDefinition/widgets.example.com': { names: ['Widget/kept/w1', 'Widget/old/w2'], total: 2 },
    });
    // Read-only: LISTs and discovery, no write.
    const counts = c.server.counts();
    expect((counts.apply ?? 0) + (counts.delete ?? 0) + (counts.patch ?? 0)).toBe(0);
  });

  it('asks nothing when no Namespace or CRD is deleted', async () => {
    c.server.resetLog();
    expect((await deletionCascades(c.client, [{ group: '', kind: 'ConfigMap', namespace: 'kept', name: 'b' }])).size).toBe(0);
    expect(Object.values(c.server.counts()).reduce((a, b) => a + b, 0)).toBe(0);
  });
});
