import { describe, expect, it } from 'vitest';
import { applyJsonPatch } from '../../../lib/render/kustomize/json-patch.js';

describe('applyJsonPatch', () => {
  const doc = { a: { b: [1, 2] }, 'x/y': { '~z': 1 } };

  it.each([
    // [operation, expected]
    [
      { op: 'add', path: '/a/b/-', value: 3 },
      { a: { b: [1, 2, 3] }, 'x/y': { '~z': 1 } },
    ],
    [
      { op: 'add', path: '/a/b/0', value: 0 },
      { a: { b: [0, 1, 2] }, 'x/y': { '~z': 1 } },
    ],
    [
      { op: 'remove', path: '/x~1y/~0z' },
      { a: { b: [1, 2] }, 'x/y': {} },
    ],
    [
      { op: 'replace', path: '/a/b/1', value: 9 },
      { a: { b: [1, 9] }, 'x/y': { '~z': 1 } },
    ],
    [
      { op: 'move', from: '/a/b', path: '/c' },
      { a: {}, c: [1, 2], 'x/y': { '~z': 1 } },
    ],
    [
      { op: 'copy', from: '/a/b/0', path: '/a/c' },
      { a: { b: [1, 2], c: 1 }, 'x/y': { '~z': 1 } },
    ],
    [{ op: 'test', path: '/a/b/0', value: 1 }, doc],
  ] as const)('applies %j', (op, expected) => {
    expect(applyJsonPatch(doc, [op])).toEqual(expected);
  });

  it('leaves the input untouched', () => {
    applyJsonPatch(doc, [{ op: 'remove', path: '/a' }]);
    expect(doc.a.b).toEqual([1, 2]);
  });

  it.each([
    // [operation, expected] where Kustomize's json-patch library (evanphx v4) departs from RFC 6902
    [
      { op: 'replace', path: '/a/missing', value: 1 },
      { a: { b: [1, 2], missing: 1 }, 'x/y': { '~z': 1 } },
    ],
    [
      { op: 'add', path: '/a/b/-1', value: 3 },
      { a: { b: [1, 2, 3] }, 'x/y': { '~z': 1 } },
    ],
    [
      { op: 'remove', path: '/a/b/-1' },
      { a: { b: [1] }, 'x/y': { '~z': 1 } },
    ],
    [{ op: 'test', path: '/x~1y', value: { '~z': 1 } }, doc],
  ] as const)('applies %j as Kustomize does', (op, expected) => {
    expect(applyJsonPatch(doc, [op])).toEqual(expected);
  });

  it.each([
    // [operation, message as kubectl kustomize words it]
    [{ op: 'replace', path: '/missing/deep', value: 1 }, 'replace operation does not apply: doc is missing path: /missing/deep: missing value'],
    [{ op: 'replace', path: '/a/b/2', value: 1 }, 'replace operation does not apply: doc is missing key: /a/b/2: missing value'],
    [{ op: 'remove', path: '/a/nope' }, "error in remove for path: '/a/nope': Unable to remove nonexistent key: nope: missing value"],
    [{ op: 'remove', path: '/a/b/5' }, "error in remove for path: '/a/b/5': Unable to access invalid index: 5: invalid index referenced"],
    [{ op: 'add', path: '/a/b/7', value: 1 }, "error in add for path: '/a/b/7': Unable to access invalid index: 7: invalid index referenced"],
    [{ op: 'add', path: '/q/r', value: 1 }, 'add operation does not apply: doc is missing path: "/q/r": missing value'],
    [{ op: 'copy', from: '/a/nope', path: '/c' }, 'copy operation does not apply: doc is missing from path: /a/nope: missing value'],
    [{ op: 'move', from: '/a/nope', path: '/c' }, "error in move for path: 'nope': Unable to remove nonexistent key: nope: missing value"],
    [{ op: 'test', path: '/a/b/0', value: 2 }, 'testing value /a/b/0 failed: test failed'],
    [{ op: 'add', path: 'a', value: 1 }, 'add operation does not apply: doc is missing path: "a"'],
  ] as const)('fails on %j', (op, message) => {
    expect(() => applyJsonPatch(doc, [op])).toThrow(message);
  });
});
