import { ReconcilerError } from '../core/errors.js';
import { UsageError } from './args.js';
import { diffCommand } from './commands/diff.js';
import { driftCommand } from './commands/drift.js';
import { historyCommand } from './commands/history.js';
import { suspendCommand, triggerCommand } from './commands/operator.js';
import { renderCommand } from './commands/render.js';
import { serveCommand } from './commands/serve.js';
import { statusCommand } from './commands/status.js';
import { syncCommand } from './commands/sync.js';
import { processIo, type Io } from './output.js';
import { checkoutOf, checkoutRedactor, redactingIo } from './redacting-io.js';

/** Exit codes shared by every command (DESIGN.md): 0 ok / no changes, 1 changes / drift / failed sync, 2 error. */
export const EXIT = { ok: 0, changes: 1, error: 2 } as const;

const USAGE = `usage: driftless <command> [options]

commands:
  serve [--port 8787] [--registry FILE] [--clone OWNER/NAME=DIR]… [--in-memory]
                                               run the pipeline here: webhook, reconcile, DynamoDB Local
                                               (ledger in .driftless/ledger; no registry or clones: a demo)
  render DIR [--json]                          print what DIR renders to (Kustomize, plain manifests or a file)
  diff --repo DIR --target NAME [--json]       server-side dry-run diff of a target (exit 1 when it would change)
  sync --repo DIR --target NAME [--dry-run] [--json]
                                               apply, prune and wait; print the change set
  drift --repo DIR [--target NAME] [--json]    desired against live for a target, or all of them (exit 1 on drift)
  history [--repo OWNER/NAME] [--target NAME] [--limit N] [--json]
                                               syncs recorded in the ledger, newest first
  status [--repo OWNER/NAME] [--json]          one line per target: last commit, result, suspended, drift
  suspend|resume --repo OWNER/NAME --target NAME
                                               stop or restart syncing a target (recorded in the ledger)
  trigger --repo OWNER/NAME [--target NAME]    sync now through the reconcile function (deployed, or serve's)
cluster flags (diff, sync): --kubeconfig FILE --context CTX --registry FILE --repository OWNER/NAME
ledger (history, status; sync when set): DRIFTLESS_TABLE, AWS_ENDPOINT_URL_DYNAMODB (or DYNAMODB_ENDPOINT)
`;

const COMMANDS: Record<string, (args: readonly string[], io: Io) => Promise<number>> = {
  render: renderCommand,
  diff: diffCommand,
  sync: syncCommand,
  drift: driftCommand,
  history: historyCommand,
  status: statusCommand,
  suspend: suspendCommand(true),
  resume: suspendCommand(false),
  trigger: triggerCommand,
  serve: (args, io) => serveCommand(args, io),
};

/** Runs the `driftless` command line and returns its exit code. */
export const main = async (argv: readonly string[], io: Partial<Io> = {}): Promise<number> => {
  const full: Io = { ...processIo(), ...io };
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    full.stdout(USAGE);
    return command === undefined ? EXIT.error : EXIT.ok;
  }
  const run = COMMANDS[command];
  if (!run) {
    full.stderr(`driftless: unknown command "${command}"\n${USAGE}`);
    return EXIT.error;
  }
  // Secret values of the checkout never reach the terminal (README.md, "Redaction").
  const redacted = redactingIo(full, command, await checkoutRedactor(checkoutOf(command, rest, full.cwd)));
  try {
    return await run(rest, redacted);
  } catch (err) {
    const known = err instanceof ReconcilerError || err instanceof UsageError;
    redacted.stderr(`driftless ${command}: ${known ? (err as Error).message : ((err as Error)?.stack ?? String(err))}\n`);
    return EXIT.error;
  }
};
