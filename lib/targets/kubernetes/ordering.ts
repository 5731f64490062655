import type { KubeObject } from '../../core/object-ref.js';

/** Apply stages, as Flux stages them: definitions first (and waited for), then everything else. */
export const Stage = { Definitions: 0, Resources: 1 } as const;
export type Stage = (typeof Stage)[keyof typeof Stage];

/** Whether an object belongs to the first stage: CRDs, Namespaces and cluster-wide classes (StorageClass, IngressClass, …). */
export const stageOf = (obj: KubeObject): Stage => {
  const kind = String(obj.kind);
  const namespaced = Boolean((obj.metadata as { namespace?: string } | undefined)?.namespace);
  if (kind === 'CustomResourceDefinition' || kind === 'Namespace') return Stage.Definitions;
  if (kind.endsWith('Class') && !namespaced) return Stage.Definitions;
  return Stage.Resources;
};

/** Kinds applied early within a stage (things others refer to), as kubectl and Kustomize order them. */
const KIND_ORDER = [
  'CustomResourceDefinition',
  'Namespace',
  'ResourceQuota',
  'StorageClass',
  'PriorityClass',
  'IngressClass',
  'RuntimeClass',
  'ServiceAccount',
  'Role',
  'ClusterRole',
  'RoleBinding',
  'ClusterRoleBinding',
  'ConfigMap',
  'Secret',
  'Endpoints',
  'Service',
  'LimitRange',
  'PersistentVolume',
  'PersistentVolumeClaim',
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'CronJob',
  'PodDisruptionBudget',
  'HorizontalPodAutoscaler',
  'Ingress',
];
const LAST = ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'];

/** Sort key of a kind for apply order (prune runs the reverse). */
export const kindRank = (kind: string): number => {
  const i = KIND_ORDER.indexOf(kind);
  if (i >= 0) return i;
  const j = LAST.indexOf(kind);
  return j >= 0 ? 1000 + j : 500;
};

/** Objects in apply order: stage, kind rank, namespace, name. */
export const applyOrder = <T extends { obj: KubeObject; stage: Stage }>(items: readonly T[]): T[] =>
  [...items].sort((a, b) => {
    if (a.stage !== b.stage) return a.stage - b.stage;
    const ka = kindRank(String(a.obj.kind));
    const kb = kindRank(String(b.obj.kind));
    if (ka !== kb) return ka - kb;
    const ma = a.obj.metadata as { namespace?: string; name?: string };
    const mb = b.obj.metadata as { namespace?: string; name?: string };
    return `${ma.namespace ?? ''}/${ma.name ?? ''}`.localeCompare(`${mb.namespace ?? ''}/${mb.name ?? ''}`);
  });

/** Kept importable from here; the helper lives in lib/core. */
export { mapLimit } from '../../core/map-limit.js';
