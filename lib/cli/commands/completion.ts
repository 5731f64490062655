import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { CONFIG_FILE } from '../../config/load-config.js';
import { parseCommand, type CommandSpec } from '../args.js';
import { completionScript, type Shell } from '../completion.js';
import type { Io } from '../output.js';
import { COMPLETION_COMMAND, COMPLETE_HOOK_COMMAND } from '../specs/completion.js';

/** `driftless completion SHELL`: the completion script for every command, from their declarations. */
export const completionCommand =
  (commands: () => readonly CommandSpec[]) =>
  async (args: readonly string[], io: Io): Promise<number> => {
    const { positionals } = parseCommand(COMPLETION_COMMAND, args);
    io.stdout(completionScript(positionals[0] as Shell, commands()));
    return 0;
  };

/**
 * `driftless __complete targets DIR` (hidden, called by the completion scripts): the target names of
 * DIR/driftless.yaml, one a line. Completion must never print an error into the prompt, so a checkout it cannot
 * read completes to nothing.
 */
export const completeValues = async (args: readonly string[], io: Io): Promise<number> => {
  const [, dir = ''] = parseCommand(COMPLETE_HOOK_COMMAND, args).positionals;
  const path = join(resolve(io.cwd, dir.startsWith('~/') ? join(homedir(), dir.slice(2)) : dir), CONFIG_FILE);
  try {
    const config = parse(readFileSync(path, 'utf8')) as { targets?: { name?: unknown }[] } | null;
    const names = (config?.targets ?? []).map((t) => t?.name).filter((n): n is string => typeof n === 'string');
    io.stdout(names.map((n) => `${n}\n`).join(''));
    return 0;
  } catch {
    return 2;
  }
};
