import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CONFIG_FILE, loadTargets, parseRegistry } from '../config/load-config.js';
import { objectsOutsideGrant, repositoryGrant } from '../config/registry-check.js';
import type { DriftlessConfig, Registry, TargetConfig } from '../config/schema.js';
import { ReconcilerError } from '../core/errors.js';
import type { KubeObject } from '../core/object-ref.js';
import { targetId } from '../core/ownership.js';
import { LocalFileTree } from '../render/file-tree.js';
import { renderPath, type RenderOptions, type RenderResult } from '../render/render.js';
import { clusterClients, type ClusterOpener } from '../targets/kubernetes/cluster-clients.js';
import { targetOpener, type TargetAccess } from '../targets/open-target.js';
import type { TargetState } from '../ledger/ledger.js';
import type { InventoryEntry } from '../core/inventory.js';
import { observationCache, type ObservationCache } from './observation-cache.js';
import { NO_RECORDER, syncTarget, type SyncOutcome, type SyncRecorder } from '../reconcile/sync-target.js';

/** A target of a local checkout, resolved for the CLI. */
export interface LocalTarget {
  readonly repoDir: string;
  /** `owner/name` of the repository (from --repository, the registry, the origin remote, or `local/<dir>`). */
  readonly repository: string;
  /** Where `repository` came from; `directory` means nothing named it (refused for writes). */
  readonly identity: IdentitySource;
  readonly id: string;
  readonly config: DriftlessConfig;
  readonly target: TargetConfig;
  readonly registry?: Registry;
}

/** Where a checkout's identity came from. */
export type IdentitySource = 'flag' | 'registry' | 'origin' | 'directory';

/**
 * The repository's `owner/name`: given (--repository), the registry's only repository (or its only one named
 * like the directory), the `origin` remote, or else `local/<directory>`, which `requireIdentity` refuses for writes.
 */
