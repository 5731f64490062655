import type { Replacement, ReplacementOptions, Selector } from './kustomization.js';
import { isMap } from '../../core/plain-object.js';
import { clone, formatId, curId, type Resource } from './resource.js';
import { allIds, idSelectedBy } from './select.js';
import { matchesSelector } from '../../core/label-selector.js';

/** Splits a field path on dots outside brackets: `spec.containers.[name=app].image`. */
export const splitFieldPath = (path: string): string[] =>
  splitOutsideBrackets(path)
    .filter((s) => s !== '')
    .map((s) => (s.startsWith('[') && s.endsWith(']') && !s.includes('=') ? s.slice(1, -1) : s));

/**
 * Splits a path on the dots that are not inside brackets (`a.[k=v.w].b` → `a`, `[k=v.w]`, `b`) nor escaped
 * (`labels.example\.com/x` → `labels`, `example.com/x`: kyaml's PathSplitter).
 */
export const splitOutsideBrackets = (path: string): string[] => {
  const out: string[] = [];
  let cur = '';
  let depth = 0;
  for (const c of path) {
    if (c === '[') depth++;
    if (c === ']') depth--;
    if (c === '.' && cur.endsWith('\\')) cur = `${cur.slice(0, -1)}.`;
    else if (c === '.' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
};

const matcher = (segment: string): { key: string; value: string } | undefined => {
  const m = segment.match(/^\[([^=]*)=(.*)\]$/);
  return m ? { key: m[1] as string, value: m[2] as string } : undefined;
};

/** Finds every node at a field path; `*` matches every element or field. */
const lookup = (node: unknown, parts: readonly string[]): unknown[] => {
  if (!parts.length) return [node];
  const [head, ...rest] = parts as [string, ...string[]];
  const m = matcher(head);
  if (Array.isArray(node)) {
    if (head === '*') return node.flatMap((el) => lookup(el, rest));
    if (m) {
      return node.filter((el) => (m.key === '' ? String(el) === m.value : isMap(el) && String(el[m.key]) === m.value)).flatMap((el) => lookup(el, rest));
    }
    if (/^\d+$/.test(head)) return Number(head) < node.length ? lookup(node[Number(head)], rest) : [];
    return [];
  }
  if (isMap(node)) {
    if (head === '*') return Object.values(node).flatMap((v) => lookup(v, rest));
    if (!(head in node)) return [];
    return lookup(node[head], rest);
  }
  return [];
};

/** Sets a value at a field path, creating maps (and `[k=v]` elements) when `create` is set. Returns how many were set. */
const setAt = (node: unknown, parts: readonly string[], fn: (old: unknown) => unknown, create: boolean): number => {
  const [head, ...rest] = parts as [string, ...string[]];
  const m = matcher(head);
  if (Array.isArray(node)) {
    if (head === '*') return node.reduce<number>((n, _el, i) => n + setChild(node, i, rest, fn, create), 0);
    if (m) {
      let n = 0;
      node.forEach((el, i) => {
        if (m.key === '' ? String(el) === m.value : isMap(el) && String(el[m.key]) === m.value) n += setChild(node, i, rest, fn, create);
      });
      if (n === 0 && create && m.key !== '') {
        node.push({ [m.key]: m.value });
        n += setChild(node, node.length - 1, rest, fn, create);
      }
      return n;
    }
    if (/^\d+$/.test(head)) return Number(head) < node.length ? setChild(node, Number(head), rest, fn, create) : 0;
    return 0;
  }
  if (isMap(node)) {
    if (head === '*') return Object.keys(node).reduce<number>((n, k) => n + setChild(node, k, rest, fn, create), 0);
    if (!(head in node) || node[head] === null) {
      if (!create) return 0;
      if (rest.length) node[head] = matcher(rest[0] as string) ? [] : {};
    }
    return setChild(node, head, rest, fn, create);
  }
  return 0;
};

const setChild = (parent: Record<string, unknown> | unknown[], key: string | number, rest: readonly string[], fn: (old: unknown) => unknown, create: boolean): number => {
  const container = parent as Record<string | number, unknown>;
  if (!rest.length) {
    container[key] = fn(container[key]);
    return 1;
  }
  return setAt(container[key], rest, fn, create);
};

const matchesSelect = (r: Resource, sel: Selector): boolean => {
  if (!allIds(r).some((id) => idSelectedBy(id, sel))) return false;
  const meta = isMap(r.obj.metadata) ? r.obj.metadata : {};
  if (sel.labelSelector && !matchesSelector(sel.labelSelector, isMap(meta.labels) ? meta.labels : {})) return false;
  if (sel.annotationSelector && !matchesSelector(sel.annotationSelector, isMap(meta.annotations) ? meta.annotations : {})) return false;
  return true;
};

const describe = (sel: Selector): string =>
  Object.entries(sel)
    .filter(([k, v]) => typeof v === 'string' && k !== 'fieldPath')
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');

const sourceValue = (resources: readonly Resource[], r: Replacement): unknown => {
  const src = r.source;
  if (!src) throw new Error('replacement has no source');
  const matches = resources.filter((res) => matchesSelect(res, src));
  if (matches.length === 0) throw new Error(`replacement source: nothing selected by ${describe(src)}`);
  if (matches.length > 1) {
    throw new Error(`replacement source: multiple matches for ${describe(src)}: ${matches.map((m) => formatId(curId(m))).join(', ')}`);
  }
  const fieldPath = src.fieldPath || 'metadata.name';
  const found = lookup((matches[0] as Resource).obj, splitFieldPath(fieldPath));
  if (!found.length || found[0] === undefined) {
    throw new Error(`replacement source: fieldPath ${fieldPath} is missing in ${formatId(curId(matches[0] as Resource))}`);
  }
  let value: unknown = found[0];
  const o = src.options;
  if (o?.delimiter !== undefined && o.delimiter !== '') {
    const parts = String(value).split(o.delimiter);
    const idx = o.index ?? 0;
    // The value is not echoed: it may come from a Secret.
    if (idx < 0 || idx >= parts.length) {
      throw new Error(`replacement source: options.index ${idx} is out of bounds for ${fieldPath} of ${formatId(curId(matches[0] as Resource))} (${parts.length} parts)`);
    }
    value = parts[idx];
  }
  return value;
};

const withDelimiter = (old: unknown, value: unknown, o: ReplacementOptions | undefined): unknown => {
  if (o?.delimiter === undefined || o.delimiter === '') return clone(value);
  const parts = String(old ?? '').split(o.delimiter);
  const idx = o.index ?? 0;
  if (idx < 0) throw new Error(`replacement target: options.index ${idx} is out of bounds`);
  if (idx >= parts.length) {
    while (parts.length < idx) parts.push('');
    parts.push(String(value));
  } else parts[idx] = String(value);
  return parts.join(o.delimiter);
};

/** Applies `replacements`: copies a field of one resource into fields of others. */
export const applyReplacements = (resources: readonly Resource[], replacements: readonly Replacement[]): void => {
  for (const r of replacements) {
    const value = sourceValue(resources, r);
    for (const t of r.targets ?? []) {
      if (!t.select) throw new Error('replacement target needs a select');
      for (const res of resources) {
        if (!matchesSelect(res, t.select)) continue;
        if ((t.reject ?? []).some((rej) => matchesSelect(res, rej))) continue;
        for (const fp of t.fieldPaths ?? ['metadata.name']) {
          const parts = splitFieldPath(fp);
          const n = setAt(res.obj, parts, (old) => withDelimiter(old, value, t.options), t.options?.create ?? false);
          if (n === 0 && !(t.options?.create ?? false) && !parts.includes('*')) {
            throw new Error(`replacement target: unable to find field "${fp}" in ${formatId(curId(res))}`);
          }
        }
      }
    }
  }
};
