import { kubernetesGrant, noGrant } from '../config/registry-check.js';
import { registryGrant } from '../config/stack-grants.js';
import { durationMs, type CloudFormationTargetConfig, type KubernetesTargetConfig, type Registry } from '../config/schema.js';
import type { Deadline } from '../core/deadline.js';
import type { KubernetesDesiredState, Target } from '../core/target.js';
import type { CloudFormationAccess } from './cloudformation/access.js';
import { clusterCapabilities } from '../render/helm/capabilities.js';
import { createKubernetesTarget } from './kubernetes/cluster-target.js';
import { deletionCascades } from './kubernetes/deletion-cascade.js';
import type { KubeClient } from './kubernetes/kube-client.js';
import type { StackTarget, TargetOpener, TargetSpec, UnreachableTarget } from './target-opener.js';

/** What opening a target may use: the registry (absent for a CLI run without one), clusters and CloudFormation. */
export interface TargetAccess {
  /** The operator's registry; its grants bound every target. Absent: the credentials' own permissions are the limit. */
  readonly registry?: Registry;
  /** A client for a cluster name (lib/targets/kubernetes/cluster-clients.ts opens registry clusters). */
  readonly cluster?: (name: string) => Promise<KubeClient>;
  /** CloudFormation access per region (a promise where the SDK is loaded on first use, as in the CLI). */
  readonly cloudformation?: (region: string) => CloudFormationAccess | Promise<CloudFormationAccess>;
}

export type { StackTarget, TargetSpec, UnreachableTarget } from './target-opener.js';

/** How long before the deadline a wait must end, so the sync still records its result. @default 30 s */
export const WAIT_MARGIN_MS = 30_000;

/**
 * Turns a target's config into its adapter with the options the config and the registry give: the one place
 * this happens (reconcile, drift, serve and the CLI all open targets here).
 * @example
 * const target = await openTarget({ id, repository, config }, { registry, cluster: clusterClients(registry, readSecret, false) });
 * if ('unreachable' in target) return skip(target.unreachable);
 */
export function openTarget(
  spec: TargetSpec<KubernetesTargetConfig>,
  access: TargetAccess,
  o?: { deadline?: Deadline },
): Promise<Target<KubernetesDesiredState> | UnreachableTarget>;
export function openTarget(spec: TargetSpec<CloudFormationTargetConfig>, access: TargetAccess, o?: { deadline?: Deadline }): Promise<StackTarget | UnreachableTarget>;
export function openTarget(spec: TargetSpec, access: TargetAccess, o?: { deadline?: Deadline }): Promise<Target<KubernetesDesiredState> | StackTarget | UnreachableTarget>;
export async function openTarget(
  spec: TargetSpec,
  access: TargetAccess,
  o: { deadline?: Deadline } = {},
): Promise<Target<KubernetesDesiredState> | StackTarget | UnreachableTarget> {
  if (spec.config.type === 'cloudformation') return openStack(spec as TargetSpec<CloudFormationTargetConfig>, access);
  const config = spec.config;
  if (!access.cluster) return { unreachable: `cluster ${config.cluster}: this process has no cluster access` };
  const client = await access.cluster(config.cluster);
  const timeoutMs = durationMs(config.wait?.timeout ?? '5m');
  return createKubernetesTarget(client, {
    id: spec.id,
    ...(config.namespace ? { namespace: config.namespace } : {}),
    force: config.apply?.force ?? true,
    concurrency: config.apply?.concurrency ?? 8,
    ...(config.prune ? { prune: config.prune } : {}),
    // A wait ends before the invocation does, so the sync records how it went.
    wait: { enabled: config.wait?.enabled ?? false, timeoutMs: o.deadline ? Math.max(0, Math.min(timeoutMs, o.deadline.at - Date.now() - WAIT_MARGIN_MS)) : timeoutMs },
    // With a registry its grant is enforced; without one (a CLI run) the kubeconfig's own RBAC is the limit.
    ...(access.registry ? { grant: kubernetesGrant(access.registry, spec.repository) ?? noGrant(spec.repository) } : {}),
  });
}

const openStack = async (spec: TargetSpec<CloudFormationTargetConfig>, access: TargetAccess): Promise<StackTarget | UnreachableTarget> => {
  const config = spec.config;
  // Not a failure of the commit: this reconciler (a local serve without AWS credentials) cannot reach AWS.
  if (!access.cloudformation) return { unreachable: 'stack targets need AWS access, which this reconciler is not given' };
  // The stack adapter (and the AWS SDK under it) loads with the first stack target: Kubernetes runs start without it.
  const [region, { createStackTarget }] = await Promise.all([access.cloudformation(config.region), import('./cloudformation/stack-target.js')]);
  const roleArn = config.cloudformation?.roleArn ?? region.roleArn;
  return createStackTarget(
    region.cfn,
    {
      id: spec.id,
      stack: config.stack,
      ...(config.cloudformation?.capabilities ? { capabilities: config.cloudformation.capabilities } : {}),
      ...(config.cloudformation?.tags ? { tags: config.cloudformation.tags } : {}),
      adopt: access.registry ? registryGrant(access.registry, spec.repository)?.adopt === true : false,
      ...(roleArn ? { roleArn } : {}),
      ...(region.artifactBucket ? { artifactBucket: region.artifactBucket } : {}),
    },
    region.s3,
  );
};

/**
 * The TargetOpener port over this process's access: targets through `openTarget`, Helm capabilities and deletion
 * cascades from the cluster's discovery. `access` is read on each call (a test may swap its CloudFormation access).
 * @example
 * const targets = targetOpener({ registry, cluster: clusterClients(registry, readSecret, false), cloudformation: cloudFormationAccess() });
 * await reconcileTarget(req, { ledger, source, registry, targets, holder }, deadline);
 */
export const targetOpener = (access: TargetAccess): TargetOpener => ({
  open: (spec, o) => openTarget(spec, o?.registry ? { ...access, registry: o.registry } : access, o?.deadline ? { deadline: o.deadline } : {}),
  capabilities: async (cluster, signal) => (access.cluster ? clusterCapabilities(await access.cluster(cluster), signal) : undefined),
  cascades: async (cluster, refs, signal) => (access.cluster ? deletionCascades(await access.cluster(cluster), refs, signal) : new Map()),
});
