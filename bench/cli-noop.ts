import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type AddressInfo } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { stringify } from 'yaml';
import { KubeApiServer } from '../test/kube-api-server/server.js';
import { median, ms } from './machine.js';

const REPO = join(import.meta.dirname, '..');
const CLI = join(REPO, 'bin', 'driftless.js');
const LATENCY_MS = 2;
const RUNS = 3;
const PER_OBJECT = new Set(['get', 'dry-run apply', 'apply', 'patch', 'delete']);

/** One process run: wall time, the CPU (user + sys) it used from /usr/bin/time, and its exit code. */
interface ProcessRun {
  readonly wallMs: number;
  readonly cpuMs: number;
}

/**
 * Runs a command under /usr/bin/time, asynchronously (the sandbox API server answers from this process); fails
 * naming the command when its exit code is not one of `ok`.
 */
const timed = (argv: readonly string[], env: NodeJS.ProcessEnv, ok: readonly number[] = [0]): Promise<ProcessRun> =>
  new Promise((resolve, reject) => {
    const s = performance.now();
    const child = spawn('/usr/bin/time', ['-f', '%U %S', ...argv], { stdio: ['ignore', 'ignore', 'pipe'], env });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - s;
      if (code === null || !ok.includes(code)) {
        reject(new Error(`${argv.join(' ')}: exit ${String(code)}: ${stderr.trim().split('\n').slice(-4).join(' ')}`));
        return;
      }
      const [user = 0, sys = 0] = (stderr.trim().split('\n').at(-1) ?? '').split(' ').map(Number);
      resolve({ wallMs, cpuMs: (user + sys) * 1000 });
    });
  });

/**
 * A TLS front for the sandbox API server (kubectl sends no bearer token over plain HTTP): a self-signed
 * certificate for 127.0.0.1 from openssl, and a TLS listener that pipes each connection to the HTTP port.
 * Undefined (and why) when openssl or kubectl is missing.
 */
const tlsFront = async (dir: string, httpUrl: string): Promise<{ server: TlsServer; url: string; ca: string } | { skip: string }> => {
  for (const tool of ['kubectl', 'openssl']) {
    if (spawnSync(tool, tool === 'kubectl' ? ['version', '--client'] : ['version'], { stdio: 'ignore' }).status !== 0) return { skip: `${tool} is not installed` };
  }
  const key = join(dir, 'tls.key');
  const cert = join(dir, 'tls.crt');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
    { stdio: 'ignore' },
  );
  const port = Number(new URL(httpUrl).port);
  const server = createTlsServer({ key: readFileSync(key), cert: readFileSync(cert), ALPNProtocols: ['http/1.1'] }, (socket) => {
    // No Nagle delay on either leg (the API server's own sockets have none either).
    const upstream = connect({ port, host: '127.0.0.1', noDelay: true });
    socket.setNoDelay(true);
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, ca: readFileSync(cert).toString('base64') };
};

const deployments = (n: number, changed = -1): string =>
  Array.from({ length: n }, (_, i) =>
    stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: `app-${i}` },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: `app-${i}` } },
        template: { metadata: { labels: { app: `app-${i}` } }, spec: { containers: [{ name: 'app', image: i === changed ? 'nginx:1.27' : 'nginx:1.25' }] } },
      },
    }),
  ).join('---\n');
