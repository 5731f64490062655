import { ReconcilerError } from '../../core/errors.js';
import type { ClusterConnection, Credentials } from './http-kube-client.js';
import { readPlainKubeconfig } from './kubeconfig.js';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

/** Where a kubeconfig comes from: a file (CLI), its contents (Secrets Manager in Lambda), or the default places. */
export interface KubeconfigSource {
  /** Path of a kubeconfig file; without it and without `contents`, KUBECONFIG or ~/.kube/config. */
  readonly file?: string;
  readonly contents?: string;
  /** The context to use; default: the kubeconfig's current context. */
  readonly context?: string;
  /** Whether `exec` and `auth-provider` plugins may run (the CLI: yes, as kubectl; Lambda: no). */
  readonly allowPlugins: boolean;
}

/** A connection from a kubeconfig, authenticated by @kubernetes/client-node (tokens, certificates, exec plugins). */
export const connectionFromKubeconfig = async (src: KubeconfigSource): Promise<ClusterConnection> => {
  const where = src.contents !== undefined ? 'kubeconfig from the secret' : src.file ? `kubeconfig ${src.file}` : 'default kubeconfig';
  // The plain cases (a token or a client certificate in one file) without loading client-node (start-up).
  const plain = readPlainKubeconfig(src);
  let chosen: ReturnType<NonNullable<typeof plain>['select']> | undefined;
  try {
    chosen = plain?.select(src.context);
  } catch (cause) {
    throw new ReconcilerError(`${where}: cannot be read: ${(cause as Error).message}`, { cause });
  }
  if (plain && chosen && 'missing' in chosen) {
    throw new ReconcilerError(`${where}: no context "${chosen.missing}" (have: ${plain.contexts.join(', ') || 'none'})`);
  }
  if (chosen && 'server' in chosen) {
    const creds = chosen.credentials;
    return { server: chosen.server, credentials: () => Promise.resolve(creds) };
  }
  // The config module alone: the package's index pulls in every generated API client (megabytes in a bundle).
  const { KubeConfig } = await import('@kubernetes/client-node/dist/config.js');
  const kc = new KubeConfig();
  try {
    if (src.contents !== undefined) kc.loadFromString(src.contents);
    else if (src.file) kc.loadFromFile(src.file);
    else kc.loadFromDefault();
  } catch (cause) {
    throw new ReconcilerError(`${where}: cannot be read: ${(cause as Error).message}`, { cause });
  }
  if (src.context) {
    if (!kc.getContextObject(src.context)) {
      throw new ReconcilerError(
        `${where}: no context "${src.context}" (have: ${
          kc
            .getContexts()
            .map((c) => c.name)
            .join(', ') || 'none'
        })`,
      );
    }
    kc.setCurrentContext(src.context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) throw new ReconcilerError(`${where}: context "${kc.getCurrentContext()}" has no cluster server`);
  const user = kc.getCurrentUser();
  if (!src.allowPlugins && user && (user.exec || user.authProvider)) {
    throw new ReconcilerError(
      `${where}: user "${user.name}" needs an ${user.exec ? 'exec' : 'auth-provider'} plugin, which is not run in Lambda; ` +
        'use a token or client certificate, or an EKS cluster entry in the registry',
    );
  }
  return {
    server: cluster.server,
    async credentials(): Promise<Credentials> {
      const opts: { headers?: Record<string, string>; ca?: Buffer; cert?: Buffer; key?: Buffer; auth?: string } = {};
      await kc.applyToHTTPSOptions(opts);
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      if (opts.auth) headers.authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
      return {
        headers,
        ...(opts.ca ? { ca: opts.ca } : {}),
        ...(opts.cert ? { cert: opts.cert } : {}),
        ...(opts.key ? { key: opts.key } : {}),
        ...(cluster.skipTLSVerify ? { rejectUnauthorized: false } : {}),
        ...(cluster.tlsServerName ? { servername: cluster.tlsServerName } : {}),
      };
    },
  };
};

/** Describes an EKS cluster: its endpoint and CA (the adapter over `eks:DescribeCluster`). */
export type DescribeEksCluster = (name: string, region: string) => Promise<{ endpoint: string; certificateAuthority: string }>;

/** A connection to an EKS cluster with IAM: endpoint and CA from DescribeCluster, a cached presigned-STS token. */
export const connectionFromEks = async (
  cluster: { name: string; region: string },
  deps: { describe: DescribeEksCluster; credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider },
): Promise<ClusterConnection> => {
  const info = await deps.describe(cluster.name, cluster.region).catch((cause: unknown) => {
    throw new ReconcilerError(`EKS cluster ${cluster.name} (${cluster.region}): DescribeCluster failed: ${(cause as Error).message}`, { cause });
  });
  // The signer (the AWS SDK's smithy packages) loads only for EKS clusters: a kubeconfig run starts without it.
  const { EksTokenCache } = await import('./eks-token.js');
  const tokens = new EksTokenCache({ clusterName: cluster.name, region: cluster.region, credentials: deps.credentials });
  const ca = Buffer.from(info.certificateAuthority, 'base64');
  return {
    server: info.endpoint,
    async credentials(): Promise<Credentials> {
      return { headers: { authorization: `Bearer ${await tokens.token()}` }, ca };
    },
  };
};

/** The AWS SDK adapter for DescribeEksCluster. */
export const describeEksClusterWithSdk: DescribeEksCluster = async (name, region) => {
  const { EKSClient, DescribeClusterCommand } = await import('@aws-sdk/client-eks');
  const client = new EKSClient({ region });
  const out = await client.send(new DescribeClusterCommand({ name }));
  const endpoint = out.cluster?.endpoint;
  const ca = out.cluster?.certificateAuthority?.data;
  if (!endpoint || !ca) throw new ReconcilerError(`EKS cluster ${name} (${region}) has no endpoint or certificate authority yet`);
  return { endpoint, certificateAuthority: ca };
};
