import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LocalFileTree } from '../lib/render/file-tree.js';
import { helmBinary, helmVersion } from '../lib/render/helm/helm-binary.js';
import { clearHelmRenderCache, DEFAULT_HELM, helmRenderStats } from '../lib/render/helm/render-helm.js';
import { renderPath } from '../lib/render/render.js';
import { median, ms } from './machine.js';

/**
 * Renders the test chart (a chart with a subchart, CRDs and hooks) and a kustomization with helmCharts:
 * cold (a `helm template` process per render) and cached (same chart, values and capabilities in the process),
 * against `helm template` run directly. Returns a Markdown section.
 */
export const benchHelm = async (): Promise<string> => {
  const root = join(import.meta.dirname, '..', 'test', 'fixtures', 'helm');
  const bin = helmBinary();
  const RUNS = 15;
  const cases: { name: string; tree: LocalFileTree; path: string; direct: string[] }[] = [
    {
      name: 'chart directory (charts/webapp, values file + set)',
      tree: new LocalFileTree(join(root, 'repo')),
      path: 'charts/webapp',
      direct: ['template', 'web', join(root, 'repo', 'charts', 'webapp'), '--values', join(root, 'repo', 'values', 'prod.yaml'), '--include-crds', '--skip-tests'],
    },
    {
      name: 'kustomization with helmCharts (prefix-and-patches)',
      tree: new LocalFileTree(join(root, 'kustomize', 'cases')),
      path: 'prefix-and-patches',
      direct: ['template', 'web', join(root, 'kustomize', 'cases', 'prefix-and-patches', 'charts', 'webapp'), '--namespace', 'shop', '--include-crds'],
    },
  ];
  const home = mkdtempSync(join(tmpdir(), 'driftless-bench-helm-'));
  const rows: string[] = [];
  for (const c of cases) {
    const target = c.path === 'charts/webapp' ? { name: 'web', helm: { ...DEFAULT_HELM, values: ['values/prod.yaml'] } } : undefined;
    const render = () => renderPath(c.tree, c.path, target ? { target } : {});
    await render(); // warm-up: binary extracted, modules loaded
    const cold: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      clearHelmRenderCache();
      const s = performance.now();
      await render();
      cold.push(performance.now() - s);
    }
    const runs = helmRenderStats.runs;
    const cached: number[] = [];
    for (let i = 0; i < RUNS * 4; i++) {
      const s = performance.now();
      await render();
      cached.push(performance.now() - s);
    }
    if (helmRenderStats.runs !== runs) throw new Error('bench helm: the cached renders ran Helm');
    const direct: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const s = performance.now();
      execFileSync(bin.path, c.direct, { stdio: ['ignore', 'ignore', 'ignore'], env: { HOME: home, PATH: '' } });
      direct.push(performance.now() - s);
    }
    const [a, b, d] = [median(cold), median(cached), median(direct)];
    rows.push(`| ${c.name} | ${ms(a)} | ${ms(b)} | ${ms(d)} |`);
    process.stderr.write(`helm ${c.name}: cold ${ms(a)} ms, cached ${ms(b)} ms, helm template ${ms(d)} ms\n`);
  }
  return [
    `Helm ${helmVersion(bin)} (${bin.source}). Cold: the in-process render cache emptied before each render, so each`,
    `render reads and hashes the chart, writes the values to a temp directory and runs \`helm template\` (the chart's`,
    `local copy is kept by digest; median of ${RUNS}); cached: the same chart`,
    `digest, values and capabilities again in the same process, no Helm process (median of ${RUNS * 4}; the chart files`,
    `are still read and hashed); \`helm template\` alone: the binary run directly on the chart directory (median of ${RUNS}).`,
    '',
    '| case | cold (ms) | cached (ms) | `helm template` alone (ms) |',
    '|---|---:|---:|---:|',
    ...rows,
  ].join('\n');
};
