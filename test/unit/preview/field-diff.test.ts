import { describe, expect, it } from 'vitest';
import { fieldChanges, formatFieldChange } from '../../../lib/preview/field-diff.js';

const deploy = (image: string, replicas = 2, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop', resourceVersion: '7', managedFields: [{ manager: 'x' }], labels: { app: 'web' } },
  spec: {
    replicas,
    template: {
      spec: {
        containers: [
          { name: 'sidecar', image: 'envoy:1' },
          { name: 'web', image, ...extra },
        ],
      },
    },
  },
  status: { readyReplicas: 2 },
});

describe('fieldChanges', () => {
  it('names each changed leaf by its path, lists by merge key, server fields and status left out', () => {
    const live = deploy('web:1');
    const desired = { ...deploy('web:2', 3, { env: [{ name: 'A', value: '1' }] }), metadata: { ...deploy('x').metadata, resourceVersion: '8' }, status: {} };
    expect(fieldChanges(live, desired)).toEqual([
      { path: 'spec.replicas', from: 2, to: 3 },
      { path: 'spec.template.spec.containers[name=web].image', from: 'web:1', to: 'web:2' },
      { path: 'spec.template.spec.containers[name=web].env', to: [{ name: 'A', value: '1' }] },
    ]);
  });

  it('shows every field of a created object as added', () => {
    const changes = fieldChanges(undefined, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { k: 'v' } });
    expect(changes.map(formatFieldChange)).toEqual(['apiVersion: + v1', 'kind: + ConfigMap', 'metadata: + {"name":"a"}', 'data: + {"k":"v"}']);
  });

  it('never shows a Secret value: changed, added and removed keys read <hidden>', () => {
    const live = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { password: 'c2VjcmV0LW9uZQ==', old: 'b2xk' } };
    const desired = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { password: 'c2VjcmV0LXR3bw==', token: 'dG9r' }, stringData: { extra: 'plain-value' } };
    const text = JSON.stringify(fieldChanges(live, desired));
    expect(fieldChanges(live, desired)).toEqual([
      { path: 'data.password', from: '<hidden>', to: '<hidden>' },
      { path: 'data.token', to: '<hidden>' },
      { path: 'data.old', from: '<hidden>' },
      { path: 'stringData.extra', to: '<hidden>' },
    ]);
    for (const v of ['c2VjcmV0', 'b2xk', 'dG9r', 'plain-value']) expect(text).not.toContain(v);
  });

  it('finds nothing when only server fields differ', () => {
    const a = deploy('web:1');
    const b = { ...deploy('web:1'), metadata: { ...a.metadata, resourceVersion: '99', managedFields: [] }, status: { readyReplicas: 0 } };
    expect(fieldChanges(a, b)).toEqual([]);
  });
});
