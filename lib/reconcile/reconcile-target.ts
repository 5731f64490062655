import { countActions, formatCounts } from '../core/change-set.js';
import { ReconcilerError } from '../core/errors.js';
import { combineRedactors, createRedactor, NO_REDACTION, redactDeep, secretValuesOf, type Redactor } from '../core/redact.js';
import { mergeSurvivors } from '../core/inventory.js';
import { formatRef, splitApiVersion, type KubeObject, type ObjectRef } from '../core/object-ref.js';
import { targetId as makeTargetId } from '../core/ownership.js';
import { CONFIG_FILE, parseDriftlessConfig } from '../config/load-config.js';
import { kubernetesGrant, noGrant, objectsOutsideGrant, repositoryGrant } from '../config/registry-check.js';
import { registryGrant, whyStackNotGranted } from '../config/stack-grants.js';
import { durationMs, type CloudFormationTargetConfig, type KubernetesTargetConfig, type Registry } from '../config/schema.js';
import type { Lease, Ledger, StateUpdate, SyncRecord, TargetState } from '../ledger/ledger.js';
import { LedgerConflictError } from '../ledger/dynamodb-ledger.js';
import type { Notifier } from '../notify/notifier.js';
import { CLUSTER_SCOPED_KINDS } from '../render/cluster-scope.js';
import type { FileTree } from '../render/file-tree.js';
import { renderPath } from '../render/render.js';
import { secretSourceValues } from '../render/secret-sources.js';
import { clusterCapabilities } from '../render/helm/capabilities.js';
import { holdLease, LEASE_TTL_MS, LeaseLostError, TIMED_OUT_REASON, type HeldLease } from './lease.js';
import { countingSource, type RepositorySource } from '../source/repository-source.js';
import { reporterOf, type CommitReporter } from './commit-report.js';
import type { KubeClient } from '../targets/kubernetes/kube-client.js';
import { GrantRefusalError, KubernetesTarget } from '../targets/kubernetes/kubernetes-target.js';
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
  /** How long the lease lasts without a heartbeat. @default 60 s (LEASE_TTL_MS) */
  readonly leaseTtlMs?: number;
  /** How often the holder renews its lease. @default a third of the TTL */
  readonly heartbeatMs?: number;
  readonly log?: (message: string, fields?: Record<string, unknown>) => void;
  /** CloudFormation access for stack targets, per region (the service role and artifact bucket of the deployment). */
  readonly cloudformation?: (region: string) => CloudFormationAccess;
  /** Reports syncs on the commit (a check run or one combined status per push). @default reporterOf(deps): nothing per target */
  readonly reporter?: CommitReporter;
  /** Progress of a sync's phases (the CLI and serve show it on long syncs). */
  readonly progress?: (targetId: string, phase: 'plan' | 'apply' | 'prune' | 'wait', done: number, total: number) => void;
}

/** How a reconcile ended. */
export type ReconcileOutcome =
  | { readonly kind: 'pending'; readonly heldBy: string }
  | { readonly kind: 'done'; readonly records: readonly SyncRecord[]; readonly untouched: number; readonly unchanged: number };

const MARGIN_MS = 30_000;

export { TIMED_OUT_REASON } from './lease.js';

/**
 * Converges one target to its branch head under the target's lease, records every sync in the ledger and
 * reports a commit status. Work arriving while the lease is held is left as the target's `pendingHead`,
 * which the holder converges to before it releases. The lease is short and renewed by a heartbeat; a holder
 * that lost it stops before its next write. Whatever fails inside a sync ends it as `failed` (see `README.md`,
 * "Failure model").
 * @example
 * await reconcileTarget({ repository: 'acme/shop', target: 'web', branch: 'main', commit, trigger: 'webhook' }, deps, signal);
 */
