import { describe, expect, it } from 'vitest';
import { diffInventory, mergeSurvivors } from '../../../lib/core/inventory.js';
import { healthOf } from '../../../lib/targets/kubernetes/health.js';
import { Stage, stageOf } from '../../../lib/targets/kubernetes/ordering.js';
import { comparable, jsonEqual, maskSecret } from '../../../lib/targets/kubernetes/normalize.js';

const d = (generation: number, spec: object, status: object) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x', generation }, spec, status });

describe('healthOf', () => {
  it.each([
    // [case, object, expected status]
    ['deployment rolled out', d(2, { replicas: 2 }, { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 }), 'ready'],
    ['deployment generation not observed', d(3, { replicas: 2 }, { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 }), 'in-progress'],
    ['deployment updating', d(2, { replicas: 3 }, { observedGeneration: 2, replicas: 3, updatedReplicas: 1, availableReplicas: 3 }), 'in-progress'],
    ['deployment old replicas left', d(2, { replicas: 2 }, { observedGeneration: 2, replicas: 3, updatedReplicas: 2, availableReplicas: 2 }), 'in-progress'],
    ['deployment deadline exceeded', d(2, {}, { observedGeneration: 2, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] }), 'failed'],
    [
      'statefulset ready',
      {
        kind: 'StatefulSet',
        metadata: { generation: 1 },
        spec: { replicas: 2 },
        status: { observedGeneration: 1, readyReplicas: 2, updatedReplicas: 2, currentRevision: 'a', updateRevision: 'a' },
      },
      'ready',
    ],
    [
      'statefulset revision pending',
      {
        kind: 'StatefulSet',
        metadata: { generation: 1 },
        spec: { replicas: 2 },
        status: { observedGeneration: 1, readyReplicas: 2, updatedReplicas: 2, currentRevision: 'a', updateRevision: 'b' },
      },
      'in-progress',
    ],
    [
      'daemonset ready',
      { kind: 'DaemonSet', metadata: { generation: 1 }, status: { observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3 } },
      'ready',
    ],
    ['job complete', { kind: 'Job', status: { conditions: [{ type: 'Complete', status: 'True' }] } }, 'ready'],
    ['job failed', { kind: 'Job', status: { conditions: [{ type: 'Failed', status: 'True', message: 'BackoffLimitExceeded' }] } }, 'failed'],
    ['job running', { kind: 'Job', status: { active: 1 } }, 'in-progress'],
    ['custom resource Ready', { kind: 'Certificate', status: { conditions: [{ type: 'Ready', status: 'True' }] } }, 'ready'],
    ['custom resource not Ready', { kind: 'Certificate', status: { conditions: [{ type: 'Ready', status: 'False', reason: 'Pending' }] } }, 'in-progress'],
    ['crd established', { kind: 'CustomResourceDefinition', status: { conditions: [{ type: 'Established', status: 'True' }] } }, 'ready'],
    ['terminating namespace', { kind: 'Namespace', status: { phase: 'Terminating' } }, 'failed'],
    ['configmap', { kind: 'ConfigMap' }, 'ready'],
  ])('%s', (_case, obj, status) => {
    expect(healthOf(obj).status).toBe(status);
  });
});

describe('stageOf', () => {
  it.each([
    [{ kind: 'CustomResourceDefinition', metadata: {} }, Stage.Definitions],
    [{ kind: 'Namespace', metadata: {} }, Stage.Definitions],
    [{ kind: 'StorageClass', metadata: {} }, Stage.Definitions],
    [{ kind: 'IngressClass', metadata: {} }, Stage.Definitions],
    [{ kind: 'ConfigMap', metadata: { namespace: 'a' } }, Stage.Resources],
    [{ kind: 'ClusterRole', metadata: {} }, Stage.Resources],
  ])('%j', (obj, stage) => {
    expect(stageOf(obj)).toBe(stage);
  });
});

describe('inventory', () => {
  const a = { group: '', kind: 'ConfigMap', namespace: 'n', name: 'a' };
  const b = { group: 'apps', kind: 'Deployment', namespace: 'n', name: 'b' };
  const c = { group: '', kind: 'Namespace', name: 'n' };
  it('finds what left the render', () => {
    expect(diffInventory([a, b, c], [b])).toEqual([a, c]);
  });
  it('keeps survivors of a failed prune in the next inventory, once', () => {
    expect(mergeSurvivors([b], [a, b])).toEqual([b, a]);
  });
});

describe('comparable and maskSecret', () => {
  it('ignores what the server sets', () => {
    const live = {
      kind: 'ConfigMap',
      metadata: {
        name: 'a',
        uid: '1',
        resourceVersion: '9',
        generation: 2,
        managedFields: [],
        creationTimestamp: 'x',
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
      },
      data: { k: 'v' },
      status: {},
    };
    expect(jsonEqual(comparable(live), { kind: 'ConfigMap', metadata: { name: 'a' }, data: { k: 'v' } })).toBe(true);
  });
  it('hides every Secret value, marking the ones that differ', () => {
    const a = { kind: 'Secret', data: { user: 'YQ==', pass: 'MQ==' } };
    const b = { kind: 'Secret', data: { user: 'YQ==', pass: 'Mg==' } };
    expect(maskSecret(a, b)).toEqual({ kind: 'Secret', data: { user: '<hidden>', pass: '<hidden, changed>' } });
  });
});
