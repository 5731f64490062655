import { LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ReconcilerError } from '../../lib/core/errors.js';
import { dynamoDbClient } from '../../lib/ledger/client.js';
import { openBlobStore } from '../../lib/ledger/open-blob-store.js';
import { DynamoDbLedger } from '../../lib/ledger/dynamodb-ledger.js';
import { cachingSnapshots } from '../../lib/source/snapshot-cache.js';
import type { Notifier } from '../../lib/notify/notifier.js';
import { SlackNotifier } from '../../lib/notify/slack-notifier.js';
import { SqsDriftQueue } from '../../lib/queue/sqs-drift-queue.js';
import { GitHubSource } from '../../lib/source/github-source.js';
import type { RepositorySource } from '../../lib/source/repository-source.js';
import { cloudFormationAccess } from '../../lib/targets/cloudformation/access.js';
import { clusterClients } from '../../lib/targets/kubernetes/cluster-clients.js';
import { labelledByTarget } from '../../lib/targets/kubernetes/labelled-objects.js';
import { targetOpener } from '../../lib/targets/open-target.js';
import { githubAuthFrom } from './compose-github-auth.js';
import type { Runtime, SecretReader } from './compose.js';
import { log } from './observability.js';
import { loadConfig, type FunctionConfig } from './config.js';
import { lambdaHandOff } from './lambda-hand-off.js';
import { secretsManager } from './secrets.js';

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

/** The Slack notifier, its webhook URL read from Secrets Manager on the first notice. */
const lazySlackNotifier = (readSecret: SecretReader, slackId: string): Notifier => {
  let slack: Promise<SlackNotifier> | undefined;
  const open = () => (slack ??= readSecret(slackId).then((url) => new SlackNotifier(url)));
  return {
    failure: async (notice) => (await open()).failure(notice),
    drift: async (changes) => (await open()).drift(changes),
  };
};

/**
 * The runtime of the reconcile or the drift function, from its environment (`loadConfig`) and Secrets Manager:
 * the ledger, GitHub, the registry's clusters, CloudFormation, Slack; the drift function also hands self-heals to
 * reconcile and has its queue. Clients are built once per cold start; credentials are read on first use.
 */
export const lambdaRuntime = (fn: 'reconcile' | 'drift', config: FunctionConfig = loadConfig(), readSecret: SecretReader = secretsManager()): Runtime => {
  if (fn === 'drift' && !config.reconcileFunction) throw new ReconcilerError('environment: DRIFTLESS_RECONCILE_FUNCTION is required by the drift function');
  if (fn === 'drift' && !config.driftQueueUrl) throw new ReconcilerError('environment: DRIFTLESS_DRIFT_QUEUE_URL is required by the drift function');
  const cluster = clusterClients(config.registry, readSecret, false);
  const slackId = config.secretIds.slack;
  // Large ledger values (inventories, change sets, drift reports over an item): the artifact bucket's `ledger/`.
  const blobs = openBlobStore(process.env);
  return {
    registry: config.registry,
    ledger: new DynamoDbLedger(dynamoDbClient(process.env), config.table, Date.now, blobs ? { blobs } : {}),
    // A warm function checks or syncs many targets of one monorepo commit: its tarball is fetched once.
    source: cachingSnapshots(lazyGitHubSource(readSecret, config.secretIds.github, config.githubApiUrl)),
    targets: targetOpener({ registry: config.registry, cluster, cloudformation: cloudFormationAccess() }),
    labelled: async (name, signal) => labelledByTarget(await cluster(name), signal ? { signal } : {}),
    ...(fn === 'drift' && config.reconcileFunction ? { handOff: lambdaHandOff(new LambdaClient({}), config.reconcileFunction) } : {}),
    ...(fn === 'drift' && config.driftQueueUrl ? { queue: new SqsDriftQueue(new SQSClient({}), config.driftQueueUrl) } : {}),
    ...(config.driftPerCluster ? { driftPerCluster: config.driftPerCluster } : {}),
    ...(slackId ? { notifier: lazySlackNotifier(readSecret, slackId) } : {}),
    commitReport: { perTargetStatuses: config.perTargetStatuses === true },
    log,
  };
};
