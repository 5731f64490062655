import { parseArgs } from 'node:util';
import { ENV } from '../core/env-names.js';
import { ReconcilerError } from '../core/errors.js';

/**
 * One flag of a command: parsing, `--help` and the completion scripts are all derived from it.
 * A `value` of `DIR` or `FILE` completes directories or files.
 */
export interface FlagSpec {
  readonly type: 'string' | 'boolean';
  readonly description: string;
  /** The value's placeholder in usage and help (`DIR`, `FILE`, `NAME`, …); string flags only. */
  readonly value?: string;
  readonly default?: string | boolean;
  /** The flag may be given more than once; its value is the list. */
  readonly multiple?: boolean;
  /** The command cannot run without it. */
  readonly required?: boolean;
  /** The only values the flag takes. */
  readonly choices?: readonly string[];
  /** `target`: the value completes to the target names of the checkout given with `--repo`. */
  readonly complete?: 'target';
}

/** A positional argument of a command. A `name` of `DIR` or `FILE` completes directories or files. */
export interface PositionalSpec {
  readonly name: string;
  readonly description: string;
  readonly required?: boolean;
  /** The only values it takes (also what completion offers). */
  readonly choices?: readonly string[];
}

/** A command's flags by name (without the leading `--`). */
export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

/** What a command is, declared once: its name, flags, positionals, environment and exit codes. */
export interface CommandSpec<F extends FlagSpecs = FlagSpecs> {
  readonly name: string;
  /** One line, lowercase, no trailing period: what the command does. */
  readonly summary: string;
  /** Further lines printed under the usage in `--help`. */
  readonly details?: readonly string[];
  /** Other forms of the command line, when one derived from the flags does not say it (e.g. `render`). */
  readonly synopsis?: readonly string[];
  readonly positionals?: readonly PositionalSpec[];
  readonly flags: F;
  /** Environment variables the command reads, with what each means. */
  readonly env?: readonly (readonly [name: string, description: string])[];
  readonly exitCodes: readonly (readonly [code: number, meaning: string])[];
  /** Left out of `driftless --help` and the completion scripts (the scripts' own call back into the CLI). */
  readonly hidden?: boolean;
}

/** Declares a command, keeping the literal flag types so that its parsed values are typed. */
export const defineCommand = <const F extends FlagSpecs>(spec: CommandSpec<F>): CommandSpec<F> => spec;

type FlagValue<F extends FlagSpec> = F['type'] extends 'boolean' ? boolean : F extends { readonly multiple: true } ? string[] : string;
type Always<F extends FlagSpec> = F extends { readonly required: true } ? true : F extends { readonly default: string | boolean } ? true : false;

/** The parsed values of a command's flags: required flags and flags with a default are always present. */
export type FlagValues<F extends FlagSpecs> = {
  -readonly [K in keyof F as Always<F[K]> extends true ? K : never]: FlagValue<F[K]>;
} & {
  -readonly [K in keyof F as Always<F[K]> extends true ? never : K]?: FlagValue<F[K]>;
};

