/** JSON merge patch (RFC 7386), JSON patch (RFC 6902) and a key-order-independent JSON, for the sandbox cluster. */
import { isMap, type Obj } from '../../core/plain-object.js';

export const mergePatch = (target: unknown, patch: unknown): unknown => {
  if (!isMap(patch)) return structuredClone(patch);
  const out: Obj = isMap(target) ? structuredClone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
};

export const jsonPatch = (target: unknown, ops: unknown): unknown => {
  const out = structuredClone(target) as Obj;
  for (const op of (ops as Obj[]) ?? []) {
    const parts = String(op.path)
      .split('/')
      .slice(1)
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    let node: unknown = out;
    for (const p of parts.slice(0, -1)) node = (node as Obj)[p];
    const last = parts[parts.length - 1] as string;
    if (op.op === 'remove') {
      if (Array.isArray(node)) node.splice(Number(last), 1);
      else delete (node as Obj)[last];
    } else if (Array.isArray(node)) {
      if (last === '-') node.push(op.value);
      else if (op.op === 'add') node.splice(Number(last), 0, op.value);
      else node[Number(last)] = op.value;
    } else (node as Obj)[last] = op.value;
  }
  return out;
};

/** JSON with object keys sorted, to compare two values for equality. */
export const stableJson = (v: unknown): string =>
  JSON.stringify(v, (_k, val: unknown) =>
    isMap(val)
      ? Object.fromEntries(
          Object.keys(val)
            .sort()
            .map((k) => [k, val[k]]),
        )
      : val,
  );
