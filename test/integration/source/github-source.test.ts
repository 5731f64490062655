import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitHubSource, TARBALL_ATTEMPTS } from '../../../lib/source/github-source.js';
import { LocalGitSource } from '../../../lib/source/local-git-source.js';
import { GitHubApiServer } from '../../github-api-server/server.js';

describe('GitHubSource and LocalGitSource over a real git repository', () => {
  let dir: string;
  let server: GitHubApiServer;
  const shas: string[] = [];
  const git = (...a: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@t', ...a], { encoding: 'utf8' }).trim();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'driftless-source-'));
    git('init', '-q', '-b', 'main');
    writeFileSync(join(dir, 'driftless.yaml'), 'version: 1\n');
    writeFileSync(join(dir, 'a.yaml'), 'a: 1\n');
    git('add', '-A');
    git('commit', '-qm', 'one');
    shas.push(git('rev-parse', 'HEAD'));
    writeFileSync(join(dir, 'b.yaml'), 'b: 1\n');
    git('add', '-A');
    git('commit', '-qm', 'two');
    shas.push(git('rev-parse', 'HEAD'));
    server = new GitHubApiServer('acme/shop', dir);
    await server.start();
  });
  afterAll(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const sources = () => ({
    github: new GitHubSource({ auth: { token: 't' }, baseUrl: server.url }),
    local: new LocalGitSource({ 'acme/shop': dir }),
  });

  it.each(['github', 'local'] as const)('%s: compares a pull request head with its base branch as GitHub does (base head, merge base, files from it)', async (which) => {
    // GIVEN a branch off the first commit, while main moved on to the second
    git('checkout', '-q', '-b', 'pr', shas[0] as string);
    writeFileSync(join(dir, 'c.yaml'), 'c: 1\n');
    git('add', '-A');
    git('commit', '-qm', 'pr');
    const head = git('rev-parse', 'HEAD');
    git('checkout', '-q', 'main');
    // THEN the files are the pull request's own (not main's b.yaml), against main's head now
    expect(await sources()[which].compareHead('acme/shop', 'main', head)).toEqual({ base: shas[1], mergeBase: shas[0], changed: { files: ['c.yaml'], truncated: false } });
    git('branch', '-q', '-D', 'pr');
  });

  it('github: finds the comment with the marker past the first page of 100, edits it in place', async () => {
    const comments = await new GitHubSource({ auth: { token: 't' }, baseUrl: server.url }).pullRequestComments();
    for (let i = 0; i < 120; i++) server.comments.push({ id: 1 + i, issue_number: 9, body: `chatter ${i}`, created_at: '', updated_at: '' });
    expect(await comments.findComment('acme/shop', 9, '<!-- mark -->')).toBeUndefined();
    const id = await comments.createComment('acme/shop', 9, '<!-- mark -->\nfirst');
    expect(await comments.findComment('acme/shop', 9, '<!-- mark -->')).toBe(id);
    await comments.updateComment('acme/shop', id, '<!-- mark -->\nsecond');
    expect(server.comments.filter((c) => c.body.includes('<!-- mark -->')).map((c) => c.body)).toEqual(['<!-- mark -->\nsecond']);
  });

  it.each(['github', 'local'] as const)('%s: resolves the head, the changes since a commit, files and a snapshot', async (which) => {
    const source = sources()[which];
    expect(await source.headAndChanges('acme/shop', 'main')).toMatchObject({ head: shas[1] });
    const since = await source.headAndChanges('acme/shop', 'main', shas[0]);
    expect(since).toMatchObject({ head: shas[1], changed: { files: ['b.yaml'], truncated: false } });
    expect(await source.readFile('acme/shop', shas[0] as string, 'a.yaml')).toBe('a: 1\n');
    expect(await source.readFile('acme/shop', shas[0] as string, 'missing.yaml')).toBeUndefined();
    const tree = await source.snapshot('acme/shop', shas[1] as string);
    expect(await tree.list('')).toEqual(['a.yaml', 'b.yaml', 'driftless.yaml']);
  });

  it('github: downloads a tarball again when the download breaks off mid-body, and names the attempts when it keeps breaking', async () => {
    const source = new GitHubSource({ auth: { token: 't' }, baseUrl: server.url });
    const downloads = () => server.requests.filter((r) => r.path.startsWith('/_codeload/')).length;
    // GIVEN codeload cuts the first download WHEN the snapshot is fetched THEN the second, whole one is used
    let before = downloads();
    server.cutTarballs = 1;
    expect(await (await source.snapshot('acme/shop', shas[1] as string)).list('')).toEqual(['a.yaml', 'b.yaml', 'driftless.yaml']);
    expect(downloads() - before).toBe(2);
    // GIVEN every download is cut THEN it gives up after TARBALL_ATTEMPTS, naming the tarball and the attempts
    before = downloads();
    server.cutTarballs = TARBALL_ATTEMPTS;
    await expect(source.snapshot('acme/shop', shas[1] as string)).rejects.toThrow(
      new RegExp(`^GitHub acme/shop: tarball of ${(shas[1] as string).slice(0, 12)} \\(${TARBALL_ATTEMPTS} attempts\\) failed`),
    );
    expect(downloads() - before).toBe(TARBALL_ATTEMPTS);
    expect(server.cutTarballs).toBe(0);
  });

  it('treats an unknown base as a truncated compare (every target touched)', async () => {
    const r = await sources().github.headAndChanges('acme/shop', 'main', 'f'.repeat(40));
    expect(r).toMatchObject({ head: shas[1], changed: { truncated: true } });
  });

  it('treats a head behind the base (a force-push back) as truncated', async () => {
    const r = await sources().github.headAndChanges('acme/shop', 'main', shas[1]);
    expect(r.changed?.truncated).toBe(false);
    git('branch', '-f', 'old', shas[0] as string);
    const back = await sources().github.headAndChanges('acme/shop', 'old', shas[1]);
    expect(back).toMatchObject({ head: shas[0], changed: { truncated: true } });
  });

  it('authenticates as a GitHub App installation', async () => {
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    server.requests.length = 0;
    const source = new GitHubSource({ auth: { appId: 123, privateKey }, baseUrl: server.url });
    expect(await source.readFile('acme/shop', shas[0] as string, 'a.yaml')).toBe('a: 1\n');
    expect(await source.readFile('acme/shop', shas[1] as string, 'b.yaml')).toBe('b: 1\n');
    const paths = server.requests.map((r) => `${r.method} ${r.path}`);
    expect(paths.filter((p) => p.includes('access_tokens'))).toHaveLength(1);
    expect(server.requests.find((r) => r.path.endsWith('/installation'))?.authorization).toMatch(/^bearer \S+\.\S+\.\S+$/i);
    expect(server.requests.filter((r) => r.path.includes('/contents/')).map((r) => r.authorization)).toEqual(['token ghs_installation_token', 'token ghs_installation_token']);
  });
});