/** A command line that does not fit the command's declaration; main answers it with the usage and exit 2. */
export class UsageError extends ReconcilerError {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Edit distance (insertions, deletions, substitutions, adjacent swaps) between two words. */
const distance = (a: string, b: string): number => {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!;
      row[j] = Math.min(d[i - 1]![j]! + 1, row[j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
};

/** ` (did you mean X?)` for the candidate closest to a mistyped word, or '' when none is close. */
export const didYouMean = (word: string, candidates: readonly string[]): string => {
  const best = candidates.map((c) => [c, distance(word, c)] as const).sort((x, y) => x[1] - y[1])[0];
  return best && best[1] <= Math.min(2, Math.floor(word.length / 3)) ? ` (did you mean ${best[0]}?)` : '';
};

/** `--help` and `-h`, which every command takes. */
export const HELP_FLAG: FlagSpec = { type: 'boolean', description: 'print this help and exit' };

const optionsOf = (flags: FlagSpecs) =>
  ({
    ...Object.fromEntries(
      Object.entries(flags).map(([name, f]) => [
        name,
        {
          type: f.type,
          ...(f.multiple ? { multiple: true } : {}),
          ...(f.default !== undefined ? { default: f.default } : {}),
        },
      ]),
    ),
    help: { type: 'boolean', short: 'h' },
  }) as Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string; default?: string | boolean }>;

/** How a flag is written in usage and help: `--repo DIR`, `--json`. */
export const flagLabel = (name: string, flag: FlagSpec): string => (flag.type === 'string' ? `--${name} ${flag.value ?? 'VALUE'}` : `--${name}`);

/** The tokens of a command line, read loosely (unknown flags kept) so that each problem can be named. */
const tokensOf = (spec: CommandSpec, args: readonly string[]) =>
  parseArgs({ args: [...args], options: optionsOf(spec.flags), strict: false, allowPositionals: true, tokens: true }).tokens;

/** Whether the command line asks for help (`--help` or `-h` given as a flag, not as another flag's value). */
export const wantsHelp = (spec: CommandSpec, args: readonly string[]): boolean => tokensOf(spec, args).some((t) => t.kind === 'option' && t.name === 'help');

/**
 * Parses a command line against the command's declaration. Unknown flags, missing or stray values, missing
 * required flags and unexpected arguments are a UsageError naming the flag or argument.
 */
export const parseCommand = <F extends FlagSpecs>(spec: CommandSpec<F>, args: readonly string[]): { values: FlagValues<F>; positionals: string[] } => {
  const flags: FlagSpecs = spec.flags;
  for (const t of tokensOf(spec, args)) {
    if (t.kind !== 'option' || t.name === 'help') continue;
    const flag = flags[t.name];
    if (!flag)
      throw new UsageError(
        `unknown flag ${t.rawName}${didYouMean(
          t.rawName,
          Object.keys(flags).map((f) => `--${f}`),
        )}`,
      );
    if (flag.type === 'boolean' && t.inlineValue) throw new UsageError(`${t.rawName} takes no value`);
    if (flag.type === 'string' && t.value === undefined) throw new UsageError(`${t.rawName} needs a value (${flag.value ?? 'VALUE'})`);
    // `--repo --json` is a forgotten value, not a directory called --json (write --repo=--json for that).
    if (flag.type === 'string' && !t.inlineValue && t.value?.startsWith('-') && t.value !== '-') {
      throw new UsageError(`${t.rawName} needs a value (${flag.value ?? 'VALUE'}), not the flag ${t.value}`);
    }
    if (flag.choices && t.value !== undefined && !flag.choices.includes(t.value)) {
      throw new UsageError(`${t.rawName} ${t.value}: expected one of ${flag.choices.join(', ')}`);
    }
  }
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: optionsOf(flags), strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0] ?? String(err));
  }
  const declared = spec.positionals ?? [];
  const extra = parsed.positionals[declared.length];
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  declared.forEach((p, i) => {
    const given = parsed.positionals[i];
    if (given === undefined && p.required) throw new UsageError(`${p.name} is required`);
    if (given !== undefined && p.choices && !p.choices.includes(given)) throw new UsageError(`${p.name} "${given}": expected one of ${p.choices.join(', ')}`);
  });
  const values: Record<string, unknown> = { ...parsed.values };
  delete values.help;
  for (const [name, flag] of Object.entries(flags)) {
    if (flag.required && (values[name] === undefined || values[name] === '')) throw new UsageError(`${flagLabel(name, flag)} is required`);
  }
  return { values: values as FlagValues<F>, positionals: parsed.positionals };
};

/** The exit code of a command line that does not fit (shared by every command). */
export const USAGE_EXIT: readonly [number, string] = [2, 'error: a bad command line, or a failure before anything ran'];

/** `--repo DIR --target NAME`: the target of a local checkout. */
export const CHECKOUT_FLAGS = {
  repo: { type: 'string', value: 'DIR', required: true, description: 'the checkout: a directory with a driftless.yaml' },
  target: { type: 'string', value: 'NAME', required: true, complete: 'target', description: 'the target of driftless.yaml' },
} as const;

/** The flags every command that reaches a cluster takes (diff, sync, drift). */
export const CLUSTER_FLAGS = {
  kubeconfig: { type: 'string', value: 'FILE', description: 'kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)' },
  context: { type: 'string', value: 'CTX', description: "kubeconfig context (default: the registry's entry, else one named after the cluster)" },
  registry: { type: 'string', value: 'FILE', description: `registry file whose grants are enforced (default: $${ENV.registry})` },
  repository: { type: 'string', value: 'OWNER/NAME', description: 'identity of the checkout (default: its origin remote, else local/DIR)' },
} as const;

/** `--json`: the stable machine output. */
export const JSON_FLAG = {
  json: { type: 'boolean', default: false, description: 'print JSON (stable) instead of text' },
} as const;

/** The environment the cluster commands read. */
export const CLUSTER_ENV: readonly (readonly [string, string])[] = [
  [ENV.registry, 'registry file, when --registry is not given'],
  ['KUBECONFIG', 'kubeconfig file(s), when --kubeconfig is not given'],
];

/** The environment the ledger commands read. */
export const LEDGER_ENV: readonly (readonly [string, string])[] = [
  [ENV.table, 'the ledger table (default: the one a driftless serve in this directory runs)'],
  [ENV.dynamoDbEndpoint, `DynamoDB endpoint, e.g. DynamoDB Local (or ${ENV.dynamoDbEndpointAlias})`],
];
