import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LocalFileTree } from '../lib/render/file-tree.js';
import { renderPath } from '../lib/render/render.js';
import { median, ms } from './machine.js';

/** Renders every conformance case in-process and with `kubectl kustomize`; returns a Markdown section. */
export const benchRender = async (): Promise<string> => {
  const root = join(import.meta.dirname, '..', 'test', 'fixtures', 'kustomize', 'cases');
  const cases = readdirSync(root).sort();
  const tree = new LocalFileTree(root);
  const ITER = 30;
  const KUBECTL_RUNS = 5;
  const ours: number[] = [];
  const theirs: number[] = [];
  const rows: string[] = [];
  for (const name of cases) {
    for (let i = 0; i < 3; i++) await renderPath(tree, name); // warm-up
    const t: number[] = [];
    for (let i = 0; i < ITER; i++) {
      const s = performance.now();
      await renderPath(tree, name);
      t.push(performance.now() - s);
    }
    const k: number[] = [];
    for (let i = 0; i < KUBECTL_RUNS; i++) {
      const s = performance.now();
      execFileSync('kubectl', ['kustomize', join(root, name)], { stdio: ['ignore', 'ignore', 'ignore'] });
      k.push(performance.now() - s);
    }
    const a = median(t);
    const b = median(k);
    ours.push(a);
    theirs.push(b);
    rows.push(`| ${name} | ${ms(a)} | ${ms(b)} | ${(b / a).toFixed(0)}× |`);
    process.stderr.write(`render ${name}: ${ms(a)} ms vs kubectl ${ms(b)} ms\n`);
  }
  const a = median(ours);
  const b = median(theirs);
  return [
    `Every case of the conformance corpus (${cases.length} Kustomize directories in \`test/fixtures/kustomize/cases\`),`,
    `rendered in-process by \`renderPath\` (median of ${ITER} warm runs, files read from disk each time) and by`,
    `\`kubectl kustomize DIR\` (median of ${KUBECTL_RUNS} runs, process start included: what a Lambda would pay to shell out).`,
    '',
    '| | driftless (ms) | kubectl kustomize (ms) | ratio |',
    '|---|---:|---:|---:|',
    `| **median over cases** | **${ms(a)}** | **${ms(b)}** | **${(b / a).toFixed(0)}×** |`,
    ...rows,
  ].join('\n');
};
