import { describe, expect, it } from 'vitest';
import { parseDriftlessConfig } from '../../../lib/config/load-config.js';
import { ConfigError } from '../../../lib/core/errors.js';

const config = (helm: string) => `version: 1\ntargets:\n  - name: web-prod\n    cluster: prod\n    namespace: shop-prod\n    path: charts/webapp\n    helm:\n${helm}`;
const issues = (text: string): string => {
  try {
    parseDriftlessConfig(text, { file: 'driftless.yaml' });
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  return '';
};

describe('driftless.yaml helm field', () => {
  it('fills in defaults', () => {
    const c = parseDriftlessConfig(config('      releaseName: web\n      values: [values/prod.yaml]\n      set: { replicaCount: 3, image.tag: "1.2" }\n'), {
      file: 'driftless.yaml',
    });
    const t = c.targets[0];
    expect(t?.type === 'kubernetes' && t.helm).toEqual({
      releaseName: 'web',
      values: ['values/prod.yaml'],
      set: { replicaCount: 3, 'image.tag': '1.2' },
      includeCRDs: true,
      skipTests: true,
      hooks: 'apply',
    });
  });

  it('accepts a chart from an https repository or an oci registry', () => {
    for (const repository of ['https://charts.example.com', 'oci://registry.example.com/charts']) {
      const c = parseDriftlessConfig(config(`      chart: { repository: "${repository}", name: podinfo, version: 6.5.4 }\n`), { file: 'driftless.yaml' });
      const t = c.targets[0];
      expect(t?.type === 'kubernetes' && t.helm?.chart).toEqual({ repository, name: 'podinfo', version: '6.5.4' });
    }
  });

  it.each([
    ['an unknown key', '      relaseName: web\n', 'driftless.yaml:8:7 targets[0].helm.relaseName: unknown field "relaseName"'],
    [
      'an unknown chart key',
      '      chart: { repository: "https://c.example.com", name: x, version: 1.0.0, digest: abc }\n',
      'driftless.yaml:8:78 targets[0].helm.chart.digest: unknown field "digest"',
    ],
    ['a chart without a version', '      chart: { repository: "https://c.example.com", name: x }\n', 'driftless.yaml:8:7 targets[0].helm.chart.version: is required'],
    [
      'plain http to a remote host',
      '      chart: { repository: "http://c.example.com", name: x, version: 1.0.0 }\n',
      'targets[0].helm.chart.repository: must be an https:// chart repository or an oci:// registry URL',
    ],
    ['a values file outside the repository', '      values: [../secrets.yaml]\n', 'targets[0].helm.values[0]: must be a path inside the repository'],
    ['a bad release name', '      releaseName: Web_1\n', 'targets[0].helm.releaseName: must be a Helm release name'],
    ['a bad hooks mode', '      hooks: later\n', 'targets[0].helm.hooks'],
  ])('reports %s with file and line', (_, helm, message) => {
    expect(issues(config(helm))).toContain(message);
  });
});
