import { parseAllDocuments, stringify } from 'yaml';
import type { KubeObject } from '../../core/object-ref.js';
import { isList, isMap } from '../../core/plain-object.js';
import { parsePluginFieldSpecs } from './configurations.js';
import { parseKustomization, type Kustomization } from './kustomization.js';
import { curId, formatId, type Resource } from './resource.js';
import { addNameAffixes, applyImages, applyMapFieldSpecs, applyReplicas, setCustomNamespaceFields, setNamespace } from './transformers.js';

// `transformers:` and `generators:` entries that configure Kustomize's built-in plugins (`apiVersion: builtin`).
// Each config is mapped onto the renderer's own implementation of that plugin; anything else would run code
// (exec, Go or KRM function plugins) and is refused.

/** What the build offers a plugin: the kustomization's own patch, generator and replacement machinery. */
export interface PluginHost {
  /** The kustomization file the entries are listed in (for errors and relative paths). */
  readonly kustFile: string;
  /** The plugin config objects of `transformers:` or `generators:` entries: inline YAML, files or directories. */
  loadConfigs(entries: readonly string[], field: 'transformers' | 'generators'): Promise<KubeObject[]>;
  /** Runs the patches, patchesStrategicMerge, patchesJson6902 and replacements of a kustomization fragment. */
  transform(k: Kustomization, ra: Resource[]): Promise<Resource[]>;
  /** Runs the configMapGenerator and secretGenerator of a kustomization fragment. */
  generate(k: Kustomization, ra: Resource[]): Promise<Resource[]>;
}

const TRANSFORMERS = new Set([
  'AnnotationsTransformer',
  'ImageTagTransformer',
  'LabelTransformer',
  'NamespaceTransformer',
  'PatchJson6902Transformer',
  'PatchStrategicMergeTransformer',
  'PatchTransformer',
  'PrefixSuffixTransformer',
  'PrefixTransformer',
  'SuffixTransformer',
  'ReplicaCountTransformer',
  'ReplacementTransformer',
]);
const GENERATORS = new Set(['ConfigMapGenerator', 'SecretGenerator']);
/** Built-in plugins Kustomize has that the renderer does not offer through plugin configs. */
const REFUSED: Readonly<Record<string, string>> = {
  HelmChartInflationGenerator: 'list the chart under helmCharts instead',
  IAMPolicyGenerator: 'it is not supported by the driftless renderer',
  HashTransformer: 'it is not supported by the driftless renderer',
  SortOrderTransformer: 'use sortOptions instead',
  ValueAddTransformer: 'it is not supported by the driftless renderer',
};

const describePlugin = (c: KubeObject): string => formatId(curId(c));

/** Fails unless `c` is a built-in plugin of the wanted role; names the plugin and why. */
const checkPlugin = (c: KubeObject, field: 'transformers' | 'generators'): string => {
  const apiVersion = String(c.apiVersion ?? '');
  const kind = String(c.kind ?? '');
  if (apiVersion !== 'builtin') {
    throw new Error(
      `external plugins disabled; unable to load external plugin '${kind}': ${describePlugin(c)} (apiVersion "${apiVersion}") is an exec, Go or KRM function plugin, which runs code; the driftless renderer runs only apiVersion: builtin plugins`,
    );
  }
  const refused = REFUSED[kind];
  if (refused) throw new Error(`builtin plugin ${kind}: ${refused}`);
  if (!TRANSFORMERS.has(kind) && !GENERATORS.has(kind)) throw new Error(`unable to load builtin ${kind}: no such built-in plugin`);
  if (field === 'transformers' && !TRANSFORMERS.has(kind)) throw new Error(`plugin ${describePlugin(c)} not a transformer`);
  if (field === 'generators' && !GENERATORS.has(kind)) throw new Error(`plugin ${describePlugin(c)} not a generator`);
  return kind;
};

const fragment = (raw: Record<string, unknown>, file: string): Kustomization => parseKustomization(JSON.stringify(raw), file);

