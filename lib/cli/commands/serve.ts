import { parseDuration } from '../../config/duration.js';
import { serve } from '../../local/serve.js';
import { parseCommand, UsageError } from '../args.js';
import { paint, type Io } from '../output.js';
import { SERVE_COMMAND } from '../specs/serve.js';

/**
 * `driftless serve`: the main job on this machine — webhook, reconcile and the local sweeper, with DynamoDB
 * Local started for you (its ledger kept in `.driftless/ledger`, or in memory with `--in-memory`). Without a
 * registry or clones it runs the demo: the example repository and a sandbox cluster. One serve per directory;
 * SIGINT, SIGTERM or SIGHUP stop it (running syncs are cancelled and recorded); a second SIGINT exits at once.
 */
export const serveCommand = async (args: readonly string[], io: Io, until: Promise<unknown> = signalled()): Promise<number> => {
  const { values } = parseCommand(SERVE_COMMAND, args);
  const clones: Record<string, string> = {};
  for (const c of values.clone ?? []) {
    const m = c.match(/^([^/=\s]+\/[^/=\s]+)=(.+)$/);
    if (!m) throw new UsageError(`--clone ${c}: expected OWNER/NAME=DIR`);
    clones[m[1] as string] = m[2] as string;
  }
  const port = Number(values.port);
  const pollMs = parseDuration(values.poll ?? '10s');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port ${values.port}: expected a port number`);
  if (pollMs === undefined) throw new UsageError(`--poll ${values.poll}: expected a duration such as 10s`);
  const driftMs = parseDuration(values['drift-interval'] ?? '5m');
  if (driftMs === undefined) throw new UsageError(`--drift-interval ${values['drift-interval']}: expected a duration such as 5m`);
  const stamp = () => paint(io, 'dim', new Date().toISOString().slice(11, 19));
  const serving = await serve({
    port,
    ...(values.registry ? { registryFile: values.registry } : {}),
    clones,
    pollMs,
    driftMs,
    ...(values['in-memory'] ? { inMemory: true } : {}),
    cwd: io.cwd,
    env: io.env,
    print: (line) => io.stdout(`${stamp()} ${line}\n`),
  });
  io.stdout(`${stamp()} ready — Ctrl-C to stop\n`);
  await until;
  io.stdout(`${stamp()} stopping…\n`);
  await serving.stop();
  return 0;
};

/** The first SIGINT, SIGTERM or SIGHUP (a closed terminal) stops serve; a second one exits at once. */
const signalled = (): Promise<void> =>
  new Promise((resolve) => {
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
    let stopping = false;
    const onSignal = (sig: NodeJS.Signals) => {
      if (stopping) process.exit(sig === 'SIGINT' ? 130 : 143);
      stopping = true;
      resolve();
    };
    for (const s of signals) process.on(s, onSignal);
  });
