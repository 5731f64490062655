import { defineCommand, didYouMean, parseCommand, UsageError, USAGE_EXIT, type CommandSpec } from '../args.js';
import { commandHelp, rootHelp } from '../help.js';
import type { Io } from '../output.js';

/** `driftless help`, declared once: its flags are parsed, explained by --help and completed from here. */
export const HELP_COMMAND = defineCommand({
  name: 'help',
  summary: 'print the help of driftless, or of one command',
  positionals: [{ name: 'COMMAND', description: 'the command to explain (default: all of them, briefly)' }],
  flags: {},
  exitCodes: [[0, 'the help was printed'], USAGE_EXIT],
});

/** `driftless help [COMMAND]`: the same text as `driftless [COMMAND] --help`. */
export const helpCommand = (commands: () => readonly CommandSpec[]) => async (args: readonly string[], io: Io): Promise<number> => {
  const { positionals } = parseCommand(HELP_COMMAND, args);
  const name = positionals[0];
  if (name === undefined) {
    io.stdout(rootHelp(commands(), io));
    return 0;
  }
  const spec = commands().find((c) => c.name === name);
  const names = commands().filter((c) => !c.hidden).map((c) => c.name);
  if (!spec) throw new UsageError(`unknown command "${name}"${didYouMean(name, names) || ` (commands: ${names.join(', ')})`}`);
  io.stdout(commandHelp(spec, io));
  return 0;
};
