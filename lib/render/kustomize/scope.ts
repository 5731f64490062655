import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Which objects Kustomize treats as cluster-scoped. Kustomize decides by apiVersion and kind from its built-in
 * OpenAPI schema (kyaml/openapi, Kubernetes v1.21.2; its precomputed table), not by kind alone: a kind the schema
 * does not list — a `flowcontrol.apiserver.k8s.io/v1` FlowSchema, a ValidatingAdmissionPolicy, any custom resource —
 * is namespaced for the `namespace:` transformer, even where the API server says otherwise. A kustomization's
 * `openapi: {path}` schema adds kinds the built-in table does not know.
 */

/** The cluster-scoped apiVersion/kind pairs of Kustomize's built-in schema. */
export const KUSTOMIZE_CLUSTER_SCOPED: ReadonlySet<string> = new Set([
  'admissionregistration.k8s.io/v1 MutatingWebhookConfiguration',
  'admissionregistration.k8s.io/v1 ValidatingWebhookConfiguration',
  'admissionregistration.k8s.io/v1beta1 MutatingWebhookConfiguration',
  'admissionregistration.k8s.io/v1beta1 ValidatingWebhookConfiguration',
  'apiextensions.k8s.io/v1 CustomResourceDefinition',
  'apiextensions.k8s.io/v1beta1 CustomResourceDefinition',
  'apiregistration.k8s.io/v1 APIService',
  'apiregistration.k8s.io/v1beta1 APIService',
  'certificates.k8s.io/v1 CertificateSigningRequest',
  'certificates.k8s.io/v1beta1 CertificateSigningRequest',
  'flowcontrol.apiserver.k8s.io/v1beta1 FlowSchema',
  'flowcontrol.apiserver.k8s.io/v1beta1 PriorityLevelConfiguration',
  'networking.k8s.io/v1 IngressClass',
  'networking.k8s.io/v1beta1 IngressClass',
  'node.k8s.io/v1 RuntimeClass',
  'node.k8s.io/v1beta1 RuntimeClass',
  'policy/v1beta1 PodSecurityPolicy',
  'rbac.authorization.k8s.io/v1 ClusterRole',
  'rbac.authorization.k8s.io/v1 ClusterRoleBinding',
  'rbac.authorization.k8s.io/v1beta1 ClusterRole',
  'rbac.authorization.k8s.io/v1beta1 ClusterRoleBinding',
  'scheduling.k8s.io/v1 PriorityClass',
  'scheduling.k8s.io/v1beta1 PriorityClass',
  'storage.k8s.io/v1 CSIDriver',
  'storage.k8s.io/v1 CSINode',
  'storage.k8s.io/v1 StorageClass',
  'storage.k8s.io/v1 VolumeAttachment',
  'storage.k8s.io/v1beta1 CSIDriver',
  'storage.k8s.io/v1beta1 CSINode',
  'storage.k8s.io/v1beta1 StorageClass',
  'storage.k8s.io/v1beta1 VolumeAttachment',
  'v1 ComponentStatus',
  'v1 Namespace',
  'v1 Node',
  'v1 NodeProxyOptions',
  'v1 PersistentVolume',
]);

