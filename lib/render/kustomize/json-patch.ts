import { isMap } from '../../core/plain-object.js';
import { clone } from './resource.js';

/** One RFC 6902 operation. */
export interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  value?: unknown;
  from?: string;
}

const parsePointer = (pointer: string): string[] => {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`json patch path "${pointer}" must start with "/"`);
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
};

const parentOf = (doc: unknown, parts: string[], pointer: string): unknown => {
  let node = doc;
  for (const part of parts.slice(0, -1)) {
    if (Array.isArray(node)) node = node[Number(part)];
    else if (isMap(node)) node = node[part];
    else node = undefined;
    if (node === undefined) throw new Error(`json patch path "${pointer}" does not exist`);
  }
  return node;
};

const get = (doc: unknown, pointer: string): unknown => {
  let node = doc;
  for (const part of parsePointer(pointer)) {
    if (Array.isArray(node)) node = node[Number(part)];
    else if (isMap(node)) node = node[part];
    else node = undefined;
    if (node === undefined) throw new Error(`json patch path "${pointer}" does not exist`);
  }
  return node;
};

const arrayIndex = (arr: unknown[], part: string, pointer: string, forAdd: boolean): number => {
  if (forAdd && part === '-') return arr.length;
  if (!/^\d+$/.test(part)) throw new Error(`json patch path "${pointer}": "${part}" is not an array index`);
  const i = Number(part);
  if (i > arr.length || (!forAdd && i >= arr.length)) throw new Error(`json patch path "${pointer}": index ${i} out of range`);
  return i;
};

const add = (doc: unknown, pointer: string, value: unknown): unknown => {
  const parts = parsePointer(pointer);
  if (!parts.length) return value;
  const parent = parentOf(doc, parts, pointer);
  const last = parts[parts.length - 1] as string;
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, pointer, true), 0, value);
  else if (isMap(parent)) parent[last] = value;
  else throw new Error(`json patch path "${pointer}" does not exist`);
  return doc;
};

const remove = (doc: unknown, pointer: string): unknown => {
  const parts = parsePointer(pointer);
  const parent = parentOf(doc, parts, pointer);
  const last = parts[parts.length - 1] as string;
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, pointer, false), 1);
  else if (isMap(parent) && last in parent) delete parent[last];
  else throw new Error(`json patch path "${pointer}" does not exist`);
  return doc;
};

/** Applies RFC 6902 operations to a copy of `doc`. */
export const applyJsonPatch = (doc: unknown, ops: readonly JsonPatchOp[]): unknown => {
  let out = clone(doc);
  for (const op of ops) {
    if (!isMap(op) || typeof op.path !== 'string') throw new Error('every json patch operation needs op and path');
    switch (op.op) {
      case 'add':
        out = add(out, op.path, clone(op.value));
        break;
      case 'remove':
        out = remove(out, op.path);
        break;
      case 'replace':
        get(out, op.path);
        out = parsePointer(op.path).length ? add(remove(out, op.path), op.path, clone(op.value)) : clone(op.value);
        break;
      case 'move': {
        const v = get(out, String(op.from));
        out = add(remove(out, String(op.from)), op.path, v);
        break;
      }
      case 'copy':
        out = add(out, op.path, clone(get(out, String(op.from))));
        break;
      case 'test':
        if (JSON.stringify(get(out, op.path)) !== JSON.stringify(op.value)) {
          throw new Error(`json patch test failed at "${op.path}"`);
        }
        break;
      default:
        throw new Error(`unknown json patch operation "${String((op as { op: unknown }).op)}"`);
    }
  }
  return out;
};