const stringMap = (v: unknown, what: string): Record<string, string> => {
  if (v === undefined || v === null) return {};
  if (!isMap(v)) throw new Error(`${what} must be a mapping`);
  for (const [k, val] of Object.entries(v)) if (typeof val !== 'string') throw new Error(`${what}.${k} must be a string`);
  return v as Record<string, string>;
};

const CONFIG_FIELDS = [
  'fieldSpecs',
  'labels',
  'annotations',
  'prefix',
  'suffix',
  'imageTag',
  'replica',
  'target',
  'path',
  'patch',
  'options',
  'jsonOp',
  'paths',
  'patches',
  'replacements',
  'unsetOnly',
  'setRoleBindingSubjects',
  'metadata',
];

/** Config keys in their documented spelling: Kustomize decodes plugin configs with Go's case-insensitive JSON matching. */
const foldKeys = (c: KubeObject): KubeObject => {
  const byLower = new Map(CONFIG_FIELDS.map((k) => [k.toLowerCase(), k]));
  return Object.fromEntries(Object.entries(c).map(([k, v]) => [byLower.get(k.toLowerCase()) ?? k, v]));
};

const definedOnly = (o: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null));

/** Runs the `transformers:` of a kustomization, in order, after its built-in transformers (Kustomize's runTransformers). */
export const runPluginTransformers = async (entries: readonly string[], ra: Resource[], host: PluginHost): Promise<Resource[]> => {
  if (!entries.length) return ra;
  for (const raw of await host.loadConfigs(entries, 'transformers')) {
    const kind = checkPlugin(raw, 'transformers');
    const c = foldKeys(raw);
    const what = `${kind} ${String((c.metadata as Record<string, unknown> | undefined)?.name ?? '')}`.trim();
    const fieldSpecs = (): ReturnType<typeof parsePluginFieldSpecs> => parsePluginFieldSpecs(c.fieldSpecs, `${what}: fieldSpecs`);
    switch (kind) {
      case 'LabelTransformer':
        applyMapFieldSpecs(ra, fieldSpecs(), stringMap(c.labels, `${what}: labels`));
        break;
      case 'AnnotationsTransformer':
        applyMapFieldSpecs(ra, fieldSpecs(), stringMap(c.annotations, `${what}: annotations`));
        break;
      case 'PrefixSuffixTransformer':
      case 'PrefixTransformer':
      case 'SuffixTransformer': {
        if (c.fieldSpecs === undefined || c.fieldSpecs === null) throw new Error(`${what}: fieldSpecs is not expected to be nil`);
        const specs = fieldSpecs();
        const prefix = kind === 'SuffixTransformer' ? undefined : c.prefix;
        const suffix = kind === 'PrefixTransformer' ? undefined : c.suffix;
        for (const [v, name] of [
          [prefix, 'prefix'],
          [suffix, 'suffix'],
        ] as const) {
          if (v !== undefined && v !== null && typeof v !== 'string') throw new Error(`${what}: ${name} must be a string`);
        }
        addNameAffixes(ra, prefix as string | undefined, suffix as string | undefined, { namePrefix: specs, nameSuffix: specs });
        break;
      }
      case 'NamespaceTransformer': {
        const meta = isMap(c.metadata) ? c.metadata : {};
        const ns = meta.namespace;
        const mode = c.setRoleBindingSubjects ?? 'defaultOnly';
        if (mode !== 'defaultOnly' && mode !== 'none' && mode !== 'allServiceAccounts') {
          throw new Error(`${what}: invalid value "${String(mode)}" for setRoleBindingSubjects: must be one of "defaultOnly", "none" or "allServiceAccounts"`);
        }
        if (typeof ns === 'string' && ns) {
          // unsetOnly leaves objects that already name a namespace alone.
          const targets = c.unsetOnly === true ? ra.filter((r) => !curId(r).namespace) : ra;
          const restore = mode === 'defaultOnly' ? undefined : snapshotSubjects(targets);
          setNamespace(targets, ns);
          restore?.();
          if (mode === 'allServiceAccounts') {
            for (const s of bindingSubjects(targets)) if (s.kind === 'ServiceAccount') s.namespace = ns;
          }
          setCustomNamespaceFields(targets, ns, fieldSpecs());
        }
        break;
      }
      case 'ImageTagTransformer': {
        const tag = isMap(c.imageTag) ? c.imageTag : undefined;
        if (!tag || typeof tag.name !== 'string') throw new Error(`${what}: imageTag needs a name`);
        const image = fragment({ images: [tag] }, host.kustFile).images;
        applyImages(ra, image, fieldSpecs());
        break;
      }
      case 'ReplicaCountTransformer': {
        const replica = isMap(c.replica) ? c.replica : undefined;
        if (!replica) throw new Error(`${what}: replica needs a name and count`);
        applyReplicas(ra, fragment({ replicas: [replica] }, host.kustFile).replicas, fieldSpecs());
        break;
      }
      case 'PatchTransformer':
        ra = await host.transform(fragment({ patches: [definedOnly({ path: c.path, patch: c.patch, target: c.target, options: c.options })] }, host.kustFile), ra);
        break;
      case 'PatchJson6902Transformer':
        if (!isMap(c.target)) throw new Error(`${what}: must specify a target for patch`);
        if (typeof c.target.name !== 'string' || !c.target.name) throw new Error(`${what}: must specify the target name`);
        if (!c.path && !c.jsonOp) throw new Error(`${what}: empty file path and empty jsonOp`);
        if (c.path && c.jsonOp) throw new Error(`${what}: must specify a file path or jsonOp, not both`);
        ra = await host.transform(fragment({ patchesJson6902: [definedOnly({ target: c.target, path: c.path, patch: c.jsonOp })] }, host.kustFile), ra);
        break;
      case 'PatchStrategicMergeTransformer': {
        const paths = isList(c.paths) ? c.paths : [];
        const inline = typeof c.patches === 'string' && c.patches.trim() ? splitDocs(c.patches) : [];
        if (!paths.length && !inline.length) throw new Error(`${what}: empty file path and empty patch content`);
        ra = await host.transform(fragment({ patchesStrategicMerge: [...paths, ...inline] }, host.kustFile), ra);
        break;
      }
      case 'ReplacementTransformer':
        ra = await host.transform(fragment({ replacements: Array.isArray(c.replacements) ? c.replacements : [] }, host.kustFile), ra);
        break;
      default:
        throw new Error(`unable to load builtin ${kind}`);
    }
  }
  return ra;
};