/** The namespaced apiVersion/kind pairs of the built-in schema; a custom schema cannot make these cluster-scoped. */
const BUILTIN_NAMESPACED: ReadonlySet<string> = new Set([
  'apps/v1 ControllerRevision',
  'apps/v1 DaemonSet',
  'apps/v1 Deployment',
  'apps/v1 ReplicaSet',
  'apps/v1 StatefulSet',
  'autoscaling/v1 HorizontalPodAutoscaler',
  'autoscaling/v1 Scale',
  'autoscaling/v2beta1 HorizontalPodAutoscaler',
  'autoscaling/v2beta2 HorizontalPodAutoscaler',
  'batch/v1 CronJob',
  'batch/v1 Job',
  'batch/v1beta1 CronJob',
  'coordination.k8s.io/v1 Lease',
  'coordination.k8s.io/v1beta1 Lease',
  'discovery.k8s.io/v1 EndpointSlice',
  'discovery.k8s.io/v1beta1 EndpointSlice',
  'events.k8s.io/v1 Event',
  'events.k8s.io/v1beta1 Event',
  'extensions/v1beta1 Ingress',
  'networking.k8s.io/v1 Ingress',
  'networking.k8s.io/v1 NetworkPolicy',
  'networking.k8s.io/v1beta1 Ingress',
  'policy/v1 PodDisruptionBudget',
  'policy/v1beta1 PodDisruptionBudget',
  'rbac.authorization.k8s.io/v1 Role',
  'rbac.authorization.k8s.io/v1 RoleBinding',
  'rbac.authorization.k8s.io/v1beta1 Role',
  'rbac.authorization.k8s.io/v1beta1 RoleBinding',
  'storage.k8s.io/v1beta1 CSIStorageCapacity',
  'v1 ConfigMap',
  'v1 Endpoints',
  'v1 Event',
  'v1 LimitRange',
  'v1 PersistentVolumeClaim',
  'v1 Pod',
  'v1 PodAttachOptions',
  'v1 PodExecOptions',
  'v1 PodPortForwardOptions',
  'v1 PodProxyOptions',
  'v1 PodTemplate',
  'v1 ReplicationController',
  'v1 ResourceQuota',
  'v1 Secret',
  'v1 Service',
  'v1 ServiceAccount',
  'v1 ServiceProxyOptions',
]);

/** An apiVersion/kind pair as the scope tables key it. */
export const typeKey = (group: string, version: string, kind: string): string => `${group ? `${group}/` : ''}${version} ${kind}`;

/** What a custom OpenAPI schema declares: scopes by apiVersion/kind, and the types it has definitions for. */
export interface CustomSchema {
  readonly scopes: ReadonlyMap<string, boolean>;
  readonly definedTypes: ReadonlySet<string>;
}

type Id = { readonly group: string; readonly version: string; readonly kind: string };

/**
 * Kustomize's schema for one build: the built-in table, and a kustomization's `openapi` schema once one is set.
 * As in kyaml, a custom schema replaces the built-in one for strategic merges, unless a kind the table does not
 * know was looked up before it was set (kyaml then parses the built-in schema as well).
 */
export class KindScopes {
  private custom: CustomSchema | undefined;
  private unknownLookedUp = false;
  private builtinKept = false;

  /** Sets a custom OpenAPI (swagger) schema for the rest of the build. */
  setCustom(schema: CustomSchema): void {
    this.custom = schema;
    this.builtinKept = this.unknownLookedUp;
  }

  /** Records a loaded resource's type: Kustomize looks up the scope of every resource it loads. */
  noteLoaded(id: Id): void {
    this.isClusterScoped(id);
  }

  /** Kustomize's IsCertainlyClusterScoped: a pair its schema knows and says is not namespaced. */
  isClusterScoped(id: Id): boolean {
    const key = typeKey(id.group, id.version, id.kind);
    if (KUSTOMIZE_CLUSTER_SCOPED.has(key)) return true;
    if (BUILTIN_NAMESPACED.has(key)) return false;
    if (!this.custom) {
      this.unknownLookedUp = true;
      return false;
    }
    return this.custom.scopes.get(key) === false;
  }

  /** Whether strategic merges of this type have a schema (and so merge keys), given `builtin` for the built-in schema. */
  hasMergeSchema(id: Id, builtin: boolean): boolean {
    if (!this.custom) return builtin;
    return this.custom.definedTypes.has(typeKey(id.group, id.version, id.kind)) || (this.builtinKept && builtin);
  }
}

const store = new AsyncLocalStorage<KindScopes>();
const BUILTIN = new KindScopes();

/** Runs a build with `scopes` as its kind scopes (async-local, so concurrent builds keep their own). */
export const withKindScopes = <T>(scopes: KindScopes, fn: () => Promise<T>): Promise<T> => store.run(scopes, fn);

/** Whether Kustomize treats objects of this group/version/kind as cluster-scoped in the current build. */
export const isClusterScopedId = (id: { readonly group: string; readonly version: string; readonly kind: string }): boolean => (store.getStore() ?? BUILTIN).isClusterScoped(id);

/** Whether a strategic merge of this type uses a schema in the current build; `builtin`: the built-in schema has it. */
export const hasMergeSchemaId = (id: Id, builtin: boolean): boolean => (store.getStore() ?? BUILTIN).hasMergeSchema(id, builtin);
