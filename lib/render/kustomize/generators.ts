import { posix } from 'node:path';
import type { KubeObject } from '../../core/object-ref.js';
import type { GeneratorArgs, GeneratorOptions } from './kustomization.js';
import { isMap } from '../../core/plain-object.js';

/** Reads a file relative to the kustomization; rejects files outside it. */
export type ReadLocal = (path: string) => Promise<Uint8Array>;

const decoder = new TextDecoder('utf-8', { fatal: true });

const utf8 = (bytes: Uint8Array): string | undefined => {
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
};

/** Splits `key=value` the way Kustomize reads literals (a quoted value loses its quotes). */
const parseLiteral = (literal: string, what: string, index: number): [string, string] => {
  const eq = literal.indexOf('=');
  // The literal is not echoed: without `=` it is all value, and a Secret's value never enters an error.
  if (eq <= 0) throw new Error(`${what}: literals[${index}] is invalid, expected key=value`);
  const key = literal.slice(0, eq);
  let value = literal.slice(eq + 1);
  if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value[value.length - 1] === value[0]) {
    value = value.slice(1, -1);
  }
  return [key, value];
};

/** Parses an env file: KEY=VALUE lines, `#` comments and blank lines skipped. */
export const parseEnvFile = (text: string, file: string): [string, string][] => {
  const out: [string, string][] = [];
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((raw, i) => {
      const line = raw.replace(/^\s+/, '');
      if (!line || line.startsWith('#')) return;
      const eq = line.indexOf('=');
      const key = eq < 0 ? line : line.slice(0, eq);
      if (!/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(key)) {
        // A line without `=` may be a bare value: only a key before `=` is named.
        throw new Error(`${file}:${i + 1}: invalid key ${eq < 0 ? '(the line has no "=")' : `"${key}"`} in env file`);
      }
      out.push([key, eq < 0 ? '' : line.slice(eq + 1)]);
    });
  return out;
};

interface Pair {
  key: string;
  value: string | Uint8Array;
}

const collectPairs = async (args: GeneratorArgs, readLocal: ReadLocal, what: string): Promise<Pair[]> => {
  const pairs: Pair[] = [];
  for (const env of args.envs ?? []) {
    const text = utf8(await readLocal(env));
    if (text === undefined) throw new Error(`${what}: env file ${env} is not UTF-8`);
    for (const [key, value] of parseEnvFile(text, env)) pairs.push({ key, value });
  }
  for (const [i, lit] of (args.literals ?? []).entries()) {
    const [key, value] = parseLiteral(lit, what, i);
    pairs.push({ key, value });
  }
  for (const f of args.files ?? []) {
    const eq = f.indexOf('=');
    const [key, path] = eq > 0 ? [f.slice(0, eq), f.slice(eq + 1)] : [posix.basename(f), f];
    if (!key) throw new Error(`${what}: key for file ${f} is empty`);
    pairs.push({ key, value: await readLocal(path) });
  }
  const seen = new Set<string>();
  for (const p of pairs) {
    if (!/^[-._a-zA-Z0-9]+$/.test(p.key)) throw new Error(`${what}: "${p.key}" is not a valid key name`);
    if (seen.has(p.key)) throw new Error(`${what}: cannot add key "${p.key}", another key by that name already exists`);
    seen.add(p.key);
  }
  return pairs;
};

/** Merges a kustomization's generatorOptions into one generator's options (the generator's own labels and annotations win). */
export const mergeOptions = (local: GeneratorOptions | undefined, global: GeneratorOptions | undefined): GeneratorOptions => {
  const out: GeneratorOptions = { ...(local ?? {}) };
  if (global?.labels) out.labels = { ...global.labels, ...(out.labels ?? {}) };
  if (global?.annotations) out.annotations = { ...global.annotations, ...(out.annotations ?? {}) };
  if (global?.disableNameSuffixHash) out.disableNameSuffixHash = true;
  if (global?.immutable) out.immutable = true;
  return out;
};

/** Base64 as Kustomize writes Secret data: lines of 70 characters, each ending in a newline, once it needs more than one. */
export const toBase64 = (v: string | Uint8Array): string => {
  const enc = Buffer.from(typeof v === 'string' ? Buffer.from(v, 'utf8') : v).toString('base64');
  const LINE = 70;
  if (Math.floor(enc.length / LINE) + 1 <= 1) return enc;
  let out = '';
  for (let i = 0; i < enc.length; i += LINE) out += `${enc.slice(i, i + LINE)}\n`;
  return out;
};

/** Builds the ConfigMap or Secret a generator entry describes. */
export const generate = async (kind: 'ConfigMap' | 'Secret', args: GeneratorArgs, options: GeneratorOptions, readLocal: ReadLocal): Promise<KubeObject> => {
  const what = `${kind === 'ConfigMap' ? 'configMapGenerator' : 'secretGenerator'} "${args.name ?? ''}"`;
  if (!args.name) throw new Error(`${what}: a generator needs a name`);
  const pairs = await collectPairs(args, readLocal, what);
  const metadata: Record<string, unknown> = { name: args.name };
  if (args.namespace) metadata.namespace = args.namespace;
  if (options.labels && Object.keys(options.labels).length) metadata.labels = { ...options.labels };
  if (options.annotations && Object.keys(options.annotations).length) metadata.annotations = { ...options.annotations };
  const obj: KubeObject = { apiVersion: 'v1', kind, metadata };
  if (kind === 'ConfigMap') {
    const data: Record<string, string> = {};
    const binaryData: Record<string, string> = {};
    for (const { key, value } of pairs) {
      const text = typeof value === 'string' ? value : utf8(value);
      if (text === undefined) binaryData[key] = toBase64(value);
      else data[key] = text;
    }
    if (Object.keys(data).length) obj.data = data;
    if (Object.keys(binaryData).length) obj.binaryData = binaryData;
  } else {
    obj.type = args.type || 'Opaque';
    const data: Record<string, string> = {};
    for (const { key, value } of pairs) data[key] = toBase64(value);
    // A Secret always has `data`, `{}` when nothing fills it (kyaml's LoadMapIntoSecretData); a ConfigMap has none then.
    obj.data = data;
  }
  if (options.immutable) obj.immutable = true;
  return obj;
};

/** Kustomize's merge of a generated object into an existing one (behavior: merge). */
export const mergeGenerated = (old: KubeObject, next: KubeObject, mergeData: boolean): KubeObject => {
  const oldMeta = (old.metadata ?? {}) as Record<string, unknown>;
  const meta = (next.metadata ?? {}) as Record<string, unknown>;
  const labels = { ...((oldMeta.labels as object) ?? {}), ...((meta.labels as object) ?? {}) };
  const annotations = { ...((oldMeta.annotations as object) ?? {}), ...((meta.annotations as object) ?? {}) };
  const out: KubeObject = { ...next, metadata: { ...meta, name: oldMeta.name } };
  const m = out.metadata as Record<string, unknown>;
  if (oldMeta.namespace !== undefined) m.namespace = oldMeta.namespace;
  else delete m.namespace;
  if (Object.keys(labels).length) m.labels = labels;
  if (Object.keys(annotations).length) m.annotations = annotations;
  if (mergeData) {
    for (const field of ['data', 'binaryData'] as const) {
      const merged = { ...(isMap(old[field]) ? old[field] : {}), ...(isMap(next[field]) ? next[field] : {}) };
      // Kustomize clears the field and sets it only when the merge left keys (SetDataMap).
      if (Object.keys(merged).length) out[field] = merged;
      else delete out[field];
    }
  }
  return out;
};