export const reconcileTarget = async (req: ReconcileRequest, deps: ReconcileDeps, signal?: AbortSignal): Promise<ReconcileOutcome> => {
  const id = makeTargetId(req.repository, req.target);
  const ttl = deps.leaseTtlMs ?? LEASE_TTL_MS;
  const heartbeatMs = deps.heartbeatMs ?? Math.max(100, Math.floor(ttl / 3));
  const deadline = Date.now() + deadlineLeft(signal);
  const got = await takeLease(req, id, ttl, heartbeatMs, deps, deadline, signal);
  if ('heldBy' in got) return got;
  const held = holdLease(deps.ledger, got.lease, ttl, { heartbeatMs, ...(deps.log ? { log: deps.log } : {}) });
  const work = signal ? AbortSignal.any([signal, held.signal]) : held.signal;
  const lease = held.lease;
  let released = false;
  const records: SyncRecord[] = [];
  let untouched = 0;
  let unchanged = 0;
  try {
    // The lease is exclusive: a `running` record found now belongs to a holder whose lease ended.
    const closed = await deps.ledger.markTimedOut(id, 0, TIMED_OUT_REASON);
    if (closed) deps.log?.('closed running syncs of an earlier holder as timed-out', { target: id, closed });
    let trigger: ReconcileRequest = req;
    for (let round = 0; round < 10 && !held.lost; round++) {
      const r = await convergeOnce(trigger, held, deps, work, deadline);
      records.push(...r.records);
      if (r.untouched) untouched++;
      if (r.unchanged) unchanged++;
      if (held.lost) break;
      // The round is recorded: a ledger that fails now leaves the lease to expire (a pending head stays for the sweeper).
      const next = await nextWork(lease, deps).catch((err: unknown) => {
        deps.log?.('lease left to expire: the ledger failed after the sync was recorded', { target: id, error: (err as Error).message });
        return 'stop' as const;
      });
      if (next === 'stop') break;
      if (next === 'released') {
        released = true;
        break;
      }
      trigger = { ...req, trigger: 'pending', ...(next.startsWith('branch:') ? { commit: undefined } : { commit: next }), deliveryId: undefined, force: false };
    }
  } catch (err) {
    // Only the ledger fails here (convergeOnce records its own failures): a lost lease is not an error of this call.
    if (!held.lost && !(err instanceof LedgerConflictError)) throw err;
    deps.log?.('stopped: lease lost', { target: id, error: (err as Error).message });
  } finally {
    held.stop();
    if (!released && !held.lost) await deps.ledger.releaseLease(lease, { leavePending: true }).catch(() => undefined);
  }
  return { kind: 'done', records, untouched, unchanged };
};

/** After a round: a pending head to converge to, or the lease released. */
const nextWork = async (lease: Lease, deps: ReconcileDeps): Promise<string | 'released'> => {
  const pending = await deps.ledger.takePendingHead(lease);
  if (pending) return pending;
  const release = await deps.ledger.releaseLease(lease);
  return release.released ? 'released' : release.pendingHead;
};

/**
 * Takes the target's lease. A held lease gets the request as its pending head, unless its holder has missed
 * its heartbeats (it crashed): then this waits for the lease to end, within the invocation, and takes over.
 */
const takeLease = async (
  req: ReconcileRequest,
  id: string,
  ttl: number,
  heartbeatMs: number,
  deps: ReconcileDeps,
  deadline: number,
  signal?: AbortSignal,
): Promise<{ lease: Lease } | { kind: 'pending'; heldBy: string }> => {
  for (let attempt = 0; attempt < 5; attempt++) {
    const got = await deps.ledger.acquireLease(id, deps.holder, ttl, { repository: req.repository, target: req.target });
    if ('lease' in got) return got;
    const now = Date.now();
    const silentMs = now - (got.expiresAt - ttl);
    const waitMs = got.expiresAt - now + 100;
    if (silentMs > heartbeatMs * 1.5 && waitMs <= ttl && now + waitMs < deadline - MARGIN_MS) {
      deps.log?.('lease holder missed its heartbeat; waiting for its lease to end', { target: id, heldBy: got.heldBy, waitMs });
      await sleep(waitMs, signal);
      continue;
    }
    if ((await deps.ledger.recordPendingHead(id, req.commit ?? `branch:${req.branch}`)) === 'recorded') {
      deps.log?.('lease held; recorded pending head', { target: id, heldBy: got.heldBy, commit: req.commit });
      return { kind: 'pending', heldBy: got.heldBy };
    }
  }
  throw new ReconcilerError(`${id}: could not take the lease`);
};

interface RoundResult {
  records: SyncRecord[];
  untouched?: boolean;
  unchanged?: boolean;
}