const configMaps = (n: number): string =>
  Array.from({ length: n }, (_, i) => stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}` }, data: { i: String(i) } })).join('---\n');

const fmtCounts = (c: Record<string, number>): string =>
  Object.entries(c)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || 'none';

/**
 * Issue 17's whole-process rows: `node bin/driftless.js sync|diff|drift` as a child process against the sandbox
 * API server served over loopback HTTP with 2 ms of latency per request, no ledger (the local observation cache),
 * wall and CPU per run. Returns a Markdown section.
 */
export const benchCliNoop = async (): Promise<string> => {
  // The CLI as users run it: bin/driftless.js on the bundle `npm run build` writes.
  execFileSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'ignore' });
  const server = new KubeApiServer({ latencyMs: LATENCY_MS, simulateControllers: true });
  await server.start();
  const dir = mkdtempSync(join(tmpdir(), 'driftless-bench-cli-'));
  try {
    const repo = join(dir, 'repo');
    mkdirSync(join(repo, 'deploy'), { recursive: true });
    mkdirSync(join(repo, 'cms'), { recursive: true });
    writeFileSync(
      join(repo, 'driftless.yaml'),
      'version: 1\ntargets:\n  - name: web\n    path: deploy\n    cluster: test\n    namespace: bench-web\n  - name: cms\n    path: cms\n    cluster: test\n    namespace: bench-cms\n',
    );
    writeFileSync(join(repo, 'deploy', 'deployments.yaml'), deployments(100));
    writeFileSync(join(repo, 'cms', 'configmaps.yaml'), configMaps(2000));
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, server.kubeconfig());
    for (const ns of ['bench-web', 'bench-cms']) server.createNamespace(ns);
    const cache = join(dir, 'cache');
    const env = (cacheDir: string): NodeJS.ProcessEnv => {
      const e: NodeJS.ProcessEnv = { ...process.env, DRIFTLESS_CACHE_DIR: cacheDir, NO_COLOR: '1' };
      delete e.DRIFTLESS_TABLE;
      delete e.DRIFTLESS_REGISTRY;
      return e;
    };
    const flags = ['--repo', repo, '--repository', 'bench/cli', '--kubeconfig', kubeconfig, '--context', 'test'];
    const cli = (args: readonly string[], cacheDir = cache, ok: readonly number[] = [0]) => timed(['node', CLI, ...args, ...flags], env(cacheDir), ok);
    let fresh = 0;
    const emptyCache = () => join(dir, `empty-${++fresh}`);

    const rows: string[] = [];
    const measure = async (name: string, objects: number, run: () => Promise<ProcessRun>, runs = RUNS) => {
      const got: ProcessRun[] = [];
      let counts: Record<string, number> = {};
      for (let r = 0; r < runs; r++) {
        server.resetLog();
        got.push(await run());
        counts = server.counts();
      }
      const perObject = Object.entries(counts)
        .filter(([v]) => PER_OBJECT.has(v))
        .reduce((n, [, c]) => n + c, 0);
      const wall = median(got.map((g) => g.wallMs));
      const cpu = median(got.map((g) => g.cpuMs));
      rows.push(`| ${name} | ${objects} | ${fmtCounts(counts)} | ${perObject} | ${ms(wall)} | ${ms(cpu)} |`);
      process.stderr.write(`cli-noop ${name}: ${fmtCounts(counts)}; wall ${ms(wall)} ms, cpu ${ms(cpu)} ms\n`);
    };

    // 100 Deployments: created, then synced once more after the simulated controller's status writes.
    await cli(['sync', '--target', 'web']);
    await new Promise((r) => setTimeout(r, 500));
    await cli(['sync', '--target', 'web']);
    await measure('`driftless sync`, 100 Deployments, nothing changed', 100, () => cli(['sync', '--target', 'web']));
    await measure('  without the local observation cache', 100, () => cli(['sync', '--target', 'web'], emptyCache()));
    writeFileSync(join(repo, 'deploy', 'deployments.yaml'), deployments(100, 42));
    await measure('`driftless diff`, one of 100 Deployments changed in Git', 100, () => cli(['diff', '--target', 'web'], cache, [1]));
    await measure('  without the local observation cache', 100, () => cli(['diff', '--target', 'web'], emptyCache(), [1]));
    writeFileSync(join(repo, 'deploy', 'deployments.yaml'), deployments(100));

    // 2,000 ConfigMaps: created (not a row), then drift-checked.
    await cli(['sync', '--target', 'cms']);
    await measure('`driftless drift`, 2,000 unchanged ConfigMaps', 2000, () => cli(['drift', '--target', 'cms']));
    await measure('  without the local observation cache', 2000, () => cli(['drift', '--target', 'cms'], emptyCache()), 1);

    // Side by side with kubectl, both over TLS (see tlsFront), kubectl's copies in namespaces of their own.
    const side: string[] = [];
    const front = await tlsFront(dir, server.url);
    let kubectlNote: string;
    if ('skip' in front) kubectlNote = `kubectl is not measured here: ${front.skip}.`;
    else {
      try {
        const tlsConfig = join(dir, 'kubeconfig-tls');
        writeFileSync(tlsConfig, server.kubeconfig().replace(server.url, front.url).replace('insecure-skip-tls-verify: true', `certificate-authority-data: ${front.ca}`));
        for (const ns of ['kubectl-web', 'kubectl-cms']) server.createNamespace(ns);
        const files = { web: join(dir, 'k-web.yaml'), changed: join(dir, 'k-web-changed.yaml'), cms: join(dir, 'k-cms.yaml') };
        writeFileSync(files.web, deployments(100));
        writeFileSync(files.changed, deployments(100, 42));
        writeFileSync(files.cms, configMaps(2000));
        const tlsFlags = flags.map((f) => (f === kubeconfig ? tlsConfig : f));
        const ours = (args: readonly string[], ok: readonly number[] = [0]) => timed(['node', CLI, ...args, ...tlsFlags], env(cache), ok);
        // The sandbox serves no OpenAPI documents: kubectl's client-side validation is off (--validate=false).
        const kubectl = (args: readonly string[], ok: readonly number[] = [0]) => timed(['kubectl', '--kubeconfig', tlsConfig, ...args], env(cache), ok);
        const apply = (ns: string, file: string) => kubectl(['apply', '--server-side', '--validate=false', '--force-conflicts', '-n', ns, '-f', file]);
        await apply('kubectl-web', files.web);
        await apply('kubectl-cms', files.cms);
        await new Promise((r) => setTimeout(r, 500));
        // The cache is per API server URL: one sync of each target over TLS records it for this one.
        await ours(['sync', '--target', 'web']);
        await ours(['sync', '--target', 'cms']);
        const sample = async (run: () => Promise<ProcessRun>) => {
          const got: ProcessRun[] = [];
          let counts: Record<string, number> = {};
          for (let r = 0; r < RUNS; r++) {
            server.resetLog();
            got.push(await run());
            counts = server.counts();
          }
          return { wall: median(got.map((g) => g.wallMs)), cpu: median(got.map((g) => g.cpuMs)), counts };
        };
        const pair = async (name: string, a: () => Promise<ProcessRun>, b: () => Promise<ProcessRun>) => {
          const [x, y] = [await sample(a), await sample(b)];
          side.push(`| ${name} | ${ms(x.wall)} | ${ms(x.cpu)} | ${fmtCounts(x.counts)} | ${ms(y.wall)} | ${ms(y.cpu)} | ${fmtCounts(y.counts)} |`);
          process.stderr.write(`cli-noop vs kubectl ${name}: ours ${ms(x.wall)} ms (cpu ${ms(x.cpu)}), kubectl ${ms(y.wall)} ms (cpu ${ms(y.cpu)})\n`);
        };
        await pair(
          '`sync` / `apply --server-side`, 100 Deployments, nothing changed',
          () => ours(['sync', '--target', 'web']),
          () => apply('kubectl-web', files.web),
        );
        writeFileSync(join(repo, 'deploy', 'deployments.yaml'), deployments(100, 42));
        await pair(
          '`diff` / `diff --server-side`, one of 100 Deployments changed',
          () => ours(['diff', '--target', 'web'], [1]),
          () => kubectl(['diff', '--server-side', '--force-conflicts', '-n', 'kubectl-web', '-f', files.changed], [1]),
        );
        writeFileSync(join(repo, 'deploy', 'deployments.yaml'), deployments(100));
        await pair(
          '`drift` / `diff --server-side`, 2,000 unchanged ConfigMaps',
          () => ours(['drift', '--target', 'cms']),
          () => kubectl(['diff', '--server-side', '--force-conflicts', '-n', 'kubectl-cms', '-f', files.cms], [0, 1]),
        );
        kubectlNote = [
          'Side by side with kubectl (`kubectl version --client`: ' +
            `${spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).stdout.split('\n')[0]?.replace('Client Version: ', '') ?? '?'}). kubectl sends no bearer`,
          'token over plain HTTP, so both go through a TLS front (a self-signed certificate, a TLS listener in the benchmark',
          "piping to the sandbox's port); kubectl's copies of the objects live in namespaces of their own, and its",
          'client-side validation is off (`--validate=false`: the sandbox serves no OpenAPI documents). kubectl applies',
          'and dry-runs one object after another; driftless sends no request for an object unchanged since it last saw it.',
        ].join('\n');
      } finally {
        front.server.close();
      }
    }

    // Start-up alone: the command's help (parses flags, loads nothing else).
    const start: ProcessRun[] = [];
    for (let i = 0; i < 5; i++) start.push(await timed(['node', CLI, 'sync', '--help'], env(cache)));
    return [
      'Goals (issue 17, whole CLI process on the sandbox): no-op `driftless sync` of 100 Deployments ≤ 0.5 s, `driftless diff`',
      'after one change ≤ 0.4 s, `driftless drift` of 2,000 unchanged objects ≤ 2 s. Each row runs `node bin/driftless.js`',
      `(the bundle \`npm run build\` writes) as a child process against the sandbox API server (lib/local/sandbox-cluster) served`,
      `over loopback HTTP with ${LATENCY_MS} ms of latency per request, kubeconfig in a temp file, no ledger (DRIFTLESS_TABLE unset):`,
      'observations between runs are kept in the local cache (DRIFTLESS_CACHE_DIR). "Without the local observation cache" gives',
      `each run an empty cache: one dry run per object, as every CLI run without a ledger paid before. Wall and CPU (user + sys of`,
      `the process, /usr/bin/time) are medians of ${RUNS} runs (1 for the large "without" row), on a shared machine (1-minute load`,
      `average ${loadavg()[0]?.toFixed(1) ?? '?'} at the end): request counts are exact, times indicative. The sandbox runs in the benchmark's`,
      `own process; its CPU is not in the CPU column. Start-up (\`driftless sync --help\`, median of 5): wall ${ms(median(start.map((s) => s.wallMs)))} ms,`,
      `CPU ${ms(median(start.map((s) => s.cpuMs)))} ms.`,
      '',
      '| run | objects | API requests by verb | per-object requests | wall (ms) | CPU (ms) |',
      '|---|---:|---|---:|---:|---:|',
      ...rows,
      '',
      kubectlNote,
      ...(side.length
        ? [
            '',
            '| work | driftless wall (ms) | driftless CPU (ms) | driftless requests | kubectl wall (ms) | kubectl CPU (ms) | kubectl requests |',
            '|---|---:|---:|---|---:|---:|---|',
            ...side,
          ]
        : []),
    ].join('\n');
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
};
