import { ReconcilerError } from '../../core/errors.js';
import type { Registry } from '../../config/schema.js';
import { connectionFromEks, connectionFromKubeconfig, describeEksClusterWithSdk } from './cluster-access.js';
import { HttpKubeClient, type ClusterConnection } from './http-kube-client.js';
import type { KubeClient } from './kube-client.js';

/** Local overrides of how a cluster is reached (the CLI's --context and --kubeconfig). */
export interface ClusterOverrides {
  /** A kubeconfig context to use instead of the registry's entry. */
  readonly context?: string;
  readonly kubeconfig?: string;
}

/** An opened cluster and how it was reached (`EKS shop (eu-west-1)`, `context kind-dev`), for messages. */
export interface OpenedCluster {
  readonly connection: ClusterConnection;
  readonly describe: string;
}

/**
 * How a cluster name is reached: the registry's entry (EKS with IAM, a kubeconfig from a secret, a local
 * kubeconfig context), unless overridden; without a registry entry, the local context of that name.
 */
export const connectCluster = async (
  name: string,
  registry: Registry | undefined,
  o: { readSecret: (id: string) => Promise<string>; allowPlugins: boolean; overrides?: ClusterOverrides; requireEntry: boolean },
): Promise<OpenedCluster> => {
  const entry = registry && Object.hasOwn(registry.clusters, name) ? registry.clusters[name] : undefined;
  const { context, kubeconfig } = o.overrides ?? {};
  if (!entry && !context && o.requireEntry) throw new ReconcilerError(`cluster "${name}" is not in the registry`);
  if (!context && entry && 'eks' in entry) {
    const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
    return {
      connection: await connectionFromEks(entry.eks, { describe: describeEksClusterWithSdk, credentials: defaultProvider() }),
      describe: `EKS ${entry.eks.name} (${entry.eks.region})`,
    };
  }
  if (!context && entry && 'kubeconfigSecret' in entry) {
    return {
      connection: await connectionFromKubeconfig({ contents: await o.readSecret(entry.kubeconfigSecret), allowPlugins: o.allowPlugins }),
      describe: `kubeconfig from secret ${entry.kubeconfigSecret}`,
    };
  }
  const fromRegistry = entry && 'context' in entry ? entry : undefined;
  const ctx = context ?? fromRegistry?.context ?? name;
  const file = kubeconfig ?? fromRegistry?.kubeconfig;
  const connection = await connectionFromKubeconfig({ ...(file ? { file } : {}), context: ctx, allowPlugins: o.allowPlugins }).catch((err: unknown) => {
    if (!context && !fromRegistry) {
      throw new ReconcilerError(`cluster "${name}": ${(err as Error).message}; pass --context, or map the cluster to a context in a registry file (--registry)`, { cause: err });
    }
    throw err;
  });
  return { connection, describe: `context ${ctx}` };
};

/** Opens clusters by name, each once (one keep-alive pool per cluster); `close` ends every client opened. */
export interface ClusterOpener {
  (name: string): Promise<KubeClient>;
  /** How a cluster opened earlier was reached. */
  describe(name: string): string | undefined;
  /** The API server URL of a cluster opened earlier. */
  server(name: string): string | undefined;
  close(): void;
}

/**
 * Clients for the registry's clusters, built on first use and kept: EKS with IAM, a kubeconfig from a secret,
 * or a local kubeconfig context. This is the one place a registry cluster is opened (deployed, serve and CLI).
 * Without a registry (a CLI run without --registry) a cluster name is a local kubeconfig context.
 */
export const clusterClients = (registry: Registry | undefined, readSecret: (id: string) => Promise<string>, allowPlugins: boolean, overrides?: ClusterOverrides): ClusterOpener => {
  const clients = new Map<string, Promise<HttpKubeClient>>();
  const described = new Map<string, string>();
  const servers = new Map<string, string>();
  const open = (name: string): Promise<KubeClient> => {
    let c = clients.get(name);
    if (!c) {
      c = connectCluster(name, registry, { readSecret, allowPlugins, ...(overrides ? { overrides } : {}), requireEntry: overrides === undefined }).then((opened) => {
        described.set(name, opened.describe);
        servers.set(name, opened.connection.server);
        return new HttpKubeClient(opened.connection);
      });
      c.catch(() => clients.delete(name));
      clients.set(name, c);
    }
    return c;
  };
  return Object.assign(open, {
    describe: (name: string) => described.get(name),
    server: (name: string) => servers.get(name),
    close: () => {
      for (const c of clients.values())
        void c.then(
          (client) => client.close(),
          () => undefined,
        );
      clients.clear();
    },
  });
};
