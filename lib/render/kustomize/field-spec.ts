import type { KubeObject } from '../../core/object-ref.js';
import { splitApiVersion } from '../../core/object-ref.js';
import { isMap } from '../../core/plain-object.js';

/** Where a transformer writes: a slash-separated path, limited to a group/version/kind (Kustomize FieldSpec). */
export interface FieldSpec {
  readonly group?: string;
  readonly version?: string;
  readonly kind?: string;
  readonly path: string;
  readonly create?: boolean;
}

/** Whether a field spec applies to an object's group/version/kind. */
export const specApplies = (spec: FieldSpec, obj: KubeObject): boolean => {
  const [group, version] = splitApiVersion(String(obj.apiVersion ?? ''));
  return (!spec.group || spec.group === group) && (!spec.version || spec.version === version) && (!spec.kind || spec.kind === obj.kind);
};

/** Splits `a/b\/c/d` into ['a', 'b/c', 'd']. */
export const splitPath = (path: string): string[] => {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < path.length; i++) {
    const c = path[i];
    if (c === '\\' && path[i + 1] === '/') {
      cur += '/';
      i++;
    } else if (c === '/') {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts.filter((p) => p !== '');
};

/**
 * Visits the value at `path` in `obj`, descending into every element of a sequence on the way.
 * `fn` receives the current value (undefined when missing) and returns the new value, or undefined to leave it.
 * Missing maps are created only when `create` is set; a `name[]` step is never created, and null there becomes [].
 */
export const visitPath = (obj: unknown, path: string | readonly string[], fn: (value: unknown) => unknown, create = false): void => {
  const parts = typeof path === 'string' ? splitPath(path) : path;
  walk(obj, parts, 0, fn, create);
};

const walk = (node: unknown, parts: readonly string[], i: number, fn: (value: unknown) => unknown, create: boolean): void => {
  if (Array.isArray(node)) {
    for (const el of node) walk(el, parts, i, fn, create);
    return;
  }
  if (!isMap(node)) return;
  let key = parts[i] as string;
  const isSeq = key.endsWith('[]');
  if (isSeq) key = key.slice(0, -2);
  if (i === parts.length - 1) {
    const current = node[key];
    if (current === undefined && !create) return;
    if (isSeq && Array.isArray(current)) {
      current.forEach((el, idx) => {
        const next = fn(el);
        if (next !== undefined) current[idx] = next;
      });
      return;
    }
    const next = fn(current);
    if (next !== undefined) node[key] = next;
    return;
  }
  let child = node[key];
  // Kustomize's fieldspec filter never creates a `name[]` step, but turns a null one into [] (create or not).
  if (isSeq && child === null) node[key] = child = [];
  if (child === undefined || child === null) {
    if (!create || isSeq) return;
    child = {};
    node[key] = child;
  }
  walk(child, parts, i + 1, fn, create);
};
