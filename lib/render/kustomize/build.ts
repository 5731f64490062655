import { parseAllDocuments } from 'yaml';
import { RenderError } from '../../core/errors.js';
import type { KubeObject } from '../../core/object-ref.js';
import { isInOrBelow, joinPath, type FileTree } from '../file-tree.js';
import { posix } from 'node:path';
import {
  cloneWithStyles,
  GO_YAML_OPTIONS,
  GO_YAML_V2_OPTIONS,
  goYamlToJS,
  parseManifests,
  resolveAnnotationTexts,
  restyleAfterJsonRoundTrip,
  type PatchTextOptions,
} from '../yaml-documents.js';
import { generate, mergeGenerated, mergeOptions } from './generators.js';
import { applyJsonPatch, type JsonPatchOp } from './json-patch.js';
import { KUSTOMIZATION_FILES, parseKustomization, type Kustomization, type PatchEntry, type Replacement, type Selector } from './kustomization.js';
import { fixNameReferences } from './name-reference.js';
import { applyReplacements } from './replacements.js';
import { contentHash } from './hash.js';
import { defaultTransformerConfig, mergeTransformerConfigs, parseTransformerConfig } from './configurations.js';
import { parseCrdConfig } from './crd-config.js';
import { mergeAccumulation, mergeVars, newAccumulation, resolveVars, type Accumulation } from './vars.js';
import { runPluginGenerators, runPluginTransformers, type PluginHost } from './builtin-plugins.js';
import { defaultHelmContext, type HelmContext } from '../helm/render-helm.js';
import { inflateHelmCharts } from '../helm/kustomize-helm.js';
import { isMap } from '../../core/plain-object.js';
import { curId, formatId, idEquals, newResource, storePreviousId, setName, type Resource } from './resource.js';
import { matchAnyId, selectResources } from './select.js';
import { sortResources } from './sort.js';
import { BUILTIN_OPENAPI_VERSION, parseCustomSchema } from './openapi-schema.js';
import { hasMergeSchemaId, KindScopes, withKindScopes } from './scope.js';
import { hasBuiltinSchema, strategicMerge } from './strategic-merge.js';
import { addNameAffixes, applyAnnotations, applyImages, applyLabels, applyReplicas, setCustomNamespaceFields, setNamespace } from './transformers.js';

/** What a Kustomize build produced: objects in output order, and every file it read. */
export interface KustomizeResult {
  readonly objects: KubeObject[];
  readonly files: ReadonlySet<string>;
  /** Things Kustomize accepts silently but a user should hear about (a patch target that selects nothing). */
  readonly warnings: readonly string[];
}

const REMOTE = /^(https?:\/\/|git@|ssh:\/\/|git::|github\.com\/|gitlab\.com\/|bitbucket\.org\/)|\?ref=|\.git(\/\/|$)/;

/** The kustomization file in `dir`, or undefined when there is none. */
export const findKustomizationFile = async (tree: FileTree, dir: string): Promise<string | undefined> => {
  const found: string[] = [];
  for (const name of KUSTOMIZATION_FILES) {
    const p = dir ? `${dir}/${name}` : name;
    if ((await tree.kind(p)) === 'file') found.push(p);
  }
  if (found.length > 1) throw new RenderError(dir || '.', `found multiple kustomization files: ${found.join(', ')}`);
  return found[0];
};

/** Options of a build: the Helm context `helmCharts` are inflated with (`kubectl kustomize --enable-helm`); default defaultHelmContext(). */
export interface KustomizeOptions {
  readonly helm?: () => HelmContext | Promise<HelmContext>;
}

/** Renders a Kustomize directory as `kubectl kustomize DIR` (Kustomize v5.5) would. */
export const kustomize = async (tree: FileTree, dir: string, options: KustomizeOptions = {}): Promise<KustomizeResult> => {
  const b = new Builder(tree, options);
  return withKindScopes(b.scopes, () => build(b, dir));
};

