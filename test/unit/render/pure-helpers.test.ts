import { describe, expect, it } from 'vitest';
import { parseEnvFile, toBase64 } from '../../../lib/render/kustomize/generators.js';
import { contentHash, goJson } from '../../../lib/render/kustomize/hash.js';
import { matchesSelector } from '../../../lib/core/label-selector.js';
import { splitImage } from '../../../lib/render/kustomize/transformers.js';
import { splitFieldPath } from '../../../lib/render/kustomize/replacements.js';

describe('contentHash', () => {
  it.each([
    // [object, hash kubectl kustomize gives]
    [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { a: '1', b: '2' } }, '7gdc49gk6d'],
    [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' } }, '6ct58987ht'],
    [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, type: 'Opaque', data: { a: 'MQ==' } }, '25khgmg44c'],
  ])('matches Kustomize for %j', (obj, hash) => {
    expect(contentHash(obj)).toBe(hash);
  });

  it('ignores the name, as Kustomize does', () => {
    const a = contentHash({ kind: 'ConfigMap', metadata: { name: 'a' }, data: { k: 'v' } });
    expect(contentHash({ kind: 'ConfigMap', metadata: { name: 'b' }, data: { k: 'v' } })).toBe(a);
  });
});

describe('goJson', () => {
  it('sorts keys and escapes HTML characters like encoding/json', () => {
    expect(goJson({ b: '<&>', a: '\u2028' })).toBe('{"a":"\\u2028","b":"\\u003c\\u0026\\u003e"}');
  });
});

describe('toBase64', () => {
  it('keeps short values on one line', () => {
    expect(toBase64('s3cr3t')).toBe('czNjcjN0');
  });
  it('wraps long values at 70 characters, each line ending in a newline', () => {
    const out = toBase64('x'.repeat(60));
    expect(out.split('\n').map((l) => l.length)).toEqual([70, 10, 0]);
  });
});

describe('parseEnvFile', () => {
  it('reads KEY=VALUE lines and skips comments and blanks', () => {
    expect(parseEnvFile('\uFEFF# c\nA=1\n\n  B=x=y\nC\n', 'f.env')).toEqual([
      ['A', '1'],
      ['B', 'x=y'],
      ['C', ''],
    ]);
  });
  it('fails on an invalid key with file and line', () => {
    expect(() => parseEnvFile('A=1\n1BAD KEY=2\n', 'f.env')).toThrow('f.env:2: invalid key');
  });
});

describe('matchesSelector', () => {
  const labels = { app: 'web', tier: 'be', canary: 'true' };
  it.each([
    ['app=web', true],
    ['app==web,tier=be', true],
    ['app!=web', false],
    ['tier in (fe, be)', true],
    ['tier notin (be)', false],
    ['canary', true],
    ['!canary', false],
    ['missing', false],
    ['', true],
  ])('%s → %s', (selector, expected) => {
    expect(matchesSelector(selector, labels)).toBe(expected);
  });
});

describe('splitImage', () => {
  it.each([
    ['nginx', ['nginx', '', '']],
    ['nginx:1.25', ['nginx', '1.25', '']],
    ['registry:5000/team/app', ['registry:5000/team/app', '', '']],
    ['registry:5000/team/app:2', ['registry:5000/team/app', '2', '']],
    ['app@sha256:abc', ['app', '', 'sha256:abc']],
    ['app:1@sha256:abc', ['app', '1', 'sha256:abc']],
  ])('%s', (image, parts) => {
    expect(splitImage(image)).toEqual(parts);
  });
});

describe('splitFieldPath', () => {
  it('keeps dots inside brackets', () => {
    expect(splitFieldPath('spec.containers.[name=a.b].image')).toEqual(['spec', 'containers', '[name=a.b]', 'image']);
    expect(splitFieldPath('metadata.annotations.[example.com/x]')).toEqual(['metadata', 'annotations', 'example.com/x']);
  });
});
