import {
  isAlias,
  isMap as isYamlMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  Scalar,
  type Document,
  type DocumentOptions,
  type ParseOptions,
  type ScalarTag,
  type SchemaOptions,
  type ToJSOptions,
} from 'yaml';
import { RenderError } from '../core/errors.js';
import type { KubeObject } from '../core/object-ref.js';
import { printsPlain, printYamlStream } from './print-yaml.js';
import { aliasBomb, DEFAULT_INPUT_LIMITS, isAliasBomb } from './limits.js';
import { fastParseDocuments, type FastYamlHooks } from './fast-yaml.js';

// Kustomize reads YAML with go-yaml v3 and hands every object through encoding/json, so a plain scalar means what
// go-yaml v3's resolver (resolve.go) says: YAML 1.2 booleans and nulls, but YAML 1.1 integers (0755 is octal,
// 1_000 and 0b101 are numbers) and timestamps, which JSON turns into RFC 3339 strings.

const RESOLVE_MAP: ReadonlyMap<string, unknown> = new Map<string, unknown>([
  ...['true', 'True', 'TRUE'].map((s) => [s, true] as const),
  ...['false', 'False', 'FALSE'].map((s) => [s, false] as const),
  ...['', '~', 'null', 'Null', 'NULL'].map((s) => [s, null] as const),
  ...['.nan', '.NaN', '.NAN'].map((s) => [s, Number.NaN] as const),
  ...['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF'].map((s) => [s, Number.POSITIVE_INFINITY] as const),
  ...['-.inf', '-.Inf', '-.INF'].map((s) => [s, Number.NEGATIVE_INFINITY] as const),
]);

/** Go's strconv.ParseInt(s, 0, 64) syntax: sign, then 0x / 0o / 0b / leading-0 octal or decimal digits. */
const GO_INT = /^([-+]?)(?:0[xX]([0-9a-fA-F]+)|0[oO]([0-7]+)|0[bB]([01]+)|(0[0-7]*)|([1-9][0-9]*))$/;
const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/** The value go-yaml v3 gives an untagged plain scalar (a number, boolean, null, timestamp text or the string itself). */
export const resolvePlainScalar = (text: string): unknown => {
  const hint = text === '' ? 'N' : hintOf(text.charCodeAt(0));
  if (!hint) return text;
  if (RESOLVE_MAP.has(text)) return RESOLVE_MAP.get(text);
  if (hint === '.') {
    if (/^\.[0-9]+([eE][-+]?[0-9]+)?$/.test(text)) {
      const f = Number(text);
      if (Number.isFinite(f)) return f;
    }
    return text;
  }
  if (hint === 'D' || hint === 'S') {
    const ts = parseGoTimestamp(text);
    if (ts !== undefined) return ts;
    const plain = text.replaceAll('_', '');
    const int = parseGoInt(plain);
    if (int !== undefined) return int;
    if (YAML_STYLE_FLOAT.test(plain)) {
      const f = Number(plain);
      if (Number.isFinite(f)) return f; // strconv.ParseFloat fails on overflow, and the scalar stays a string
    }
  }
  return text;
};

const hintOf = (c: number): string | undefined => {
  if (c === 0x2b || c === 0x2d) return 'S';
  if (c >= 0x30 && c <= 0x39) return 'D';
  if ('yYnNtTfFoO~'.includes(String.fromCharCode(c))) return 'M';
  if (c === 0x2e) return '.';
  return undefined;
};

const parseGoInt = (s: string): number | undefined => {
  const m = GO_INT.exec(s);
  if (!m) return undefined;
  const [, sign, hex, oct, bin, oldOct, dec] = m;
  let n: bigint;
  if (hex !== undefined) n = BigInt(`0x${hex}`);
  else if (oct !== undefined) n = BigInt(`0o${oct}`);
  else if (bin !== undefined) n = BigInt(`0b${bin}`);
  else if (oldOct !== undefined) n = oldOct.length > 1 ? BigInt(`0o${oldOct.slice(1)}`) : 0n;
  else n = BigInt(dec as string);
  if (sign === '-') n = -n;
  // ParseInt, then ParseUint (which takes no sign) for what int64 cannot hold.
  if (n < INT64_MIN || n > UINT64_MAX || (n > 2n ** 63n - 1n && sign)) return undefined;
  return Number(n);
};

