import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { formatCountMap } from '../core/change-set.js';
import { ENV } from '../core/env-names.js';
import { ReconcilerError } from '../core/errors.js';
import { targetId } from '../core/ownership.js';
import { parseRegistry } from '../config/load-config.js';
import type { Registry } from '../config/schema.js';
import { dynamoDbClient } from '../ledger/client.js';
import { DirectoryBlobStore } from '../ledger/directory-blob-store.js';
import { DynamoDbLedger, LedgerConflictError } from '../ledger/dynamodb-ledger.js';
import type { Ledger, SyncRecord } from '../ledger/ledger.js';
import { ensureTable } from '../ledger/table.js';
import { SlackNotifier } from '../notify/slack-notifier.js';
import { lambdaHandOff } from '../../functions/common/lambda-hand-off.js';
import { compose } from '../../functions/common/compose.js';
import { createHandler as createReconcileHandler } from '../../functions/reconcile/handler.js';
import { createHandler as createWebhookHandler } from '../../functions/webhook/handler.js';
import { clusterClients } from '../targets/kubernetes/cluster-clients.js';
import { cloudFormationAccess } from '../targets/cloudformation/access.js';
import { labelledByTarget } from '../targets/kubernetes/labelled-objects.js';
import { targetOpener } from '../targets/open-target.js';
import { deadlineSignal, type ReconcileOutcome, type ReconcileRequest } from '../reconcile/reconcile-target.js';
import type { PreviewJob } from '../preview/run-preview.js';
import { withAbort } from '../core/deadline.js';
import { GitHubSource } from '../source/github-source.js';
import { LocalGitSource } from '../source/local-git-source.js';
import type { RepositorySource } from '../source/repository-source.js';
import { checkTarget } from '../drift/check-target.js';
import { runDrift, type DriftRun } from '../drift/run-drift.js';
import { sweep as sweepOnce } from '../drift/sweep.js';
import { startDynamoDbLocal, type DynamoDbLocal } from './dynamodb-local.js';
import { LocalInvokeServer } from './invoke-server.js';
import { acquireServeLock } from './serve-lock.js';
import { startDemo } from './serve-demo.js';
import { startServeHttp } from './serve-http.js';
import { servePreview } from './serve-preview.js';

/** What `driftless serve` runs with. */
export interface ServeOptions {
  /** @default 8787 */
  readonly port?: number;
  readonly registryFile?: string;
  /** OWNER/NAME → local clone directory. */
  readonly clones?: Readonly<Record<string, string>>;
  /** How often local clones are checked for new heads. @default 10000 */
  readonly pollMs?: number;
  /** How often the drift loop runs. @default 5 minutes */
  readonly driftMs?: number;
  /** Where the lock, the ledger file and demo files go (relative to `cwd`). @default .driftless */
  readonly stateDir?: string;
  /** Keep the ledger in memory (a throwaway run) instead of in `<stateDir>/ledger`. @default false */
  readonly inMemory?: boolean;
  readonly cwd: string;
  readonly env: Record<string, string | undefined>;
  /** One line per delivery and per sync. */
  readonly print: (line: string) => void;
}

/** A running `serve`. */
export interface Serving {
  readonly url: string;
  readonly webhookUrl: string;
  readonly secret: string;
  /** Checks every cloned repository for new heads now (the local sweeper). */
  sweep(): Promise<void>;
  /** Runs the drift loop once now. */
  drift(): Promise<DriftRun>;
  /** Resolves when every reconcile started so far has finished. */
  idle(): Promise<void>;
  /** Stops: cancels running syncs (recorded as failed, "interrupted by shutdown") and waits, then stops every child. */
  stop(): Promise<void>;
}

/** The reason a sync that a shutdown cut short records. */
export const INTERRUPTED = 'interrupted by shutdown';

/** The reason of a `running` record a killed serve left, closed as timed-out by the next serve. */
const KILLED = 'serve stopped (killed) before this sync recorded a result; closed by the next serve in this directory';