/** One convergence: resolve the head, decide whether the target is touched, render, apply, record. */
const convergeOnce = async (req: ReconcileRequest, held: HeldLease, deps: ReconcileDeps, signal: AbortSignal, deadline: number): Promise<RoundResult> => {
  const lease = held.lease;
  const id = lease.targetId;
  const source = countingSource(deps.source);
  const state = await deps.ledger.getState(id);
  const records: SyncRecord[] = [];
  const base = { repository: req.repository, target: req.target, branch: req.branch, trigger: req.trigger, holder: lease.holder, ...(req.author ? { author: req.author } : {}) };
  // Secret values of this sync (see "Redaction" in README.md): known once rendered; before that, or when the
  // render fails, they are read from the snapshot's Secret manifests and secretGenerator sources.
  let redact: Redactor = NO_REDACTION;
  let snapshot: FileTree | undefined;
  let renderedSecrets = false;
  const log = (message: string, fields?: Record<string, unknown>) => deps.log?.(redact(message), fields && redactDeep(fields, redact));

  let head: string;
  let changed: Awaited<ReturnType<RepositorySource['headAndChanges']>>['changed'];
  let headError: unknown;
  try {
    ({ head, changed } = await source.headAndChanges(req.repository, req.branch, state?.lastAttemptedCommit, signal));
  } catch (err) {
    // The head cannot be resolved: the sync is recorded (and fails) at the commit that triggered it.
    if (!req.commit || !COMMIT.test(req.commit)) throw err;
    head = req.commit;
    changed = undefined;
    headError = err;
  }

  // The pushed commit is a trigger, not an order: an older one is recorded as superseded.
  if (req.commit && req.commit !== head) {
    const now = new Date().toISOString();
    const rec = await deps.ledger.startSync(lease, { ...base, commit: req.commit, startedAt: now, ...(req.deliveryId ? { deliveryId: req.deliveryId } : {}) });
    const done: SyncRecord = { ...rec, result: 'superseded', endedAt: now, error: { message: `superseded by ${head.slice(0, 12)}, the head of ${req.branch}` } };
    await deps.ledger.finishSync(lease, done, {});
    records.push(done);
  }

  // Idempotent on (target, commit): a head already applied with success writes nothing.
  if (!headError && !req.force && state?.lastAttemptedCommit === head && state.lastResult === 'succeeded') return { records, unchanged: true };
  // The commit's report (one check run or combined status per push): untouched targets count towards its end too.
  let declared: string[] | undefined;
  const report = (state: 'pending' | 'success' | 'failure' | 'untouched', description: string) =>
    reporterOf(deps).report({ repository: req.repository, branch: req.branch, commit: head, target: req.target, state, description: redact(description), ...(declared ? { targets: declared } : {}) });
  if (!headError && !req.force && state && !touches(state, changed)) {
    await deps.ledger.writeState(lease, { lastAttemptedCommit: head, lastAppliedCommit: head });
    deps.log?.('untouched by this push', { target: id, head });
    await report('untouched', 'untouched by this push');
    return { records, unchanged: false, untouched: true };
  }

  const started = Date.now();
  const running = await deps.ledger.startSync(lease, {
    ...base,
    commit: head,
    startedAt: new Date(started).toISOString(),
    ...(req.deliveryId && (!req.commit || req.commit === head) ? { deliveryId: req.deliveryId } : {}),
  });
  const status = report;
  const repeatFailure = state?.lastResult === 'failed' && state.lastAttemptedCommit === head;
  const record = (result: SyncRecord['result'], extra: Partial<SyncRecord>): SyncRecord => ({
    ...running,
    ...redactDeep(extra, redact),
    result,
    endedAt: new Date().toISOString(),
    durationMs: Date.now() - started,
    githubCalls: source.reads,
  });
  const finish = async (result: SyncRecord['result'], extra: Partial<SyncRecord>, update: StateUpdate): Promise<SyncRecord> => {
    const rec = record(result, extra);
    await deps.ledger.finishSync(lease, rec, {
      lastAttemptedCommit: head,
      lastResult: result,
      lastSyncAt: running.startedAt,
      lastSyncId: running.syncId,
      failedAttempts: result === 'failed' ? (repeatFailure ? (state?.failedAttempts ?? 1) : 0) + 1 : 0,
      ...(state?.removed ? { removed: false } : {}),
      ...update,
    });
    records.push(rec);
    return rec;
  };
  // What the sync knows so far, for the one failure path: what it was doing, and the state a failure records.
  const progress: { subject: string; update: StateUpdate } = { subject: `fetching ${head.slice(0, 12)}`, update: {} };
  // Failure notices go to Slack unless the repository's notifications leave `failure` out (unknown config: notify).
  let notifyOn: readonly string[] = ['failure'];
  let pendingStatus: Promise<void> = Promise.resolve();
  let failedOnce = false;
  /** The one way a sync fails: a `failed` record (closed even without the lease), a failure status, one Slack notice. */
  const fail = async (message: string, cause?: unknown, extra: Partial<SyncRecord> = {}, update: StateUpdate = progress.update, failures?: string[]): Promise<RoundResult> => {
    if (failedOnce) return { records };
    failedOnce = true;
    await pendingStatus;
    if (snapshot && !renderedSecrets) redact = combineRedactors(redact, createRedactor(await secretSourceValues(snapshot).catch(() => [])));
    message = redact(message);
    if (failures) failures = failures.map(redact);
    const lost = held.lost !== undefined || cause instanceof LeaseLostError || cause instanceof LedgerConflictError;
    const text = lost && !message.startsWith('lease lost') ? `lease lost: ${message}` : message;
    const error = { message: text, ...(cause instanceof Error && redact(cause.message) !== text ? { cause: redact(cause.message) } : {}) };
    let closed = false;
    if (!lost) {
      try {
        await finish('failed', { error, ...extra }, update);
        closed = true;
      } catch (err) {
        log('failure not recorded with the state; closing the record alone', { target: id, error: (err as Error).message });
      }
    }
    if (!closed) {
      // Without the lease (or when the state write failed) the record is closed on its own, so it does not stay running.
      const rec = record('failed', { error, ...extra });
      for (let attempt = 0; attempt < 3 && !closed; attempt++) {
        if (attempt) await sleep(1000 * attempt).catch(() => undefined);
        closed = await deps.ledger.abandonSync(rec).then(
          () => true,
          (err: unknown) => (log('sync record not closed', { target: id, error: (err as Error).message }), false),
        );
      }
      records.push(rec);
    }
    // A lost lease is not the commit's failure: the new holder reports on the commit.
    if (lost) return { records };
    await status('failure', text);
    // One notice per failure: a retry of the same commit that fails again stays quiet.
    if (deps.notifier && !repeatFailure && notifyOn.includes('failure')) {
      await deps.notifier
        .failure({ targetId: id, repository: req.repository, commit: head, branch: req.branch, error: text, ...(req.author ? { author: req.author } : {}), ...(failures ? { failures } : {}) })
        .catch((err: unknown) => log('failure notice not sent', { target: id, error: (err as Error).message }));
    }
    return { records };
  };

  try {
    if (headError) throw headError;
    return await applyHead();
  } catch (err) {
    return fail(describeFailure(progress.subject, err), err);
  }

  /** Everything after the running record; a throw anywhere in it ends in `fail`. */
  async function applyHead(): Promise<RoundResult> {
    // Fetch what the target needs at the head: one tarball of the commit.
    let tree;
    try {
      tree = await source.snapshot(req.repository, head, signal);
      snapshot = tree;
    } catch (err) {
      return fail(`fetching ${head.slice(0, 12)} failed: ${(err as Error).message}`, err);
    }
    progress.subject = CONFIG_FILE;
    const configText = await tree.read(CONFIG_FILE).then((b) => new TextDecoder().decode(b), () => undefined);
    if (configText === undefined) return fail(`${CONFIG_FILE} is missing at ${head.slice(0, 12)}`);
    const repoConfig = parseDriftlessConfig(configText, { repository: req.repository, registry: deps.registry });
    notifyOn = repoConfig.notifications.slack.on;
    declared = repoConfig.targets.filter((t) => t.branch === req.branch).map((t) => t.name);
    const target = repoConfig.targets.find((t) => t.name === req.target);
    if (!target || target.branch !== req.branch) {
      // Removed from driftless.yaml (or moved to another branch), handled from the last recorded config:
      // Kubernetes objects stay in place, reported once; a stack is deleted only if deleteOnRemove was true.
      const last = state?.config as CloudFormationTargetConfig | undefined;
      if (!target && last?.type === 'cloudformation' && last.cloudformation?.deleteOnRemove && deps.cloudformation) {
        progress.subject = `stack ${last.stack}`;
        // The registry of now decides, not the one the stack was created under.
        const grant = registryGrant(deps.registry, req.repository);
        const refused = whyStackNotGranted(grant, { stack: last.stack, region: last.region, roleArn: last.cloudformation.roleArn });
        if (refused) return fail(`${req.target} left ${CONFIG_FILE}; stack ${last.stack} not deleted (deleteOnRemove): ${refused}`);
        const access = deps.cloudformation(last.region);
        await held.check('stack delete');
        const deleted = await new CloudFormationTarget(access.cfn, { id, stack: last.stack, adopt: grant?.adopt === true, ...(last.cloudformation.roleArn ?? access.roleArn ? { roleArn: last.cloudformation.roleArn ?? access.roleArn } : {}) }).delete();
        await finish('succeeded', { error: { message: `${req.target} left ${CONFIG_FILE}; stack ${last.stack} ${deleted === 'deleted' ? 'deleted (deleteOnRemove)' : 'was already gone'}` } }, { inventory: [], removed: true });
        await status('success', `target removed from ${CONFIG_FILE}; stack ${last.stack} ${deleted === 'deleted' ? 'deleted' : 'already gone'}`);
        return { records };
      }
      await finish('skipped', { error: { message: `${req.target} is no longer in ${CONFIG_FILE} on ${req.branch}; its objects were left in place` } }, { removed: true });
      await status('success', 'target removed from driftless.yaml; objects left in place');
      return { records };
    }
    progress.update = { config: target };
    if (target.suspend || state?.suspended) {
      await finish('skipped', { error: { message: target.suspend ? 'suspended in driftless.yaml' : `suspended by ${state?.suspendedBy ?? 'an operator'}` } }, { config: target });
      await status('success', 'suspended: nothing applied');
      return { records };
    }

    // Not awaited: GitHub spaces writes a second apart (Octokit's throttling), and the apply need not wait for it.
    pendingStatus = status('pending', `syncing ${head.slice(0, 7)}`);
    if (target.type === 'cloudformation') return applyStack(target, tree);
    progress.subject = target.path;
    const rendered = await renderPath(tree, target.path, { target, capabilities: async () => clusterCapabilities(await deps.cluster(target.cluster), signal) });
    redact = createRedactor(secretValuesOf(rendered.objects));
    renderedSecrets = true;
    const grant = repositoryGrant(deps.registry, req.repository);
    const outside = grant ? objectsOutsideGrant(rendered.objects, grant, req.repository, target.namespace) : [];
    if (outside.length) return fail(`${target.path}: ${outside.join('; ')}`);

    const remaining = deadline - Date.now();
    const k8s = target as KubernetesTargetConfig;
    progress.subject = `cluster ${k8s.cluster}`;
    const kube = await deps.cluster(k8s.cluster);
    // The Kubernetes target of this sync (ownership and registry checks plug in here).
    const engine = new KubernetesTarget(kube, {
      id,
      ...(k8s.namespace ? { namespace: k8s.namespace } : {}),
      force: k8s.apply.force,
      concurrency: k8s.apply.concurrency,
      prune: k8s.prune,
      wait: { enabled: k8s.wait.enabled, timeoutMs: Math.max(0, Math.min(durationMs(k8s.wait.timeout), remaining - MARGIN_MS)) },
      grant: kubernetesGrant(deps.registry, req.repository) ?? noGrant(req.repository),
    });
    // Until the engine says what it applied, anything rendered may be on the cluster: a failure records it all.
    progress.update = { config: target, inventory: mergeSurvivors(state?.inventory ?? [], renderedRefs(rendered.objects, k8s.namespace)) };
    const result = await engine
      .sync(rendered.objects, {
        previousInventory: state?.inventory ?? [],
        signal,
        beforeWrite: (stage) => held.check(`the ${stage} stage`),
        ...(deps.progress ? { onProgress: (phase: 'plan' | 'apply' | 'prune' | 'wait', done: number, total: number) => deps.progress?.(id, phase, done, total) } : {}),
      })
      .catch((err: unknown) => {
        // A registry refusal comes before any write: the inventory stays what it was.
        if (err instanceof GrantRefusalError) progress.update = { config: target, inventory: state?.inventory ?? [] };
        throw err;
      });
    const failedRefs = result.changeSet.entries.filter((e) => e.action === 'failed').map((e) => e.ref);
    const update: StateUpdate = {
      // A write that failed may still have reached the cluster (a dropped connection): it stays in the inventory.
      inventory: result.failed ? mergeSurvivors(result.inventory, failedRefs) : result.inventory,
      dependencies: [...new Set([...rendered.files, CONFIG_FILE])].sort(),
      config: target,
      ...(result.failed ? {} : { lastAppliedCommit: head }),
    };
    progress.update = update;
    progress.subject = 'ledger';
    const extra = { changeSet: result.changeSet.entries, counts: countActions(result.changeSet.entries) };
    if (held.lost) return fail(`lease lost: ${held.lost}`, undefined, extra, update);
    if (result.failed) {
      const failures = result.changeSet.entries.filter((e) => e.action === 'failed').map((e) => `${formatRef(e.ref)}: ${e.detail ?? 'failed'}`);
      return fail(result.error ?? 'sync failed', undefined, extra, update, failures);
    }
    try {
      await finish('succeeded', extra, update);
    } catch (err) {
      return fail(describeFailure('ledger', err), err, extra, update);
    }
    await pendingStatus;
    await status('success', formatCounts(result.changeSet.entries));
    return { records };
  }

  /** A CloudFormation target: one change set, executed under the lease. */
  async function applyStack(target: CloudFormationTargetConfig, tree: FileTree): Promise<RoundResult> {
    if (!deps.cloudformation) {
      // Not a failure of the commit: this reconciler (a local serve without AWS credentials) cannot reach AWS.
      await finish('skipped', { error: { message: 'stack targets need AWS access, which this reconciler is not given' } }, { config: target });
      await pendingStatus;
      await status('success', 'not applied: no AWS access here');
      return { records };
    }
    const read = async (p: string) => new TextDecoder().decode(await tree.read(p));
    progress.subject = target.path;
    const template = parseTemplate(await read(target.path), target.path);
    const parameters = target.parameters ? parseParameters(await read(target.parameters), target.parameters) : [];
    progress.subject = `stack ${target.stack}`;
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
    const outcome = await stack.apply(template, parameters, { commit: head, signal, deadline: deadline - MARGIN_MS, beforeWrite: (stage) => held.check(`stack ${stage}`) });
    const cfnUpdate: StateUpdate = {
      inventory: [{ group: 'cloudformation.aws', kind: 'AWS::CloudFormation::Stack', name: target.stack }],
      dependencies: [...new Set([target.path, ...(target.parameters ? [target.parameters] : []), CONFIG_FILE])].sort(),
      config: target,
    };
    progress.update = cfnUpdate;
    progress.subject = 'ledger';
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
};

/** A 40- or 64-hex commit id. */
const COMMIT = /^([0-9a-f]{40}|[0-9a-f]{64})$/;

/** A failure's message, starting with its subject: reconciler errors name theirs; anything else gets the sync's phase. */
export const describeFailure = (subject: string, err: unknown): string => {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof ReconcilerError) return message;
  const name = err instanceof Error && err.name !== 'Error' ? `${err.name}: ` : '';
  return `${subject}: ${name}${message}`.slice(0, 2000);
};

/** Refs of rendered objects as an apply would record them (a failure before the engine answers keeps them all). */
const renderedRefs = (objects: readonly KubeObject[], namespace?: string): ObjectRef[] =>
  objects.map((o) => {
    const meta = (o.metadata ?? {}) as { name?: string; namespace?: string };
    const kind = String(o.kind);
    const ns = CLUSTER_SCOPED_KINDS.has(kind) ? undefined : (meta.namespace ?? namespace);
    return { group: splitApiVersion(String(o.apiVersion ?? ''))[0], kind, ...(ns ? { namespace: ns } : {}), name: String(meta.name) };
  });

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason as Error)), { once: true });
  });

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
