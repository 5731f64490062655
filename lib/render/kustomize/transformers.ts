import { DEFAULT_NAMESPACE_SPECS, defaultTransformerConfig, type TransformerConfig } from './configurations.js';
import { specApplies, visitPath, type FieldSpec } from './field-spec.js';
import type { Kustomization } from './kustomization.js';
import { isMap } from '../../core/plain-object.js';
import { curId, formatId, gvkSelected, idEquals, metaOf, storePreviousId, type Resource } from './resource.js';
import { matchAnyId } from './select.js';
import { isClusterScopedId } from './scope.js';

/**
 * Kustomize's namespace transformer: `metadata.namespace` on every object its schema does not know as cluster-scoped,
 * the name of a `v1` Namespace object, the namespace of every (Cluster)RoleBinding subject named `default` (of any
 * kind, replacing a namespace already set; other subjects keep theirs or none), and the service namespaces of
 * APIServices and CRD conversion webhooks. Field specs of `configurations:` files: setCustomNamespaceFields.
 */
export const setNamespace = (resources: Resource[], namespace: string): void => {
  for (const r of resources) {
    storePreviousId(r);
    const id = curId(r);
    if (!isClusterScopedId(id)) metaOf(r.obj).namespace = namespace;
    if (id.kind === 'Namespace' && id.group === '' && id.version === 'v1') metaOf(r.obj).name = namespace;
    if (id.kind === 'RoleBinding' || id.kind === 'ClusterRoleBinding') {
      const subjects = r.obj.subjects;
      if (Array.isArray(subjects)) {
        for (const s of subjects) if (isMap(s) && s.name === 'default') s.namespace = namespace;
      }
    }
    visitNamespaceRefs(r, namespace);
  }
  for (const r of resources) {
    const id = curId(r);
    if (resources.filter((o) => idEquals(curId(o), id)).length > 1) {
      throw new Error(`namespace transformation produces ID conflict: ${formatId(id)}`);
    }
  }
};

