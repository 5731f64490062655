import { describe, expect, it } from 'vitest';
import { parseRegistry } from '../../../lib/config/load-config.js';
import { clusterScopedGranted, grantRefusal, kubernetesGrant, prunableKinds, repositoryGrant, type KubernetesGrant } from '../../../lib/config/registry-check.js';
import { takeOver, TARGET_ID_ANNOTATION, TARGET_LABEL, targetLabelValue } from '../../../lib/core/ownership.js';

const grant: KubernetesGrant = {
  repository: 'acme/shop',
  namespaces: ['shop-*'],
  clusterScoped: ['ClusterRole', 'example.com/Widget'],
  adopt: false,
  pruneKinds: ['PersistentVolumeClaim'],
};
const rbac = 'rbac.authorization.k8s.io';

describe('grantRefusal', () => {
  it.each([
    // [what, ref, namespaced, refusal or undefined]
    ['a namespaced object in a granted namespace', { group: 'apps', kind: 'Deployment', namespace: 'shop-a', name: 'web' }, true, undefined],
    [
      'a namespaced object elsewhere',
      { group: '', kind: 'Secret', namespace: 'kube-system', name: 's' },
      true,
      'Secret/kube-system/s: namespace "kube-system" is not allowed for acme/shop (registry namespaces)',
    ],
    ['a Namespace matching the patterns', { group: '', kind: 'Namespace', name: 'shop-a' }, false, undefined],
    [
      'a Namespace outside them',
      { group: '', kind: 'Namespace', name: 'default' },
      false,
      'Namespace/default: namespace "default" is not allowed for acme/shop (registry namespaces)',
    ],
    ['a granted built-in kind', { group: rbac, kind: 'ClusterRole', name: 'r' }, false, undefined],
    [
      'an ungranted built-in kind',
      { group: rbac, kind: 'ClusterRoleBinding', name: 'admin-all' },
      false,
      'ClusterRoleBinding/admin-all: cluster-scoped kind ClusterRoleBinding is not granted to acme/shop (registry clusterScoped)',
    ],
    ['a granted custom kind', { group: 'example.com', kind: 'Widget', name: 'w' }, false, undefined],
    [
      'a custom kind named like a granted built-in',
      { group: 'evil.example.com', kind: 'ClusterRole', name: 'r' },
      false,
      'ClusterRole/r: cluster-scoped kind evil.example.com/ClusterRole is not granted to acme/shop (registry clusterScoped)',
    ],
    ['a namespaced object without a namespace', { group: '', kind: 'ConfigMap', name: 'c' }, true, 'ConfigMap/c: a namespaced object without a namespace'],
  ])('%s', (_what, ref, namespaced, refusal) => {
    expect(grantRefusal(ref, namespaced, grant)).toBe(refusal);
  });

  it('takes scope from the caller, not from the kind: a cluster-scoped custom resource needs clusterScoped', () => {
    const ref = { group: 'other.example.com', kind: 'Gizmo', name: 'g' };
    expect(grantRefusal(ref, false, grant)).toContain('cluster-scoped kind other.example.com/Gizmo is not granted');
    expect(grantRefusal({ ...ref, namespace: 'shop-a' }, true, grant)).toBeUndefined();
  });
});

describe('clusterScopedGranted', () => {
  it('matches group/Kind exactly and a bare Kind only in Kubernetes API groups', () => {
    expect(clusterScopedGranted(['PersistentVolume'], '', 'PersistentVolume')).toBe(true);
    expect(clusterScopedGranted(['ValidatingWebhookConfiguration'], 'admissionregistration.k8s.io', 'ValidatingWebhookConfiguration')).toBe(true);
    expect(clusterScopedGranted(['Widget'], 'example.com', 'Widget')).toBe(false);
    expect(clusterScopedGranted(['example.com/Widget'], 'example.org', 'Widget')).toBe(false);
    expect(clusterScopedGranted([], rbac, 'ClusterRole')).toBe(false);
  });
});

