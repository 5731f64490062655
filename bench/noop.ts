import { loadavg } from 'node:os';
import type { InventoryEntry } from '../lib/core/inventory.js';
import type { KubeObject } from '../lib/core/object-ref.js';
import { driftReport } from '../lib/targets/kubernetes/kubernetes-drift.js';
import { connectionFromKubeconfig } from '../lib/targets/kubernetes/cluster-access.js';
import { HttpKubeClient } from '../lib/targets/kubernetes/http-kube-client.js';
import { KubernetesTarget } from '../lib/targets/kubernetes/kubernetes-target.js';
import { labelledByTarget } from '../lib/targets/kubernetes/labelled-objects.js';
import { targetLabelValue } from '../lib/core/ownership.js';
import { KubeApiServer } from '../test/kube-api-server/server.js';
import { startSandboxProcess } from './sandbox-process.js';
import { median, ms } from './machine.js';

const LATENCY_MS = 2;
const RUNS = 3;
const PER_OBJECT = new Set(['get', 'dry-run apply', 'apply', 'patch', 'delete']);
/** Requests that name one object, of a run's requests by verb. */
const perObjectRequests = (counts: Record<string, number>): number =>
  Object.entries(counts)
    .filter(([v]) => PER_OBJECT.has(v))
    .reduce((n, [, c]) => n + c, 0);

const deployments = (n: number, ns: string, changed = -1): KubeObject[] =>
  Array.from({ length: n }, (_, i) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `app-${i}`, namespace: ns },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: `app-${i}` } },
      template: { metadata: { labels: { app: `app-${i}` } }, spec: { containers: [{ name: 'app', image: i === changed ? 'nginx:1.27' : 'nginx:1.25' }] } },
    },
  }));
