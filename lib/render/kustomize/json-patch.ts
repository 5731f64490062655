import { isMap } from '../../core/plain-object.js';
import { clone } from './resource.js';

/** One RFC 6902 operation. */
export interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  value?: unknown;
  from?: string;
}

// Kustomize applies JSON patches with evanphx/json-patch v4, whose semantics differ from RFC 6902 in places that
// real repositories rely on: `replace` of a missing map key adds it, negative array indices count from the end,
// and a missing parent is reported as a missing path. The messages below are that library's.

type Container = Record<string, unknown> | unknown[];

const MISSING = 'missing value';
const INVALID_INDEX = 'invalid index referenced';

const decodeKey = (s: string): string => s.replace(/~1/g, '/').replace(/~0/g, '~');

/** The container holding the last segment of `path`, and that segment (json-patch's findObject). */
const findObject = (doc: unknown, path: string): [Container, string] | undefined => {
  const split = path.split('/');
  if (split.length < 2) return undefined;
  let node: unknown = doc;
  for (const part of split.slice(1, -1)) {
    let next: unknown;
    try {
      next = get(node as Container, decodeKey(part));
    } catch {
      return undefined;
    }
    if (next === undefined || next === null || typeof next !== 'object') return undefined;
    node = next;
  }
  if (!Array.isArray(node) && !isMap(node)) return undefined;
  return [node, decodeKey(split[split.length - 1] as string)];
};

const arrayIndex = (key: string): number => {
  if (!/^-?\d+$/.test(key)) throw new Error(`value was not a proper array index: '${key}'`);
  return Number(key);
};

const invalidIndex = (idx: number): Error => new Error(`Unable to access invalid index: ${idx}: ${INVALID_INDEX}`);

/** A child, or undefined when a map lacks it; out-of-range array indices throw. */
const get = (con: Container, key: string): unknown => {
  if (!Array.isArray(con)) return Object.prototype.hasOwnProperty.call(con, key) ? con[key] : undefined;
  let idx = arrayIndex(key);
  if (idx < 0) {
    if (idx < -con.length) throw invalidIndex(idx);
    idx += con.length;
  }
  if (idx >= con.length) throw invalidIndex(idx);
  return con[idx];
};

const set = (con: Container, key: string, value: unknown): void => {
  if (!Array.isArray(con)) {
    con[key] = value;
    return;
  }
  let idx = arrayIndex(key);
  if (idx < 0) idx += con.length;
  con[idx] = value;
};

const addTo = (con: Container, key: string, value: unknown): void => {
  if (!Array.isArray(con)) {
    con[key] = value;
    return;
  }
  if (key === '-') {
    con.push(value);
    return;
  }
  let idx = arrayIndex(key);
  const size = con.length + 1;
  if (idx >= size) throw invalidIndex(idx);
  if (idx < 0) {
    if (idx < -size) throw invalidIndex(idx);
    idx += size;
  }
  con.splice(idx, 0, value);
};

const removeFrom = (con: Container, key: string): void => {
  if (!Array.isArray(con)) {
    if (!Object.prototype.hasOwnProperty.call(con, key)) throw new Error(`Unable to remove nonexistent key: ${key}: ${MISSING}`);
    delete con[key];
    return;
  }
  let idx = arrayIndex(key);
  if (idx >= con.length) throw invalidIndex(idx);
  if (idx < 0) {
    if (idx < -con.length) throw invalidIndex(idx);
    idx += con.length;
  }
  con.splice(idx, 1);
};

const deepEqual = (a: unknown, b: unknown): boolean => {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isMap(a) || isMap(b)) {
    if (!isMap(a) || !isMap(b)) return false;
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return a === b;
};

const wrapped = (prefix: string, fn: () => void): void => {
  try {
    fn();
  } catch (cause) {
    throw new Error(`${prefix}: ${(cause as Error).message}`, { cause });
  }
};

const apply = (doc: unknown, op: JsonPatchOp): void => {
  const path = op.path;
  switch (op.op) {
    case 'add': {
      const found = findObject(doc, path);
      if (!found) throw new Error(`add operation does not apply: doc is missing path: "${path}": ${MISSING}`);
      wrapped(`error in add for path: '${path}'`, () => addTo(found[0], found[1], clone(op.value)));
      return;
    }
    case 'remove': {
      const found = findObject(doc, path);
      if (!found) throw new Error(`remove operation does not apply: doc is missing path: "${path}": ${MISSING}`);
      wrapped(`error in remove for path: '${path}'`, () => removeFrom(found[0], found[1]));
      return;
    }
    case 'replace': {
      const found = findObject(doc, path);
      if (!found) throw new Error(`replace operation does not apply: doc is missing path: ${path}: ${MISSING}`);
      try {
        get(found[0], found[1]);
      } catch (cause) {
        throw new Error(`replace operation does not apply: doc is missing key: ${path}: ${MISSING}`, { cause });
      }
      set(found[0], found[1], clone(op.value));
      return;
    }
    case 'move': {
      const from = String(op.from ?? '');
      const src = findObject(doc, from);
      if (!src) throw new Error(`move operation does not apply: doc is missing from path: ${from}: ${MISSING}`);
      let value: unknown;
      wrapped(`error in move for path: '${src[1]}'`, () => {
        value = get(src[0], src[1]);
        removeFrom(src[0], src[1]);
      });
      const dst = findObject(doc, path);
      if (!dst) throw new Error(`move operation does not apply: doc is missing destination path: ${path}: ${MISSING}`);
      wrapped(`error in move for path: '${path}'`, () => addTo(dst[0], dst[1], value));
      return;
    }
    case 'copy': {
      const from = String(op.from ?? '');
      const src = findObject(doc, from);
      if (!src) throw new Error(`copy operation does not apply: doc is missing from path: ${from}: ${MISSING}`);
      let value: unknown;
      wrapped(`error in copy for from: '${from}'`, () => {
        value = get(src[0], src[1]);
      });
      if (value === undefined) throw new Error(`copy operation does not apply: doc is missing from path: ${from}: ${MISSING}`);
      const dst = findObject(doc, path);
      if (!dst) throw new Error(`copy operation does not apply: doc is missing destination path: ${path}: ${MISSING}`);
      wrapped('error while adding value during copy', () => addTo(dst[0], dst[1], clone(value)));
      return;
    }
    case 'test': {
      const found = findObject(doc, path);
      if (!found) throw new Error(`test operation does not apply: is missing path: ${path}: ${MISSING}`);
      let value: unknown;
      wrapped(`error in test for path: '${path}'`, () => {
        value = get(found[0], found[1]);
      });
      const expected = op.value ?? null;
      if ((value ?? null) === null && expected === null) return;
      if (!deepEqual(value, expected)) throw new Error(`testing value ${path} failed: test failed`);
      return;
    }
    default:
      throw new Error(`Unexpected kind: ${String((op as { op: unknown }).op)}`);
  }
};

/** Applies JSON 6902 operations to a copy of `doc` with the semantics of Kustomize's json-patch library. */
export const applyJsonPatch = (doc: unknown, ops: readonly JsonPatchOp[]): unknown => {
  const out = clone(doc);
  for (const op of ops) {
    if (!isMap(op) || typeof op.path !== 'string') throw new Error('every json patch operation needs op and path');
    apply(out, op);
  }
  return out;
};
