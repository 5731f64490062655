import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LocalFileTree } from '../lib/render/file-tree.js';
import { renderPath } from '../lib/render/render.js';
import { writeCrdSet } from './crd-set.js';
import { median, ms } from './machine.js';

const REPO = join(import.meta.dirname, '..');
const CLI = join(REPO, 'bin', 'driftless.js');

/** One process run: wall time and the CPU (user + sys) it used, from /usr/bin/time. */
interface ProcessRun {
  readonly wallMs: number;
  readonly cpuMs: number;
}

/** Runs a command to completion under /usr/bin/time; fails naming the command when it fails. */
const timed = (argv: readonly string[]): ProcessRun => {
  const s = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', ...argv], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', maxBuffer: 1 << 26 });
  const wallMs = performance.now() - s;
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${String(r.status)}: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
  const [user = 0, sys = 0] = (r.stderr.trim().split('\n').at(-1) ?? '').split(' ').map(Number);
  return { wallMs, cpuMs: (user + sys) * 1000 };
};

const runs = (n: number, argv: readonly string[]): ProcessRun[] => Array.from({ length: n }, () => timed(argv));
const driftless = (dir: string): string[] => ['node', CLI, 'render', dir];
const kubectl = (dir: string): string[] => ['kubectl', 'kustomize', dir];

/** In-process renders of one directory: warm runs until 30 are done or 3 s have passed (at least 3). */
const inProcess = async (tree: LocalFileTree, path: string): Promise<number> => {
  await renderPath(tree, path); // warm-up
  const t: number[] = [];
  const start = performance.now();
  while (t.length < 30 && (t.length < 3 || performance.now() - start < 3000)) {
    const s = performance.now();
    await renderPath(tree, path);
    t.push(performance.now() - s);
  }
  return median(t);
};

/**
 * `driftless render` against `kubectl kustomize`: start-up CPU on one ConfigMap, the whole process on every
 * directory of the conformance corpus plus a generated multi-megabyte CRD set, and the in-process render on the
 * slowest tenth (issue #16). Returns a Markdown section.
 */
export const benchRender = async (): Promise<string> => {
  // The CLI as users run it: bin/driftless.js on the compiled dist.
  execFileSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'ignore' });
  const root = join(REPO, 'test', 'fixtures', 'kustomize', 'cases');
  const crdSet = writeCrdSet();
  const one = mkdtempSync(join(tmpdir(), 'driftless-one-configmap-'));
  try {
    writeFileSync(join(one, 'kustomization.yaml'), 'resources:\n- configmap.yaml\n');
    writeFileSync(join(one, 'configmap.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\ndata:\n  key: value\n');
    const START_RUNS = 15;
    const ourStart = runs(START_RUNS, driftless(one));
    const theirStart = runs(START_RUNS, kubectl(one));

    const dirs = [
      ...readdirSync(root)
        .sort()
        .map((n) => ({ name: n, dir: join(root, n) })),
      { name: 'generated CRD set (50 CRDs, 9.5 MB out)', dir: crdSet },
    ];
    const tree = new LocalFileTree('/');
    const PROCESS_RUNS = 3;
    const rows: { name: string; ours: number; theirs: number; inProcess: number; oursCpu: number; theirsCpu: number }[] = [];
    for (const { name, dir } of dirs) {
      const ours = runs(PROCESS_RUNS, driftless(dir));
      const theirs = runs(PROCESS_RUNS, kubectl(dir));
      const row = {
        name,
        ours: median(ours.map((r) => r.wallMs)),
        theirs: median(theirs.map((r) => r.wallMs)),
        oursCpu: median(ours.map((r) => r.cpuMs)),
        theirsCpu: median(theirs.map((r) => r.cpuMs)),
        inProcess: await inProcess(tree, relative('/', dir)),
      };
      rows.push(row);
      process.stderr.write(`render ${name}: process ${ms(row.ours)} ms (in-process ${ms(row.inProcess)}) vs kubectl ${ms(row.theirs)} ms\n`);
    }
    const wallRatios = rows.map((r) => r.theirs / r.ours);
    const cpuRatios = rows.map((r) => r.theirsCpu / r.oursCpu);
    const worst = rows.reduce((a, b) => (b.theirs / b.ours < a.theirs / a.ours ? b : a));
    const slowerWall = rows.filter((r) => r.ours >= r.theirs);
    const slowerCpu = rows.filter((r) => r.oursCpu >= r.theirsCpu);
    const tenth = [...rows].sort((a, b) => b.inProcess - a.inProcess).slice(0, Math.max(1, Math.ceil(rows.length / 10)));
    const tenthRatios = tenth.map((r) => r.theirs / r.inProcess);
    const names = (rs: readonly { name: string }[]): string => (rs.length === 0 ? 'none' : rs.length <= 5 ? rs.map((r) => r.name).join(', ') : `${rs.length} of ${rows.length}`);
    const x = (n: number): string => `${n < 10 ? n.toFixed(1) : n.toFixed(0)}×`;
    const cpu = (xs: readonly ProcessRun[]): string => ms(median(xs.map((r) => r.cpuMs)));
    const wall = (xs: readonly ProcessRun[]): string => ms(median(xs.map((r) => r.wallMs)));
    return [
      'Goals (issue 16): start-up ≤ 250 ms CPU; the whole process faster than `kubectl kustomize` on every directory;',
      'in-process ≥ 20× faster than kubectl on the slowest tenth. `driftless render DIR` runs as users run it',
      '(`node bin/driftless.js`, the bundle `npm run build` writes to `dist/cli`); CPU is user + sys from `/usr/bin/time`.',
      '',
      `**Start-up** (one ConfigMap through a kustomization, median of ${START_RUNS} runs):`,
      '',
      '| | CPU (ms) | wall (ms) |',
      '|---|---:|---:|',
      `| \`driftless render\` | ${cpu(ourStart)} | ${wall(ourStart)} |`,
      `| \`kubectl kustomize\` | ${cpu(theirStart)} | ${wall(theirStart)} |`,
      '',
      `**Whole process per directory** (${rows.length} directories: the ${rows.length - 1} of \`test/fixtures/kustomize/cases\` and`,
      `a generated CRD set from \`bench/crd-set.ts\`; median of ${PROCESS_RUNS} runs each): kubectl's time over driftless's,`,
      `by wall time median ${x(median(wallRatios))}, worst ${x(Math.min(...wallRatios))} (${worst.name});`,
      `by CPU median ${x(median(cpuRatios))}, worst ${x(Math.min(...cpuRatios))}.`,
      `Directories where driftless is not faster: by wall time ${names(slowerWall)}; by CPU ${names(slowerCpu)}.`,
      '',
      `**In-process on the slowest tenth** (${tenth.length} directories with the slowest in-process render, \`renderPath\``,
      `median of up to 30 warm runs, files read from disk each time) against kubectl's whole process: median`,
      `${x(median(tenthRatios))}, worst ${x(Math.min(...tenthRatios))}.`,
      '',
      '| directory | in-process (ms) | driftless process (ms) | kubectl (ms) | process ratio | in-process ratio |',
      '|---|---:|---:|---:|---:|---:|',
      ...rows.map(
        (r) =>
          `| ${r.name}${tenth.includes(r) ? ' (slowest tenth)' : ''} | ${ms(r.inProcess)} | ${ms(r.ours)} | ${ms(r.theirs)} | ${x(r.theirs / r.ours)} | ${x(r.theirs / r.inProcess)} |`,
      ),
    ].join('\n');
  } finally {
    rmSync(crdSet, { recursive: true, force: true });
    rmSync(one, { recursive: true, force: true });
  }
};
