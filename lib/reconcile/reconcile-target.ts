import { countActions, formatCounts } from '../core/change-set.js';
import { ConfigError, ReconcilerError, RenderError } from '../core/errors.js';
import { formatRef } from '../core/object-ref.js';
import { targetId as makeTargetId } from '../core/ownership.js';
import { CONFIG_FILE, parseDriftlessConfig } from '../config/load-config.js';
import { kubernetesGrant, noGrant, objectsOutsideGrant, repositoryGrant } from '../config/registry-check.js';
import { registryGrant, whyStackNotGranted } from '../config/stack-grants.js';
import { durationMs, type CloudFormationTargetConfig, type KubernetesTargetConfig, type Registry } from '../config/schema.js';
import type { Lease, Ledger, StateUpdate, SyncRecord, TargetState } from '../ledger/ledger.js';
import { LedgerConflictError } from '../ledger/dynamodb-ledger.js';
import type { Notifier } from '../notify/notifier.js';
import { renderPath } from '../render/render.js';
import { clusterCapabilities } from '../render/helm/capabilities.js';
import { countingSource, type RepositorySource } from '../source/repository-source.js';
import type { KubeClient } from '../targets/kubernetes/kube-client.js';
import { KubernetesTarget } from '../targets/kubernetes/kubernetes-target.js';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { S3Client } from '@aws-sdk/client-s3';
import { CloudFormationTarget } from '../targets/cloudformation/cloudformation-target.js';
import { parseParameters, parseTemplate } from '../targets/cloudformation/template.js';

/** What reconcile needs to reach CloudFormation in one region. */
export interface CloudFormationAccess {
  readonly cfn: CloudFormationClient;
  readonly s3?: S3Client;
  /** The deployment's service role, used when the target names none. */
  readonly roleArn?: string;
  readonly artifactBucket?: string;
}

/** What to reconcile: one target of one repository, triggered by a commit (a trigger, not an order). */
export interface ReconcileRequest {
  readonly repository: string;
  readonly target: string;
  readonly branch: string;
  /** The commit that triggered this (pushed or merged); the branch head is what gets applied. */
  readonly commit?: string;
  readonly deliveryId?: string;
  readonly author?: string;
  readonly trigger: 'webhook' | 'sweeper' | 'trigger' | 'self-heal' | 'pending';
  /** Converge even when the head was already applied (operator trigger, self-heal). */
  readonly force?: boolean;
}

/** Everything reconcile needs, built once per cold start. */
export interface ReconcileDeps {
  readonly ledger: Ledger;
  readonly source: RepositorySource;
  readonly registry: Registry;
  /** A client for a registry cluster name. */
  readonly cluster: (name: string) => Promise<KubeClient>;
  readonly notifier?: Notifier;
  /** Who holds the lease (the invocation's request id). */
  readonly holder: string;
  /** @default 20 minutes (longer than Lambda's 15) */
  readonly leaseTtlMs?: number;
  /** A `running` record older than this is marked timed-out. @default 15 minutes */
  readonly functionTimeoutMs?: number;
  readonly log?: (message: string, fields?: Record<string, unknown>) => void;
  /** CloudFormation access for stack targets, per region (the service role and artifact bucket of the deployment). */
  readonly cloudformation?: (region: string) => CloudFormationAccess;
  /** Progress of a sync's phases (the CLI and serve show it on long syncs). */
  readonly progress?: (targetId: string, phase: 'plan' | 'apply' | 'prune' | 'wait', done: number, total: number) => void;
}

/** How a reconcile ended. */
export type ReconcileOutcome =
  | { readonly kind: 'pending'; readonly heldBy: string }
  | { readonly kind: 'done'; readonly records: readonly SyncRecord[]; readonly untouched: number; readonly unchanged: number };

const MARGIN_MS = 30_000;

/**
 * Converges one target to its branch head under the target's lease, records every sync in the ledger and
 * reports a commit status. Work arriving while the lease is held is left as the target's `pendingHead`,
 * which the holder converges to before it releases.
 * @example
 * await reconcileTarget({ repository: 'acme/shop', target: 'web', branch: 'main', commit, trigger: 'webhook' }, deps, signal);
 */