const build = async (b: Builder, dir: string): Promise<KustomizeResult> => {
  // A Component built directly is built as a Kustomization is (kubectl kustomize accepts either).
  const acc = newAccumulation();
  const { resources, kustomization } = await b.accumulate(dir, [], 'any', acc);
  for (const r of resources) {
    if (r.generator?.hash) {
      const hash = contentHash(r.obj);
      storePreviousId(r);
      setName(r, `${curId(r).name}-${hash}`);
    }
  }
  wrap(dir, 'fixing name references', () => fixNameReferences(resources, acc.config.nameReference));
  wrap(dir, 'resolving vars', () => resolveVars(resources, acc));
  for (const r of resources) dropEmptyAnnotations(r);
  const ordered = sortResources(resources, kustomization.sortOptions);
  return { objects: ordered.map((r) => r.obj), files: b.files, warnings: b.warnings };
};

/**
 * Kustomize rewrites annotations as strings when it strips its build annotations, and an empty (or null) map
 * disappears; values that are not strings by now (from patches) print as their JSON text, collections as "".
 */
const dropEmptyAnnotations = (r: Resource): void => {
  const meta = r.obj.metadata;
  if (!isMap(meta) || !('annotations' in meta)) return;
  const annotations = meta.annotations;
  if (annotations === null || (isMap(annotations) && Object.keys(annotations).length === 0)) {
    delete meta.annotations;
    return;
  }
  if (!isMap(annotations)) return;
  for (const [k, v] of Object.entries(annotations)) {
    if (v === null || typeof v === 'number' || typeof v === 'boolean') annotations[k] = v === null ? 'null' : String(v);
    else if (typeof v === 'object') annotations[k] = ''; // a mapping or sequence has no scalar text
  }
};

const wrap = <T>(file: string, what: string, fn: () => T): T => {
  try {
    return fn();
  } catch (cause) {
    if (cause instanceof RenderError) throw cause;
    throw new RenderError(file, `${what}: ${(cause as Error).message}`, undefined, { cause });
  }
};

const wrapAsync = async <T>(file: string, what: string, fn: () => Promise<T>): Promise<T> => {
  try {
    return await fn();
  } catch (cause) {
    if (cause instanceof RenderError) throw cause;
    throw new RenderError(file, `${what}: ${(cause as Error).message}`, undefined, { cause });
  }
};

/** Whether a `transformers:`/`generators:` entry is inline YAML (a mapping) rather than a path (Kustomize tries both). */
const isInlineYaml = (entry: string): boolean => {
  try {
    return parseAllDocuments(entry).some((d) => !d.errors.length && isMap(d.toJS()));
  } catch {
    return false;
  }
};

class Builder {
  readonly files = new Set<string>();
  readonly warnings: string[] = [];
  /** Which kinds are cluster-scoped: Kustomize's built-in schema, plus the first `openapi` schema a kustomization names. */
  readonly scopes = new KindScopes();
  private schemaSet = false;
  private readonly stack: string[] = [];

  constructor(
    private readonly tree: FileTree,
    private readonly options: KustomizeOptions = {},
  ) {}

  private async readText(path: string, from: string): Promise<string> {
    this.files.add(path);
    try {
      return new TextDecoder().decode(await this.tree.read(path));
    } catch (cause) {
      if (cause instanceof RenderError) throw cause; // over the file limit
      throw new RenderError(from, `cannot read ${path}: no such file`, undefined, { cause });
    }
  }

  /**
   * A path relative to a kustomization directory that must stay inside it (Kustomize's root-only load
   * restriction): written with `..` or absolute, or a symbolic link whose target is elsewhere, it is refused.
   */
  private local(dir: string, rel: string, kustFile: string): string {
    const p = joinPath(dir, rel);
    const shown = p ?? posix.join(dir, rel);
    const refuse = () => new RenderError(kustFile, `security; file '${shown}' is not in or below '${dir || '.'}'`);
    if (p === undefined || !isInOrBelow(p, dir)) throw refuse();
    const real = this.tree.realPath(p);
    const realDir = this.tree.realPath(dir) ?? dir;
    if (real === undefined || !isInOrBelow(real, realDir)) throw refuse();
    if (real !== p) this.files.add(real);
    return p;
  }

