import { posix } from 'node:path';
import { parseAllDocuments, parseDocument } from 'yaml';
import { secretValuesOf } from '../core/redact.js';
import { joinPath, type FileTree } from './file-tree.js';
import { KUSTOMIZATION_FILES } from './kustomize/kustomization.js';

const MANIFEST = /\.(ya?ml|json)$/i;
const KUSTOMIZATION = new Set<string>(KUSTOMIZATION_FILES);
/** Files larger than this are not scanned (the input limits refuse far smaller manifests anyway). */
const SCAN_MAX_BYTES = 4 * 1024 * 1024;

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const text = (bytes: Uint8Array): string | undefined => {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
};

/**
 * Secret values a repository carries below `dir`, found without rendering: Secret manifests (`data`,
 * `stringData`) and `secretGenerator` sources (literals, env files, files) of every kustomization. Used when a
 * render fails before its Secrets are known, so the failure's text can still be redacted. Lenient: a file that
 * cannot be read or parsed adds nothing.
 */
export const secretSourceValues = async (tree: FileTree, dir = ''): Promise<string[]> => {
  const out: string[] = [];
  const read = async (p: string): Promise<string | undefined> => {
    const bytes = await tree.read(p).catch(() => undefined);
    return bytes && bytes.length <= SCAN_MAX_BYTES ? text(bytes) : undefined;
  };
  const walk = async (d: string, depth: number): Promise<void> => {
    if (depth > 32) return;
    const names = await tree.list(d).catch(() => [] as string[]);
    for (const name of names) {
      // driftless's own state in a checkout (a serve's files, the chart and observation caches) holds no manifests.
      if (!d && name === '.driftless') continue;
      const p = d ? posix.join(d, name) : name;
      const kind = await tree.kind(p).catch(() => undefined);
      if (kind === 'dir') await walk(p, depth + 1);
      else if (kind === 'file' && KUSTOMIZATION.has(name)) out.push(...(await generatorValues(d, await read(p), read)));
      else if (kind === 'file' && MANIFEST.test(name)) {
        const t = await read(p);
        if (t?.includes('Secret')) out.push(...manifestValues(t));
      }
    }
  };
  await walk(dir, 0);
  return out;
};

/** Values of Secret documents in a manifest, including documents with errors (as far as they parse). */
const manifestValues = (t: string): string[] => {
  const objects: unknown[] = [];
  for (const doc of parseAllDocuments(t, { merge: true })) {
    try {
      objects.push(doc.toJS({ maxAliasCount: 100 }));
    } catch {
      // An alias bomb or a broken document: nothing to add.
    }
  }
  return secretValuesOf(objects.flatMap((o) => (isMap(o) && Array.isArray(o.items) ? (o.items as unknown[]) : [o])));
};

/** The values a kustomization's secretGenerator entries would put in their Secrets. */
const generatorValues = async (dir: string, t: string | undefined, read: (p: string) => Promise<string | undefined>): Promise<string[]> => {
  if (!t) return [];
  let k: unknown;
  try {
    k = parseDocument(t).toJS({ maxAliasCount: 100 });
  } catch {
    return [];
  }
  if (!isMap(k) || !Array.isArray(k.secretGenerator)) return [];
  const out: string[] = [];
  for (const g of k.secretGenerator) {
    if (!isMap(g)) continue;
    // A literal without `=` is all value; with one, the value is what follows it (quoted or not).
    for (const lit of strings(g.literals)) {
      const v = lit.slice(lit.indexOf('=') + 1);
      out.push(v, v.replace(/^(["'])(.*)\1$/, '$2'));
    }
    for (const env of strings(g.envs).concat(typeof g.env === 'string' ? [g.env] : [])) {
      const p = joinPath(dir, env);
      const body = p === undefined ? undefined : await read(p);
      for (const line of body?.split(/\r?\n/) ?? []) if (line.trim() && !line.trim().startsWith('#')) out.push(line.slice(line.indexOf('=') + 1), line.trim());
    }
    for (const f of strings(g.files)) {
      const eq = f.indexOf('=');
      const p = joinPath(dir, eq > 0 ? f.slice(eq + 1) : f);
      const body = p === undefined ? undefined : await read(p);
      if (body !== undefined) out.push(body);
    }
  }
  return out;
};
