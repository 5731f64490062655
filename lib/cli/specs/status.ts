import { defineCommand, JSON_FLAG, LEDGER_ENV, USAGE_EXIT } from '../args.js';

/** `driftless status`, declared once: its flags are parsed, explained by --help and completed from here. */
export const STATUS_COMMAND = defineCommand({
  name: 'status',
  summary: 'one line per target from the ledger: last commit, result, when, suspended, drift',
  flags: {
    repo: { type: 'string', value: 'OWNER/NAME', description: 'only the targets of this repository' },
    ...JSON_FLAG,
  },
  env: LEDGER_ENV,
  exitCodes: [[0, 'the status was printed'], USAGE_EXIT],
});
