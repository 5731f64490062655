import { LambdaClient } from '@aws-sdk/client-lambda';
import { ReconcilerError } from '../../lib/core/errors.js';
import { dynamoDbClient } from '../../lib/ledger/client.js';
import { DynamoDbLedger } from '../../lib/ledger/dynamodb-ledger.js';
import { GitHubApi } from '../../lib/source/github-api.js';
import { githubAuthFrom } from '../common/compose-github-auth.js';
import type { Runtime, SecretReader } from '../common/compose.js';
import { log } from '../common/observability.js';
import { loadConfig, type FunctionConfig } from '../common/config.js';
import { lambdaHandOff } from '../common/lambda-hand-off.js';
import { secretsManager } from '../common/secrets.js';

/**
 * The webhook function's runtime: only what it needs (no clusters, no tarballs, no Slack), with deadlines that fit
 * GitHub's 10 s, so its bundle stays small. `compose(webhookRuntime()).webhook` is what the handler takes.
 */
export const webhookRuntime = (config: FunctionConfig = loadConfig(), readSecret: SecretReader = secretsManager()): Runtime => {
  if (!config.reconcileFunction) throw new ReconcilerError('environment: DRIFTLESS_RECONCILE_FUNCTION is required by the webhook');
  const handOff = lambdaHandOff(
    new LambdaClient({ maxAttempts: 2, requestHandler: { requestTimeout: 2000, connectionTimeout: 1000, throwOnRequestTimeout: true } }),
    config.reconcileFunction,
  );
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
    webhookSource: {
      readFile: async (...a) => (await api()).readFile(...a),
      setStatus: async (...a) => (await api()).setStatus(...a),
    },
    handOff,
    // A preview is handed to the reconcile function too: `{ kind: 'preview', … }`, one per (repository, head).
    handOffPreview: handOff,
    ...(config.maxBodyBytes ? { maxBodyBytes: config.maxBodyBytes } : {}),
    // The current secret must be readable (otherwise every delivery would be refused as unsigned); the previous
    // one is optional and may be absent or empty outside a rotation.
    secrets: async () => {
      if (!config.secretIds.webhook) throw new ReconcilerError('environment: DRIFTLESS_WEBHOOK_SECRET_ID is required by the webhook');
      const previousId = config.secretIds.webhookPrevious;
      return Promise.all([readSecret(config.secretIds.webhook), previousId ? readSecret(previousId).catch(() => '') : '']);
    },
    log,
  };
};
