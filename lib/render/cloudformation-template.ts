import { parseDocument, Scalar, stringify, YAMLMap, YAMLSeq, type Document, type Tags } from 'yaml';
import { ReconcilerError } from '../core/errors.js';

/** CloudFormation's short-form intrinsic functions. */
export const SHORT_FORM_TAGS = [
  'Ref',
  'Sub',
  'GetAtt',
  'If',
  'Join',
  'Select',
  'Split',
  'FindInMap',
  'Base64',
  'Cidr',
  'ImportValue',
  'GetAZs',
  'Equals',
  'And',
  'Or',
  'Not',
  'Condition',
  'Transform',
] as const;

/** Custom tags that keep `!Ref x` as a tagged node, so a parsed template re-serialises exactly as written. */
const tags: Tags = SHORT_FORM_TAGS.flatMap((name) =>
  (['scalar', 'seq', 'map'] as const).map((kind) => ({
    tag: `!${name}`,
    collection: kind === 'scalar' ? undefined : kind,
    resolve: (value: unknown) => value,
    ...(kind === 'scalar' ? { identify: () => false } : {}),
  })),
);

/** A template read from Git: its text (sent to CloudFormation as is) and its parsed document. */
export interface Template {
  readonly text: string;
  readonly doc: Document;
  readonly format: 'yaml' | 'json';
}

/** Parses a template (YAML with short-form tags, or JSON); errors name the file and line. */
export const parseTemplate = (text: string, file: string): Template => {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    try {
      JSON.parse(text);
    } catch (cause) {
      throw new ReconcilerError(`${file}: invalid JSON template: ${(cause as Error).message}`, { cause });
    }
  }
  const doc = parseDocument(text, { customTags: tags, keepSourceTokens: true, uniqueKeys: true });
  const err = doc.errors[0];
  if (err) throw new ReconcilerError(`${file}:${err.linePos?.[0]?.line ?? '?'}: invalid YAML template: ${err.message.split('\n')[0]}`);
  const root = doc.contents;
  if (!(root instanceof YAMLMap) || !root.has('Resources')) throw new ReconcilerError(`${file}: a CloudFormation template needs a Resources section`);
  return { text, doc, format: trimmed.startsWith('{') ? 'json' : 'yaml' };
};

/**
 * The line of a template path such as `/Resources/Bucket/Properties/BucketName` (CloudFormation's validation
 * paths; `.`-separated and `$`-rooted forms too): the deepest node of the path that exists, so a finding on a
 * property the template lacks points at its resource. Undefined when the text does not parse or nothing matches.
 */
export const templatePathLine = (text: string, path: string): number | undefined => {
  const doc = parseDocument(text, { customTags: tags, keepSourceTokens: true });
  if (doc.errors.length) return undefined;
  const segments = path
    .replace(/^\$?[/.]?/, '')
    .split(path.includes('/') ? '/' : '.')
    .filter(Boolean);
  let node: unknown = doc.contents;
  let line: number | undefined;
  const lineOf = (offset: number) => text.slice(0, offset).split('\n').length;
  for (const seg of segments) {
    if (node instanceof YAMLMap) {
      const pair = node.items.find((p) => (p.key instanceof Scalar ? String(p.key.value) : String(p.key)) === seg);
      if (!pair) break;
      const key = pair.key as { range?: [number, number, number] };
      if (key.range) line = lineOf(key.range[0]);
      node = pair.value;
    } else if (node instanceof YAMLSeq && /^\d+$/.test(seg)) {
      const item = node.items[Number(seg)] as { range?: [number, number, number] } | undefined;
      if (!item) break;
      if (item.range) line = lineOf(item.range[0]);
      node = item;
    } else break;
  }
  return line;
};

/** Serialises a parsed template back to YAML, short-form tags included. */
export const serializeTemplate = (t: Template): string => t.doc.toString({ lineWidth: 0 });

/** The template's parameter names (to check a parameters file against). */
export const templateParameters = (t: Template): string[] => {
  const params = (t.doc.contents as YAMLMap).get('Parameters');
  return params instanceof YAMLMap ? params.items.map((p) => String((p.key as Scalar).value ?? p.key)) : [];
};

/** Parameters from a file: the CLI's `[{ParameterKey, ParameterValue}]` list, or a plain map. */
export const parseParameters = (text: string, file: string): { ParameterKey: string; ParameterValue: string }[] => {
  let value: unknown;
  try {
    value = parseDocument(text).toJS();
  } catch (cause) {
    throw new ReconcilerError(`${file}: cannot be parsed: ${(cause as Error).message}`, { cause });
  }
  if (Array.isArray(value)) {
    return value.map((p, i) => {
      const e = p as { ParameterKey?: unknown; ParameterValue?: unknown };
      if (typeof e.ParameterKey !== 'string') throw new ReconcilerError(`${file}: entry ${i} has no ParameterKey`);
      return { ParameterKey: e.ParameterKey, ParameterValue: String(e.ParameterValue ?? '') };
    });
  }
  if (value && typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>).map(([k, v]) => ({ ParameterKey: k, ParameterValue: Array.isArray(v) ? v.join(',') : String(v) }));
  }
  throw new ReconcilerError(`${file}: expected a list of {ParameterKey, ParameterValue} or a map of parameters`);
};

export { stringify, YAMLSeq };
