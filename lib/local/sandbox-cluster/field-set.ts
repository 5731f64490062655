/**
 * Server-side apply field sets (FieldsV1), as the test API server tracks them per manager.
 * A set holds paths such as ['f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"web"}', 'f:image'].
 */
import { isAtomicMap, isSetList, listKeys } from './schema.js';
import { isList, isMap, type Obj } from '../../core/plain-object.js';

export type FieldSet = Set<string>;
const enc = (path: readonly string[]): string => JSON.stringify(path);
const dec = (key: string): string[] => JSON.parse(key) as string[];

/** Top-level fields that never belong to a manager. */
const SKIP_TOP = new Set(['apiVersion', 'kind', 'status']);
const SKIP_META = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'deletionTimestamp', 'selfLink']);

/** The key of a list element, as `k:{...}` (defaults such as protocol: TCP applied). */
export const elementKey = (el: Obj, keys: readonly string[], defaults: Obj | undefined): string => {
  const k: Obj = {};
  for (const key of keys) k[key] = el[key] ?? defaults?.[key];
  return `k:${JSON.stringify(k)}`;
};

/** Every leaf field path an object sets. */
export const fieldSetOf = (obj: Obj, kind: string): FieldSet => {
  const out: FieldSet = new Set();
  const walk = (value: unknown, path: string[], names: string[]): void => {
    if (isMap(value) && !isAtomicMap(names)) {
      const entries = Object.entries(value);
      if (!entries.length) {
        out.add(enc(path));
        return;
      }
      for (const [k, v] of entries) {
        if (path.length === 0 && SKIP_TOP.has(k)) continue;
        if (path.length === 1 && path[0] === 'f:metadata' && SKIP_META.has(k)) continue;
        walk(v, [...path, `f:${k}`], [...names, k]);
      }
      return;
    }
    if (Array.isArray(value)) {
      const lk = listKeys(names, kind);
      if (lk) {
        for (const el of value) {
          if (!isMap(el)) continue;
          const key = elementKey(el, lk.keys, lk.defaults);
          out.add(enc([...path, key, '.']));
          for (const [k, v] of Object.entries(el)) walk(v, [...path, key, `f:${k}`], [...names, k]);
        }
        return;
      }
      if (isSetList(names)) {
        for (const el of value) out.add(enc([...path, `v:${JSON.stringify(el)}`]));
        return;
      }
    }
    out.add(enc(path));
  };
  walk(obj, [], []);
  return out;
};

/** FieldsV1 JSON (nested `{}` objects) from a field set. */
export const toFieldsV1 = (set: FieldSet): Obj => {
  const root: Obj = {};
  for (const key of [...set].sort()) {
    let node = root;
    for (const seg of dec(key)) node = (node[seg] ??= {}) as Obj;
  }
  return root;
};

/** A field set from FieldsV1 JSON. */
export const fromFieldsV1 = (fields: unknown): FieldSet => {
  const out: FieldSet = new Set();
  const walk = (node: unknown, path: string[]): void => {
    if (!isMap(node) || Object.keys(node).length === 0) {
      if (path.length) out.add(enc(path));
      return;
    }
    for (const [k, v] of Object.entries(node)) walk(v, [...path, k]);
  };
  walk(fields, []);
  return out;
};

/** Finds the value at a field path; `present` is false when the path does not exist. */
export const valueAt = (obj: unknown, key: string, kind: string): { present: boolean; value?: unknown } => {
  let node: unknown = obj;
  const names: string[] = [];
  for (const seg of dec(key)) {
    if (seg === '.') return { present: node !== undefined, value: node };
    if (seg.startsWith('f:')) {
      const name = seg.slice(2);
      if (!isMap(node) || !(name in node)) return { present: false };
      node = node[name];
      names.push(name);
    } else if (seg.startsWith('k:')) {
      const lk = listKeys(names, kind);
      if (!Array.isArray(node) || !lk) return { present: false };
      node = node.find((el) => isMap(el) && elementKey(el, lk.keys, lk.defaults) === seg);
      if (node === undefined) return { present: false };
    } else if (seg.startsWith('v:')) {
      const v = JSON.parse(seg.slice(2)) as unknown;
      return { present: Array.isArray(node) && node.some((e) => JSON.stringify(e) === JSON.stringify(v)), value: v };
    }
  }
  return { present: true, value: node };
};

