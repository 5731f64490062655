import {
  CloudFormationClient,
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  type StackStatus,
} from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { CloudFormationDesiredState } from '../../../lib/core/target.js';
import { createStackTarget } from '../../../lib/targets/cloudformation/stack-target.js';
import { parseTemplate } from '../../../lib/render/cloudformation-template.js';

const cfn = mockClient(CloudFormationClient);
const desired: CloudFormationDesiredState = {
  kind: 'cloudformation',
  template: parseTemplate('Resources:\n  Vpc:\n    Type: AWS::EC2::VPC\n', 'vpc.yaml'),
  parameters: [],
  files: new Set(['vpc.yaml']),
};
const stack = (...statuses: StackStatus[]) =>
  statuses.map((StackStatus) => ({ Stacks: [{ StackName: 'acme-vpc', StackStatus, CreationTime: new Date(), Tags: [{ Key: 'driftless:target', Value: 'acme/infra/vpc' }] }] }));
const STACK_REF = { group: 'cloudformation.aws', kind: 'AWS::CloudFormation::Stack', name: 'acme-vpc' };
const target = () => createStackTarget(new CloudFormationClient({ region: 'eu-west-1' }), { id: 'acme/infra/vpc', stack: 'acme-vpc', pollMs: 1 });

describe('createStackTarget', () => {
  beforeEach(() => {
    cfn.reset();
    cfn.on(CreateChangeSetCommand).resolves({ Id: 'cs-1' });
    cfn.on(DeleteChangeSetCommand).resolves({});
    cfn.on(ExecuteChangeSetCommand).resolves({});
    cfn.on(DescribeStackEventsCommand).resolves({ StackEvents: [] });
  });

  it('applies a change set and answers succeeded with the stack as its inventory', async () => {
    const [before, during, after] = stack('UPDATE_COMPLETE', 'UPDATE_IN_PROGRESS', 'UPDATE_COMPLETE');
    cfn.on(DescribeStacksCommand).resolvesOnce(before!).resolvesOnce(during!).resolves(after!);
    cfn
      .on(DescribeChangeSetCommand)
      .resolves({ Status: 'CREATE_COMPLETE', Changes: [{ ResourceChange: { Action: 'Modify', LogicalResourceId: 'Vpc', ResourceType: 'AWS::EC2::VPC' } }] });
    const applied = await target().apply(desired, { commit: 'abc' });
    expect(applied).toMatchObject({ result: 'succeeded', inventory: [STACK_REF] });
    expect(applied.changeSet.entries.map((e) => e.action)).toEqual(['configured']);
  });

  it('answers an unchanged stack as succeeded without executing', async () => {
    cfn.on(DescribeStacksCommand).resolves(stack('UPDATE_COMPLETE')[0]!);
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'FAILED', StatusReason: "The submitted information didn't contain changes." });
    const applied = await target().apply(desired);
    expect(applied).toMatchObject({ result: 'succeeded', inventory: [STACK_REF], changeSet: { entries: [{ ref: STACK_REF, action: 'unchanged' }] } });
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
  });

  it('answers in-progress, with the status, for a stack another update holds', async () => {
    cfn.on(DescribeStacksCommand).resolves(stack('UPDATE_IN_PROGRESS')[0]!);
    expect(await target().apply(desired)).toMatchObject({ result: 'in-progress', status: 'UPDATE_IN_PROGRESS', inventory: [STACK_REF] });
  });

  it('fails with the stack named when the update rolls back', async () => {
    const [before, after] = stack('UPDATE_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE');
    cfn.on(DescribeStacksCommand).resolvesOnce(before!).resolves(after!);
    cfn
      .on(DescribeChangeSetCommand)
      .resolves({ Status: 'CREATE_COMPLETE', Changes: [{ ResourceChange: { Action: 'Add', LogicalResourceId: 'Vpc', ResourceType: 'AWS::EC2::VPC' } }] });
    const applied = await target().apply(desired);
    expect(applied.result).toBe('failed');
    expect(applied.error).toMatch(/^stack acme-vpc ended UPDATE_ROLLBACK_COMPLETE/);
  });

  it('stops before executing when beforeWrite refuses (a lost lease)', async () => {
    cfn.on(DescribeStacksCommand).resolves(stack('UPDATE_COMPLETE')[0]!);
    cfn
      .on(DescribeChangeSetCommand)
      .resolves({ Status: 'CREATE_COMPLETE', Changes: [{ ResourceChange: { Action: 'Modify', LogicalResourceId: 'Vpc', ResourceType: 'AWS::EC2::VPC' } }] });
    await expect(target().apply(desired, { beforeWrite: async (stage) => Promise.reject(new Error(`lease lost before ${stage}`)) })).rejects.toThrow('lease lost before execute');
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
  });
});
