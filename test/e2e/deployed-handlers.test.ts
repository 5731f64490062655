import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { sign } from '@octokit/webhooks-methods';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ENV } from '../../lib/core/env-names.js';
import { pushPayload, REPO, SECRET, startPipeline } from '../support/pipeline.js';
import type { Pipeline } from '../support/manifests.js';

type ReconcileHandler = (typeof import('../../functions/reconcile/handler.js'))['handler'];
type WebhookHandler = (typeof import('../../functions/webhook/handler.js'))['handler'];

const CONFIG = 'version: 1\ntargets:\n  - name: web\n    path: deploy/web\n    cluster: dev\n    namespace: shop-web\n';
const cm = (value: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  value: "${value}"\n`;
const NS = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop-web\n';

/**
 * The reconcile and webhook functions as deployed: their module-level `handler`, composed from the environment
 * (DynamoDB Local, the local GitHub API, Secrets Manager mocked, the Lambda endpoint of the pipeline), run against
 * the local clusters. The drift function has its own test (drift-queue.test.ts).
 */
describe('the deployed reconcile and webhook handlers', () => {
  let p: Pipeline;
  let reconcile: ReconcileHandler;
  let webhook: WebhookHandler;
  const secrets = mockClient(SecretsManagerClient);
  const saved = { ...process.env };

  beforeAll(async () => {
    p = await startPipeline();
    secrets.on(GetSecretValueCommand, { SecretId: 'driftless/github' }).resolves({ SecretString: 'test-token' });
    secrets.on(GetSecretValueCommand, { SecretId: 'driftless/webhook' }).resolves({ SecretString: SECRET });
    Object.assign(process.env, {
      [ENV.table]: p.table,
      [ENV.registryJson]: JSON.stringify(p.registry),
      [ENV.reconcileFunction]: 'reconcile',
      [ENV.githubSecretId]: 'driftless/github',
      [ENV.webhookSecretId]: 'driftless/webhook',
      [ENV.githubApiUrl]: p.github.url,
      [ENV.dynamoDbEndpoint]: p.db.endpoint,
      [ENV.lambdaEndpoint]: p.invoke.url,
      AWS_REGION: 'local',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
    vi.resetModules();
    ({ handler: reconcile } = await import('../../functions/reconcile/handler.js'));
    ({ handler: webhook } = await import('../../functions/webhook/handler.js'));
  }, 120_000);
  afterAll(async () => {
    process.env = saved;
    secrets.restore();
    await p?.stop();
  });

  it('reconcile: converges a target to its branch head and records the sync in the ledger', async () => {
    // GIVEN a commit nobody delivered
    const head = p.commit({ 'driftless.yaml': CONFIG, 'deploy/web/ns.yaml': NS, 'deploy/web/cm.yaml': cm('v1') });
    // WHEN the deployed reconcile function is invoked for the target
    const out = await reconcile(
      { repository: REPO, target: 'web', branch: 'main', trigger: 'trigger' },
      { awsRequestId: 'req-reconcile-1', getRemainingTimeInMillis: () => 600_000 },
    );
    // THEN the head is applied and recorded, held by the invocation's request id
    expect(out.kind).toBe('done');
    const last = out.kind === 'done' && 'records' in out ? out.records.at(-1) : undefined;
    expect({ result: last?.result, commit: last?.commit, holder: last?.holder }).toEqual({ result: 'succeeded', commit: head, holder: 'req-reconcile-1' });
    expect((p.dev.get('v1', 'ConfigMap', 'shop-web', 'settings') as { data?: Record<string, string> })?.data?.value).toBe('v1');
    expect((await p.ledger.getState(`${REPO}/web`))?.lastAppliedCommit).toBe(head);
  });

  it('webhook: verifies a signed push with the secret from Secrets Manager and hands the target to reconcile (202)', async () => {
    // GIVEN a new commit and its push delivery, signed with the webhook secret
    const before = p.git('rev-parse', 'HEAD');
    const head = p.commit({ 'deploy/web/cm.yaml': cm('v2') });
    const body = JSON.stringify(pushPayload(before, head, 'main', REPO, ['deploy/web/cm.yaml']));
    const headers = { 'X-GitHub-Event': 'push', 'X-GitHub-Delivery': 'deployed-1', 'X-Hub-Signature-256': await sign(SECRET, body), 'Content-Type': 'application/json' };
    // WHEN the deployed webhook function gets it as a Function URL event
    const res = await webhook({ headers, body });
    // THEN it answers 202 naming the target, and the hand-off (a Lambda invoke) converges it
    expect(res.statusCode).toBe(202);
    expect(JSON.parse(res.body)).toEqual({ status: 'accepted', targets: ['web'] });
    await p.invoke.idle();
    expect(p.errors).toEqual([]);
    expect((p.dev.get('v1', 'ConfigMap', 'shop-web', 'settings') as { data?: Record<string, string> })?.data?.value).toBe('v2');
    expect(await p.ledger.hasDelivery('deployed-1')).toBe(true);
  });

  it('webhook: refuses a delivery signed with another secret (401) and hands nothing off', async () => {
    const body = JSON.stringify(pushPayload('0'.repeat(40), p.git('rev-parse', 'HEAD')));
    const invocations = p.invoke.invocations.length;
    const res = await webhook({ headers: { 'x-github-event': 'push', 'x-github-delivery': 'deployed-2', 'x-hub-signature-256': await sign('not-the-secret', body) }, body });
    expect(res.statusCode).toBe(401);
    expect(p.invoke.invocations.length).toBe(invocations);
  });
});