/** go-yaml v3's timestamp formats (time.Parse layouts "2006-1-2T15:4:5.999999999Z07:00", "2006-1-2 15:4:5.999999999", "2006-1-2"). */
const GO_TIMESTAMP = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:(?:([Tt])(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d+))?(Z|[-+]\d{2}:\d{2}))|(?: (\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d+))?))?$/;

/** The RFC 3339 text encoding/json gives the time.Time go-yaml v3 parses `text` as, if it parses as one. */
export const parseGoTimestamp = (text: string): string | undefined => {
  const m = GO_TIMESTAMP.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, t, h1, mi1, s1, f1, zone, h2, mi2, s2, f2] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return undefined;
  const pad = (v: string | number, n = 2) => String(v).padStart(n, '0');
  const date = `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
  const [hh, mm, ss, frac] = t ? [h1, mi1, s1, f1] : [h2, mi2, s2, f2];
  if (hh === undefined) return `${date}T00:00:00Z`;
  if (Number(hh) > 23 || Number(mm) > 59 || Number(ss) > 59) return undefined;
  let tz = 'Z';
  if (zone && zone !== 'Z') {
    const [zh, zm] = zone.slice(1).split(':').map(Number) as [number, number];
    if (zh > 23 || zm > 59) return undefined; // hh:mm offsets beyond a day do not parse
    tz = zh === 0 && zm === 0 ? 'Z' : zone;
  }
  const nanos = (frac ?? '').slice(0, 9).replace(/0+$/, '');
  return `${date}T${pad(Number(hh))}:${pad(Number(mm))}:${pad(Number(ss))}${nanos ? `.${nanos}` : ''}${tz}`;
};

/** YAML 1.1 booleans go-yaml v2 adds to v3's (v2 also leaves timestamps as their text when decoding to interface{}). */
const V2_BOOLEANS: ReadonlyMap<string, boolean> = new Map([
  ...['y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON'].map((s) => [s, true] as const),
  ...['n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF'].map((s) => [s, false] as const),
]);

/** The value go-yaml v2 (sigs.k8s.io/yaml's YAMLToJSON) gives an untagged plain scalar. */
export const resolvePlainScalarV2 = (text: string): unknown => {
  const bool = V2_BOOLEANS.get(text);
  if (bool !== undefined) return bool;
  if (parseGoTimestamp(text) !== undefined) return text;
  return resolvePlainScalar(text);
};

/**
 * The default tag's test: any plain scalar but `<<` (a merge key). A comparison, not /^(?!<<$)[\s\S]*$/, which
 * scanned every scalar to its end (long CRD descriptions included).
 */
class NotAMergeKey extends RegExp {
  override test(text: string): boolean {
    return text !== '<<';
  }
}
const NOT_A_MERGE_KEY = new NotAMergeKey('^(?!<<$)[\\s\\S]*$');

const goScalar = (tag: string, isDefault: boolean, resolve = resolvePlainScalar): ScalarTag => ({
  tag,
  default: isDefault,
  test: isDefault ? NOT_A_MERGE_KEY : undefined,
  resolve: (text: string) => resolve(text),
});

/**
 * Parse options that make the `yaml` package resolve plain scalars as go-yaml v3 does (see resolvePlainScalar),
 * with merge keys; for every YAML that Kustomize reads: resources, patches.
 */
export const GO_YAML_OPTIONS: ParseOptions & DocumentOptions & SchemaOptions = {
  merge: true,
  customTags: (tags) => [
    ...tags.filter((t) => typeof t !== 'string' && /:(map|seq|str)$/.test(t.tag)),
    goScalar('tag:yaml.org,2002:go', true),
    // Explicit !!int / !!float / !!bool / !!null tags: resolved like plain scalars.
    ...['int', 'float', 'bool', 'null', 'timestamp'].map((t) => goScalar(`tag:yaml.org,2002:${t}`, false)),
  ],
};

/**
 * Parse options for YAML that Kustomize converts with sigs.k8s.io/yaml (go-yaml v2): JSON 6902 patches written in
 * YAML, where `yes` and `on` are booleans and timestamps stay text.
 */
export const GO_YAML_V2_OPTIONS: ParseOptions & DocumentOptions & SchemaOptions = {
  merge: true,
  customTags: (tags) => [
    ...tags.filter((t) => typeof t !== 'string' && /:(map|seq|str)$/.test(t.tag)),
    goScalar('tag:yaml.org,2002:go', true, resolvePlainScalarV2),
    ...['int', 'float', 'bool', 'null', 'timestamp'].map((t) => goScalar(`tag:yaml.org,2002:${t}`, false, resolvePlainScalarV2)),
  ],
};

/**
 * The JS value of a document read as Kustomize reads it: go-yaml v3 scalars, folded block scalars as go-yaml folds
 * them (goFolded), and a block scalar that ends the file without a line break keeps no final newline (go-yaml's
 * reading of `key: |` at EOF).
 */
export const goYamlToJS = (doc: Document, text: string, options: ToJSOptions & PatchTextOptions = {}): unknown => {
  fixBlockScalars(doc, text);
  const { metadataAsText, ...toJs } = options;
  const targeted = metadataAsText === 'targeted';
  const fields = targeted ? (['annotations', 'labels'] as const) : metadataAsText ? (['annotations'] as const) : [];
  const texts = fields.map((field) => ({ field, texts: metadataTexts(doc, field, targeted) }));
  const value = doc.toJS(toJs) as unknown;
  recordScalarStyles(doc.contents, value);
  for (const { field, texts: t } of texts) setMetadataTexts(value, field, t);
  return value;
};

/** How Kustomize reads a strategic merge patch's metadata. */
export interface PatchTextOptions {
  /**
   * `'by-id'` (a patch without a target): annotations keep their source text, and null ones still delete.
   * `'targeted'` (a patch with a target, which Kustomize reads as a resource): labels and annotations keep their
   * source text, nulls included (`key: null` sets "null").
   */
  readonly metadataAsText?: 'by-id' | 'targeted';
}

const fixBlockScalars = (doc: Document, text: string): void => {
  // Every block scalar has a `|` or `>` header: without either in the text there is nothing to fix.
  if (!text.includes('|') && !text.includes('>')) return;
  const atEof = !/[\n\r]$/.test(text);
  walkScalars(doc.contents, (node) => {
    if (typeof node.value !== 'string' || (node.type !== Scalar.BLOCK_FOLDED && node.type !== Scalar.BLOCK_LITERAL)) return;
    let value: string = node.value;
    if (node.type === Scalar.BLOCK_FOLDED) value = goFolded(value);
    if (atEof && node.range?.[1] === text.length && value.endsWith('\n')) value = value.slice(0, -1);
    node.value = value;
  });
};

/** Every scalar of a node: map keys and values, sequence items (aliases are not followed, as the yaml library's visit does not). */
const walkScalars = (node: unknown, fn: (s: Scalar) => void): void => {
  if (isScalar(node)) fn(node);
  else if (isPair(node)) {
    walkScalars(node.key, fn);
    walkScalars(node.value, fn);
  } else if (isYamlMap(node) || isSeq(node)) for (const item of node.items) walkScalars(item, fn);
};

/**
 * A folded block scalar as go-yaml reads it: where a more-indented line follows a line that is not, go-yaml keeps
 * one more line break than YAML 1.2 does (`>` of `a`, `  b` reads `a\n\n  b`, not `a\n  b`). `folded` is the spec's
 * reading; a line of it that starts with a blank after a line that does not (empty lines between) gains the break.
 */
export const goFolded = (folded: string): string => {
  if (!/\n[ \t]/.test(folded)) return folded;
  const lines = folded.split('\n');
  const out: string[] = [];
  let previous: string | undefined; // the last non-empty line
  for (const line of lines) {
    const blank = line.startsWith(' ') || line.startsWith('\t');
    if (blank && previous !== undefined && !previous.startsWith(' ') && !previous.startsWith('\t')) out.push('');
    out.push(line);
    if (line !== '') previous = line;
  }
  return out.join('\n');
};

/** How parseManifests reads a file. */
export interface ParseManifestsOptions {
  /** Alias expansions allowed per document. @default DEFAULT_INPUT_LIMITS.yamlAliases */
  readonly maxAliases?: number;
  /**
   * Keep the source text of every `metadata.annotations` value (`0755` stays "0755", `~` becomes "~"), as Kustomize
   * does when it rewrites annotations as strings; for Kustomize resources.
   * @default false
   */
  readonly annotationsAsText?: boolean;
}

const indentOf = (line: string): number => line.length - line.trimStart().length;

/**
 * Indents the continuation lines of single- and double-quoted scalars that begin a value (after `key: `, `- ` or
 * at the start of a line) to one column past the line the scalar starts on, where they are not already; block
 * scalars and comments are skipped. Used only on text the yaml library refused for a missing closing quote.
 */
export const indentQuotedContinuations = (text: string): string => {
  const lines = text.split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as string;
    const base = indentOf(line);
    let pos = base;
    let blockScalar = false;
    // Walk the line's value starts: `- ` markers, then `key: ` pairs, until a quoted scalar, a block header or text.
    for (;;) {
      while (line.startsWith('- ', pos)) pos += 2;
      const c = line[pos];
      if (c === "'" || c === '"') {
        const end = closingQuote(lines, i, pos, c);
        if (!end) break;
        for (let j = i + 1; j <= end.line; j++) {
          const l = lines[j] as string;
          if (l.trim() !== '' && indentOf(l) <= base) lines[j] = ' '.repeat(base + 1 - indentOf(l)) + l;
        }
        if (end.line > i) {
          i = end.line;
          break;
        }
        const rest = line.slice(end.col + 1);
        const colon = rest.match(/^\s*:\s+/);
        if (!colon) break;
        pos = end.col + 1 + colon[0].length;
        continue;
      }
      const key = line.slice(pos).match(/^[^\s#'"{[\]},:][^:#]*?:(\s+|$)/);
      if (key) {
        pos += key[0].length;
        if (pos >= line.length) break;
        continue;
      }
      blockScalar = /^[|>][-+0-9]*\s*(#.*)?$/.test(line.slice(pos));
      break;
    }
    i++;
    if (blockScalar) while (i < lines.length && ((lines[i] as string).trim() === '' || indentOf(lines[i] as string) > base)) i++;
  }
  return lines.join('\n');
};

/** Where the quoted scalar opened at `lines[line][col]` closes (`''` and `\"` escapes), if it does. */
const closingQuote = (lines: readonly string[], line: number, col: number, quote: string): { line: number; col: number } | undefined => {
  let l = line;
  let c = col + 1;
  while (l < lines.length) {
    const text = lines[l] as string;
    for (; c < text.length; c++) {
      const ch = text[c];
      if (quote === '"' && ch === '\\') c++;
      else if (ch === quote) {
        if (quote === "'" && text[c + 1] === "'") c++;
        else return { line: l, col: c };
      }
    }
    l++;
    c = 0;
  }
  return undefined;
};

