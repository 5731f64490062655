import { defineCommand, JSON_FLAG, LEDGER_ENV, USAGE_EXIT } from '../args.js';

/** `driftless history`, declared once: its flags are parsed, explained by --help and completed from here. */
export const HISTORY_COMMAND = defineCommand({
  name: 'history',
  summary: 'syncs recorded in the ledger, newest first, one line each',
  flags: {
    repo: { type: 'string', value: 'OWNER/NAME', description: 'only the syncs of this repository' },
    target: { type: 'string', value: 'NAME', description: 'only the syncs of this target of --repo' },
    limit: { type: 'string', value: 'N', default: '20', description: 'how many syncs to show' },
    ...JSON_FLAG,
  },
  env: LEDGER_ENV,
  exitCodes: [[0, 'the history was printed'], USAGE_EXIT],
});
