import { LineCounter, parseDocument } from 'yaml';
import { aliasBomb, isAliasBomb } from '../limits.js';
import { RenderError } from '../../core/errors.js';
import { isMap } from '../../core/plain-object.js';
import { parseVars, type VarDecl } from './vars.js';
import { decodeKustomizationFields, UnknownFieldError } from './kustomization-fields.js';

/** The file names Kustomize accepts for a kustomization, in its order of preference. */
export const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'] as const;

type Str = Record<string, string>;

export interface Selector {
  group?: string;
  version?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  labelSelector?: string;
  annotationSelector?: string;
}

export interface PatchEntry {
  path?: string;
  patch?: string;
  target?: Selector;
  options?: { allowNameChange?: boolean; allowKindChange?: boolean };
}

export interface GeneratorOptions {
  labels?: Str;
  annotations?: Str;
  disableNameSuffixHash?: boolean;
  immutable?: boolean;
}

export interface GeneratorArgs {
  name?: string;
  namespace?: string;
  behavior?: string;
  literals?: string[];
  files?: string[];
  envs?: string[];
  env?: string;
  type?: string;
  options?: GeneratorOptions;
}

export interface ReplacementOptions {
  delimiter?: string;
  index?: number;
  create?: boolean;
}

export interface Replacement {
  path?: string;
  source?: Selector & { fieldPath?: string; options?: ReplacementOptions };
  targets?: { select?: Selector; reject?: Selector[]; fieldPaths?: string[]; options?: ReplacementOptions }[];
}

/** A parsed kustomization (the fields driftless renders; others are refused). */
export interface Kustomization {
  kind: 'Kustomization' | 'Component';
  resources: string[];
  components: string[];
  namespace?: string;
  namePrefix?: string;
  nameSuffix?: string;
  commonLabels?: Str;
  labels: { pairs?: Str; includeSelectors?: boolean; includeTemplates?: boolean; fields?: unknown[] }[];
  commonAnnotations?: Str;
  images: { name: string; newName?: string; newTag?: string; digest?: string; tagSuffix?: string }[];
  replicas: { name: string; count: number }[];
  patches: PatchEntry[];
  patchesStrategicMerge: string[];
  patchesJson6902: (PatchEntry & { target: Selector })[];
  configMapGenerator: GeneratorArgs[];
  secretGenerator: GeneratorArgs[];
  generatorOptions?: GeneratorOptions;
  replacements: Replacement[];
  sortOptions?: { order: 'legacy' | 'fifo'; legacySortOptions?: { orderFirst?: string[]; orderLast?: string[] } };
  /** Raw `helmCharts` entries and `helmGlobals`, checked by the Helm module (lib/render/helm/kustomize-helm.ts). */
  helmCharts: unknown[];
  helmGlobals?: unknown;
  /** `openapi`: a built-in schema version or a schema file (`path`) that decides which kinds are cluster-scoped. */
  openapi?: { version?: string; path?: string };
  /** Files of custom field specs (lib/render/kustomize/configurations.ts). */
  configurations: string[];
  /** Files of OpenAPI definitions whose extensions add field specs (lib/render/kustomize/crd-config.ts). */
  crds: string[];
  /** Deprecated `vars:` (lib/render/kustomize/vars.ts). */
  vars: VarDecl[];
  /** Plugin configs: file paths, directories or inline YAML (lib/render/kustomize/builtin-plugins.ts). */
  transformers: string[];
  generators: string[];
}

const KNOWN = new Set([
  'apiVersion',
  'kind',
  'metadata',
  'resources',
  'bases',
  'components',
  'namespace',
  'namePrefix',
  'nameSuffix',
  'commonLabels',
  'labels',
  'commonAnnotations',
  'images',
  'replicas',
  'patches',
  'patchesStrategicMerge',
  'patchesJson6902',
  'configMapGenerator',
  'secretGenerator',
  'generatorOptions',
  'replacements',
  'sortOptions',
  'helmCharts',
  'helmGlobals',
  'openapi',
  'configurations',
  'crds',
  'vars',
  'transformers',
  'generators',
]);
const UNSUPPORTED = new Set(['helmChartInflationGenerator', 'validators', 'inventory', 'imageTags', 'buildMetadata']);

