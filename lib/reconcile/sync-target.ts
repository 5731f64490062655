import { formatCounts, hasChanges, type ChangeSet } from '../core/change-set.js';
import type { Deadline } from '../core/deadline.js';
import { GrantRefusalError, ReconcilerError } from '../core/errors.js';
import { mergeSurvivors, type InventoryEntry } from '../core/inventory.js';
import { formatRef, splitApiVersion, type KubeObject, type ObjectRef } from '../core/object-ref.js';
import { targetId as makeTargetId } from '../core/ownership.js';
import { combineRedactors, createRedactor, NO_REDACTION, secretValuesOf, type Redactor } from '../core/redact.js';
import type { DesiredState, Target, TargetApply, TargetPlan, WriteStage } from '../core/target.js';
import { CONFIG_FILE, loadTargets } from '../config/load-config.js';
import { objectsOutsideGrant, repositoryGrant } from '../config/registry-check.js';
import type { CloudFormationTargetConfig, Registry, TargetConfig } from '../config/schema.js';
import { registryGrant, whyStackNotGranted } from '../config/stack-grants.js';
import type { StateUpdate, TargetState } from '../ledger/ledger.js';
import { CLUSTER_SCOPED_KINDS } from '../render/cluster-scope.js';
import { renderDesired } from '../render/desired-state.js';
import type { FileTree } from '../render/file-tree.js';
import { secretSourceValues } from '../render/secret-sources.js';
import type { TargetOpener } from '../targets/target-opener.js';

/** One sync of one target at one commit. */
export interface SyncRequest {
  /** `owner/name`: the identity the target's objects are owned by. */
  readonly repository: string;
  readonly target: string;
  readonly branch: string;
  /** The commit whose tree this is (`uncommitted` for a CLI checkout with changes). */
  readonly commit: string;
  readonly tree: FileTree;
  /** The target's ledger state; undefined without a ledger or before its first sync. */
  readonly state?: TargetState;
  /** Plan only: what an apply would change; nothing written, nothing recorded. */
  readonly dryRun?: boolean;
  /** Observations kept outside the ledger (the CLI's local cache without one): unchanged objects skip the dry run. */
  readonly checked?: readonly InventoryEntry[];
}

/** What a sync needs: how to open its target, and where its outcome is recorded. */
export interface SyncDeps {
  /** The registry; absent only for a CLI run without one (the credentials' permissions are the limit). */
  readonly registry?: Registry;
  /** Opens the target's adapter and reads its cluster's Helm capabilities (the TargetOpener port). */
  readonly targets: Pick<TargetOpener, 'open' | 'capabilities'>;
  /** Where the outcome goes: the ledger (and commit status), or nowhere. */
  readonly recorder: SyncRecorder;
  readonly deadline?: Deadline;
  /** Called before each write (the reconciler checks its lease); a rejection stops the sync there. */
  readonly beforeWrite?: (what: string) => Promise<void>;
  readonly onProgress?: (phase: 'plan' | 'apply' | 'prune' | 'wait', done: number, total: number) => void;
  /**
   * Without a recorded sync, find the previous inventory on the target (the objects carrying its label) rather
   * than start from none. The CLI does; reconcile records every sync. @default false
   */
  readonly discoverInventory?: boolean;
  /** Told what a plan observed of each unchanged object (the CLI keeps it when no ledger does). */
  readonly onObserved?: (entries: readonly InventoryEntry[]) => void;
}