describe('registry look-ups', () => {
  const registry = parseRegistry(JSON.stringify({ repositories: { 'acme/shop': { namespaces: ['shop-*'], pruneKinds: ['Namespace'] } } }));

  it.each(['constructor', '__proto__', 'toString', 'valueOf'])('finds nothing for %s', (name) => {
    expect(repositoryGrant(registry, name)).toBeUndefined();
    expect(kubernetesGrant(registry, name)).toBeUndefined();
  });

  it('narrows prune.allowKinds to the registry pruneKinds', () => {
    const g = kubernetesGrant(registry, 'acme/shop');
    expect(g).toEqual({ repository: 'acme/shop', namespaces: ['shop-*'], clusterScoped: [], adopt: false, pruneKinds: ['Namespace'] });
    expect(prunableKinds(['Namespace', 'CustomResourceDefinition'], g)).toEqual(['Namespace']);
    expect(prunableKinds([], g)).toEqual([]);
    expect(prunableKinds(['CustomResourceDefinition'], undefined)).toEqual(['CustomResourceDefinition']);
  });
});

describe('takeOver', () => {
  const id = 'acme/shop/shop-dev';
  const live = (labels: Record<string, string> = {}, annotations: Record<string, string> = {}, managers: string[] = []) => ({
    metadata: { labels, annotations, managedFields: managers.map((manager) => ({ manager, operation: 'Update' })) },
  });

  it('owns an object carrying its label and id', () => {
    expect(takeOver(live({ [TARGET_LABEL]: targetLabelValue(id) }, { [TARGET_ID_ANNOTATION]: id }), 'ClusterRole/r', id, false)).toEqual({ owned: true });
  });

  it('refuses an unmarked object naming its managers, unless adoption is allowed', () => {
    expect(takeOver(live({}, {}, ['kubectl-create', 'kubectl-create', 'kube-controller-manager']), 'ClusterRole/ops-team-role', id, false)).toEqual({
      refusal:
        "ClusterRole/ops-team-role exists and is not managed by acme/shop/shop-dev (managers: kubectl-create, kube-controller-manager); the registry's `adopt` lets this repository take such objects over",
    });
    expect(takeOver(live(), 'ClusterRole/r', id, false)).toEqual({ refusal: expect.stringContaining('(managers: none recorded)') });
    expect(takeOver(live(), 'ClusterRole/r', id, true)).toEqual({ adopt: true });
  });

  it("always refuses another target's object, by annotation or by label", () => {
    const other = 'acme/other/prod';
    expect(takeOver(live({ [TARGET_LABEL]: targetLabelValue(other) }, { [TARGET_ID_ANNOTATION]: other }), 'ConfigMap/a/b', id, true)).toEqual({
      refusal: 'ConfigMap/a/b is managed by another driftless target, acme/other/prod; two targets must not manage one object',
    });
    // Our label with another id, or a foreign label alone: refused too.
    expect(takeOver(live({ [TARGET_LABEL]: targetLabelValue(id) }, { [TARGET_ID_ANNOTATION]: other }), 'ConfigMap/a/b', id, true)).toHaveProperty('refusal');
    expect(takeOver(live({ [TARGET_LABEL]: 'abc' }), 'ConfigMap/a/b', id, true)).toEqual({
      refusal: `ConfigMap/a/b is managed by another driftless target, the target labelled ${TARGET_LABEL}=abc; two targets must not manage one object`,
    });
  });

  it('treats its own annotation without the label as not (or no longer) its own', () => {
    expect(takeOver(live({}, { [TARGET_ID_ANNOTATION]: id }), 'ConfigMap/a/b', id, false)).toHaveProperty('refusal');
    expect(takeOver(live({}, { [TARGET_ID_ANNOTATION]: id }), 'ConfigMap/a/b', id, true)).toEqual({ adopt: true });
  });
});
