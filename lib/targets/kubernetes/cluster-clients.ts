import { ReconcilerError } from '../../core/errors.js';
import type { Registry } from '../../config/schema.js';
import { connectionFromEks, connectionFromKubeconfig, describeEksClusterWithSdk } from './cluster-access.js';
import { HttpKubeClient } from './http-kube-client.js';
import type { KubeClient } from './kube-client.js';

/**
 * Clients for the registry's clusters, built on first use and kept (one keep-alive pool per cluster):
 * EKS with IAM, a kubeconfig from a secret, or a local kubeconfig context.
 */
export const clusterClients = (registry: Registry, readSecret: (id: string) => Promise<string>, allowPlugins: boolean) => {
  const clients = new Map<string, Promise<KubeClient>>();
  return (name: string): Promise<KubeClient> => {
    let c = clients.get(name);
    if (!c) {
      c = (async () => {
        const entry = Object.hasOwn(registry.clusters, name) ? registry.clusters[name] : undefined;
        if (!entry) throw new ReconcilerError(`cluster "${name}" is not in the registry`);
        if ('eks' in entry) {
          const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
          return new HttpKubeClient(await connectionFromEks(entry.eks, { describe: describeEksClusterWithSdk, credentials: defaultProvider() }));
        }
        if ('kubeconfigSecret' in entry) {
          return new HttpKubeClient(await connectionFromKubeconfig({ contents: await readSecret(entry.kubeconfigSecret), allowPlugins }));
        }
        return new HttpKubeClient(await connectionFromKubeconfig({ ...(entry.kubeconfig ? { file: entry.kubeconfig } : {}), context: entry.context, allowPlugins }));
      })();
      c.catch(() => clients.delete(name));
      clients.set(name, c);
    }
    return c;
  };
};
