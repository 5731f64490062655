import { LambdaClient } from '@aws-sdk/client-lambda';
import { ReconcilerError } from '../../lib/core/errors.js';
import { dynamoDbClient } from '../../lib/ledger/client.js';
import { DynamoDbLedger } from '../../lib/ledger/dynamodb-ledger.js';
import type { WebhookDeps } from '../../lib/reconcile/handle-webhook.js';
import { lambdaHandOff } from '../common/lambda-hand-off.js';
import { previewWebhook } from '../../lib/preview/preview-webhook.js';
import { GitHubApi } from '../../lib/source/github-api.js';
import { githubAuthFrom } from '../common/compose-github-auth.js';
import { loadConfig, type FunctionConfig } from '../common/config.js';
import { secretsManager } from '../common/secrets.js';

/** The webhook function's dependencies: only what it needs (no clusters, no tarballs, no Slack). */
export const composeWebhook = (
  config: FunctionConfig = loadConfig(),
  readSecret: (id: string) => Promise<string> = secretsManager(),
): Omit<WebhookDeps, 'secrets'> & { secrets: () => Promise<string[]> } => {
  if (!config.reconcileFunction) throw new ReconcilerError('environment: DRIFTLESS_RECONCILE_FUNCTION is required by the webhook');
  const lambda = new LambdaClient({ maxAttempts: 2, requestHandler: { requestTimeout: 2000, connectionTimeout: 1000, throwOnRequestTimeout: true } });
  let github: Promise<GitHubApi> | undefined;
  const api = () =>
    (github ??= (async () => {
      const id = config.secretIds.github;
      if (!id) throw new ReconcilerError('no GitHub credentials configured');
      return new GitHubApi({ auth: githubAuthFrom(await readSecret(id)), requestTimeoutMs: 3000, ...(config.githubApiUrl ? { baseUrl: config.githubApiUrl } : {}) });
    })());
  return {
    registry: config.registry,
    // Deadlines that fit GitHub's 10 s: one attempt 1.5 s, three attempts, 3 s per ledger call in all.
    ledger: new DynamoDbLedger(dynamoDbClient(process.env, { requestTimeoutMs: 1500, maxAttempts: 3 }), config.table, Date.now, { callTimeoutMs: 3000 }),
    source: {
      readFile: async (...a) => (await api()).readFile(...a),
      setStatus: async (...a) => (await api()).setStatus(...a),
    },
    handOff: lambdaHandOff(lambda, config.reconcileFunction),
    // A preview is handed to the reconcile function too: `{ kind: 'preview', … }`, one per (repository, head).
    preview: previewWebhook(lambdaHandOff(lambda, config.reconcileFunction)),
    ...(config.maxBodyBytes ? { maxBodyBytes: config.maxBodyBytes } : {}),
    // The current secret must be readable (otherwise every delivery would be refused as unsigned); the previous
    // one is optional and may be absent or empty outside a rotation.
    secrets: async () => {
      if (!config.secretIds.webhook) throw new ReconcilerError('environment: DRIFTLESS_WEBHOOK_SECRET_ID is required by the webhook');
      const previousId = config.secretIds.webhookPrevious;
      return Promise.all([readSecret(config.secretIds.webhook), previousId ? readSecret(previousId).catch(() => '') : '']);
    },
  };
};
