import {
  CloudFormationClient,
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  type StackStatus,
} from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushPayload, REPO, startPipeline } from '../support/pipeline.js';
import type { Pipeline } from '../support/manifests.js';

const cfn = mockClient(CloudFormationClient);
const missing = Object.assign(new Error('Stack with id acme-vpc does not exist'), { name: 'ValidationError' });
// Every stack here was created by this target: it carries the ownership tag.
const stack = (StackStatus: StackStatus) => ({
  Stacks: [{ StackName: 'acme-vpc', StackStatus, CreationTime: new Date(), Tags: [{ Key: 'driftless:target', Value: `${REPO}/vpc` }] }],
});
const CONFIG = `version: 1
targets:
  - name: vpc
    type: cloudformation
    path: infra/vpc.yaml
    stack: acme-vpc
    region: eu-west-1
    parameters: infra/prod.json
    cloudformation: { capabilities: [CAPABILITY_NAMED_IAM], deleteOnRemove: true }
`;
const TEMPLATE = 'Resources:\n  Vpc:\n    Type: AWS::EC2::VPC\n    Properties:\n      CidrBlock: !Ref Cidr\n';

describe('a CloudFormation target through the pipeline', () => {
  let p: Pipeline;
  let head: string;
  beforeAll(async () => {
    p = await startPipeline();
    p.access.cloudformation = () => ({
      cfn: new CloudFormationClient({ region: 'eu-west-1' }),
      roleArn: 'arn:aws:iam::123456789012:role/driftless-cfn',
    });
  }, 120_000);
  afterAll(() => p?.stop());

  it('creates the stack from a push: change set with the template and parameters, ledger record, commit status', async () => {
    cfn.reset();
    cfn.on(DescribeStacksCommand).rejectsOnce(missing).resolves(stack('CREATE_COMPLETE'));
    cfn.on(CreateChangeSetCommand).resolves({ Id: 'cs' });
    cfn
      .on(DescribeChangeSetCommand)
      .resolves({ Status: 'CREATE_COMPLETE', Changes: [{ ResourceChange: { Action: 'Add', LogicalResourceId: 'Vpc', ResourceType: 'AWS::EC2::VPC' } }] });
    cfn.on(ExecuteChangeSetCommand).resolves({});
    head = p.commit({ 'driftless.yaml': CONFIG, 'infra/vpc.yaml': TEMPLATE, 'infra/prod.json': '[{"ParameterKey": "Cidr", "ParameterValue": "10.0.0.0/16"}]' });
    expect((await p.deliver('push', pushPayload('0'.repeat(40), head))).status).toBe(202);
    const input = cfn.commandCalls(CreateChangeSetCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      StackName: 'acme-vpc',
      ChangeSetType: 'CREATE',
      TemplateBody: TEMPLATE,
      Parameters: [{ ParameterKey: 'Cidr', ParameterValue: '10.0.0.0/16' }],
      Capabilities: ['CAPABILITY_NAMED_IAM'],
      RoleARN: 'arn:aws:iam::123456789012:role/driftless-cfn',
    });
    const [record] = (await p.ledger.history({ targetId: `${REPO}/vpc` })).items;
    expect(record).toMatchObject({ result: 'succeeded', commit: head, counts: { created: 1 } });
    expect((await p.ledger.getState(`${REPO}/vpc`))?.dependencies).toEqual(['driftless.yaml', 'infra/prod.json', 'infra/vpc.yaml']);
    expect(p.github.statuses.filter((s) => s.context === 'driftless/vpc').map((s) => s.state)).toEqual(['pending', 'success']);
  });

  it('records a failed update with the first failed event, and a failure status', async () => {
    cfn.reset();
    // The failed event happens after the execution starts, as in CloudFormation: stamped from the execute call
    // itself, never from the test's start (a loaded machine can take seconds between the two).
    let executedAt: number | undefined;
    cfn.on(DescribeStacksCommand).resolvesOnce(stack('UPDATE_COMPLETE')).resolves(stack('UPDATE_ROLLBACK_COMPLETE'));
    cfn.on(CreateChangeSetCommand).resolves({ Id: 'cs' });
    cfn
      .on(DescribeChangeSetCommand)
      .resolves({ Status: 'CREATE_COMPLETE', Changes: [{ ResourceChange: { Action: 'Modify', LogicalResourceId: 'Vpc', ResourceType: 'AWS::EC2::VPC', Replacement: 'True' } }] });
    cfn.on(ExecuteChangeSetCommand).callsFake(async () => {
      executedAt = Date.now();
      return {};
    });
    cfn.on(DescribeStackEventsCommand).callsFake(async () => ({
      StackEvents: [
        {
          StackId: 's',
          EventId: 'e',
          StackName: 'acme-vpc',
          LogicalResourceId: 'Vpc',
          ResourceType: 'AWS::EC2::VPC',
          ResourceStatus: 'UPDATE_FAILED',
          Timestamp: new Date((executedAt ?? Date.now()) + 50),
          ResourceStatusReason: 'CIDR conflicts',
        },
      ],
    }));
    const next = p.commit({ 'infra/vpc.yaml': `${TEMPLATE}      EnableDnsSupport: true\n` });
    await p.deliver('push', pushPayload(head, next));
    const [record] = (await p.ledger.history({ targetId: `${REPO}/vpc`, limit: 1 })).items;
    expect(record?.result).toBe('failed');
    expect(record?.error?.message).toBe('stack acme-vpc ended UPDATE_ROLLBACK_COMPLETE: Vpc (AWS::EC2::VPC): CIDR conflicts');
    expect(p.github.statuses.filter((s) => s.sha === next && s.context === 'driftless/vpc').pop()?.state).toBe('failure');
    head = next;
  });

  it('records an execution that outlives the invocation as in-progress, and closes that record when a later run finds it settled', async () => {
    const { reconcileTarget, deadlineSignal } = await import('../../lib/reconcile/reconcile-target.js');
    cfn.reset();
    cfn.on(DescribeStacksCommand).resolvesOnce(stack('UPDATE_COMPLETE')).resolves(stack('UPDATE_IN_PROGRESS'));
    cfn.on(CreateChangeSetCommand).resolves({ Id: 'cs' });
    cfn
      .on(DescribeChangeSetCommand)
      .resolves({ Status: 'CREATE_COMPLETE', Changes: [{ ResourceChange: { Action: 'Modify', LogicalResourceId: 'Vpc', ResourceType: 'AWS::EC2::VPC' } }] });
    cfn.on(ExecuteChangeSetCommand).resolves({});
    // An invocation with almost no time left.
    await reconcileTarget({ repository: REPO, target: 'vpc', branch: 'main', trigger: 'trigger', force: true }, { ...p.deps, holder: 'short' }, deadlineSignal(1000, 0));
    const [inProgress] = (await p.ledger.history({ targetId: `${REPO}/vpc`, limit: 1 })).items;
    expect(inProgress?.result).toBe('in-progress');
    expect((await p.ledger.getState(`${REPO}/vpc`))?.lastResult).toBe('in-progress');
    // The stack settles; the next run (the sweeper's) finds nothing left to change.
    cfn.reset();
    cfn.on(DescribeStacksCommand).resolves(stack('UPDATE_COMPLETE'));
    cfn.on(CreateChangeSetCommand).resolves({ Id: 'cs' });
    cfn.on(DeleteChangeSetCommand).resolves({});
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'FAILED', StatusReason: 'No updates are to be performed.' });
    await reconcileTarget({ repository: REPO, target: 'vpc', branch: 'main', trigger: 'sweeper' }, { ...p.deps, holder: 'later' });
    const [latest, earlier] = (await p.ledger.history({ targetId: `${REPO}/vpc`, limit: 2 })).items;
    expect(latest?.result).toBe('succeeded');
    expect(earlier).toMatchObject({ syncId: inProgress?.syncId, result: 'succeeded' });
    expect(earlier?.error?.message).toContain('the stack settled; finished by sync');
  });

  it('deletes the stack when the target leaves driftless.yaml with deleteOnRemove', async () => {
    cfn.reset();
    cfn.on(DescribeStacksCommand).resolves(stack('UPDATE_COMPLETE'));
    cfn.on(DeleteStackCommand).resolves({});
    cfn.on(DeleteChangeSetCommand).resolves({});
    const next = p.commit({
      'driftless.yaml': 'version: 1\ntargets:\n  - name: web\n    path: deploy\n    cluster: dev\n    namespace: shop-web\n',
      'deploy/ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop-web\n',
    });
    await p.deliver('push', pushPayload(head, next));
    expect(cfn.commandCalls(DeleteStackCommand).map((c) => c.args[0].input.StackName)).toEqual(['acme-vpc']);
    const [record] = (await p.ledger.history({ targetId: `${REPO}/vpc`, limit: 1 })).items;
    expect(record?.error?.message).toContain('stack acme-vpc deleted (deleteOnRemove)');
  });
});
