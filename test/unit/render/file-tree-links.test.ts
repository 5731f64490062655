import { describe, expect, it } from 'vitest';
import { MemoryFileTree } from '../../../lib/render/file-tree.js';
import { renderPath } from '../../../lib/render/render.js';

const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n`;

describe('symbolic links in a snapshot', () => {
  const tree = () => {
    const t = new MemoryFileTree({ 'a/real.yaml': cm('real'), 'b/c/deep.yaml': cm('deep') });
    t.setLink('a/same.yaml', 'real.yaml');
    t.setLink('a/up.yaml', '../b/c/deep.yaml');
    t.setLink('a/dir', '../b');
    t.setLink('a/abs.yaml', '/etc/hostname');
    t.setLink('a/out.yaml', '../../etc/hostname');
    t.setLink('a/loop1', 'loop2');
    t.setLink('a/loop2', 'loop1');
    t.setLink('a/dangling.yaml', 'nothing.yaml');
    return t;
  };

  it('resolves links inside the tree, through linked directories too', async () => {
    const t = tree();
    expect(t.realPath('a/same.yaml')).toBe('a/real.yaml');
    expect(t.realPath('a/up.yaml')).toBe('b/c/deep.yaml');
    expect(t.realPath('a/dir/c/deep.yaml')).toBe('b/c/deep.yaml');
    expect(await t.kind('a/dir')).toBe('dir');
    expect(await t.list('a/dir')).toEqual(['c']);
    expect(new TextDecoder().decode(await t.read('a/same.yaml'))).toBe(cm('real'));
    expect(await t.kind('a/dangling.yaml')).toBeUndefined();
    expect(t.realPath('a/missing/x.yaml')).toBe('a/missing/x.yaml');
  });

  it('refuses links out of the tree, absolute or relative, and loops', async () => {
    const t = tree();
    expect(t.realPath('a/abs.yaml')).toBeUndefined();
    expect(t.realPath('a/out.yaml')).toBeUndefined();
    await expect(t.read('a/abs.yaml')).rejects.toThrow("security; file 'a/abs.yaml' is not in or below the repository root");
    await expect(t.kind('a/out.yaml')).rejects.toThrow('is not in or below the repository root');
    expect(() => t.realPath('a/loop1')).toThrow('too many levels of symbolic links');
  });

  it('a kustomization may not load a file whose link leads out of its directory', async () => {
    const t = new MemoryFileTree({ 'app/kustomization.yaml': 'resources:\n- cm.yaml\n', 'other/cm.yaml': cm('x') });
    t.setLink('app/cm.yaml', '../other/cm.yaml');
    await expect(renderPath(t, 'app')).rejects.toThrow("app/kustomization.yaml: security; file 'app/cm.yaml' is not in or below 'app'");
  });
});
