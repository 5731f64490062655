import { isList, isMap, type Obj } from '../../core/plain-object.js';
import { cloneWithStyles, emptyNullFields, isQuotedScalar, plainScalarText, setPlainScalarText, setQuotedScalar } from '../yaml-documents.js';
import { clone } from './resource.js';

/** Merge keys of built-in Kubernetes lists, by field name (x-kubernetes-patch-merge-key). */
export const MERGE_KEYS: Readonly<Record<string, string>> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  topologySpreadConstraints: 'topologyKey',
  ownerReferences: 'uid',
  resourceClaims: 'name',
  schedulingGates: 'name',
  conditions: 'type',
  webhooks: 'name',
};

/** Lists of scalars whose patch strategy is `merge` (a set union). */
const MERGED_SCALAR_LISTS = new Set(['finalizers']);

const CONTAINER_LISTS = new Set(['containers', 'initContainers', 'ephemeralContainers']);

/** API groups whose schemas Kustomize knows; custom resources have none, so their lists are replaced. */
const BUILTIN_GROUPS = new Set([
  '',
  'apps',
  'batch',
  'autoscaling',
  'policy',
  'extensions',
  'networking.k8s.io',
  'rbac.authorization.k8s.io',
  'storage.k8s.io',
  'scheduling.k8s.io',
  'admissionregistration.k8s.io',
  'apiextensions.k8s.io',
  'apiregistration.k8s.io',
  'certificates.k8s.io',
  'coordination.k8s.io',
  'discovery.k8s.io',
  'events.k8s.io',
  'flowcontrol.apiserver.k8s.io',
  'node.k8s.io',
  'resource.k8s.io',
]);

/** Whether Kustomize has a schema (and so merge keys) for this group. */
export const hasBuiltinSchema = (group: string): boolean => BUILTIN_GROUPS.has(group);

/** The merge keys of the list at `path` (field names from the object root), if any; the first is the patch merge key. */
export const mergeKeysFor = (path: readonly string[], kind: string): string[] | undefined => {
  const field = path[path.length - 1] ?? '';
  if (field === 'ports') {
    if (CONTAINER_LISTS.has(path[path.length - 2] ?? '')) return ['containerPort', 'protocol'];
    if (kind === 'Service' && path.length === 2 && path[0] === 'spec') return ['port', 'protocol'];
    return undefined;
  }
  if (field === 'topologySpreadConstraints') return ['topologyKey', 'whenUnsatisfiable'];
  const key = MERGE_KEYS[field];
  return key ? [key] : undefined;
};

const DIRECTIVE = /^\$(patch|retainKeys|setElementOrder\/.*|deleteFromPrimitiveList\/.*)$/;

/**
 * Applies a strategic merge patch to `target` (Kustomize's kyaml merge): maps merge, `null` deletes,
 * lists with a merge key merge element by element (new elements appended), other lists are replaced,
 * and `$patch: delete|replace` directives are honoured. Returns undefined when the patch deletes the object.
 * `schema`: whether Kustomize has a schema for the type (a custom `openapi` schema may say otherwise).
 */
export const strategicMerge = (target: Obj, patch: Obj, kind: string, group: string, schema = hasBuiltinSchema(group)): Obj | undefined => {
  const base = cloneWithStyles(target);
  // kyaml's merge drops fields written empty (`key:`) anywhere in the patched resource; `~` and `null` stay.
  for (const path of emptyNullFields(target)) deleteIfNull(base, path);
  const out = mergeValue(base, patch, [], schema ? kind : undefined);
  if (out === DELETE) return undefined;
  if (schema) collapseDuplicateKeys(out, [], kind);
  return out as Obj;
};

/**
 * kyaml's merge walks the whole target, not only what the patch names, and rebuilds every list it has merge keys
 * for: elements sharing a key collapse into one, at the first one's place, holding the last one (observed with
 * Kustomize v5.5: `env` of A=1, B, A=3 becomes A=3, B); merged lists of scalars (finalizers) lose repeats.
 */
