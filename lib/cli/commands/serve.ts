import { parseDuration } from '../../config/duration.js';
import { serve } from '../../local/serve.js';
import { defineCommand, parseCommand, UsageError } from '../args.js';
import { ENV } from '../../core/env-names.js';
import { paint, type Io } from '../output.js';

/** `driftless serve`, declared once: its flags are parsed, explained by --help and completed from here. */
export const SERVE_COMMAND = defineCommand({
  name: 'serve',
  summary: 'run the pipeline on this machine: webhook, reconcile, the sweeper and DynamoDB Local',
  details: [
    'The ledger is kept in .driftless/ledger. Without --registry or --clone it runs the demo: the example',
    'repository and a sandbox cluster. The environment may also be set in ./.env. Ctrl-C, SIGTERM or SIGHUP',
    'stop it; a second Ctrl-C exits at once.',
  ],
  flags: {
    port: { type: 'string', value: 'PORT', default: '8787', description: 'port of the webhook endpoint' },
    registry: { type: 'string', value: 'FILE', description: 'registry file: repositories, clusters, grants' },
    clone: { type: 'string', value: 'OWNER/NAME=DIR', multiple: true, description: 'read OWNER/NAME from the local clone DIR instead of GitHub' },
    poll: { type: 'string', value: 'DURATION', default: '10s', description: 'how often the clones are checked for new commits' },
    'drift-interval': { type: 'string', value: 'DURATION', default: '5m', description: 'how often every target is checked for drift' },
    'in-memory': { type: 'boolean', description: 'keep the ledger in memory, not in .driftless/ledger' },
  },
  env: [
    [ENV.registry, 'registry file, when --registry is not given'],
    [ENV.webhookSecret, 'the webhook secret GitHub signs deliveries with'],
    [ENV.githubToken, 'GitHub token, for repositories that are not cloned locally'],
    [ENV.slackWebhookUrl, 'Slack incoming webhook for drift and failure reports'],
    [ENV.dynamoDbEndpoint, 'use this DynamoDB instead of starting DynamoDB Local'],
  ],
  exitCodes: [[0, 'stopped by a signal (Ctrl-C)'], [2, 'error: a bad command line, or serve could not start']],
});

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