const configMaps = (n: number, ns: string, prefix = 'cm'): KubeObject[] =>
  Array.from({ length: n }, (_, i) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${prefix}-${i}`, namespace: ns }, data: { i: String(i) } }));
/** The inventory as a ledger written before observations existed holds it: refs only (every object is dry-run). */
const refsOnly = (inv: readonly InventoryEntry[]): InventoryEntry[] =>
  inv.map(({ group, kind, namespace, name, origin }) => ({ group, kind, ...(namespace ? { namespace } : {}), name, ...(origin ? { origin } : {}) }));

const fmtCounts = (c: Record<string, number>): string =>
  Object.entries(c)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || 'none';

/**
 * No-op and small-change syncs, diffs and drift checks, and creates, on the sandbox cluster with 2 ms of latency
 * per request: API requests by verb, with the inventory's observations and without them (as before).
 */
export const benchNoop = async (): Promise<string> => {
  const server = new KubeApiServer({ latencyMs: LATENCY_MS, simulateControllers: true });
  await server.start();
  const client = new HttpKubeClient(await connectionFromKubeconfig({ contents: server.kubeconfig(), allowPlugins: false }));
  const rows: string[] = [];
  const measure = async (name: string, objects: number, fn: () => Promise<unknown>, runs = RUNS) => {
    const walls: number[] = [];
    let counts: Record<string, number> = {};
    for (let r = 0; r < runs; r++) {
      server.resetLog();
      const t = performance.now();
      await fn();
      walls.push(performance.now() - t);
      counts = server.counts();
    }
    const perObject = perObjectRequests(counts);
    rows.push(`| ${name} | ${objects} | ${fmtCounts(counts)} | ${perObject} | ${(perObject / objects).toFixed(2)} | ${ms(median(walls))} |`);
    process.stderr.write(`noop ${name}: ${fmtCounts(counts)}; ${ms(median(walls))} ms\n`);
  };
  try {
    await client.discover();
    for (const ns of ['deploy', 'cms', 'drift']) server.createNamespace(ns);

    // 100 Deployments.
    const web = new KubernetesTarget(client, { id: 'bench/noop/web', concurrency: 8 });
    let inv = (await web.sync(deployments(100, 'deploy'), { previousInventory: [] })).inventory;
    await new Promise((r) => setTimeout(r, 300)); // the simulated controller writes each Deployment's status
    await measure(
      'sync 100 Deployments, first after the rollout (status writes moved every resourceVersion)',
      100,
      async () => {
        inv = (await web.sync(deployments(100, 'deploy'), { previousInventory: inv })).inventory;
      },
      1,
    );
    await measure('sync 100 Deployments, nothing changed', 100, () => web.sync(deployments(100, 'deploy'), { previousInventory: inv }));
    await measure('  without observations (before)', 100, () => web.sync(deployments(100, 'deploy'), { previousInventory: refsOnly(inv) }));
    await measure('diff 100 Deployments, one changed in Git', 100, () => web.preview(deployments(100, 'deploy', 42), { previousInventory: inv }));
    await measure('  without observations (before)', 100, () => web.preview(deployments(100, 'deploy', 42), { previousInventory: refsOnly(inv) }));

    // 1,000 ConfigMaps.
    const cms = new KubernetesTarget(client, { id: 'bench/noop/cms', concurrency: 8 });
    const cmInv = (await cms.sync(configMaps(1000, 'cms'), { previousInventory: [] })).inventory;
    await measure('sync 1,000 ConfigMaps, nothing changed', 1000, () => cms.sync(configMaps(1000, 'cms'), { previousInventory: cmInv }));
    await measure('  without observations (before)', 1000, () => cms.sync(configMaps(1000, 'cms'), { previousInventory: refsOnly(cmInv) }), 1);
    // 10 changed in Git: measured once (the next run would be a no-op), then put back outside the log.
    const changed = configMaps(1000, 'cms').map((o, i) => (i % 100 === 0 ? { ...o, data: { i: 'changed' } } : o));
    let after: InventoryEntry[] = [];
    await measure(
      'sync 1,000 ConfigMaps, 10 changed in Git',
      1000,
      async () => {
        after = (await cms.sync(changed, { previousInventory: cmInv })).inventory;
      },
      1,
    );
    await cms.sync(configMaps(1000, 'cms'), { previousInventory: after });

    // Drift check of 2,000 unchanged ConfigMaps: plan with the inventory, plus the cluster's labelled-object discovery.
    const drift = new KubernetesTarget(client, { id: 'bench/noop/drift', concurrency: 8 });
    const driftObjects = configMaps(2000, 'drift');
    const driftInv = (await drift.sync(driftObjects, { previousInventory: [] })).inventory;
    const check = async (known: readonly InventoryEntry[]) => {
      const plan = await drift.plan(await drift.prepare(driftObjects), undefined, undefined, { known, validateCreates: false });
      const labelled = (await labelledByTarget(client)).get(targetLabelValue('bench/noop/drift')) ?? [];
      const report = driftReport('bench/noop/drift', plan.objects, labelled, driftInv);
      if (report.objects.length) throw new Error(`bench: unexpected drift ${JSON.stringify(report.objects[0])}`);
    };
    await measure('drift check of 2,000 unchanged ConfigMaps', 2000, () => check(driftInv));
    await measure('  without observations (before)', 2000, () => check(refsOnly(driftInv)), 1);
  } finally {
    client.close();
    await server.stop();
  }
  rows.push(...(await createRows()));
  return [
    `The sandbox cluster (lib/local/sandbox-cluster) with ${LATENCY_MS} ms of latency per request and its Deployment status`,
    'controller on; in-process KubernetesTarget, concurrency 8, warm client (discovery cached). "Per object" counts',
    'requests that name one object (GET, dry run, apply, patch, DELETE); LIST and discovery are per kind and namespace.',
    `Wall time is the median of ${RUNS} runs (1 for the "before" rows of the large cases), on a shared machine (1-minute load`,
    `average ${loadavg()[0]?.toFixed(1) ?? '?'} at the end): request counts are exact, wall times indicative. "Without observations" is the`,
    'same run with an inventory of refs only, as a ledger written before this change holds it: one dry run per object.',
    '',
    '| run | objects | API requests by verb | per-object requests | per object | wall time (ms) |',
    '|---|---:|---|---:|---:|---:|',
    ...rows,
    '',
    'A no-op sync, diff or drift check costs the LISTs that read live state and nothing per object: the inventory',
    "records each object's desired digest and live resourceVersion, and an unchanged pair skips the dry run",
    '(lib/targets/kubernetes/apply-cache.ts). The first sync after a rollout dry-runs each Deployment once, because',
    "the controller's status write moved its resourceVersion; it records the new one. The drift check's labelled-object",
    'discovery (one LIST per served kind, cluster-wide) is made once per cluster per drift run for all of its targets.',
    'A create sends no dry run when no object of that name exists (one unfiltered LIST per kind and namespace and one',
    'GET of the namespace, in one round, tell): the apply is its validation.',
    '',
    `The create rows run against a sandbox API server in a process of its own (bench/sandbox-process.ts), as a real API`,
    "server is, so that its work (parsing, field sets, serialising) does not share the client's event loop; median of",
    `${CREATE_RUNS} runs, each into a namespace of its own. "8 in flight" is a pool: a new apply starts as one ends. "The same`,
    'bodies" applies the objects as driftless sends them (with the ownership label and annotation).',
  ].join('\n');
};

