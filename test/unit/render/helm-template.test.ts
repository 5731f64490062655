import { describe, expect, it } from 'vitest';
import { RenderError } from '../../../lib/core/errors.js';
import { crdApiVersions, helmRenderError, orderHooks, parseHelmOutput, templateArgs, type HelmTemplateInput } from '../../../lib/render/helm/helm-template.js';
import { mergeValues, parseHelmCharts } from '../../../lib/render/helm/kustomize-helm.js';
import { checkRepositoryUrl } from '../../../lib/render/helm/chart-repository.js';

const input = (o: Partial<HelmTemplateInput> = {}): HelmTemplateInput => ({
  chart: '/tmp/chart',
  chartLabel: 'charts/web',
  releaseName: 'web',
  values: [],
  includeCRDs: true,
  skipTests: true,
  noHooks: false,
  ...o,
});

describe('templateArgs', () => {
  it('puts release name and chart after "--" and every value in flag=value form', () => {
    const args = templateArgs(input({ namespace: 'shop', set: { 'image.tag': '1.2', replicas: 3 } }), ['/v/0.yaml']);
    expect(args).toEqual([
      'template',
      '--namespace=shop',
      '--values=/v/0.yaml',
      '--set-json=image.tag="1.2"',
      '--set-json=replicas=3',
      '--include-crds',
      '--skip-tests',
      '--',
      'web',
      '/tmp/chart',
    ]);
  });

  it('passes capabilities as --kube-version and --api-versions', () => {
    const args = templateArgs(input({ capabilities: { kubeVersion: 'v1.31.2', apiVersions: ['apps/v1', 'policy/v1/PodDisruptionBudget'] } }), []);
    expect(args).toContain('--kube-version=v1.31.2');
    expect(args).toContain('--api-versions=apps/v1,policy/v1/PodDisruptionBudget');
  });

  it('refuses release names, namespaces and set keys that are not Helm names', () => {
    expect(() => templateArgs(input({ releaseName: '--post-renderer=x' }), [])).toThrow(/release name/);
    expect(() => templateArgs(input({ releaseName: 'a'.repeat(54) }), [])).toThrow(/release name/);
    expect(() => templateArgs(input({ namespace: 'Shop' }), [])).toThrow(/namespace/);
    expect(() => templateArgs(input({ set: { 'a=b,c': 1 } }), [])).toThrow(/set key/);
  });
});

describe('parseHelmOutput', () => {
  it('names every document by its # Source: line, below the chart label', () => {
    const out =
      '---\n# Source: web/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n# Source: web/templates/b.yaml\napiVersion: v1\nkind: ConfigMap\n';
    const err = (() => {
      try {
        parseHelmOutput(out, 'charts/web');
      } catch (e) {
        return e as RenderError;
      }
    })();
    expect(err).toBeInstanceOf(RenderError);
    expect(err?.file).toBe('charts/web/templates/b.yaml');
    expect(parseHelmOutput(out.split('---\n# Source: web/templates/b.yaml')[0] as string, 'charts/web')).toHaveLength(1);
  });
});

describe('crdApiVersions', () => {
  it('lists served versions of CRDs from crds/ directories (subcharts too), not templated CRDs', () => {
    const crd = (group: string, kind: string) =>
      `apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: x.${group}\nspec:\n  group: ${group}\n  names: { kind: ${kind} }\n  versions: [{ name: v1, served: true }, { name: v0, served: false }]\n`;
    const out = `---\n# Source: web/crds/a.yaml\n${crd('a.example.com', 'A')}---\n# Source: web/charts/sub/crds/b.yaml\n${crd('b.example.com', 'B')}---\n# Source: web/templates/c.yaml\n${crd('c.example.com', 'C')}`;
    expect(crdApiVersions(out)).toEqual(['a.example.com/v1', 'a.example.com/v1/A', 'b.example.com/v1', 'b.example.com/v1/B']);
  });
});

