import type { HelmCapabilities } from './helm-template.js';

/** What reading capabilities needs from a cluster client; the Kubernetes adapter's KubeClient has it. */
export interface ClusterDiscovery {
  discover(options?: { readonly signal?: AbortSignal }): Promise<ReadonlyMap<string, { readonly group: string; readonly version: string; readonly kind: string }>>;
  serverVersion?(options?: { readonly signal?: AbortSignal }): Promise<string>;
}

/**
 * `.Capabilities` of a cluster, as `helm install` would see them there: the server's version and every
 * group version and `group/version/Kind` that discovery lists.
 */
export const clusterCapabilities = async (kube: ClusterDiscovery, signal?: AbortSignal): Promise<HelmCapabilities> => {
  const opts = signal ? { signal } : {};
  const resources = await kube.discover(opts);
  const apis = new Set<string>();
  for (const info of resources.values()) {
    const gv = info.group ? `${info.group}/${info.version}` : info.version;
    apis.add(gv);
    apis.add(`${gv}/${info.kind}`);
  }
  const version = kube.serverVersion ? (await kube.serverVersion(opts)).replace(/^([^v])/, 'v$1') : undefined;
  return { ...(version ? { kubeVersion: version.replace(/[+-].*$/, '') } : {}), apiVersions: [...apis].sort() };
};
