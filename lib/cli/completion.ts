import type { CommandSpec, FlagSpec } from './args.js';

/** The shells `driftless completion` writes a script for. */
export const SHELLS = ['bash', 'zsh'] as const;
export type Shell = (typeof SHELLS)[number];

/**
 * The hidden command the scripts call for values only a checkout knows: `driftless __complete targets DIR` prints
 * the target names of DIR/driftless.yaml, one a line.
 */
export const COMPLETE_HOOK = '__complete';

/** What a value completes to: directories, files, a fixed list, the targets of --repo, or nothing (free text). */
type Completion = { kind: 'dir' } | { kind: 'file' } | { kind: 'words'; words: readonly string[] } | { kind: 'target' } | { kind: 'none' };

const completionOf = (placeholder: string | undefined, choices: readonly string[] | undefined, complete?: 'target'): Completion =>
  choices
    ? { kind: 'words', words: choices }
    : complete === 'target'
      ? { kind: 'target' }
      : placeholder === 'DIR'
        ? { kind: 'dir' }
        : placeholder === 'FILE'
          ? { kind: 'file' }
          : { kind: 'none' };

// Every name put into a script is checked, so that nothing a declaration says can break out of its quoting.
const SAFE = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;
const safe = (word: string): string => {
  if (!SAFE.test(word)) throw new Error(`completion: "${word}" is not a plain word`);
  return word;
};

const positionalCompletion = (spec: CommandSpec, commands: readonly CommandSpec[]): Completion => {
  const first = spec.positionals?.[0];
  if (!first) return { kind: 'none' };
  // `help COMMAND` completes command names.
  if (first.name === 'COMMAND') return { kind: 'words', words: commands.map((c) => c.name) };
  return completionOf(first.name, first.choices);
};

const bashReply = (c: Completion): string => {
  switch (c.kind) {
    case 'dir':
      return 'compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur"))';
    case 'file':
      return 'compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur"))';
    case 'words':
      return `COMPREPLY=($(compgen -W "${c.words.map(safe).join(' ')}" -- "$cur"))`;
    case 'target':
      return `COMPREPLY=($(compgen -W "$(driftless ${COMPLETE_HOOK} targets "$(_driftless_repo)" 2>/dev/null)" -- "$cur"))`;
    case 'none':
      return 'COMPREPLY=()';
  }
};

const bashCommand = (spec: CommandSpec, commands: readonly CommandSpec[]): string => {
  const flags = Object.entries(spec.flags);
  const byValue = new Map<string, string[]>();
  for (const [name, f] of flags.filter(([, f]) => f.type === 'string')) {
    const reply = bashReply(completionOf(f.value, f.choices, f.complete));
    byValue.set(reply, [...(byValue.get(reply) ?? []), `--${safe(name)}`]);
  }
  const valueCases = [...byValue].map(([reply, names]) => `        ${names.join('|')}) ${reply}; return ;;`).join('\n');
  const words = [...flags.map(([n]) => `--${safe(n)}`), '--help'].join(' ');
  return [
    `    ${safe(spec.name)})`,
    ...(valueCases ? ['      case "$prev" in', valueCases, '      esac'] : []),
    ...(spec.positionals?.length ? [`      if [[ "$cur" != -* ]]; then ${bashReply(positionalCompletion(spec, commands))}; return; fi`] : []),
    `      COMPREPLY=($(compgen -W "${words}" -- "$cur"))`,
    '      ;;',
  ].join('\n');
};

/** The bash script: `source <(driftless completion bash)`. */
const bashScript = (commands: readonly CommandSpec[]): string => `# bash completion for driftless, written by \`driftless completion bash\` from the commands' declarations.
# Load it with:   source <(driftless completion bash)
# or install it:  driftless completion bash > ~/.local/share/bash-completion/completions/driftless
_driftless_repo() {
  local i
  for (( i = 2; i < COMP_CWORD; i++ )); do
    if [[ "\${COMP_WORDS[i]}" == --repo ]]; then
      if [[ "\${COMP_WORDS[i+1]}" == "=" ]]; then echo "\${COMP_WORDS[i+2]}"; else echo "\${COMP_WORDS[i+1]}"; fi
      return
    fi
  done
}
_driftless() {
  local cur prev cmd
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  # --flag=value: bash splits at "=", so the flag is two words back.
  if [[ "$prev" == "=" ]]; then prev="\${COMP_WORDS[COMP_CWORD-2]}"; fi
  if [[ "$cur" == "=" ]]; then cur=""; fi
  if [[ $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=($(compgen -W "${[...commands.map((c) => safe(c.name)), '--help', '--version'].join(' ')}" -- "$cur"))
    return
  fi
  cmd="\${COMP_WORDS[1]}"
  case "$cmd" in
${commands.map((c) => bashCommand(c, commands)).join('\n')}
  esac
}
complete -F _driftless driftless
`;

