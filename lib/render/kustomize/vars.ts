import { splitOutsideBrackets } from './replacements.js';
import { isMap } from '../../core/plain-object.js';
import { isNamespaced } from '../cluster-scope.js';
import { emptyTransformerConfig, mergeTransformerConfigs, type TransformerConfig } from './configurations.js';
import { specApplies, visitPath, type FieldSpec } from './field-spec.js';
import { curId, formatId, prevIds, type ResId, type Resource } from './resource.js';

// Kustomize's deprecated `vars:`: a var names a field of one resource; `$(NAME)` in the varReference fields of every
// resource is replaced by that field's value once the whole build is done (api/internal/accumulator, filters/refvar).

/** One `vars:` entry, defaulted as Kustomize's Var.Defaulting does. */
export interface VarDecl {
  readonly name: string;
  readonly objref: { readonly group: string; readonly version: string; readonly kind: string; readonly name: string; readonly namespace: string };
  readonly fieldPath: string;
}

/**
 * What a kustomization level accumulates besides resources (Kustomize's ResAccumulator): its transformer
 * configuration and vars, and which resource each var points at.
 */
export interface Accumulation {
  config: TransformerConfig;
  vars: VarDecl[];
  /** Var names per resource (Kustomize's refVarNames), shared across the whole build. */
  readonly refVars: WeakMap<Resource, string[]>;
}

/** A fresh accumulation; pass the parent's to share the var bookkeeping of one build. */
export const newAccumulation = (parent?: Accumulation): Accumulation => ({
  config: emptyTransformerConfig(),
  vars: [],
  refVars: parent?.refVars ?? new WeakMap(),
});

const DEFAULT_FIELD_PATH = 'metadata.name';

/** Lower-cased keys: Kustomize decodes vars with Go's case-insensitive JSON field matching. */
const lowerKeys = (m: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(m).map(([k, v]) => [k.toLowerCase(), v]));

/** Parses the `vars:` list of a kustomization; throws an Error naming the entry. */
export const parseVars = (list: readonly unknown[]): VarDecl[] =>
  list.map((raw, i) => {
    if (!isMap(raw)) throw new Error(`vars[${i}] must be a mapping`);
    const v = lowerKeys(raw);
    if (typeof v.name !== 'string' || !v.name) throw new Error(`vars[${i}] needs a name`);
    const o = isMap(v.objref) ? lowerKeys(v.objref) : {};
    const f = isMap(v.fieldref) ? lowerKeys(v.fieldref) : {};
    for (const k of ['apiversion', 'group', 'version', 'kind', 'name', 'namespace']) {
      if (o[k] !== undefined && o[k] !== null && typeof o[k] !== 'string') throw new Error(`vars[${i}].objref.${k} must be a string`);
    }
    let group = typeof o.group === 'string' ? o.group : '';
    let version = typeof o.version === 'string' ? o.version : '';
    const apiVersion = typeof o.apiversion === 'string' ? o.apiversion : '';
    if (apiVersion) {
      const parts = apiVersion.split('/');
      if (parts.length === 2) [group, version] = parts as [string, string];
      if (parts.length === 1) version = parts[0] as string;
    }
    const fieldPath = typeof f.fieldpath === 'string' && f.fieldpath ? f.fieldpath : DEFAULT_FIELD_PATH;
    return {
      name: v.name,
      objref: {
        group,
        version,
        kind: typeof o.kind === 'string' ? o.kind : '',
        name: typeof o.name === 'string' ? o.name : '',
        namespace: typeof o.namespace === 'string' ? o.namespace : '',
      },
      fieldPath,
    };
  });

/** A var as Kustomize prints it in errors: `{NAME Kind.version.group {fieldPath}}`. */
export const formatVar = (v: VarDecl): string => `{${v.name} ${v.objref.kind}.${v.objref.version || '[noVer]'}.${v.objref.group || '[noGrp]'} {${v.fieldPath}}}`;

const addVar = (acc: Accumulation, v: VarDecl): void => {
  if (acc.vars.some((o) => o.name === v.name)) throw new Error(`var '${v.name}' already encountered`);
  acc.vars.push(v);
};

/** Merges a base's accumulation into its parent's (Kustomize's MergeAccumulator): configs union, var names stay unique. */
export const mergeAccumulation = (into: Accumulation, from: Accumulation): void => {
  into.config = mergeTransformerConfigs(into.config, from.config);
  for (const v of from.vars) addVar(into, v);
};

const gvknEquals = (id: ResId, ref: VarDecl['objref']): boolean => id.group === ref.group && id.version === ref.version && id.kind === ref.kind && id.name === ref.name;

/**
 * Records a level's vars after its transformers ran (Kustomize's MergeVars): each var is tied to the one resource
 * whose current or earlier id matches its objref; an empty namespace matches any namespace.
 */