/** How a sync ended, for the recorder and the caller. */
export interface SyncOutcome {
  /** `planned`: a dry run (never recorded). */
  readonly result: 'succeeded' | 'skipped' | 'in-progress' | 'failed' | 'planned';
  /** Why it was skipped, failed or is in progress; what a removal did. Starts with its subject. */
  readonly message?: string;
  readonly cause?: unknown;
  /** Failed objects, `Kind/ns/name: why`. */
  readonly failures?: readonly string[];
  readonly changeSet?: ChangeSet;
  /** The state this outcome leaves. */
  readonly update: StateUpdate;
  /** The commit status to report for it (a failure's is its message). */
  readonly status?: { readonly state: 'pending' | 'success'; readonly description: string };
  /** Why nothing was applied, when that is the outcome. */
  readonly reason?: 'removed' | 'suspended' | 'unreachable' | 'refused';
  readonly applied?: TargetApply;
  readonly plan?: TargetPlan;
  readonly desired?: DesiredState;
  readonly config?: TargetConfig;
  /** Events the repository wants Slack notices for (`failure` unless its config says otherwise). */
  readonly notifyOn: readonly string[];
  /** Secret values of this sync, to keep out of everything the outcome is written to. */
  readonly redact: Redactor;
}

/** Records a sync's outcome: the ledger (reconcile, CLI with a table) or nothing. */
export interface SyncRecorder {
  /** The sync starts to apply (a pending commit status). */
  starting?(): void;
  record(outcome: SyncOutcome): Promise<void>;
}

/** The recorder without a ledger: records nothing. */
export const NO_RECORDER: SyncRecorder = { record: async () => undefined };

/** How long before the deadline a stack wait ends, so the sync still records its result. */
const MARGIN_MS = 30_000;

/**
 * Syncs one target of one commit's tree, the same for every caller and both target kinds:
 * config → removed / suspended (in driftless.yaml or the ledger) → render → grant check → `target.apply`
 * → the recorder. Every failure, wherever it happens, ends as one `failed` outcome naming its subject.
 * @example
 * const outcome = await syncTarget({ repository, target: 'web', branch: 'main', commit, tree, state }, { registry, targets, recorder });
 */
export const syncTarget = async (req: SyncRequest, deps: SyncDeps): Promise<SyncOutcome> => {
  const outcome = await decide(req, deps);
  if (outcome.result !== 'planned') await deps.recorder.record(outcome);
  return outcome;
};

