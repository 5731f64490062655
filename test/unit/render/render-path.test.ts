import { describe, expect, it } from 'vitest';
import { RenderError } from '../../../lib/core/errors.js';
import { MemoryFileTree } from '../../../lib/render/file-tree.js';
import { renderPath } from '../../../lib/render/render.js';

const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n`;

describe('renderPath', () => {
  it('renders a plain directory recursively, in path order, skipping empty documents', async () => {
    // GIVEN manifests in nested folders, one multi-document file and a List
    const tree = new MemoryFileTree({
      'deploy/b.yaml': `${cm('b1')}---\n---\n${cm('b2')}`,
      'deploy/a.json': JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } }),
      'deploy/sub/c.yml': `apiVersion: v1\nkind: List\nitems:\n- ${cm('c').trimEnd().split('\n').join('\n  ')}\n`,
      'deploy/README.md': '# not a manifest',
    });
    // WHEN the directory is rendered
    const result = await renderPath(tree, 'deploy');
    // THEN every object comes out, and every file read is listed
    expect(result.objects.map((o) => (o.metadata as { name: string }).name)).toEqual(['a', 'b1', 'b2', 'c']);
    expect([...result.files].sort()).toEqual(['deploy/a.json', 'deploy/b.yaml', 'deploy/sub/c.yml']);
  });

  it('renders a subdirectory holding a kustomization as Kustomize', async () => {
    const tree = new MemoryFileTree({
      'deploy/plain.yaml': cm('plain'),
      'deploy/app/kustomization.yaml': 'namePrefix: k-\nresources: [cm.yaml]\n',
      'deploy/app/cm.yaml': cm('x'),
    });
    const result = await renderPath(tree, 'deploy');
    expect(result.objects.map((o) => (o.metadata as { name: string }).name)).toEqual(['k-x', 'plain']);
    expect(result.files.has('deploy/app/kustomization.yaml')).toBe(true);
  });

  it('lists every file a Kustomize build read, base and generator sources included', async () => {
    const tree = new MemoryFileTree({
      'overlay/kustomization.yaml': 'resources: [../base]\nconfigMapGenerator:\n- name: g\n  files: [conf.txt]\n',
      'overlay/conf.txt': 'x',
      'base/kustomization.yaml': 'resources: [cm.yaml]\n',
      'base/cm.yaml': cm('base'),
      'unrelated/cm.yaml': cm('other'),
    });
    const result = await renderPath(tree, 'overlay');
    expect([...result.files].sort()).toEqual(['base/cm.yaml', 'base/kustomization.yaml', 'overlay/conf.txt', 'overlay/kustomization.yaml']);
  });

  it.each([
    // [case, files, path, message]
    ['invalid YAML names file and line', { 'd/a.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [x\n' }, 'd', 'd/a.yaml:'],
    ['a document without kind', { 'd/a.yaml': 'apiVersion: v1\nmetadata:\n  name: x\n' }, 'd', 'd/a.yaml:1: missing kind'],
    ['a missing path', {}, 'nope', 'nope: no such file or directory'],
    ['a path leaving the tree', {}, '../x', 'path leaves the repository'],
  ])('fails on %s', async (_case, files, path, message) => {
    const err = await renderPath(new MemoryFileTree(files), path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RenderError);
    expect((err as Error).message).toContain(message);
  });

  it('warns about a patch target that selects nothing, as Kustomize builds it anyway', async () => {
    const tree = new MemoryFileTree({
      'k/kustomization.yaml': 'resources: [cm.yaml]\npatches:\n- target: {kind: Deployment}\n  patch: "[]"\n',
      'k/cm.yaml': cm('x'),
    });
    const result = await renderPath(tree, 'k');
    expect(result.warnings).toEqual(['k/kustomization.yaml: patches[0] selects no resource (kind=Deployment)']);
  });
});
