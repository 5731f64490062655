import { parseAllDocuments } from 'yaml';
import { isMap } from '../../core/plain-object.js';
import { COMMON_ANNOTATIONS, COMMON_LABELS, IMAGE_PATHS, NAME_REFERENCES, REPLICAS_PATHS, TEMPLATE_LABELS, type NameReference } from './builtin-field-specs.js';
import type { FieldSpec } from './field-spec.js';

/**
 * Where each built-in transformer writes, for one kustomization level (Kustomize's TransformerConfig): the defaults
 * merged with the files its `configurations:` list, and those of the bases and components it accumulated.
 */
export interface TransformerConfig {
  readonly namePrefix: readonly FieldSpec[];
  readonly nameSuffix: readonly FieldSpec[];
  readonly namespace: readonly FieldSpec[];
  readonly commonLabels: readonly FieldSpec[];
  readonly labels: readonly FieldSpec[];
  readonly templateLabels: readonly FieldSpec[];
  readonly commonAnnotations: readonly FieldSpec[];
  readonly nameReference: readonly NameReference[];
  readonly varReference: readonly FieldSpec[];
  readonly images: readonly FieldSpec[];
  readonly replicas: readonly FieldSpec[];
}

type FsKey = Exclude<keyof TransformerConfig, 'nameReference'>;
const FS_KEYS: readonly FsKey[] = ['namePrefix', 'nameSuffix', 'namespace', 'commonLabels', 'labels', 'templateLabels', 'commonAnnotations', 'varReference', 'images', 'replicas'];
/** The field names Kustomize's merge errors use. */
const GO_NAMES: Readonly<Record<FsKey, string>> = {
  namePrefix: 'NamePrefix',
  nameSuffix: 'NameSuffix',
  namespace: 'NameSpace',
  commonLabels: 'CommonLabels',
  labels: 'Labels',
  templateLabels: 'TemplateLabels',
  commonAnnotations: 'CommonAnnotations',
  varReference: 'VarReference',
  images: 'Images',
  replicas: 'Replicas',
};
const ALL_KEYS: ReadonlySet<string> = new Set([...FS_KEYS, 'nameReference']);