/**
 * The Kubernetes objects of a multi-document YAML (or JSON) stream, empty documents skipped and a `kind: List`
 * flattened, read as Kustomize reads them; plain
 * block YAML by fastParseDocuments, anything else by the yaml library (which gives the same objects, slower).
 */
export const parseManifests = (text: string, file: string, options: ParseManifestsOptions | number = {}): KubeObject[] => {
  const fast = fastParseDocuments(text, FAST_HOOKS);
  if (!fast) return parseManifestsWithYamlLibrary(text, file, options);
  const annotationsAsText = typeof options === 'object' && options.annotationsAsText === true;
  const out: KubeObject[] = [];
  for (const d of fast) {
    if (annotationsAsText) setMetadataTexts(d.value, 'annotations', d.annotationTexts);
    pushManifest(d.value, d.line, d.emptyNulls, file, out);
  }
  return out;
};

const FAST_HOOKS: FastYamlHooks = {
  resolve: resolvePlainScalar,
  quoted: (map, key) => setQuotedScalar(map, key, true),
  plainText: (map, key, text) => setPlainScalarText(map, key, text),
};

/** parseManifests with the yaml library alone (exported for the test that compares fastParseDocuments with it). */
export const parseManifestsWithYamlLibrary = (text: string, file: string, options: ParseManifestsOptions | number = {}): KubeObject[] => {
  const { maxAliases = DEFAULT_INPUT_LIMITS.yamlAliases, annotationsAsText = false } = typeof options === 'number' ? { maxAliases: options } : options;
  let lineCounter = new LineCounter();
  let docs = parseAllDocuments(text, { lineCounter, uniqueKeys: true, ...GO_YAML_OPTIONS });
  if (docs.some((d) => d.errors.some((e) => /Missing closing .?quote/.test(e.message)))) {
    // go-yaml reads a quoted scalar whose continuation lines are not indented under its key; the yaml library
    // does not. Indenting those lines changes no value (a quoted scalar drops their leading white space).
    const indented = indentQuotedContinuations(text);
    const retry = new LineCounter();
    const again = indented === text ? undefined : parseAllDocuments(indented, { lineCounter: retry, uniqueKeys: true, ...GO_YAML_OPTIONS });
    if (again && again.every((d) => d.errors.length === 0)) {
      text = indented;
      docs = again;
      lineCounter = retry;
    }
  }
  const out: KubeObject[] = [];
  for (const doc of docs) {
    const err = doc.errors[0];
    if (err) {
      throw new RenderError(file, `invalid YAML: ${firstLine(err.message)}`, lineCounter.linePos(err.pos[0]).line);
    }
    fixBlockScalars(doc, text);
    const texts = annotationsAsText ? metadataTexts(doc, 'annotations', true) : undefined;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: maxAliases });
    } catch (err) {
      if (isAliasBomb(err)) throw aliasBomb(file, maxAliases, lineCounter.linePos(doc.contents?.range?.[0] ?? 0).line);
      throw err;
    }
    recordScalarStyles(doc.contents, value);
    setMetadataTexts(value, 'annotations', texts);
    if (value === null || value === undefined) continue;
    const all: (string | number)[][] = [];
    collectEmptyNulls(doc.contents, [], all);
    pushManifest(value, lineCounter.linePos(doc.contents?.range?.[0] ?? 0).line, all, file, out);
  }
  return out;
};

