import { defineCommand, parseCommand, USAGE_EXIT, type CommandSpec } from '../args.js';
import { completionScript, SHELLS, type Shell } from '../completion.js';
import type { Io } from '../output.js';

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
