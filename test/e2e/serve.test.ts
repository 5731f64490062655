import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sign } from '@octokit/webhooks-methods';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type Serving } from '../../lib/local/serve.js';
import { pushPayload } from '../support/pipeline.js';

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
  });
});
