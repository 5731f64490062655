import type { FieldSpec } from './field-spec.js';

// Where Kustomize's built-in transformers write, for the built-in Kubernetes kinds (Kustomize v5.5 defaults).

const WORKLOADS_WITH_TEMPLATE: readonly FieldSpec[] = [
  { version: 'v1', kind: 'ReplicationController', path: 'spec/template/metadata' },
  { kind: 'Deployment', path: 'spec/template/metadata' },
  { kind: 'ReplicaSet', path: 'spec/template/metadata' },
  { kind: 'DaemonSet', path: 'spec/template/metadata' },
  { group: 'apps', kind: 'StatefulSet', path: 'spec/template/metadata' },
  { group: 'batch', kind: 'Job', path: 'spec/template/metadata' },
  { group: 'batch', kind: 'CronJob', path: 'spec/jobTemplate/metadata' },
  { group: 'batch', kind: 'CronJob', path: 'spec/jobTemplate/spec/template/metadata' },
];

const under = (specs: readonly FieldSpec[], leaf: string, create: boolean): FieldSpec[] => specs.map((s) => ({ ...s, path: `${s.path}/${leaf}`, create }));

/** metadata/labels plus the pod template labels of workloads (Kustomize's metadataLabels). */
export const TEMPLATE_LABELS: readonly FieldSpec[] = [{ path: 'metadata/labels', create: true }, ...under(WORKLOADS_WITH_TEMPLATE, 'labels', true)];

const AFFINITY_PATHS = [
  'spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels',
  'spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels',
  'spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels',
  'spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels',
  'spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels',
];

/** Selectors and templates that `commonLabels` and `labels.includeSelectors` write to. */
export const COMMON_LABELS: readonly FieldSpec[] = [
  { version: 'v1', kind: 'Service', path: 'spec/selector', create: true },
  { version: 'v1', kind: 'ReplicationController', path: 'spec/selector', create: true },
  { kind: 'Deployment', path: 'spec/selector/matchLabels', create: true },
  ...AFFINITY_PATHS.map((path) => ({ group: 'apps', kind: 'Deployment', path, create: false })),
  { kind: 'ReplicaSet', path: 'spec/selector/matchLabels', create: true },
  { kind: 'DaemonSet', path: 'spec/selector/matchLabels', create: true },
  { group: 'apps', kind: 'StatefulSet', path: 'spec/selector/matchLabels', create: true },
  { group: 'apps', kind: 'StatefulSet', path: 'spec/volumeClaimTemplates[]/metadata/labels', create: true },
  ...AFFINITY_PATHS.map((path) => ({ group: 'apps', kind: 'StatefulSet', path, create: false })),
  { group: 'batch', kind: 'Job', path: 'spec/selector/matchLabels', create: false },
  { group: 'batch', kind: 'CronJob', path: 'spec/jobTemplate/spec/selector/matchLabels', create: false },
  { group: 'policy', kind: 'PodDisruptionBudget', path: 'spec/selector/matchLabels', create: false },
  { group: 'networking.k8s.io', kind: 'NetworkPolicy', path: 'spec/podSelector/matchLabels', create: false },
  { group: 'networking.k8s.io', kind: 'NetworkPolicy', path: 'spec/ingress/from/podSelector/matchLabels', create: false },
  { group: 'networking.k8s.io', kind: 'NetworkPolicy', path: 'spec/egress/to/podSelector/matchLabels', create: false },
  ...TEMPLATE_LABELS,
];

/** Where `commonAnnotations` writes. */
export const COMMON_ANNOTATIONS: readonly FieldSpec[] = [{ path: 'metadata/annotations', create: true }, ...under(WORKLOADS_WITH_TEMPLATE, 'annotations', true)];

/** Where images are set, beside the recursive search through every `containers` and `initContainers`. */
export const IMAGE_PATHS: readonly FieldSpec[] = [
  { path: 'spec/containers[]/image' },
  { path: 'spec/initContainers[]/image' },
  { path: 'spec/template/spec/containers[]/image' },
  { path: 'spec/template/spec/initContainers[]/image' },
];