  async accumulate(
    dir: string,
    ra: Resource[],
    expect: 'Kustomization' | 'Component' | 'any',
    acc: Accumulation = newAccumulation(),
  ): Promise<{ resources: Resource[]; kustomization: Kustomization }> {
    const kustFile = await findKustomizationFile(this.tree, dir);
    if (!kustFile) {
      throw new RenderError(dir || '.', `no kustomization.yaml, kustomization.yml or Kustomization in ${dir || '.'}`);
    }
    if (this.stack.includes(dir)) {
      throw new RenderError(kustFile, `cycle detected: ${[...this.stack, dir].join(' -> ')}`);
    }
    this.stack.push(dir);
    try {
      const k = parseKustomization(await this.readText(kustFile, kustFile), kustFile);
      // Kustomize's accumulateDirectory wording: a resources entry may not be a Component, a components entry must be one.
      if (expect === 'Component' && k.kind !== 'Component') {
        throw new RenderError(kustFile, `expected kind 'Component' for path '${dir || '.'}' but got '${k.kind}'`);
      }
      if (expect === 'Kustomization' && k.kind === 'Component') {
        throw new RenderError(kustFile, `expected kind != 'Component' for path '${dir || '.'}'; list it under components`);
      }
      await this.setSchema(dir, kustFile, k);
      for (const entry of k.resources) await this.addResource(dir, kustFile, entry, ra, acc);
      await this.mergeConfigurations(dir, kustFile, k, acc);
      // Generators run before components, components before transformers (Kustomize ≥ 5.1).
      ra = await this.runGenerators(dir, kustFile, k, ra);
      const generated = ra;
      ra = await wrapAsync(kustFile, 'generators', () => runPluginGenerators(k.generators, generated, this.pluginHost(dir, kustFile, acc)));
      for (const entry of k.components) {
        if (REMOTE.test(entry)) throw new RenderError(kustFile, `component "${entry}": remote components are not supported`);
        const p = joinPath(dir, entry);
        if (p === undefined || (await this.tree.kind(p)) !== 'dir') {
          throw new RenderError(kustFile, `component "${entry}": no such directory`);
        }
        ra = (await this.accumulate(p, ra, 'Component', acc)).resources;
      }
      ra = await this.runTransformers(dir, kustFile, k, ra, acc);
      const level = ra;
      wrap(kustFile, 'merging vars', () => mergeVars(acc, k.vars, level));
      return { resources: ra, kustomization: k };
    } finally {
      this.stack.pop();
    }
  }

  /**
   * Kustomize's openapi.SetSchema: the first kustomization loaded that names a schema sets it for the rest of the build,
   * a built-in version (only v1.21.2 is built in) or a schema file.
   */
  private async setSchema(dir: string, kustFile: string, k: Kustomization): Promise<void> {
    if (this.schemaSet || !k.openapi) return;
    const { version, path } = k.openapi;
    if (path !== undefined && version !== undefined) throw new RenderError(kustFile, 'openapi: builtin version and custom schema provided, cannot use both');
    if (path !== undefined) {
      const p = this.local(dir, path, kustFile);
      this.scopes.setCustom(parseCustomSchema(await this.readText(p, kustFile), p));
      this.schemaSet = true;
    } else if (version !== undefined) {
      if (version !== BUILTIN_OPENAPI_VERSION) throw new RenderError(kustFile, `openapi: the specified OpenAPI version is not built in (${version})`);
      this.schemaSet = true;
    }
  }

  private append(ra: Resource[], r: Resource, kustFile: string): void {
    const id = curId(r);
    this.scopes.noteLoaded(id);
    if (ra.some((o) => idEquals(curId(o), id))) {
      throw new RenderError(kustFile, `may not add resource with an already registered id: ${formatId(id)} (from ${r.origin})`);
    }
    ra.push(r);
  }

