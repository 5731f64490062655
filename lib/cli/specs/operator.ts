import { ENV } from '../../core/env-names.js';
import { defineCommand, LEDGER_ENV, USAGE_EXIT } from '../args.js';

const LEDGER_TARGET_FLAGS = {
  repo: { type: 'string', value: 'OWNER/NAME', required: true, description: 'the repository, as the ledger names it' },
  target: { type: 'string', value: 'NAME', required: true, description: 'the target of that repository' },
} as const;

/** `driftless suspend`, declared once: its flags are parsed, explained by --help and completed from here. */
export const SUSPEND_COMMAND = defineCommand({
  name: 'suspend',
  summary: 'stop syncing a target without a commit: no apply, no prune, no self-heal (recorded in the ledger)',
  details: ['Drift is still reported. "driftless resume" undoes it.'],
  flags: LEDGER_TARGET_FLAGS,
  env: LEDGER_ENV,
  exitCodes: [
    [0, 'the target is suspended'],
    [2, 'error: a bad command line, or the target is not in the ledger'],
  ],
});

/** `driftless resume`, declared once: its flags are parsed, explained by --help and completed from here. */
export const RESUME_COMMAND = defineCommand({
  name: 'resume',
  summary: 'restart syncing a suspended target (recorded in the ledger)',
  flags: LEDGER_TARGET_FLAGS,
  env: LEDGER_ENV,
  exitCodes: [
    [0, 'the target is resumed'],
    [2, 'error: a bad command line, or the target is not in the ledger'],
  ],
});

/** `driftless trigger`, declared once: its flags are parsed, explained by --help and completed from here. */
export const TRIGGER_COMMAND = defineCommand({
  name: 'trigger',
  summary: "sync now through the reconcile function: the deployed one, or a local driftless serve's",
  flags: {
    repo: { type: 'string', value: 'OWNER/NAME', required: true, description: 'the repository, as the ledger names it' },
    target: { type: 'string', value: 'NAME', description: 'only this target (default: every target of the repository in the ledger)' },
  },
  env: [
    [ENV.reconcileFunction, 'the reconcile function (default: the one of a driftless serve in this directory)'],
    [ENV.lambdaEndpoint, 'Lambda endpoint, e.g. a local Invoke endpoint'],
    ...LEDGER_ENV,
  ],
  exitCodes: [[0, 'every sync was handed to the function'], USAGE_EXIT],
});