export const repositoryIdentity = (dir: string, given?: string, registry?: Registry): { repository: string; identity: IdentitySource } => {
  if (given) return { repository: given, identity: 'flag' };
  const name = basename(resolve(dir));
  if (registry) {
    const listed = Object.keys(registry.repositories);
    const named = listed.filter((r) => r.split('/')[1] === name);
    const only = listed.length === 1 ? listed[0] : named.length === 1 ? named[0] : undefined;
    if (only) return { repository: only, identity: 'registry' };
  }
  try {
    const url = execFileSync('git', ['-C', dir, 'remote', 'get-url', 'origin'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const m = url.match(/[:/]([^/:]+)\/([^/]+?)(\.git)?$/);
    if (m) return { repository: `${m[1]}/${m[2]}`, identity: 'origin' };
  } catch {
    // not a git checkout, or no origin
  }
  return { repository: `local/${name}`, identity: 'directory' };
};

/** The repository's `owner/name` (see `repositoryIdentity`). */
export const repositoryName = (dir: string, given?: string, registry?: Registry): string => repositoryIdentity(dir, given, registry).repository;

/**
 * Refuses a write under an identity nothing named: objects labelled `local/<dir>` would fight the real
 * repository's target over the same objects.
 */
export const requireIdentity = (t: Pick<LocalTarget, 'identity' | 'repoDir' | 'id'>): void => {
  if (t.identity !== 'directory') return;
  throw new ReconcilerError(
    `${t.repoDir}: no repository identity (no --repository, no registry entry, no origin remote); pass --repository OWNER/NAME so ${t.id} does not write objects under an invented name`,
  );
};

/** Reads DIR/driftless.yaml (checked against the registry when there is one) and picks a target. */
export const loadLocalTarget = (opts: { repo: string; target: string; registryFile?: string; repository?: string; cwd: string }): LocalTarget => {
  const { repoDir, repository, identity, config, registry } = loadLocalConfig(opts);
  const target = config.targets.find((t) => t.name === opts.target);
  if (!target) {
    throw new ReconcilerError(`${CONFIG_FILE}: no target "${opts.target}" (targets: ${config.targets.map((t) => t.name).join(', ')})`);
  }
  return { repoDir, repository, identity, id: targetId(repository, target.name), config, target, ...(registry ? { registry } : {}) };
};

/** Reads DIR/driftless.yaml, checked against the registry file when one is given. */
export const loadLocalConfig = (opts: { repo: string; registryFile?: string; repository?: string; cwd: string }) => {
  const repoDir = resolve(opts.cwd, opts.repo);
  const file = join(repoDir, CONFIG_FILE);
  if (!existsSync(file)) throw new ReconcilerError(`${file}: no such file (is ${opts.repo} a checkout with a driftless.yaml?)`);
  const registry = opts.registryFile ? parseRegistry(readFileSync(resolve(opts.cwd, opts.registryFile), 'utf8'), opts.registryFile) : undefined;
  const { repository, identity } = repositoryIdentity(repoDir, opts.repository, registry);
  const config = loadTargets(readFileSync(file, 'utf8'), { repository, ...(registry ? { registry } : {}) });
  return { repoDir, repository, identity, config, ...(registry ? { registry } : {}) };
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

/** What the CLI reaches targets with: the registry file, clusters (with --context/--kubeconfig) and the caller's AWS credentials. */
export interface LocalAccess extends TargetAccess {
  readonly cluster: ClusterOpener;
  /** Ends every client opened. */
  close(): void;
}

/**
 * The CLI's access for `openTarget`: registry clusters opened by the one opener (lib/targets/kubernetes/cluster-clients.ts),
 * --context and --kubeconfig overriding the registry's entry; CloudFormation with the caller's credentials.
 */
export const localAccess = (registry: Registry | undefined, values: Pick<ClusterFlagValues, 'kubeconfig' | 'context'>): LocalAccess => {
  const readSecret = async (id: string): Promise<string> => {
    const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
    const sm = new SecretsManagerClient({});
    try {
      return (await sm.send(new GetSecretValueCommand({ SecretId: id }))).SecretString ?? '';
    } finally {
      sm.destroy();
    }
  };
  const cluster = clusterClients(registry, readSecret, true, {
    ...(values.context ? { context: values.context } : {}),
    ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
  });
  const stacks: CloudFormationClient[] = [];
  return {
    ...(registry ? { registry } : {}),
    cluster,
    // The SDK loads with the first stack target (a Kubernetes sync starts without it).
    cloudformation: async (region) => {
      const { CloudFormationClient } = await import('@aws-sdk/client-cloudformation');
      const cfn = new CloudFormationClient({ region });
      stacks.push(cfn);
      return { cfn };
    },
    close: () => {
      cluster.close();
      for (const c of stacks) c.destroy();
    },
  };
};

/** The checkout as a tree (what render and the sync use case read). */
export const localTree = (t: Pick<LocalTarget, 'repoDir'>): LocalFileTree => new LocalFileTree(t.repoDir);

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

/** How a CLI sync runs: its ledger state and recorder (none without a ledger), a dry run, progress and lease checks. */
export interface LocalSyncOptions {
  readonly state?: TargetState;
  readonly recorder?: SyncRecorder;
  readonly dryRun?: boolean;
  readonly commit: string;
  readonly onProgress?: (phase: 'plan' | 'apply' | 'prune' | 'wait', done: number, total: number) => void;
  readonly beforeWrite?: (what: string) => Promise<void>;
  /** Observations from the local cache (no ledger named): unchanged objects skip the dry run. */
  readonly checked?: readonly InventoryEntry[];
  /** Told what a plan observed of each unchanged object (to keep in the local cache). */
  readonly onObserved?: (entries: readonly InventoryEntry[]) => void;
}

/**
 * A target of the checkout through the sync use case the reconciler runs (suspension, grants and recording
 * behave the same); the previous inventory is found on the target when the ledger has no recorded sync.
 */
export const runLocalSync = (t: LocalTarget, access: LocalAccess, o: LocalSyncOptions): Promise<SyncOutcome> =>
  syncTarget(
    {
      repository: t.repository,
      target: t.target.name,
      // The checkout is what gets synced, whichever branch it is on.
      branch: t.target.branch,
      commit: o.commit,
      tree: localTree(t),
      ...(o.state ? { state: o.state } : {}),
      ...(o.dryRun ? { dryRun: true } : {}),
      ...(o.checked?.length ? { checked: o.checked } : {}),
    },
    {
      ...(t.registry ? { registry: t.registry } : {}),
      // A Helm chart sees the cluster's .Capabilities, as `helm install` there would.
      targets: targetOpener(access),
      recorder: o.recorder ?? NO_RECORDER,
      discoverInventory: true,
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      ...(o.beforeWrite ? { beforeWrite: o.beforeWrite } : {}),
      ...(o.onObserved ? { onObserved: o.onObserved } : {}),
    },
  );

/**
 * The local observation cache of a Kubernetes target when no ledger is named (lib/cli/observation-cache.ts), once
 * its cluster is open; undefined for stack targets, suspended ones, or with a ledger (which keeps observations itself).
 */
export const localObservations = (t: LocalTarget, access: LocalAccess, io: { cwd: string; env: Record<string, string | undefined> }): ObservationCache | undefined => {
  if (t.target.type !== 'kubernetes' || t.target.suspend) return undefined;
  const server = access.cluster.server(t.target.cluster);
  return server ? observationCache({ env: io.env, cwd: io.cwd, server, target: t.id }) : undefined;
};
