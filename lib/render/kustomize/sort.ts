import type { Kustomization } from './kustomization.js';
import { curId, type ResId, type Resource } from './resource.js';

/** Kustomize's legacy kind order: these first, in this order… */
export const ORDER_FIRST = [
  'Namespace',
  'ResourceQuota',
  'StorageClass',
  'CustomResourceDefinition',
  'ServiceAccount',
  'PodSecurityPolicy',
  'Role',
  'ClusterRole',
  'RoleBinding',
  'ClusterRoleBinding',
  'ConfigMap',
  'Secret',
  'Endpoints',
  'Service',
  'LimitRange',
  'PriorityClass',
  'PersistentVolume',
  'PersistentVolumeClaim',
  'Deployment',
  'StatefulSet',
  'CronJob',
  'PodDisruptionBudget',
];
/** …and these last. */
export const ORDER_LAST = ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'];

// The legacy sort compares ids in Kustomize's older string form: group_version_kind, with ~G/~V/~K for blanks.
const gvkString = (id: ResId): string => `${id.group || '~G'}_${id.version || '~V'}_${id.kind || '~K'}`;
const idString = (id: ResId): string => `${gvkString(id)}|${id.namespace || '~X'}|${id.name || '~N'}`;

/** Orders resources as Kustomize does: legacy (kind order, then id) unless `sortOptions.order` is fifo. */
export const sortResources = (resources: Resource[], sortOptions: Kustomization['sortOptions']): Resource[] => {
  if (sortOptions?.order === 'fifo') return resources;
  const first = sortOptions?.legacySortOptions?.orderFirst ?? ORDER_FIRST;
  const last = sortOptions?.legacySortOptions?.orderLast ?? ORDER_LAST;
  const rank = new Map<string, number>();
  first.forEach((k, i) => rank.set(k, -first.length + i));
  last.forEach((k, i) => rank.set(k, 1 + i));
  const keyed = resources.map((r) => ({ r, id: curId(r) }));
  keyed.sort((a, b) => {
    const ra = rank.get(a.id.kind) ?? 0;
    const rb = rank.get(b.id.kind) ?? 0;
    if (ra !== rb) return ra - rb;
    const ga = gvkString(a.id);
    const gb = gvkString(b.id);
    // Kustomize puts a core Namespace before Namespace kinds of other groups (SortOrderTransformer's gvkLessThan).
    const reversed = a.id.kind === 'Namespace' && b.id.kind === 'Namespace' && (a.id.group === '' || b.id.group === '');
    if (ga !== gb) return ga < gb !== reversed ? -1 : 1;
    const ia = idString(a.id);
    const ib = idString(b.id);
    return ia < ib ? -1 : ia > ib ? 1 : 0;
  });
  return keyed.map((k) => k.r);
};