export const reconcileTarget = async (req: ReconcileRequest, deps: ReconcileDeps, signal?: AbortSignal): Promise<ReconcileOutcome> => {
  const id = makeTargetId(req.repository, req.target);
  const ttl = deps.leaseTtlMs ?? 20 * 60_000;
  let lease: Lease | undefined;
  for (let attempt = 0; attempt < 5 && !lease; attempt++) {
    const got = await deps.ledger.acquireLease(id, deps.holder, ttl, { repository: req.repository, target: req.target });
    if ('lease' in got) {
      lease = got.lease;
      break;
    }
    if ((await deps.ledger.recordPendingHead(id, req.commit ?? `branch:${req.branch}`)) === 'recorded') {
      deps.log?.('lease held; recorded pending head', { target: id, heldBy: got.heldBy, commit: req.commit });
      return { kind: 'pending', heldBy: got.heldBy };
    }
  }
  if (!lease) throw new ReconcilerError(`${id}: could not take the lease`);

  const records: SyncRecord[] = [];
  let untouched = 0;
  let unchanged = 0;
  try {
    await deps.ledger.markTimedOut(id, deps.functionTimeoutMs ?? 15 * 60_000);
    let trigger: ReconcileRequest | undefined = req;
    for (let round = 0; round < 10; round++) {
      const r = await convergeOnce(trigger ?? { ...req, trigger: 'pending', commit: undefined, deliveryId: undefined }, lease, deps, signal);
      records.push(...r.records);
      if (r.untouched) untouched++;
      if (r.unchanged) unchanged++;
      const pending = await deps.ledger.takePendingHead(lease);
      if (pending) {
        trigger = { ...req, trigger: 'pending', ...(pending.startsWith('branch:') ? { commit: undefined } : { commit: pending }), deliveryId: undefined, force: false };
        continue;
      }
      const released = await deps.ledger.releaseLease(lease);
      if (released.released) {
        lease = undefined;
        break;
      }
      trigger = { ...req, trigger: 'pending', commit: released.pendingHead, deliveryId: undefined, force: false };
    }
  } finally {
    if (lease) await deps.ledger.releaseLease(lease, { leavePending: true }).catch(() => undefined);
  }
  return { kind: 'done', records, untouched, unchanged };
};

interface RoundResult {
  records: SyncRecord[];
  untouched?: boolean;
  unchanged?: boolean;
}

