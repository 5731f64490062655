import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { CONFIG_FILE } from '../../config/load-config.js';
import { defineCommand, parseCommand, USAGE_EXIT, type CommandSpec } from '../args.js';
import { completionScript, SHELLS, type Shell } from '../completion.js';
import type { Io } from '../output.js';

/** `driftless completion`, declared once: its flags are parsed, explained by --help and completed from here. */
export const COMPLETION_COMMAND = defineCommand({
  name: 'completion',
  summary: 'print a shell completion script for driftless (bash or zsh)',
  positionals: [{ name: 'SHELL', description: 'the shell to complete in', required: true, choices: SHELLS }],
  details: ['bash:  source <(driftless completion bash)     (or save it in ~/.local/share/bash-completion/completions/driftless)', 'zsh:   source <(driftless completion zsh)      (or save it as _driftless in a directory of $fpath)'],
  flags: {},
  exitCodes: [[0, 'the script was printed'], USAGE_EXIT],
});

/** `driftless completion SHELL`: the completion script for every command, from their declarations. */
export const completionCommand = (commands: () => readonly CommandSpec[]) => async (args: readonly string[], io: Io): Promise<number> => {
  const { positionals } = parseCommand(COMPLETION_COMMAND, args);
  io.stdout(completionScript(positionals[0] as Shell, commands()));
  return 0;
};

/** `driftless __complete`, declared once: its flags are parsed, explained by --help and completed from here. */
export const COMPLETE_HOOK_COMMAND = defineCommand({
  name: '__complete',
  summary: 'print the values a completion script offers that only a checkout knows',
  hidden: true,
  positionals: [
    { name: 'KIND', description: 'what to list', required: true, choices: ['targets'] },
    { name: 'DIR', description: 'the checkout: a directory with a driftless.yaml', required: true },
  ],
  flags: {},
  exitCodes: [[0, 'the values were printed'], [2, 'error: a bad command line, or a checkout that cannot be read (nothing printed)']],
});

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
