import { LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Registry } from '../../lib/config/schema.js';
import type { DriftQueue } from '../../lib/core/drift-queue.js';
import { ReconcilerError } from '../../lib/core/errors.js';
import type { ObjectRef } from '../../lib/core/object-ref.js';
import type { CheckDeps } from '../../lib/drift/check-target.js';
import type { SweepDeps } from '../../lib/drift/sweep.js';
import { dynamoDbClient } from '../../lib/ledger/client.js';
import { DynamoDbLedger } from '../../lib/ledger/dynamodb-ledger.js';
import type { Ledger } from '../../lib/ledger/ledger.js';
import type { Notifier } from '../../lib/notify/notifier.js';
import { SlackNotifier } from '../../lib/notify/slack-notifier.js';
import { SqsDriftQueue } from '../../lib/queue/sqs-drift-queue.js';
import { createCommitReporter, type CommitReporterOptions } from '../../lib/reconcile/commit-report.js';
import type { WebhookDeps } from '../../lib/reconcile/handle-webhook.js';
import type { ReconcileDeps, ReconcileRequest } from '../../lib/reconcile/reconcile-target.js';
import { GitHubApi } from '../../lib/source/github-api.js';
import { GitHubSource } from '../../lib/source/github-source.js';
import type { RepositorySource } from '../../lib/source/repository-source.js';
import { cloudFormationAccess } from '../../lib/targets/cloudformation/access.js';
import { clusterClients } from '../../lib/targets/kubernetes/cluster-clients.js';
import type { KubeClient } from '../../lib/targets/kubernetes/kube-client.js';
import { labelledByTarget } from '../../lib/targets/kubernetes/labelled-objects.js';
import { targetOpener, type TargetAccess } from '../../lib/targets/open-target.js';
import { githubAuthFrom } from './compose-github-auth.js';
import { loadConfig, type FunctionConfig } from './config.js';
import { lambdaHandOff } from './lambda-hand-off.js';
import { secretsManager } from './secrets.js';

/** Reads a secret by id (Secrets Manager in AWS, the environment locally). */
export type SecretReader = (id: string) => Promise<string>;

/** A structured log line (functions/common/observability.ts may replace it with the Powertools logger). */
export type Log = (message: string, fields?: Record<string, unknown>) => void;

/** The JSON-lines log of the functions. */
export const jsonLog: Log = (message, fields) => console.log(JSON.stringify({ level: 'INFO', message, ...fields }));

/**
 * Where this process runs and what it reaches: the one input of `compose`. The Lambda functions build it from their
 * environment (`lambdaRuntime`), `driftless serve` from its options and the demo, tests from their local servers.
 */
export interface Runtime {
  readonly registry: Registry;
  /** The ledger table (DynamoDB, or DynamoDB Local). */
  readonly ledger: Ledger;
  /** The webhook's ledger, with deadlines that fit GitHub's 10 s. @default ledger */
  readonly webhookLedger?: WebhookDeps['ledger'];
  /** Repositories: GitHub, or local git clones. */
  readonly source: RepositorySource;
  /** What the webhook reads a repository with (one file, a status). @default source */
  readonly webhookSource?: WebhookDeps['source'];
  /** How targets are reached: clusters by registry name, CloudFormation per region (absent: stacks are unreachable). */
  readonly access: TargetAccess & { readonly cluster: (name: string) => Promise<KubeClient> };
  /** Hands one target to the reconcile function (a Lambda invoke, or the local Invoke endpoint). */
  readonly handOff?: (request: ReconcileRequest) => Promise<void>;
  /** The webhook secrets (current and previous), read when a delivery arrives. */
  readonly secrets?: () => Promise<string[]>;
  readonly notifier?: Notifier;
  /** The drift function's queue (one message per target). */
  readonly queue?: DriftQueue;
  /** Checks in flight per cluster in one batch of the drift queue. */
  readonly driftPerCluster?: number;
  /** The commit report's options. @default one combined report per commit */
  readonly commitReport?: CommitReporterOptions;
  readonly maxBodyBytes?: number;
  /** Progress of long syncs (serve prints it). */
  readonly progress?: ReconcileDeps['progress'];
  /** Artifact store hooks (large templates, rendered output): not built yet. */
  readonly blobs?: never;
  /** @default jsonLog */
  readonly log?: Log;
  /** Where the commit reporter logs a report it could not write. @default log */
  readonly reportLog?: Log;
}

/** The webhook's dependencies, its secrets read per delivery. */
export type ComposedWebhook = Omit<WebhookDeps, 'secrets'> & { readonly secrets: () => Promise<string[]> };

