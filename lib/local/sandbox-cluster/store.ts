/**
 * The sandbox cluster's state: stored objects by key, the resourceVersion counter, and the resource types it
 * serves (the built-in ones from the recorded discovery, plus those of Established CustomResourceDefinitions).
 * No watches: clients poll. Objects are kept as live references; callers copy what they hand out.
 */
import type { Obj } from '../../core/plain-object.js';

/** One served resource: group/version/resource, its kind, scope, verbs and subresources. */
export interface ResourceType {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
  subresources: string[];
}

/** `apps/v1`, or `v1` for the core group. */
export const apiVersionOf = (t: ResourceType): string => (t.group ? `${t.group}/${t.version}` : t.version);

/** The store key of a Namespace and of a CustomResourceDefinition. */
export const namespaceKey = (name: string): string => `/namespaces//${name}`;
export const crdKey = (name: string): string => `apiextensions.k8s.io/customresourcedefinitions//${name}`;

export class ObjectStore {
  private readonly objects = new Map<string, Obj>();
  private readonly crdTypes = new Map<string, ResourceType[]>();
  private rv = 100;

  constructor(private readonly builtinTypes: readonly ResourceType[]) {}

  /** `group/resource/namespace/name` (namespace empty for cluster-scoped objects). */
  key(t: ResourceType, namespace: string, name: string): string {
    return `${t.group}/${t.resource}/${namespace}/${name}`;
  }

  get(key: string): Obj | undefined {
    return this.objects.get(key);
  }

  set(key: string, obj: Obj): void {
    this.objects.set(key, obj);
  }

  delete(key: string): void {
    this.objects.delete(key);
  }

  /** The stored objects whose key starts with `prefix`, in insertion order (live references). */
  entries(prefix: string): [string, Obj][] {
    return [...this.objects.entries()].filter(([k]) => k.startsWith(prefix));
  }

  /** Deletes every object in a namespace (the Namespace object itself is cluster-scoped and stays). */
  deleteNamespaced(namespace: string): void {
    for (const k of [...this.objects.keys()]) if (k.split('/')[2] === namespace) this.objects.delete(k);
  }

  /** The next resourceVersion, for a write. */
  nextVersion(): string {
    return String(++this.rv);
  }

  /** The latest resourceVersion (a list's). */
  get resourceVersion(): string {
    return String(this.rv);
  }

  allTypes(): ResourceType[] {
    return [...this.builtinTypes, ...[...this.crdTypes.values()].flat()];
  }

  typeForKind(apiVersion: string, kind: string): ResourceType | undefined {
    const [group, version] = apiVersion.includes('/') ? (apiVersion.split('/') as [string, string]) : ['', apiVersion];
    return this.allTypes().find((t) => t.group === group && t.version === version && t.kind === kind);
  }

  /** Whether a CRD (by name) has its types served. */
  serves(crdName: string): boolean {
    return this.crdTypes.has(crdName);
  }

  serve(crdName: string, types: ResourceType[]): void {
    this.crdTypes.set(crdName, types);
  }

  unserve(crdName: string): void {
    this.crdTypes.delete(crdName);
  }

  /** The types of served CRDs, by API group. */
  crdGroups(): Map<string, ResourceType[]> {
    const byGroup = new Map<string, ResourceType[]>();
    for (const types of this.crdTypes.values()) for (const t of types) byGroup.set(t.group, [...(byGroup.get(t.group) ?? []), t]);
    return byGroup;
  }
}
