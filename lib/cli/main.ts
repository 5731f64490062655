import { ReconcilerError } from '../core/errors.js';
import { didYouMean, parseCommand, UsageError, wantsHelp, type CommandSpec } from './args.js';
import { COMPLETE_HOOK_COMMAND, COMPLETION_COMMAND, completeValues, completionCommand } from './commands/completion.js';
import { DIFF_COMMAND, diffCommand } from './commands/diff.js';
import { DRIFT_COMMAND, driftCommand } from './commands/drift.js';
import { HELP_COMMAND, helpCommand } from './commands/help.js';
import { HISTORY_COMMAND, historyCommand } from './commands/history.js';
import { RESUME_COMMAND, SUSPEND_COMMAND, suspendCommand, TRIGGER_COMMAND, triggerCommand } from './commands/operator.js';
import { PREVIEW_COMMAND, previewCommand } from './commands/preview.js';
import { RENDER_COMMAND, renderCommand } from './commands/render.js';
import { SERVE_COMMAND, serveCommand } from './commands/serve.js';
import { STATUS_COMMAND, statusCommand } from './commands/status.js';
import { SYNC_COMMAND, syncCommand } from './commands/sync.js';
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

/** Every command, in the order `driftless --help` lists them. */
export const COMMANDS: readonly Command[] = [
  { spec: SERVE_COMMAND, run: (args, io) => serveCommand(args, io) },
  { spec: RENDER_COMMAND, run: renderCommand },
  { spec: DIFF_COMMAND, run: diffCommand },
  { spec: PREVIEW_COMMAND, run: previewCommand },
  { spec: SYNC_COMMAND, run: syncCommand },
  { spec: DRIFT_COMMAND, run: driftCommand },
  { spec: HISTORY_COMMAND, run: historyCommand },
  { spec: STATUS_COMMAND, run: statusCommand },
  { spec: SUSPEND_COMMAND, run: suspendCommand(true) },
  { spec: RESUME_COMMAND, run: suspendCommand(false) },
  { spec: TRIGGER_COMMAND, run: triggerCommand },
  { spec: HELP_COMMAND, run: helpCommand(() => COMMANDS.map((c) => c.spec)) },
  { spec: COMPLETION_COMMAND, run: completionCommand(() => COMMANDS.map((c) => c.spec)) },
  { spec: COMPLETE_HOOK_COMMAND, run: completeValues },
];

/** The commands a person is shown (help, completion, suggestions). */
const SPECS = COMMANDS.map((c) => c.spec).filter((s) => !s.hidden);

/** One line naming what does not fit, then the command's usage (no stack trace). */
const usageError = (spec: CommandSpec, err: UsageError): string =>
  `driftless ${spec.name}: ${err.message}\n${usageOf(spec)}\nRun "driftless ${spec.name} --help" for the flags.\n`;

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
