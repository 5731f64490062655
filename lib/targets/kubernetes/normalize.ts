import type { KubeObject } from '../../core/object-ref.js';
import { isMap, type Obj } from '../../core/plain-object.js';

/** Metadata the server sets, never part of what a manifest declares. */
const SERVER_METADATA = ['managedFields', 'resourceVersion', 'generation', 'uid', 'creationTimestamp', 'selfLink'];
const IGNORED_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration', 'deployment.kubernetes.io/revision'];

/** An object as compared for changes: server-set metadata and status removed. */
export const comparable = (obj: KubeObject): Obj => {
  const out = structuredClone(obj) as Obj;
  delete out.status;
  const meta = isMap(out.metadata) ? out.metadata : {};
  for (const k of SERVER_METADATA) delete meta[k];
  if (isMap(meta.annotations)) {
    for (const a of IGNORED_ANNOTATIONS) delete meta.annotations[a];
    if (Object.keys(meta.annotations).length === 0) delete meta.annotations;
  }
  return out;
};

/** Deep equality of JSON values, key order ignored. */
export const jsonEqual = (a: unknown, b: unknown): boolean => {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (isMap(a) && isMap(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => k in b && jsonEqual(a[k], b[k]));
  }
  return false;
};

/**
 * Replaces Secret values with placeholders so no value is ever printed. Given the other side of a diff,
 * a changed value reads `<hidden, changed>` so the diff still shows which keys changed.
 */
export const maskSecret = (obj: Obj, other?: Obj): Obj => {
  if (obj.kind !== 'Secret') return obj;
  const out = structuredClone(obj);
  for (const field of ['data', 'stringData'] as const) {
    const values = out[field];
    if (!isMap(values)) continue;
    const theirs = other && isMap(other[field]) ? other[field] : undefined;
    for (const k of Object.keys(values)) {
      values[k] = theirs && k in theirs && theirs[k] !== values[k] ? '<hidden, changed>' : '<hidden>';
    }
  }
  const meta = isMap(out.metadata) ? out.metadata : undefined;
  if (meta && isMap(meta.annotations) && 'kubectl.kubernetes.io/last-applied-configuration' in meta.annotations) {
    meta.annotations['kubectl.kubernetes.io/last-applied-configuration'] = '<hidden>';
  }
  return out;
};
