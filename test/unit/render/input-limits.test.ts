import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalFileTree, MemoryFileTree } from '../../../lib/render/file-tree.js';
import { checkRenderedObjects, DEFAULT_INPUT_LIMITS, inputLimits } from '../../../lib/render/limits.js';
import { renderPath } from '../../../lib/render/render.js';
import { parseManifests } from '../../../lib/render/yaml-documents.js';
import { treeFromTarball } from '../../../lib/source/tarball.js';

const cm = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } });
const BOMB = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata:\n  a: &a ["x","x","x","x","x","x","x","x","x"]\n  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n  f: [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n`;

describe('inputLimits', () => {
  it('takes the defaults, and each DRIFTLESS_MAX_* variable over them', () => {
    expect(inputLimits({})).toEqual(DEFAULT_INPUT_LIMITS);
    expect(inputLimits({ DRIFTLESS_MAX_OBJECTS: '5', DRIFTLESS_MAX_FILE_BYTES: '1024' })).toMatchObject({ objectsPerTarget: 5, fileBytes: 1024 });
  });
  it('fails on a value that is not a positive integer, naming the variable', () => {
    expect(() => inputLimits({ DRIFTLESS_MAX_OBJECTS: '-1' })).toThrow('DRIFTLESS_MAX_OBJECTS: "-1" is not a positive integer');
  });
});

describe('checkRenderedObjects', () => {
  it('fails on more objects than the limit, naming the path and the limit', () => {
    const limits = { ...DEFAULT_INPUT_LIMITS, objectsPerTarget: 2 };
    expect(() => checkRenderedObjects([cm('a'), cm('b')], 'deploy/x', limits)).not.toThrow();
    expect(() => checkRenderedObjects([cm('a'), cm('b'), cm('c')], 'deploy/x', limits)).toThrow(
      'deploy/x: renders 3 objects, over the limit of 2 per target (DRIFTLESS_MAX_OBJECTS)',
    );
  });
  it('fails on an object larger than the object limit, naming the object', () => {
    const big = { ...cm('big'), metadata: { name: 'big', namespace: 'shop' }, data: { k: 'x'.repeat(2 * 1024 * 1024) } };
    expect(() => checkRenderedObjects([big], 'deploy/x')).toThrow(/deploy\/x: ConfigMap\/shop\/big is 2 MiB as JSON, over the limit of 1\.5 MiB for one object/);
  });
});

describe('parseManifests', () => {
  it('fails on an alias bomb with a render error naming the file', () => {
    expect(() => parseManifests(BOMB, 'deploy/bomb.yaml')).toThrow('deploy/bomb.yaml:1: YAML alias expansion exceeds 1000 aliases');
  });
  it('fails on an alias bomb in a kustomization, naming it', async () => {
    const tree = new MemoryFileTree({
      'k/kustomization.yaml': 'x1: &a [1,1,1,1,1,1,1,1,1]\nx2: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nx3: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nx4: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n',
    });
    await expect(renderPath(tree, 'k')).rejects.toThrow('k/kustomization.yaml: YAML alias expansion exceeds 100 aliases');
  });
});

describe('file limit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'driftless-limits-'));
  mkdirSync(join(dir, 'repo', 'k'), { recursive: true });
  writeFileSync(join(dir, 'repo', 'k', 'kustomization.yaml'), 'resources: [big.yaml]\n');
  writeFileSync(join(dir, 'repo', 'k', 'big.yaml'), `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata: {k: "${'x'.repeat(4096)}"}\n`);
  writeFileSync(join(dir, 'repo', 'small.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: small}\n');

  it('keeps a file over the limit out of a snapshot; reading it fails naming it, the rest reads', async () => {
    const tgz = execFileSync('tar', ['-czf', '-', '-C', dir, 'repo']);
    const { tree } = await treeFromTarball(tgz, { snapshotBytes: 1024 * 1024, fileBytes: 1024 });
    await expect(renderPath(tree, 'k')).rejects.toThrow('k/big.yaml: file is 4.07 KiB, over the limit of 1 KiB for one file (DRIFTLESS_MAX_FILE_BYTES)');
    expect((await renderPath(tree, 'small.yaml')).objects).toHaveLength(1);
  });
  it('refuses a snapshot over the snapshot limit', async () => {
    const tgz = execFileSync('tar', ['-czf', '-', '-C', dir, 'repo']);
    await expect(treeFromTarball(tgz, { snapshotBytes: 1000, fileBytes: 1024 })).rejects.toThrow(
      'snapshot is over the limit of 1000 bytes uncompressed (DRIFTLESS_MAX_SNAPSHOT_BYTES)',
    );
  });
  it('refuses a local file over the limit (the CLI tree)', async () => {
    await expect(renderPath(new LocalFileTree(join(dir, 'repo'), 1024), 'k')).rejects.toThrow('k/big.yaml: file is 4.07 KiB, over the limit');
    rmSync(dir, { recursive: true, force: true });
  });
});