/** The drift function's dependencies: the queue, checks, the sweeper, self-heal hand-offs and the drift report. */
export interface ComposedDrift {
  readonly ledger: Ledger;
  readonly queue?: DriftQueue;
  /** One LIST per kind per cluster finds labelled objects for all of a batch's targets; each check gets its share. */
  readonly labelled: (cluster: string, signal?: AbortSignal) => Promise<ReadonlyMap<string, readonly ObjectRef[]>>;
  readonly perCluster?: number;
  readonly check: CheckDeps;
  readonly sweep: SweepDeps;
  readonly notifier?: Notifier;
}

/** What each handler needs, built from one runtime. */
export interface Composed {
  readonly log: Log;
  readonly webhook: ComposedWebhook;
  /** The reconcile function's dependencies (the holder is set per invocation). */
  readonly reconcile: Omit<ReconcileDeps, 'holder'>;
  readonly drift: ComposedDrift;
}

const noHandOff = async (): Promise<void> => {
  throw new ReconcilerError('this runtime has no reconcile function to hand work to');
};
const noSecrets = async (): Promise<string[]> => {
  throw new ReconcilerError('this runtime has no webhook secret');
};

/**
 * The one composition: ledger, source, targets, notifier and hand-off of a runtime, wired into what the webhook,
 * reconcile and drift handlers take. Lambda, `driftless serve` and the tests all compose here.
 * @example
 * const composed = compose(lambdaRuntime('reconcile'));
 * await reconcileTarget(event, { ...composed.reconcile, holder: context.awsRequestId }, deadline);
 */
export const compose = (runtime: Runtime): Composed => {
  const log = runtime.log ?? jsonLog;
  const { ledger, source, registry } = runtime;
  const targets = targetOpener(runtime.access);
  const handOff = runtime.handOff ?? noHandOff;
  const reconcile: { -readonly [K in keyof Omit<ReconcileDeps, 'holder'>]: Omit<ReconcileDeps, 'holder'>[K] } = {
    ledger,
    source,
    registry,
    targets,
    ...(runtime.notifier ? { notifier: runtime.notifier } : {}),
    ...(runtime.progress ? { progress: runtime.progress } : {}),
    log,
  };
  // The reporter reads the deps at call time, so that a caller who swaps the ledger (a test) swaps it for reports too.
  reconcile.reporter = createCommitReporter(
    {
      get ledger() {
        return reconcile.ledger;
      },
      get source() {
        return reconcile.source;
      },
      log: runtime.reportLog ?? log,
    },
    runtime.commitReport ?? {},
  );
  return {
    log,
    webhook: {
      registry,
      ledger: runtime.webhookLedger ?? ledger,
      source: runtime.webhookSource ?? source,
      handOff,
      ...(runtime.maxBodyBytes ? { maxBodyBytes: runtime.maxBodyBytes } : {}),
      secrets: runtime.secrets ?? noSecrets,
    },
    reconcile,
    drift: {
      ledger,
      ...(runtime.queue ? { queue: runtime.queue } : {}),
      labelled: async (name, signal) => labelledByTarget(await runtime.access.cluster(name), signal ? { signal } : {}),
      ...(runtime.driftPerCluster ? { perCluster: runtime.driftPerCluster } : {}),
      check: { ledger, source, registry, targets, heal: (t) => handOff({ ...t, trigger: 'self-heal', force: true }) },
      sweep: { ledger, source, registry, handOff },
      ...(runtime.notifier ? { notifier: runtime.notifier } : {}),
    },
  };
};

/** A lazy GitHub source: credentials are read on first use. */
export const lazyGitHubSource = (readSecret: SecretReader, secretId: string | undefined, baseUrl?: string): RepositorySource => {
  let source: Promise<GitHubSource> | undefined;
  const get = () =>
    (source ??= (async () => {
      if (!secretId) throw new ReconcilerError('no GitHub credentials configured');
      return new GitHubSource({ auth: githubAuthFrom(await readSecret(secretId)), ...(baseUrl ? { baseUrl } : {}) });
    })());
  return {
    headAndChanges: async (...a) => (await get()).headAndChanges(...a),
    snapshot: async (...a) => (await get()).snapshot(...a),
    readFile: async (...a) => (await get()).readFile(...a),
    setStatus: async (...a) => (await get()).setStatus(...a),
    headIfChanged: async (...a) => (await get()).headIfChanged(...a),
    checkRuns: async () => (await get()).checkRuns(),
  };
};