/** Kustomize's default namespace field specs (metadata.namespace itself is handled by the transformer). */
export const DEFAULT_NAMESPACE_SPECS: readonly FieldSpec[] = [
  { version: 'v1', kind: 'Namespace', path: 'metadata/name', create: true },
  { group: 'apiregistration.k8s.io', kind: 'APIService', path: 'spec/service/namespace', create: true },
  { group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition', path: 'spec/conversion/webhook/clientConfig/service/namespace' },
];

const empty = (): TransformerConfig => ({
  namePrefix: [],
  nameSuffix: [],
  namespace: [],
  commonLabels: [],
  labels: [],
  templateLabels: [],
  commonAnnotations: [],
  nameReference: [],
  varReference: [],
  images: [],
  replicas: [],
});

/** The field specs Kustomize v5.5 uses when no `configurations:` are given. */
export const defaultTransformerConfig = (): TransformerConfig => ({
  namePrefix: [{ path: 'metadata/name' }],
  nameSuffix: [{ path: 'metadata/name' }],
  namespace: DEFAULT_NAMESPACE_SPECS,
  commonLabels: COMMON_LABELS,
  labels: [],
  templateLabels: TEMPLATE_LABELS,
  commonAnnotations: COMMON_ANNOTATIONS,
  nameReference: NAME_REFERENCES,
  varReference: VAR_REFERENCE,
  images: IMAGE_PATHS,
  replicas: REPLICAS_PATHS,
});

/** An empty configuration, the starting point of an accumulation (Kustomize's MakeEmptyAccumulator). */
export const emptyTransformerConfig = empty;

const gvkSelects = (sel: FieldSpec, spec: FieldSpec): boolean =>
  (!sel.group || sel.group === spec.group) && (!sel.version || sel.version === spec.version) && (!sel.kind || sel.kind === spec.kind);

/** Kustomize's FsSlice.MergeOne: a spec whose gvk and path are already covered is dropped; a differing `create` conflicts. */
const mergeSpecs = (into: readonly FieldSpec[], incoming: readonly FieldSpec[], what: string): FieldSpec[] => {
  if (!incoming.length) return into as FieldSpec[];
  const out = [...into];
  // Only specs of the same path can cover each other: indexed by path, a merge is linear in its inputs (every
  // kustomization merges the several hundred default specs into its accumulator).
  const byPath = new Map<string, FieldSpec[]>();
  for (const x of out) {
    const list = byPath.get(x.path);
    if (list) list.push(x);
    else byPath.set(x.path, [x]);
  }
  for (const fs of incoming) {
    const same = byPath.get(fs.path);
    const existing = same?.find((x) => gvkSelects(fs, x));
    if (!existing) {
      out.push(fs);
      if (same) same.push(fs);
      else byPath.set(fs.path, [fs]);
      continue;
    }
    if (Boolean(existing.create) !== Boolean(fs.create)) {
      throw new Error(`failed to merge ${what} fieldSpec: conflicting fieldspecs (create differs for path ${fs.path}${fs.kind ? ` of kind ${fs.kind}` : ''})`);
    }
  }
  return out;
};

const sameGvk = (a: NameReference, b: NameReference): boolean => (a.group ?? '') === (b.group ?? '') && (a.version ?? '') === (b.version ?? '') && a.kind === b.kind;

/** Merges two configurations as Kustomize's TransformerConfig.Merge does; throws on conflicting field specs. */
export const mergeTransformerConfigs = (a: TransformerConfig, b: TransformerConfig): TransformerConfig => {
  const out: Record<string, unknown> = {};
  for (const key of FS_KEYS) out[key] = mergeSpecs(a[key], b[key], GO_NAMES[key]);
  const refs: NameReference[] = [...a.nameReference];
  for (const ref of b.nameReference) {
    const i = refs.findIndex((r) => sameGvk(r, ref));
    if (i < 0) refs.push(ref);
    else refs[i] = { ...(refs[i] as NameReference), fieldSpecs: mergeSpecs((refs[i] as NameReference).fieldSpecs, ref.fieldSpecs, 'NameReference') };
  }
  out.nameReference = refs;
  return out as unknown as TransformerConfig;
};

const FS_FIELDS = new Set(['group', 'version', 'kind', 'path', 'create']);

/** Keys folded to the expected spelling: Kustomize decodes these files with Go's case-insensitive JSON matching. */
const canonicalKeys = (m: Record<string, unknown>, known: Iterable<string>): Record<string, unknown> => {
  const byLower = new Map([...known].map((k) => [k.toLowerCase(), k]));
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [byLower.get(k.toLowerCase()) ?? k, v]));
};

const parseFieldSpecs = (v: unknown, what: string, extra: ReadonlySet<string> = new Set()): FieldSpec[] => {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Error(`${what} must be a list of field specs`);
  return v.map((item, i) => {
    if (!isMap(item)) throw new Error(`${what}[${i}] must be a mapping`);
    const raw = canonicalKeys(item, [...FS_FIELDS, ...extra]);
    for (const k of Object.keys(raw)) {
      if (!FS_FIELDS.has(k) && !extra.has(k)) throw new Error(`${what}[${i}]: unknown field "${k}"`);
    }
    for (const k of ['group', 'version', 'kind', 'path']) {
      if (raw[k] !== undefined && raw[k] !== null && typeof raw[k] !== 'string') throw new Error(`${what}[${i}].${k} must be a string`);
    }
    if (raw.create !== undefined && raw.create !== null && typeof raw.create !== 'boolean') {
      throw new Error(`${what}[${i}].create must be true or false`);
    }
    const fs: { -readonly [K in keyof FieldSpec]: FieldSpec[K] } = { path: typeof raw.path === 'string' ? raw.path : '' };
    if (typeof raw.group === 'string' && raw.group) fs.group = raw.group;
    if (typeof raw.version === 'string' && raw.version) fs.version = raw.version;
    if (typeof raw.kind === 'string' && raw.kind) fs.kind = raw.kind;
    if (raw.create === true) fs.create = true;
    return fs;
  });
};

