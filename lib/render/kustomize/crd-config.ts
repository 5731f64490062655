import { parseDocument } from 'yaml';
import { isMap, type Obj } from '../../core/plain-object.js';
import { emptyTransformerConfig, type TransformerConfig } from './configurations.js';
import type { FieldSpec } from './field-spec.js';
import type { NameReference } from './builtin-field-specs.js';

/**
 * The `crds:` field (Kustomize's LoadConfigFromCRDs): each file is a map of Go-generated OpenAPI definitions
 * (`<package>.<Kind>` → `{Schema, Dependencies}`), not CustomResourceDefinition objects. A definition that looks like
 * a Kubernetes type (its properties have kind, apiVersion and metadata) is walked, following `$ref` into the other
 * definitions of the same file, and these extensions on a property become transformer field specs for that kind:
 *
 * - `x-kubernetes-annotation` → commonAnnotations writes there;
 * - `x-kubernetes-label-selector` → commonLabels writes there;
 * - `x-kubernetes-identity` → namePrefix writes there;
 * - `x-kubernetes-object-ref-api-version` + `x-kubernetes-object-ref-kind` (+ `x-kubernetes-object-ref-name-key`,
 *   default `name`) → a name reference from `<property>/<name key>` to that kind.
 *
 * Extension values count only when they are strings (go-openapi's Extensions.GetString), extension keys match
 * case-insensitively, and the field specs select by kind only (the last dot-separated part of the type name).
 */
export const parseCrdConfig = (text: string): TransformerConfig => {
  if (!text.length) throw new Error('the file is empty');
  const parsed = text[0] === '{' ? parseJson(text) : parseYaml(text);
  if (parsed === null || parsed === undefined) return emptyTransformerConfig();
  if (!isMap(parsed)) throw new Error('json: cannot unmarshal into a map of OpenAPI definitions (the file must map type names to {Schema, Dependencies})');
  const defs = new Map<string, Obj>();
  for (const [name, def] of Object.entries(parsed)) {
    if (def === null) continue;
    if (!isMap(def))
      throw new Error(`json: cannot unmarshal ${describe(def)} into an OpenAPI definition ("${name}"); is this a CustomResourceDefinition? crds lists OpenAPI definition files`);
    defs.set(name, def);
  }
  const out = { annotations: [] as FieldSpec[], labels: [] as FieldSpec[], prefix: [] as FieldSpec[], refs: [] as NameReference[] };
  for (const [name, def] of defs) {
    const props = propertiesOf(def);
    if (!('kind' in props) || !('apiVersion' in props) || !('metadata' in props)) continue;
    walk(defs, name.split('.').pop() ?? name, name, [], new Set(), out);
  }
  return {
    ...emptyTransformerConfig(),
    commonAnnotations: dedupe(out.annotations),
    commonLabels: dedupe(out.labels),
    namePrefix: dedupe(out.prefix),
    nameReference: mergeRefs(out.refs),
  };
};

interface Collected {
  annotations: FieldSpec[];
  labels: FieldSpec[];
  prefix: FieldSpec[];
  refs: NameReference[];
}

const walk = (defs: ReadonlyMap<string, Obj>, kind: string, typeName: string, path: readonly string[], seen: Set<string>, out: Collected): void => {
  const def = defs.get(typeName);
  // A definition reached again on the same path is a cycle (Kustomize recurses until its stack overflows).
  if (!def || seen.has(typeName)) return;
  const inner = new Set(seen).add(typeName);
  for (const [prop, schema] of Object.entries(propertiesOf(def))) {
    if (!isMap(schema)) continue;
    const here = [...path, prop];
    const ext = extensions(schema);
    const spec = (p: readonly string[]): FieldSpec => ({ kind, path: p.join('/') });
    if (ext.has('x-kubernetes-annotation')) out.annotations.push(spec(here));
    if (ext.has('x-kubernetes-label-selector')) out.labels.push(spec(here));
    if (ext.has('x-kubernetes-identity')) out.prefix.push(spec(here));
    const version = ext.get('x-kubernetes-object-ref-api-version');
    const refKind = ext.get('x-kubernetes-object-ref-kind');
    if (version !== undefined && refKind !== undefined) {
      const nameKey = ext.get('x-kubernetes-object-ref-name-key') ?? 'name';
      out.refs.push({ kind: refKind, ...(version ? { version } : {}), fieldSpecs: [spec([...here, nameKey])] });
    }
    const ref = schema.$ref;
    if (typeof ref === 'string' && ref) walk(defs, kind, ref, here, inner, out);
  }
};

/** `Schema.properties`; Go decodes `Schema` case-insensitively into the definition struct. */
const propertiesOf = (def: Obj): Obj => {
  const key = Object.keys(def).find((k) => k.toLowerCase() === 'schema');
  const schema = key === undefined ? undefined : def[key];
  const props = isMap(schema) ? schema.properties : undefined;
  return isMap(props) ? props : {};
};

/** The string-valued `x-` extensions of a schema, keys lower-cased as go-openapi stores them. */
const extensions = (schema: Obj): Map<string, string> =>
  new Map(
    Object.entries(schema)
      .filter(([k, v]) => k.toLowerCase().startsWith('x-') && typeof v === 'string')
      .map(([k, v]) => [k.toLowerCase(), v as string]),
  );

const dedupe = (specs: readonly FieldSpec[]): FieldSpec[] => {
  const seen = new Set<string>();
  return specs.filter((s) => {
    const key = `${s.kind ?? ''}\0${s.path}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
};

const mergeRefs = (refs: readonly NameReference[]): NameReference[] => {
  const byGvk = new Map<string, NameReference>();
  for (const r of refs) {
    const key = `${r.version ?? ''}\0${r.kind}`;
    const prev = byGvk.get(key);
    byGvk.set(key, prev ? { ...prev, fieldSpecs: dedupe([...prev.fieldSpecs, ...r.fieldSpecs]) } : r);
  }
  return [...byGvk.values()];
};

const describe = (v: unknown): string =>
  Array.isArray(v) ? 'array' : typeof v === 'string' ? 'string' : typeof v === 'number' ? 'number' : typeof v === 'boolean' ? 'bool' : typeof v;

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`invalid JSON: ${(err as Error).message}`, { cause: err });
  }
};

const parseYaml = (text: string): unknown => {
  const doc = parseDocument(text);
  if (doc.errors[0]) throw new Error(`error converting YAML to JSON: ${doc.errors[0].message.split('\n')[0]}`);
  return doc.toJS() as unknown;
};
