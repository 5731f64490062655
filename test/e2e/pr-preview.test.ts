import { generateKeyPairSync } from 'node:crypto';
import {
  CloudFormationClient,
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
} from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { writeFileSync } from 'node:fs';
import pullRequestExamples from '@octokit/webhooks-examples';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECK_NAME, COMMENT_MARKER } from '../../lib/preview/preview-report.js';
import { pullRequestKey } from '../../lib/preview/run-preview.js';
import { GitHubSource } from '../../lib/source/github-source.js';
import { pushPayload, REPO, startPipeline } from '../support/pipeline.js';
import type { Pipeline } from '../support/manifests.js';

/** Verbs that write to a cluster: a preview sends none of them (its dry runs are logged as `dry-run …`). */
const WRITES = ['apply', 'patch', 'update', 'create', 'delete', 'deletecollection'];

const CONFIG = `version: 1
targets:
  - name: web
    path: deploy/web
    cluster: dev
    namespace: shop-web
    prune:
      allowKinds: [Namespace]
  - name: api
    path: deploy/api
    cluster: dev
    namespace: shop-api
`;
const deployment = (image: string) =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n        - name: web\n          image: ${image}\n`;
const kustomization = (resources: string[]) => `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n${resources.map((r) => `  - ${r}\n`).join('')}`;
const cm = (name: string, ns?: string, value = 'v') => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${ns ? `  namespace: ${ns}\n` : ''}data:\n  k: ${value}\n`;
const BASE_FILES = {
  'driftless.yaml': CONFIG,
  'deploy/web/kustomization.yaml': kustomization(['ns.yaml', 'deploy.yaml', 'cm.yaml', 'legacy.yaml']),
  'deploy/web/ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop-web\n',
  'deploy/web/deploy.yaml': deployment('nginx:1.25'),
  'deploy/web/cm.yaml': cm('settings'),
  'deploy/web/legacy.yaml': `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop-legacy\n---\n${cm('old', 'shop-legacy')}`,
  'deploy/api/kustomization.yaml': kustomization(['ns.yaml', 'cm.yaml']),
  'deploy/api/ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop-api\n',
  'deploy/api/cm.yaml': cm('api'),
};

const appAuth = () => ({
  appId: 123,
  privateKey: generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } })
    .privateKey,
});

/** GitHub's own pull_request payload (@octokit/webhooks-examples), pointed at the test repository's pull request. */
const pullRequestPayload = (action: 'opened' | 'synchronize', head: string, base: string, before?: string) => {
  const all = pullRequestExamples as unknown as { name: string; examples: Record<string, unknown>[] }[];
  const payload = structuredClone((all.find((e) => e.name === 'pull_request')?.examples ?? []).find((e) => e.action === action) as Record<string, unknown>);
  const repository = { ...(payload.repository as object), full_name: REPO, name: REPO.split('/')[1] };
  const pr = payload.pull_request as Record<string, Record<string, unknown>>;
  return {
    ...payload,
    ...(before ? { before, after: head } : {}),
    repository,
    pull_request: { ...pr, number: 2, head: { ...pr.head, sha: head, ref: 'change', repo: repository }, base: { ...pr.base, sha: base, ref: 'main', repo: repository } },
  };
};

