import { formatCounts } from '../../core/change-set.js';
import { ENV } from '../../core/env-names.js';
import { ReconcilerError } from '../../core/errors.js';
import type { TargetState } from '../../ledger/ledger.js';
import type { HeldLease } from '../../reconcile/lease.js';
import type { SyncOutcome, SyncRecorder } from '../../reconcile/sync-target.js';
import { parseCommand } from '../args.js';
import { ledgerFromEnv } from '../ledger-env.js';
import { checkoutCommit, syncWithLedger } from '../ledger-sync.js';
import type { InventoryEntry } from '../../core/inventory.js';
import { loadFromFlags, localAccess, localObservations, requireIdentity, runLocalSync, type LocalTarget } from '../local-target.js';
import { printStackApply, printStackPlan } from './stack.js';
import { duration, formatEntries, paint, progress, type Io, toJson } from '../output.js';
import { SYNC_COMMAND } from '../specs/sync.js';

/**
 * `driftless sync`: apply, prune and wait for one target of a local checkout (Kubernetes or stack), through the
 * reconciler's sync use case, and print the change set. With DRIFTLESS_TABLE the sync is recorded in the ledger
 * under the target's lease, and a target suspended there (`driftless suspend`) is left alone.
 * Exit 0: the sync succeeded (or was skipped, saying why); 1: it failed; 2: an error before it started.
 */
export const syncCommand = async (args: readonly string[], io: Io): Promise<number> => {
  const { values } = parseCommand(SYNC_COMMAND, args);
  const flags = values;
  const dryRun = values['dry-run'] ?? false;
  const local = loadFromFlags(flags, io);
  const access = localAccess(local.registry, values);
  let ledger: Awaited<ReturnType<typeof ledgerFromEnv>> | undefined;
  try {
    // The cluster is reached first (a wrong --context fails before anything else), through the one opener.
    const kube = local.target.type === 'kubernetes' && !local.target.suspend ? local.target.cluster : undefined;
    if (kube) await access.cluster(kube);
    if (!dryRun) requireIdentity(local);
    ledger = io.env[ENV.table] ? await ledgerFromEnv(io.env) : undefined;
    if (!values.json) {
      const where =
        local.target.type === 'cloudformation'
          ? `stack ${local.target.stack} (${local.target.region})`
          : `${local.target.cluster}${kube ? ` (${access.cluster.describe(kube) ?? 'cluster'})` : ''}`;
      io.stderr(`${dryRun ? 'dry run of' : 'syncing'} ${local.id} → ${where}${ledger && !dryRun ? `, recorded in ${ledger.table}` : ''}\n`);
    }
    const bar = progress(io);
    const started = performance.now();
    const commit = checkoutCommit(local.repoDir);
    // Without a ledger, what earlier runs observed is kept in a local cache (a no-op sync then costs no dry run).
    const cache = ledger ? undefined : localObservations(local, access, io);
    const observedNow: InventoryEntry[] = [];
    const run = (state: TargetState | undefined, recorder?: SyncRecorder, held?: HeldLease) =>
      runLocalSync(local, access, {
        ...(state ? { state } : {}),
        ...(recorder ? { recorder } : {}),
        dryRun,
        commit,
        onProgress: (phase, done, total) => bar.update(`${phase} ${done}/${total}`),
        ...(held ? { beforeWrite: (what: string) => held.check(what) } : {}),
        ...(cache ? { checked: cache.entries, onObserved: (e: readonly InventoryEntry[]) => observedNow.push(...e) } : {}),
      });
    let outcome: SyncOutcome;
    try {
      if (ledger && !dryRun) outcome = (await syncWithLedger(ledger.ledger, local, run)).outcome;
      else outcome = await run(ledger ? await ledger.ledger.getState(local.id) : undefined);
    } finally {
      bar.done();
    }
    // A sync keeps what it applied and found unchanged; a dry run adds what it found unchanged.
    if (cache && outcome.result !== 'skipped') {
      // A failed sync keeps the earlier observations too (each names a state once shown to match).
      if (outcome.applied && outcome.config?.type === 'kubernetes')
        cache.save(outcome.applied.result === 'failed' ? [...cache.entries, ...outcome.applied.inventory] : outcome.applied.inventory);
      else if (outcome.plan) cache.save([...cache.entries, ...observedNow]);
    }
    if (outcome.desired?.kind === 'kubernetes') for (const w of outcome.desired.warnings) io.stderr(`warning: ${w}\n`);
    return report(local, outcome, { json: values.json ?? false, startedMs: started }, io);
  } finally {
    ledger?.close();
    access.close();
  }
};

/** Prints a sync's outcome and gives its exit code. */
const report = (local: LocalTarget, outcome: SyncOutcome, o: { json: boolean; startedMs: number }, io: Io): number => {
  if (outcome.result === 'skipped') {
    // Suspended in driftless.yaml or by `driftless suspend`: nothing applied, nothing pruned, and why.
    const why = outcome.message === 'suspended in driftless.yaml' ? 'suspend: true in driftless.yaml' : outcome.message;
    io.stderr(outcome.reason === 'suspended' ? `${local.id} is suspended (${why}): nothing applied, nothing pruned\n` : `${local.id}: ${why ?? 'skipped'}: nothing applied\n`);
    if (o.json) io.stdout(toJson({ target: local.id, entries: [] }));
    return 0;
  }
  const refused = outcome.applied?.refused;
  if (refused?.length) {
    // Objects of another identity are never relabelled: one line, exit 2.
    throw new ReconcilerError(`${refused[0]}${refused.length > 1 ? ` (and ${refused.length - 1} more)` : ''}; nothing was applied`);
  }
  if (outcome.result === 'failed' && !outcome.applied) throw new ReconcilerError(outcome.message ?? `${local.id}: sync failed`, { cause: outcome.cause });
  if (outcome.result === 'planned' && outcome.plan) {
    const plan = outcome.plan;
    if (o.json) io.stdout(toJson(plan.changeSet));
    else if (local.target.type === 'cloudformation') printStackPlan(io, plan.changeSet);
    else {
      io.stdout(formatEntries(io, plan.changeSet.entries));
      io.stdout(`dry run: ${formatCounts(plan.changeSet.entries)} · total ${duration(performance.now() - o.startedMs)}\n`);
      if (plan.stop) io.stdout(`${paint(io, 'red', plan.stop)}\n`);
    }
    return plan.failed || plan.stop ? 1 : 0;
  }
  const applied = outcome.applied;
  if (!applied) throw new ReconcilerError(`${local.id}: the sync ended without a result`);
  if (o.json) io.stdout(toJson(applied.changeSet));
  else if (local.target.type === 'cloudformation') printStackApply(io, applied);
  else {
    io.stdout(formatEntries(io, applied.changeSet.entries));
    const t = applied.timings ?? {};
    const times = `plan ${duration(t.planMs ?? 0)}, apply ${duration(t.applyMs ?? 0)}, prune ${duration(t.pruneMs ?? 0)}${t.waitMs ? `, wait ${duration(t.waitMs)}` : ''}; total ${duration(performance.now() - o.startedMs)}`;
    io.stdout(`${formatCounts(applied.changeSet.entries)} · ${times}\n`);
    for (const h of applied.unhealthy ?? []) io.stdout(`  ${paint(io, 'yellow', h.status)}  ${h.ref}  ${h.message ?? ''}\n`);
    if (applied.error) io.stdout(`${paint(io, 'red', `sync failed: ${applied.error}`)}\n`);
  }
  return applied.result === 'failed' ? 1 : 0;
};