/** Checks one document's value and adds its object (or its List's items) to `out`, with their empty fields. */
const pushManifest = (value: unknown, line: number, emptyNulls: (string | number)[][], file: string, out: KubeObject[]): void => {
  checkFinite(value, file, line);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RenderError(file, 'a manifest document must be a mapping', line);
  }
  const obj = value as KubeObject;
  if (isList(obj)) {
    const firstItem = out.length;
    for (const item of (obj.items as unknown[] | null | undefined) ?? []) {
      if (!item || typeof item !== 'object' || Array.isArray(item)) {
        throw new RenderError(file, 'every item of a List must be a mapping', line);
      }
      out.push(checkObject(item as KubeObject, file, line));
    }
    recordEmptyNulls(emptyNulls, out.slice(firstItem), true);
    return;
  }
  if (Object.keys(obj).length === 0) return;
  out.push(checkObject(obj, file, line));
  recordEmptyNulls(emptyNulls, [obj], false);
};

/** Kustomize fails on what JSON cannot hold (`.inf`, `.nan`), when it prints the object. */
const checkFinite = (v: unknown, file: string, line: number): void => {
  if (typeof v === 'number' && !Number.isFinite(v)) {
    throw new RenderError(file, `json: unsupported value: ${v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN'} (.inf and .nan have no JSON form)`, line);
  }
  if (v && typeof v === 'object') for (const x of Object.values(v)) checkFinite(x, file, line);
};