const CREATE_RUNS = 5;

/**
 * A sync that creates 100 ConfigMaps, against raw keep-alive server-side apply of the same 100 objects with 8 in
 * flight, on a sandbox API server in its own process; and the same create into a namespace that already holds
 * 1,000 objects (the unfiltered LIST that tells absence reads them all).
 */
const createRows = async (): Promise<string[]> => {
  const server = await startSandboxProcess({ latencyMs: LATENCY_MS });
  const client = new HttpKubeClient(await connectionFromKubeconfig({ contents: await server.kubeconfig(), allowPlugins: false }));
  try {
    const info = (await client.discover()).get('v1/ConfigMap');
    if (!info) throw new Error('bench: no ConfigMap in discovery');
    const pool = async (objects: readonly KubeObject[]) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          for (let o = objects[next++]; o; o = objects[next++]) {
            const meta = o.metadata as { name: string; namespace: string };
            await client.apply({ info, namespace: meta.namespace, name: meta.name }, o, { fieldManager: 'bench', force: true, dryRun: false });
          }
        }),
      );
    };
    const crowded = 'create-crowded';
    await server.createNamespace(crowded);
    await pool(configMaps(1000, crowded, 'other'));
    const walls = { ours: [] as number[], crowded: [] as number[], raw: [] as number[], same: [] as number[] };
    let counts: Record<string, number> = {};
    let crowdedCounts: Record<string, number> = {};
    const timedCreate = async (id: string, objects: KubeObject[]): Promise<number> => {
      const creator = new KubernetesTarget(client, { id, concurrency: 8 });
      await server.resetLog();
      const t = performance.now();
      const res = await creator.sync(objects, { previousInventory: [] });
      const wall = performance.now() - t;
      if (res.failed) throw new Error(`bench: create failed: ${res.error}`);
      return wall;
    };
    for (let r = 1; r <= CREATE_RUNS; r++) {
      for (const ns of ['ours', 'raw', 'same']) await server.createNamespace(`create-${ns}-${r}`);
      walls.ours.push(await timedCreate(`bench/noop/create-${r}`, configMaps(100, `create-ours-${r}`)));
      counts = await server.counts();
      walls.crowded.push(await timedCreate(`bench/noop/crowded-${r}`, configMaps(100, crowded, `new-${r}`)));
      crowdedCounts = await server.counts();
      const bare = configMaps(100, `create-raw-${r}`);
      let t = performance.now();
      await pool(bare);
      walls.raw.push(performance.now() - t);
      const same = (await new KubernetesTarget(client, { id: `bench/noop/same-${r}`, concurrency: 8 }).prepare(configMaps(100, `create-same-${r}`))).map((p) => p.obj);
      t = performance.now();
      await pool(same);
      walls.same.push(performance.now() - t);
    }
    const row = (name: string, c: Record<string, number>, w: number[]) =>
      `| ${name} | 100 | ${fmtCounts(c)} | ${perObjectRequests(c)} | ${(perObjectRequests(c) / 100).toFixed(2)} | ${ms(median(w))} |`;
    const out = [
      row('sync that creates 100 ConfigMaps', counts, walls.ours),
      row('  into a namespace holding 1,000 other ConfigMaps', crowdedCounts, walls.crowded),
      row('  raw keep-alive server-side apply, 8 in flight', { apply: 100 }, walls.raw),
      row('  raw, the same bodies (ownership label and annotation)', { apply: 100 }, walls.same),
    ];
    process.stderr.write(
      `noop create: ours ${ms(median(walls.ours))} ms, crowded ${ms(median(walls.crowded))} ms, raw ${ms(median(walls.raw))} ms, same bodies ${ms(median(walls.same))} ms\n`,
    );
    return out;
  } finally {
    client.close();
    await server.stop();
  }
};
