import { describe, expect, it } from 'vitest';
import { strategicMerge } from '../../../lib/render/kustomize/strategic-merge.js';

const deployment = (containers: unknown[]) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web' },
  spec: { template: { spec: { containers } } },
});
const containersOf = (o: unknown) => (o as ReturnType<typeof deployment>).spec.template.spec.containers;

describe('strategicMerge', () => {
  it('merges containers by name, patch elements first, untouched ones after', () => {
    // GIVEN two containers WHEN a patch adds one and changes one
    const out = strategicMerge(
      deployment([
        { name: 'web', image: 'a' },
        { name: 'side', image: 's' },
      ]),
      deployment([
        { name: 'new', image: 'n' },
        { name: 'web', image: 'b' },
      ]),
      'Deployment',
      'apps',
    );
    // THEN the order is Kustomize's
    expect(containersOf(out)).toEqual([
      { name: 'new', image: 'n' },
      { name: 'web', image: 'b' },
      { name: 'side', image: 's' },
    ]);
  });

  it.each([
    // [case, target value, patch value, expected]
    ['null deletes a field', { a: 1, b: 2 }, { a: null }, { b: 2 }],
    ['maps merge deeply', { a: { x: 1 } }, { a: { y: 2 } }, { a: { x: 1, y: 2 } }],
    ['$patch: replace replaces a map', { a: { x: 1 } }, { a: { $patch: 'replace', y: 2 } }, { a: { y: 2 } }],
    ['scalars lists are replaced', { args: ['a', 'b'] }, { args: ['c'] }, { args: ['c'] }],
    ['$retainKeys keeps only the named keys', { v: { a: 1, b: 2, c: 3 } }, { v: { $retainKeys: ['a', 'c'], c: 4 } }, { v: { a: 1, c: 4 } }],
  ])('%s', (_case, target, patch, expected) => {
    expect(strategicMerge({ kind: 'ConfigMap', ...target }, { kind: 'ConfigMap', ...patch }, 'ConfigMap', '')).toEqual({
      kind: 'ConfigMap',
      ...expected,
    });
  });

  it('deletes an element with $patch: delete', () => {
    const out = strategicMerge(deployment([{ name: 'web' }, { name: 'side' }]), deployment([{ name: 'side', $patch: 'delete' }]), 'Deployment', 'apps');
    expect(containersOf(out)).toEqual([{ name: 'web' }]);
  });

  it('deletes the whole object with a top-level $patch: delete', () => {
    expect(strategicMerge({ kind: 'ConfigMap', data: {} }, { kind: 'ConfigMap', $patch: 'delete' }, 'ConfigMap', '')).toBeUndefined();
  });

  it('replaces lists of custom resources, which have no schema', () => {
    const out = strategicMerge(
      { kind: 'Widget', spec: { parts: [{ name: 'a' }, { name: 'b' }] } },
      { kind: 'Widget', spec: { parts: [{ name: 'b', size: 1 }] } },
      'Widget',
      'example.com',
    );
    expect(out).toEqual({ kind: 'Widget', spec: { parts: [{ name: 'b', size: 1 }] } });
  });

  it('merges container ports on containerPort and protocol when a protocol is set', () => {
    const out = strategicMerge(
      deployment([{ name: 'web', ports: [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 9090 }] }]),
      deployment([{ name: 'web', ports: [{ containerPort: 443 }, { containerPort: 9090, name: 'm' }] }]),
      'Deployment',
      'apps',
    );
    expect(containersOf(out)).toEqual([{ name: 'web', ports: [{ containerPort: 443 }, { containerPort: 80, protocol: 'TCP' }, { containerPort: 9090, name: 'm' }] }]);
  });

  it('unions finalizers', () => {
    const out = strategicMerge({ kind: 'ConfigMap', metadata: { finalizers: ['a'] } }, { kind: 'ConfigMap', metadata: { finalizers: ['b', 'a'] } }, 'ConfigMap', '');
    expect(out).toEqual({ kind: 'ConfigMap', metadata: { finalizers: ['a', 'b'] } });
  });
});
