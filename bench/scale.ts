import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { sign } from '@octokit/webhooks-methods';
import { compose } from '../functions/common/compose.js';
import { createHandler as createDriftHandler } from '../functions/drift/handler.js';
import { createHandler as createReconcileHandler } from '../functions/reconcile/handler.js';
import { createHandler as createWebhookHandler } from '../functions/webhook/handler.js';
import { parseRegistry } from '../lib/config/load-config.js';
import type { DriftMessage, DriftQueue } from '../lib/core/drift-queue.js';
import type { ReconcileRequest } from '../lib/reconcile/reconcile-target.js';
import { GitHubSource } from '../lib/source/github-source.js';
import { clusterClients } from '../lib/targets/kubernetes/cluster-clients.js';
import { labelledByTarget } from '../lib/targets/kubernetes/labelled-objects.js';
import { targetOpener } from '../lib/targets/open-target.js';
import { cachingSnapshots } from '../lib/source/snapshot-cache.js';
import { GitHubApiServer } from '../test/github-api-server/server.js';
import { KubeApiServer } from '../test/kube-api-server/server.js';
import { startLedgerDb } from '../test/support/ledger.js';
import { pushPayload } from '../test/support/pipeline.js';
import { ms } from './machine.js';

/** `npm run bench -- scale --targets=N --objects=N --clusters=N --push=N --latency=MS` (defaults: issue 17's size). */
const flag = (name: string, fallback: number): number => {
  const v = process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const n = v === undefined ? fallback : Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name}=${v}: expected a positive whole number`);
  return n;
};

const REPO = 'acme/mono';
const SECRET = 'scale-s3cret';
/** Lambda's reserved concurrency for reconcile in the stack (the async hand-off's ceiling). */
const RECONCILE_CONCURRENCY = 20;
/** Records per SQS batch the drift function receives. */
const DRIFT_BATCH = 10;
const PER_OBJECT = new Set(['get', 'dry-run apply', 'apply', 'patch', 'delete', 'create', 'update']);

const fmt = (c: Record<string, number>): string =>
  Object.entries(c)
    .filter(([, v]) => v > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || 'none';

/** Lambda's retries of an async invocation whose function threw (the stack's `retryAttempts`). */
const ASYNC_RETRIES = 2;
/** Lambda waits a minute, then two, before a retry; the bench waits this long (it counts retries, not their delay). */
const RETRY_DELAY_MS = 1000;

/**
 * The async hand-off of the deployed webhook, with reconcile's reserved concurrency and Lambda's retries of an
 * invocation that threw: a local Lambda queue. What still fails after the retries is an error (Lambda's DLQ).
 */
const asyncFunction = (run: (request: ReconcileRequest) => Promise<unknown>, concurrency: number) => {
  const waiting: { request: ReconcileRequest; attempt: number }[] = [];
  let running = 0;
  let delayed = 0;
  let idle: (() => void)[] = [];
  const errors: unknown[] = [];
  const retried: unknown[] = [];
  const pump = () => {
    while (running < concurrency && waiting.length) {
      const next = waiting.shift() as { request: ReconcileRequest; attempt: number };
      running++;
      void run(next.request)
        .catch((err: unknown) => {
          if (next.attempt >= ASYNC_RETRIES) return void errors.push(err);
          retried.push(err);
          delayed++;
          setTimeout(() => {
            delayed--;
            waiting.push({ request: next.request, attempt: next.attempt + 1 });
            pump();
          }, RETRY_DELAY_MS);
        })
        .finally(() => {
          running--;
          pump();
        });
    }
    if (!running && !waiting.length && !delayed) {
      for (const f of idle) f();
      idle = [];
    }
  };
  return {
    errors,
    retried,
    handOff: async (request: ReconcileRequest) => {
      waiting.push({ request, attempt: 0 });
      queueMicrotask(pump);
    },
    idle: () => (running || waiting.length || delayed ? new Promise<void>((r) => idle.push(r)) : Promise.resolve()),
  };
};

/**
 * Issue 17's scale run on local services: T targets × O objects over C sandbox clusters (latency per request), one
 * monorepo, DynamoDB Local, the local GitHub endpoint. Measures a monorepo push touching P targets (webhook to all
 * applied, GitHub reads and writes, API requests by verb) and a drift run (the deployed drift function: schedule,
 * then the queue's batches) with nothing changed and with 10 objects edited by another manager.
 */
export const benchScale = async (): Promise<string> => {
  const size = { targets: flag('targets', 1000), objects: flag('objects', 40), clusters: flag('clusters', 10), push: flag('push', 300), latency: flag('latency', 2) };
  const dir = mkdtempSync(join(tmpdir(), 'driftless-scale-'));
  const repoDir = join(dir, 'repo');
  mkdirSync(repoDir);
  const git = (...args: string[]) => execFileSync('git', ['-C', repoDir, '-c', 'user.name=Octo Cat', '-c', 'user.email=octo@example.com', ...args], { encoding: 'utf8' }).trim();
  git('init', '-q', '-b', 'main');
  const commit = (files: Record<string, string>): string => {
    for (const [p, content] of Object.entries(files)) {
      mkdirSync(dirname(join(repoDir, p)), { recursive: true });
      writeFileSync(join(repoDir, p), content);
    }
    git('add', '-A');
    git('commit', '-q', '-m', 'change');
    return git('rev-parse', 'HEAD');
  };
  const name = (t: number) => `t${String(t).padStart(4, '0')}`;
  const objects = (t: number, version: string) =>
    [
      `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop-${name(t)}\n`,
      ...Array.from(
        { length: size.objects - 1 },
        (_, i) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\n  namespace: shop-${name(t)}\ndata:\n  i: "${i}"\n  v: "${i === 0 ? version : '1'}"\n`,
      ),
    ].join('---\n');

  const clusters = Array.from({ length: size.clusters }, () => new KubeApiServer({ namespaceController: true }));
  await Promise.all(clusters.map((c) => c.start()));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      ...clusters.map((c, i) => `- name: c${i}\n  cluster: {server: ${c.url}, insecure-skip-tls-verify: true}`),
      'users:\n- name: admin\n  user: {token: test-admin-token}',
      'contexts:',
      ...clusters.map((_, i) => `- name: c${i}\n  context: {cluster: c${i}, user: admin}`),
      '',
    ].join('\n'),
  );
  const registry = parseRegistry(
    JSON.stringify({
      repositories: { [REPO]: { clusters: clusters.map((_, i) => `c${i}`), namespaces: ['shop-*'] } },
      clusters: Object.fromEntries(clusters.map((_, i) => [`c${i}`, { context: `c${i}`, kubeconfig }])),
    }),
  );
  const db = await startLedgerDb();
  const { ledger } = await db.ledger();
  const github = new GitHubApiServer(REPO, repoDir);
  await github.start();
  const source = new GitHubSource({ auth: { token: 'test-token' }, baseUrl: github.url });
  const late: { run?: (request: ReconcileRequest) => Promise<unknown> } = {};
  const reconcile = asyncFunction((request) => (late.run as NonNullable<typeof late.run>)(request), RECONCILE_CONCURRENCY);
  const messages: DriftMessage[] = [];
  const queue: DriftQueue = { send: async (m) => void messages.push(...m) };
  // The one composition, as the deployed functions build it, over the local services.
  const kube = clusterClients(registry, async () => '', true);
  const composed = compose({
    registry,
    ledger,
    targets: targetOpener({ registry, cluster: kube }),
    labelled: async (cluster, signal) => labelledByTarget(await kube(cluster), signal ? { signal } : {}),
    // As the deployed functions: one tarball fetch per commit per warm process.
    source: cachingSnapshots(source),
    handOff: (request) => reconcile.handOff(request),
    secrets: async () => [SECRET],
    queue,
    log: () => undefined,
  });
  const context = () => ({ awsRequestId: randomUUID(), getRemainingTimeInMillis: () => 15 * 60_000 });
  const reconcileHandler = createReconcileHandler(composed.reconcile);
  late.run = (request) => reconcileHandler(request, context());
  const webhook = createWebhookHandler(composed.webhook);
  const drift = createDriftHandler(composed.drift);
  let deliveries = 0;
  const push = async (before: string, after: string) => {
    const body = JSON.stringify(pushPayload(before, after, 'main', REPO));
    const res = await webhook({
      headers: { 'X-GitHub-Event': 'push', 'X-GitHub-Delivery': `d-${++deliveries}`, 'X-Hub-Signature-256': await sign(SECRET, body), 'Content-Type': 'application/json' },
      body,
    });
    if (res.statusCode !== 202) throw new Error(`push answered ${res.statusCode}: ${res.body}`);
    await reconcile.idle();
    if (reconcile.errors.length) throw new Error(`reconcile failed after ${ASYNC_RETRIES} retries: ${String(reconcile.errors[0])}`);
  };
  const apiCounts = () => {
    const out: Record<string, number> = {};
    for (const c of clusters) for (const [k, v] of Object.entries(c.counts())) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  const reset = () => {
    for (const c of clusters) c.resetLog();
    github.requests.length = 0;
  };
  const perObject = (c: Record<string, number>) => Object.entries(c).reduce((n, [k, v]) => n + (PER_OBJECT.has(k) ? v : 0), 0);
  /** The drift function: the schedule enqueues one message per target, then the queue's batches (grouped by cluster). */
  const driftRun = async () => {
    messages.length = 0;
    await drift({ time: new Date().toISOString() }, context());
    const byGroup = new Map<string, DriftMessage[]>();
    for (const m of messages) byGroup.set(m.group, [...(byGroup.get(m.group) ?? []), m]);
    let failed = 0;
    let drifted = 0;
    await Promise.all(
      [...byGroup.values()].map(async (group) => {
        for (let i = 0; i < group.length; i += DRIFT_BATCH) {
          const batch = group.slice(i, i + DRIFT_BATCH).map((m, k) => ({ messageId: `${i + k}`, body: JSON.stringify(m) }));
          const out = (await drift({ Records: batch }, context())) as { batchItemFailures: unknown[] };
          failed += out.batchItemFailures.length;
        }
      }),
    );
    for (const m of messages) if ((await ledger.getState(m.targetId))?.drift?.status === 'drifted') drifted++;
    return { enqueued: messages.length, failed, drifted };
  };

  try {
    const targetsYaml = Array.from(
      { length: size.targets },
      (_, t) => `  - name: ${name(t)}\n    path: deploy/${name(t)}\n    cluster: c${t % size.clusters}\n    namespace: shop-${name(t)}\n`,
    ).join('');
    const files: Record<string, string> = { 'driftless.yaml': `version: 1\ntargets:\n${targetsYaml}` };
    for (let t = 0; t < size.targets; t++) files[`deploy/${name(t)}/objects.yaml`] = objects(t, '1');
    const first = commit(files);
    const progress = (what: string) => process.stderr.write(`scale: ${what}\n`);
    progress(`first sync of ${size.targets} targets × ${size.objects} objects…`);
    let t0 = performance.now();
    await push('0'.repeat(40), first);
    const initial = performance.now() - t0;
    const initialRetries = reconcile.retried.length;

    for (const c of clusters) c.latencyMs = size.latency;
    const rows: string[] = [];
    // A monorepo push that changes one object in each of P targets.
    const changed: Record<string, string> = {};
    for (let t = 0; t < Math.min(size.push, size.targets); t++) changed[`deploy/${name(t)}/objects.yaml`] = objects(t, '2');
    const second = commit(changed);
    progress(`a push touching ${Math.min(size.push, size.targets)} targets…`);
    reset();
    const retriesBefore = reconcile.retried.length;
    t0 = performance.now();
    await push(first, second);
    const pushRetries = reconcile.retried.length - retriesBefore;
    const pushWall = performance.now() - t0;
    const pushApi = apiCounts();
    const reads = github.reads().length;
    const writes = github.writes().length;
    rows.push(
      `| monorepo push touching ${Math.min(size.push, size.targets)} targets (1 object changed in each) | ${ms(pushWall)} | ${fmt(pushApi)} | ${perObject(pushApi)} | ${(perObject(pushApi) / (Math.min(size.push, size.targets) * size.objects)).toFixed(3)} | GitHub reads ${reads}, writes ${writes}${pushRetries ? `; ${pushRetries} invocations retried` : ''} |`,
    );

    progress('a drift run, nothing changed…');
    reset();
    t0 = performance.now();
    const clean = await driftRun();
    const cleanWall = performance.now() - t0;
    const cleanApi = apiCounts();
    rows.push(
      `| drift run, nothing changed (${clean.enqueued} targets) | ${ms(cleanWall)} | ${fmt(cleanApi)} | ${perObject(cleanApi)} | ${(perObject(cleanApi) / (size.targets * size.objects)).toFixed(4)} | ${clean.drifted} drifted, ${clean.failed} failed; GitHub reads ${github.reads().length}, writes ${github.writes().length} |`,
    );

    // Another manager edits 10 objects, in 10 targets on different clusters.
    for (let k = 0; k < 10; k++) {
      const t = (k * Math.floor(size.targets / 10) + k) % size.targets;
      const res = await fetch(
        `${clusters[t % size.clusters]?.url}/api/v1/namespaces/shop-${name(t)}/configmaps/cm-${1 + (k % Math.max(1, size.objects - 2))}?fieldManager=kubectl-edit`,
        {
          method: 'PATCH',
          headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/merge-patch+json' },
          body: JSON.stringify({ data: { i: 'edited' } }),
        },
      );
      if (!res.ok) throw new Error(`edit of cm in ${name(t)} answered ${res.status}: ${JSON.stringify(await ledger.getState(`${REPO}/${name(t)}`))?.slice(0, 600)}`);
    }
    progress('a drift run, 10 objects edited…');
    reset();
    t0 = performance.now();
    const edited = await driftRun();
    const editedWall = performance.now() - t0;
    const editedApi = apiCounts();
    rows.push(
      `| drift run, 10 objects edited by another manager | ${ms(editedWall)} | ${fmt(editedApi)} | ${perObject(editedApi)} | ${(perObject(editedApi) / (size.targets * size.objects)).toFixed(4)} | ${edited.drifted} drifted, ${edited.failed} failed |`,
    );

    const listsPerCluster = (cleanApi.list ?? 0) / size.clusters;
    return [
      `${size.targets} targets × ${size.objects} objects (a Namespace and ${size.objects - 1} ConfigMaps each) in one repository, over ${size.clusters} sandbox clusters with ${size.latency} ms of latency per request, on DynamoDB Local and the local GitHub endpoint (token auth: commit statuses). The deployed handlers run in-process through the one composition: the webhook, reconcile behind a local async queue with the stack's reserved concurrency (${RECONCILE_CONCURRENCY}), and the drift function (the schedule enqueues one message per target; batches of ${DRIFT_BATCH} per cluster group, as the FIFO queue delivers them). The first sync of all targets (not a row: creates, no latency) took ${ms(initial)} ms${initialRetries ? `, with ${initialRetries} reconcile invocations retried as Lambda retries an async invocation that threw (${ASYNC_RETRIES} retries; here a ledger call past its deadline on DynamoDB Local under load)` : ''}.`,
      '',
      '| run | wall time (ms) | API requests by verb | per-object requests | per object | notes |',
      '|---|---:|---|---:|---:|---|',
      ...rows,
      '',
      `Drift discovery: ${listsPerCluster.toFixed(1)} LISTs per cluster for ${size.targets / size.clusters} targets each (one LIST per served kind per cluster per batch, then one per kind and namespace per target).`,
    ].join('\n');
  } finally {
    await github.stop();
    await Promise.all(clusters.map((c) => c.stop()));
    await db.stop();
    rmSync(dir, { recursive: true, force: true });
  }
};