/** One convergence: resolve the head, decide whether the target is touched, render, apply, record. */
const convergeOnce = async (req: ReconcileRequest, lease: Lease, deps: ReconcileDeps, signal?: AbortSignal): Promise<RoundResult> => {
  const id = lease.targetId;
  const source = countingSource(deps.source);
  const state = await deps.ledger.getState(id);
  const { head, changed } = await source.headAndChanges(req.repository, req.branch, state?.lastAttemptedCommit, signal);
  const records: SyncRecord[] = [];
  const base = { repository: req.repository, target: req.target, branch: req.branch, trigger: req.trigger, ...(req.author ? { author: req.author } : {}) };

  // The pushed commit is a trigger, not an order: an older one is recorded as superseded.
  if (req.commit && req.commit !== head) {
    const now = new Date().toISOString();
    const rec = await deps.ledger.startSync(lease, { ...base, commit: req.commit, startedAt: now, ...(req.deliveryId ? { deliveryId: req.deliveryId } : {}) });
    const done: SyncRecord = { ...rec, result: 'superseded', endedAt: now, error: { message: `superseded by ${head.slice(0, 12)}, the head of ${req.branch}` } };
    await deps.ledger.finishSync(lease, done, {});
    records.push(done);
  }

  // Idempotent on (target, commit): a head already applied with success writes nothing.
  if (!req.force && state?.lastAttemptedCommit === head && state.lastResult === 'succeeded') return { records, unchanged: true };
  if (!req.force && state && !touches(state, changed)) {
    await deps.ledger.writeState(lease, { lastAttemptedCommit: head, lastAppliedCommit: head });
    deps.log?.('untouched by this push', { target: id, head });
    return { records, untouched: true };
  }

  const started = Date.now();
  const running = await deps.ledger.startSync(lease, {
    ...base,
    commit: head,
    startedAt: new Date(started).toISOString(),
    ...(req.deliveryId && (!req.commit || req.commit === head) ? { deliveryId: req.deliveryId } : {}),
  });
  const context = `driftless/${req.target}`;
  const status = async (state: 'pending' | 'success' | 'failure', description: string) => {
    try {
      await source.setStatus(req.repository, head, { context, state, description: description.slice(0, 140) });
    } catch (err) {
      deps.log?.('commit status not set', { target: id, error: (err as Error).message });
    }
  };
  const finish = async (result: SyncRecord['result'], extra: Partial<SyncRecord>, update: StateUpdate): Promise<SyncRecord> => {
    const rec: SyncRecord = { ...running, ...extra, result, endedAt: new Date().toISOString(), durationMs: Date.now() - started, githubCalls: source.reads };
    await deps.ledger.finishSync(lease, rec, { lastAttemptedCommit: head, lastResult: result, lastSyncAt: running.startedAt, lastSyncId: running.syncId, ...update });
    records.push(rec);
    return rec;
  };
  // Failure notices go to Slack unless the repository's notifications leave `failure` out (unknown config: notify).
  let notifyOn: readonly string[] = ['failure'];
  let pendingStatus: Promise<void> = Promise.resolve();
  const fail = async (message: string, cause?: unknown, extra: Partial<SyncRecord> = {}, update: StateUpdate = {}, failures?: string[]) => {
    await pendingStatus;
    await finish('failed', { error: { message, ...(cause instanceof Error && cause.message !== message ? { cause: cause.message } : {}) }, ...extra }, update);
    await status('failure', message);
    // One notice per failure: a retry of the same commit that fails again stays quiet.
    const repeat = state?.lastResult === 'failed' && state.lastAttemptedCommit === head;
    if (deps.notifier && !repeat && notifyOn.includes('failure')) {
      await deps.notifier
        .failure({ targetId: id, repository: req.repository, commit: head, branch: req.branch, error: message, ...(req.author ? { author: req.author } : {}), ...(failures ? { failures } : {}) })
        .catch((err: unknown) => deps.log?.('failure notice not sent', { target: id, error: (err as Error).message }));
    }
    return { records };
  };

  // Fetch what the target needs at the head: one tarball of the commit.
  let tree;
  try {
    tree = await source.snapshot(req.repository, head, signal);
  } catch (err) {
    return fail(`fetching ${head.slice(0, 12)} failed: ${(err as Error).message}`, err);
  }
  const configText = await tree.read(CONFIG_FILE).then((b) => new TextDecoder().decode(b), () => undefined);
  if (configText === undefined) return fail(`${CONFIG_FILE} is missing at ${head.slice(0, 12)}`);
  let repoConfig;
  try {
    repoConfig = parseDriftlessConfig(configText, { repository: req.repository, registry: deps.registry });
  } catch (err) {
    if (err instanceof ConfigError) return fail(err.message, err);
    throw err;
  }
  notifyOn = repoConfig.notifications.slack.on;
  const target = repoConfig.targets.find((t) => t.name === req.target);
  if (!target || target.branch !== req.branch) {
    // Removed from driftless.yaml (or moved to another branch), handled from the last recorded config:
    // Kubernetes objects stay in place, reported once; a stack is deleted only if deleteOnRemove was true.
    const last = state?.config as CloudFormationTargetConfig | undefined;
    if (!target && last?.type === 'cloudformation' && last.cloudformation?.deleteOnRemove && deps.cloudformation) {
      // The registry of now decides, not the one the stack was created under.
      const grant = registryGrant(deps.registry, req.repository);
      const refused = whyStackNotGranted(grant, { stack: last.stack, region: last.region, roleArn: last.cloudformation.roleArn });
      if (refused) return fail(`${req.target} left ${CONFIG_FILE}; stack ${last.stack} not deleted (deleteOnRemove): ${refused}`);
      const access = deps.cloudformation(last.region);
      const deleted = await new CloudFormationTarget(access.cfn, { id, stack: last.stack, adopt: grant?.adopt === true, ...(last.cloudformation.roleArn ?? access.roleArn ? { roleArn: last.cloudformation.roleArn ?? access.roleArn } : {}) }).delete().catch((err: unknown) => err as Error);
      if (deleted instanceof Error) return fail(deleted.message, deleted);
      await finish('succeeded', { error: { message: `${req.target} left ${CONFIG_FILE}; stack ${last.stack} ${deleted === 'deleted' ? 'deleted (deleteOnRemove)' : 'was already gone'}` } }, { inventory: [] });
      return { records };
    }
    await finish('skipped', { error: { message: `${req.target} is no longer in ${CONFIG_FILE} on ${req.branch}; its objects were left in place` } }, {});
    await status('success', 'target removed from driftless.yaml; objects left in place');
    return { records };
  }
  if (target.suspend || state?.suspended) {
    await finish('skipped', { error: { message: target.suspend ? 'suspended in driftless.yaml' : `suspended by ${state?.suspendedBy ?? 'an operator'}` } }, { config: target });
    await status('success', 'suspended: nothing applied');
    return { records };
  }

  // Not awaited: GitHub spaces writes a second apart (Octokit's throttling), and the apply need not wait for it.
  pendingStatus = status('pending', `syncing ${head.slice(0, 7)}`);
  if (target.type === 'cloudformation') {
    if (!deps.cloudformation) {
      // Not a failure of the commit: this reconciler (a local serve without AWS credentials) cannot reach AWS.
      await finish('skipped', { error: { message: 'stack targets need AWS access, which this reconciler is not given' } }, { config: target });
      await pendingStatus;
      await status('success', 'not applied: no AWS access here');
      return { records };
    }
    const read = async (p: string) => new TextDecoder().decode(await tree.read(p));
    let template;
    let parameters: { ParameterKey: string; ParameterValue: string }[] = [];
    try {
      template = parseTemplate(await read(target.path), target.path);
      if (target.parameters) parameters = parseParameters(await read(target.parameters), target.parameters);
    } catch (err) {
      return fail((err as Error).message, err, {}, { config: target });
    }
    const access = deps.cloudformation(target.region);
    const roleArn = target.cloudformation.roleArn ?? access.roleArn;
    const stack = new CloudFormationTarget(
      access.cfn,
      {
        id,
        stack: target.stack,
        capabilities: target.cloudformation.capabilities,
        tags: target.cloudformation.tags,
        adopt: registryGrant(deps.registry, req.repository)?.adopt === true,
        ...(roleArn ? { roleArn } : {}),
        ...(access.artifactBucket ? { artifactBucket: access.artifactBucket } : {}),
      },
      access.s3,
    );
    const outcome = await stack.apply(template, parameters, { commit: head, ...(signal ? { signal } : {}), deadline: Date.now() + deadlineLeft(signal) - MARGIN_MS }).catch((err: unknown) => err as Error);
    if (outcome instanceof Error) return fail(outcome.message, outcome, {}, { config: target });
    const cfnUpdate: StateUpdate = {
      inventory: [{ group: 'cloudformation.aws', kind: 'AWS::CloudFormation::Stack', name: target.stack }],
      dependencies: [...new Set([target.path, ...(target.parameters ? [target.parameters] : []), CONFIG_FILE])].sort(),
      config: target,
    };
    const cfnExtra = { changeSet: outcome.changeSet.entries, counts: countActions(outcome.changeSet.entries) };
    // An execution an earlier sync left in progress has now ended: that record says how, too.
    if (outcome.result !== 'in-progress' && state?.lastResult === 'in-progress' && state.lastSyncId) {
      const earlier = await deps.ledger.getSync(id, state.lastSyncId);
      if (earlier?.result === 'in-progress') {
        await deps.ledger.finishSync(
          lease,
          {
            ...earlier,
            result: outcome.result === 'failed' ? 'failed' : 'succeeded',
            endedAt: new Date().toISOString(),
            error: { message: outcome.result === 'failed' ? outcome.error : `the stack settled; finished by sync ${running.syncId}` },
          },
          {},
        );
      }
    }
    if (outcome.result === 'failed') return fail(outcome.error, undefined, cfnExtra, cfnUpdate);
    if (outcome.result === 'in-progress') {
      // Finished by a later invocation: the schedule's sweeper hands in-progress targets back to reconcile.
      await finish('in-progress', { ...cfnExtra, error: { message: `stack ${target.stack} is ${outcome.status}; a later invocation finishes it` } }, cfnUpdate);
      await pendingStatus;
      await status('pending', `stack ${outcome.status}`);
      return { records };
    }
    await finish('succeeded', cfnExtra, { ...cfnUpdate, lastAppliedCommit: head });
    await pendingStatus;
    await status('success', outcome.result === 'unchanged' ? 'stack unchanged' : formatCounts(outcome.changeSet.entries));
    return { records };
  }
  let rendered;
  try {
    const kt = target as KubernetesTargetConfig;
    rendered = await renderPath(tree, kt.path, { target: kt, capabilities: async () => clusterCapabilities(await deps.cluster(kt.cluster), signal) });
  } catch (err) {
    if (err instanceof RenderError) return fail(err.message, err, {}, { config: target });
    throw err;
  }
  const grant = repositoryGrant(deps.registry, req.repository);
  const outside = grant ? objectsOutsideGrant(rendered.objects, grant, req.repository, target.namespace) : [];
  if (outside.length) return fail(`${target.path}: ${outside.join('; ')}`, undefined, {}, { config: target });

  const remaining = deadlineLeft(signal);
  const k8s = target as KubernetesTargetConfig;
  const kube = await deps.cluster(k8s.cluster);
  const engine = new KubernetesTarget(kube, {
    id,
    ...(k8s.namespace ? { namespace: k8s.namespace } : {}),
    force: k8s.apply.force,
    concurrency: k8s.apply.concurrency,
    prune: k8s.prune,
    wait: { enabled: k8s.wait.enabled, timeoutMs: Math.max(0, Math.min(durationMs(k8s.wait.timeout), remaining - MARGIN_MS)) },
    grant: kubernetesGrant(deps.registry, req.repository) ?? noGrant(req.repository),
  });
  let result;
  try {
    result = await engine.sync(rendered.objects, {
      previousInventory: state?.inventory ?? [],
      ...(signal ? { signal } : {}),
      ...(deps.progress ? { onProgress: (phase: 'plan' | 'apply' | 'prune' | 'wait', done: number, total: number) => deps.progress?.(id, phase, done, total) } : {}),
    });
  } catch (err) {
    if (err instanceof LedgerConflictError) throw err;
    return fail((err as Error).message, err, {}, { config: target });
  }
  const update: StateUpdate = {
    inventory: result.inventory,
    dependencies: [...new Set([...rendered.files, CONFIG_FILE])].sort(),
    config: target,
    ...(result.failed ? {} : { lastAppliedCommit: head }),
  };
  const extra = { changeSet: result.changeSet.entries, counts: countActions(result.changeSet.entries) };
  if (result.failed) {
    const failures = result.changeSet.entries.filter((e) => e.action === 'failed').map((e) => `${formatRef(e.ref)}: ${e.detail ?? 'failed'}`);
    return fail(result.error ?? 'sync failed', undefined, extra, update, failures);
  }
  await finish('succeeded', extra, update);
  await pendingStatus;
  await status('success', formatCounts(result.changeSet.entries));
  return { records };
};

/** Whether a change touches a target: its dependency files, its path, driftless.yaml, a truncated compare, or a last result that was not success. */
export const touches = (state: TargetState, changed: { files: readonly string[]; truncated: boolean } | undefined): boolean => {
  if (!changed || changed.truncated || state.lastResult !== 'succeeded') return true;
  const deps = new Set(state.dependencies);
  const path = (state.config as { path?: string } | undefined)?.path;
  return changed.files.some((f) => f === CONFIG_FILE || deps.has(f) || (path !== undefined && (f === path || f.startsWith(`${path.replace(/\/$/, '')}/`))));
};

const deadlineLeft = (signal?: AbortSignal): number => {
  const d = (signal as (AbortSignal & { deadline?: number }) | undefined)?.deadline;
  return d ? d - Date.now() : 15 * 60_000;
};

/** An AbortSignal that fires `marginMs` before the invocation's time runs out, and says when. */
export const deadlineSignal = (remainingMs: number, marginMs = 10_000): AbortSignal & { deadline: number } => {
  const ms = Math.max(1000, remainingMs - marginMs);
  const signal = AbortSignal.timeout(ms) as AbortSignal & { deadline: number };
  signal.deadline = Date.now() + ms;
  return signal;
};