const decide = async (req: SyncRequest, deps: SyncDeps): Promise<SyncOutcome> => {
  const id = makeTargetId(req.repository, req.target);
  const { state } = req;
  let subject: string = CONFIG_FILE;
  let update: StateUpdate = {};
  let notifyOn: readonly string[] = ['failure'];
  // Secret values (see "Redaction" in README.md): known once rendered; before that, or when the render fails,
  // they are read from the tree's Secret manifests and secretGenerator sources.
  let redact: Redactor = NO_REDACTION;
  let rendered = false;
  const failed = async (message: string, cause?: unknown, more: Partial<SyncOutcome> = {}): Promise<SyncOutcome> => {
    if (!rendered) redact = combineRedactors(redact, createRedactor(await secretSourceValues(req.tree).catch(() => [])));
    return { result: 'failed', message, ...(cause !== undefined ? { cause } : {}), update, notifyOn, redact, ...more };
  };
  const done = (o: Omit<SyncOutcome, 'notifyOn' | 'redact' | 'update'> & { update?: StateUpdate }): SyncOutcome => ({ update, notifyOn, redact, ...o });

  try {
    const repoConfig = await loadTargets(req.tree, { repository: req.repository, ...(deps.registry ? { registry: deps.registry } : {}) });
    if (!repoConfig) return failed(`${CONFIG_FILE} is missing at ${req.commit.slice(0, 12)}`);
    notifyOn = repoConfig.notifications.slack.on;
    const target = repoConfig.targets.find((t) => t.name === req.target);
    if (!target || target.branch !== req.branch) return removed(req, deps, !target, (s) => (subject = s), failed, done);

    update = { config: target };
    if (target.suspend || state?.suspended) {
      const message = target.suspend ? 'suspended in driftless.yaml' : `suspended by ${state?.suspendedBy ?? 'an operator'}`;
      return done({ result: 'skipped', message, reason: 'suspended', config: target, status: { state: 'success', description: 'suspended: nothing applied' } });
    }

    if (!req.dryRun) deps.recorder.starting?.();
    const open = async (): Promise<Target | SyncOutcome> => {
      const opened = await deps.targets.open(
        { id, repository: req.repository, config: target },
        { ...(deps.deadline ? { deadline: deps.deadline } : {}), ...(deps.registry ? { registry: deps.registry } : {}) },
      );
      if (!('unreachable' in opened)) return opened;
      return done({
        result: 'skipped',
        message: opened.unreachable,
        reason: 'unreachable',
        config: target,
        status: { state: 'success', description: 'not applied: no AWS access here' },
      });
    };
    // A stack target without AWS access is skipped before its template is read (a local serve).
    const stack = target.type === 'cloudformation' ? await open() : undefined;
    if (stack && 'result' in stack) return stack;
    subject = target.path;
    const desired = await renderDesired(req.tree, target, {
      ...(target.type === 'kubernetes' ? { capabilities: () => deps.targets.capabilities(target.cluster, deps.deadline?.signal) } : {}),
    });
    if (desired.kind === 'kubernetes') {
      redact = createRedactor(secretValuesOf(desired.objects));
      rendered = true;
      const grant = deps.registry && repositoryGrant(deps.registry, req.repository);
      const namespace = target.type === 'kubernetes' ? target.namespace : undefined;
      const outside = grant ? objectsOutsideGrant(desired.objects, grant, req.repository, namespace) : [];
      if (outside.length) return failed(`${target.path}: ${outside.join('; ')}`, undefined, { desired, config: target });
    }

    subject = target.type === 'kubernetes' ? `cluster ${target.cluster}` : `stack ${target.stack}`;
    const opened = stack ?? (await open());
    if ('result' in opened) return opened;
    if (desired.kind === 'kubernetes') {
      // Until the target says what it applied, anything rendered may be on the cluster: a failure records it all.
      update = { config: target, inventory: mergeSurvivors(state?.inventory ?? [], renderedRefs(desired.objects, target.type === 'kubernetes' ? target.namespace : undefined)) };
    }
    const previousInventory: readonly InventoryEntry[] | undefined = deps.discoverInventory && !state?.lastSyncAt ? undefined : (state?.inventory ?? []);
    const deadline = deps.deadline && { signal: deps.deadline.signal, at: deps.deadline.at - MARGIN_MS };
    const run = {
      ...(previousInventory ? { previousInventory } : {}),
      ...(deadline ? { deadline } : {}),
      commit: req.commit,
      ...(deps.onProgress ? { onProgress: deps.onProgress } : {}),
      ...(req.checked?.length ? { checked: req.checked } : {}),
      ...(deps.onObserved ? { onObserved: deps.onObserved } : {}),
    };
    if (req.dryRun) {
      const plan = await opened.plan(desired, run);
      return done({ result: 'planned', plan, changeSet: plan.changeSet, desired, config: target, ...(plan.stop ? { message: plan.stop } : {}) });
    }
    const applied = await opened
      .apply(desired, { ...run, ...(deps.beforeWrite ? { beforeWrite: (stage: WriteStage) => deps.beforeWrite?.(writeLabel(stage)) ?? Promise.resolve() } : {}) })
      .catch((err: unknown) => {
        // A registry refusal comes before any write: the inventory stays what it was.
        if (err instanceof GrantRefusalError) update = { config: target, inventory: state?.inventory ?? [] };
        throw err;
      });
    update = {
      inventory: applied.inventory,
      dependencies: [...desired.files].sort(),
      config: target,
      ...(applied.result === 'succeeded' ? { lastAppliedCommit: req.commit } : {}),
    };
    subject = 'ledger';
    const common = { changeSet: applied.changeSet, applied, desired, config: target } as const;
    if (applied.result === 'failed') {
      const failures =
        desired.kind === 'kubernetes' ? applied.changeSet.entries.filter((e) => e.action === 'failed').map((e) => `${formatRef(e.ref)}: ${e.detail ?? 'failed'}`) : undefined;
      return failed(applied.error ?? 'sync failed', undefined, {
        ...common,
        ...(failures ? { failures } : {}),
        ...(applied.refused?.length ? { reason: 'refused' as const } : {}),
      });
    }
    if (applied.result === 'in-progress') {
      const stack = target.type === 'cloudformation' ? target.stack : id;
      return done({
        ...common,
        result: 'in-progress',
        message: `stack ${stack} is ${applied.status ?? 'in progress'}; a later invocation finishes it`,
        status: { state: 'pending', description: `stack ${applied.status ?? 'in progress'}` },
      });
    }
    const description = desired.kind === 'cloudformation' && !hasChanges(applied.changeSet.entries) ? 'stack unchanged' : formatCounts(applied.changeSet.entries);
    return done({ ...common, result: 'succeeded', status: { state: 'success', description } });
  } catch (err) {
    return failed(describeFailure(subject, err), err);
  }
};

