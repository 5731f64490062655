import { createHash } from 'node:crypto';
import type { KubeObject } from '../../core/object-ref.js';
import { isMap } from '../../core/plain-object.js';

/** JSON as Go's encoding/json writes it: map keys sorted, `<`, `>`, `&`, U+2028 and U+2029 escaped. */
export const goJson = (value: unknown): string => JSON.stringify(sortKeys(value)).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

const sortKeys = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isMap(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys(v[k]);
    return out;
  }
  return v;
};

/** Kustomize's name-suffix hash: the first ten hex digits of a SHA-256, with vowels and look-alikes replaced. */
const encode = (hex: string): string => [...hex.slice(0, 10)].map((c) => ({ '0': 'g', '1': 'h', '3': 'k', a: 'm', e: 't' })[c] ?? c).join('');

const valueOrEmpty = (v: unknown): unknown => (v === undefined || v === null ? '' : v);

/** The content hash Kustomize appends to generated ConfigMap and Secret names. */
export const contentHash = (obj: KubeObject): string => {
  // Kustomize looks the name up as a single key "metadata/name", which never exists: the name always hashes as "".
  let encoded: string;
  if (obj.kind === 'ConfigMap') {
    const m: Record<string, unknown> = { kind: 'ConfigMap', name: '', data: valueOrEmpty(obj.data) };
    if (isMap(obj.binaryData)) m.binaryData = obj.binaryData;
    encoded = goJson(m);
  } else if (obj.kind === 'Secret') {
    const m: Record<string, unknown> = {
      kind: 'Secret',
      type: valueOrEmpty(obj.type),
      name: '',
      data: valueOrEmpty(obj.data),
    };
    if (isMap(obj.stringData)) m.stringData = obj.stringData;
    encoded = goJson(m);
  } else {
    encoded = goJson(obj);
  }
  return encode(createHash('sha256').update(encoded, 'utf8').digest('hex'));
};
