import { defineCommand, USAGE_EXIT } from '../args.js';
import { SHELLS } from '../completion.js';

/** `driftless completion`, declared once: its flags are parsed, explained by --help and completed from here. */
export const COMPLETION_COMMAND = defineCommand({
  name: 'completion',
  summary: 'print a shell completion script for driftless (bash or zsh)',
  positionals: [{ name: 'SHELL', description: 'the shell to complete in', required: true, choices: SHELLS }],
  details: [
    'bash:  source <(driftless completion bash)     (or save it in ~/.local/share/bash-completion/completions/driftless)',
    'zsh:   source <(driftless completion zsh)      (or save it as _driftless in a directory of $fpath)',
  ],
  flags: {},
  exitCodes: [[0, 'the script was printed'], USAGE_EXIT],
});

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
  exitCodes: [
    [0, 'the values were printed'],
    [2, 'error: a bad command line, or a checkout that cannot be read (nothing printed)'],
  ],
});