const collapseDuplicateKeys = (node: unknown, path: string[], kind: string): void => {
  if (isMap(node)) {
    for (const [k, v] of Object.entries(node)) {
      if (!isCollection(v)) continue;
      const at = [...path, k];
      if (Array.isArray(v)) node[k] = collapseList(v, at, kind);
      collapseDuplicateKeys(node[k], at, kind);
    }
  } else if (Array.isArray(node)) {
    for (const el of node) collapseDuplicateKeys(el, path, kind);
  }
};

const collapseList = (list: unknown[], path: string[], kind: string): unknown[] => {
  if (list.every((el) => !isMap(el))) {
    return MERGED_SCALAR_LISTS.has(path[path.length - 1] ?? '') ? list.filter((el, i) => list.findIndex((o) => sameKey(o, el)) === i) : list;
  }
  const keys = mergeKeysFor(path, kind);
  const primary = keys?.[0];
  if (!keys || primary === undefined) return list;
  // Elements without the merge key keep their place; the rest group by every key (an unset secondary key is '').
  const keyOf = (el: unknown): string | undefined =>
    isMap(el) && el[primary] !== undefined && el[primary] !== null ? JSON.stringify(keys.map((k) => (el[k] === undefined || el[k] === null ? '' : String(el[k])))) : undefined;
  const last = new Map<string, unknown>();
  for (const el of list) {
    const k = keyOf(el);
    if (k !== undefined) last.set(k, el);
  }
  if (last.size === list.filter((el) => keyOf(el) !== undefined).length) return list;
  const seen = new Set<string>();
  const out: unknown[] = [];
  for (const el of list) {
    const k = keyOf(el);
    if (k === undefined) out.push(el);
    else if (!seen.has(k)) {
      seen.add(k);
      out.push(last.get(k));
    }
  }
  return out;
};

const isCollection = (v: unknown): boolean => v !== null && typeof v === 'object';

const deleteIfNull = (root: unknown, path: readonly (string | number)[]): void => {
  let node = root;
  for (const key of path.slice(0, -1)) {
    if (node === null || typeof node !== 'object') return;
    node = (node as Record<string | number, unknown>)[key];
  }
  const last = path[path.length - 1];
  if (last === undefined || !isMap(node)) return;
  // An empty annotation was read as its text, "" (parseManifests' annotationsAsText).
  const isAnnotation = path.length === 3 && path[0] === 'metadata' && path[1] === 'annotations';
  if (node[last] === null || (isAnnotation && node[last] === '')) delete node[last];
};

const DELETE = Symbol('delete');

const mergeValue = (dest: unknown, patch: unknown, path: string[], kind: string | undefined): unknown => {
  if (isMap(patch)) {
    const directive = patch.$patch;
    if (directive === 'delete') return DELETE;
    if (directive === 'replace') return stripDirectives(patch);
    if (!isMap(dest)) return stripDirectives(patch);
    return mergeMap(dest, patch, path, kind);
  }
  if (Array.isArray(patch)) {
    return mergeList(Array.isArray(dest) ? dest : [], patch, path, kind);
  }
  return patch;
};

const mergeMap = (dest: Obj, patch: Obj, path: string[], kind: string | undefined): Obj => {
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      const remove = new Set((value as unknown[]).map(String));
      if (Array.isArray(dest[field])) dest[field] = (dest[field] as unknown[]).filter((v) => !remove.has(String(v)));
      continue;
    }
    if (DIRECTIVE.test(key)) continue;
    if (value === null) {
      delete dest[key];
      continue;
    }
    const text = plainScalarText(patch, key);
    if (typeof dest[key] === 'string' && isQuotedScalar(dest, key) && text !== undefined && !isCollection(value)) {
      // kyaml keeps the quoted node and takes the patch's text: "8080" patched with 9090 is "9090".
      dest[key] = text;
      continue;
    }
    const merged = mergeValue(dest[key], value, [...path, key], kind);
    if (merged === DELETE) delete dest[key];
    else {
      dest[key] = merged;
      if (!isCollection(merged)) {
        setQuotedScalar(dest, key, isQuotedScalar(patch, key));
        setPlainScalarText(dest, key, text);
      }
    }
  }
  const retain = patch.$retainKeys;
  if (Array.isArray(retain)) {
    const keep = new Set(retain.map(String));
    for (const key of Object.keys(dest)) if (!keep.has(key)) delete dest[key];
  }
  return dest;
};