/** The apiVersion each kind of kustomization file must have (when it sets one). */
export const KUSTOMIZATION_API_VERSIONS = {
  Kustomization: 'kustomize.config.k8s.io/v1beta1',
  Component: 'kustomize.config.k8s.io/v1alpha1',
} as const;

/** Fields whose empty string Kustomize reads as unset. */
const STRING_FIELDS = new Set(['namespace', 'namePrefix', 'nameSuffix']);

/**
 * Kustomize's CheckEmpty: nothing but apiVersion and kind is set (null fields and empty strings count as unset;
 * an empty list or mapping does not).
 */
const isEmptyKustomization = (raw: Record<string, unknown>): boolean =>
  Object.entries(raw).every(([key, v]) => key === 'apiVersion' || key === 'kind' || v === null || v === undefined || (STRING_FIELDS.has(key) && v === ''));

/** Kustomize's EnforceFields, in its wording: the kind, and the apiVersion that kind requires. */
const checkKindAndVersion = (kind: unknown, apiVersion: unknown): string[] => {
  const errs: string[] = [];
  if (kind !== 'Kustomization' && kind !== 'Component') errs.push('kind should be Kustomization or Component');
  const required = kind === 'Component' ? KUSTOMIZATION_API_VERSIONS.Component : KUSTOMIZATION_API_VERSIONS.Kustomization;
  if (apiVersion !== undefined && apiVersion !== null && apiVersion !== '' && apiVersion !== required) {
    errs.push(`apiVersion for ${String(kind)} should be ${required}`);
  }
  return errs;
};

/** How a kustomization is read. */
export interface ParseKustomizationOptions {
  /** Refuse unknown fields in nested structs, as Kustomize does for a kustomization file (not for a replacements file). @default true */
  readonly strict?: boolean;
}