/** Text inside a zsh single-quoted word. */
const zshQuoted = (s: string): string => s.replace(/'/g, `'\\''`);
/** A description inside `_arguments`' brackets, or a message between its colons: brackets and colons escaped. */
const zshText = (s: string): string => zshQuoted(s.replace(/\\/g, '\\\\').replace(/\[/g, '\\[').replace(/\]/g, '\\]').replace(/:/g, '\\:'));

const zshAction = (c: Completion): string => {
  switch (c.kind) {
    case 'dir':
      return '_files -/';
    case 'file':
      return '_files';
    case 'words':
      return `(${c.words.map(safe).join(' ')})`;
    case 'target':
      return '_driftless_targets';
    case 'none':
      return ' ';
  }
};

const zshFlag = (name: string, f: FlagSpec): string => {
  const spec = `${f.multiple ? '*' : ''}--${safe(name)}${f.type === 'string' ? '=' : ''}[${zshText(f.description)}]`;
  return f.type === 'string' ? `'${spec}:${zshText(f.value ?? 'VALUE')}:${zshAction(completionOf(f.value, f.choices, f.complete))}'` : `'${spec}'`;
};

const zshCommand = (spec: CommandSpec, commands: readonly CommandSpec[]): string => {
  const args = [
    ...Object.entries(spec.flags).map(([n, f]) => zshFlag(n, f)),
    `'(- *)'{-h,--help}'[print help and exit]'`,
    ...(spec.positionals ?? []).map((p, i) => `'${i + 1}:${zshText(p.name)}:${zshAction(i === 0 ? positionalCompletion(spec, commands) : completionOf(p.name, p.choices))}'`),
  ];
  return `    ${safe(spec.name)})\n      _arguments -S \\\n        ${args.join(' \\\n        ')}\n      ;;`;
};

/** The zsh script: `source <(driftless completion zsh)`, or saved as `_driftless` in a directory of $fpath. */
const zshScript = (commands: readonly CommandSpec[]): string => `#compdef driftless
# zsh completion for driftless, written by \`driftless completion zsh\` from the commands' declarations.
# Load it with:   source <(driftless completion zsh)
# or install it:  driftless completion zsh > "\${fpath[1]}/_driftless"
_driftless_targets() {
  local i repo
  for (( i = 1; i < $#words; i++ )); do
    [[ $words[i] == --repo ]] && repo=$words[i+1]
    [[ $words[i] == --repo=* ]] && repo=\${words[i]#--repo=}
  done
  [[ -n $repo ]] || return 1
  local -a targets
  targets=(\${(f)"$(driftless ${COMPLETE_HOOK} targets \${(Q)repo} 2>/dev/null)"})
  _describe -t targets 'target' targets
}
_driftless() {
  local -a commands
  commands=(
${commands.map((c) => `    '${safe(c.name)}:${zshQuoted(c.summary)}'`).join('\n')}
  )
  if (( CURRENT == 2 )); then
    if [[ $words[CURRENT] == -* ]]; then
      _arguments '(- *)'{-h,--help}'[print help and exit]' '(- *)--version[print the version and exit]'
    else
      _describe -t commands 'driftless command' commands
    fi
    return
  fi
  local cmd=$words[2]
  shift words
  (( CURRENT-- ))
  case $cmd in
${commands.map((c) => zshCommand(c, commands)).join('\n')}
  esac
}
if [[ $funcstack[1] == _driftless ]]; then
  _driftless "$@"
else
  compdef _driftless driftless
fi
`;

/** The completion script for a shell, derived from the commands' flag declarations. */
export const completionScript = (shell: Shell, all: readonly CommandSpec[]): string => {
  const commands = all.filter((c) => !c.hidden);
  return shell === 'bash' ? bashScript(commands) : zshScript(commands);
};
