import { labelledByTarget } from '../../lib/targets/kubernetes/labelled-objects.js';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsDriftQueue } from '../../lib/queue/sqs-drift-queue.js';
import { createCommitReporter } from '../../lib/reconcile/commit-report.js';
import { ReconcilerError } from '../../lib/core/errors.js';
import { dynamoDbClient } from '../../lib/ledger/client.js';
import { S3Client } from '@aws-sdk/client-s3';
import type { BlobStore } from '../../lib/ledger/blob-store.js';
import { DynamoDbLedger } from '../../lib/ledger/dynamodb-ledger.js';
import { S3BlobStore } from '../../lib/ledger/s3-blob-store.js';
import { ENV } from '../../lib/core/env-names.js';
import type { Notifier } from '../../lib/notify/notifier.js';
import { SlackNotifier } from '../../lib/notify/slack-notifier.js';
import type { ReconcileDeps } from '../../lib/reconcile/reconcile-target.js';
import type { RunPreviewDeps } from '../../lib/preview/run-preview.js';
import type { Deadline } from '../../lib/core/deadline.js';
import { cloudFormationAccess } from '../../lib/targets/cloudformation/access.js';
import { GitHubSource } from '../../lib/source/github-source.js';
import { githubAuthFrom } from './compose-github-auth.js';
import type { RepositorySource } from '../../lib/source/repository-source.js';
import { clusterClients } from '../../lib/targets/kubernetes/cluster-clients.js';
import { lambdaHandOff } from './lambda-hand-off.js';
import { loadConfig, type FunctionConfig } from './config.js';
import { secretsManager } from './secrets.js';
import { log } from './observability.js';

/** Reads a secret by id (Secrets Manager in AWS, the environment locally). */
export type SecretReader = (id: string) => Promise<string>;

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
    compareHead: async (...a) => (await get()).compareHead(...a),
    pullRequestComments: async () => (await get()).pullRequestComments(),
  };
};

/** Large ledger values (inventories, change sets, drift reports over an item) in the artifact bucket's `ledger/`. */
export const ledgerBlobs = (env: Record<string, string | undefined> = process.env): BlobStore | undefined => {
  const bucket = env[ENV.artifactBucket];
  return bucket ? new S3BlobStore(new S3Client({}), bucket) : undefined;
};

/** The ledger of a reconcile or drift function: the table, and the artifact bucket for values over an item. */
const functionLedger = (config: FunctionConfig): DynamoDbLedger => {
  const blobs = ledgerBlobs();
  return new DynamoDbLedger(dynamoDbClient(process.env), config.table, Date.now, blobs ? { blobs } : {});
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

/** The reconcile function's dependencies (the holder is set per invocation). */
export const composeReconcile = (config: FunctionConfig = loadConfig(), readSecret: SecretReader = secretsManager()): Omit<ReconcileDeps, 'holder'> => {
  const slackId = config.secretIds.slack;
  const ledger = functionLedger(config);
  const source = lazyGitHubSource(readSecret, config.secretIds.github, config.githubApiUrl);
  return {
    ledger,
    source,
    reporter: createCommitReporter({ ledger, source, log }, { perTargetStatuses: config.perTargetStatuses === true }),
    registry: config.registry,
    cluster: clusterClients(config.registry, readSecret, false),
    cloudformation: cloudFormationAccess(),
    ...(slackId ? { notifier: lazySlackNotifier(readSecret, slackId) } : {}),
    log,
  };
};

/** A preview job's dependencies, from the reconcile function's: the same source, ledger, clusters and stacks, planned and never applied. */
export const previewDepsOf = (deps: Omit<ReconcileDeps, 'holder'>, deadline: Deadline): RunPreviewDeps => ({
  registry: deps.registry,
  source: deps.source,
  access: { registry: deps.registry, cluster: deps.cluster, ...(deps.cloudformation ? { cloudformation: deps.cloudformation } : {}) },
  ledger: deps.ledger,
  deadline,
  ...(deps.log ? { log: deps.log } : {}),
});

/** The drift function's dependencies: the queue, checks, the sweeper, self-heal hand-offs and the Slack report. */
export const composeDrift = (config: FunctionConfig = loadConfig(), readSecret: SecretReader = secretsManager()) => {
  if (!config.reconcileFunction) throw new ReconcilerError('environment: DRIFTLESS_RECONCILE_FUNCTION is required by the drift function');
  if (!config.driftQueueUrl) throw new ReconcilerError('environment: DRIFTLESS_DRIFT_QUEUE_URL is required by the drift function');
  const ledger = functionLedger(config);
  const source = lazyGitHubSource(readSecret, config.secretIds.github, config.githubApiUrl);
  const lambda = new LambdaClient({});
  const handOff = lambdaHandOff(lambda, config.reconcileFunction);
  const slackId = config.secretIds.slack;
  const cluster = clusterClients(config.registry, readSecret, false);
  return {
    ledger,
    queue: new SqsDriftQueue(new SQSClient({}), config.driftQueueUrl),
    /** One LIST per kind per cluster finds labelled objects for all of a batch's targets; each check gets its share. */
    labelled: async (name: string) => labelledByTarget(await cluster(name)),
    ...(config.driftPerCluster ? { perCluster: config.driftPerCluster } : {}),
    check: {
      ledger,
      source,
      registry: config.registry,
      cluster,
      cloudformation: cloudFormationAccess(),
      heal: (t: { repository: string; target: string; branch: string }) => handOff({ ...t, trigger: 'self-heal', force: true }),
    },
    sweep: { ledger, source, registry: config.registry, handOff },
    ...(slackId ? { notifier: lazySlackNotifier(readSecret, slackId) } : {}),
  };
};
