import { formatCounts } from '../../core/change-set.js';
import { refOf, type ObjectRef } from '../../core/object-ref.js';
import { ENV } from '../../core/env-names.js';
import { CHECKOUT_FLAGS, CLUSTER_ENV, CLUSTER_FLAGS, defineCommand, JSON_FLAG, LEDGER_ENV, parseCommand } from '../args.js';
import { ledgerFromEnv } from '../ledger-env.js';
import { syncWithLedger } from '../ledger-sync.js';
import { loadFromFlags, openLocalKubernetesTarget, type LocalTarget } from '../local-target.js';
import type { CloudFormationTargetConfig } from '../../config/schema.js';
import { syncStack } from './stack.js';
import { duration, formatEntries, paint, progress, type Io, toJson } from '../output.js';

/** `driftless sync`, declared once: its flags are parsed, explained by --help and completed from here. */
export const SYNC_COMMAND = defineCommand({
  name: 'sync',
  summary: 'apply, prune and wait for one target of a local checkout, and print the change set',
  details: ['With DRIFTLESS_TABLE set the sync is recorded in the ledger. A stack target executes its change set.'],
  flags: {
    ...CHECKOUT_FLAGS,
    ...CLUSTER_FLAGS,
    'dry-run': { type: 'boolean', default: false, description: 'plan and print what would change; apply and prune nothing' },
    ...JSON_FLAG,
  },
  env: [...CLUSTER_ENV, ...LEDGER_ENV],
  exitCodes: [[0, 'the sync succeeded (or the target is suspended, or a dry run)'], [1, 'the sync failed'], [2, 'error before the sync started (command line, config, cluster, ledger)']],
});

/**
 * `driftless sync`: apply, prune and wait for one target of a local checkout, and print the change set.
 * Exit 0: the sync succeeded; 1: it failed; 2: an error before it started.
 */
export const syncCommand = async (args: readonly string[], io: Io): Promise<number> => {
  const { values } = parseCommand(SYNC_COMMAND, args);
  const chosen = loadFromFlags(values, io);
  if (chosen.target.suspend) {
    io.stderr(`${chosen.id} is suspended (suspend: true in driftless.yaml): nothing applied\n`);
    if (values.json) io.stdout(toJson({ target: chosen.id, entries: [] }));
    return 0;
  }
  // Stack targets take the CloudFormation path: change sets with the caller's AWS credentials.
  if (chosen.target.type === 'cloudformation') {
    return syncStack(chosen as LocalTarget & { target: CloudFormationTargetConfig }, { json: values.json ?? false, dryRun: values['dry-run'] ?? false }, io);
  }
  const { local, rendered, client, describe, target } = await openLocalKubernetesTarget(values, io, chosen);
  try {
    const ledger = io.env[ENV.table] ? await ledgerFromEnv(io.env) : undefined;
    if (!values.json) {
      io.stderr(
        `${values['dry-run'] ? 'dry run of' : 'syncing'} ${local.id} → ${local.target.cluster} (${describe}), ${rendered.objects.length} objects` +
          `${ledger ? `, recorded in ${ledger.table}` : ''}\n`,
      );
    }
    const bar = progress(io);
    const started = performance.now();
    // The previous inventory comes from the ledger when there is one; otherwise it is what carries the target's label.
    const run = async (recorded: readonly ObjectRef[] | undefined) =>
      target.sync(rendered.objects, {
        previousInventory: recorded ?? (await target.labelledObjects()).map(refOf),
        dryRun: values['dry-run'],
        onProgress: (phase, done, total) => bar.update(`${phase} ${done}/${total}`),
      });
    let result;
    try {
      if (ledger && !values['dry-run']) {
        result = (await syncWithLedger(ledger.ledger, local, rendered, run)).result;
      } else {
        const state = ledger ? await ledger.ledger.getState(local.id) : undefined;
        result = await run(state?.lastSyncAt ? state.inventory : undefined);
      }
    } finally {
      ledger?.close();
      bar.done();
    }
    if (values.json) {
      io.stdout(toJson(result.changeSet));
    } else {
      io.stdout(formatEntries(io, result.changeSet.entries));
      const t = result.timings;
      const times = `plan ${duration(t.planMs)}, apply ${duration(t.applyMs)}, prune ${duration(t.pruneMs)}${t.waitMs ? `, wait ${duration(t.waitMs)}` : ''}; total ${duration(performance.now() - started)}`;
      io.stdout(`${formatCounts(result.changeSet.entries)} · ${times}\n`);
      for (const [ref, h] of Object.entries(result.health)) if (h.status !== 'ready') io.stdout(`  ${paint(io, 'yellow', h.status)}  ${ref}  ${h.message ?? ''}\n`);
      if (result.error) io.stdout(`${paint(io, 'red', `sync failed: ${result.error}`)}\n`);
    }
    return result.failed ? 1 : 0;
  } finally {
    client.close();
  }
};
