/**
 * Attack suite, load restriction: a repository commits symbolic links that lead out of a kustomization's
 * directory or out of the repository (`/etc/hostname`, `../../../..`). Every file tree refuses them, as
 * Kustomize does: a checkout (the CLI), a `git archive` of a local clone (serve) and GitHub's tarball
 * (Lambda). Links that stay inside are followed, as Kustomize follows them. Pushed, such a commit fails its
 * target with a record and applies nothing.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { FileTree } from '../../lib/render/file-tree.js';
import { LocalFileTree } from '../../lib/render/file-tree.js';
import { renderPath } from '../../lib/render/render.js';
import { LocalGitSource } from '../../lib/source/local-git-source.js';
import { pushPayload, REPO, startPipeline } from '../support/pipeline.js';
import type { Pipeline } from '../support/manifests.js';

const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  k: v\n`;
const FILES: Record<string, string> = {
  'common/cm.yaml': cm('common'),
  'bases/web/kustomization.yaml': 'resources:\n- cm.yaml\n',
  'bases/web/cm.yaml': cm('base-web'),
  'deploy/file-link/kustomization.yaml': 'resources:\n- cm.yaml\n',
  'deploy/gen-link/kustomization.yaml': 'configMapGenerator:\n- name: host\n  files:\n  - h.txt\n',
  'deploy/plain-link/ok.yaml': cm('plain-ok'),
  'deploy/inside-link/kustomization.yaml': 'resources:\n- link.yaml\n',
  'deploy/inside-link/real.yaml': cm('inside'),
  'deploy/dir-link/kustomization.yaml': 'resources:\n- base\n',
  'deploy/fine/cm.yaml': cm('fine'),
};
const LINKS: Record<string, string> = {
  'deploy/file-link/cm.yaml': '../../common/cm.yaml', // inside the repository, outside the kustomization
  'deploy/gen-link/h.txt': '/etc/hostname', // out of the repository, absolute
  'deploy/plain-link/leak.yaml': '../../../../../../../../../../etc/hostname', // out of the repository, relative
  'deploy/inside-link/link.yaml': 'real.yaml', // stays inside: followed
  'deploy/dir-link/base': '../../bases/web', // a directory: a kustomization root of its own, allowed
};
const REFUSED: Record<string, string> = {
  'deploy/file-link': "security; file 'deploy/file-link/cm.yaml' is not in or below 'deploy/file-link'",
  'deploy/gen-link': "security; file 'deploy/gen-link/h.txt' is not in or below 'deploy/gen-link'",
  'deploy/plain-link': "security; file 'deploy/plain-link/leak.yaml' is not in or below the repository root",
};
const BUILT: Record<string, string[]> = { 'deploy/inside-link': ['inside'], 'deploy/dir-link': ['base-web'] };

const CONFIG = `version: 1\ntargets:\n${[...Object.keys(REFUSED), ...Object.keys(BUILT), 'deploy/fine']
  .map((p) => `  - name: ${p.split('/')[1]}\n    path: ${p}\n    cluster: dev\n    namespace: shop-a\n`)
  .join('')}`;

const hasKubectl = (() => {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('attack: symbolic links out of a kustomization or the repository', () => {
  let p: Pipeline;
  let head: string;
  const trees: [string, () => Promise<FileTree>][] = [
    ['a checkout (CLI)', async () => new LocalFileTree(p.repoDir)],
    ['a local clone snapshot (serve)', async () => new LocalGitSource({ [REPO]: p.repoDir }).snapshot(REPO, head)],
    ['a GitHub tarball (Lambda)', async () => p.source.snapshot(REPO, head)],
  ];

  beforeAll(async () => {
    p = await startPipeline();
    p.dev.createNamespace('shop-a');
    p.write({ ...FILES, 'driftless.yaml': CONFIG });
    for (const [link, target] of Object.entries(LINKS)) {
      mkdirSync(dirname(join(p.repoDir, link)), { recursive: true });
      symlinkSync(target, join(p.repoDir, link));
    }
    head = p.commit({});
  }, 120_000);
  afterAll(() => p?.stop());

  describe.each(trees)('in %s', (_name, tree) => {
    it.each(Object.entries(REFUSED))('refuses %s: %s', async (path, says) => {
      const err = await renderPath(await tree(), path).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toContain(says);
    });

    it.each(Object.entries(BUILT))('follows the links of %s that stay inside', async (path, names) => {
      const { objects } = await renderPath(await tree(), path);
      expect(objects.map((o) => (o.metadata as { name?: string } | undefined)?.name)).toEqual(names);
    });
  });

  it.skipIf(!hasKubectl)('agrees with kubectl kustomize: the same refusals, the same objects', () => {
    for (const path of ['deploy/file-link', 'deploy/gen-link']) {
      let stderr = '';
      try {
        execFileSync('kubectl', ['kustomize', join(p.repoDir, path)], { stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (err) {
        stderr = String((err as { stderr?: Buffer }).stderr);
      }
      expect(stderr, path).toContain('security; file');
    }
    for (const [path, names] of Object.entries(BUILT)) {
      const out = execFileSync('kubectl', ['kustomize', join(p.repoDir, path)], { encoding: 'utf8' });
      expect(
        parseAllDocuments(out).map((d) => (d.toJS() as { metadata: { name: string } }).metadata.name),
        path,
      ).toEqual(names);
    }
  });

  it('pushed, each refused target fails with a record and applies nothing; the others sync', async () => {
    expect((await p.deliver('push', pushPayload('0'.repeat(40), head))).status).toBe(202);
    for (const [path, says] of Object.entries(REFUSED)) {
      const target = path.split('/')[1] as string;
      const rec = (await p.ledger.history({ targetId: `${REPO}/${target}`, limit: 1 })).items[0];
      expect(rec?.result, target).toBe('failed');
      expect(rec?.error?.message, target).toContain(says);
    }
    for (const name of ['common', 'plain-ok']) expect(p.dev.get('v1', 'ConfigMap', 'shop-a', name), name).toBeUndefined();
    expect(p.dev.list('v1', 'ConfigMap').some((o) => String((o.metadata as { name?: string } | undefined)?.name).startsWith('host'))).toBe(false);
    for (const name of ['inside', 'base-web', 'fine']) expect(p.dev.get('v1', 'ConfigMap', 'shop-a', name), name).toBeDefined();
  });
});
