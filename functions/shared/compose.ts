import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ReconcilerError } from '../../lib/core/errors.js';
import type { Registry } from '../../lib/config/schema.js';
import { dynamoDbClient } from '../../lib/ledger/client.js';
import { DynamoDbLedger } from '../../lib/ledger/dynamodb-ledger.js';
import { SlackNotifier } from '../../lib/notify/slack-notifier.js';
import type { ReconcileDeps, ReconcileRequest } from '../../lib/reconcile/reconcile-target.js';
import type { WebhookDeps } from '../../lib/reconcile/handle-webhook.js';
import { GitHubSource, type GitHubAuth } from '../../lib/source/github-source.js';
import type { RepositorySource } from '../../lib/source/repository-source.js';
import { connectionFromEks, connectionFromKubeconfig, describeEksClusterWithSdk } from '../../lib/targets/kubernetes/cluster-access.js';
import { HttpKubeClient } from '../../lib/targets/kubernetes/http-kube-client.js';
import type { KubeClient } from '../../lib/targets/kubernetes/kube-client.js';
import { loadConfig, type FunctionConfig } from './config.js';
import { secretsManager } from './secrets.js';

/** Reads a secret by id (Secrets Manager in AWS, the environment locally). */
export type SecretReader = (id: string) => Promise<string>;

/** GitHub credentials from a secret: a token, or `{"appId": …, "privateKey": "…"}` for a GitHub App. */
export const githubAuthFrom = (secret: string): GitHubAuth => {
  const trimmed = secret.trim();
  if (trimmed.startsWith('{')) {
    const v = JSON.parse(trimmed) as { appId?: string | number; privateKey?: string; token?: string };
    if (v.token) return { token: v.token };
    if (v.appId && v.privateKey) return { appId: v.appId, privateKey: v.privateKey };
    throw new ReconcilerError('GitHub secret: expected a token, or JSON with appId and privateKey');
  }
  return { token: trimmed };
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
  };
};

/** Clients for registry clusters, built on first use and kept for the life of the container. */
export const clusterClients = (registry: Registry, readSecret: SecretReader, allowPlugins: boolean) => {
  const clients = new Map<string, Promise<KubeClient>>();
  return (name: string): Promise<KubeClient> => {
    let c = clients.get(name);
    if (!c) {
      c = (async () => {
        const entry = registry.clusters[name];
        if (!entry) throw new ReconcilerError(`cluster "${name}" is not in the registry`);
        if ('eks' in entry) {
          const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
          return new HttpKubeClient(await connectionFromEks(entry.eks, { describe: describeEksClusterWithSdk, credentials: defaultProvider() }));
        }
        if ('kubeconfigSecret' in entry) {
          return new HttpKubeClient(await connectionFromKubeconfig({ contents: await readSecret(entry.kubeconfigSecret), allowPlugins }));
        }
        return new HttpKubeClient(await connectionFromKubeconfig({ ...(entry.kubeconfig ? { file: entry.kubeconfig } : {}), context: entry.context, allowPlugins }));
      })();
      c.catch(() => clients.delete(name));
      clients.set(name, c);
    }
    return c;
  };
};

/** Hands one target to the reconcile function with an asynchronous invoke (InvocationType Event). */
export const lambdaHandOff = (client: LambdaClient, functionName: string) => async (request: ReconcileRequest): Promise<void> => {
  const out = await client.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(request)) }));
  if (out.StatusCode !== 202) throw new ReconcilerError(`invoke of ${functionName} answered ${String(out.StatusCode)}`);
};

/** The webhook function's dependencies. */
export const composeWebhook = (config: FunctionConfig = loadConfig(), readSecret: SecretReader = secretsManager()): Omit<WebhookDeps, 'secrets'> & { secrets: () => Promise<string[]> } => {
  if (!config.reconcileFunction) throw new ReconcilerError('environment: DRIFTLESS_RECONCILE_FUNCTION is required by the webhook');
  const ledger = new DynamoDbLedger(dynamoDbClient(process.env), config.table);
  return {
    registry: config.registry,
    ledger,
    source: lazyGitHubSource(readSecret, config.secretIds.github, config.githubApiUrl),
    handOff: lambdaHandOff(new LambdaClient({}), config.reconcileFunction),
    ...(config.maxBodyBytes ? { maxBodyBytes: config.maxBodyBytes } : {}),
    secrets: async () =>
      Promise.all(
        [config.secretIds.webhook, config.secretIds.webhookPrevious].filter((id): id is string => Boolean(id)).map((id) => readSecret(id).catch(() => '')),
      ),
  };
};

/** The reconcile function's dependencies (the holder is set per invocation). */
export const composeReconcile = (config: FunctionConfig = loadConfig(), readSecret: SecretReader = secretsManager()): Omit<ReconcileDeps, 'holder'> => {
  const slackId = config.secretIds.slack;
  let notifier: SlackNotifier | undefined;
  return {
    ledger: new DynamoDbLedger(dynamoDbClient(process.env), config.table),
    source: lazyGitHubSource(readSecret, config.secretIds.github, config.githubApiUrl),
    registry: config.registry,
    cluster: clusterClients(config.registry, readSecret, false),
    ...(slackId
      ? {
          notifier: {
            failure: async (notice) => {
              notifier ??= new SlackNotifier(await readSecret(slackId));
              return notifier.failure(notice);
            },
          },
        }
      : {}),
    log: (message, fields) => console.log(JSON.stringify({ level: 'INFO', message, ...fields })),
  };
};
