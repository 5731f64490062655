import { defineCommand, USAGE_EXIT } from '../args.js';

/** `driftless help`, declared once: its flags are parsed, explained by --help and completed from here. */
export const HELP_COMMAND = defineCommand({
  name: 'help',
  summary: 'print the help of driftless, or of one command',
  positionals: [{ name: 'COMMAND', description: 'the command to explain (default: all of them, briefly)' }],
  flags: {},
  exitCodes: [[0, 'the help was printed'], USAGE_EXIT],
});