/**
 * The source text of each scalar under the top-level metadata.annotations (or labels; an empty value is "");
 * without `nulls`, null values are left out (in a patch they delete).
 */
const metadataTexts = (doc: Document, field: 'annotations' | 'labels', nulls: boolean): Map<string, string> | undefined => {
  const root = doc.contents;
  if (!isYamlMap(root)) return undefined;
  const meta = root.get('metadata', true);
  if (!isYamlMap(meta)) return undefined;
  const annotations = meta.get(field, true);
  if (!isYamlMap(annotations)) return undefined;
  const texts = new Map<string, string>();
  for (const pair of annotations.items) {
    if (!isPair(pair)) continue;
    const key = isScalar(pair.key) ? pair.key.value : pair.key;
    const node = isAlias(pair.value) ? pair.value.resolve(doc) : pair.value;
    if (node === null || node === undefined) {
      if (nulls) texts.set(String(key), '');
      continue;
    }
    if (!isScalar(node) || (!nulls && node.value === null)) continue;
    const text = node.type === Scalar.PLAIN ? (node.source ?? String(node.value)) : node.value;
    if (typeof text === 'string') texts.set(String(key), text);
  }
  return texts;
};

/** Puts the source texts of metadataTexts back over the values the document read as. */
const setMetadataTexts = (obj: unknown, field: 'annotations' | 'labels', texts: Map<string, string> | undefined): void => {
  if (!texts?.size) return;
  const annotations = (obj as { metadata?: Record<string, Record<string, unknown> | undefined> }).metadata?.[field];
  if (!annotations || typeof annotations !== 'object') return;
  for (const [k, text] of texts) if (k in annotations) annotations[k] = text;
};

