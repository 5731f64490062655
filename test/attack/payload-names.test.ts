/**
 * Attack suite, names from a payload: a signed push whose `after` is `--output=FILE`, a ref that reads as an
 * option, an invocation event with such a commit, a function name such as `constructor` at the local Invoke
 * endpoint. Each is refused before it reaches `git` or a lookup: no file is written, no hand-off, no ledger
 * record, and the endpoint keeps answering.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileTarget, type ReconcileRequest } from '../../lib/reconcile/reconcile-target.js';
import { LocalGitSource } from '../../lib/source/local-git-source.js';
import { LocalInvokeServer } from '../../lib/local/invoke-server.js';
import { pushPayload, REPO, startPipeline } from '../support/pipeline.js';
import type { Pipeline } from '../support/manifests.js';

const CONFIG = 'version: 1\ntargets:\n  - name: web\n    path: deploy/web\n    cluster: dev\n    namespace: shop-a\n';
const CM = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  k: v\n';

describe('attack: names from a payload never reach git as options', () => {
  let p: Pipeline;
  let head: string;
  let out: string;
  const pwned = (name: string) => join(out, name);

  beforeAll(async () => {
    p = await startPipeline();
    p.dev.createNamespace('shop-a');
    head = p.commit({ 'driftless.yaml': CONFIG, 'deploy/web/cm.yaml': CM });
    out = mkdtempSync(join(tmpdir(), 'driftless-pwn-'));
  }, 120_000);
  afterAll(() => p?.stop());

  const records = async () => (await p.ledger.history({ repository: REPO, limit: 50 })).items;

  it('refuses a signed push whose after is --output=FILE with 400, writing no file and handing nothing off', async () => {
    const res = await p.deliver('push', pushPayload(head, `--output=${pwned('push.tgz')}`));
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('without a valid after');
    expect(existsSync(pwned('push.tgz'))).toBe(false);
    expect(p.invoke.invocations).toEqual([]);
    expect(await records()).toEqual([]);
  });

  it('refuses a push to a ref that reads as an option, and a merged pull request with an option for a commit', async () => {
    const badRef = { ...pushPayload('0'.repeat(40), head), ref: `refs/heads/--output=${pwned('ref.tgz')}` };
    expect((await p.deliver('push', badRef)).status).toBe(400);
    const pr = {
      action: 'closed',
      repository: { full_name: REPO },
      pull_request: { merged: true, merge_commit_sha: `--output=${pwned('pr.tgz')}`, base: { ref: 'main' } },
    };
    expect((await p.deliver('pull_request', pr)).status).toBe(400);
    const prRef = { ...pr, pull_request: { ...pr.pull_request, merge_commit_sha: head, base: { ref: '-c core.pager=touch' } } };
    expect((await p.deliver('pull_request', prRef)).status).toBe(400);
    expect(existsSync(pwned('ref.tgz')) || existsSync(pwned('pr.tgz'))).toBe(false);
    expect(p.invoke.invocations).toEqual([]);
  });

  it('ignores a repository named like an object property', async () => {
    for (const name of ['__proto__', 'constructor', 'toString', '../acme/shop']) {
      const res = await p.deliver('push', pushPayload('0'.repeat(40), head, 'main', name));
      expect(res.status, name).toBe(200);
      expect(JSON.stringify(res.body), name).toContain('is not registered');
    }
    expect(p.invoke.invocations).toEqual([]);
  });

  it('refuses an invocation event whose commit, branch, repository or target is not a name, before any ledger write', async () => {
    const base: ReconcileRequest = { repository: REPO, target: 'web', branch: 'main', trigger: 'webhook' };
    const bad: [Partial<ReconcileRequest>, string][] = [
      [{ commit: `--output=${pwned('event.tgz')}` }, 'is not a commit id'],
      [{ branch: `--output=${pwned('branch.tgz')}` }, 'is not a valid branch name'],
      [{ branch: 'main..other' }, 'is not a valid branch name'],
      [{ repository: '__proto__' }, 'is not a repository'],
      [{ target: '../../x' }, 'is not a target name'],
    ];
    for (const [change, says] of bad) {
      const err = await reconcileTarget({ ...base, ...change }, { ...p.deps, holder: 'attack' }).catch((e: unknown) => e);
      expect(err, JSON.stringify(change)).toBeInstanceOf(Error);
      expect((err as Error).message).toContain(says);
    }
    expect(existsSync(pwned('event.tgz')) || existsSync(pwned('branch.tgz'))).toBe(false);
    expect(await records()).toEqual([]);
    expect(await p.ledger.getState(`${REPO}/web`)).toBeUndefined();
  });

  it('the local git source refuses option-like commits, branches and paths, and treats an odd base as unknown', async () => {
    const local = new LocalGitSource({ [REPO]: p.repoDir });
    await expect(local.snapshot(REPO, `--output=${pwned('snap.tgz')}`)).rejects.toThrow('is not a commit id');
    await expect(local.readFile(REPO, `--output=${pwned('show')}`, 'driftless.yaml')).rejects.toThrow('is not a commit id');
    await expect(local.readFile(REPO, head, '--output=x')).rejects.toThrow('is not a path inside the repository');
    await expect(local.headAndChanges(REPO, `--output=${pwned('head')}`)).rejects.toThrow('is not a valid branch name');
    expect(await local.headAndChanges(REPO, 'main', `--output=${pwned('since')}`)).toEqual({ head, changed: { files: [], truncated: true } });
    await expect(local.headAndChanges('constructor', 'main')).rejects.toThrow('no local clone configured');
    for (const f of ['snap.tgz', 'show', 'head', 'since']) expect(existsSync(pwned(f)), f).toBe(false);
    // What is valid still works.
    expect(await local.readFile(REPO, head, 'driftless.yaml')).toBe(CONFIG);
    expect(await (await local.snapshot(REPO, head)).kind('deploy/web/cm.yaml')).toBe('file');
  });

  it('the GitHub source refuses the same before any request', async () => {
    const before = p.github.requests.length;
    await expect(p.source.snapshot(REPO, `--output=x`)).rejects.toThrow('is not a commit id');
    await expect(p.source.readFile('../../orgs/acme', head, 'driftless.yaml')).rejects.toThrow('is not OWNER/NAME');
    await expect(p.source.headAndChanges(REPO, 'main..x')).rejects.toThrow('is not a valid branch name');
    expect(p.github.requests.length).toBe(before);
  });
});

describe('attack: the local Invoke endpoint answers only the functions it runs', () => {
  const server = new LocalInvokeServer({ reconcile: async (event) => ({ echo: event }) });
  let url: string;
  beforeAll(async () => {
    url = await server.start();
  });
  afterAll(() => server.stop());

  const invoke = (name: string) => fetch(`${url}/2015-03-31/functions/${name}/invocations`, { method: 'POST', body: '{"a":1}' });

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', '%E0%A4%A', 'arn%3Aaws%3Alambda%3Aeu-west-1%3A1%3Afunction%3Aconstructor', 'nope'])(
    'answers %s with 404 ResourceNotFoundException',
    async (name) => {
      const res = await invoke(name);
      expect(res.status).toBe(404);
      expect(res.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
    },
  );

  it('keeps running the function it has, and refuses an oversized payload with 413', async () => {
    const res = await invoke('reconcile');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ echo: { a: 1 } });
    const big = await fetch(`${url}/2015-03-31/functions/reconcile/invocations`, { method: 'POST', body: 'x'.repeat(7 * 1024 * 1024) });
    expect(big.status).toBe(413);
  });

  it('listens on 127.0.0.1 only', () => {
    expect(new URL(url).hostname).toBe('127.0.0.1');
  });
});
