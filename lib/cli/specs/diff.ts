import { defineCommand, CHECKOUT_FLAGS, CLUSTER_ENV, CLUSTER_FLAGS, JSON_FLAG, LEDGER_ENV } from '../args.js';

/** `driftless diff`, declared once: its flags are parsed, explained by --help and completed from here. */
export const DIFF_COMMAND = defineCommand({
  name: 'diff',
  summary: 'the server-side dry-run diff of a target: a unified diff per object, prunes included',
  details: ['A stack target prints its change set (created, described and deleted again) as a table.'],
  flags: { ...CHECKOUT_FLAGS, ...CLUSTER_FLAGS, ...JSON_FLAG },
  env: [...CLUSTER_ENV, ...LEDGER_ENV],
  exitCodes: [
    [0, 'no changes'],
    [1, 'changes'],
    [2, 'error: a bad command line, an object the dry run refused, or no cluster'],
  ],
});
