import { LineCounter, parseAllDocuments, stringify } from 'yaml';
import { RenderError } from '../core/errors.js';
import type { KubeObject } from '../core/object-ref.js';
import { aliasBomb, DEFAULT_INPUT_LIMITS, isAliasBomb } from './limits.js';

/** Parses a multi-document YAML (or JSON) manifest: empty documents skipped, `kind: List` flattened. */
export const parseManifests = (text: string, file: string, maxAliases = DEFAULT_INPUT_LIMITS.yamlAliases): KubeObject[] => {
  const lineCounter = new LineCounter();
  // YAML 1.2 core scalars plus timestamps, which Kustomize (go-yaml) turns into RFC 3339 strings.
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: true, merge: true, customTags: ['timestamp'] });
  const out: KubeObject[] = [];
  for (const doc of docs) {
    const err = doc.errors[0];
    if (err) {
      throw new RenderError(file, `invalid YAML: ${firstLine(err.message)}`, lineCounter.linePos(err.pos[0]).line);
    }
    let js: unknown;
    try {
      js = doc.toJS({ maxAliasCount: maxAliases });
    } catch (err) {
      if (isAliasBomb(err)) throw aliasBomb(file, maxAliases, lineCounter.linePos(doc.contents?.range?.[0] ?? 0).line);
      throw err;
    }
    const value: unknown = datesToStrings(js);
    if (value === null || value === undefined) continue;
    const line = lineCounter.linePos(doc.contents?.range?.[0] ?? 0).line;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new RenderError(file, 'a manifest document must be a mapping', line);
    }
    const obj = value as KubeObject;
    if (isList(obj)) {
      for (const item of (obj.items as unknown[] | null | undefined) ?? []) {
        if (!item || typeof item !== 'object' || Array.isArray(item)) {
          throw new RenderError(file, 'every item of a List must be a mapping', line);
        }
        out.push(checkObject(item as KubeObject, file, line));
      }
      continue;
    }
    if (Object.keys(obj).length === 0) continue;
    out.push(checkObject(obj, file, line));
  }
  return out;
};

/** `kind: List` and typed lists such as ConfigMapList (Kustomize flattens both). */
/** Replaces Date values with the RFC 3339 text Go's time.Time marshals to (UTC, trailing zero fractions dropped). */
const datesToStrings = (v: unknown): unknown => {
  if (v instanceof Date) return v.toISOString().replace(/\.?0+Z$/, (m) => (m.startsWith('.') ? 'Z' : m)).replace(/\.(\d*?)0+Z$/, '.$1Z');
  if (Array.isArray(v)) return v.map(datesToStrings);
  if (v && typeof v === 'object') {
    for (const [k, val] of Object.entries(v)) (v as Record<string, unknown>)[k] = datesToStrings(val);
  }
  return v;
};

const isList = (obj: KubeObject): boolean =>
  typeof obj.kind === 'string' && obj.kind.endsWith('List') && (Array.isArray(obj.items) || obj.items == null) && 'items' in obj;

const checkObject = (obj: KubeObject, file: string, line: number): KubeObject => {
  if (typeof obj.apiVersion !== 'string' || !obj.apiVersion) throw new RenderError(file, 'missing apiVersion', line);
  if (typeof obj.kind !== 'string' || !obj.kind) throw new RenderError(file, 'missing kind', line);
  const meta = obj.metadata as Record<string, unknown> | undefined;
  if (!meta || typeof meta !== 'object' || (typeof meta.name !== 'string' && typeof meta.generateName !== 'string')) {
    throw new RenderError(file, `${obj.kind} has no metadata.name`, line);
  }
  return obj;
};

/** The first line of a YAML error, without the position the caller reports itself. */
const firstLine = (s: string): string => (s.split('\n')[0] ?? s).replace(/ at line \d+, column \d+:?$/, '');

/** Serialises objects as a YAML stream the way Kustomize prints them: sorted keys, compact sequences. */
export const toYamlStream = (objects: readonly unknown[]): string =>
  objects
    .map((o) => stringify(o, { version: '1.1', sortMapEntries: true, indentSeq: false, lineWidth: 0, aliasDuplicateObjects: false }))
    .join('---\n');
