import type { KubeObject, ObjectRef } from '../core/object-ref.js';
import { refOf, formatRef } from '../core/object-ref.js';
import { isNamespaced } from '../core/cluster-scope.js';
import { namespaceAllowed } from './load-config.js';
import type { ClusterEntry, Registry, RepositoryGrant } from './schema.js';

/** A repository's registry entry, by own property only (a repository named `__proto__` or `constructor` is never found). */
export const repositoryGrant = (registry: Registry, repository: string): RepositoryGrant | undefined =>
  Object.hasOwn(registry.repositories, repository) ? registry.repositories[repository] : undefined;

/** A registry cluster, by own property only. */
export const registryCluster = (registry: Registry, name: string): ClusterEntry | undefined => (Object.hasOwn(registry.clusters, name) ? registry.clusters[name] : undefined);

/** What a repository's registry entry grants on Kubernetes: the part KubernetesTarget enforces on every write. */
export interface KubernetesGrant {
  /** `owner/name`, for messages. */
  readonly repository: string;
  /** Namespace glob patterns: namespaced objects, and Namespaces by name. */
  readonly namespaces: readonly string[];
  /** Cluster-scoped kinds other than Namespace: `Kind` (a Kubernetes API group) or `group/Kind`. */
  readonly clusterScoped: readonly string[];
  /** May take over live objects that carry no driftless ownership. */
  readonly adopt: boolean;
  /** Protected kinds the repository may prune. */
  readonly pruneKinds: readonly string[];
}

/** The Kubernetes grant of a repository, or undefined when the registry does not list it. */
export const kubernetesGrant = (registry: Registry, repository: string): KubernetesGrant | undefined => {
  const g = repositoryGrant(registry, repository);
  return g && { repository, namespaces: g.namespaces, clusterScoped: g.clusterScoped, adopt: g.adopt, pruneKinds: g.pruneKinds };
};

/** The grant of a repository the registry does not list: nothing at all. */
export const noGrant = (repository: string): KubernetesGrant => ({ repository, namespaces: [], clusterScoped: [], adopt: false, pruneKinds: [] });

/** Whether a group is one of Kubernetes' own (core, a group without a dot, or `*.k8s.io`): where a bare `Kind` grant applies. */
const kubernetesGroup = (group: string): boolean => group === '' || !group.includes('.') || group.endsWith('.k8s.io');

/** How a cluster-scoped kind is named in `clusterScoped` (and in refusals): `Kind` for Kubernetes' groups, `group/Kind` otherwise. */
export const grantName = (group: string, kind: string): string => (kubernetesGroup(group) ? kind : `${group}/${kind}`);

/** Whether `clusterScoped` grants a kind: `group/Kind` exactly, or a bare `Kind` in one of Kubernetes' own groups. */
export const clusterScopedGranted = (granted: readonly string[], group: string, kind: string): boolean =>
  granted.some((g) => (g.includes('/') ? g === `${group}/${kind}` : g === kind && kubernetesGroup(group)));

/**
 * Why the grant does not cover writing or deleting one object, or undefined when it does. `namespaced` comes
 * from the cluster's discovery or the CRD of the same render, never from a list of kinds. A Namespace is
 * allowed by name (the `namespaces` patterns); any other cluster-scoped kind needs `clusterScoped`.
 * @example grantRefusal({ group: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'x' }, false, grant)
 * // 'ClusterRole/x: cluster-scoped kind ClusterRole is not granted to acme/shop (registry clusterScoped)'
 */
export const grantRefusal = (ref: ObjectRef, namespaced: boolean, grant: KubernetesGrant): string | undefined => {
  if (!namespaced && ref.group === '' && ref.kind === 'Namespace') {
    return namespaceAllowed(grant.namespaces, ref.name) ? undefined : `${formatRef(ref)}: namespace "${ref.name}" is not allowed for ${grant.repository} (registry namespaces)`;
  }
  if (namespaced) {
    if (ref.namespace === undefined) return `${formatRef(ref)}: a namespaced object without a namespace`;
    return namespaceAllowed(grant.namespaces, ref.namespace)
      ? undefined
      : `${formatRef(ref)}: namespace "${ref.namespace}" is not allowed for ${grant.repository} (registry namespaces)`;
  }
  return clusterScopedGranted(grant.clusterScoped, ref.group, ref.kind)
    ? undefined
    : `${formatRef(ref)}: cluster-scoped kind ${grantName(ref.group, ref.kind)} is not granted to ${grant.repository} (registry clusterScoped)`;
};

/** The protected kinds a target may prune: the repository's `prune.allowKinds`, narrowed to the registry's `pruneKinds` when there is a grant. */
export const prunableKinds = (allowKinds: readonly string[], grant: KubernetesGrant | undefined): string[] =>
  grant ? allowKinds.filter((k) => grant.pruneKinds.includes(k)) : [...allowKinds];

/**
 * An early check on rendered objects (before the cluster is reached): namespaced objects outside the grant's
 * namespace patterns (objects without a namespace count as in `defaultNamespace`), and Namespaces whose names
 * are outside them. Scope here comes from a list of built-in kinds, so it is a first filter only: the
 * authoritative check is {@link grantRefusal} in KubernetesTarget.prepare, with the cluster's discovery.
 */
export const objectsOutsideGrant = (objects: readonly KubeObject[], grant: RepositoryGrant, repository: string, defaultNamespace?: string): string[] => {
  const out: string[] = [];
  for (const obj of objects) {
    const ref = refOf(obj);
    const inNamespace = ref.namespace ?? (isNamespaced(ref.kind) ? defaultNamespace : undefined);
    const ns = obj.kind === 'Namespace' ? ref.name : inNamespace;
    if (ns !== undefined && !namespaceAllowed(grant.namespaces, ns)) {
      out.push(`${formatRef(ref)}: namespace "${ns}" is not allowed for ${repository}`);
    }
  }
  return out;
};
