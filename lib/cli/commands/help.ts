import { didYouMean, parseCommand, UsageError, type CommandSpec } from '../args.js';
import { commandHelp, rootHelp } from '../help.js';
import type { Io } from '../output.js';
import { HELP_COMMAND } from '../specs/help.js';

/** `driftless help [COMMAND]`: the same text as `driftless [COMMAND] --help`. */
export const helpCommand =
  (commands: () => readonly CommandSpec[]) =>
  async (args: readonly string[], io: Io): Promise<number> => {
    const { positionals } = parseCommand(HELP_COMMAND, args);
    const name = positionals[0];
    if (name === undefined) {
      io.stdout(rootHelp(commands(), io));
      return 0;
    }
    const spec = commands().find((c) => c.name === name);
    const names = commands()
      .filter((c) => !c.hidden)
      .map((c) => c.name);
    if (!spec) throw new UsageError(`unknown command "${name}"${didYouMean(name, names) || ` (commands: ${names.join(', ')})`}`);
    io.stdout(commandHelp(spec, io));
    return 0;
  };
