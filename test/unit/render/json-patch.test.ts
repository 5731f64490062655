import { describe, expect, it } from 'vitest';
import { applyJsonPatch } from '../../../lib/render/kustomize/json-patch.js';

describe('applyJsonPatch', () => {
  const doc = { a: { b: [1, 2] }, 'x/y': { '~z': 1 } };

  it.each([
    // [operation, expected]
    [{ op: 'add', path: '/a/b/-', value: 3 }, { a: { b: [1, 2, 3] }, 'x/y': { '~z': 1 } }],
    [{ op: 'add', path: '/a/b/0', value: 0 }, { a: { b: [0, 1, 2] }, 'x/y': { '~z': 1 } }],
    [{ op: 'remove', path: '/x~1y/~0z' }, { a: { b: [1, 2] }, 'x/y': {} }],
    [{ op: 'replace', path: '/a/b/1', value: 9 }, { a: { b: [1, 9] }, 'x/y': { '~z': 1 } }],
    [{ op: 'move', from: '/a/b', path: '/c' }, { a: {}, c: [1, 2], 'x/y': { '~z': 1 } }],
    [{ op: 'copy', from: '/a/b/0', path: '/a/c' }, { a: { b: [1, 2], c: 1 }, 'x/y': { '~z': 1 } }],
    [{ op: 'test', path: '/a/b/0', value: 1 }, doc],
  ] as const)('applies %j', (op, expected) => {
    expect(applyJsonPatch(doc, [op])).toEqual(expected);
  });

  it('leaves the input untouched', () => {
    applyJsonPatch(doc, [{ op: 'remove', path: '/a' }]);
    expect(doc.a.b).toEqual([1, 2]);
  });

  it.each([
    [{ op: 'replace', path: '/missing', value: 1 }, 'does not exist'],
    [{ op: 'remove', path: '/a/b/5' }, 'out of range'],
    [{ op: 'test', path: '/a/b/0', value: 2 }, 'test failed'],
    [{ op: 'add', path: 'a', value: 1 }, 'must start with "/"'],
  ] as const)('fails on %j', (op, message) => {
    expect(() => applyJsonPatch(doc, [op])).toThrow(message);
  });
});
