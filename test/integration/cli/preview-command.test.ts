import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  CloudFormationClient,
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
} from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../../lib/cli/main.js';
import type { PreviewReport, TargetPreview } from '../../../lib/preview/preview-report.js';
import { KubeApiServer } from '../../kube-api-server/server.js';

const cfn = mockClient(CloudFormationClient);

/** Verbs that write to a cluster: a preview sends none of them (dry runs are logged as `dry-run …`). */
const WRITES = ['apply', 'patch', 'update', 'create', 'delete', 'deletecollection'];

const CONFIG = (extra: string) => `version: 1
targets:
  - name: web
    path: deploy/web
    cluster: dev
    namespace: shop
    prune:
      allowKinds: [Namespace]
  - name: vpc
    type: cloudformation
    path: infra/vpc.yaml
    stack: acme-vpc
    region: eu-west-1
${extra}`;

const OLD = `  - name: old
    path: deploy/old
    cluster: dev
    namespace: legacy
`;
const CACHE = `  - name: cache
    path: deploy/cache
    cluster: dev
    namespace: shop
`;

const deployment = (image: string) =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n        - name: web\n          image: ${image}\n`;
const kustomization = (resources: string[]) => `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n${resources.map((r) => `  - ${r}\n`).join('')}`;
const vpc = (cidr: string) => `Resources:\n  Vpc:\n    Type: AWS::EC2::VPC\n    Properties:\n      CidrBlock: ${cidr}\n`;

describe('driftless preview', () => {
  let server: KubeApiServer;
  let dir: string;
  let repo: string;
  let flags: string[];
  const git = (...args: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.name=Octo Cat', '-c', 'user.email=octo@example.com', ...args], { encoding: 'utf8' }).trim();
  const commit = (files: Record<string, string | null>, message: string) => {
    for (const [p, content] of Object.entries(files)) {
      if (content === null) rmSync(join(repo, p), { force: true });
      else {
        mkdirSync(dirname(join(repo, p)), { recursive: true });
        writeFileSync(join(repo, p), content);
      }
    }
    git('add', '-A');
    git('commit', '-q', '-m', message);
    return git('rev-parse', 'HEAD');
  };
  const run = async (argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), cwd: dir, isTTY: false, env: {} });
    return { code, stdout, stderr };
  };
  const mockStack = () => {
    cfn.reset();
    cfn
      .on(DescribeStacksCommand)
      .resolves({ Stacks: [{ StackName: 'acme-vpc', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(), Tags: [{ Key: 'driftless:target', Value: 'acme/shop/vpc' }] }] });
    cfn.on(CreateChangeSetCommand).resolves({ Id: 'cs' });
    cfn.on(DeleteChangeSetCommand).resolves({});
    cfn.on(DeleteStackCommand).resolves({});
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
  };

  beforeAll(async () => {
    server = new KubeApiServer({ namespaceController: true });
    await server.start();
    dir = mkdtempSync(join(tmpdir(), 'driftless-preview-'));
    repo = join(dir, 'repo');
    mkdirSync(repo);
    writeFileSync(join(dir, 'kubeconfig'), server.kubeconfig('test-admin-token', 'kind-dev'));
    flags = ['--kubeconfig', join(dir, 'kubeconfig'), '--context', 'kind-dev', '--repository', 'acme/shop'];
    git('init', '-q', '-b', 'main');
    commit(
      {
        'driftless.yaml': CONFIG(OLD),
        'deploy/web/kustomization.yaml': kustomization(['ns.yaml', 'deploy.yaml', 'cm.yaml', 'secret.yaml', 'legacy.yaml']),
        'deploy/web/ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n',
        'deploy/web/deploy.yaml': deployment('nginx:1.25'),
        'deploy/web/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  level: info\n',
        'deploy/web/secret.yaml': 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  password: hunter2-base\n',
        'deploy/web/legacy.yaml':
          'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: legacy\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: old\n  namespace: legacy\ndata:\n  k: v\n',
        'deploy/old/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other-team\ndata:\n  k: v\n',
        'infra/vpc.yaml': vpc('10.0.0.0/16'),
      },
      'base',
    );
    // The base is what the cluster runs: synced by the CLI.
    for (const target of ['web', 'old']) {
      const synced = await run(['sync', '--repo', 'repo', '--target', target, ...flags]);
      expect(synced.code, synced.stderr).toBe(0);
    }
    git('checkout', '-q', '-b', 'change');
    commit(
      {
        'driftless.yaml': CONFIG(CACHE),
        'deploy/web/kustomization.yaml': kustomization(['ns.yaml', 'deploy.yaml', 'cm.yaml', 'secret.yaml', 'extra.yaml']),
        'deploy/web/deploy.yaml': deployment('nginx:1.27'),
        'deploy/web/secret.yaml': 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  password: hunter2-head\n',
        'deploy/web/extra.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  feature: on\n',
        'deploy/web/legacy.yaml': null,
        'deploy/cache/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cache\ndata:\n  size: 1Gi\n',
        'infra/vpc.yaml': vpc('10.1.0.0/16'),
      },
      'change',
    );
    git('checkout', '-q', '-b', 'broken');
    commit({ 'deploy/web/kustomization.yaml': kustomization(['ns.yaml', 'deploy.yaml', 'missing.yaml']) }, 'broken');
    git('checkout', '-q', 'main');
  });
  afterAll(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    mockStack();
    server.resetLog();
  });

  const byName = (report: PreviewReport, name: string): TargetPreview => report.targets.find((t) => t.target === name) as TargetPreview;
  const writes = () => Object.keys(server.counts()).filter((verb) => WRITES.includes(verb));

  it('plans every touched target of the change: field changes, creations, a Namespace deletion and its cascade, a stack replacement; writes nothing', async () => {
    const { code, stdout, stderr } = await run(['preview', '--repo', 'repo', '--base', 'main', '--head', 'change', '--json', ...flags]);
    expect(code, stderr).toBe(1);
    const report = JSON.parse(stdout) as PreviewReport;
    expect(report.base).toBe('main');
    expect(report.head).toBe(git('rev-parse', 'change'));
    expect(report.targets.map((t) => [t.target, t.change]).sort()).toEqual([
      ['cache', 'added'],
      ['old', 'removed'],
      ['vpc', 'modified'],
      ['web', 'modified'],
    ]);

    const web = byName(report, 'web');
    expect(web.blockers).toEqual([]);
    const deploy = web.objects.find((o) => o.name === 'Deployment/shop/web');
    expect(deploy?.action).toBe('change');
    expect(deploy?.fields).toContainEqual({ path: 'spec.template.spec.containers[name=web].image', from: 'nginx:1.25', to: 'nginx:1.27' });
    expect(web.objects).toContainEqual(expect.objectContaining({ name: 'ConfigMap/shop/extra', action: 'create' }));
    const legacy = web.objects.find((o) => o.name === 'Namespace/legacy');
    expect(legacy?.action).toBe('delete');
    // The cascade names what the Namespace takes with it, another target's object included.
    expect(legacy?.cascade).toEqual(['ConfigMap/legacy/old', 'ConfigMap/legacy/other-team']);
    expect(web.objects).toContainEqual(expect.objectContaining({ name: 'ConfigMap/legacy/old', action: 'delete' }));
    // The Secret's change shows its key, never a value.
    const secret = web.objects.find((o) => o.name === 'Secret/shop/creds');
    expect(secret?.fields).toEqual([{ path: 'data.password', from: '<hidden>', to: '<hidden>' }]);
    expect(stdout).not.toMatch(/hunter2|aHVudGVy/);
    expect(web.unchanged).toBe(2);

    const stack = byName(report, 'vpc');
    expect(stack.objects).toEqual([
      {
        name: 'Vpc (AWS::EC2::VPC)',
        action: 'change',
        replacement: 'True',
        fields: [{ path: 'Properties.CidrBlock', from: '10.0.0.0/16', to: '10.1.0.0/16' }],
        detail: 'replacement; changes CidrBlock',
      },
    ]);
    expect(byName(report, 'cache').objects).toEqual([{ name: 'ConfigMap/shop/cache', action: 'create' }]);
    expect(byName(report, 'old').annotations?.[0]?.message).toBe('old leaves driftless.yaml: its objects are left in place, no longer managed');

    // Planned, never applied: only reads and dry runs reached the cluster; the change set was deleted, never executed.
    expect(writes()).toEqual([]);
    expect(server.counts()['dry-run apply']).toBeGreaterThan(0);
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(1);
    expect(cfn.commandCalls(DescribeChangeSetCommand)[0]?.args[0].input.IncludePropertyValues).toBe(true);
    expect(cfn.commandCalls(DeleteChangeSetCommand)).toHaveLength(1);
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(0);
  });

  it('prints aligned text and the check run markdown of the same report', async () => {
    const text = await run(['preview', '--repo', 'repo', '--base', 'main', '--head', 'change', ...flags]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^TARGET\s+KIND\s+CREATES\s+CHANGES\s+DELETES\s+VERDICT$/m);
    expect(text.stdout).toMatch(/^web\s+kubernetes\s+1\s+2\s+2\s+✔ would sync$/m);
    expect(text.stdout).toMatch(/^vpc\s+stack\s+0\s+1\s+0\s+✔ would sync$/m);
    expect(text.stdout).toContain('spec.template.spec.containers[name=web].image: nginx:1.25 → nginx:1.27');
    expect(text.stdout).toMatch(/~ change\s+Vpc \(AWS::EC2::VPC\) REPLACEMENT/);
    expect(text.stdout).toContain('- ConfigMap/legacy/other-team');
    expect(text.stdout).not.toMatch(/hunter2/);
    const md = await run(['preview', '--repo', 'repo', '--base', 'main', '--head', 'change', '--markdown', ...flags]);
    expect(md.code).toBe(1);
    expect(md.stdout).toContain('| target | kind | creates | changes | deletes | verdict |');
    expect(md.stdout).toContain('| web | kubernetes | 1 | 2 | 2 | ✔ would sync |');
    expect(md.stdout).toContain('~ Vpc (AWS::EC2::VPC) [REPLACEMENT]');
    expect(md.stdout).toContain('<details open><summary><b>web</b>');
    expect(writes()).toEqual([]);
  });

  it('fails with exit 2 and an annotation at the kustomization line of a broken render', async () => {
    const { code, stdout } = await run(['preview', '--repo', 'repo', '--base', 'main', '--head', 'broken', '--target', 'web', '--json', ...flags]);
    expect(code).toBe(2);
    const web = byName(JSON.parse(stdout) as PreviewReport, 'web');
    expect(web.blockers[0]).toContain('deploy/web/kustomization.yaml');
    expect(web.annotations).toEqual([expect.objectContaining({ path: 'deploy/web/kustomization.yaml', line: 6, level: 'failure' })]);
    expect(writes()).toEqual([]);
  });

  it('fails with exit 2 when a guard would keep a stale object (a protected kind) or another target owns an object', async () => {
    git('checkout', '-q', '-b', 'guarded', 'main');
    commit(
      {
        'driftless.yaml': CONFIG(OLD).replace('    prune:\n      allowKinds: [Namespace]\n', ''),
        'deploy/web/kustomization.yaml': kustomization(['ns.yaml', 'deploy.yaml', 'cm.yaml', 'secret.yaml']),
        'deploy/web/legacy.yaml': null,
      },
      'guarded',
    );
    git('checkout', '-q', '-b', 'stolen', 'main');
    commit({ 'deploy/web/legacy.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other-team\n  namespace: legacy\ndata:\n  k: mine\n' }, 'stolen');
    git('checkout', '-q', 'main');

    const guarded = await run(['preview', '--repo', 'repo', '--base', 'main', '--head', 'guarded', '--target', 'web', '--json', ...flags]);
    expect(guarded.code).toBe(2);
    const web = byName(JSON.parse(guarded.stdout) as PreviewReport, 'web');
    expect(web.blockers).toEqual(['1 stale object not pruned: deleting a Namespace needs prune.allowKinds: [Namespace]']);
    expect(web.objects).toContainEqual({ name: 'Namespace/legacy', action: 'refused', detail: 'not pruned: deleting a Namespace needs prune.allowKinds: [Namespace]' });
    expect(web.objects).toContainEqual(expect.objectContaining({ name: 'ConfigMap/legacy/old', action: 'delete' }));

    const stolen = await run(['preview', '--repo', 'repo', '--base', 'main', '--head', 'stolen', '--target', 'web', '--json', ...flags]);
    expect(stolen.code).toBe(2);
    const taken = byName(JSON.parse(stolen.stdout) as PreviewReport, 'web');
    expect(taken.objects).toContainEqual(expect.objectContaining({ name: 'ConfigMap/legacy/other-team', action: 'refused' }));
    expect(taken.blockers[0]).toMatch(/^1 object refused: ConfigMap\/legacy\/other-team is managed by another driftless target, acme\/shop\/old/);
    expect(writes()).toEqual([]);
  });

  it('exits 0 for a change that touches no target, and 2 for a ref that is not a commit', async () => {
    git('checkout', '-q', '-b', 'docs', 'main');
    commit({ 'README.md': '# shop\n' }, 'docs');
    git('checkout', '-q', 'main');
    const { code, stdout } = await run(['preview', '--repo', 'repo', '--base', 'main', '--head', 'docs', ...flags]);
    expect(code).toBe(0);
    expect(stdout).toContain('No target touched');
    const bad = await run(['preview', '--repo', 'repo', '--base', 'main', '--head', 'no-such-branch', ...flags]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--head no-such-branch: not a commit of the checkout');
  });

  it('previews a new stack with a CREATE change set and deletes the REVIEW_IN_PROGRESS stack it leaves', async () => {
    git('checkout', '-q', '-b', 'queue', 'main');
    commit(
      {
        'driftless.yaml': `${CONFIG(OLD)}  - name: queue\n    type: cloudformation\n    path: infra/queue.yaml\n    stack: acme-queue\n    region: eu-west-1\n`,
        'infra/queue.yaml': 'Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n',
      },
      'queue',
    );
    git('checkout', '-q', 'main');
    cfn.on(DescribeStacksCommand, { StackName: 'acme-queue' }).rejects(Object.assign(new Error('Stack with id acme-queue does not exist'), { name: 'ValidationError' }));
    cfn
      .on(DescribeChangeSetCommand, { StackName: 'acme-queue' })
      .resolves({ Status: 'CREATE_COMPLETE', Changes: [{ Type: 'Resource', ResourceChange: { Action: 'Add', LogicalResourceId: 'Queue', ResourceType: 'AWS::SQS::Queue' } }] });
    const { code, stdout } = await run(['preview', '--repo', 'repo', '--base', 'main', '--head', 'queue', '--json', ...flags]);
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as PreviewReport;
    expect(report.targets.map((t) => t.target)).toEqual(['web', 'vpc', 'old', 'queue']);
    expect(byName(report, 'queue')).toMatchObject({ change: 'added', objects: [{ name: 'Queue (AWS::SQS::Queue)', action: 'create' }] });
    expect(cfn.commandCalls(CreateChangeSetCommand).find((c) => c.args[0].input.StackName === 'acme-queue')?.args[0].input.ChangeSetType).toBe('CREATE');
    expect(cfn.commandCalls(DeleteStackCommand).map((c) => c.args[0].input.StackName)).toEqual(['acme-queue']);
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
  });
});
