import { generateKeyPairSync } from 'node:crypto';
import pullRequestExamples from '@octokit/webhooks-examples';
import { CHECK_NAME } from '../lib/preview/preview-report.js';
import { pushPayload, REPO, startPipeline } from '../test/support/pipeline.js';
import { median, ms } from './machine.js';

/** The size of the repository: targets × objects each. `DRIFTLESS_BENCH_PREVIEW_SIZE=TxO` runs a smaller one on a shared machine. */
const size = (): { targets: number; objects: number } => {
  const m = /^(\d+)x(\d+)$/.exec(process.env.DRIFTLESS_BENCH_PREVIEW_SIZE ?? '');
  return m ? { targets: Number(m[1]), objects: Number(m[2]) } : { targets: 10, objects: 50 };
};
const RUNS = 3;

const names = (n: number) => Array.from({ length: n }, (_, i) => `t${String(i).padStart(2, '0')}`);
const configOf = (targets: readonly string[]) =>
  `version: 1\ntargets:\n${targets.map((t) => `  - name: ${t}\n    path: deploy/${t}\n    cluster: dev\n    namespace: shop-${t}\n`).join('')}`;
/** Each target: its Namespace and `objects - 1` ConfigMaps whose value is `version`. */
const files = (targets: readonly string[], objects: number, version: string): Record<string, string> =>
  Object.fromEntries(
    targets.flatMap((t): [string, string][] => [
      [`deploy/${t}/ns.yaml`, `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop-${t}\n`],
      ...Array.from({ length: objects - 1 }, (_, i): [string, string] => [
        `deploy/${t}/cm-${i}.yaml`,
        `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\ndata:\n  version: "${version}"\n`,
      ]),
    ]),
  );

const pullRequest = (head: string, base: string) => {
  const all = pullRequestExamples as unknown as { name: string; examples: Record<string, unknown>[] }[];
  const payload = structuredClone((all.find((e) => e.name === 'pull_request')?.examples ?? []).find((e) => e.action === 'synchronize') as Record<string, unknown>);
  const repository = { ...(payload.repository as object), full_name: REPO };
  const pr = payload.pull_request as Record<string, Record<string, unknown>>;
  return {
    ...payload,
    repository,
    pull_request: { ...pr, number: 3, head: { ...pr.head, sha: head, repo: repository }, base: { ...pr.base, sha: base, ref: 'main', repo: repository } },
  };
};

/**
 * Webhook to completed check run for a pull request that changes every object of every target, on the local
 * stack (DynamoDB Local, the local GitHub endpoint with a GitHub App, the test API server, the Invoke endpoint):
 * wall time, GitHub reads and writes, Kubernetes requests per preview.
 */
export const benchPreview = async (): Promise<string> => {
  const { targets: n, objects } = size();
  const targets = names(n);
  const appAuth = () => ({
    appId: 123,
    privateKey: generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } })
      .privateKey,
  });
  const p = await startPipeline({ auth: appAuth, commitReport: {} });
  try {
    const base = p.commit({ 'driftless.yaml': configOf(targets), ...files(targets, objects, '0') }, 'base');
    await p.deliver('push', pushPayload('0'.repeat(40), base));
    if (p.errors.length) throw new Error(`bench preview: base sync failed: ${String(p.errors[0])}`);
    p.git('checkout', '-q', '-b', 'change');
    const rows: { wall: number; reads: number; writes: number; kube: number; text: number; conclusion: string }[] = [];
    for (let r = 1; r <= RUNS; r++) {
      const head = p.commit(files(targets, objects, String(r)), `change ${r}`);
      const since = p.github.requests.length;
      p.dev.resetLog();
      const t = performance.now();
      const res = await p.deliver('pull_request', pullRequest(head, base));
      const wall = performance.now() - t;
      const run = p.github.checkRuns.find((c) => c.head_sha === head && c.name === CHECK_NAME);
      if (res.status !== 202 || run?.status !== 'completed') throw new Error(`bench preview: run ${r}: ${res.status} ${JSON.stringify(run?.output.title)}`);
      const spent = p.github.requests.slice(since).filter((q) => !q.path.startsWith('/_codeload') && !q.path.startsWith('/app/'));
      rows.push({
        wall,
        reads: spent.filter((q) => q.method === 'GET').length,
        writes: spent.filter((q) => q.method !== 'GET').length,
        kube: p.dev.requests.length,
        text: run.output.text?.length ?? 0,
        conclusion: `${run.conclusion ?? '?'}: ${run.output.title}`,
      });
      process.stderr.write(`preview run ${r}: ${ms(wall)} ms, ${rows.at(-1)?.reads} reads, ${rows.at(-1)?.writes} writes\n`);
    }
    const last = rows.at(-1) as (typeof rows)[number];
    const total = n * objects;
    return [
      `A pull request changing every object of ${n} targets × ${objects} objects (${total.toLocaleString('en-US')} objects: one Namespace and ${objects - 1} ConfigMaps each)${
        n === 10 && objects === 50
          ? ''
          : ` — **a smaller run than the issue's 10 × 50** (\`DRIFTLESS_BENCH_PREVIEW_SIZE=${n}x${objects}\`, on a machine shared with other sessions)`
      }. From the signed \`pull_request\` delivery to the completed check run \`driftless preview\`: the webhook, the hand-off, the compare and two tarballs, one server-side dry run per object, the report and its two writes. All local: DynamoDB Local, the local GitHub endpoint (a GitHub App), the test API server in the same process, the real LambdaClient and Octokit.`,
      '',
      '| measure | result | budget |',
      '|---|---:|---:|',
      `| webhook → check run completed, median of ${RUNS} | ${ms(median(rows.map((x) => x.wall)))} ms | |`,
      `| GitHub reads per preview (compare, 2 tarballs; the installation token is cached) | ${last.reads} | ≤ 3 |`,
      `| GitHub writes per preview (create in progress, complete; annotations: none here) | ${last.writes} | ≤ 2 + batches |`,
      `| Kubernetes API requests per preview | ${last.kube} | |`,
      `| check-run text (characters; GitHub's limit 65,535) | ${last.text.toLocaleString('en-US')} | ≤ 65,535 |`,
      `| conclusion | ${last.conclusion} | |`,
      '',
      'GitHub calls do not grow with the number of targets or objects: the preview reads the pull request once (a',
      'compare of `main...head`) and both trees once (two tarballs), and writes the check run twice. The text is cut at',
      "a target's section with a count of the targets left out once it would pass GitHub's limit.",
    ].join('\n');
  } finally {
    await p.stop();
  }
};