describe('pull-request preview with a GitHub App: one check run per head', () => {
  let p: Pipeline;
  let base: string;
  let head: string;
  beforeAll(async () => {
    p = await startPipeline({ auth: appAuth, commitReport: {}, grant: { pruneKinds: ['Namespace'] } });
    base = p.commit(BASE_FILES, 'base');
    // The base is what the cluster runs: synced through the webhook.
    expect((await p.deliver('push', pushPayload('0'.repeat(40), base))).status).toBe(202);
    expect(p.errors).toEqual([]);
    expect(p.dev.get('apps/v1', 'Deployment', 'shop-web', 'web')).toBeDefined();
    p.git('checkout', '-q', '-b', 'change');
    head = p.commit(
      {
        'deploy/web/kustomization.yaml': kustomization(['ns.yaml', 'deploy.yaml', 'cm.yaml', 'extra.yaml']),
        'deploy/web/deploy.yaml': deployment('nginx:1.27'),
        'deploy/web/extra.yaml': cm('extra'),
        'deploy/web/legacy.yaml': null,
        // A broken kustomization: a resource that is not there.
        'deploy/api/kustomization.yaml': kustomization(['ns.yaml', 'cm.yaml', 'missing.yaml']),
      },
      'change',
    );
  }, 180_000);
  afterAll(() => p?.stop());

  it('says before merge what the merge creates, changes and deletes, with the cascade and the broken kustomization at file and line; applies nothing', async () => {
    // GIVEN a pull request that changes an image, adds an object, removes a Namespace holding objects and breaks a kustomization
    p.dev.resetLog();
    const since = p.github.requests.length;
    // WHEN GitHub delivers pull_request opened
    const res = await p.deliver('pull_request', pullRequestPayload('opened', head, base));
    // THEN the webhook hands off one preview (202) and the preview completes one check run on the head
    expect(res).toMatchObject({ status: 202, body: { status: 'accepted', preview: { head, pullRequest: 2 } } });
    expect(p.errors).toEqual([]);
    expect(p.previews).toEqual([expect.objectContaining({ kind: 'done', conclusion: 'failure', via: 'check-run', published: true })]);
    const runs = p.github.checkRuns.filter((r) => r.head_sha === head);
    expect(runs).toHaveLength(1);
    const run = runs[0] as (typeof runs)[number];
    expect(run).toMatchObject({ name: CHECK_NAME, status: 'completed', conclusion: 'failure', output: { title: '1 of 2 targets would not sync' } });
    const rows = run.output.summary.split('\n').filter((l) => l.startsWith('| web') || l.startsWith('| api'));
    expect(rows).toEqual(['| web | kubernetes | 1 | 1 | 2 | ✔ would sync |', expect.stringMatching(/^\| api \| kubernetes \| 0 \| 0 \| 0 \| ✖ .*missing\.yaml/)]);
    const text = run.output.text ?? '';
    expect(text).toContain('~ Deployment/shop-web/web');
    expect(text).toContain('spec.template.spec.containers[name=web].image: nginx:1.25 → nginx:1.27');
    expect(text).toContain('+ ConfigMap/shop-web/extra');
    expect(text).toMatch(/- Namespace\/shop-legacy[^\n]*\n\s+deletes with it 1 object:\n\s+- ConfigMap\/shop-legacy\/old/);
    // The broken kustomization is an annotation at its file and the line naming the missing resource.
    expect(run.annotations).toEqual([expect.objectContaining({ path: 'deploy/api/kustomization.yaml', start_line: 6, end_line: 6, annotation_level: 'failure' })]);
    expect(run.annotations[0]?.message).toContain('missing.yaml');
    // Budget: 3 reads (compare, two tarballs), 2 writes (create, complete with the one batch of annotations).
    const spent = p.github.requests.slice(since).filter((r) => !r.path.startsWith('/_codeload') && !r.path.startsWith('/app/'));
    expect(spent.filter((r) => r.method === 'GET').map((r) => r.path.replace(/[0-9a-f]{40}/g, 'SHA'))).toEqual([
      `/repos/${REPO}/compare/main...SHA`,
      `/repos/${REPO}/tarball/SHA`,
      `/repos/${REPO}/tarball/SHA`,
    ]);
    expect(spent.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`)).toEqual([`POST /repos/${REPO}/check-runs`, `PATCH /repos/${REPO}/check-runs/${run.id}`]);
    // Nothing applied: dry runs only, and the cluster is as the base left it.
    expect(Object.keys(p.dev.counts()).filter((verb) => WRITES.includes(verb))).toEqual([]);
    expect(p.dev.get('v1', 'Namespace', undefined, 'shop-legacy')).toBeDefined();
    expect(p.dev.get('v1', 'ConfigMap', 'shop-web', 'extra')).toBeUndefined();
    // The README's example is this run's markdown.
    if (process.env.DRIFTLESS_PREVIEW_EXAMPLE) writeFileSync(process.env.DRIFTLESS_PREVIEW_EXAMPLE, `${run.output.summary}\n\n${text}\n`);
  }, 120_000);

  it('cancels the preview of a head that a newer push superseded while it was planned', async () => {
    // GIVEN a preview of a new head held before its tarballs are read
    const older = p.commit({ 'deploy/api/kustomization.yaml': kustomization(['ns.yaml', 'cm.yaml']) }, 'fix api');
    const source = p.deps.source;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let reached = false;
    (p.deps as { source: typeof source }).source = Object.assign(Object.create(source) as typeof source, {
      snapshot: async (repository: string, sha: string, signal?: AbortSignal) => {
        if (sha === older) {
          reached = true;
          await gate;
        }
        return source.snapshot(repository, sha, signal);
      },
    });
    try {
      await p.deliver('pull_request', pullRequestPayload('synchronize', older, base, head), { wait: false });
      await waitFor(() => reached);
      // WHEN a newer push arrives and its preview completes first
      const newer = p.commit({ 'deploy/web/cm.yaml': cm('settings', undefined, 'v2') }, 'newer');
      await p.deliver('pull_request', pullRequestPayload('synchronize', newer, base, older), { wait: false });
      await waitFor(() => p.github.checkRuns.some((r) => r.head_sha === newer && r.status === 'completed'));
      expect(await p.ledger.getHead(REPO, pullRequestKey(2))).toMatchObject({ head: newer });
      release();
      await p.invoke.idle();
      // THEN the older head's run is completed as cancelled, pointing at the newer one; the newer one succeeded
      expect(p.errors).toEqual([]);
      expect(p.github.checkRuns.find((r) => r.head_sha === older)).toMatchObject({
        status: 'completed',
        conclusion: 'cancelled',
        output: { title: `Superseded by ${newer.slice(0, 7)}` },
      });
      expect(p.github.checkRuns.find((r) => r.head_sha === newer)).toMatchObject({ status: 'completed', conclusion: 'success' });
      expect(p.github.checkRuns.filter((r) => r.status !== 'completed')).toEqual([]);
    } finally {
      release();
      (p.deps as { source: typeof source }).source = source;
    }
  }, 120_000);

  it('previews one head once: a redelivery and a second event of the same head start nothing', async () => {
    const before = p.previews.length;
    const again = await p.deliver('pull_request', pullRequestPayload('opened', head, base));
    expect(again.body).toEqual({ status: 'duplicate', reason: `the preview of ${head.slice(0, 12)} was handed off before` });
    expect(p.previews.length).toBe(before);
  });

  it('with token auth, writes one pull-request comment and edits it in place on the next push', async () => {
    // GIVEN token auth (check runs need an App)
    const app = p.deps.source;
    const token = new GitHubSource({ auth: { token: 'test-token' }, baseUrl: p.github.url });
    (p.deps as { source: typeof app }).source = token;
    try {
      const since = p.github.requests.length;
      // WHEN two pushes to the pull request are previewed
      const first = p.commit({ 'deploy/web/cm.yaml': cm('settings', undefined, 'v3') }, 'token 1');
      await p.deliver('pull_request', pullRequestPayload('synchronize', first, base));
      const second = p.commit({ 'deploy/web/cm.yaml': cm('settings', undefined, 'v4') }, 'token 2');
      await p.deliver('pull_request', pullRequestPayload('synchronize', second, base, first));
      expect(p.errors).toEqual([]);
      // THEN one comment, found by its marker and edited in place: one POST, then PATCHes only
      const comments = p.github.comments.filter((c) => c.issue_number === 2);
      expect(comments).toHaveLength(1);
      expect(comments[0]?.body.startsWith(COMMENT_MARKER)).toBe(true);
      expect(comments[0]?.body).toContain(`Merging \`${second.slice(0, 12)}\` into \`main\``);
      expect(comments[0]?.body).toContain('| web | kubernetes |');
      const writes = p.github.requests.slice(since).filter((r) => r.method !== 'GET' && r.path.includes('/comments'));
      expect(writes.map((r) => r.method)).toEqual(['POST', 'PATCH', 'PATCH', 'PATCH']);
      expect(p.github.checkRuns.filter((r) => r.head_sha === first || r.head_sha === second)).toEqual([]);
    } finally {
      (p.deps as { source: typeof app }).source = app;
    }
  }, 120_000);
});

