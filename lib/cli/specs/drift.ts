import { defineCommand, CHECKOUT_FLAGS, CLUSTER_ENV, CLUSTER_FLAGS, JSON_FLAG, LEDGER_ENV } from '../args.js';

/** `driftless drift`, declared once: its flags are parsed, explained by --help and completed from here. */
export const DRIFT_COMMAND = defineCommand({
  name: 'drift',
  summary: 'desired (the render of the checkout) against live, for one target or every target',
  details: ['With DRIFTLESS_TABLE set, objects recorded in the ledger but gone from the render count too.'],
  flags: {
    repo: CHECKOUT_FLAGS.repo,
    target: { type: 'string', value: 'NAME', complete: 'target', description: 'the target of driftless.yaml (default: every target, Kubernetes and stack)' },
    ...CLUSTER_FLAGS,
    ...JSON_FLAG,
  },
  env: [...CLUSTER_ENV, ...LEDGER_ENV],
  exitCodes: [
    [0, 'no drift'],
    [1, 'drift'],
    [2, 'error: a bad command line, or an object that could not be checked'],
  ],
});
