import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { helmBinary } from '../../lib/render/helm/helm-binary.js';

/** Runs the Helm driftless uses, with a private home (for packaging and pushing test charts). */
export const helmCli = (args: string[], home: string): string =>
  execFileSync(helmBinary().path, args, {
    encoding: 'utf8',
    env: { HOME: home, PATH: '', HELM_CONFIG_HOME: join(home, 'config'), HELM_CACHE_HOME: join(home, 'cache'), HELM_DATA_HOME: join(home, 'data') },
  });

/** Packages chart directories with `helm package` into a new directory. */
export const packageCharts = (chartDirs: string[]): { dir: string; home: string } => {
  const home = mkdtempSync(join(tmpdir(), 'driftless-helm-test-'));
  const dir = join(home, 'packages');
  mkdirSync(dir);
  for (const c of chartDirs) helmCli(['package', c, '--destination', dir], home);
  return { dir, home };
};

/** A free TCP port on 127.0.0.1. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createNetServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

/**
 * A chart repository over HTTP on 127.0.0.1: charts packaged by `helm package`, indexed by `helm repo index`.
 * `requests` counts requests by path; `auth` asks for basic credentials.
 */
export const startHttpChartRepository = async (chartDirs: string[], options: { auth?: { username: string; password: string } } = {}) => {
  const { dir, home } = packageCharts(chartDirs);
  const requests = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0] as string);
    requests.set(path, (requests.get(path) ?? 0) + 1);
    if (options.auth) {
      const want = `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`;
      if (req.headers.authorization !== want) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="charts"' }).end();
        return;
      }
    }
    const file = join(dir, path.replace(/^\/+/, ''));
    if (!path.includes('..') && existsSync(file) && !path.endsWith('/')) res.writeHead(200).end(readFileSync(file));
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  helmCli(['repo', 'index', dir, '--url', url], home);
  return {
    url,
    dir,
    requests,
    /** Rewrites index.yaml (e.g. to break a digest). */
    editIndex: (fn: (text: string) => string) => writeFileSync(join(dir, 'index.yaml'), fn(readFileSync(join(dir, 'index.yaml'), 'utf8'))),
    packages: () => readdirSync(dir).filter((f) => f.endsWith('.tgz')),
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(home, { recursive: true, force: true });
    },
  };
};

/**
 * A local OCI registry: Debian's `docker-registry` (the CNCF distribution registry) on a free loopback port,
 * plain HTTP, storage in a temp directory. Charts are pushed with `helm push --plain-http`.
 */
export const startOciRegistry = async () => {
  const bin = ['/usr/bin/docker-registry', '/usr/sbin/docker-registry'].find((p) => existsSync(p));
  if (!bin) throw new Error('docker-registry is not installed: run `apt-get install docker-registry` (scripts/ci-install.sh does it in CI)');
  const home = mkdtempSync(join(tmpdir(), 'driftless-oci-'));
  const port = await freePort();
  const config = join(home, 'config.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(home, 'data')}`,
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '',
    ].join('\n'),
  );
  const proc: ChildProcess = spawn(bin, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const host = `127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ok = await fetch(`http://${host}/v2/`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill();
      throw new Error(`docker-registry did not start: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host,
    /** Packages a chart and pushes it to oci://HOST/PATH. */
    push(chartDir: string, path = 'charts') {
      const { dir, home: h } = packageCharts([chartDir]);
      for (const f of readdirSync(dir)) helmCli(['push', join(dir, f), `oci://${host}/${path}`, '--plain-http'], h);
      rmSync(h, { recursive: true, force: true });
    },
    async stop() {
      proc.kill();
      await new Promise((r) => (proc.exitCode !== null ? r(undefined) : proc.once('exit', r)));
      rmSync(home, { recursive: true, force: true });
    },
  };
};