/**
 * A target gone from driftless.yaml (or moved to another branch), handled from its last recorded config:
 * Kubernetes objects stay in place, reported once; a stack is deleted only if `deleteOnRemove` was true.
 */
const removed = async (
  req: SyncRequest,
  deps: SyncDeps,
  gone: boolean,
  setSubject: (s: string) => void,
  failed: (message: string, cause?: unknown) => Promise<SyncOutcome>,
  done: (o: Omit<SyncOutcome, 'notifyOn' | 'redact' | 'update'> & { update?: StateUpdate }) => SyncOutcome,
): Promise<SyncOutcome> => {
  const last = req.state?.config as CloudFormationTargetConfig | undefined;
  if (gone && last?.type === 'cloudformation' && last.cloudformation?.deleteOnRemove) {
    const id = makeTargetId(req.repository, req.target);
    const opened = await deps.targets.open({ id, repository: req.repository, config: last }, deps.registry ? { registry: deps.registry } : {});
    if (!('unreachable' in opened) && opened.remove) {
      setSubject(`stack ${last.stack}`);
      // The registry of now decides, not the one the stack was created under.
      const refused =
        deps.registry && whyStackNotGranted(registryGrant(deps.registry, req.repository), { stack: last.stack, region: last.region, roleArn: last.cloudformation.roleArn });
      if (refused) return failed(`${req.target} left ${CONFIG_FILE}; stack ${last.stack} not deleted (deleteOnRemove): ${refused}`);
      await deps.beforeWrite?.('stack delete');
      const deleted = await opened.remove();
      const message = `${req.target} left ${CONFIG_FILE}; stack ${last.stack} ${deleted === 'deleted' ? 'deleted (deleteOnRemove)' : 'was already gone'}`;
      return done({ result: 'succeeded', message, reason: 'removed', update: { inventory: [], removed: true } });
    }
  }
  return done({
    result: 'skipped',
    message: `${req.target} is no longer in ${CONFIG_FILE} on ${req.branch}; its objects were left in place`,
    reason: 'removed',
    update: { removed: true },
    status: { state: 'success', description: 'target removed from driftless.yaml; objects left in place' },
  });
};

/** What the lease check before a write names: `the resources stage`, `stack execute`. */
const writeLabel = (stage: WriteStage): string => (stage === 'delete' || stage === 'execute' ? `stack ${stage}` : `the ${stage} stage`);

/** A failure's message, starting with its subject: reconciler errors name theirs; anything else gets the sync's phase. */
export const describeFailure = (subject: string, err: unknown): string => {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof ReconcilerError) return message;
  const name = err instanceof Error && err.name !== 'Error' ? `${err.name}: ` : '';
  return `${subject}: ${name}${message}`.slice(0, 2000);
};

/** Refs of rendered objects as an apply would record them (a failure before the target answers keeps them all). */
const renderedRefs = (objects: readonly KubeObject[], namespace?: string): ObjectRef[] =>
  objects.map((o) => {
    const meta = (o.metadata ?? {}) as { name?: string; namespace?: string };
    const kind = String(o.kind);
    const ns = CLUSTER_SCOPED_KINDS.has(kind) ? undefined : (meta.namespace ?? namespace);
    return { group: splitApiVersion(String(o.apiVersion ?? ''))[0], kind, ...(ns ? { namespace: ns } : {}), name: String(meta.name) };
  });
