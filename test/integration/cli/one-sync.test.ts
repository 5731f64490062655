import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudFormationClient,
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStackDriftDetectionStatusCommand,
  DescribeStackResourceDriftsCommand,
  DescribeStacksCommand,
  DetectStackDriftCommand,
  ExecuteChangeSetCommand,
} from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../../lib/cli/main.js';
import { TARGET_ID_ANNOTATION } from '../../../lib/core/ownership.js';
import { DynamoDbLedger } from '../../../lib/ledger/dynamodb-ledger.js';
import { KubeApiServer } from '../../kube-api-server/server.js';
import { startLedgerDb } from '../../support/ledger.js';

const cfn = mockClient(CloudFormationClient);

// The CLI goes through the reconciler's sync and drift use cases: suspension, identity and recording behave the
// same for both target kinds (issue #13).
describe('driftless sync, diff and drift through the one sync use case', () => {
  let db: Awaited<ReturnType<typeof startLedgerDb>>;
  let server: KubeApiServer;
  let dir: string;
  let env: Record<string, string>;
  let table: string;
  let ledger: DynamoDbLedger;
  const run = async (argv: string[], extraEnv: Record<string, string> = {}) => {
    let stdout = '';
    let stderr = '';
    const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), cwd: dir, isTTY: false, env: { ...env, ...extraEnv } });
    return { code, stdout, stderr };
  };
  const kube = () => ['--kubeconfig', join(dir, 'kubeconfig'), '--context', 'test'];

  beforeAll(async () => {
    db = await startLedgerDb();
    ({ table, ledger } = await db.ledger());
    server = new KubeApiServer();
    await server.start();
    server.createNamespace('shop');
    dir = mkdtempSync(join(tmpdir(), 'driftless-one-sync-'));
    writeFileSync(join(dir, 'kubeconfig'), server.kubeconfig());
    for (const repo of ['shop', 'infra']) mkdirSync(join(dir, repo, 'deploy'), { recursive: true });
    writeFileSync(join(dir, 'shop', 'driftless.yaml'), 'version: 1\ntargets:\n  - name: web\n    path: deploy\n    cluster: dev\n    namespace: shop\n');
    writeFileSync(join(dir, 'shop', 'deploy', 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n');
    writeFileSync(
      join(dir, 'infra', 'driftless.yaml'),
      'version: 1\ntargets:\n  - name: vpc\n    type: cloudformation\n    path: deploy/vpc.yaml\n    stack: acme-vpc\n    region: eu-west-1\n',
    );
    writeFileSync(join(dir, 'infra', 'deploy', 'vpc.yaml'), 'Resources:\n  Vpc:\n    Type: AWS::EC2::VPC\n');
    for (const repo of ['shop', 'infra']) {
      const git = (...a: string[]) => execFileSync('git', ['-C', join(dir, repo), ...a], { stdio: 'ignore' });
      git('init', '-q', '-b', 'main');
      git('-c', 'user.name=Octo Cat', '-c', 'user.email=o@example.com', 'add', '.');
      git('-c', 'user.name=Octo Cat', '-c', 'user.email=o@example.com', 'commit', '-q', '-m', 'first');
    }
    env = { DRIFTLESS_TABLE: table, AWS_ENDPOINT_URL_DYNAMODB: db.endpoint, USER: 'octo' };
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
    await db?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    cfn.reset();
    cfn
      .on(DescribeStacksCommand)
      .resolves({ Stacks: [{ StackName: 'acme-vpc', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(), Tags: [{ Key: 'driftless:target', Value: 'acme/infra/vpc' }] }] });
    cfn.on(CreateChangeSetCommand).resolves({ Id: 'cs' });
    cfn.on(DeleteChangeSetCommand).resolves({});
    cfn.on(ExecuteChangeSetCommand).resolves({});
    cfn.on(DescribeChangeSetCommand).resolves({
      Status: 'CREATE_COMPLETE',
      Changes: [{ ResourceChange: { Action: 'Modify', LogicalResourceId: 'Vpc', ResourceType: 'AWS::EC2::VPC', Replacement: 'False' } }],
    });
  });

  it('after driftless suspend, sync changes nothing and says why; after resume it applies', async () => {
    // GIVEN a synced target, a change to it, and the target suspended in the ledger (driftless.yaml does not suspend it)
    expect((await run(['sync', '--repo', 'shop', '--target', 'web', '--repository', 'acme/shop', ...kube()])).code).toBe(0);
    writeFileSync(join(dir, 'shop', 'deploy', 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v2\n');
    const suspended = await run(['suspend', '--repo', 'acme/shop', '--target', 'web']);
    expect(suspended.stdout).toContain('no apply, no prune');
    server.resetLog();
    // WHEN the CLI syncs it
    const sync = await run(['sync', '--repo', 'shop', '--target', 'web', '--repository', 'acme/shop', ...kube()]);
    // THEN nothing reaches the cluster, and the CLI says why
    expect(sync.code).toBe(0);
    expect(sync.stderr).toContain('acme/shop/web is suspended (suspended by octo): nothing applied, nothing pruned');
    expect(server.counts().apply).toBeUndefined();
    expect((server.get('v1', 'ConfigMap', 'shop', 'a') as { data: Record<string, string> }).data.k).toBe('v');
    const [last] = (await ledger.history({ targetId: 'acme/shop/web', limit: 1 })).items;
    expect(last).toMatchObject({ result: 'skipped', trigger: 'cli', error: { message: 'suspended by octo' } });
    // AND diff says a sync would apply nothing
    const diff = await run(['diff', '--repo', 'shop', '--target', 'web', '--repository', 'acme/shop', ...kube()]);
    expect(diff.code).toBe(0);
    expect(diff.stderr).toContain('suspended by octo');
    // WHEN resumed, the next sync applies
    await run(['resume', '--repo', 'acme/shop', '--target', 'web']);
    const again = await run(['sync', '--repo', 'shop', '--target', 'web', '--repository', 'acme/shop', ...kube()]);
    expect(again.code).toBe(0);
    expect((server.get('v1', 'ConfigMap', 'shop', 'a') as { data: Record<string, string> }).data.k).toBe('v2');
  });

  it('refuses, with one line and exit 2, to write objects another identity owns; they keep their owner', async () => {
    // GIVEN objects synced as acme/shop
    expect((await run(['sync', '--repo', 'shop', '--target', 'web', '--repository', 'acme/shop', ...kube()])).code).toBe(0);
    server.resetLog();
    // WHEN another identity syncs the same objects
    const other = await run(['sync', '--repo', 'shop', '--target', 'web', '--repository', 'someone/shop', ...kube(), '--json'], { DRIFTLESS_TABLE: '' });
    // THEN it is refused on one line, and nothing is relabelled
    expect(other.code).toBe(2);
    expect(other.stderr.trim().split('\n')).toHaveLength(1);
    expect(other.stdout).toBe('');
    expect(other.stderr).toContain('ConfigMap/shop/a is managed by another driftless target, acme/shop/web');
    expect(server.counts().apply).toBeUndefined();
    const live = server.get('v1', 'ConfigMap', 'shop', 'a') as { metadata: { annotations: Record<string, string> } };
    expect(live.metadata.annotations[TARGET_ID_ANNOTATION]).toBe('acme/shop/web');
  });

  it('refuses to write under an invented identity (no --repository, registry or origin remote)', async () => {
    mkdirSync(join(dir, 'plain', 'deploy'), { recursive: true });
    writeFileSync(join(dir, 'plain', 'driftless.yaml'), 'version: 1\ntargets:\n  - name: web\n    path: deploy\n    cluster: dev\n    namespace: shop\n');
    writeFileSync(join(dir, 'plain', 'deploy', 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\ndata:\n  k: v\n');
    const sync = await run(['sync', '--repo', 'plain', '--target', 'web', ...kube(), '--json'], { DRIFTLESS_TABLE: '' });
    expect(sync.code).toBe(2);
    expect(sync.stderr.trim().split('\n')).toHaveLength(1);
    expect(sync.stderr).toContain('no repository identity');
    expect(server.get('v1', 'ConfigMap', 'shop', 'plain')).toBeUndefined();
    // A read under the directory's name is fine; so is a write when a registry names the repository.
    expect((await run(['diff', '--repo', 'plain', '--target', 'web', ...kube()], { DRIFTLESS_TABLE: '' })).code).toBe(1);
    writeFileSync(join(dir, 'registry.yaml'), 'repositories:\n  acme/plain: {clusters: [dev], namespaces: [shop]}\nclusters:\n  dev: {context: test}\n');
    const named = await run(['sync', '--repo', 'plain', '--target', 'web', '--registry', 'registry.yaml', '--kubeconfig', join(dir, 'kubeconfig')], { DRIFTLESS_TABLE: '' });
    expect(named.code).toBe(0);
    const live = server.get('v1', 'ConfigMap', 'shop', 'plain') as { metadata: { annotations: Record<string, string> } };
    expect(live.metadata.annotations[TARGET_ID_ANNOTATION]).toBe('acme/plain/web');
  });

  it('records a CLI sync of a stack target in the ledger', async () => {
    const sync = await run(['sync', '--repo', 'infra', '--target', 'vpc', '--repository', 'acme/infra']);
    expect(sync.code).toBe(0);
    expect(sync.stderr).toContain(`recorded in ${table}`);
    expect(sync.stdout).toContain('succeeded: 1 configured');
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(1);
    const [rec] = (await ledger.history({ targetId: 'acme/infra/vpc', limit: 1 })).items;
    expect(rec).toMatchObject({ result: 'succeeded', trigger: 'cli', counts: expect.objectContaining({ configured: 1 }) });
    const state = await ledger.getState('acme/infra/vpc');
    expect(state?.inventory).toEqual([{ group: 'cloudformation.aws', kind: 'AWS::CloudFormation::Stack', name: 'acme-vpc' }]);
    expect(state?.lastResult).toBe('succeeded');
  });

  it('drift checks stack targets with DetectStackDrift', async () => {
    cfn.on(DetectStackDriftCommand).resolves({ StackDriftDetectionId: 'd-1' });
    cfn.on(DescribeStackDriftDetectionStatusCommand).resolves({ DetectionStatus: 'DETECTION_COMPLETE' } as never);
    cfn.on(DescribeStackResourceDriftsCommand).resolves({
      StackResourceDrifts: [
        {
          LogicalResourceId: 'Vpc',
          ResourceType: 'AWS::EC2::VPC',
          StackResourceDriftStatus: 'MODIFIED',
          PropertyDifferences: [{ PropertyPath: '/EnableDnsSupport', ExpectedValue: 'true', ActualValue: 'false', DifferenceType: 'NOT_EQUAL' }],
        },
      ] as never,
    });
    const drift = await run(['drift', '--repo', 'infra', '--repository', 'acme/infra']);
    expect(drift.code).toBe(1);
    expect(drift.stdout).toContain('acme/infra/vpc: 1 object(s) drifted');
    expect(drift.stdout).toContain('/EnableDnsSupport: true → false');
    expect(cfn.commandCalls(DetectStackDriftCommand)).toHaveLength(1);
  });
});