  private async addResource(dir: string, kustFile: string, entry: string, ra: Resource[], acc: Accumulation): Promise<void> {
    if (REMOTE.test(entry)) throw new RenderError(kustFile, `resource "${entry}": remote resources are not supported`);
    const p = joinPath(dir, entry);
    const kind = p === undefined ? undefined : await this.tree.kind(p);
    if (p === undefined || kind === undefined) {
      throw new RenderError(kustFile, `resource "${entry}": no such file or directory`);
    }
    if (kind === 'dir') {
      const subAcc = newAccumulation(acc);
      const sub = await this.accumulate(p, [], 'Kustomization', subAcc);
      for (const r of sub.resources) this.append(ra, r, kustFile);
      wrap(kustFile, `resource "${entry}"`, () => mergeAccumulation(acc, subAcc));
      return;
    }
    this.local(dir, entry, kustFile);
    const objects = parseManifests(await this.readText(p, kustFile), p, { annotationsAsText: true });
    // Any kind is an ordinary resource in a file, a Flux `Kustomization` or even a kustomization-shaped object.
    for (const obj of objects) this.append(ra, newResource(obj, p), kustFile);
  }

  private async runGenerators(dir: string, kustFile: string, k: Kustomization, ra: Resource[]): Promise<Resource[]> {
    const readLocal = async (rel: string) => {
      const p = this.local(dir, rel, kustFile);
      this.files.add(p);
      try {
        return await this.tree.read(p);
      } catch (cause) {
        if (cause instanceof RenderError) throw cause; // over the file limit
        throw new RenderError(kustFile, `cannot read ${rel}: no such file`, undefined, { cause });
      }
    };
    for (const [kind, list] of [
      ['ConfigMap', k.configMapGenerator],
      ['Secret', k.secretGenerator],
    ] as const) {
      for (const args of list) {
        const options = mergeOptions(args.options, k.generatorOptions);
        const obj = await wrap(kustFile, `${kind === 'ConfigMap' ? 'configMapGenerator' : 'secretGenerator'}`, () => generate(kind, args, options, readLocal));
        // Kustomize reads any other behavior as unspecified, which creates (NewGenerationBehavior).
        const behavior = args.behavior === 'merge' || args.behavior === 'replace' ? args.behavior : 'create';
        const res = newResource(obj, kustFile, { behavior, hash: !options.disableNameSuffixHash });
        const id = curId(res);
        const matches = matchAnyId(ra, (o) => idEquals(o, id));
        if (matches.length === 0) {
          if (behavior !== 'create') {
            throw new RenderError(kustFile, `generator "${args.name}": ${formatId(id)} does not exist; cannot merge or replace`);
          }
          this.append(ra, res, kustFile);
        } else if (matches.length === 1) {
          const old = matches[0] as Resource;
          if (behavior === 'create') {
            throw new RenderError(kustFile, `generator "${args.name}": ${formatId(id)} exists; behavior must be merge or replace`);
          }
          old.obj = mergeGenerated(old.obj, obj, behavior === 'merge');
          // Kustomize keeps the old object's build annotations, but drops its name-hash flag when the new
          // generator does not set one (CopyMergeMetaDataFieldsFrom): disableNameSuffixHash in an overlay wins.
          if (old.generator && options.disableNameSuffixHash) old.generator = { ...old.generator, hash: false };
        } else {
          throw new RenderError(kustFile, `generator "${args.name}": found multiple objects that could accept merge of ${formatId(id)}`);
        }
      }
    }
    if (k.helmCharts.length) {
      const inflated = await inflateHelmCharts(
        k,
        { tree: this.tree, dir, kustFile, local: (rel) => this.local(dir, rel, kustFile), readText: (p) => this.readText(p, kustFile) },
        await (this.options.helm ?? defaultHelmContext)(),
      );
      for (const f of inflated.files) this.files.add(f);
      for (const obj of inflated.objects) this.append(ra, newResource(obj, kustFile), kustFile);
    }
    return ra;
  }

  private async loadPatch(dir: string, kustFile: string, p: PatchEntry): Promise<{ text: string; file: string }> {
    if (p.path !== undefined) {
      const path = this.local(dir, p.path, kustFile);
      return { text: await this.readText(path, kustFile), file: path };
    }
    return { text: p.patch ?? '', file: kustFile };
  }