// Scalar styles Kustomize's strategic merge looks at (kyaml keeps the node of the patched field, so a quoted string
// stays a string when a patch sets it to a plain `9090`: it becomes "9090"). Kept per mapping, by key.
const QUOTED_KEYS = new WeakMap<object, Set<string>>();
const PLAIN_TEXTS = new WeakMap<object, Map<string, string>>();

/** Whether `map[key]` was written as a quoted or block scalar (a string in any reading). */
export const isQuotedScalar = (map: object, key: string): boolean => QUOTED_KEYS.get(map)?.has(key) ?? false;

/** The source text of `map[key]` when it was written as a plain scalar that reads as a number, boolean or timestamp. */
export const plainScalarText = (map: object, key: string): string | undefined => PLAIN_TEXTS.get(map)?.get(key);

/** Records `map[key]` as quoted (or not), e.g. after a merge replaced it. */
export const setQuotedScalar = (map: object, key: string, quoted: boolean): void => {
  let keys = QUOTED_KEYS.get(map);
  if (quoted) {
    if (!keys) QUOTED_KEYS.set(map, (keys = new Set()));
    keys.add(key);
  } else keys?.delete(key);
};

/** Records (or with undefined, forgets) the plain source text of `map[key]`, e.g. after a merge replaced it. */
export const setPlainScalarText = (map: object, key: string, text: string | undefined): void => {
  let texts = PLAIN_TEXTS.get(map);
  if (text === undefined) texts?.delete(key);
  else {
    if (!texts) PLAIN_TEXTS.set(map, (texts = new Map<string, string>()));
    texts.set(key, text);
  }
};

/**
 * Restyles every string in `v` as Kustomize does after a JSON 6902 patch: it applies the patch to the resource's
 * JSON and reads the result back as YAML, so a string is quoted (or a block) exactly when it cannot print plain.
 */
export const restyleAfterJsonRoundTrip = (v: unknown): void => {
  if (Array.isArray(v)) v.forEach(restyleAfterJsonRoundTrip);
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (typeof x === 'string') setQuotedScalar(v, k, !printsPlain(x));
      else {
        setQuotedScalar(v, k, false);
        restyleAfterJsonRoundTrip(x);
      }
    }
    PLAIN_TEXTS.delete(v);
  }
};

/**
 * Gives top-level annotations that were read as their source text the values go-yaml reads them as (`0755` is 493,
 * `~` and an empty value null): Kustomize applies a JSON patch to the resource's JSON, where the text is lost.
 */
export const resolveAnnotationTexts = (obj: object): void => {
  const meta = (obj as { metadata?: unknown }).metadata;
  const annotations = meta && typeof meta === 'object' ? (meta as { annotations?: unknown }).annotations : undefined;
  if (!annotations || typeof annotations !== 'object' || Array.isArray(annotations)) return;
  const map = annotations as Record<string, unknown>;
  for (const [k, v] of Object.entries(map)) {
    if (typeof v !== 'string' || isQuotedScalar(map, k)) continue;
    if (plainScalarText(map, k) === v) map[k] = resolvePlainScalar(v);
  }
  for (const path of emptyNullFields(obj)) {
    const [m, a, key] = path;
    if (path.length === 3 && m === 'metadata' && a === 'annotations' && map[key as string] === '') map[key as string] = null;
  }
};