/** Where `replicas` writes. */
export const REPLICAS_PATHS: readonly FieldSpec[] = ['Deployment', 'ReplicationController', 'ReplicaSet', 'StatefulSet'].map((kind) => ({
  kind,
  path: 'spec/replicas',
  create: true,
}));

/** A kind that other objects refer to by name, and the fields that hold those names. */
export interface NameReference {
  readonly group?: string;
  readonly version?: string;
  readonly kind: string;
  readonly fieldSpecs: readonly FieldSpec[];
}

const POD_SPEC_AT: readonly { kind: string; version?: string; spec: string }[] = [
  { kind: 'Pod', version: 'v1', spec: 'spec' },
  { kind: 'PodTemplate', spec: 'template/spec' },
  { kind: 'Deployment', spec: 'spec/template/spec' },
  { kind: 'ReplicaSet', spec: 'spec/template/spec' },
  { kind: 'DaemonSet', spec: 'spec/template/spec' },
  { kind: 'StatefulSet', spec: 'spec/template/spec' },
  { kind: 'Job', spec: 'spec/template/spec' },
  { kind: 'CronJob', spec: 'spec/jobTemplate/spec/template/spec' },
];

const inPodSpecs = (paths: readonly string[]): FieldSpec[] =>
  POD_SPEC_AT.flatMap(({ kind, version, spec }) => paths.map((p) => ({ kind, ...(version ? { version } : {}), path: `${spec}/${p}` })));

const SA_OR_PVC_KINDS: readonly { kind: string; spec: string }[] = [
  { kind: 'Pod', spec: 'spec' },
  { kind: 'StatefulSet', spec: 'spec/template/spec' },
  { kind: 'Deployment', spec: 'spec/template/spec' },
  { kind: 'ReplicationController', spec: 'spec/template/spec' },
  { kind: 'CronJob', spec: 'spec/jobTemplate/spec/template/spec' },
  { kind: 'Job', spec: 'spec/template/spec' },
  { kind: 'DaemonSet', spec: 'spec/template/spec' },
];

const scaleTarget = (kind: string): NameReference => ({
  kind,
  fieldSpecs: [{ kind: 'HorizontalPodAutoscaler', path: 'spec/scaleTargetRef/name' }],
});