  /** Merges the defaults and this level's `configurations:` files into the accumulated transformer config. */
  private async mergeConfigurations(dir: string, kustFile: string, k: Kustomization, acc: Accumulation): Promise<void> {
    let own = defaultTransformerConfig();
    for (const entry of k.configurations) {
      if (REMOTE.test(entry)) throw new RenderError(kustFile, `configurations "${entry}": remote configurations are not supported`);
      const path = this.local(dir, entry, kustFile);
      const text = await this.readText(path, kustFile);
      own = wrap(path, 'configurations', () => mergeTransformerConfigs(own, parseTransformerConfig(text)));
    }
    acc.config = wrap(kustFile, 'configurations', () => mergeTransformerConfigs(acc.config, own));
    // Kustomize merges the `crds:` field specs after the configurations (accumulateTarget).
    const listed = `loading CRDs [${k.crds.join(' ')}]`;
    for (const entry of k.crds) {
      if (REMOTE.test(entry)) throw new RenderError(kustFile, `${listed}: remote files are not supported`);
      const path = this.local(dir, entry, kustFile);
      const text = await this.readText(path, kustFile);
      acc.config = wrap(path, listed, () => {
        let crd;
        try {
          crd = parseCrdConfig(text);
        } catch (err) {
          throw new Error(`unable to parse open API definition from '${entry}': ${(err as Error).message}`, { cause: err });
        }
        return mergeTransformerConfigs(acc.config, crd);
      });
    }
  }

  /** The hooks `transformers:` and `generators:` plugin configs run through. */
  private pluginHost(dir: string, kustFile: string, acc: Accumulation): PluginHost {
    return {
      kustFile,
      loadConfigs: (entries, field) => this.loadPluginConfigs(dir, kustFile, entries, field, acc),
      transform: (k, ra) => this.runTransformers(dir, kustFile, k, ra, acc),
      generate: (k, ra) => this.runGenerators(dir, kustFile, k, ra),
    };
  }

  private async loadPluginConfigs(dir: string, kustFile: string, entries: readonly string[], field: 'transformers' | 'generators', acc: Accumulation): Promise<KubeObject[]> {
    const out: KubeObject[] = [];
    for (const entry of entries) {
      if (isInlineYaml(entry)) {
        out.push(...parseManifests(entry, kustFile));
        continue;
      }
      if (REMOTE.test(entry)) throw new RenderError(kustFile, `${field} "${entry}": remote plugin configs are not supported`);
      const p = joinPath(dir, entry);
      const kind = p === undefined ? undefined : await this.tree.kind(p);
      if (p === undefined || kind === undefined) throw new RenderError(kustFile, `${field} "${entry}": no such file or directory`);
      if (kind === 'dir') {
        out.push(...(await this.accumulate(p, [], 'Kustomization', newAccumulation(acc))).resources.map((r) => r.obj));
        continue;
      }
      this.local(dir, entry, kustFile);
      out.push(...parseManifests(await this.readText(p, kustFile), p));
    }
    return out;
  }