// Kustomize's namespace field specs (builtinpluginconsts/namespace.go, less metadata/name of Namespace, set above);
// webhook service namespaces follow the Service through name references, not this transformer.
const NAMESPACE_FIELDS: readonly FieldSpec[] = [
  { group: 'apiregistration.k8s.io', kind: 'APIService', path: 'spec/service/namespace', create: true },
  { group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition', path: 'spec/conversion/webhook/clientConfig/service/namespace' },
];

const visitNamespaceRefs = (r: Resource, namespace: string): void => {
  for (const spec of NAMESPACE_FIELDS) {
    if (specApplies(spec, r.obj)) visitPath(r.obj, spec.path, () => namespace, spec.create ?? false);
  }
};

const sameSpec = (a: FieldSpec, b: FieldSpec): boolean =>
  a.path === b.path &&
  Boolean(a.create) === Boolean(b.create) &&
  (a.group ?? '') === (b.group ?? '') &&
  (a.version ?? '') === (b.version ?? '') &&
  (a.kind ?? '') === (b.kind ?? '');

/** Namespace field specs beyond the defaults; metadata.namespace and binding subjects have their own rules (Kustomize's namespace filter). */
const customNamespaceSpecs = (specs: readonly FieldSpec[]): FieldSpec[] =>
  specs.filter(
    (s) =>
      s.path !== 'metadata/namespace' &&
      s.path !== 'metadata/name' &&
      !(s.path === 'subjects' || s.path === 'subjects/namespace') &&
      !DEFAULT_NAMESPACE_SPECS.some((d) => sameSpec(d, s)) &&
      !NAMESPACE_FIELDS.some((d) => sameSpec(d, s)),
  );

/** Writes the namespace into the field specs beyond the defaults that `configurations:` or a plugin config add. */
export const setCustomNamespaceFields = (resources: Resource[], namespace: string, specs: readonly FieldSpec[]): void => {
  const extra = customNamespaceSpecs(specs);
  if (!extra.length) return;
  for (const r of resources) {
    for (const spec of extra) {
      if (!specApplies(spec, r.obj)) continue;
      visitPath(r.obj, spec.path, (v) => (v === undefined || typeof v !== 'object' ? namespace : undefined), spec.create ?? false);
    }
  }
};

/** Kinds whose names a prefix or suffix never touches. */
const AFFIX_SKIPPED = (r: Resource): boolean => {
  const id = curId(r);
  return id.kind === 'CustomResourceDefinition' || id.kind === 'Namespace' || (id.kind === 'APIService' && id.group === 'apiregistration.k8s.io');
};

/**
 * Adds namePrefix and nameSuffix to every name they apply to, and to the other fields the prefix/suffix field specs
 * name (`configurations:` may add some); each spec applies to the kinds it names.
 */
export const addNameAffixes = (
  resources: Resource[],
  prefix: string | undefined,
  suffix: string | undefined,
  config: Pick<TransformerConfig, 'namePrefix' | 'nameSuffix'> = defaultTransformerConfig(),
): void => {
  for (const [affix, isPrefix] of [
    [prefix, true],
    [suffix, false],
  ] as const) {
    if (!affix) continue;
    const add = (v: string): string => (isPrefix ? `${affix}${v}` : `${v}${affix}`);
    for (const r of resources) {
      if (AFFIX_SKIPPED(r)) continue;
      for (const spec of isPrefix ? config.namePrefix : config.nameSuffix) {
        if (!specApplies(spec, r.obj)) continue;
        if (spec.path === 'metadata/name') {
          storePreviousId(r);
          const meta = metaOf(r.obj);
          meta.name = add(String(meta.name));
          (isPrefix ? r.prefixes : r.suffixes).push(affix);
          continue;
        }
        visitPath(r.obj, spec.path, (v) => (v === undefined ? add('') : typeof v === 'string' ? add(v) : undefined), spec.create ?? false);
      }
    }
  }
};

const applyMapField = (resources: Resource[], specs: readonly FieldSpec[], pairs: Record<string, string>): void => {
  if (!Object.keys(pairs).length) return;
  for (const r of resources) {
    for (const spec of specs) {
      if (!specApplies(spec, r.obj)) continue;
      visitPath(
        r.obj,
        spec.path,
        (v) => {
          const m = isMap(v) ? v : {};
          Object.assign(m, pairs);
          return m;
        },
        spec.create ?? false,
      );
    }
  }
};

const dedupe = (specs: readonly FieldSpec[]): FieldSpec[] => {
  const seen = new Set<string>();
  return specs.filter((s) => {
    const key = `${s.group ?? ''}|${s.version ?? ''}|${s.kind ?? ''}|${s.path}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
};

/** `labels` entries (each with its own reach), then `commonLabels`, through the level's field specs. */
export const applyLabels = (
  resources: Resource[],
  k: Kustomization,
  config: Pick<TransformerConfig, 'labels' | 'commonLabels' | 'templateLabels'> = defaultTransformerConfig(),
): void => {
  for (const label of k.labels) {
    const custom = (label.fields ?? []).filter(isMap).map((f) => ({ ...(f as object), create: f.create === true || f.create === 'true' }) as FieldSpec);
    const specs = label.includeSelectors
      ? [...custom, ...config.labels, ...config.commonLabels]
      : [...custom, ...config.labels, ...(label.includeTemplates ? config.templateLabels : []), { path: 'metadata/labels', create: true }];
    applyMapField(resources, dedupe(specs), label.pairs ?? {});
  }
  if (k.commonLabels) applyMapField(resources, config.commonLabels, k.commonLabels);
};

/** `commonAnnotations`, on objects and pod templates (or where the level's field specs say). */
export const applyAnnotations = (
  resources: Resource[],
  annotations: Record<string, string> | undefined,
  specs: readonly FieldSpec[] = defaultTransformerConfig().commonAnnotations,
): void => {
  if (annotations) applyMapField(resources, specs, annotations);
};

/** Writes `pairs` into every map field `specs` name (the LabelTransformer and AnnotationsTransformer plugins). */
export const applyMapFieldSpecs = (resources: Resource[], specs: readonly FieldSpec[], pairs: Record<string, string>): void => applyMapField(resources, specs, pairs);

/** Splits an image reference into name, tag and digest (Kustomize's image.Split). */
export const splitImage = (image: string): [name: string, tag: string, digest: string] => {
  let search = image;
  let slash = image.indexOf('/');
  if (slash > 0) search = image.slice(slash);
  else slash = 0;
  let at = search.indexOf('@');
  let colon = search.indexOf(':');
  if (colon < 0 && at < 0) return [image, '', ''];
  if (at >= 0 && (at < colon || colon < 0)) {
    at += slash;
    return [image.slice(0, at), '', image.slice(at + 1)];
  }
  if (at >= 0 && colon >= 0) {
    at += slash;
    colon += slash;
    return [image.slice(0, colon), image.slice(colon + 1, at), image.slice(at + 1)];
  }
  colon += slash;
  return [image.slice(0, colon), image.slice(colon + 1), ''];
};

const imageMatches = (value: string, name: string): boolean => {
  try {
    return new RegExp(`^${name}(@sha256)?(:[a-zA-Z0-9_.{}-]*)?(@sha256:[a-zA-Z0-9_.{}-]*)?$`).test(value);
  } catch {
    return false;
  }
};

type ImageRule = Kustomization['images'][number];

const updateImage = (value: unknown, rule: ImageRule): unknown => {
  if (typeof value !== 'string' || !imageMatches(value, rule.name)) return undefined;
  let [name, tag, digest] = splitImage(value);
  if (rule.newName) name = rule.newName;
  if (rule.newTag && rule.digest) {
    tag = rule.newTag;
    digest = rule.digest;
  } else if (rule.newTag) {
    tag = rule.newTag;
    digest = '';
  } else if (rule.digest) {
    tag = '';
    digest = rule.digest;
  }
  return `${name}${tag ? `:${tag}` : ''}${digest ? `@${digest}` : ''}`;
};

const visitContainers = (node: unknown, fn: (container: Record<string, unknown>) => void): void => {
  if (Array.isArray(node)) {
    for (const el of node) visitContainers(el, fn);
    return;
  }
  if (!isMap(node)) return;
  for (const [key, value] of Object.entries(node)) {
    if ((key === 'containers' || key === 'initContainers') && Array.isArray(value)) {
      for (const c of value) if (isMap(c)) fn(c);
    } else visitContainers(value, fn);
  }
};

/** `images`: new name, tag or digest for every container that uses a named image. */
export const applyImages = (resources: Resource[], images: Kustomization['images'], specs: readonly FieldSpec[] = defaultTransformerConfig().images): void => {
  for (const rule of images) {
    for (const r of resources) {
      visitContainers(r.obj, (c) => {
        const next = updateImage(c.image, rule);
        if (next !== undefined) c.image = next;
      });
      for (const spec of specs) if (specApplies(spec, r.obj)) visitPath(r.obj, spec.path, (v) => updateImage(v, rule));
    }
  }
};

/** `replicas`: sets spec.replicas on the workloads with that name. */
export const applyReplicas = (resources: Resource[], replicas: Kustomization['replicas'], specs: readonly FieldSpec[] = defaultTransformerConfig().replicas): void => {
  for (const rule of replicas) {
    let found = false;
    for (const spec of specs) {
      const matched = matchAnyId(resources, (id) => id.name === rule.name && gvkSelected(id, spec));
      for (const r of matched) {
        found = true;
        visitPath(r.obj, spec.path, () => rule.count, true);
      }
    }
    if (!found) throw new Error(`replicas: no Deployment, ReplicationController, ReplicaSet or StatefulSet named "${rule.name}"`);
  }
};