/** The subjects of the (Cluster)RoleBindings among `ra`. */
const bindingSubjects = (ra: readonly Resource[]): Record<string, unknown>[] =>
  ra.filter((r) => r.obj.kind === 'RoleBinding' || r.obj.kind === 'ClusterRoleBinding').flatMap((r) => (Array.isArray(r.obj.subjects) ? r.obj.subjects.filter(isMap) : []));

/** Records binding subjects' namespaces; the returned function puts them back (setRoleBindingSubjects other than defaultOnly). */
const snapshotSubjects = (ra: readonly Resource[]): (() => void) => {
  const saved = bindingSubjects(ra).map((s) => [s, 'namespace' in s, s.namespace] as const);
  return () => {
    for (const [s, had, value] of saved) {
      if (had) s.namespace = value;
      else delete s.namespace;
    }
  };
};

/** Each document of an inline `patches:` string, as its own inline patch. */
const splitDocs = (text: string): string[] =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as unknown)
    .filter((v) => v !== null && v !== undefined)
    .map((v) => stringify(v));

/** Runs the `generators:` of a kustomization after its built-in generators (Kustomize's runGenerators). */
export const runPluginGenerators = async (entries: readonly string[], ra: Resource[], host: PluginHost): Promise<Resource[]> => {
  if (!entries.length) return ra;
  for (const c of await host.loadConfigs(entries, 'generators')) {
    const kind = checkPlugin(c, 'generators');
    const meta = isMap(c.metadata) ? c.metadata : {};
    const { apiVersion: _a, kind: _k, metadata: _m, ...args } = c;
    const gen = definedOnly({ ...args, name: meta.name, namespace: meta.namespace });
    const key = kind === 'ConfigMapGenerator' ? 'configMapGenerator' : 'secretGenerator';
    ra = await host.generate(fragment({ [key]: [gen] }, host.kustFile), ra);
  }
  return ra;
};
