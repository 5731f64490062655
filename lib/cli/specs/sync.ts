import { defineCommand, CHECKOUT_FLAGS, CLUSTER_ENV, CLUSTER_FLAGS, JSON_FLAG, LEDGER_ENV } from '../args.js';

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
  exitCodes: [
    [0, 'the sync succeeded (or the target is suspended, or a dry run)'],
    [1, 'the sync failed'],
    [2, 'error before the sync started (command line, config, cluster, ledger)'],
  ],
});
