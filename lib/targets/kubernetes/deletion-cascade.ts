import { formatRef, refOf, type ObjectRef } from '../../core/object-ref.js';
import type { Cascade } from '../../core/target.js';
import type { KubeClient, ResourceInfo } from './kube-client.js';

/** Kinds a namespace holds that nobody reviews as its content (the server makes them, or they are records). */
const NOT_CONTENT = new Set(['Event', 'events.k8s.io/Event', 'ServiceAccount/default', 'ConfigMap/kube-root-ca.crt', 'EndpointSlice', 'Endpoints', 'Lease', 'PodMetrics']);

/** The most objects listed per deletion; the rest are counted. */
export const CASCADE_LIST_LIMIT = 50;

/** What deleting one object takes with it: names (at most CASCADE_LIST_LIMIT), and how many in all. */
export type { Cascade };

/**
 * What the deletion of each of `refs` would take with it, as the API server would cascade it: everything in
 * a Namespace, every custom resource of a CustomResourceDefinition. Read with LISTs (one per served kind for a
 * namespace, one for a CRD's kind), writes nothing. Objects that are not Namespaces or CRDs cascade nothing
 * a reviewer is shown (their owned Pods and ReplicaSets follow from what the diff shows).
 */
export const deletionCascades = async (client: KubeClient, refs: readonly ObjectRef[], signal?: AbortSignal): Promise<Map<string, Cascade>> => {
  const out = new Map<string, Cascade>();
  const namespaces = refs.filter((r) => r.group === '' && r.kind === 'Namespace');
  const crds = refs.filter((r) => r.group === 'apiextensions.k8s.io' && r.kind === 'CustomResourceDefinition');
  if (!namespaces.length && !crds.length) return out;
  const served = [...(await client.discover(signal ? { signal } : {})).values()];
  const listable = uniqueKinds(served);
  for (const ns of namespaces) {
    const names: string[] = [];
    for (const info of listable.filter((i) => i.namespaced && !NOT_CONTENT.has(i.kind) && !NOT_CONTENT.has(`${i.group}/${i.kind}`))) {
      const items = await client.list(info, ns.name, '', signal ? { signal } : {}).catch(() => []);
      for (const o of items) {
        const r = refOf(o);
        if (!NOT_CONTENT.has(`${r.kind}/${r.name}`)) names.push(formatRef(r));
      }
    }
    out.set(formatRef(ns), { names: names.sort().slice(0, CASCADE_LIST_LIMIT), total: names.length });
  }
  for (const crd of crds) {
    // A CRD is named `<plural>.<group>`: its custom resources are that resource of that group.
    const dot = crd.name.indexOf('.');
    const [resource, group] = dot > 0 ? [crd.name.slice(0, dot), crd.name.slice(dot + 1)] : [crd.name, ''];
    const info = listable.find((i) => i.group === group && i.resource === resource);
    const items = info ? await client.list(info, undefined, '', signal ? { signal } : {}).catch(() => []) : [];
    const names = items.map((o) => formatRef(refOf(o))).sort();
    out.set(formatRef(crd), { names: names.slice(0, CASCADE_LIST_LIMIT), total: names.length });
  }
  return out;
};

/** One ResourceInfo per (group, kind): the discovery map lists each served version. */
const uniqueKinds = (served: readonly ResourceInfo[]): ResourceInfo[] => {
  const seen = new Map<string, ResourceInfo>();
  for (const i of served) if (!i.resource.includes('/') && !seen.has(`${i.group}/${i.kind}`)) seen.set(`${i.group}/${i.kind}`, i);
  return [...seen.values()];
};
