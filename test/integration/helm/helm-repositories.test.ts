import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RenderError } from '../../../lib/core/errors.js';
import type { KubeObject } from '../../../lib/core/object-ref.js';
import { MemoryFileTree } from '../../../lib/render/file-tree.js';
import { credentialsFromJson, DirectoryChartCache } from '../../../lib/render/helm/chart-repository.js';
import { clearHelmRenderCache, DEFAULT_HELM, type HelmContext, type HelmSettings } from '../../../lib/render/helm/render-helm.js';
import { renderPath } from '../../../lib/render/render.js';
import { startHttpChartRepository, startOciRegistry } from '../../support/helm-repositories.js';

const chartDir = join(import.meta.dirname, '../../fixtures/helm/repo/charts/webapp');
const tree = new MemoryFileTree({ 'values/prod.yaml': 'replicaCount: 4\n' });
const names = (objects: KubeObject[]) => objects.map((o) => `${String(o.kind)}/${(o.metadata as { name: string }).name}`);
const context = (o: Partial<HelmContext> = {}): HelmContext => ({
  cache: new DirectoryChartCache(mkdtempSync(join(tmpdir(), 'driftless-chart-cache-'))),
  credentials: credentialsFromJson(undefined),
  ...o,
});
const target = (chart: HelmSettings['chart'], o: Partial<HelmSettings> = {}) => ({
  name: 'web',
  namespace: 'shop',
  helm: { ...DEFAULT_HELM, values: ['values/prod.yaml'], chart, ...o },
});

describe('charts from an HTTP chart repository', () => {
  let repo: Awaited<ReturnType<typeof startHttpChartRepository>>;
  beforeAll(async () => {
    repo = await startHttpChartRepository([chartDir]);
  });
  afterAll(() => repo.stop());

  it('pulls once per (repository, chart, version), verifies the digest, and renders', async () => {
    const ctx = context();
    const chart = { repository: repo.url, name: 'webapp', version: '1.2.0' };
    const result = await renderPath(tree, 'deploy', { target: target(chart), helm: ctx });
    expect(names(result.objects)).toContain('Deployment/web-webapp');
    expect((result.objects.find((o) => o.kind === 'Deployment') as any).spec.replicas).toBe(4);
    expect([...result.files]).toEqual(['values/prod.yaml']);
    expect(repo.requests.get('/index.yaml')).toBe(1);
    expect(repo.requests.get('/webapp-1.2.0.tgz')).toBe(1);
    clearHelmRenderCache();
    const again = await renderPath(tree, 'deploy', { target: target(chart, { set: { replicaCount: 2 } }), helm: ctx });
    expect((again.objects.find((o) => o.kind === 'Deployment') as any).spec.replicas).toBe(2);
    expect(repo.requests.get('/index.yaml')).toBe(1);
    expect(repo.requests.get('/webapp-1.2.0.tgz')).toBe(1);
  });

  it('a version that does not exist is a render error naming it', async () => {
    const err = await renderPath(tree, 'deploy', { target: target({ repository: repo.url, name: 'webapp', version: '9.9.9' }), helm: context() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RenderError);
    expect((err as Error).message).toBe(`${repo.url.replace(/\/$/, '')}/webapp:9.9.9: chart "webapp" version "9.9.9" not found in ${repo.url} (versions: 1.2.0)`);
  });

  it('refuses an archive whose digest differs from the index', async () => {
    let original = '';
    repo.editIndex((t) => ((original = t), t.replace(/digest: [0-9a-f]{64}/, `digest: "${'0'.repeat(64)}"`)));
    try {
      const err = await renderPath(tree, 'deploy', { target: target({ repository: repo.url, name: 'webapp', version: '1.2.0' }), helm: context() }).catch((e: unknown) => e);
      expect((err as Error).message).toMatch(/digest mismatch: the index says sha256:0{64}, the archive is sha256:[0-9a-f]{64}$/);
    } finally {
      repo.editIndex(() => original);
    }
  });
});

describe('helmCharts with repo and version', () => {
  it('pulls the chart through the cache when chartHome/name-version/name is absent from the tree', async () => {
    const repo = await startHttpChartRepository([chartDir]);
    try {
      const k = new MemoryFileTree({
        'app/kustomization.yaml': `namePrefix: k-\nhelmCharts:\n  - name: webapp\n    repo: ${repo.url}\n    version: 1.2.0\n    releaseName: r\n    valuesInline: { replicaCount: 6 }\n`,
      });
      const result = await renderPath(k, 'app', { helm: context() });
      const deploy = result.objects.find((o) => o.kind === 'Deployment') as any;
      expect(deploy.metadata.name).toBe('k-r-webapp');
      expect(deploy.spec.replicas).toBe(6);
      const missing = new MemoryFileTree({ 'app/kustomization.yaml': `helmCharts:\n  - name: webapp\n    repo: ${repo.url}\n` });
      const err = await renderPath(missing, 'app', { helm: context() }).catch((e: unknown) => e);
      expect((err as Error).message).toMatch(/helmCharts\[0\]: chart "webapp" from .* needs a version/);
    } finally {
      await repo.stop();
    }
  });
});

describe('repository credentials', () => {
  it('come from DRIFTLESS_HELM_CREDENTIALS, keyed by repository URL', async () => {
    const repo = await startHttpChartRepository([chartDir], { auth: { username: 'robot', password: 's3cret' } });
    try {
      const chart = { repository: repo.url.replace(/\/$/, ''), name: 'webapp', version: '1.2.0' };
      const denied = await renderPath(tree, 'deploy', { target: target(chart), helm: context() }).catch((e: unknown) => e);
      expect((denied as Error).message).toMatch(/index\.yaml: HTTP 401$/);
      const creds = credentialsFromJson(JSON.stringify({ [chart.repository]: { username: 'robot', password: 's3cret' } }));
      const ok = await renderPath(tree, 'deploy', { target: target(chart), helm: context({ credentials: creds }) });
      expect(names(ok.objects)).toContain('Deployment/web-webapp');
    } finally {
      await repo.stop();
    }
  });
});

describe('charts from an OCI registry (docker-registry)', () => {
  let registry: Awaited<ReturnType<typeof startOciRegistry>>;
  beforeAll(async () => {
    registry = await startOciRegistry();
    registry.push(chartDir, 'charts');
  }, 60_000);
  afterAll(() => registry?.stop());

  it('pulls a chart pushed with helm push, verified against the manifest layer digest', async () => {
    const ctx = context();
    const chart = { repository: `oci://${registry.host}/charts`, name: 'webapp', version: '1.2.0' };
    const result = await renderPath(tree, 'deploy', { target: target(chart), helm: ctx });
    expect(names(result.objects)).toEqual(expect.arrayContaining(['Deployment/web-webapp', 'StatefulSet/web-cache', 'CustomResourceDefinition/widgets.example.com']));
    const blobs = readdirSync(join((ctx.cache as DirectoryChartCache).dir, 'blobs'));
    expect(blobs).toEqual([expect.stringMatching(/^sha256_[0-9a-f]{64}$/)]);
  });

  it('a version that does not exist is a render error naming it', async () => {
    const chart = { repository: `oci://${registry.host}/charts`, name: 'webapp', version: '0.0.9' };
    const err = await renderPath(tree, 'deploy', { target: target(chart), helm: context() }).catch((e: unknown) => e);
    expect((err as Error).message).toBe(`oci://${registry.host}/charts/webapp:0.0.9: chart "webapp" version "0.0.9" not found in oci://${registry.host}/charts`);
  });
});