const mergeList = (dest: unknown[], patch: unknown[], path: string[], kind: string | undefined): unknown[] => {
  // A `- $patch: replace` element replaces the whole list with the other elements.
  if (patch.some((el) => isMap(el) && el.$patch === 'replace' && Object.keys(el).length === 1)) {
    return patch.filter((el) => !(isMap(el) && el.$patch === 'replace')).map((el) => (isMap(el) ? stripDirectives(el) : el));
  }
  const field = path[path.length - 1] ?? '';
  if (patch.every((el) => !isMap(el))) {
    if (MERGED_SCALAR_LISTS.has(field)) {
      const out = [...dest];
      for (const el of patch) if (!out.some((d) => d === el)) out.push(el);
      return out;
    }
    return clone(patch);
  }
  // Secondary keys count only when some element sets them (observed Kustomize v5.5 behaviour).
  const keys = (kind === undefined ? undefined : mergeKeysFor(path, kind))?.filter((k, i) => i === 0 || [...dest, ...patch].some((el) => isMap(el) && el[k] !== undefined));
  const strip = (el: unknown) => (isMap(el) ? stripDirectives(el) : el);
  if (!keys) return patch.filter((el) => !(isMap(el) && el.$patch === 'delete')).map(strip);
  return keys.length === 1 ? mergeByKey(dest, patch, keys[0] as string, path, kind) : mergeByKeys(dest, patch, keys, path, kind);
};

/** One merge key: the patch's elements first, merged into their counterparts, then the untouched rest. */
const mergeByKey = (dest: unknown[], patch: unknown[], key: string, path: string[], kind: string | undefined): unknown[] => {
  const out: unknown[] = [];
  const used = new Set<number>();
  for (const el of patch) {
    if (!isMap(el)) continue;
    const idx = dest.findIndex((d, i) => !used.has(i) && isMap(d) && key in el && sameKey(d[key], el[key]));
    if (idx >= 0) used.add(idx);
    if (el.$patch === 'delete') continue;
    if (idx >= 0) {
      const merged = mergeValue(dest[idx], el, path, kind);
      if (merged !== DELETE) out.push(merged);
    } else out.push(stripDirectives(el));
  }
  dest.forEach((d, i) => {
    if (!used.has(i)) out.push(d);
  });
  return out;
};

/**
 * Several list-map keys (ports: containerPort + protocol), as Kustomize v5.5 merges them: an element matching on
 * every key merges in place; one matching only on the first key is dropped; new elements go first, in patch order;
 * `$patch: delete` needs every key present and equal.
 */
const mergeByKeys = (dest: unknown[], patch: unknown[], keys: string[], path: string[], kind: string | undefined): unknown[] => {
  const out = [...dest];
  const added: unknown[] = [];
  const primary = keys[0] as string;
  for (const el of patch) {
    if (!isMap(el)) continue;
    if (el.$patch === 'delete') {
      const idx = out.findIndex((d) => isMap(d) && keys.every((k) => el[k] !== undefined && sameKey(d[k], el[k])));
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    const exact = out.findIndex((d) => isMap(d) && keys.every((k) => (d[k] ?? '') === (el[k] ?? '') || sameKey(d[k], el[k])));
    if (exact >= 0) {
      const merged = mergeValue(out[exact], el, path, kind);
      if (merged === DELETE) out.splice(exact, 1);
      else out[exact] = merged;
    } else if (!out.some((d) => isMap(d) && sameKey(d[primary], el[primary]))) {
      added.push(stripDirectives(el));
    }
  }
  return [...added, ...out];
};

const sameKey = (a: unknown, b: unknown): boolean => a === b || (a !== undefined && b !== undefined && String(a) === String(b));

const stripDirectives = (value: Obj): Obj => {
  const out: Obj = {};
  for (const [k, v] of Object.entries(value)) {
    if (DIRECTIVE.test(k)) continue;
    if (v === null) continue;
    out[k] = isMap(v) ? stripDirectives(v) : isList(v) ? v.map((e) => (isMap(e) ? stripDirectives(e) : e)) : v;
  }
  return out;
};
