import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { sign } from '@octokit/webhooks-methods';
import pushExamples from '@octokit/webhooks-examples';
import { parseRegistry } from '../../lib/config/load-config.js';
import type { ReconcileRequest } from '../../lib/reconcile/reconcile-target.js';
import { isPreviewJob, type PreviewJob, type PreviewOutcome } from '../../lib/preview/run-preview.js';
import { LocalInvokeServer } from '../../lib/local/invoke-server.js';
import { GitHubSource } from '../../lib/source/github-source.js';
import { clusterClients } from '../../lib/targets/kubernetes/cluster-clients.js';
import { labelledByTarget } from '../../lib/targets/kubernetes/labelled-objects.js';
import { targetOpener, type TargetAccess } from '../../lib/targets/open-target.js';
import { lambdaHandOff } from '../../functions/common/lambda-hand-off.js';
import type { CommitReporterOptions } from '../../lib/reconcile/commit-report.js';
import type { GitHubAuth } from '../../lib/source/github-api.js';
import { compose } from '../../functions/common/compose.js';
import { createHandler as createReconcileHandler } from '../../functions/reconcile/handler.js';
import { createHandler as createWebhookHandler } from '../../functions/webhook/handler.js';
import { GitHubApiServer } from '../github-api-server/server.js';
import { KubeApiServer } from '../kube-api-server/server.js';
import { startLedgerDb } from './ledger.js';

export const REPO = 'acme/shop';
export const SECRET = 'webhook-s3cret';

/** The push example from @octokit/webhooks-examples, rewritten to point at the test repository. */
export const pushPayload = (before: string, after: string, branch = 'main', repository = REPO, modified?: string[]) => {
  const examples = (pushExamples as unknown as { name: string; examples: Record<string, unknown>[] }[]).find((e) => e.name === 'push')?.examples ?? [];
  const base = structuredClone(examples[0] as Record<string, unknown>);
  const repo = base.repository as Record<string, unknown>;
  return {
    ...base,
    ref: `refs/heads/${branch}`,
    before,
    after,
    created: false,
    deleted: false,
    repository: {
      ...repo,
      full_name: repository,
      name: repository.split('/')[1],
      owner: { ...(repo.owner as object), login: repository.split('/')[0], name: repository.split('/')[0] },
    },
    pusher: { name: 'octocat', email: 'octocat@example.com' },
    ...(modified ? { commits: [{ id: after, message: 'change', added: [], removed: [], modified }] } : {}),
  };
};