/** The Slack notifier, its webhook URL read from Secrets Manager on the first notice. */
const lazySlackNotifier = (readSecret: SecretReader, slackId: string): Notifier => {
  let slack: Promise<SlackNotifier> | undefined;
  const open = () => (slack ??= readSecret(slackId).then((url) => new SlackNotifier(url)));
  return {
    failure: async (notice) => (await open()).failure(notice),
    drift: async (changes) => (await open()).drift(changes),
  };
};

/** The webhook's GitHub reads: one file and a status, with a deadline that fits GitHub's 10 s (no tarballs). */
const webhookGitHub = (config: FunctionConfig, readSecret: SecretReader): WebhookDeps['source'] => {
  let github: Promise<GitHubApi> | undefined;
  const api = () =>
    (github ??= (async () => {
      const id = config.secretIds.github;
      if (!id) throw new ReconcilerError('no GitHub credentials configured');
      return new GitHubApi({ auth: githubAuthFrom(await readSecret(id)), requestTimeoutMs: 3000, ...(config.githubApiUrl ? { baseUrl: config.githubApiUrl } : {}) });
    })());
  return {
    readFile: async (...a) => (await api()).readFile(...a),
    setStatus: async (...a) => (await api()).setStatus(...a),
  };
};

/** Which deployed function a Lambda runtime is for: each builds only what it uses. */
export type FunctionName = 'webhook' | 'reconcile' | 'drift';

/**
 * The runtime of a deployed function, from its environment (`loadConfig`) and Secrets Manager. Clients are built
 * once per cold start; credentials are read on first use. The webhook needs no clusters, tarballs or Slack.
 */
export const lambdaRuntime = (fn: FunctionName, config: FunctionConfig = loadConfig(), readSecret: SecretReader = secretsManager()): Runtime => {
  const needs = (name: string, value: string | undefined, env: string): string => {
    if (!value) throw new ReconcilerError(`environment: ${env} is required by the ${name}`);
    return value;
  };
  const reconcileFunction =
    fn === 'reconcile' ? config.reconcileFunction : needs(fn === 'webhook' ? 'webhook' : 'drift function', config.reconcileFunction, 'DRIFTLESS_RECONCILE_FUNCTION');
  const queueUrl = fn === 'drift' ? needs('drift function', config.driftQueueUrl, 'DRIFTLESS_DRIFT_QUEUE_URL') : undefined;
  const ledger = new DynamoDbLedger(dynamoDbClient(process.env), config.table);
  const slackId = config.secretIds.slack;
  const lambda =
    fn === 'webhook'
      ? new LambdaClient({ maxAttempts: 2, requestHandler: { requestTimeout: 2000, connectionTimeout: 1000, throwOnRequestTimeout: true } })
      : fn === 'drift'
        ? new LambdaClient({})
        : undefined;
  return {
    registry: config.registry,
    ledger,
    source: lazyGitHubSource(readSecret, config.secretIds.github, config.githubApiUrl),
    access: {
      registry: config.registry,
      cluster: clusterClients(config.registry, readSecret, false),
      ...(fn === 'webhook' ? {} : { cloudformation: cloudFormationAccess() }),
    },
    ...(lambda && reconcileFunction ? { handOff: lambdaHandOff(lambda, reconcileFunction) } : {}),
    ...(fn === 'webhook'
      ? {
          // Deadlines that fit GitHub's 10 s: one attempt 1.5 s, three attempts, 3 s per ledger call in all.
          webhookLedger: new DynamoDbLedger(dynamoDbClient(process.env, { requestTimeoutMs: 1500, maxAttempts: 3 }), config.table, Date.now, { callTimeoutMs: 3000 }),
          webhookSource: webhookGitHub(config, readSecret),
          // The current secret must be readable (otherwise every delivery would be refused as unsigned); the previous
          // one is optional and may be absent or empty outside a rotation.
          secrets: async () => {
            if (!config.secretIds.webhook) throw new ReconcilerError('environment: DRIFTLESS_WEBHOOK_SECRET_ID is required by the webhook');
            const previousId = config.secretIds.webhookPrevious;
            return Promise.all([readSecret(config.secretIds.webhook), previousId ? readSecret(previousId).catch(() => '') : '']);
          },
        }
      : {}),
    ...(slackId && fn !== 'webhook' ? { notifier: lazySlackNotifier(readSecret, slackId) } : {}),
    ...(queueUrl ? { queue: new SqsDriftQueue(new SQSClient({}), queueUrl) } : {}),
    ...(config.driftPerCluster ? { driftPerCluster: config.driftPerCluster } : {}),
    ...(config.maxBodyBytes ? { maxBodyBytes: config.maxBodyBytes } : {}),
    commitReport: { perTargetStatuses: config.perTargetStatuses === true },
    log: jsonLog,
  };
};
