import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sign } from '@octokit/webhooks-methods';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.js';
import { serve, type Serving } from '../../lib/local/serve.js';
import webhookExamples from '@octokit/webhooks-examples';
import { pushPayload } from '../support/pipeline.js';

/** An IPv4 address of this machine that is not loopback, if it has one. */
const external = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

/** Whether a TCP connection to host:port is accepted. */
const accepts = (host: string, port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect({ host, port, timeout: 5000 });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
    s.once('timeout', () => (s.destroy(), resolve(false)));
  });

describe('driftless serve (demo defaults)', () => {
  let dir: string;
  let serving: Serving;
  const lines: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'driftless-serve-'));
    serving = await serve({ port: 0, pollMs: 3_600_000, cwd: dir, env: {}, print: (l) => lines.push(l) });
    await serving.idle();
  }, 120_000);
  afterAll(async () => {
    await serving?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('syncs the example repository into the sandbox cluster at start', () => {
    expect(lines.some((l) => /sync {3}acme\/shop\/shop-dev [0-9a-f]{7} succeeded — 4 created/.test(l))).toBe(true);
    expect(lines.some((l) => /sync {3}acme\/shop\/shop-prod [0-9a-f]{7} succeeded — 5 created/.test(l))).toBe(true);
    expect(lines.some((l) => /acme\/shop\/network-vpc [0-9a-f]{7} skipped/.test(l))).toBe(true);
  });

  it('keeps its ledger in a file under .driftless/', () => {
    expect(existsSync(join(dir, '.driftless', 'ledger', 'shared-local-instance.db'))).toBe(true);
    expect(lines.some((l) => l.includes(`(kept in ${join(dir, '.driftless', 'ledger')})`))).toBe(true);
  });

  it.skipIf(!external)('answers on 127.0.0.1 only: webhook, Invoke endpoint and DynamoDB Local', async () => {
    const state = JSON.parse(readFileSync(join(dir, '.driftless', 'serve.json'), 'utf8')) as { url: string; invokeUrl: string; dynamoDbEndpoint: string };
    for (const url of [state.url, state.invokeUrl, state.dynamoDbEndpoint]) {
      const port = Number(new URL(url).port);
      expect(await accepts('127.0.0.1', port)).toBe(true);
      expect(await accepts(external as string, port)).toBe(false);
    }
  });

  it('refuses a second serve in the same directory with one line, before touching anything', async () => {
    const kubeconfig = join(dir, '.driftless', 'demo', 'kubeconfig');
    const before = readFileSync(kubeconfig, 'utf8');
    let stderr = '';
    const code = await main(['serve', '--port', '0'], { stdout: () => undefined, stderr: (s) => (stderr += s), cwd: dir, env: {}, isTTY: false });
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/^driftless serve: another driftless serve \(pid \d+\) is running in \S+; stop it first \(lock file \S+serve\.lock\)\n$/);
    expect(readFileSync(kubeconfig, 'utf8')).toBe(before);
    // The first serve still answers.
    expect((await fetch(`${serving.url}/healthz`)).status).toBe(200);
  });

  it('accepts a signed push on /webhook and converges the target to the new head', async () => {
    const repo = join(dir, '.driftless', 'demo', 'shop');
    const file = join(repo, 'deploy', 'overlays', 'dev', 'kustomization.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('LOG_LEVEL=debug', 'LOG_LEVEL=trace'));
    execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qam', 'trace']);
    const head = execFileSync('git', ['-C', repo, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    const body = JSON.stringify(pushPayload('0'.repeat(40), head));
    const res = await fetch(serving.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': 'serve-1', 'x-hub-signature-256': await sign(serving.secret, body) },
      body,
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: 'accepted', targets: ['shop-dev', 'shop-prod', 'network-vpc'] });
    await serving.idle();
    expect(lines.some((l) => l.includes(`acme/shop/shop-dev ${head.slice(0, 7)} succeeded — 1 created, 1 configured, 2 unchanged, 1 deleted`))).toBe(true);
    expect(lines.some((l) => l.includes('acme/shop/shop-prod: not touched by this change'))).toBe(true);
    const quiet = await serving.drift();
    expect(quiet.changes).toEqual([]);
    const bad = await fetch(serving.webhookUrl, { method: 'POST', headers: { 'x-github-event': 'push', 'x-hub-signature-256': 'sha256=00' }, body });
    expect(bad.status).toBe(401);
    const huge = 'x'.repeat(2 * 1024 * 1024);
    const large = await fetch(serving.webhookUrl, { method: 'POST', headers: { 'x-github-event': 'push', 'x-hub-signature-256': await sign(serving.secret, huge) }, body: huge });
    expect(large.status).toBe(413);
    expect(await large.json()).toEqual({ status: 'rejected', reason: 'body larger than 1048576 bytes' });
  });

  it('previews a pull request of the local clone on a pull_request webhook, printing one line, and applies nothing', async () => {
    // GIVEN a branch of the demo clone that changes the dev overlay
    const repo = join(dir, '.driftless', 'demo', 'shop');
    const git = (...a: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@t', ...a], { encoding: 'utf8' }).trim();
    const main = git('rev-parse', 'HEAD');
    git('checkout', '-q', '-b', 'feature');
    const file = join(repo, 'deploy', 'overlays', 'dev', 'kustomization.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('LOG_LEVEL=trace', 'LOG_LEVEL=warn'));
    git('commit', '-qam', 'warn');
    const head = git('rev-parse', 'HEAD');
    git('checkout', '-q', 'main');
    // WHEN GitHub's own pull_request opened payload (@octokit/webhooks-examples) for it is delivered
    const example = structuredClone(
      (webhookExamples as unknown as { name: string; examples: Record<string, unknown>[] }[]).find((e) => e.name === 'pull_request')?.examples.find((e) => e.action === 'opened'),
    ) as Record<string, Record<string, Record<string, unknown>>>;
    const repository = { ...example.repository, full_name: 'acme/shop' };
    const pr = example.pull_request as Record<string, Record<string, unknown>>;
    const body = JSON.stringify({
      ...example,
      repository,
      pull_request: { ...pr, number: 5, head: { ...pr.head, sha: head, repo: repository }, base: { ...pr.base, sha: main, ref: 'main', repo: repository } },
    });
    const res = await fetch(serving.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'pull_request', 'x-github-delivery': 'serve-pr-1', 'x-hub-signature-256': await sign(serving.secret, body) },
      body,
    });
    // THEN 202, one preview line for the touched target, and the cluster still runs main
    expect(res.status).toBe(202);
    await serving.idle();
    const line = lines.find((l) => l.startsWith('preview acme/shop#5'));
    // The stack's last sync was skipped (no AWS access here): the merge would try it again, and it cannot be planned.
    expect(line).toBe(
      `preview acme/shop#5 ${head.slice(0, 7)} into main: failure — 1 of 2 would not sync (shop-dev +1 ~1 -1, network-vpc ✖ not previewed: stack targets need AWS access, which this reconciler is not given)`,
    );
    expect(lines.filter((l) => l.startsWith('sync   acme/shop/shop-dev') && l.includes(head.slice(0, 7)))).toEqual([]);
  });
});

describe('operator commands against a local serve', () => {
  let dir: string;
  let serving: Serving;
  const run = async (argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), cwd: dir, env: { USER: 'alice' }, isTTY: false });
    return { code, stdout, stderr };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'driftless-operator-'));
    serving = await serve({ port: 0, pollMs: 3_600_000, cwd: dir, env: {}, print: () => undefined });
    await serving.idle();
  }, 120_000);
  afterAll(async () => {
    await serving?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('suspends, shows it in status, resumes, and triggers a sync through the reconcile function', async () => {
    expect((await run(['suspend', '--repo', 'acme/shop', '--target', 'shop-dev'])).stdout).toContain('acme/shop/shop-dev suspended');
    expect((await run(['status', '--repo', 'acme/shop'])).stdout).toMatch(/acme\/shop\/shop-dev\s+\S+\s+succeeded\s+\S+ \S+\s+yes/);
    const triggered = await run(['trigger', '--repo', 'acme/shop', '--target', 'shop-dev']);
    expect(triggered.stdout).toContain('triggered acme/shop/shop-dev (main)');
    await serving.idle();
    const [record] = JSON.parse((await run(['history', '--repo', 'acme/shop', '--target', 'shop-dev', '--json', '--limit', '1'])).stdout) as {
      result: string;
      trigger: string;
      error?: { message: string };
    }[];
    expect(record).toMatchObject({ result: 'skipped', trigger: 'trigger', error: { message: 'suspended by alice' } });
    expect((await run(['resume', '--repo', 'acme/shop', '--target', 'shop-dev'])).stdout).toContain('resumed');
    await run(['trigger', '--repo', 'acme/shop', '--target', 'shop-dev']);
    await serving.idle();
    const [again] = JSON.parse((await run(['history', '--repo', 'acme/shop', '--target', 'shop-dev', '--json', '--limit', '1'])).stdout) as { result: string }[];
    expect(again?.result).toBe('succeeded');
  });
});