/** A whole local pipeline: a git repository, GitHub's API over it, two clusters, DynamoDB Local, the Invoke endpoint. */
export const startPipeline = async (
  options: {
    kubeLatencyMs?: number;
    /** Extra registry grant fields for the repository. */
    grant?: Record<string, unknown>;
    /**
     * The commit reporter's options. These tests assert each target's own status, so per-target statuses are on
     * unless a test asks for the product default (`{}`: one combined status or check run per commit).
     */
    commitReport?: CommitReporterOptions;
    /** GitHub credentials. @default a token */
    auth?: (github: GitHubApiServer) => GitHubAuth;
  } = {},
) => {
  const dir = mkdtempSync(join(tmpdir(), 'driftless-e2e-'));
  const repoDir = join(dir, 'repo');
  mkdirSync(repoDir);
  const git = (...args: string[]) => execFileSync('git', ['-C', repoDir, '-c', 'user.name=Octo Cat', '-c', 'user.email=octo@example.com', ...args], { encoding: 'utf8' }).trim();
  git('init', '-q', '-b', 'main');
  const write = (files: Record<string, string | null>) => {
    for (const [p, content] of Object.entries(files)) {
      const abs = join(repoDir, p);
      if (content === null) rmSync(abs, { force: true });
      else {
        mkdirSync(dirname(abs), { recursive: true });
        writeFileSync(abs, content);
      }
    }
  };
  const commit = (files: Record<string, string | null>, message = 'change'): string => {
    write(files);
    git('add', '-A');
    git('commit', '-q', '--allow-empty', '-m', message);
    return git('rev-parse', 'HEAD');
  };

  const dev = new KubeApiServer({ latencyMs: options.kubeLatencyMs ?? 0, namespaceController: true });
  const prod = new KubeApiServer({ namespaceController: true });
  await dev.start();
  await prod.start();
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1\nkind: Config\ncurrent-context: dev\nclusters:\n- name: dev\n  cluster: {server: ${dev.url}, insecure-skip-tls-verify: true}\n- name: prod\n  cluster: {server: ${prod.url}, insecure-skip-tls-verify: true}\nusers:\n- name: admin\n  user: {token: test-admin-token}\ncontexts:\n- name: dev\n  context: {cluster: dev, user: admin}\n- name: prod\n  context: {cluster: prod, user: admin}\n`,
  );
  const registry = parseRegistry(
    JSON.stringify({
      repositories: {
        [REPO]: {
          clusters: ['dev', 'prod'],
          namespaces: ['shop-*'],
          stackPrefix: 'acme-',
          regions: ['eu-west-1'],
          cloudformation: { capabilities: ['CAPABILITY_NAMED_IAM'] },
          ...options.grant,
        },
      },
      clusters: { dev: { context: 'dev', kubeconfig }, prod: { context: 'prod', kubeconfig }, staging: { context: 'dev', kubeconfig } },
    }),
  );
  const db = await startLedgerDb();
  const { ledger, table } = await db.ledger();
  const github = new GitHubApiServer(REPO, repoDir);
  await github.start();
  const source = new GitHubSource({ auth: options.auth?.(github) ?? { token: 'test-token' }, baseUrl: github.url });
  const notices: unknown[] = [];
  /** What the commit reporter logged (a report it could not write). */
  const reportLog: Record<string, unknown>[] = [];
  const clusters = clusterClients(registry, async () => '', true);
  /** How the pipeline's targets are reached; read on each open, so a test may give it CloudFormation access or a registry. */
  const access: { -readonly [K in keyof TargetAccess]: TargetAccess[K] } & { cluster: typeof clusters } = { registry, cluster: clusters };
  const late: { lambda?: LambdaClient } = {};
  // The one composition, as the deployed functions and serve build it, over the local servers.
  const composed = compose({
    registry,
    ledger,
    source,
    targets: targetOpener(access),
    labelled: async (cluster, signal) => labelledByTarget(await access.cluster(cluster), signal ? { signal } : {}),
    handOff: (request) => lambdaHandOff(late.lambda as LambdaClient, 'reconcile')(request),
    handOffPreview: (job) => lambdaHandOff(late.lambda as LambdaClient, 'reconcile')(job),
    secrets: async () => [...webhookDeps.secrets],
    notifier: { failure: async (n) => void notices.push(n), drift: async () => undefined },
    // These tests assert each target's own status, so per-target statuses are on unless a test asks for the
    // product default (`{}`: one combined status or check run per commit).
    commitReport: options.commitReport ?? { perTargetStatuses: true },
    reportLog: (message, fields) => void reportLog.push({ message, ...fields }),
    log: () => undefined,
  });
  const deps = composed.reconcile as { -readonly [K in keyof typeof composed.reconcile]: (typeof composed.reconcile)[K] };
  const errors: unknown[] = [];
  // The deployed handlers, over the composed deps (which tests may swap a part of).
  /** What each preview job ended with (the reconcile function's answer to a `{ kind: 'preview' }` event). */
  const previews: PreviewOutcome[] = [];
  const invoke = new LocalInvokeServer({
    reconcile: async (event, context) => {
      const out = await createReconcileHandler(deps)(event as ReconcileRequest | PreviewJob, context);
      if (isPreviewJob(event)) previews.push(out as PreviewOutcome);
      return out;
    },
  });
  invoke.onError = (_n, err) => errors.push(err);
  await invoke.start();
  const lambda = (late.lambda = new LambdaClient({ endpoint: invoke.url, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 }));
  const webhookDeps = { ...composed.webhook, secrets: [SECRET] as readonly string[] };

  let deliveries = 0;
  /** Sends a signed delivery through the webhook handler (Function URL event → HTTP response). */
  const deliver = async (event: string, payload: unknown, o: { secret?: string; delivery?: string; body?: string; wait?: boolean } = {}) => {
    const body = o.body ?? JSON.stringify(payload);
    const signature = await sign(o.secret ?? SECRET, o.body !== undefined && payload !== undefined ? JSON.stringify(payload) : body);
    const delivery = o.delivery ?? `delivery-${++deliveries}`;
    const res = await createWebhookHandler({ ...webhookDeps, secrets: async () => [...webhookDeps.secrets] })({
      headers: { 'X-GitHub-Event': event, 'X-GitHub-Delivery': delivery, 'X-Hub-Signature-256': signature, 'Content-Type': 'application/json' },
      body,
    });
    if (o.wait !== false) await invoke.idle();
    return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown>, delivery };
  };

  return {
    dir,
    repoDir,
    git,
    commit,
    write,
    dev,
    prod,
    db,
    ledger,
    table,
    github,
    source,
    deps,
    composed,
    access,
    clusters,
    invoke,
    lambda,
    registry,
    notices,
    errors,
    deliver,
    webhookDeps,
    reportLog,
    previews,
    async stop() {
      lambda.destroy();
      await invoke.stop();
      await github.stop();
      await dev.stop();
      await prod.stop();
      await db.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};
