import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FileTree } from '../lib/render/file-tree.js';
import { normalizePath } from '../lib/render/file-tree.js';
import { renderPath } from '../lib/render/render.js';
import { GitHubSource } from '../lib/source/github-source.js';
import { GitHubApiServer } from '../test/github-api-server/server.js';
import { median, ms } from './machine.js';

/** A FileTree over GitHub's trees and blobs API: one recursive tree, then one blob request per file read. */
class TreeAndBlobsTree implements FileTree {
  bytes = 0;
  requests = 0;
  private constructor(
    private readonly base: string,
    private readonly entries: Map<string, { sha: string; type: string }>,
  ) {}

  static async load(base: string, sha: string): Promise<TreeAndBlobsTree> {
    const res = await fetch(`${base}/git/trees/${sha}?recursive=1`, { headers: { authorization: 'token t' } });
    const text = await res.text();
    const body = JSON.parse(text) as { tree: { path: string; type: string; sha: string }[] };
    const entries = new Map(body.tree.map((e) => [e.path, { sha: e.sha, type: e.type }]));
    for (const e of body.tree) {
      const parts = e.path.split('/');
      for (let i = 1; i < parts.length; i++) entries.set(parts.slice(0, i).join('/'), { sha: '', type: 'tree' });
    }
    const t = new TreeAndBlobsTree(base, entries);
    t.bytes += text.length;
    t.requests++;
    return t;
  }

  /** The bench's repositories have no symbolic links. */
  realPath(path: string) {
    return normalizePath(path);
  }

  async kind(path: string) {
    const p = normalizePath(path);
    if (p === '') return 'dir' as const;
    const e = p === undefined ? undefined : this.entries.get(p);
    return e ? (e.type === 'blob' ? ('file' as const) : ('dir' as const)) : undefined;
  }

  async read(path: string) {
    const e = this.entries.get(normalizePath(path) ?? '');
    if (!e || e.type !== 'blob') throw new Error(`${path}: no such file`);
    const res = await fetch(`${this.base}/git/blobs/${e.sha}`, { headers: { authorization: 'token t' } });
    const text = await res.text();
    this.bytes += text.length;
    this.requests++;
    return new Uint8Array(Buffer.from((JSON.parse(text) as { content: string }).content, 'base64'));
  }

  async list(path: string) {
    const p = normalizePath(path) ?? '';
    const prefix = p ? `${p}/` : '';
    return [...new Set([...this.entries.keys()].filter((k) => k.startsWith(prefix) && k !== p).map((k) => k.slice(prefix.length).split('/')[0] as string))].sort();
  }
}

/** Tarball versus trees-and-blobs, for the example repository and for a larger one. */
export const benchGitHubFetch = async (): Promise<string> => {
  const rows: string[] = [];
  const root = join(import.meta.dirname, '..');
  const cases: { name: string; copy: [string, string][]; target: string }[] = [
    { name: 'example repository (examples/shop), target shop-prod', copy: [[join(root, 'examples', 'shop'), '.']], target: 'deploy/overlays/prod' },
    {
      name: 'example + the 45-case Kustomize corpus in the same repository',
      copy: [
        [join(root, 'examples', 'shop'), '.'],
        [join(root, 'test', 'fixtures', 'kustomize'), 'other'],
      ],
      target: 'deploy/overlays/prod',
    },
  ];
  for (const c of cases) {
    const dir = mkdtempSync(join(tmpdir(), 'driftless-fetch-'));
    for (const [from, to] of c.copy) cpSync(from, join(dir, to), { recursive: true });
    const git = (...a: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.name=b', '-c', 'user.email=b@b', ...a], { encoding: 'utf8' }).trim();
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('commit', '-qm', 'bench');
    const sha = git('rev-parse', 'HEAD');
    const server = new GitHubApiServer('acme/shop', dir);
    await server.start();
    const source = new GitHubSource({ auth: { token: 't' }, baseUrl: server.url });
    const tarTimes: number[] = [];
    const treeTimes: number[] = [];
    let tarBytes = 0;
    let tree: TreeAndBlobsTree | undefined;
    for (let i = 0; i < 5; i++) {
      server.requests.length = 0;
      let t = performance.now();
      const snap = await source.snapshot('acme/shop', sha);
      await renderPath(snap, c.target);
      tarTimes.push(performance.now() - t);
      tarBytes = execFileSync('git', ['-C', dir, 'archive', '--format=tar.gz', sha]).length;
      t = performance.now();
      tree = await TreeAndBlobsTree.load(`${server.url}/repos/acme/shop`, sha);
      await renderPath(tree, c.target);
      treeTimes.push(performance.now() - t);
    }
    rows.push(
      `| ${c.name} | 1 call, ${(tarBytes / 1024).toFixed(1)} KiB, ${ms(median(tarTimes))} ms | ${tree?.requests} calls, ${((tree?.bytes ?? 0) / 1024).toFixed(1)} KiB, ${ms(median(treeTimes))} ms |`,
    );
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return [
    'What a touched target costs to fetch and render at the head, against the local GitHub REST endpoint (median of 5).',
    'Trees and blobs: one recursive tree, then one blob per file the render reads (found lazily; a kustomization may',
    'read outside its path, so the files cannot be listed in advance).',
    '',
    '| repository | tarball of the commit | trees and blobs |',
    '|---|---|---|',
    ...rows,
    '',
    'driftless fetches the tarball: one call whatever the render reads, where trees and blobs cost one call per file',
    "(and GitHub's rate limit counts calls, not bytes). The tarball grows with the repository; for monorepos far larger",
    'than these, trees and blobs would move fewer bytes at the price of many more calls.',
  ].join('\n');
};
