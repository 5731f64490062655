import { isMap } from '../../core/plain-object.js';

/**
 * Field names of the structs a kustomization decodes into (Kustomize v5.5 api/types), for the fields whose
 * values are structs: Kustomize decodes with Go's encoding/json, so a field name matches case-insensitively, keys
 * are taken in sorted order (the last spelling wins), and an unknown field is an error at any depth.
 * A value of `''` is a leaf (scalar, list of scalars or free-form map); a name is a struct; `Name[]` a list of them.
 */
const STRUCTS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  ObjectMeta: { name: '', namespace: '', labels: '', annotations: '' },
  Patch: { path: '', patch: '', target: 'Selector', options: '' },
  Selector: { group: '', version: '', kind: '', name: '', namespace: '', annotationSelector: '', labelSelector: '' },
  Image: { name: '', newName: '', tagSuffix: '', newTag: '', digest: '' },
  Replica: { name: '', count: '' },
  Label: { pairs: '', includeSelectors: '', includeTemplates: '', fields: 'FieldSpec[]' },
  FieldSpec: { group: '', version: '', kind: '', path: '', create: '' },
  ConfigMapArgs: { namespace: '', name: '', behavior: '', literals: '', files: '', envs: '', env: '', options: 'GeneratorOptions' },
  SecretArgs: { namespace: '', name: '', behavior: '', literals: '', files: '', envs: '', env: '', options: 'GeneratorOptions', type: '' },
  GeneratorOptions: { labels: '', annotations: '', disableNameSuffixHash: '', immutable: '' },
  SortOptions: { order: '', legacySortOptions: 'LegacySortOptions' },
  LegacySortOptions: { orderFirst: '', orderLast: '' },
  ReplacementField: { source: 'SourceSelector', targets: 'TargetSelector[]', path: '' },
  SourceSelector: { group: '', version: '', kind: '', name: '', namespace: '', fieldPath: '', options: 'FieldOptions' },
  TargetSelector: { select: 'Selector', reject: 'Selector[]', fieldPaths: '', options: 'FieldOptions' },
  FieldOptions: { delimiter: '', index: '', encoding: '', create: '' },
};

/** Struct types of the kustomization's own fields; fields not listed here are not looked into. */
const TOP_LEVEL: Readonly<Record<string, string>> = {
  metadata: 'ObjectMeta',
  patches: 'Patch[]',
  patchesJson6902: 'Patch[]',
  images: 'Image[]',
  replicas: 'Replica[]',
  labels: 'Label[]',
  configMapGenerator: 'ConfigMapArgs[]',
  secretGenerator: 'SecretArgs[]',
  generatorOptions: 'GeneratorOptions',
  sortOptions: 'SortOptions',
  replacements: 'ReplacementField[]',
};

/** Raised for a field a struct does not have; `where` is the path of the struct holding it. */
export class UnknownFieldError extends Error {
  constructor(
    readonly field: string,
    readonly where: string,
  ) {
    super(`unknown field "${field}"${where ? ` in ${where}` : ''}`);
    this.name = 'UnknownFieldError';
  }
}

const fold = (s: string): string => s.toLowerCase();

/** Maps each key of `obj` to the field it decodes into (exact name first, then case-insensitive), sorted as Go's JSON does. */
const canonicalKeys = (obj: Record<string, unknown>, fields: Iterable<string>): { key: string; field: string | undefined }[] => {
  const names = [...fields];
  return Object.keys(obj)
    .sort()
    .map((key) => ({ key, field: names.find((n) => n === key) ?? names.find((n) => fold(n) === fold(key)) }));
};

const decode = (value: unknown, type: string, where: string, strict: boolean): unknown => {
  if (type === '' || value === null || value === undefined) return value;
  if (type.endsWith('[]')) {
    const item = type.slice(0, -2);
    return Array.isArray(value) ? value.map((v, i) => decode(v, item, `${where}[${i}]`, strict)) : value;
  }
  const fields = STRUCTS[type];
  if (!fields || !isMap(value)) return value;
  const out: Record<string, unknown> = {};
  for (const { key, field } of canonicalKeys(value, Object.keys(fields))) {
    if (field === undefined) {
      if (strict) throw new UnknownFieldError(key, where);
      continue;
    }
    out[field] = decode(value[key], fields[field] ?? '', `${where}.${field}`, strict);
  }
  return out;
};

/**
 * A kustomization's fields under the names Kustomize decodes them into: keys matched to `fields` case-insensitively
 * (the last in sorted order wins), and the struct-valued fields checked the same way, where an unknown field throws
 * {@link UnknownFieldError} when `strict`. Keys matching no top-level field are kept as they are, for the caller to refuse.
 */
export const decodeKustomizationFields = (raw: Record<string, unknown>, fields: ReadonlySet<string>, strict = true): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  for (const { key, field } of canonicalKeys(raw, fields)) {
    const name = field ?? key;
    out[name] = decode(raw[key], TOP_LEVEL[name] ?? '', name, strict);
  }
  return out;
};
