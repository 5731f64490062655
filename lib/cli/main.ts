import { ReconcilerError } from '../core/errors.js';
import { didYouMean, parseCommand, UsageError, wantsHelp, type CommandSpec } from './args.js';
import { COMPLETE_HOOK_COMMAND, COMPLETION_COMMAND } from './specs/completion.js';
import { DIFF_COMMAND } from './specs/diff.js';
import { DRIFT_COMMAND } from './specs/drift.js';
import { HELP_COMMAND } from './specs/help.js';
import { HISTORY_COMMAND } from './specs/history.js';
import { RESUME_COMMAND, SUSPEND_COMMAND, TRIGGER_COMMAND } from './specs/operator.js';
import { PREVIEW_COMMAND } from './specs/preview.js';
import { RENDER_COMMAND } from './specs/render.js';
import { SERVE_COMMAND } from './specs/serve.js';
import { STATUS_COMMAND } from './specs/status.js';
import { SYNC_COMMAND } from './specs/sync.js';
import { commandHelp, rootUsage, usageOf } from './help.js';
import { processIo, type Io } from './output.js';
import { checkoutDir, checkoutRedactor, redactingIo } from './redacting-io.js';
import { packageVersion } from './version.js';

/** Exit codes shared by every command (DESIGN.md): 0 ok / no changes, 1 changes / drift / failed sync, 2 error. */
export const EXIT = { ok: 0, changes: 1, error: 2 } as const;

/** A command: its declaration (flags, help, completion) and what runs it. */
export interface Command {
  readonly spec: CommandSpec;
  readonly run: (args: readonly string[], io: Io) => Promise<number>;
}

type Run = Command['run'];

/**
 * A command's implementation, imported when the command runs: `driftless render` never loads the Kubernetes
 * client or the AWS SDKs that other commands need (issue #16, start-up cost).
 */
const lazy =
  (load: () => Promise<Run>): Run =>
  async (args, io) =>
    (await load())(args, io);

/** Every command, in the order `driftless --help` lists them. Only the declarations are imported up front. */
export const COMMANDS: readonly Command[] = [
  { spec: SERVE_COMMAND, run: lazy(async () => (await import('./commands/serve.js')).serveCommand) },
  { spec: RENDER_COMMAND, run: lazy(async () => (await import('./commands/render.js')).renderCommand) },
  { spec: DIFF_COMMAND, run: lazy(async () => (await import('./commands/diff.js')).diffCommand) },
  { spec: PREVIEW_COMMAND, run: lazy(async () => (await import('./commands/preview.js')).previewCommand) },
  { spec: SYNC_COMMAND, run: lazy(async () => (await import('./commands/sync.js')).syncCommand) },
  { spec: DRIFT_COMMAND, run: lazy(async () => (await import('./commands/drift.js')).driftCommand) },
  { spec: HISTORY_COMMAND, run: lazy(async () => (await import('./commands/history.js')).historyCommand) },
  { spec: STATUS_COMMAND, run: lazy(async () => (await import('./commands/status.js')).statusCommand) },
  { spec: SUSPEND_COMMAND, run: lazy(async () => (await import('./commands/operator.js')).suspendCommand(true)) },
  { spec: RESUME_COMMAND, run: lazy(async () => (await import('./commands/operator.js')).suspendCommand(false)) },
  { spec: TRIGGER_COMMAND, run: lazy(async () => (await import('./commands/operator.js')).triggerCommand) },
  { spec: HELP_COMMAND, run: lazy(async () => (await import('./commands/help.js')).helpCommand(() => COMMANDS.map((c) => c.spec))) },
  { spec: COMPLETION_COMMAND, run: lazy(async () => (await import('./commands/completion.js')).completionCommand(() => COMMANDS.map((c) => c.spec))) },
  { spec: COMPLETE_HOOK_COMMAND, run: lazy(async () => (await import('./commands/completion.js')).completeValues) },
];

/** The commands a person is shown (help, completion, suggestions). */
const SPECS = COMMANDS.map((c) => c.spec).filter((s) => !s.hidden);

/** One line naming what does not fit, then the command's usage (no stack trace). */
const usageError = (spec: CommandSpec, err: UsageError): string => `driftless ${spec.name}: ${err.message}\n${usageOf(spec)}\nRun "driftless ${spec.name} --help" for the flags.\n`;

/** Runs the `driftless` command line and returns its exit code. */
export const main = async (argv: readonly string[], io: Partial<Io> = {}): Promise<number> => {
  const full: Io = { ...processIo(), ...io };
  const [name, ...rest] = argv;
  if (name === undefined) {
    full.stderr(`driftless: no command given\n${rootUsage(SPECS)}\n`);
    return EXIT.error;
  }
  // `driftless --help sync` means `driftless help sync`.
  if (name === '--help' || name === '-h') return main(['help', ...rest], io);
  if (name === '--version') {
    full.stdout(`${packageVersion()}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.spec.name === name);
  if (!command) {
    const candidates = name.startsWith('-') ? ['--help', '--version'] : SPECS.map((c) => c.name);
    full.stderr(`driftless: unknown ${name.startsWith('-') ? 'flag' : 'command'} "${name}"${didYouMean(name, candidates)}\n${rootUsage(SPECS)}\n`);
    return EXIT.error;
  }
  const { spec } = command;
  if (wantsHelp(spec, rest)) {
    full.stdout(commandHelp(spec, full));
    return EXIT.ok;
  }
  // A command line that does not fit gets one line and the usage, before anything is read or run.
  let parsed;
  try {
    parsed = parseCommand(spec, rest);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    full.stderr(usageError(spec, err));
    return EXIT.error;
  }
  // Secret values of the checkout never reach the terminal (README.md, "Redaction").
  const checkout = (parsed.values as { repo?: string }).repo ?? (name === 'render' ? parsed.positionals[0] : undefined);
  const redacted = redactingIo(full, name, await checkoutRedactor(checkoutDir(checkout, full.cwd)));
  try {
    return await command.run(rest, redacted);
  } catch (err) {
    if (err instanceof UsageError) {
      redacted.stderr(usageError(spec, err));
      return EXIT.error;
    }
    const known = err instanceof ReconcilerError;
    redacted.stderr(`driftless ${name}: ${known ? err.message : ((err as Error)?.stack ?? String(err))}\n`);
    return EXIT.error;
  }
};