/** Parses kustomization text and checks field types as Kustomize's typed structs do (a number is not a string). */
export const parseKustomization = (text: string, file: string, options: ParseKustomizationOptions = {}): Kustomization => {
  const lineCounter = new LineCounter();
  // As Kustomize's YAMLToJSON (go-yaml v2): a repeated key takes the last value, `<<` merges an anchored mapping.
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false, merge: true });
  const err = doc.errors[0];
  if (err) throw new RenderError(file, `invalid YAML: ${(err.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`, lineCounter.linePos(err.pos[0]).line);
  let parsed: unknown;
  try {
    parsed = (doc.toJS() ?? {}) as unknown;
  } catch (err) {
    if (isAliasBomb(err)) throw aliasBomb(file, 100);
    throw err;
  }
  if (!isMap(parsed)) throw new RenderError(file, 'a kustomization must be a mapping');
  const fail = (msg: string): never => {
    throw new RenderError(file, msg);
  };
  let raw: Record<string, unknown>;
  try {
    raw = decodeKustomizationFields(parsed, new Set([...KNOWN, ...UNSUPPORTED]), options.strict ?? true);
  } catch (err) {
    if (err instanceof UnknownFieldError) return fail(`invalid kustomization: ${err.message}`);
    throw err;
  }
  for (const key of Object.keys(raw)) {
    if (UNSUPPORTED.has(key)) fail(`field "${key}" is not supported by the driftless renderer`);
    if (!KNOWN.has(key)) fail(`invalid kustomization: unknown field "${key}"`);
  }
  const rawKind = raw.kind === undefined || raw.kind === null || raw.kind === '' ? 'Kustomization' : raw.kind;
  if (isEmptyKustomization(raw)) fail('kustomization.yaml is empty');
  const wrong = checkKindAndVersion(rawKind, raw.apiVersion);
  if (wrong.length) fail(wrong.join('; '));
  const kind = rawKind as Kustomization['kind'];

  const list = <T = string>(key: string, strings = false): T[] => {
    const v = raw[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) return fail(`invalid kustomization: ${key} must be a list`);
    if (strings) v.forEach((e, i) => typeof e !== 'string' && fail(`invalid kustomization: ${key}[${i}] must be a string`));
    return v as T[];
  };
  const map = (key: string, v: unknown = raw[key]): Str | undefined => {
    if (v === undefined || v === null) return undefined;
    if (!isMap(v)) return fail(`invalid kustomization: ${key} must be a mapping`);
    for (const [k, val] of Object.entries(v)) {
      if (typeof val !== 'string') fail(`invalid kustomization: ${key}.${k} must be a string (quote it)`);
    }
    return v as Str;
  };
  const str = (key: string): string | undefined => {
    const v = raw[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') return fail(`invalid kustomization: ${key} must be a string (quote it)`);
    return v;
  };
  const bool = (v: unknown, what: string): boolean | undefined => {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') return fail(`invalid kustomization: ${what} must be true or false`);
    return v;
  };
  const int = (v: unknown, what: string): number => {
    if (typeof v !== 'number' || !Number.isInteger(v)) return fail(`invalid kustomization: ${what} must be an integer`);
    return v;
  };
  const strField = (obj: Record<string, unknown>, key: string, what: string): void => {
    if (obj[key] !== undefined && obj[key] !== null && typeof obj[key] !== 'string') {
      fail(`invalid kustomization: ${what}.${key} must be a string (quote it)`);
    }
  };
  const genOptions = (v: unknown, what: string): GeneratorOptions | undefined => {
    if (v === undefined || v === '') return undefined;
    if (!isMap(v)) return fail(`${what} must be a mapping`);
    const o: GeneratorOptions = {};
    const labels = map(`${what}.labels`, v.labels);
    const annotations = map(`${what}.annotations`, v.annotations);
    const d = bool(v.disableNameSuffixHash, `${what}.disableNameSuffixHash`);
    const imm = bool(v.immutable, `${what}.immutable`);
    if (labels) o.labels = labels;
    if (annotations) o.annotations = annotations;
    if (d !== undefined) o.disableNameSuffixHash = d;
    if (imm !== undefined) o.immutable = imm;
    return o;
  };
  const replOptions = (v: unknown, what: string): ReplacementOptions | undefined => {
    if (!isMap(v)) return undefined;
    const o: ReplacementOptions = {};
    if (typeof v.delimiter === 'string') o.delimiter = v.delimiter;
    if (v.index !== undefined) o.index = int(v.index, `${what}.index`);
    const c = bool(v.create, `${what}.create`);
    if (c !== undefined) o.create = c;
    return o;
  };

  const generators = (key: string): GeneratorArgs[] =>
    list<Record<string, unknown>>(key).map((g, i) => {
      if (!isMap(g)) return fail(`${key}[${i}] must be a mapping`);
      const options = genOptions(g.options, `${key}[${i}].options`);
      for (const f of ['name', 'namespace', 'behavior', 'env', 'type']) strField(g, f, `${key}[${i}]`);
      for (const f of ['literals', 'files', 'envs']) {
        const l = g[f];
        if (l !== undefined && l !== null && (!Array.isArray(l) || l.some((e) => typeof e !== 'string'))) {
          fail(`invalid kustomization: ${key}[${i}].${f} must be a list of strings`);
        }
      }
      return {
        ...(g as GeneratorArgs),
        literals: (g.literals as string[] | undefined) ?? [],
        files: (g.files as string[] | undefined) ?? [],
        envs: [...((g.envs as string[] | undefined) ?? []), ...(typeof g.env === 'string' && g.env ? [g.env] : [])],
        ...(options ? { options } : {}),
      };
    });

  const sortOptions = (): Kustomization['sortOptions'] => {
    const v = raw.sortOptions;
    if (v === undefined || v === '') return undefined;
    if (!isMap(v)) return fail('sortOptions must be a mapping');
    if (v.order !== 'legacy' && v.order !== 'fifo') return fail('sortOptions.order must be legacy or fifo');
    const legacy = v.legacySortOptions;
    if (v.order === 'fifo' && legacy !== undefined) return fail('the field legacySortOptions is set but order is not legacy');
    return {
      order: v.order,
      ...(isMap(legacy)
        ? {
            legacySortOptions: {
              ...(Array.isArray(legacy.orderFirst) ? { orderFirst: legacy.orderFirst as string[] } : {}),
              ...(Array.isArray(legacy.orderLast) ? { orderLast: legacy.orderLast as string[] } : {}),
            },
          }
        : {}),
    };
  };

  const k: Kustomization = {
    kind,
    resources: [...list('resources', true), ...list('bases', true)],
    components: list('components', true),
    labels: list<Record<string, unknown>>('labels').map((l, i) => ({
      pairs: map(`labels[${i}].pairs`, l.pairs) ?? {},
      includeSelectors: bool(l.includeSelectors, `labels[${i}].includeSelectors`) ?? false,
      includeTemplates: bool(l.includeTemplates, `labels[${i}].includeTemplates`) ?? false,
      ...(Array.isArray(l.fields) ? { fields: l.fields } : {}),
    })),
    images: list<Record<string, string>>('images').map((im, i) => {
      if (!isMap(im) || typeof im.name !== 'string') return fail(`images[${i}] needs a name`);
      for (const f of ['newName', 'newTag', 'digest']) strField(im, f, `images[${i}]`);
      return im as Kustomization['images'][number];
    }),
    replicas: list<Record<string, string>>('replicas').map((r, i) => {
      if (!isMap(r) || typeof r.name !== 'string') return fail(`replicas[${i}] needs a name`);
      return { name: r.name, count: int(r.count, `replicas[${i}].count`) };
    }),
    patches: list<PatchEntry & Record<string, unknown>>('patches').map((p, i) => {
      if (!isMap(p)) return fail(`patches[${i}] must be a mapping`);
      if (!p.path && !p.patch) return fail(`patches[${i}] must have path or patch`);
      if (p.path && p.patch) return fail(`patches[${i}] cannot have both path and patch`);
      const options = isMap(p.options)
        ? {
            allowNameChange: bool(p.options.allowNameChange, 'allowNameChange') ?? false,
            allowKindChange: bool(p.options.allowKindChange, 'allowKindChange') ?? false,
          }
        : undefined;
      return { ...p, ...(options ? { options } : {}) };
    }),
    patchesStrategicMerge: list('patchesStrategicMerge', true),
    patchesJson6902: list<PatchEntry & { target: Selector }>('patchesJson6902').map((p, i) => {
      if (!isMap(p) || !isMap(p.target)) return fail(`patchesJson6902[${i}] needs a target`);
      return p;
    }),
    helmCharts: list<unknown>('helmCharts'),
    configurations: list('configurations', true),
    crds: list('crds', true),
    vars: ((): VarDecl[] => {
      try {
        return parseVars(list<unknown>('vars'));
      } catch (err) {
        return fail(`invalid kustomization: ${(err as Error).message}`);
      }
    })(),
    transformers: list('transformers', true),
    generators: list('generators', true),
    ...(raw.helmGlobals !== undefined && raw.helmGlobals !== null ? { helmGlobals: raw.helmGlobals } : {}),
    configMapGenerator: generators('configMapGenerator'),
    secretGenerator: generators('secretGenerator'),
    replacements: list<Record<string, unknown>>('replacements').map((r, i) => {
      if (!isMap(r)) return fail(`replacements[${i}] must be a mapping`);
      if (typeof r.path === 'string') return { path: r.path };
      const source = isMap(r.source) ? r.source : undefined;
      return {
        ...(source
          ? {
              source: {
                ...(source as Selector & { fieldPath?: string }),
                options: replOptions(source.options, `replacements[${i}].source.options`),
              },
            }
          : {}),
        targets: (Array.isArray(r.targets) ? r.targets : []).map((t: Record<string, unknown>, j: number) => ({
          ...(isMap(t.select) ? { select: t.select } : {}),
          reject: Array.isArray(t.reject) ? (t.reject as Selector[]) : [],
          fieldPaths: Array.isArray(t.fieldPaths) ? (t.fieldPaths as string[]) : [],
          options: replOptions(t.options, `replacements[${i}].targets[${j}].options`),
        })),
      };
    }),
  };
  const setStr = (key: 'namespace' | 'namePrefix' | 'nameSuffix') => {
    const v = str(key);
    if (v !== undefined && v !== '') k[key] = v;
  };
  setStr('namespace');
  setStr('namePrefix');
  setStr('nameSuffix');
  const cl = map('commonLabels');
  if (cl) k.commonLabels = cl;
  const ca = map('commonAnnotations');
  if (ca) k.commonAnnotations = ca;
  const openapi = map('openapi');
  if (openapi) k.openapi = { ...(openapi.version ? { version: openapi.version } : {}), ...(openapi.path ? { path: openapi.path } : {}) };
  const go = genOptions(raw.generatorOptions, 'generatorOptions');
  if (go) k.generatorOptions = go;
  const so = sortOptions();
  if (so) k.sortOptions = so;
  return k;
};