/** Parses a file listed under `configurations:` (strictly, as Kustomize's UnmarshalStrict does). */
export const parseTransformerConfig = (text: string): TransformerConfig => {
  const docs = parseAllDocuments(text);
  const doc = docs[0];
  if (!doc) return empty();
  if (doc.errors[0]) throw new Error(`invalid YAML: ${doc.errors[0].message.split('\n')[0]}`);
  const parsed = doc.toJS() as unknown;
  if (parsed === null || parsed === undefined) return empty();
  if (!isMap(parsed)) throw new Error('a transformer configuration must be a mapping');
  const raw = canonicalKeys(parsed, ALL_KEYS);
  for (const key of Object.keys(raw)) {
    if (!ALL_KEYS.has(key)) throw new Error(`unknown field "${key}" (expected one of ${[...ALL_KEYS].join(', ')})`);
  }
  const out: Record<string, unknown> = {};
  for (const key of FS_KEYS) out[key] = parseFieldSpecs(raw[key], key);
  const refs = raw.nameReference;
  if (refs !== undefined && refs !== null && !Array.isArray(refs)) throw new Error('nameReference must be a list');
  out.nameReference = ((refs as unknown[] | null | undefined) ?? []).map((item, i): NameReference => {
    if (!isMap(item)) throw new Error(`nameReference[${i}] must be a mapping`);
    const r = canonicalKeys(item, ['group', 'version', 'kind', 'fieldSpecs']);
    for (const k of Object.keys(r)) {
      if (!['group', 'version', 'kind', 'fieldSpecs'].includes(k)) throw new Error(`nameReference[${i}]: unknown field "${k}"`);
    }
    if (typeof r.kind !== 'string' || !r.kind) throw new Error(`nameReference[${i}] needs a kind`);
    return {
      kind: r.kind,
      ...(typeof r.group === 'string' && r.group ? { group: r.group } : {}),
      ...(typeof r.version === 'string' && r.version ? { version: r.version } : {}),
      fieldSpecs: parseFieldSpecs(r.fieldSpecs, `nameReference[${i}].fieldSpecs`),
    };
  });
  return out as unknown as TransformerConfig;
};

/** Parses a plugin's or a `labels` entry's `fieldSpecs`. */
export const parsePluginFieldSpecs = (v: unknown, what: string): FieldSpec[] => parseFieldSpecs(v, what);

const WORKLOAD_VAR_PATHS = (spec: string): string[] => [
  `${spec}/containers/args`,
  `${spec}/containers/command`,
  `${spec}/containers/env/value`,
  `${spec}/containers/volumeMounts/mountPath`,
  `${spec}/initContainers/args`,
  `${spec}/initContainers/command`,
  `${spec}/initContainers/env/value`,
  `${spec}/initContainers/volumeMounts/mountPath`,
];

/** Fields where `$(VAR)` is substituted by default (Kustomize v5.5 varReference). */
export const VAR_REFERENCE: readonly FieldSpec[] = [
  ...WORKLOAD_VAR_PATHS('spec/jobTemplate/spec/template/spec').map((path) => ({ kind: 'CronJob', path })),
  { kind: 'CronJob', path: 'spec/jobTemplate/spec/template/volumes/nfs/server' },
  ...['DaemonSet', 'Deployment'].flatMap((kind) => [
    ...WORKLOAD_VAR_PATHS('spec/template/spec').map((path) => ({ kind, path })),
    { kind, path: 'spec/template/spec/volumes/nfs/server' },
  ]),
  { kind: 'Deployment', path: 'spec/template/metadata/annotations' },
  { kind: 'Ingress', path: 'spec/rules/host' },
  { kind: 'Ingress', path: 'spec/tls/hosts' },
  { kind: 'Ingress', path: 'spec/tls/secretName' },
  ...WORKLOAD_VAR_PATHS('spec/template/spec').map((path) => ({ kind: 'Job', path })),
  { kind: 'Job', path: 'spec/template/spec/volumes/nfs/server' },
  ...WORKLOAD_VAR_PATHS('spec').map((path) => ({ kind: 'Pod', path })),
  { kind: 'Pod', path: 'spec/volumes/nfs/server' },
  ...WORKLOAD_VAR_PATHS('spec/template/spec').map((path) => ({ kind: 'ReplicaSet', path })),
  { kind: 'ReplicaSet', path: 'spec/template/spec/volumes/nfs/server' },
  { kind: 'Service', path: 'spec/ports/port' },
  { kind: 'Service', path: 'spec/ports/targetPort' },
  ...WORKLOAD_VAR_PATHS('spec/template/spec').map((path) => ({ kind: 'StatefulSet', path })),
  { kind: 'StatefulSet', path: 'spec/volumeClaimTemplates/spec/nfs/server' },
  { kind: 'PersistentVolume', path: 'spec/nfs/server' },
  { path: 'metadata/labels' },
  { path: 'metadata/annotations' },
];