/** Kustomize's default name references (which fields follow a renamed ConfigMap, Secret, Service, …). */
export const NAME_REFERENCES: readonly NameReference[] = [
  scaleTarget('Deployment'),
  scaleTarget('ReplicationController'),
  scaleTarget('ReplicaSet'),
  scaleTarget('StatefulSet'),
  {
    kind: 'ConfigMap',
    version: 'v1',
    fieldSpecs: [
      ...inPodSpecs([
        'volumes/configMap/name',
        'containers/env/valueFrom/configMapKeyRef/name',
        'initContainers/env/valueFrom/configMapKeyRef/name',
        'containers/envFrom/configMapRef/name',
        'initContainers/envFrom/configMapRef/name',
        'volumes/projected/sources/configMap/name',
      ]),
      { kind: 'Node', path: 'spec/configSource/configMap' },
      { kind: 'Role', path: 'rules/resourceNames' },
      { kind: 'ClusterRole', path: 'rules/resourceNames' },
      { kind: 'Ingress', path: 'metadata/annotations/nginx.ingress.kubernetes.io\\/fastcgi-params-configmap' },
    ],
  },
  {
    kind: 'Secret',
    version: 'v1',
    fieldSpecs: [
      ...inPodSpecs([
        'volumes/secret/secretName',
        'containers/env/valueFrom/secretKeyRef/name',
        'initContainers/env/valueFrom/secretKeyRef/name',
        'containers/envFrom/secretRef/name',
        'initContainers/envFrom/secretRef/name',
        'imagePullSecrets/name',
        'volumes/projected/sources/secret/name',
      ]),
      { kind: 'Ingress', path: 'spec/tls/secretName' },
      { kind: 'Ingress', path: 'metadata/annotations/ingress.kubernetes.io\\/auth-secret' },
      { kind: 'Ingress', path: 'metadata/annotations/nginx.ingress.kubernetes.io\\/auth-secret' },
      { kind: 'Ingress', path: 'metadata/annotations/nginx.ingress.kubernetes.io\\/auth-tls-secret' },
      { kind: 'ServiceAccount', path: 'imagePullSecrets/name' },
      { kind: 'StorageClass', path: 'parameters/secretName' },
      { kind: 'StorageClass', path: 'parameters/adminSecretName' },
      { kind: 'StorageClass', path: 'parameters/userSecretName' },
      { kind: 'StorageClass', path: 'parameters/secretRef' },
      { kind: 'Role', path: 'rules/resourceNames' },
      { kind: 'ClusterRole', path: 'rules/resourceNames' },
      { group: 'serving.knative.dev', version: 'v1', kind: 'Service', path: 'spec/template/spec/containers/env/valueFrom/secretKeyRef/name' },
      { kind: 'PersistentVolume', path: 'spec/azureFile/secretName' },
    ],
  },
  {
    kind: 'Service',
    version: 'v1',
    fieldSpecs: [
      { group: 'apps', kind: 'StatefulSet', path: 'spec/serviceName' },
      { kind: 'Ingress', path: 'spec/rules/http/paths/backend/serviceName' },
      { kind: 'Ingress', path: 'spec/backend/serviceName' },
      { kind: 'Ingress', path: 'spec/rules/http/paths/backend/service/name' },
      { kind: 'Ingress', path: 'spec/defaultBackend/service/name' },
      { group: 'apiregistration.k8s.io', kind: 'APIService', path: 'spec/service/name' },
      { group: 'admissionregistration.k8s.io', kind: 'ValidatingWebhookConfiguration', path: 'webhooks/clientConfig/service' },
      { group: 'admissionregistration.k8s.io', kind: 'MutatingWebhookConfiguration', path: 'webhooks/clientConfig/service' },
      { kind: 'HTTPRoute', path: 'spec/rules/backendRefs/name' },
    ],
  },
  {
    kind: 'Role',
    group: 'rbac.authorization.k8s.io',
    fieldSpecs: [{ group: 'rbac.authorization.k8s.io', kind: 'RoleBinding', path: 'roleRef/name' }],
  },
  {
    kind: 'ClusterRole',
    group: 'rbac.authorization.k8s.io',
    fieldSpecs: [
      { group: 'rbac.authorization.k8s.io', kind: 'RoleBinding', path: 'roleRef/name' },
      { group: 'rbac.authorization.k8s.io', kind: 'ClusterRoleBinding', path: 'roleRef/name' },
    ],
  },
  {
    kind: 'ServiceAccount',
    version: 'v1',
    fieldSpecs: [
      { group: 'rbac.authorization.k8s.io', kind: 'RoleBinding', path: 'subjects' },
      { group: 'rbac.authorization.k8s.io', kind: 'ClusterRoleBinding', path: 'subjects' },
      ...SA_OR_PVC_KINDS.map(({ kind, spec }) => ({ kind, path: `${spec}/serviceAccountName` })),
    ],
  },
  {
    kind: 'PersistentVolumeClaim',
    version: 'v1',
    fieldSpecs: SA_OR_PVC_KINDS.map(({ kind, spec }) => ({ kind, path: `${spec}/volumes/persistentVolumeClaim/claimName` })),
  },
  {
    kind: 'PersistentVolume',
    version: 'v1',
    fieldSpecs: [
      { kind: 'PersistentVolumeClaim', path: 'spec/volumeName' },
      { kind: 'ClusterRole', path: 'rules/resourceNames' },
    ],
  },
  {
    kind: 'StorageClass',
    version: 'v1',
    group: 'storage.k8s.io',
    fieldSpecs: [
      { kind: 'PersistentVolume', path: 'spec/storageClassName' },
      { kind: 'PersistentVolumeClaim', path: 'spec/storageClassName' },
      { kind: 'StatefulSet', path: 'spec/volumeClaimTemplates/spec/storageClassName' },
    ],
  },
  {
    kind: 'PriorityClass',
    version: 'v1',
    group: 'scheduling.k8s.io',
    fieldSpecs: SA_OR_PVC_KINDS.map(({ kind, spec }) => ({ kind, path: `${spec}/priorityClassName` })),
  },
];
