import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudFormationClient,
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
} from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../../lib/cli/main.js';

const cfn = mockClient(CloudFormationClient);

describe('driftless diff and sync for a stack target', () => {
  let dir: string;
  const run = async (argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), cwd: dir, isTTY: false, env: {} });
    return { code, stdout, stderr };
  };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'driftless-stack-'));
    mkdirSync(join(dir, 'infra'));
    writeFileSync(
      join(dir, 'driftless.yaml'),
      'version: 1\ntargets:\n  - name: vpc\n    type: cloudformation\n    path: infra/vpc.yaml\n    stack: acme-vpc\n    region: eu-west-1\n',
    );
    writeFileSync(join(dir, 'infra', 'vpc.yaml'), 'Resources:\n  Vpc:\n    Type: AWS::EC2::VPC\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
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
      Changes: [{ ResourceChange: { Action: 'Modify', LogicalResourceId: 'Vpc', ResourceType: 'AWS::EC2::VPC', Replacement: 'True' } }],
    });
  });

  it('diff prints the change set as a table and exits 1', async () => {
    const { code, stdout } = await run(['diff', '--repo', '.', '--target', 'vpc', '--repository', 'acme/infra']);
    expect(code).toBe(1);
    expect(stdout.split('\n')[0]).toMatch(/^ACTION\s+LOGICAL ID\s+TYPE\s+REPLACEMENT$/);
    expect(stdout).toMatch(/configured\s+Vpc\s+AWS::EC2::VPC\s+True/);
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
  });

  it('diff --json gives the change-set shape of Kubernetes targets; exit 0 without changes', async () => {
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'FAILED', StatusReason: 'No updates are to be performed.' });
    const { code, stdout } = await run(['diff', '--repo', '.', '--target', 'vpc', '--repository', 'acme/infra', '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      target: 'acme/infra/vpc',
      entries: [{ ref: { group: 'cloudformation.aws', kind: 'AWS::CloudFormation::Stack', name: 'acme-vpc' }, action: 'unchanged' }],
    });
  });

  it('sync executes the change set and exits 0', async () => {
    const { code, stdout } = await run(['sync', '--repo', '.', '--target', 'vpc', '--repository', 'acme/infra']);
    expect(code).toBe(0);
    expect(stdout).toContain('succeeded: 1 configured');
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(1);
  });

  it('sync --dry-run plans the change set, deletes it again and executes nothing', async () => {
    const { code, stdout, stderr } = await run(['sync', '--repo', '.', '--target', 'vpc', '--repository', 'acme/infra', '--dry-run']);
    expect(code).toBe(0);
    expect(stderr).toContain('dry run of acme/infra/vpc');
    expect(stdout).toMatch(/configured\s+Vpc\s+AWS::EC2::VPC\s+True/);
    expect(stdout).toContain('dry run: 1 configured');
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(1);
    expect(cfn.commandCalls(DeleteChangeSetCommand)).toHaveLength(1);
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
  });

  it('sync refuses a stack of the right name that this target does not own, sending nothing after the Describe', async () => {
    cfn
      .on(DescribeStacksCommand)
      .resolves({ Stacks: [{ StackName: 'acme-vpc', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(), Tags: [{ Key: 'team', Value: 'net' }] }] });
    const { code, stderr } = await run(['sync', '--repo', '.', '--target', 'vpc', '--repository', 'acme/infra']);
    expect(code).not.toBe(0);
    expect(stderr).toContain('stack acme-vpc exists and is not managed by acme/infra/vpc (no driftless:target tag; tags: team=net)');
    expect(cfn.calls().map((c) => (c.args[0] as object).constructor.name)).toEqual(['DescribeStacksCommand']);
  });

  it('sync of a suspended stack target touches nothing', async () => {
    const config = join(dir, 'driftless.yaml');
    const before = readFileSync(config, 'utf8');
    writeFileSync(config, `${before}    suspend: true\n`);
    try {
      const { code, stdout, stderr } = await run(['sync', '--repo', '.', '--target', 'vpc', '--repository', 'acme/infra', '--json']);
      expect(code).toBe(0);
      expect(stderr).toContain('acme/infra/vpc is suspended');
      expect(JSON.parse(stdout)).toEqual({ target: 'acme/infra/vpc', entries: [] });
      expect(cfn.calls()).toHaveLength(0);
    } finally {
      writeFileSync(config, before);
    }
  });
});