  private async runTransformers(dir: string, kustFile: string, k: Kustomization, ra: Resource[], acc: Accumulation = newAccumulation()): Promise<Resource[]> {
    const tc = acc.config.namePrefix.length ? acc.config : defaultTransformerConfig();
    // 1. patchesStrategicMerge (legacy): each entry is a file or inline YAML; each document names its target.
    for (const entry of k.patchesStrategicMerge) {
      const inline = entry.includes('\n') || /^\s*(apiVersion|kind|metadata)\s*:/.test(entry);
      const { text, file } = inline ? { text: entry, file: kustFile } : await this.loadPatch(dir, kustFile, { path: entry });
      for (const patch of parsePatchDocs(text, file)) ra = applySmpById(ra, patch, file);
    }
    // 2. patches: strategic merge or JSON 6902, by target selector or by the patch's own id.
    for (const [i, p] of k.patches.entries()) {
      const { text, file } = await this.loadPatch(dir, kustFile, p);
      if (p.target && selectResources(ra, p.target).length === 0) {
        this.warnings.push(`${kustFile}: patches[${i}] selects no resource (${describeSelector(p.target)})`);
      }
      ra = wrap(file, `patches[${i}]`, () => applyPatch(ra, text, file, p.target, p.options));
    }
    // 3–7. namespace, prefix/suffix, labels, annotations.
    if (k.namespace) {
      const ns = k.namespace;
      wrap(kustFile, 'namespace', () => setNamespace(ra, ns));
      setCustomNamespaceFields(ra, ns, tc.namespace);
    }
    addNameAffixes(ra, k.namePrefix, k.nameSuffix, tc);
    applyLabels(ra, k, tc);
    applyAnnotations(ra, k.commonAnnotations, tc.commonAnnotations);
    // 8. patchesJson6902 (legacy).
    for (const [i, p] of k.patchesJson6902.entries()) {
      const { text, file } = await this.loadPatch(dir, kustFile, p);
      const ops = parseJsonPatch(text, file);
      if (!ops) throw new RenderError(file, `patchesJson6902[${i}] is not a JSON patch`);
      if (selectResources(ra, p.target).length === 0) {
        this.warnings.push(`${kustFile}: patchesJson6902[${i}] selects no resource (${describeSelector(p.target)})`);
      }
      ra = wrap(file, `patchesJson6902[${i}]`, () => applyJson6902(ra, ops, p.target, file, false));
    }
    // 9–11. replicas, images, replacements.
    wrap(kustFile, 'replicas', () => applyReplicas(ra, k.replicas, tc.replicas));
    applyImages(ra, k.images, tc.images);
    if (k.replacements.length) {
      const replacements: Replacement[] = [];
      for (const r of k.replacements) {
        if (r.path !== undefined) {
          const path = this.local(dir, r.path, kustFile);
          for (const doc of parsePatchDocs(await this.readText(path, kustFile), path, true)) {
            // Kustomize reads a replacements file without refusing unknown fields.
            const loaded = parseKustomization(`replacements:\n${indent(doc)}`, path, { strict: false }).replacements;
            replacements.push(...loaded);
          }
        } else replacements.push(r);
      }
      wrap(kustFile, 'replacements', () => applyReplacements(ra, replacements));
    }
    // 12. transformers: built-in plugins configured by file or inline, in order.
    return wrapAsync(kustFile, 'transformers', () => runPluginTransformers(k.transformers, ra, this.pluginHost(dir, kustFile, acc)));
  }
}

const describeSelector = (sel: Selector): string =>
  Object.entries(sel)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(', ');

const indent = (value: unknown): string => {
  const items = Array.isArray(value) ? value : [value];
  return items.map((v) => `- ${JSON.stringify(v)}`).join('\n');
};

/** Parses patch documents (empty ones skipped). */
const parsePatchDocs = (text: string, file: string, allowLists = false, metadataAsText: PatchTextOptions['metadataAsText'] = 'by-id'): Record<string, unknown>[] => {
  const out: Record<string, unknown>[] = [];
  for (const doc of parseAllDocuments(text, GO_YAML_OPTIONS)) {
    if (doc.errors[0]) throw new RenderError(file, `invalid YAML in patch: ${doc.errors[0].message.split('\n')[0]}`);
    const v = goYamlToJS(doc, text, { metadataAsText });
    if (v === null || v === undefined) continue;
    if (allowLists && Array.isArray(v)) {
      out.push(...(v as Record<string, unknown>[]));
      continue;
    }
    if (!isMap(v)) throw new RenderError(file, 'a strategic merge patch must be a mapping');
    out.push(v);
  }
  return out;
};

/** A JSON 6902 patch is a list of operations (YAML or JSON); anything else is undefined. */
const parseJsonPatch = (text: string, file: string): JsonPatchOp[] | undefined => {
  // Kustomize converts a JSON patch with sigs.k8s.io/yaml (go-yaml v2): `value: yes` is true there.
  const docs = parseAllDocuments(text, GO_YAML_V2_OPTIONS);
  if (docs.length !== 1) return undefined;
  const doc = docs[0];
  if (!doc || doc.errors[0]) {
    if (doc?.errors[0]) throw new RenderError(file, `invalid YAML in patch: ${doc.errors[0].message.split('\n')[0]}`);
    return undefined;
  }
  const v = goYamlToJS(doc, text);
  return Array.isArray(v) ? (v as JsonPatchOp[]) : undefined;
};