/** Removes the field at a path (a field, a list element, or a set member). */
export const removeAt = (obj: Obj, key: string, kind: string): void => {
  const segs = dec(key);
  let node: unknown = obj;
  const names: string[] = [];
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i] as string;
    const last = i === segs.length - 1 || (i === segs.length - 2 && segs[i + 1] === '.');
    if (seg.startsWith('f:')) {
      const name = seg.slice(2);
      if (!isMap(node)) return;
      if (last) {
        delete node[name];
        return;
      }
      node = node[name];
      names.push(name);
    } else if (seg.startsWith('k:')) {
      const lk = listKeys(names, kind);
      if (!Array.isArray(node) || !lk) return;
      const idx = node.findIndex((el) => isMap(el) && elementKey(el, lk.keys, lk.defaults) === seg);
      if (idx < 0) return;
      if (last) {
        node.splice(idx, 1);
        return;
      }
      node = node[idx];
    } else if (seg.startsWith('v:')) {
      if (!Array.isArray(node)) return;
      const idx = node.findIndex((e) => `v:${JSON.stringify(e)}` === seg);
      if (idx >= 0) node.splice(idx, 1);
      return;
    }
  }
};

/** Server-side apply merge: maps merge, keyed lists merge by key, set lists union, everything else is replaced. */
export const applyMerge = (live: unknown, applied: unknown, names: string[], kind: string): unknown => {
  if (isMap(applied) && isMap(live) && !isAtomicMap(names)) {
    const out: Obj = { ...live };
    for (const [k, v] of Object.entries(applied)) out[k] = k in live ? applyMerge(live[k], v, [...names, k], kind) : structuredClone(v);
    return out;
  }
  if (isList(applied) && isList(live)) {
    const lk = listKeys(names, kind);
    if (lk) {
      const out = [...live];
      for (const el of applied) {
        if (!isMap(el)) continue;
        const key = elementKey(el, lk.keys, lk.defaults);
        const idx = out.findIndex((l) => isMap(l) && elementKey(l, lk.keys, lk.defaults) === key);
        if (idx >= 0) out[idx] = applyMerge(out[idx], el, names, kind);
        else out.push(structuredClone(el));
      }
      return out;
    }
    if (isSetList(names)) {
      const out = [...live];
      for (const el of applied) if (!out.some((l) => JSON.stringify(l) === JSON.stringify(el))) out.push(el);
      return out;
    }
  }
  return structuredClone(applied);
};

/** Leaf paths of `next` whose values differ from `prev`, and paths of `prev` gone from `next`. */
export const changedFields = (prev: Obj, next: Obj, kind: string): { changed: FieldSet; removed: FieldSet } => {
  const a = fieldSetOf(prev, kind);
  const b = fieldSetOf(next, kind);
  const changed: FieldSet = new Set();
  for (const key of b) {
    const before = valueAt(prev, key, kind);
    const after = valueAt(next, key, kind);
    if (!before.present || JSON.stringify(before.value) !== JSON.stringify(after.value)) changed.add(key);
  }
  const removed: FieldSet = new Set([...a].filter((k) => !b.has(k)));
  return { changed, removed };
};

/** Formats a path the way conflict messages do: `.spec.replicas`, `.spec.containers[name="web"].image`. */
export const formatFieldPath = (key: string): string =>
  dec(key)
    .filter((s) => s !== '.')
    .map((s) =>
      s.startsWith('f:')
        ? `.${s.slice(2)}`
        : s.startsWith('k:')
          ? `[${Object.entries(JSON.parse(s.slice(2)) as Obj)
              .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
              .join(',')}]`
          : `[=${s.slice(2)}]`,
    )
    .join('');