export const mergeVars = (acc: Accumulation, incoming: readonly VarDecl[], resources: readonly Resource[]): void => {
  for (const v of incoming) {
    const exactNs = v.objref.namespace !== '' || !isNamespaced(v.objref.kind);
    const matches = (id: ResId): boolean => gvknEquals(id, v.objref) && (!exactNs || id.namespace === v.objref.namespace);
    const matched = resources.filter((r) => matches(curId(r)) || matches(r.orgId) || prevIds(r).some(matches));
    if (matched.length > 1) {
      throw new Error(`found ${matched.length} resId matches for var ${formatVar(v)} (unable to disambiguate)`);
    }
    if (matched.length === 1) {
      const r = matched[0] as Resource;
      acc.refVars.set(r, [...(acc.refVars.get(r) ?? []), v.name]);
    }
  }
  for (const v of incoming) addVar(acc, v);
};

/** Splits a var field path on dots outside brackets, then `ports[0]` into `ports`, `0` (kyaml's GetFieldValue). */
const splitVarPath = (path: string): string[] => {
  const parts = splitOutsideBrackets(path);
  return parts.flatMap((p) => {
    const m = /^(.*)\[(\d+)\]$/.exec(p);
    if (!m) return [p];
    return m[1] ? [m[1], m[2] as string] : [m[2] as string];
  });
};

const lookup = (obj: unknown, parts: readonly string[]): unknown => {
  let node = obj;
  for (const part of parts) {
    if (Array.isArray(node)) {
      const m = /^\[([^=]+)=(.*)\]$/.exec(part);
      if (m) node = node.find((el) => isMap(el) && String(el[m[1] as string]) === m[2]);
      else if (/^\d+$/.test(part)) node = node[Number(part)];
      else return undefined;
    } else if (isMap(node)) node = node[part];
    else return undefined;
    if (node === undefined || node === null) return undefined;
  }
  return node;
};

type Primitive = string | number | boolean;

const varValues = (resources: readonly Resource[], acc: Accumulation): Map<string, unknown> => {
  const values = new Map<string, unknown>();
  // Kustomize walks its var set sorted by name, so the first failure it reports is the first name.
  for (const v of [...acc.vars].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const holder = resources.find((r) => (acc.refVars.get(r) ?? []).includes(v.name));
    if (!holder) throw new Error(`var '${formatVar(v)}' cannot be mapped to a field in the set of known resources`);
    const value = lookup(holder.obj, splitVarPath(v.fieldPath));
    if (value === undefined) throw new Error(`field specified in var '${formatVar(v)}' not found in corresponding resource`);
    values.set(v.name, value);
  }
  return values;
};

const isPrimitive = (v: unknown): v is Primitive => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/** Kustomize's refvar DoReplacements: `$(NAME)` is replaced, `$$` escapes `$`; a whole-string reference keeps the value's type. */
export const expandVars = (input: string, lookupVar: (name: string) => Primitive | undefined): Primitive => {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const rest = input.slice(cursor + 1);
    let advance = 1;
    if (rest[0] === '$') out += '$';
    else if (rest[0] === '(') {
      const close = rest.indexOf(')', 1);
      if (close < 0) out += '$(';
      else {
        const name = rest.slice(1, close);
        const mapped = lookupVar(name) ?? `$(${name})`;
        if (input === `$(${name})`) return mapped;
        out += String(mapped);
        advance = close + 1;
      }
    } else out += `$${rest[0] as string}`;
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
};

/**
 * Replaces `$(VAR)` in the varReference fields of every resource (built-ins plus `configurations:`), after name
 * references are fixed. Throws for a var whose objref matched nothing or whose field is missing.
 */
export const resolveVars = (resources: readonly Resource[], acc: Accumulation): void => {
  const values = varValues(resources, acc);
  if (!values.size) return;
  const lookupVar = (name: string): Primitive | undefined => {
    const v = values.get(name);
    return isPrimitive(v) ? v : undefined;
  };
  const expand = (value: unknown): unknown => (typeof value === 'string' ? expandVars(value, lookupVar) : value);
  for (const r of resources) {
    for (const spec of acc.config.varReference) {
      if (!specApplies(spec, r.obj)) continue;
      visitPath(r.obj, spec.path, (value) => substitute(value, expand, r, spec));
    }
  }
};

const substitute = (value: unknown, expand: (v: unknown) => unknown, r: Resource, spec: FieldSpec): unknown => {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) {
    return value.map((item) => {
      if (typeof item !== 'string') {
        throw new Error(`${formatId(curId(r))}: ${spec.path}: invalid value type expect a string`);
      }
      return expand(item);
    });
  }
  if (isMap(value)) {
    // Map values stay strings: Kustomize writes labels and annotations back as string maps.
    for (const [k, v] of Object.entries(value)) if (typeof v === 'string') value[k] = String(expand(v));
    return value;
  }
  return expand(value);
};