/** structuredClone that carries the scalar styles and empty fields recorded for the mappings it copies. */
export const cloneWithStyles = <T>(v: T): T => {
  if (Array.isArray(v)) return v.map(cloneWithStyles) as T;
  if (!v || typeof v !== 'object') return v;
  if (Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null) return structuredClone(v);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = cloneWithStyles(x);
  const quoted = QUOTED_KEYS.get(v);
  if (quoted) QUOTED_KEYS.set(out, new Set(quoted));
  const texts = PLAIN_TEXTS.get(v);
  if (texts) PLAIN_TEXTS.set(out, new Map(texts));
  const empty = EMPTY_NULLS.get(v);
  if (empty) EMPTY_NULLS.set(out, empty);
  return out as T;
};

/** Walks the YAML nodes next to the JS value read from them and records the styles of their scalars. */
const recordScalarStyles = (node: unknown, js: unknown): void => {
  if (isYamlMap(node) && js && typeof js === 'object' && !Array.isArray(js)) {
    const obj = js as Record<string, unknown>;
    for (const pair of node.items) {
      if (!isScalar(pair.key)) continue;
      const key = String(pair.key.value);
      if (!(key in obj)) continue;
      const v = pair.value;
      if (isScalar(v)) {
        if (typeof v.value === 'string' && v.type !== Scalar.PLAIN) setQuotedScalar(obj, key, true);
        else if (v.type === Scalar.PLAIN && v.source && obj[key] !== v.source) {
          let texts = PLAIN_TEXTS.get(obj);
          if (!texts) PLAIN_TEXTS.set(obj, (texts = new Map<string, string>()));
          texts.set(key, v.source);
        }
      } else recordScalarStyles(v, obj[key]);
    }
  } else if (isSeq(node) && Array.isArray(js)) {
    node.items.forEach((item, i) => recordScalarStyles(item, js[i]));
  }
};

/** Field paths (keys and list indexes) whose value was written empty (`key:`), by object read with parseManifests. */
const EMPTY_NULLS = new WeakMap<object, readonly (readonly (string | number)[])[]>();

/**
 * The fields of `obj` that were empty in its YAML (`key:` with no value). Kustomize keeps them as null, except that
 * its strategic merge (kyaml merge2) drops them from the whole resource it patches.
 */
export const emptyNullFields = (obj: object): readonly (readonly (string | number)[])[] => EMPTY_NULLS.get(obj) ?? [];

const collectEmptyNulls = (node: unknown, path: (string | number)[], out: (string | number)[][]): void => {
  // One path, pushed and popped: copied only for a field that is recorded (a CRD's schema has thousands of fields).
  if (isYamlMap(node)) {
    for (const pair of node.items) {
      if (!isScalar(pair.key)) continue;
      const key = String(pair.key.value);
      const v = pair.value;
      if (v === null || (isScalar(v) && v.value === null && v.source === '' && !v.tag)) out.push([...path, key]);
      else if (isYamlMap(v) || isSeq(v)) {
        path.push(key);
        collectEmptyNulls(v, path, out);
        path.pop();
      }
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      if (!isYamlMap(item) && !isSeq(item)) return;
      path.push(i);
      collectEmptyNulls(item, path, out);
      path.pop();
    });
  }
};

/** The empty fields of a document's object (`item` undefined) or of the items of its `kind: List`, recorded once. */
const recordEmptyNulls = (all: (string | number)[][], objects: readonly KubeObject[], list: boolean): void => {
  if (!all.length) return;
  if (!list) {
    if (objects[0]) EMPTY_NULLS.set(objects[0], all);
    return;
  }
  const byItem = new Map<number, (string | number)[][]>();
  for (const p of all) {
    if (p[0] !== 'items' || typeof p[1] !== 'number') continue;
    byItem.set(p[1], [...(byItem.get(p[1]) ?? []), p.slice(2)]);
  }
  for (const [i, paths] of byItem) if (objects[i]) EMPTY_NULLS.set(objects[i], paths);
};

/** `kind: List` and typed lists such as ConfigMapList (Kustomize flattens both). */
const isList = (obj: KubeObject): boolean => typeof obj.kind === 'string' && obj.kind.endsWith('List') && (Array.isArray(obj.items) || obj.items == null) && 'items' in obj;

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

/** Serialises objects as a YAML stream byte for byte as `kubectl kustomize` prints them (see print-yaml.ts). */
export const toYamlStream = (objects: readonly unknown[]): string => printYamlStream(objects);