describe('helmRenderError', () => {
  it.each([
    ['template: web/templates/d.yaml:12:20: executing "web/templates/d.yaml" at <.Values.x.y>: nil pointer', 'charts/web/templates/d.yaml', 12],
    ['execution error at (web/templates/d.yaml:3:6): boom', 'charts/web/templates/d.yaml', 3],
    ['parse error at (web/charts/sub/templates/x.yaml:1): function "nofunc" not defined', 'charts/web/charts/sub/templates/x.yaml', 1],
    ['YAML parse error on web/templates/x.yaml: error converting YAML to JSON: yaml: line 2: bad', 'charts/web/templates/x.yaml', undefined],
  ])('locates %s', (msg, file, line) => {
    const err = helmRenderError(msg, { chartLabel: 'charts/web', values: [] });
    expect(err.file).toBe(file);
    expect(err.line).toBe(line);
    expect(err.message).toMatch(/helm template: /);
  });

  it('names values files as the user wrote them, not by their temp path', () => {
    const err = helmRenderError('failed to parse /tmp/x/0.yaml: error converting YAML', { chartLabel: 'c', values: [{ name: 'values/prod.yaml', text: '' }] }, ['/tmp/x/0.yaml']);
    expect(err.message).toBe('c: helm template: failed to parse values/prod.yaml: error converting YAML');
  });
});

describe('orderHooks', () => {
  const cm = (name: string, hook?: string, weight?: string) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, ...(hook ? { annotations: { 'helm.sh/hook': hook, ...(weight ? { 'helm.sh/hook-weight': weight } : {}) } } : {}) },
  });
  it('puts pre hooks first by weight, post hooks last, and leaves delete/rollback-only hooks out with a warning', () => {
    const { objects, warnings } = orderHooks([
      cm('main'),
      cm('post', 'post-install'),
      cm('pre2', 'pre-install', '5'),
      cm('pre1', 'pre-upgrade,pre-install', '-1'),
      cm('del', 'pre-delete,post-rollback'),
    ]);
    expect(objects.map((o) => (o.metadata as { name: string }).name)).toEqual(['pre1', 'pre2', 'main', 'post']);
    expect(warnings).toEqual([expect.stringMatching(/ConfigMap del: a Helm hook for pre-delete, post-rollback only/)]);
  });
});

describe('helmCharts entries', () => {
  it('checks fields as Kustomize types them', () => {
    expect(() => parseHelmCharts([{ name: 'x', bogus: 1 }], 'k.yaml')).toThrow(/unknown field "helmCharts\[0\].bogus"/);
    expect(() => parseHelmCharts([{ name: 'x', includeCRDs: 'yes' }], 'k.yaml')).toThrow(/must be true or false/);
    expect(() => parseHelmCharts([{ version: '1' }], 'k.yaml')).toThrow(/chart name cannot be empty/);
    expect(() => parseHelmCharts([{ name: 'x', valuesMerge: 'deep' }], 'k.yaml')).toThrow(/valuesMerge/);
  });

  it('merges maps key by key and replaces everything else', () => {
    expect(mergeValues({ a: { b: 1, c: [1] }, d: 1 }, { a: { c: [2], e: 3 } })).toEqual({ a: { b: 1, c: [2], e: 3 }, d: 1 });
  });
});

describe('checkRepositoryUrl', () => {
  it('allows https, oci and loopback http only, without credentials', () => {
    expect(checkRepositoryUrl('https://charts.example.com').protocol).toBe('https:');
    expect(checkRepositoryUrl('oci://registry.example.com/charts').protocol).toBe('oci:');
    expect(checkRepositoryUrl('http://127.0.0.1:8080/charts').protocol).toBe('http:');
    expect(() => checkRepositoryUrl('http://charts.example.com')).toThrow(/https:\/\/ or oci:\/\//);
    expect(() => checkRepositoryUrl('https://u:p@charts.example.com')).toThrow(/without credentials/);
    expect(() => checkRepositoryUrl('file:///etc')).toThrow();
  });
});
