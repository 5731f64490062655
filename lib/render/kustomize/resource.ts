import type { KubeObject } from '../../core/object-ref.js';
import { splitApiVersion } from '../../core/object-ref.js';
import { isClusterScopedId } from './scope.js';
import type { Obj } from '../../core/plain-object.js';

/** Identity of a resource during a Kustomize build (Kustomize's ResId). */
export interface ResId {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
}

/** Generator options a generated resource carries until the build finishes. */
export interface GeneratorInfo {
  behavior: 'create' | 'merge' | 'replace';
  hash: boolean;
}

/** A resource in a build: its object plus the history Kustomize keeps beside it. */
export interface Resource {
  obj: KubeObject;
  /** The id when first loaded or generated. */
  readonly orgId: ResId;
  /** Ids before each rename (Kustomize's previousNames/Kinds/Namespaces). */
  prevIds: ResId[];
  prefixes: string[];
  suffixes: string[];
  generator?: GeneratorInfo;
  /** The file or generator it came from (for error messages). */
  readonly origin: string;
}

export const metaOf = (obj: KubeObject): Obj => {
  let m = obj.metadata as Obj | undefined;
  if (!m || typeof m !== 'object') {
    m = {};
    obj.metadata = m;
  }
  return m;
};

/** The current id of a resource. */
export const curId = (r: Resource | KubeObject): ResId => {
  const obj = 'obj' in r && 'orgId' in r ? (r as Resource).obj : r;
  const [group, version] = splitApiVersion(String(obj.apiVersion ?? ''));
  const meta = (obj.metadata ?? {}) as Obj;
  return {
    group,
    version,
    kind: String(obj.kind ?? ''),
    name: String(meta.name ?? ''),
    namespace: typeof meta.namespace === 'string' ? meta.namespace : '',
  };
};

/** Creates a build resource from a loaded object. */
export const newResource = (obj: KubeObject, origin: string, generator?: GeneratorInfo): Resource => ({
  obj,
  orgId: curId(obj),
  prevIds: [],
  prefixes: [],
  suffixes: [],
  origin,
  ...(generator ? { generator } : {}),
});

/** Kustomize's PrevIds: the recorded previous ids, or the current id when there are none. */
export const prevIds = (r: Resource): ResId[] => (r.prevIds.length ? r.prevIds : [curId(r)]);

/** Records the current id before a transformer changes name or namespace. */
export const storePreviousId = (r: Resource): void => {
  r.prevIds.push(curId(r));
};

export const getName = (r: Resource): string => curId(r).name;
export const getNamespace = (r: Resource): string => curId(r).namespace;
export const setName = (r: Resource, name: string): void => {
  metaOf(r.obj).name = name;
};

/** The namespace as Kubernetes sees it: '' and 'default' are the same for namespaced kinds. */
export const effectiveNamespace = (id: ResId): string => (isClusterScopedId(id) ? '' : id.namespace === '' ? 'default' : id.namespace);

/** Kustomize's IsNsEquals. */
export const nsEquals = (a: ResId, b: ResId): boolean => effectiveNamespace(a) === effectiveNamespace(b);

/** Exact id equality with namespace equivalence. */
export const idEquals = (a: ResId, b: ResId): boolean => a.group === b.group && a.version === b.version && a.kind === b.kind && a.name === b.name && nsEquals(a, b);

/** GVK/name/namespace equality where the group/version of `sel` may be empty (wildcards). */
export const gvkSelected = (id: { group: string; version: string; kind: string }, sel: { group?: string; version?: string; kind?: string }): boolean =>
  (!sel.group || sel.group === id.group) && (!sel.version || sel.version === id.version) && (!sel.kind || sel.kind === id.kind);

/** Formats an id the way Kustomize's errors do: `Kind.version.group/name.namespace`. */
export const formatId = (id: ResId): string => `${id.kind}.${id.version || '[noVer]'}.${id.group || '[noGrp]'}/${id.name}.${id.namespace || '[noNs]'}`;

/** Whether one list ends with the other (Kustomize's SameEndingSubSlice; an empty list only matches another). */
const sameEnding = (a: readonly string[], b: readonly string[]): boolean => {
  const [short, long] = a.length > b.length ? [b, a] : [a, b];
  const diff = long.length - short.length;
  if (short.length === 0) return diff === 0;
  return short.every((s, i) => long[i + diff] === s);
};

/**
 * Whether two resources went through the same name prefixes and suffixes, the latest ones last (Kustomize's
 * PrefixesSuffixesEquals): one list may end the other; with `allowEmpty`, an empty list matches any.
 */
export const prefixesSuffixesEqual = (a: Resource, b: Resource, allowEmpty: boolean): boolean => {
  const fits = (x: readonly string[], y: readonly string[]): boolean => (allowEmpty && (x.length === 0 || y.length === 0)) || sameEnding(x, y);
  return fits(a.prefixes, b.prefixes) && fits(a.suffixes, b.suffixes);
};

/** Deep copy of JSON data. */
export const clone = <T>(v: T): T => structuredClone(v);
