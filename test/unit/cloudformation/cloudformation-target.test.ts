import {
  CloudFormationClient,
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeStackDriftDetectionStatusCommand,
  DescribeStackEventsCommand,
  DescribeStackResourceDriftsCommand,
  DescribeStacksCommand,
  DetectStackDriftCommand,
  ExecuteChangeSetCommand,
  type StackStatus,
} from '@aws-sdk/client-cloudformation';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CloudFormationTarget } from '../../../lib/targets/cloudformation/cloudformation-target.js';
import { parseTemplate } from '../../../lib/render/cloudformation-template.js';

// Response sequences shaped like the CloudFormation API reference.
const cfn = mockClient(CloudFormationClient);
const s3 = mockClient(S3Client);
const template = parseTemplate('Resources:\n  Vpc:\n    Type: AWS::EC2::VPC\n    Properties:\n      CidrBlock: !Ref Cidr\n', 'template.yaml');
const target = (o: Partial<ConstructorParameters<typeof CloudFormationTarget>[1]> = {}) =>
  new CloudFormationTarget(
    new CloudFormationClient({ region: 'eu-west-1' }),
    { id: 'acme/infra/vpc', stack: 'acme-vpc', capabilities: ['CAPABILITY_NAMED_IAM'], pollMs: 1, ...o },
    new S3Client({ region: 'eu-west-1' }),
  );
const missing = Object.assign(new Error('Stack with id acme-vpc does not exist'), { name: 'ValidationError' });
// Stacks this target created carry its ownership tag.
const stack = (StackStatus: StackStatus) => ({
  Stacks: [{ StackName: 'acme-vpc', StackStatus, CreationTime: new Date(), Tags: [{ Key: 'driftless:target', Value: 'acme/infra/vpc' }] }],
});