const applySmpById = (ra: Resource[], patch: Record<string, unknown>, file: string): Resource[] => {
  const pid = curId(patch);
  if (!pid.kind || !pid.name) throw new RenderError(file, 'a patch without a target must name its kind and metadata.name');
  const matches = matchAnyId(ra, (id) => idEquals(id, pid));
  if (matches.length === 0) throw new RenderError(file, `no resource matches strategic merge patch ${formatId(pid)}`);
  if (matches.length > 1) throw new RenderError(file, `multiple resources match strategic merge patch ${formatId(pid)}`);
  return applySmpTo(ra, matches[0] as Resource, patch);
};

const applySmpTo = (ra: Resource[], r: Resource, patch: Record<string, unknown>): Resource[] => {
  const p = cloneWithStyles(patch);
  // Target identity comes from the resource, not the patch (Kustomize copies name, namespace and GVK over).
  const meta = isMap(p.metadata) ? p.metadata : {};
  const cur = curId(r);
  meta.name = cur.name;
  if (cur.namespace) meta.namespace = cur.namespace;
  else delete meta.namespace;
  p.metadata = meta;
  p.apiVersion = r.obj.apiVersion;
  p.kind = r.obj.kind;
  const merged = strategicMerge(r.obj, p, cur.kind, cur.group, hasMergeSchemaId(cur, hasBuiltinSchema(cur.group)));
  if (merged === undefined) return ra.filter((x) => x !== r);
  r.obj = merged;
  return ra;
};

const applyPatch = (ra: Resource[], text: string, file: string, target: Selector | undefined, _options: PatchEntry['options']): Resource[] => {
  const ops = parseJsonPatch(text, file);
  if (ops) {
    if (!target) throw new RenderError(file, 'a JSON 6902 patch must have a target');
    return applyJson6902(ra, ops, target, file, true);
  }
  const docs = parsePatchDocs(text, file, false, target ? 'targeted' : 'by-id');
  if (!docs.length) throw new RenderError(file, 'the patch is empty');
  if (!target) {
    for (const d of docs) ra = applySmpById(ra, d, file);
    return ra;
  }
  const selected = selectResources(ra, target);
  for (const r of selected) for (const d of docs) ra = applySmpTo(ra, r, d);
  return ra;
};

/**
 * During a build Kustomize keeps its own annotations on every resource, so a JSON patch always finds
 * metadata.annotations (`add /metadata/annotations/x` works on a resource without any); empty ones are dropped later.
 */
const withAnnotationsMap = (obj: Record<string, unknown>): Record<string, unknown> => {
  const meta = obj.metadata;
  if (!isMap(meta) || isMap(meta.annotations)) return obj;
  return { ...obj, metadata: { ...meta, annotations: {} } };
};

const applyJson6902 = (ra: Resource[], ops: JsonPatchOp[], target: Selector, file: string, storePrevious: boolean): Resource[] => {
  for (const r of selectResources(ra, target)) {
    const before = curId(r);
    let next: unknown;
    try {
      resolveAnnotationTexts(r.obj);
      next = applyJsonPatch(withAnnotationsMap(r.obj), ops);
    } catch (cause) {
      throw new RenderError(file, `${formatId(before)}: ${(cause as Error).message}`, undefined, { cause });
    }
    if (!isMap(next)) throw new RenderError(file, `${formatId(before)}: the patch did not leave an object`);
    restyleAfterJsonRoundTrip(next); // Kustomize applies a JSON patch to the resource's JSON, and reads the result back
    r.obj = next;
    const after = curId(r);
    // A JSON patch may rename or re-kind its target without options. Under `patches` Kustomize stores the previous
    // id, so references follow; the legacy patchesJson6902 transformer does not, and references keep the old name.
    if (storePrevious && !idEquals(after, before)) r.prevIds.push(before);
  }
  return ra;
};