/** Reads KEY=VALUE lines of a `.env` file into the environment given (existing values win). */
export const loadDotEnv = (file: string, env: Record<string, string | undefined>): void => {
  if (!existsSync(file)) return;
  for (const line of readFileSync(file, 'utf8').split(/\r?\n/)) {
    const m = line.match(/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/);
    if (!m || line.trim().startsWith('#')) continue;
    const value = (m[2] ?? '').replace(/^(['"])(.*)\1$/, '$2');
    env[m[1] as string] ??= value;
  }
};

/**
 * The whole pipeline on this machine: the webhook on /webhook, the local Invoke endpoint running the reconcile
 * handler, DynamoDB Local (unless an endpoint is given), repositories from local clones (or GitHub), clusters
 * from the kubeconfig — and, with nothing configured, a demo: the example repository and a sandbox cluster.
 */
export const serve = async (o: ServeOptions): Promise<Serving> => {
  const stops: (() => Promise<void> | void)[] = [];
  const stopAll = async () => {
    for (const s of stops.reverse()) await Promise.resolve(s()).catch(() => undefined);
  };
  const stateDir = resolve(o.cwd, o.stateDir ?? '.driftless');
  // One serve per directory, decided before anything is touched (demo files, ports, the ledger file).
  const lock = acquireServeLock(stateDir);
  stops.push(() => lock.release());
  // Aborted by stop(): running syncs and health waits end now, recorded as failed.
  const shutdown = new AbortController();
  try {
    const env = o.env;
    loadDotEnv(join(o.cwd, '.env'), env);
    let registry: Registry;
    let clones: Record<string, string> = { ...(o.clones ?? {}) };
    let secret = env[ENV.webhookSecret] ?? '';
    const demo = !o.registryFile && !env[ENV.registry] && !Object.keys(clones).length;
    if (demo) {
      const d = await startDemo(stateDir, o.print);
      stops.push(() => d.stop());
      registry = d.registry;
      clones = d.clones;
      secret ||= 'driftless-demo';
    } else {
      const file = o.registryFile ?? env[ENV.registry];
      if (!file) throw new ReconcilerError('serve needs a registry file (--registry FILE or DRIFTLESS_REGISTRY)');
      registry = parseRegistry(readFileSync(resolve(o.cwd, file), 'utf8'), file);
      if (!secret) throw new ReconcilerError(`serve needs ${ENV.webhookSecret} (in the environment or .env): the webhook secret GitHub signs with`);
    }
    const secrets = [secret, env[ENV.webhookSecretPrevious] ?? ''].filter(Boolean);

    // The ledger: DynamoDB Local (on disk under the state directory, or in memory) unless an endpoint is configured.
    let endpoint = env[ENV.dynamoDbEndpoint] ?? env[ENV.dynamoDbEndpointAlias];
    const ownLedger = !endpoint;
    let dynamoDbPid: number | undefined;
    const ledgerDir = join(stateDir, 'ledger');
    if (!endpoint) {
      o.print(`starting DynamoDB Local${o.inMemory ? ' (in memory)' : ` (ledger in ${ledgerDir})`}…`);
      const db: DynamoDbLocal = await startDynamoDbLocal(o.inMemory ? {} : { dbPath: ledgerDir });
      stops.push(() => db.stop());
      endpoint = db.endpoint;
      dynamoDbPid = db.pid;
    }
    const table = env[ENV.table] || 'driftless';
    const ddb = dynamoDbClient({ ...env, [ENV.dynamoDbEndpoint]: endpoint });
    stops.push(() => ddb.destroy());
    await ensureTable(ddb, table);
    // Ledger values too large for an item go to files next to the ledger, as the artifact bucket holds them deployed.
    const blobDir = join(stateDir, 'ledger-blobs');
    const stored = new DynamoDbLedger(ddb, table, Date.now, { blobs: new DirectoryBlobStore(blobDir) });
    // This serve's own ledger has no other writer (the lock): what an earlier, killed serve left running ends now.
    if (ownLedger && !o.inMemory) await closeInterrupted(stored, o.print);
    const ledger = recordingInterruptions(stored, shutdown.signal);

    // Repositories: local clones, else GitHub with a token.
    const local = new LocalGitSource(clones, (repo, sha, s) => o.print(`status ${repo}@${sha.slice(0, 7)} ${s.context}: ${s.state} — ${s.description}`));
    const github = env[ENV.githubToken]
      ? new GitHubSource({ auth: { token: env[ENV.githubToken] as string }, ...(env[ENV.githubApiUrl] ? { baseUrl: env[ENV.githubApiUrl] } : {}) })
      : undefined;
    const pick = (repository: string): LocalGitSource | GitHubSource => {
      if (Object.hasOwn(clones, repository)) return local;
      if (github) return github;
      throw new ReconcilerError(`repository ${repository}: no --clone for it and no ${ENV.githubToken}`);
    };
    const source: RepositorySource = {
      headAndChanges: (repo, ...a) => pick(repo).headAndChanges(repo, ...a),
      snapshot: (repo, ...a) => pick(repo).snapshot(repo, ...a),
      readFile: (repo, ...a) => pick(repo).readFile(repo, ...a),
      setStatus: (repo, ...a) => pick(repo).setStatus(repo, ...a),
      headIfChanged: (repo, ...a) => pick(repo).headIfChanged(repo, ...a),
      compareHead: (repo, ...a) => pick(repo).compareHead(repo, ...a),
    };
    const slackUrl = env[ENV.slackWebhookUrl];
    // Long syncs show progress: at most one line every two seconds per target.
    const lastProgress = new Map<string, number>();
    const clusters = clusterClients(registry, async (id) => env[id] ?? '', true);
    // The Invoke endpoint the hand-off calls is started below, with the handlers composed here.
    const invoked: { handOff?: (request: ReconcileRequest | PreviewJob) => Promise<void> } = {};
    const composed = compose({
      registry,
      ledger,
      source,
      targets: targetOpener({
        registry,
        cluster: clusters,
        // Stack targets only with AWS credentials at hand (never in the demo).
        ...(!demo && (env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE) ? { cloudformation: cloudFormationAccess(env) } : {}),
      }),
      labelled: async (cluster, signal) => labelledByTarget(await clusters(cluster), signal ? { signal } : {}),
      handOff: (request) => {
        if (!invoked.handOff) throw new ReconcilerError('serve: the Invoke endpoint is not started yet');
        return invoked.handOff(request);
      },
      // Pull-request previews of local clones go through the same Invoke endpoint (serve-preview.ts prints them).
      handOffPreview: (job) => {
        if (!invoked.handOff) throw new ReconcilerError('serve: the Invoke endpoint is not started yet');
        return invoked.handOff(job);
      },
      secrets: async () => secrets,
      ...(slackUrl ? { notifier: new SlackNotifier(slackUrl) } : {}),
      progress: (id, phase, done, total) => {
        const key = `${id}/${phase}`;
        const now = Date.now();
        if (done >= total) {
          lastProgress.delete(key);
          return;
        }
        const last = lastProgress.get(key);
        // The first call starts the clock: a sync shorter than two seconds prints no progress.
        if (last === undefined || now - last < 2000) {
          if (last === undefined) lastProgress.set(key, now);
          return;
        }
        lastProgress.set(key, now);
        o.print(`sync   ${id}: ${phase} ${done}/${total}…`);
      },
      // serve prints its own lines; the functions' JSON log stays quiet here.
      log: () => undefined,
    });

    // The local Invoke endpoint runs the deployed reconcile handler in this process, over serve's composition.
    const reconcile = createReconcileHandler(composed.reconcile, { abort: shutdown.signal });
    const previews = servePreview(composed.reconcile, o.print);
    const invoke = new LocalInvokeServer({
      reconcile: async (event, context) => {
        if (previews.isJob(event)) return previews.run(event, withAbort(deadlineSignal(context.getRemainingTimeInMillis()), shutdown.signal));
        const req = event as ReconcileRequest;
        const outcome = (await reconcile(req, context)) as ReconcileOutcome;
        const id = targetId(req.repository, req.target);
        if (outcome.kind === 'pending') o.print(`sync   ${id}: busy (held by ${outcome.heldBy}); ${req.commit?.slice(0, 7) ?? 'head'} queued`);
        else {
          for (const r of outcome.records) {
            o.print(
              `sync   ${id} ${r.commit.slice(0, 7)} ${r.result}${r.counts ? ` — ${formatCountMap(r.counts)}` : ''}${r.durationMs !== undefined ? ` in ${r.durationMs} ms` : ''}${r.error ? ` — ${r.error.message}` : ''}`,
            );
          }
          if (!outcome.records.length) o.print(`sync   ${id}: ${outcome.untouched ? 'not touched by this change' : 'already at the head'}`);
        }
        return outcome;
      },
    });
    invoke.onError = (_fn, err) => o.print(`error  reconcile failed: ${(err as Error).message}`);
    await invoke.start();
    stops.push(() => invoke.stop());
    const lambda = new LambdaClient({ endpoint: invoke.url, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    stops.push(() => lambda.destroy());
    const handOff = lambdaHandOff(lambda, 'reconcile');
    invoked.handOff = handOff;

    // The webhook endpoint: the deployed webhook handler over serve's composition.
    const http = await startServeHttp({
      ...(o.port !== undefined ? { port: o.port } : {}),
      webhook: (onOutcome) => createWebhookHandler(composed.webhook, { onOutcome }),
      print: o.print,
    });
    stops.push(() => http.close());
    const url = http.url;

    // The local sweeper: a clone's new head starts the same work a webhook would.
    // The first sweep catches up: a serve killed mid-run may have lost its hand-offs.
    let catchUp = true;
    const sweep = async () => {
      const out = await sweepOnce({
        ledger,
        source: local,
        registry,
        handOff,
        branches: async (repository) => cloneBranches(clones[repository]),
        catchUp,
        signal: shutdown.signal,
      });
      catchUp = false;
      for (const s of out.skipped) o.print(`sweep  ${s.repository}@${s.head.slice(0, 7)}: ${s.reason}`);
    };
    let sweeping = Promise.resolve();
    // The drift loop: desired at each target's last applied commit against live; Slack only on change.
    const drift = async (): Promise<DriftRun> => {
      const r = await runDrift({
        ledger,
        check: (id, labelled) => checkTarget(id, composed.drift.check, shutdown.signal, labelled),
        ...(composed.drift.labelled ? { labelled: (cluster: string) => composed.drift.labelled!(cluster, shutdown.signal) } : {}),
        ...(composed.drift.notifier ? { notifier: composed.drift.notifier } : {}),
      });
      for (const c of r.changes) {
        o.print(
          `drift  ${c.check.targetId}: ${c.change === 'resolved' ? 'drift resolved' : `${c.change} drift, ${c.check.report?.objects.length ?? 0} object(s)`}${c.check.healed ? ' (self-healed)' : ''}`,
        );
      }
      return r;
    };
    const driftTimer = setInterval(
      () => {
        sweeping = sweeping
          .then(() => drift())
          .then(() => undefined)
          .catch((err: unknown) => o.print(`drift error: ${(err as Error).message}`));
      },
      o.driftMs ?? 5 * 60_000,
    );
    stops.push(() => clearInterval(driftTimer));
    const pollMs = o.pollMs ?? 10_000;
    const timer = setInterval(() => {
      sweeping = sweeping.then(sweep).catch((err: unknown) => o.print(`sweep error: ${(err as Error).message}`));
    }, pollMs);
    stops.push(() => clearInterval(timer));
    // Where `driftless history/status/suspend/resume/trigger` find this serve when no environment says otherwise.
    const stateFile = join(stateDir, 'serve.json');
    mkdirSync(dirname(stateFile), { recursive: true });
    writeFileSync(
      stateFile,
      `${JSON.stringify({ url, invokeUrl: invoke.url, dynamoDbEndpoint: endpoint, table, blobDir, pid: process.pid, ...(dynamoDbPid ? { dynamoDbPid } : {}) }, null, 2)}\n`,
    );
    stops.push(() => rmSync(stateFile, { force: true }));
    o.print(`driftless serve on ${url}`);
    o.print(`  webhook   POST ${url}/webhook   (secret: ${demo ? secret : 'from DRIFTLESS_WEBHOOK_SECRET'})`);
    o.print(`  ledger    table ${table} at ${endpoint}${ownLedger ? (o.inMemory ? ' (in memory: gone when serve stops)' : ` (kept in ${ledgerDir})`) : ''}`);
    o.print(`  invoke    ${invoke.url} (reconcile runs in this process)`);
    o.print(`  drift     every ${Math.round((o.driftMs ?? 300_000) / 1000)} s${slackUrl ? ', reported to Slack' : ''}`);
    for (const [repo, dir] of Object.entries(clones)) o.print(`  repo      ${repo} from ${dir} (checked every ${Math.round(pollMs / 1000)} s)`);
    await sweep().catch((err: unknown) => o.print(`sweep error: ${(err as Error).message}`));
    return {
      url,
      webhookUrl: `${url}/webhook`,
      secret,
      sweep,
      drift,
      idle: () => invoke.idle(),
      stop: async () => {
        shutdown.abort(new ReconcilerError(INTERRUPTED));
        await sweeping;
        await stopAll();
      },
    };
  } catch (err) {
    shutdown.abort(new ReconcilerError(INTERRUPTED));
    await stopAll();
    throw err;
  }
};

/**
 * The ledger reconcile writes through: once shutdown began, a sync that ends `failed` says it was interrupted
 * by shutdown (the error it failed with follows), rather than naming only the call the abort cut short.
 */
const recordingInterruptions = (ledger: Ledger, shutdown: AbortSignal): Ledger => {
  const mark = (rec: SyncRecord): SyncRecord =>
    shutdown.aborted && rec.result === 'failed' && !rec.error?.message.startsWith(INTERRUPTED)
      ? { ...rec, error: { ...rec.error, message: rec.error?.message ? `${INTERRUPTED}: ${rec.error.message}` : INTERRUPTED } }
      : rec;
  return new Proxy(ledger, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      // finishSync(lease, record, state); abandonSync(record) where the ledger has it (a sync closed without its lease).
      if (prop === 'finishSync') return (lease: unknown, rec: SyncRecord, ...rest: unknown[]) => (value as (...a: unknown[]) => unknown).call(target, lease, mark(rec), ...rest);
      if (prop === 'abandonSync') return (rec: SyncRecord, ...rest: unknown[]) => (value as (...a: unknown[]) => unknown).call(target, mark(rec), ...rest);
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
};

/**
 * Closes what a serve that was killed left behind in its own ledger: its leases are released and its `running`
 * records marked timed-out, so the restarted serve converges those targets now instead of after the lease.
 * Only for serve's own DynamoDB Local: the lock proves no other reconciler writes it.
 */
const closeInterrupted = async (ledger: Ledger, print: (line: string) => void): Promise<void> => {
  // A ledger that takes the record's reason gets it; one that does not ignores it.
  const markTimedOut: (targetId: string, olderThanMs: number, reason?: string) => Promise<number> = ledger.markTimedOut.bind(ledger);
  for (const state of await ledger.listTargets({ withInventory: false })) {
    if (state.lease) {
      const lease = { targetId: state.targetId, holder: state.lease.holder, token: state.lease.token, expiresAt: state.lease.expiresAt };
      await ledger.releaseLease(lease, { leavePending: true }).catch((err: unknown) => {
        if (!(err instanceof LedgerConflictError)) throw err;
      });
    }
    const closed = await markTimedOut(state.targetId, 0, KILLED);
    if (closed || state.lease) print(`ledger ${state.targetId}: ${closed} sync(s) of an earlier serve that was stopped mid-sync closed as timed-out`);
  }
};

/** The branches of a local clone (none for a repository serve has no clone of). */
const cloneBranches = (dir: string | undefined): string[] => {
  if (!dir) return [];
  try {
    return execFileSync('git', ['-C', dir, 'for-each-ref', '--format=%(refname:short)', 'refs/heads'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    return [];
  }
};
