/**
 * Discovery as the sandbox cluster serves it: the recorded documents (plain and aggregated v2beta1, /version),
 * with the groups of served CustomResourceDefinitions added, and the resource types they describe.
 */
import type { Obj } from '../../core/plain-object.js';
import aggregatedApi from './discovery/discovery-api-aggregated-v2beta1.json' with { type: 'json' };
import aggregatedApis from './discovery/discovery-apis-aggregated-v2beta1.json' with { type: 'json' };
import apiList from './discovery/discovery-api.json' with { type: 'json' };
import apisList from './discovery/discovery-apis.json' with { type: 'json' };
import apiV1 from './discovery/discovery-api-v1.json' with { type: 'json' };
import appsV1 from './discovery/discovery-apis-apps-v1.json' with { type: 'json' };
import versionInfo from './discovery/version.json' with { type: 'json' };
import type { ObjectStore, ResourceType } from './store.js';

const AGGREGATED_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList';

/** The built-in resource types, read from the recorded aggregated discovery. */
export const builtinTypes = (): ResourceType[] => {
  const types: ResourceType[] = [];
  for (const doc of [aggregatedApi as Obj, aggregatedApis as Obj]) {
    for (const g of doc.items as Obj[]) {
      const group = String((g.metadata as Obj).name ?? '');
      for (const v of g.versions as Obj[]) {
        for (const r of v.resources as Obj[]) {
          types.push({
            group,
            version: String(v.version),
            resource: String(r.resource),
            kind: String((r.responseKind as Obj).kind),
            namespaced: r.scope === 'Namespaced',
            verbs: (r.verbs as string[]) ?? [],
            subresources: ((r.subresources as Obj[] | undefined) ?? []).map((s) => String(s.subresource)),
          });
        }
      }
    }
  }
  return types;
};

/**
 * The discovery document at a fixed path (/version, /api, /apis, /api/v1, /apis/apps/v1), aggregated when the
 * Accept header asks for it; undefined for any other path.
 */
export const discoveryDocument = (path: string, accept: string, store: ObjectStore): { body: unknown; contentType?: string } | undefined => {
  const aggregated = accept.includes('as=APIGroupDiscoveryList');
  if (path === '/version') return { body: versionInfo };
  if (path === '/api') return aggregated ? { body: aggregatedApi, contentType: AGGREGATED_TYPE } : { body: apiList };
  if (path === '/apis') return aggregated ? { body: aggregatedWithCrds(store), contentType: AGGREGATED_TYPE } : { body: groupList(store) };
  if (path === '/api/v1') return { body: apiV1 };
  if (path === '/apis/apps/v1') return { body: appsV1 };
  return undefined;
};

/** The APIResourceList of one group version. */
export const resourceList = (group: string, version: string, types: ResourceType[]): Obj => ({
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: group ? `${group}/${version}` : version,
  resources: types.flatMap((t) => [
    { name: t.resource, singularName: t.kind.toLowerCase(), namespaced: t.namespaced, kind: t.kind, verbs: t.verbs },
    ...t.subresources.map((s) => ({ name: `${t.resource}/${s}`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update'] })),
  ]),
});

const groupList = (store: ObjectStore): Obj => {
  const base = structuredClone(apisList) as Obj;
  const groups = base.groups as Obj[];
  for (const [group, types] of store.crdGroups()) {
    const versions = [...new Set(types.map((t) => t.version))].map((v) => ({ groupVersion: `${group}/${v}`, version: v }));
    groups.push({ name: group, versions, preferredVersion: versions[0] });
  }
  return base;
};

const aggregatedWithCrds = (store: ObjectStore): Obj => {
  const base = structuredClone(aggregatedApis) as Obj;
  const items = base.items as Obj[];
  for (const [group, types] of store.crdGroups()) {
    const versions = [...new Set(types.map((t) => t.version))].map((v) => ({
      version: v,
      resources: types
        .filter((t) => t.version === v)
        .map((t) => ({
          resource: t.resource,
          responseKind: { group: '', version: '', kind: t.kind },
          scope: t.namespaced ? 'Namespaced' : 'Cluster',
          verbs: t.verbs,
        })),
      freshness: 'Current',
    }));
    items.push({ metadata: { name: group, creationTimestamp: null }, versions });
  }
  return base;
};