describe('pull-request preview of a stack (CloudFormation mocked at the SDK)', () => {
  const cfn = mockClient(CloudFormationClient);
  let p: Pipeline;
  let base: string;
  const stackConfig = `${CONFIG}  - name: vpc
    type: cloudformation
    path: infra/vpc.yaml
    stack: acme-vpc
    region: eu-west-1
`;
  const vpc = (cidr: string) => `Resources:\n  Vpc:\n    Type: AWS::EC2::VPC\n    Properties:\n      CidrBlock: ${cidr}\n`;
  beforeAll(async () => {
    p = await startPipeline({ auth: appAuth, commitReport: {}, grant: { pruneKinds: ['Namespace'] } });
    p.access.cloudformation = () => ({ cfn: new CloudFormationClient({ region: 'eu-west-1' }) });
    base = p.commit({ ...BASE_FILES, 'driftless.yaml': stackConfig, 'infra/vpc.yaml': vpc('10.0.0.0/16') }, 'base');
  }, 180_000);
  afterAll(() => p?.stop());

  it('describes the change set with its replacement flag, deletes it and executes nothing', async () => {
    // GIVEN a live stack of the target and a pull request that changes its CIDR (CloudFormation: a replacement)
    cfn.reset();
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [{ StackName: 'acme-vpc', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(), Tags: [{ Key: 'driftless:target', Value: `${REPO}/vpc` }] }],
    });
    cfn.on(CreateChangeSetCommand).resolves({ Id: 'cs-preview' });
    cfn.on(DeleteChangeSetCommand).resolves({});
    cfn.on(DescribeChangeSetCommand).resolves({
      Status: 'CREATE_COMPLETE',
      Changes: [
        {
          Type: 'Resource',
          ResourceChange: {
            Action: 'Modify',
            LogicalResourceId: 'Vpc',
            ResourceType: 'AWS::EC2::VPC',
            Replacement: 'True',
            Details: [
              {
                Target: {
                  Attribute: 'Properties',
                  Name: 'CidrBlock',
                  Path: '/Properties/CidrBlock',
                  RequiresRecreation: 'Always',
                  BeforeValue: '10.0.0.0/16',
                  AfterValue: '10.1.0.0/16',
                },
                Evaluation: 'Static',
                ChangeSource: 'DirectModification',
              },
            ],
          },
        },
      ],
    });
    p.git('checkout', '-q', '-b', 'cidr');
    const head = p.commit({ 'infra/vpc.yaml': vpc('10.1.0.0/16') }, 'cidr');
    // WHEN the pull request is opened
    expect((await p.deliver('pull_request', pullRequestPayload('opened', head, base))).status).toBe(202);
    // THEN the check run shows the replacement loudly; the change set was deleted and never executed
    expect(p.errors).toEqual([]);
    const run = p.github.checkRuns.find((r) => r.head_sha === head);
    expect(run).toMatchObject({ status: 'completed', conclusion: 'success' });
    expect(run?.output.summary).toContain('| vpc | stack | 0 | 1 | 0 | ✔ would sync |');
    expect(run?.output.text).toContain('~ Vpc (AWS::EC2::VPC) [REPLACEMENT]');
    expect(run?.output.text).toContain('10.0.0.0/16 → 10.1.0.0/16');
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toEqual([]);
    expect(cfn.commandCalls(DeleteChangeSetCommand).length).toBeGreaterThan(0);
  }, 120_000);
});

const waitFor = async (ok: () => boolean, ms = 30_000) => {
  const until = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
};
