import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterCapabilities } from '../../lib/render/helm/capabilities.js';
import { startCluster } from '../support/kube.js';
import { pushPayload, REPO, startPipeline } from '../support/pipeline.js';

const chartRoot = join(import.meta.dirname, '../fixtures/helm/repo');
const chartFiles = (): Record<string, string> => {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(chartRoot, p)] = readFileSync(p, 'utf8');
    }
  };
  walk(chartRoot);
  return out;
};

const CONFIG = (version = '') => `version: 1
targets:
  - name: web
    path: charts/webapp
    cluster: dev
    namespace: shop-web
    helm:
      releaseName: web${version}
      values: [values/prod.yaml]
      set: { image.tag: "2.0.1" }
    prune: { maxDeleteShare: 1 }
`;

describe('capabilities from the sandbox cluster', () => {
  it('lists the server version and every group version and kind that discovery lists', async () => {
    const c = await startCluster();
    try {
      const caps = await clusterCapabilities(c.client);
      expect(caps.kubeVersion).toBe('v1.28.0');
      expect(caps.apiVersions).toEqual(expect.arrayContaining(['v1', 'v1/ConfigMap', 'apps/v1', 'apps/v1/Deployment', 'policy/v1', 'policy/v1/PodDisruptionBudget']));
    } finally {
      await c.stop();
    }
  });
});

describe('a Helm target through the pipeline', () => {
  let p: Awaited<ReturnType<typeof startPipeline>>;
  let first: string;
  beforeAll(async () => {
    // The chart ships a CRD: a cluster-scoped kind the registry must grant.
    p = await startPipeline({ grant: { clusterScoped: ['CustomResourceDefinition'] } });
    first = p.commit({ ...chartFiles(), 'driftless.yaml': CONFIG() });
  }, 120_000);
  afterAll(() => p?.stop());

  it("syncs the chart with the cluster's capabilities, ownership labels and recorded dependencies", async () => {
    p.dev.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop-web' } });
    const res = await p.deliver('push', pushPayload('0'.repeat(40), first));
    expect(res.status).toBe(202);
    expect(p.errors).toEqual([]);
    const [record] = (await p.ledger.history({ targetId: `${REPO}/web` })).items;
    expect(record).toMatchObject({ result: 'succeeded', commit: first });
    const deploy = p.dev.get('apps/v1', 'Deployment', 'shop-web', 'web-webapp') as any;
    expect(deploy.spec.replicas).toBe(3);
    expect(deploy.spec.template.spec.containers[0].image).toBe('registry.example.com/webapp:2.0.1');
    expect(deploy.metadata.labels).toMatchObject({ 'app.kubernetes.io/instance': 'web' });
    expect(Object.keys(deploy.metadata.labels).some((k) => k.includes('driftless'))).toBe(true);
    // .Capabilities came from the sandbox's discovery: Helm's defaults have no policy/v1/PodDisruptionBudget.
    expect(p.dev.get('policy/v1', 'PodDisruptionBudget', 'shop-web', 'web-webapp')).toBeDefined();
    expect((p.dev.get('v1', 'ConfigMap', 'shop-web', 'web-webapp-info') as any).data.kubeVersion).toBe('v1.28.0');
    expect(p.dev.get('apps/v1', 'StatefulSet', 'shop-web', 'web-cache')).toBeDefined();
    expect(p.dev.get('v1', 'ConfigMap', 'shop-web', 'web-webapp-migrate')).toBeDefined();
    expect(p.dev.get('v1', 'ConfigMap', 'shop-web', 'web-webapp-cleanup')).toBeUndefined();
    const state = await p.ledger.getState(`${REPO}/web`);
    expect(state?.dependencies).toEqual(expect.arrayContaining(['charts/webapp/templates/deployment.yaml', 'values/prod.yaml', 'driftless.yaml']));
  });

  it('a new release name renames the objects and prunes the old ones', async () => {
    const second = p.commit({ 'driftless.yaml': CONFIG('2') });
    await p.deliver('push', pushPayload(first, second, 'main', REPO, ['driftless.yaml']));
    expect(p.errors).toEqual([]);
    const [record] = (await p.ledger.history({ targetId: `${REPO}/web` })).items;
    expect(record, JSON.stringify(record?.error)).toMatchObject({ result: 'succeeded', commit: second });
    expect(p.dev.get('apps/v1', 'Deployment', 'shop-web', 'web2-webapp')).toBeDefined();
    expect(p.dev.get('apps/v1', 'Deployment', 'shop-web', 'web-webapp')).toBeUndefined();
  });
});
