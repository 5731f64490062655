import { flagLabel, HELP_FLAG, type CommandSpec, type FlagSpec } from './args.js';
import { paint, type Io } from './output.js';

const WIDTH = 100;

/** Colour only on a terminal, and never with NO_COLOR set (https://no-color.org). */
const coloured = (io: Io): Io => ({ ...io, isTTY: io.isTTY && !io.env.NO_COLOR });

const bracketed = (name: string, flag: FlagSpec): string => {
  const label = `${flagLabel(name, flag)}${flag.multiple ? '…' : ''}`;
  return flag.required ? label : `[${label}]`;
};

/** The command line a command takes, derived from its declaration, wrapped under its first word. */
export const synopsisOf = (spec: CommandSpec): string[] => {
  if (spec.synopsis) return spec.synopsis.map((s) => `driftless ${s}`);
  const head = `driftless ${spec.name}`;
  const words = [
    ...(spec.positionals ?? []).map((p) => (p.required ? p.name : `[${p.name}]`)),
    ...Object.entries(spec.flags)
      .filter(([, f]) => f.required)
      .map(([n, f]) => bracketed(n, f)),
    ...Object.entries(spec.flags)
      .filter(([, f]) => !f.required)
      .map(([n, f]) => bracketed(n, f)),
  ];
  const lines: string[] = [];
  let line = head;
  for (const w of words) {
    if (line.length + 1 + w.length > WIDTH - 'usage: '.length && line.trim() !== '') {
      lines.push(line);
      line = ' '.repeat(head.length);
    }
    line += ` ${w}`;
  }
  lines.push(line);
  return lines;
};

/** `usage: driftless …` lines, as printed under a usage error. */
export const usageOf = (spec: CommandSpec): string =>
  synopsisOf(spec)
    .map((l, i) => `${i === 0 ? 'usage: ' : '       '}${l}`)
    .join('\n');

/** Two aligned columns, the left one painted. */
const columns = (io: Io, rows: readonly (readonly [string, string])[], color = ''): string => {
  const width = Math.max(0, ...rows.map(([l]) => l.length));
  return rows.map(([l, r]) => `  ${paint(io, color, l.padEnd(width))}  ${r}`.trimEnd()).join('\n');
};

const flagDescription = (f: FlagSpec): string => {
  const notes = [
    f.required ? 'required' : '',
    f.type === 'string' && f.default !== undefined ? `default: ${String(f.default)}` : '',
    f.choices ? `one of ${f.choices.join(', ')}` : '',
    f.multiple ? 'repeatable' : '',
  ].filter(Boolean);
  return notes.length ? `${f.description} (${notes.join('; ')})` : f.description;
};

/** A command's `--help`: summary, usage, arguments, flags, environment and exit codes, aligned. */
export const commandHelp = (spec: CommandSpec, given: Io): string => {
  const io = coloured(given);
  const heading = (s: string) => paint(io, 'bold', s);
  const parts = [
    `driftless ${spec.name}: ${spec.summary}`,
    `${heading('usage:')}\n${synopsisOf(spec)
      .map((l) => `  ${l}`)
      .join('\n')}`,
  ];
  if (spec.details?.length) parts.push(spec.details.join('\n'));
  if (spec.positionals?.length) {
    parts.push(
      `${heading('arguments:')}\n${columns(
        io,
        spec.positionals.map((p) => [p.name, `${p.description}${p.choices ? ` (one of ${p.choices.join(', ')})` : ''}`] as const),
        'cyan',
      )}`,
    );
  }
  const flags = [...Object.entries(spec.flags).map(([n, f]) => [flagLabel(n, f), flagDescription(f)] as const), ['-h, --help', HELP_FLAG.description] as const];
  parts.push(`${heading('flags:')}\n${columns(io, flags, 'cyan')}`);
  if (spec.env?.length) parts.push(`${heading('environment:')}\n${columns(io, spec.env)}`);
  parts.push(
    `${heading('exit codes:')}\n${columns(
      io,
      spec.exitCodes.map(([c, m]) => [String(c), m] as const),
    )}`,
  );
  return `${parts.join('\n\n')}\n`;
};

/** `driftless --help`: every command with its summary, and the top-level flags. */
export const rootHelp = (all: readonly CommandSpec[], given: Io): string => {
  const io = coloured(given);
  const commands = all.filter((c) => !c.hidden);
  const heading = (s: string) => paint(io, 'bold', s);
  return `${[
    'driftless: a GitOps reconciler for Kubernetes manifests, Kustomize overlays, Helm charts and CloudFormation stacks',
    `${heading('usage:')}\n  driftless COMMAND [flags]\n  driftless help [COMMAND]`,
    `${heading('commands:')}\n${columns(
      io,
      commands.map((c) => [c.name, c.summary] as const),
      'cyan',
    )}`,
    `${heading('flags:')}\n${columns(
      io,
      [
        ['-h, --help', 'print this help and exit'],
        ['--version', 'print the version of driftless and exit'],
      ],
      'cyan',
    )}`,
    `${heading('exit codes:')}\n${columns(io, [
      ['0', 'ok, no changes, no drift'],
      ['1', 'changes, drift, or a failed sync'],
      ['2', 'error: a bad command line, or a failure before anything ran'],
    ])}`,
    'Run "driftless help COMMAND" or "driftless COMMAND --help" for the flags of a command.',
  ].join('\n\n')}\n`;
};

/** The usage a bad root command line gets on stderr. */
export const rootUsage = (commands: readonly CommandSpec[]): string =>
  `usage: driftless COMMAND [flags]\ncommands: ${commands
    .filter((c) => !c.hidden)
    .map((c) => c.name)
    .join(', ')}\nRun "driftless --help" for more.`;
