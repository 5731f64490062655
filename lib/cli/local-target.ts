import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { CONFIG_FILE, parseDriftlessConfig, parseRegistry } from '../config/load-config.js';
import { kubernetesGrant, noGrant, objectsOutsideGrant, registryCluster, repositoryGrant } from '../config/registry-check.js';
import type { DriftlessConfig, KubernetesTargetConfig, Registry, TargetConfig } from '../config/schema.js';
import { durationMs } from '../config/schema.js';
import { ReconcilerError } from '../core/errors.js';
import type { KubeObject } from '../core/object-ref.js';
import { targetId } from '../core/ownership.js';
import { LocalFileTree } from '../render/file-tree.js';
import { renderPath, type RenderOptions, type RenderResult } from '../render/render.js';
import { clusterCapabilities } from '../render/helm/capabilities.js';
import { connectionFromEks, connectionFromKubeconfig, describeEksClusterWithSdk } from '../targets/kubernetes/cluster-access.js';
import type { ClusterConnection } from '../targets/kubernetes/http-kube-client.js';
import { KubernetesTarget, type KubernetesTargetOptions } from '../targets/kubernetes/kubernetes-target.js';
import { HttpKubeClient } from '../targets/kubernetes/http-kube-client.js';

/** A target of a local checkout, resolved for the CLI. */
export interface LocalTarget {
  readonly repoDir: string;
  /** `owner/name` of the repository (from --repository, the origin remote, or `local/<dir>`). */
  readonly repository: string;
  readonly id: string;
  readonly config: DriftlessConfig;
  readonly target: TargetConfig;
  readonly registry?: Registry;
}

/** The repository's `owner/name`: given, from the `origin` remote, or `local/<directory>`. */
export const repositoryName = (dir: string, given?: string): string => {
  if (given) return given;
  try {
    const url = execFileSync('git', ['-C', dir, 'remote', 'get-url', 'origin'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const m = url.match(/[:/]([^/:]+)\/([^/]+?)(\.git)?$/);
    if (m) return `${m[1]}/${m[2]}`;
  } catch {
    // not a git checkout, or no origin
  }
  return `local/${basename(resolve(dir))}`;
};

/** Reads DIR/driftless.yaml (checked against the registry when there is one) and picks a target. */
export const loadLocalTarget = (opts: { repo: string; target: string; registryFile?: string; repository?: string; cwd: string }): LocalTarget => {
  const { repoDir, repository, config, registry } = loadLocalConfig(opts);
  const target = config.targets.find((t) => t.name === opts.target);
  if (!target) {
    throw new ReconcilerError(`${CONFIG_FILE}: no target "${opts.target}" (targets: ${config.targets.map((t) => t.name).join(', ')})`);
  }
  return { repoDir, repository, id: targetId(repository, target.name), config, target, ...(registry ? { registry } : {}) };
};

/** Reads DIR/driftless.yaml, checked against the registry file when one is given. */
export const loadLocalConfig = (opts: { repo: string; registryFile?: string; repository?: string; cwd: string }) => {
  const repoDir = resolve(opts.cwd, opts.repo);
  const file = join(repoDir, CONFIG_FILE);
  if (!existsSync(file)) throw new ReconcilerError(`${file}: no such file (is ${opts.repo} a checkout with a driftless.yaml?)`);
  const repository = repositoryName(repoDir, opts.repository);
  const registry = opts.registryFile ? parseRegistry(readFileSync(resolve(opts.cwd, opts.registryFile), 'utf8'), opts.registryFile) : undefined;
  const config = parseDriftlessConfig(readFileSync(file, 'utf8'), {
    file: CONFIG_FILE,
    ...(registry ? { registry, repository } : {}),
  });
  return { repoDir, repository, config, ...(registry ? { registry } : {}) };
};

/** Renders the target's path; objects outside the registry grant are an error before anything is sent. */
export const renderLocalTarget = async (t: LocalTarget, options: Pick<RenderOptions, 'capabilities'> = {}): Promise<RenderResult> => {
  const result = await renderPath(new LocalFileTree(t.repoDir), t.target.path, { target: t.target, ...options });
  const grant = t.registry && repositoryGrant(t.registry, t.repository);
  if (grant) {
    const violations = objectsOutsideGrant(result.objects, grant, t.repository, t.target.type === 'kubernetes' ? t.target.namespace : undefined);
    if (violations.length) throw new ReconcilerError(`${t.target.path}: ${violations.join('; ')}`);
  }
  return result;
};

/** The kubeconfig context a registry cluster means: --context, the registry file's entry, or a context of that name. */
export const localConnection = async (
  t: LocalTarget & { target: KubernetesTargetConfig },
  opts: { kubeconfig?: string; context?: string },
): Promise<{ connection: ClusterConnection; describe: string }> => {
  const entry = t.registry && registryCluster(t.registry, t.target.cluster);
  if (!opts.context && entry && 'eks' in entry) {
    const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
    return {
      connection: await connectionFromEks(entry.eks, { describe: describeEksClusterWithSdk, credentials: defaultProvider() }),
      describe: `EKS ${entry.eks.name} (${entry.eks.region})`,
    };
  }
  if (!opts.context && entry && 'kubeconfigSecret' in entry) {
    const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
    const out = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: entry.kubeconfigSecret }));
    return {
      connection: await connectionFromKubeconfig({ contents: out.SecretString ?? '', allowPlugins: true }),
      describe: `kubeconfig from secret ${entry.kubeconfigSecret}`,
    };
  }
  const fromRegistry = entry && 'context' in entry ? entry : undefined;
  const context = opts.context ?? fromRegistry?.context ?? t.target.cluster;
  const file = opts.kubeconfig ?? fromRegistry?.kubeconfig;
  const connection = await connectionFromKubeconfig({ ...(file ? { file } : {}), context, allowPlugins: true }).catch((err: unknown) => {
    if (!opts.context && !fromRegistry) {
      throw new ReconcilerError(
        `cluster "${t.target.cluster}": ${(err as Error).message}; pass --context, or map the cluster to a context in a registry file (--registry)`,
        { cause: err },
      );
    }
    throw err;
  });
  return { connection, describe: `context ${context}` };
};