describe('CloudFormationTarget', () => {
  beforeEach(() => {
    cfn.reset();
    s3.reset();
    cfn.on(CreateChangeSetCommand).resolves({ Id: 'cs-1', StackId: 'stack-1' });
    cfn.on(DeleteChangeSetCommand).resolves({});
    cfn.on(DeleteStackCommand).resolves({});
    cfn.on(ExecuteChangeSetCommand).resolves({});
  });

  it('creates a new stack through a CREATE change set', async () => {
    cfn.on(DescribeStacksCommand).rejectsOnce(missing).resolvesOnce(stack('CREATE_IN_PROGRESS')).resolves(stack('CREATE_COMPLETE'));
    cfn
      .on(DescribeChangeSetCommand)
      .resolvesOnce({ Status: 'CREATE_PENDING' })
      .resolves({
        Status: 'CREATE_COMPLETE',
        Changes: [{ Type: 'Resource', ResourceChange: { Action: 'Add', LogicalResourceId: 'Vpc', ResourceType: 'AWS::EC2::VPC' } }],
      });
    const out = await target().apply(template, [{ ParameterKey: 'Cidr', ParameterValue: '10.0.0.0/16' }], { commit: 'abc' });
    expect(out.result).toBe('succeeded');
    expect(out.changeSet.entries).toEqual([{ ref: { group: 'cloudformation.aws', kind: 'AWS::EC2::VPC', namespace: 'acme-vpc', name: 'Vpc' }, action: 'created' }]);
    const create = cfn.commandCalls(CreateChangeSetCommand)[0]?.args[0].input;
    expect(create).toMatchObject({ StackName: 'acme-vpc', ChangeSetType: 'CREATE', Capabilities: ['CAPABILITY_NAMED_IAM'], TemplateBody: template.text });
    expect(create?.Tags).toContainEqual({ Key: 'driftless:target', Value: 'acme/infra/vpc' });
  });

  it('asks beforeWrite before executing, and executes nothing when it refuses (a lost lease)', async () => {
    cfn.on(DescribeStacksCommand).resolves(stack('UPDATE_COMPLETE'));
    cfn.on(DescribeChangeSetCommand).resolves({
      Status: 'CREATE_COMPLETE',
      Changes: [{ Type: 'Resource', ResourceChange: { Action: 'Modify', LogicalResourceId: 'Vpc', ResourceType: 'AWS::EC2::VPC' } }],
    });
    const stages: string[] = [];
    const refused = target().apply(template, [{ ParameterKey: 'Cidr', ParameterValue: '10.0.0.0/16' }], {
      beforeWrite: async (stage) => {
        stages.push(stage);
        throw new Error('lease lost before stack execute');
      },
    });
    await expect(refused).rejects.toThrow('lease lost before stack execute');
    expect(stages).toEqual(['execute']);
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
  });

  it('maps a change set with no changes to unchanged, and deletes the change set', async () => {
    cfn.on(DescribeStacksCommand).resolves(stack('UPDATE_COMPLETE'));
    cfn
      .on(DescribeChangeSetCommand)
      .resolves({ Status: 'FAILED', StatusReason: "The submitted information didn't contain changes. Submit different information to create a change set." });
    const out = await target().apply(template, []);
    expect(out).toMatchObject({ result: 'unchanged' });
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
    expect(cfn.commandCalls(DeleteChangeSetCommand)).toHaveLength(1);
  });

  it('flags replacements in an update, reading every page of the change set', async () => {
    cfn.on(DescribeStacksCommand).resolvesOnce(stack('UPDATE_COMPLETE')).resolves(stack('UPDATE_COMPLETE'));
    cfn.on(DescribeChangeSetCommand).resolves({
      Status: 'CREATE_COMPLETE',
      NextToken: 'p2',
      Changes: [
        { ResourceChange: { Action: 'Modify', LogicalResourceId: 'Vpc', ResourceType: 'AWS::EC2::VPC', Replacement: 'True', Details: [{ Target: { Name: 'CidrBlock' } }] } },
      ],
    });
    cfn
      .on(DescribeChangeSetCommand, { NextToken: 'p2' })
      .resolves({ Status: 'CREATE_COMPLETE', Changes: [{ ResourceChange: { Action: 'Remove', LogicalResourceId: 'Old', ResourceType: 'AWS::S3::Bucket' } }] });
    const plan = await target().plan(template, []);
    expect(plan.entries.map((e) => [e.ref.name, e.action, e.detail])).toEqual([
      ['Vpc', 'configured', 'replacement; changes CidrBlock'],
      ['Old', 'deleted', undefined],
    ]);
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(0);
  });

  it('reports the first failed stack event of a failed update that rolled back', async () => {
    cfn.on(DescribeStacksCommand).resolvesOnce(stack('UPDATE_COMPLETE')).resolvesOnce(stack('UPDATE_ROLLBACK_IN_PROGRESS')).resolves(stack('UPDATE_ROLLBACK_COMPLETE'));
    cfn
      .on(DescribeChangeSetCommand)
      .resolves({ Status: 'CREATE_COMPLETE', Changes: [{ ResourceChange: { Action: 'Modify', LogicalResourceId: 'Vpc', ResourceType: 'AWS::EC2::VPC', Replacement: 'False' } }] });
    // Events are stamped after the execution started (from the events call), however slow the machine is.
    cfn.on(DescribeStackEventsCommand).callsFake(async () => {
      const start = new Date();
      return {
        StackEvents: [
          {
            StackId: 's',
            EventId: 'e2',
            StackName: 'acme-vpc',
            LogicalResourceId: 'acme-vpc',
            ResourceType: 'AWS::CloudFormation::Stack',
            ResourceStatus: 'UPDATE_ROLLBACK_IN_PROGRESS',
            Timestamp: new Date(start.getTime() + 3000),
            ResourceStatusReason: 'The following resource(s) failed to update: [Vpc]',
          },
          {
            StackId: 's',
            EventId: 'e1',
            StackName: 'acme-vpc',
            LogicalResourceId: 'Vpc',
            ResourceType: 'AWS::EC2::VPC',
            ResourceStatus: 'UPDATE_FAILED',
            Timestamp: new Date(start.getTime() + 2000),
            ResourceStatusReason: 'The CIDR 10.0.0.0/33 is invalid',
          },
        ],
      };
    });
    const out = await target().apply(template, []);
    expect(out.result).toBe('failed');
    expect(out.result === 'failed' && out.error).toBe('stack acme-vpc ended UPDATE_ROLLBACK_COMPLETE: Vpc (AWS::EC2::VPC): The CIDR 10.0.0.0/33 is invalid');
  });

  it('records an execution that outlives the invocation as in-progress; the next invocation finishes it', async () => {
    cfn.on(DescribeStacksCommand).resolvesOnce(stack('UPDATE_COMPLETE')).resolves(stack('UPDATE_IN_PROGRESS'));
    cfn
      .on(DescribeChangeSetCommand)
      .resolves({ Status: 'CREATE_COMPLETE', Changes: [{ ResourceChange: { Action: 'Modify', LogicalResourceId: 'Vpc', ResourceType: 'AWS::EC2::VPC' } }] });
    const started = new Date();
    const first = await target().apply(template, [], { deadline: Date.now() + 20 });
    expect(first).toMatchObject({ result: 'in-progress', status: 'UPDATE_IN_PROGRESS' });
    cfn.on(DescribeStacksCommand).resolves(stack('UPDATE_COMPLETE'));
    const next = await target().finish(first.changeSet, started, { deadline: Date.now() + 1000 });
    expect(next.result).toBe('succeeded');
  });

  it('never races a stack that is already updating', async () => {
    cfn.on(DescribeStacksCommand).resolves(stack('UPDATE_IN_PROGRESS'));
    const out = await target().apply(template, []);
    expect(out.result).toBe('in-progress');
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
  });

  it('replaces a stack left ROLLBACK_COMPLETE by a failed create, and reports UPDATE_ROLLBACK_FAILED without action', async () => {
    cfn.on(DescribeStacksCommand).resolvesOnce(stack('ROLLBACK_COMPLETE')).rejectsOnce(missing).resolves(stack('CREATE_COMPLETE'));
    cfn
      .on(DescribeChangeSetCommand)
      .resolves({ Status: 'CREATE_COMPLETE', Changes: [{ ResourceChange: { Action: 'Add', LogicalResourceId: 'Vpc', ResourceType: 'AWS::EC2::VPC' } }] });
    expect((await target().apply(template, [])).result).toBe('succeeded');
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(1);
    expect(cfn.commandCalls(CreateChangeSetCommand)[0]?.args[0].input.ChangeSetType).toBe('CREATE');

    cfn.reset();
    cfn.on(DescribeStacksCommand).resolves(stack('UPDATE_ROLLBACK_FAILED'));
    const stuck = await target().apply(template, []);
    expect(stuck.result === 'failed' && stuck.error).toContain('UPDATE_ROLLBACK_FAILED');
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
  });

  describe('ownership', () => {
    const foreign = (StackStatus: StackStatus, Tags: { Key: string; Value: string }[]) => ({ Stacks: [{ StackName: 'acme-vpc', StackStatus, CreationTime: new Date(), Tags }] });
    const writes = () => [CreateChangeSetCommand, ExecuteChangeSetCommand, DeleteChangeSetCommand, DeleteStackCommand].flatMap((c) => cfn.commandCalls(c as never));

    it('refuses to plan, update or delete a stack without its ownership tag, calling nothing but DescribeStacks', async () => {
      cfn.on(DescribeStacksCommand).resolves(foreign('UPDATE_COMPLETE', [{ Key: 'team', Value: 'net' }]));
      const message = 'stack acme-vpc exists and is not managed by acme/infra/vpc (no driftless:target tag; tags: team=net)';
      await expect(target().plan(template, [])).rejects.toThrow(message);
      await expect(target().apply(template, [])).rejects.toThrow(message);
      await expect(target().delete()).rejects.toThrow(message);
      expect(writes()).toHaveLength(0);
      expect(cfn.commandCalls(DescribeStacksCommand)).toHaveLength(3);
    });

    it('never deletes a ROLLBACK_COMPLETE stack of another target, even with adopt', async () => {
      cfn.on(DescribeStacksCommand).resolves(foreign('ROLLBACK_COMPLETE', [{ Key: 'driftless:target', Value: 'acme/other/vpc' }]));
      await expect(target({ adopt: true }).apply(template, [])).rejects.toThrow(
        'stack acme-vpc is managed by acme/other/vpc, not acme/infra/vpc: two targets never share a stack (tags: driftless:target=acme/other/vpc)',
      );
      expect(writes()).toHaveLength(0);
    });

    it('adopts an untagged stack when allowed: the update sets the tag and the change set says adopted', async () => {
      cfn.on(DescribeStacksCommand).resolvesOnce(foreign('UPDATE_COMPLETE', [])).resolves(stack('UPDATE_COMPLETE'));
      cfn
        .on(DescribeChangeSetCommand)
        .resolves({ Status: 'CREATE_COMPLETE', Changes: [{ ResourceChange: { Action: 'Modify', LogicalResourceId: 'Vpc', ResourceType: 'AWS::EC2::VPC' } }] });
      const out = await target({ adopt: true }).apply(template, []);
      expect(out.result).toBe('succeeded');
      expect(out.changeSet.entries[0]).toMatchObject({
        ref: { kind: 'AWS::CloudFormation::Stack', name: 'acme-vpc' },
        action: 'configured',
        detail: expect.stringContaining('adopted'),
      });
      const input = cfn.commandCalls(CreateChangeSetCommand)[0]?.args[0].input;
      expect(input?.ChangeSetType).toBe('UPDATE');
      expect(input?.Tags).toContainEqual({ Key: 'driftless:target', Value: 'acme/infra/vpc' });
    });

    it('keeps the ownership tag when the repository sets a tag of the same key', async () => {
      cfn.on(DescribeStacksCommand).rejectsOnce(missing).resolves(stack('CREATE_COMPLETE'));
      cfn
        .on(DescribeChangeSetCommand)
        .resolves({ Status: 'CREATE_COMPLETE', Changes: [{ ResourceChange: { Action: 'Add', LogicalResourceId: 'Vpc', ResourceType: 'AWS::EC2::VPC' } }] });
      await target({ tags: { 'driftless:target': 'acme/other/vpc' } }).apply(template, []);
      expect(cfn.commandCalls(CreateChangeSetCommand)[0]?.args[0].input.Tags).toEqual([{ Key: 'driftless:target', Value: 'acme/infra/vpc' }]);
    });

    it('deletes its own stack, and reports a stack already gone as absent', async () => {
      cfn.on(DescribeStacksCommand).resolvesOnce(stack('UPDATE_COMPLETE')).rejects(missing);
      expect(await target().delete()).toBe('deleted');
      expect(await target().delete()).toBe('absent');
      expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(1);
    });
  });

  it('deletes the REVIEW_IN_PROGRESS stack a plan of a new stack created', async () => {
    cfn.on(DescribeStacksCommand).rejects(missing);
    cfn
      .on(DescribeChangeSetCommand)
      .resolves({ Status: 'CREATE_COMPLETE', Changes: [{ ResourceChange: { Action: 'Add', LogicalResourceId: 'Vpc', ResourceType: 'AWS::EC2::VPC' } }] });
    const plan = await target().plan(template, []);
    expect(plan.entries.map((e) => e.action)).toEqual(['created']);
    expect(cfn.commandCalls(DeleteChangeSetCommand)).toHaveLength(1);
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(1);
  });

  it('reports drift from DetectStackDrift: modified properties and deleted resources', async () => {
    cfn.on(DetectStackDriftCommand).resolves({ StackDriftDetectionId: 'd-1' });
    cfn
      .on(DescribeStackDriftDetectionStatusCommand)
      .resolvesOnce({ DetectionStatus: 'DETECTION_IN_PROGRESS', StackDriftDetectionId: 'd-1', StackId: 's', Timestamp: new Date() })
      .resolves({ DetectionStatus: 'DETECTION_COMPLETE', StackDriftDetectionId: 'd-1', StackId: 's', Timestamp: new Date(), StackDriftStatus: 'DRIFTED' });
    cfn.on(DescribeStackResourceDriftsCommand).resolves({
      StackResourceDrifts: [
        {
          LogicalResourceId: 'Vpc',
          ResourceType: 'AWS::EC2::VPC',
          StackId: 's',
          StackResourceDriftStatus: 'MODIFIED',
          Timestamp: new Date(),
          PropertyDifferences: [{ PropertyPath: '/EnableDnsSupport', ExpectedValue: 'true', ActualValue: 'false', DifferenceType: 'NOT_EQUAL' }],
        },
        { LogicalResourceId: 'Bucket', ResourceType: 'AWS::S3::Bucket', StackId: 's', StackResourceDriftStatus: 'DELETED', Timestamp: new Date() },
      ],
    });
    const drift = await target().detectDrift();
    expect(drift).toEqual([
      {
        ref: { group: 'cloudformation.aws', kind: 'AWS::EC2::VPC', namespace: 'acme-vpc', name: 'Vpc' },
        state: 'modified',
        fields: [{ path: '/EnableDnsSupport', desired: 'true', live: 'false' }],
      },
      { ref: { group: 'cloudformation.aws', kind: 'AWS::S3::Bucket', namespace: 'acme-vpc', name: 'Bucket' }, state: 'missing' },
    ]);
    expect(cfn.commandCalls(DescribeStackResourceDriftsCommand)[0]?.args[0].input.StackResourceDriftStatusFilters).toEqual(['MODIFIED', 'DELETED']);
  });

  it('sends templates over 51,200 bytes through the artifact bucket, and refuses them without one', async () => {
    const big = parseTemplate(`Resources:\n  Vpc:\n    Type: AWS::EC2::VPC\n    Metadata:\n      Pad: "${'x'.repeat(52_000)}"\n`, 'big.yaml');
    cfn.on(DescribeStacksCommand).resolves(stack('UPDATE_COMPLETE'));
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'FAILED', StatusReason: 'No updates are to be performed.' });
    await expect(target().apply(big, [])).rejects.toThrow("over CloudFormation's 51200; configure the artifact bucket");
    s3.on(PutObjectCommand).resolves({});
    await target({ artifactBucket: 'artifacts' }).apply(big, []);
    expect(s3.commandCalls(PutObjectCommand)[0]?.args[0].input).toMatchObject({ Bucket: 'artifacts' });
    expect(cfn.commandCalls(CreateChangeSetCommand).at(-1)?.args[0].input.TemplateURL).toMatch(/^https:\/\/artifacts\.s3\.amazonaws\.com\/templates\/acme-vpc\//);
  });
});