/** The target's options for KubernetesTarget. */
export const kubernetesOptions = (t: LocalTarget & { target: KubernetesTargetConfig }): KubernetesTargetOptions => ({
  id: t.id,
  ...(t.target.namespace ? { namespace: t.target.namespace } : {}),
  force: t.target.apply.force,
  concurrency: t.target.apply.concurrency,
  prune: t.target.prune,
  wait: { enabled: t.target.wait.enabled, timeoutMs: durationMs(t.target.wait.timeout) },
  // With a registry file its grant is enforced; without one the kubeconfig's own RBAC is the limit.
  ...(t.registry ? { grant: kubernetesGrant(t.registry, t.repository) ?? noGrant(t.repository) } : {}),
});

/** Narrows a target to Kubernetes, or explains why it is not. */
export const asKubernetes = (t: LocalTarget): LocalTarget & { target: KubernetesTargetConfig } => {
  if (t.target.type !== 'kubernetes') {
    throw new ReconcilerError(`target "${t.target.name}" is a ${t.target.type} target; this command supports Kubernetes targets for now`);
  }
  return t as LocalTarget & { target: KubernetesTargetConfig };
};

export type { KubeObject };

/** The cluster flags every command that reaches a cluster takes. */
export interface ClusterFlagValues {
  repo?: string;
  target?: string;
  kubeconfig?: string;
  context?: string;
  registry?: string;
  repository?: string;
}

/**
 * What diff, sync and drift all start with: the target of a local checkout, rendered (warnings on stderr),
 * and a client for its cluster. The caller closes the client.
 */
export const openLocalKubernetesTarget = async (
  values: ClusterFlagValues & { repo: string; target: string },
  io: { cwd: string; env: Record<string, string | undefined>; stderr: (s: string) => void },
  loaded?: LocalTarget,
) => {
  const local = asKubernetes(loaded ?? loadFromFlags(values, io));
  const { connection, describe } = await localConnection(local, {
    ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
    ...(values.context ? { context: values.context } : {}),
  });
  const client = new HttpKubeClient(connection);
  // A Helm chart sees the cluster's .Capabilities, as `helm install` there would.
  const rendered = await renderLocalTarget(local, { capabilities: () => clusterCapabilities(client) }).catch((err: unknown) => {
    client.close();
    throw err;
  });
  for (const w of rendered.warnings) io.stderr(`warning: ${w}\n`);
  return { local, rendered, client, describe, target: new KubernetesTarget(client, kubernetesOptions(local)) };
};

/** The target the cluster flags name (with the registry file from --registry or DRIFTLESS_REGISTRY). */
export const loadFromFlags = (values: ClusterFlagValues & { repo: string; target: string }, io: { cwd: string; env: Record<string, string | undefined> }): LocalTarget => {
  const registryFile = values.registry ?? io.env.DRIFTLESS_REGISTRY;
  return loadLocalTarget({
    repo: values.repo,
    target: values.target,
    cwd: io.cwd,
    ...(registryFile ? { registryFile } : {}),
    ...(values.repository ? { repository: values.repository } : {}),
  });
};
